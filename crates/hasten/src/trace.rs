//! The spans of a traced request ([`App::tracing`](crate::App::tracing)).
//!
//! A traced request gets a `request` span (method, route template, status, request ID
//! when [`App::request_ids`](crate::App::request_ids) is on) whose children are:
//!
//! - `validation`: reading and validating the request's input, dependencies included;
//! - `dependency` (field `name`): making one request-scoped dependency;
//! - `handler` (field `name`, the function's): the path operation itself;
//! - `background` (field `outcome`): one background task, after the response;
//! - `websocket`: a WebSocket operation's whole life, after the handshake's 101.
//!
//! The spans are made only for a traced request: an untraced one makes none, and its
//! code only asks whether its request carries a span. With the `otel` feature the
//! spans go to OpenTelemetry (`hasten::otel`), and an incoming `traceparent` makes the
//! request span a child of the caller's.

use tracing::Span;

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
