//! Reading a request body within the app's size limit.

use bytes::{Bytes, BytesMut};
use http::HeaderMap;
use http_body_util::BodyExt;

use crate::body::RequestBody;
use crate::HttpError;

/// Why a body could not be read.
#[derive(Debug)]
#[non_exhaustive]
pub enum BodyError {
    /// The body is larger than the limit (413). Nothing past the limit was read.
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The connection failed while reading (client gone, malformed chunking).
    Read(crate::body::BoxError),
}

impl BodyError {
    /// The response for this error: 413 "Content Too Large" (and the connection is
    /// closed, so the rest of the body is never read) or 400.
    pub fn into_http_error(self) -> HttpError {
        match self {
            BodyError::TooLarge { .. } => body_limit_response(),
            BodyError::Read(e) => {
                tracing::debug!(error = %e, "failed to read request body");
                HttpError::new(
                    http::StatusCode::BAD_REQUEST,
                    "There was an error parsing the body",
                )
            }
        }
    }
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodyError::TooLarge { limit } => write!(f, "request body over the {limit}-byte limit"),
            BodyError::Read(e) => write!(f, "failed to read request body: {e}"),
        }
    }
}

impl std::error::Error for BodyError {}

/// The 413 response: `text/plain` "Content Too Large", like FastAPI, with
/// `Connection: close`.
pub(crate) fn body_limit_response() -> HttpError {
    HttpError::plain(http::StatusCode::PAYLOAD_TOO_LARGE, "Content Too Large").with_header(
        http::header::CONNECTION,
        http::HeaderValue::from_static("close"),
    )
}

/// Read a whole body, refusing (without reading further) once it passes `limit`.
/// A `Content-Length` over the limit is refused before reading anything.
pub(crate) async fn read_body(
    mut body: RequestBody,
    headers: &HeaderMap,
    limit: usize,
) -> Result<Bytes, BodyError> {
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(n) = declared {
        if n > limit as u64 {
            return Err(BodyError::TooLarge { limit });
        }
    }
    let mut first: Option<Bytes> = None;
    let mut buf: Option<BytesMut> = None;
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(BodyError::Read)?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        total += data.len();
        if total > limit {
            return Err(BodyError::TooLarge { limit });
        }
        match (&mut first, &mut buf) {
            (None, None) => first = Some(data),
            (Some(f), None) => {
                let mut b =
                    BytesMut::with_capacity(declared.map_or(f.len() + data.len(), |n| n as usize));
                b.extend_from_slice(f);
                b.extend_from_slice(&data);
                first = None;
                buf = Some(b);
            }
            (_, Some(b)) => b.extend_from_slice(&data),
        }
    }
    Ok(match (first, buf) {
        (_, Some(b)) => b.freeze(),
        (Some(f), None) => f,
        (None, None) => Bytes::new(),
    })
}
