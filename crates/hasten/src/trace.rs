//! The spans of a traced request ([`App::tracing`](crate::App::tracing)).
//!
//! A traced request gets a `request` span (method, route template, status, request ID
//! when [`App::request_ids`](crate::App::request_ids) is on) whose children are:
//!
//! - `validation`: reading and validating the request's input, dependencies included;
//! - `dependency` (field `name`): making one request-scoped dependency;
//! - `handler` (field `name`, the function's): the path operation itself;
//! - `background` (field `outcome`: `ok`, `error`, `panic` or `cancelled`): one
//!   background task, after the response;
//! - `websocket`: a WebSocket operation's whole life, after the handshake's 101.
//!
//! The spans are made only for a traced request: an untraced one makes none, and its
//! code only asks whether its request carries a span. With
//! [`App::tracing_ratio`](crate::App::tracing_ratio) a share of the requests is traced
//! (one in ten for 0.1, counted); a request whose caller sends a `traceparent` is traced
//! when the caller's `sampled` flag says so, whatever the ratio. With the `otel` feature the
//! spans go to OpenTelemetry (`hasten::otel`), and an incoming `traceparent` makes the
//! request span a child of the caller's.

use std::sync::atomic::{AtomicU64, Ordering};

use tracing::Span;

/// Which requests are traced: a share of them, decided when each arrives.
pub(crate) struct Sampling {
    /// One request in this many is traced (1: all; `u64::MAX`: none but those the
    /// caller sampled).
    every: u64,
    seen: AtomicU64,
}

impl Sampling {
    /// Trace `ratio` of the requests (clamped to 0..=1; 0 traces only those whose
    /// caller sampled them).
    pub(crate) fn ratio(ratio: f64) -> Self {
        let every = if ratio >= 1.0 || ratio.is_nan() {
            1
        } else if ratio <= 0.0 {
            u64::MAX
        } else {
            (1.0 / ratio).round().max(1.0) as u64
        };
        Sampling {
            every,
            seen: AtomicU64::new(0),
        }
    }

    /// Whether the request with `headers` is traced: as its caller decided when it
    /// sends a W3C `traceparent` (the `sampled` flag), else one in `every`.
    pub(crate) fn decide(&self, headers: &http::HeaderMap) -> bool {
        if let Some(sampled) = headers.get("traceparent").and_then(caller_sampled) {
            return sampled;
        }
        match self.every {
            1 => true,
            u64::MAX => false,
            n => self.seen.fetch_add(1, Ordering::Relaxed).is_multiple_of(n),
        }
    }
}

/// The `sampled` flag of a valid version-00 `traceparent`
/// (`00-{32 hex trace id}-{16 hex parent id}-{2 hex flags}`).
fn caller_sampled(value: &http::HeaderValue) -> Option<bool> {
    let v = value.as_bytes();
    let hex = |s: &[u8]| {
        !s.is_empty()
            && s.iter()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
    };
    if v.len() != 55 || &v[..3] != b"00-" || v[35] != b'-' || v[52] != b'-' {
        return None;
    }
    let (trace, parent, flags) = (&v[3..35], &v[36..52], &v[53..55]);
    if !hex(trace) || !hex(parent) || !hex(flags) {
        return None;
    }
    if trace.iter().all(|&b| b == b'0') || parent.iter().all(|&b| b == b'0') {
        return None;
    }
    let flags = u8::from_str_radix(std::str::from_utf8(flags).ok()?, 16).ok()?;
    Some(flags & 1 == 1)
}

/// The span of a traced request, kept in its extensions.
#[derive(Clone)]
pub(crate) struct RequestSpan(pub(crate) Span);

/// The span of the traced request whose extensions are `ext`.
pub(crate) fn request_span(ext: &http::Extensions) -> Option<&Span> {
    ext.get::<RequestSpan>().map(|s| &s.0)
}

/// The `validation` span of the request, or a disabled span.
pub(crate) fn validation(ext: &http::Extensions) -> Span {
    match request_span(ext) {
        Some(parent) => tracing::info_span!(target: "hasten", parent: parent, "validation"),
        None => Span::none(),
    }
}

/// The `handler` span of the request, or a disabled span.
pub(crate) fn handler(ext: &http::Extensions, name: &'static str) -> Span {
    match request_span(ext) {
        Some(parent) => tracing::info_span!(target: "hasten", parent: parent, "handler", name),
        None => Span::none(),
    }
}

/// The `dependency` span of dependency `D`, or a disabled span.
pub(crate) fn dependency<D>(ext: &http::Extensions) -> Span {
    match request_span(ext) {
        Some(parent) => {
            let full = std::any::type_name::<D>();
            let name = full.rsplit("::").next().unwrap_or(full);
            tracing::info_span!(target: "hasten", parent: parent, "dependency", name)
        }
        None => Span::none(),
    }
}

/// A `background` span under `parent`, its outcome recorded later.
pub(crate) fn background(parent: &Span) -> Span {
    tracing::info_span!(
        target: "hasten",
        parent: parent,
        "background",
        outcome = tracing::field::Empty
    )
}

/// The `websocket` span of the request, or a disabled span.
pub(crate) fn websocket(ext: &http::Extensions) -> Span {
    match request_span(ext) {
        Some(parent) => tracing::info_span!(target: "hasten", parent: parent, "websocket"),
        None => Span::none(),
    }
}
