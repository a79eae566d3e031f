//! Gzip compression of responses, as Starlette's `GZipMiddleware` does it.

use std::io::Write;

use bytes::Bytes;
use flate2::write::GzEncoder;
use flate2::Compression;
use http::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, VARY};
use http::HeaderValue;
use http_body_util::BodyExt;

use super::Next;
use crate::body::{Body, BoxError};
use crate::response::Response;

/// Compress responses for clients that accept gzip (FastAPI's `GZipMiddleware`):
/// bodies of at least `minimum_size` bytes (500 by default) and streamed bodies, at
/// level 9; already-encoded responses and Server-Sent Events are left alone. Adds
/// `Content-Encoding: gzip` and `Vary: Accept-Encoding`.
///
/// ```
/// use hasten::prelude::*;
/// use hasten::middleware::GZip;
///
/// let app = App::new().layer(GZip::new().minimum_size(1000));
/// # let _ = app.build().unwrap();
/// ```
#[derive(Debug, Clone, Copy)]
pub struct GZip {
    minimum_size: u64,
    level: u32,
}

impl Default for GZip {
    fn default() -> Self {
        GZip::new()
    }
}

impl GZip {
    /// Starlette's defaults: 500 bytes, level 9.
    pub fn new() -> Self {
        GZip {
            minimum_size: 500,
            level: 9,
        }
    }

    /// Smaller bodies are sent as they are.
    pub fn minimum_size(mut self, bytes: u64) -> Self {
        self.minimum_size = bytes;
        self
    }

    /// Compression level, 0 (none) to 9 (best).
    pub fn level(mut self, level: u32) -> Self {
        self.level = level.min(9);
        self
    }
}

fn accepts_gzip(headers: &http::HeaderMap) -> bool {
    headers
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|e| {
            let mut parts = e.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q == 0.0))
            });
            name.eq_ignore_ascii_case("gzip") && !refused
        })
}

/// Compress chunks as they come, flushing after each so a stream stays a stream.
fn compress_stream(body: Body, level: Compression) -> Body {
    let state = Some((body, GzEncoder::new(Vec::new(), level)));
    let stream = futures_util::stream::unfold(state, |state| async move {
        let (mut body, mut gz) = state?;
        loop {
            match body.frame().await {
                Some(Ok(frame)) => {
                    let Ok(data) = frame.into_data() else {
                        continue;
                    };
                    if let Err(e) = gz.write_all(&data).and_then(|()| gz.flush()) {
                        return Some((Err(BoxError::from(e)), None));
                    }
                    let out = std::mem::take(gz.get_mut());
                    if !out.is_empty() {
                        return Some((Ok(Bytes::from(out)), Some((body, gz))));
                    }
                }
                Some(Err(e)) => return Some((Err(e), None)),
                None => {
                    return match gz.finish() {
                        Ok(rest) => Some((Ok(Bytes::from(rest)), None)),
                        Err(e) => Some((Err(BoxError::from(e)), None)),
                    };
                }
            }
        }
    });
    Body::from_stream(stream)
}

impl GZip {
    async fn apply(self, resp: Response) -> Response {
        let skip = resp.headers().contains_key(CONTENT_ENCODING)
            || resp
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|t| t.starts_with("text/event-stream"))
            || resp.status() == http::StatusCode::NO_CONTENT
            || resp.status() == http::StatusCode::NOT_MODIFIED;
        if skip {
            return resp;
        }
        let exact = http_body::Body::size_hint(resp.body()).exact();
        if exact.is_some_and(|n| n < self.minimum_size) {
            return resp;
        }
        let (mut parts, body) = resp.into_parts();
        let level = Compression::new(self.level);
        parts
            .headers
            .append(VARY, HeaderValue::from_static("Accept-Encoding"));
        parts
            .headers
            .insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        let body = if exact.is_some() {
            // A whole body: compress it at once and say how long it is.
            let bytes = match body.collect().await {
                Ok(b) => b.to_bytes(),
                Err(e) => {
                    tracing::error!(target: "hasten::middleware", error = %e, "cannot read a body to compress");
                    return crate::response::internal_error();
                }
            };
            let mut gz = GzEncoder::new(Vec::with_capacity(bytes.len() / 2), level);
            let compressed = match gz.write_all(&bytes).and_then(|()| gz.finish()) {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(target: "hasten::middleware", error = %e, "gzip failed");
                    return crate::response::internal_error();
                }
            };
            parts
                .headers
                .insert(CONTENT_LENGTH, HeaderValue::from(compressed.len()));
            Body::from(compressed)
        } else {
            parts.headers.remove(CONTENT_LENGTH);
            compress_stream(body, level)
        };
        Response::from_parts(parts, body)
    }
}

impl tower_layer::Layer<Next> for GZip {
    type Service = Next;

    fn layer(&self, next: Next) -> Next {
        let cfg = *self;
        Next::new(move |req| {
            let next = next.clone();
            Box::pin(async move {
                if !accepts_gzip(req.headers()) {
                    return next.run(req).await;
                }
                let resp = next.run(req).await;
                cfg.apply(resp).await
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_encoding() {
        let mut h = http::HeaderMap::new();
        h.insert(ACCEPT_ENCODING, HeaderValue::from_static("br, gzip;q=0.8"));
        assert!(accepts_gzip(&h));
        h.insert(ACCEPT_ENCODING, HeaderValue::from_static("gzip;q=0, br"));
        assert!(!accepts_gzip(&h));
        h.insert(ACCEPT_ENCODING, HeaderValue::from_static("identity"));
        assert!(!accepts_gzip(&h));
    }
}
