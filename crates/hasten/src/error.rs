//! [`HttpError`]: an error response with FastAPI's `{"detail": …}` body.

use std::borrow::Cow;
use std::fmt;

use http::header::{HeaderName, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, StatusCode};
use serde::Serialize;
use serde_json::Value;

use crate::body::Body;
use crate::response::{content_type, IntoResponse, Response};

/// An HTTP error: a status, a JSON `detail` of any shape, optional headers — FastAPI's
/// `HTTPException`. Renders as `{"detail": …}`.
///
/// ```
/// use hasten::{HttpError, StatusCode};
/// let err = HttpError::new(StatusCode::NOT_FOUND, "Item not found")
///     .with_header("x-error", "missing");
/// assert_eq!(err.status(), StatusCode::NOT_FOUND);
/// assert_eq!(err.detail(), &serde_json::json!("Item not found"));
/// ```
///
/// Return it from a handler as the `Err` of a `Result`; replace how every `HttpError` is
/// rendered with [`App::on_http_error`](crate::App::on_http_error).
#[derive(Clone)]
pub struct HttpError {
    inner: Box<Inner>,
}

#[derive(Clone)]
struct Inner {
    status: StatusCode,
    detail: Value,
    headers: HeaderMap,
    /// Framework errors FastAPI sends as plain text (413, 500).
    plain: Option<Cow<'static, str>>,
}

impl HttpError {
    /// An error with a status and a detail (any serialisable value).
    pub fn new(status: StatusCode, detail: impl Serialize) -> Self {
        let detail = serde_json::to_value(detail)
            .unwrap_or_else(|e| Value::String(format!("unserialisable detail: {e}")));
        HttpError {
            inner: Box::new(Inner {
                status,
                detail,
                headers: HeaderMap::new(),
                plain: None,
            }),
        }
    }

    /// An error rendered as `text/plain` (used for 413 "Content Too Large" and
    /// 500 "Internal Server Error", which FastAPI sends as text).
    pub fn plain(status: StatusCode, text: impl Into<Cow<'static, str>>) -> Self {
        let text = text.into();
        let mut e = HttpError::new(status, &*text);
        e.inner.plain = Some(text);
        e
    }

    /// The status's reason phrase as detail: `HttpError::status(404)` → "Not Found".
    pub fn from_status(status: StatusCode) -> Self {
        HttpError::new(status, reason_phrase(status).unwrap_or("Error"))
    }

    /// Add a response header. An invalid name or value is logged and skipped.
    pub fn with_header<K, V>(mut self, name: K, value: V) -> Self
    where
        K: TryInto<HeaderName>,
        K::Error: fmt::Display,
        V: TryInto<HeaderValue>,
        V::Error: fmt::Display,
    {
        match (name.try_into(), value.try_into()) {
            (Ok(k), Ok(v)) => {
                self.inner.headers.append(k, v);
            }
            (Err(e), _) => tracing::error!(error = %e, "HttpError: invalid header name"),
            (_, Err(e)) => tracing::error!(error = %e, "HttpError: invalid header value"),
        }
        self
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.inner.status
    }

    /// The detail.
    pub fn detail(&self) -> &Value {
        &self.inner.detail
    }

    /// The extra headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.inner.headers
    }

    /// The reason of a WebSocket close for this error: the detail, as text when it is a
    /// string, else as JSON.
    pub(crate) fn close_reason(&self) -> String {
        match &self.inner.detail {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }

    /// The response hasten sends for this error when no handler replaces it: for an
    /// error handler that falls back on the default (FastAPI's
    /// `http_exception_handler`).
    pub fn default_response(&self) -> Response {
        self.render()
    }

    /// The default rendering, without marking the response for error handlers.
    pub(crate) fn render(&self) -> Response {
        let (content_type, bytes) = match &self.inner.plain {
            Some(text) => (content_type::TEXT, text.as_bytes().to_vec()),
            None => {
                #[derive(Serialize)]
                struct Detail<'a> {
                    detail: &'a Value,
                }
                let bytes = serde_json::to_vec(&Detail {
                    detail: &self.inner.detail,
                })
                .unwrap_or_else(|_| b"{\"detail\":null}".to_vec());
                (content_type::JSON, bytes)
            }
        };
        let mut resp = Response::new(Body::full(bytes));
        *resp.status_mut() = self.inner.status;
        let headers = resp.headers_mut();
        headers.insert(CONTENT_TYPE, content_type);
        for (k, v) in &self.inner.headers {
            headers.append(k, v.clone());
        }
        resp
    }
}

impl fmt::Debug for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpError")
            .field("status", &self.inner.status)
            .field("detail", &self.inner.detail)
            .field("headers", &self.inner.headers)
            .finish()
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.inner.status, self.inner.detail)
    }
}

impl std::error::Error for HttpError {}

/// A status's reason phrase as FastAPI gives it (Python's `http.HTTPStatus`), where it
/// differs from the `http` crate's newer wording.
pub(crate) fn reason_phrase(status: StatusCode) -> Option<&'static str> {
    Some(match status.as_u16() {
        203 => "Non-Authoritative Information",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Long",
        416 => "Requested Range Not Satisfiable",
        418 => "I'm a Teapot",
        _ => return status.canonical_reason(),
    })
}

/// Marks a response rendered from an [`HttpError`], so an app-level error handler can
/// replace it.
#[derive(Clone)]
pub(crate) struct ErrorMarker(pub(crate) HttpError);

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let mut resp = self.render();
        resp.extensions_mut().insert(ErrorMarker(self));
        resp
    }
}

impl From<crate::validation::RequestValidationError> for HttpError {
    fn from(e: crate::validation::RequestValidationError) -> Self {
        let mut body = e.to_json();
        HttpError::new(StatusCode::UNPROCESSABLE_ENTITY, body["detail"].take())
    }
}
