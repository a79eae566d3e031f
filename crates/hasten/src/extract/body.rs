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
    /// The client stopped sending the body, or sent it too slowly (408). See
    /// [`Server::body_timeout`](crate::Server::body_timeout).
    TimedOut,
    /// The connection failed while reading (client gone, malformed chunking).
    Read(crate::body::BoxError),
}

impl BodyError {
    /// The response for this error: 413 "Content Too Large" or 408 "Request Timeout"
    /// (both close the connection), or 400.
    pub fn into_http_error(self) -> HttpError {
        match self {
            BodyError::TooLarge { .. } => body_limit_response(),
            BodyError::TimedOut => body_timeout_response(),
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
            BodyError::TimedOut => f.write_str("the client stopped sending the request body"),
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

/// The 408 response: `text/plain` "Request Timeout", with `Connection: close`.
pub(crate) fn body_timeout_response() -> HttpError {
    HttpError::plain(http::StatusCode::REQUEST_TIMEOUT, "Request Timeout").with_header(
        http::header::CONNECTION,
        http::HeaderValue::from_static("close"),
    )
}

/// The error of a failed body read: a timeout, or anything else.
pub(crate) fn read_error(e: crate::body::BoxError) -> BodyError {
    if crate::body::caused_by::<crate::body::BodyTimedOut>(&*e) {
        BodyError::TimedOut
    } else {
        BodyError::Read(e)
    }
}

/// Read a whole body, refusing once it passes `limit`. A `Content-Length` over the
/// limit is refused before reading anything. (The connection reads and drops the rest
/// after the 413 is sent; see `connection.rs`.)
///
/// The body is borrowed, not moved in: an `async fn` keeps a moved-in argument twice
/// in its future, and this future sits inside every handler's that reads a body.
pub(crate) async fn read_body(
    body: &mut RequestBody,
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
        let frame = frame.map_err(read_error)?;
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
