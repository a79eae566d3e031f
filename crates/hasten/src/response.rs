//! Responses: [`IntoResponse`] and the plain response types.
//!
//! A handler returns anything that implements [`IntoResponse`]:
//!
//! | return type | response |
//! |---|---|
//! | [`Json<T>`](crate::Json), `serde_json::Value` | `application/json` |
//! | `String`, `&'static str` | `text/plain; charset=utf-8` |
//! | [`Html<T>`] | `text/html; charset=utf-8` |
//! | [`Bytes`], `Vec<u8>` | `application/octet-stream` |
//! | `()` | `null` as JSON, like a FastAPI handler returning `None` |
//! | [`StatusCode`] | that status, empty body |
//! | `(StatusCode, T)` | `T` with that status |
//! | `([(name, value); N], T)`, `(StatusCode, [(name, value); N], T)` | `T` with extra headers |
//! | [`Redirect`] | 307 (by default) with `Location` |
//! | `Result<T, E>` | either side |
//! | [`HttpError`](crate::HttpError) | `{"detail": …}` with its status |

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;
use http::header::{HeaderName, CONTENT_TYPE, LOCATION};
use http::{HeaderMap, HeaderValue, StatusCode};

use crate::body::Body;

/// An HTTP response with a hasten [`Body`].
pub type Response = http::Response<Body>;

pub(crate) const APPLICATION_JSON: &str = "application/json";
/// The media type of an urlencoded form.
pub(crate) const FORM_URLENCODED: &str = "application/x-www-form-urlencoded";
pub(crate) const TEXT_PLAIN: &str = "text/plain; charset=utf-8";
const TEXT_HTML: &str = "text/html; charset=utf-8";
const OCTET_STREAM: &str = "application/octet-stream";

/// The `Content-Type` values of the responses hasten builds, checked once at compile
/// time (`HeaderValue::from_static` checks every byte when called at run time).
pub(crate) mod content_type {
    use http::HeaderValue;

    /// `application/json`.
    pub(crate) const JSON: HeaderValue = HeaderValue::from_static(super::APPLICATION_JSON);
    /// `text/plain; charset=utf-8`.
    pub(crate) const TEXT: HeaderValue = HeaderValue::from_static(super::TEXT_PLAIN);
    /// `text/html; charset=utf-8`.
    pub(crate) const HTML: HeaderValue = HeaderValue::from_static(super::TEXT_HTML);
    /// `application/octet-stream`.
    pub(crate) const OCTET_STREAM: HeaderValue = HeaderValue::from_static(super::OCTET_STREAM);
}

/// A value a handler can return.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from a path operation",
    note = "return `Json<T>`, `String`, `Html<T>`, `Bytes`, `StatusCode`, `(StatusCode, T)`, \
            `Redirect`, `Result<T, E>` or another type implementing `IntoResponse`"
)]
pub trait IntoResponse {
    /// Turn the value into a response.
    fn into_response(self) -> Response;
}

pub(crate) fn with_type(body: Body, content_type: HeaderValue) -> Response {
    let mut resp = Response::new(body);
    resp.headers_mut().insert(CONTENT_TYPE, content_type);
    resp
}

/// A HEAD answered by a GET operation: keep the headers (and the length), drop the body.
pub(crate) fn strip_body(resp: &mut Response) {
    use http_body::Body as _;
    if !resp.headers().contains_key(http::header::CONTENT_LENGTH) {
        if let Some(n) = resp.body().size_hint().exact() {
            resp.headers_mut()
                .insert(http::header::CONTENT_LENGTH, HeaderValue::from(n));
        }
    }
    *resp.body_mut() = Body::empty();
}

/// A 500 for a failure that is the server's fault; the cause is logged, not sent.
pub(crate) fn internal_error() -> Response {
    let mut resp = with_type(Body::from("Internal Server Error"), content_type::TEXT);
    *resp.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    resp
}

impl IntoResponse for Response {
    fn into_response(self) -> Response {
        self
    }
}

impl IntoResponse for Body {
    fn into_response(self) -> Response {
        Response::new(self)
    }
}

impl IntoResponse for () {
    fn into_response(self) -> Response {
        with_type(Body::from("null"), content_type::JSON)
    }
}

impl IntoResponse for std::convert::Infallible {
    fn into_response(self) -> Response {
        match self {}
    }
}

impl IntoResponse for &'static str {
    fn into_response(self) -> Response {
        with_type(Body::from(self), content_type::TEXT)
    }
}

impl IntoResponse for String {
    fn into_response(self) -> Response {
        with_type(Body::from(self), content_type::TEXT)
    }
}

impl IntoResponse for Cow<'static, str> {
    fn into_response(self) -> Response {
        match self {
            Cow::Borrowed(s) => s.into_response(),
            Cow::Owned(s) => s.into_response(),
        }
    }
}

impl IntoResponse for Bytes {
    fn into_response(self) -> Response {
        with_type(Body::from(self), content_type::OCTET_STREAM)
    }
}

impl IntoResponse for Vec<u8> {
    fn into_response(self) -> Response {
        with_type(Body::from(self), content_type::OCTET_STREAM)
    }
}

impl IntoResponse for serde_json::Value {
    fn into_response(self) -> Response {
        crate::Json(self).into_response()
    }
}

impl IntoResponse for StatusCode {
    fn into_response(self) -> Response {
        let mut resp = Response::new(Body::empty());
        *resp.status_mut() = self;
        resp
    }
}

impl<T: IntoResponse, E: IntoResponse> IntoResponse for Result<T, E> {
    fn into_response(self) -> Response {
        match self {
            Ok(v) => v.into_response(),
            Err(e) => e.into_response(),
        }
    }
}

impl<T: IntoResponse> IntoResponse for (StatusCode, T) {
    fn into_response(self) -> Response {
        let mut resp = self.1.into_response();
        *resp.status_mut() = self.0;
        resp
    }
}

impl<T: IntoResponse> IntoResponse for (HeaderMap, T) {
    fn into_response(self) -> Response {
        let mut resp = self.1.into_response();
        for (k, v) in self.0 {
            if let Some(k) = k {
                resp.headers_mut().insert(k, v);
            }
        }
        resp
    }
}

fn add_headers<K, V, const N: usize>(resp: &mut Response, headers: [(K, V); N]) -> bool
where
    K: TryInto<HeaderName>,
    K::Error: fmt::Display,
    V: TryInto<HeaderValue>,
    V::Error: fmt::Display,
{
    for (k, v) in headers {
        match (k.try_into(), v.try_into()) {
            (Ok(k), Ok(v)) => {
                resp.headers_mut().insert(k, v);
            }
            (Err(e), _) => {
                tracing::error!(error = %e, "invalid response header name");
                return false;
            }
            (_, Err(e)) => {
                tracing::error!(error = %e, "invalid response header value");
                return false;
            }
        }
    }
    true
}

impl<K, V, T, const N: usize> IntoResponse for ([(K, V); N], T)
where
    K: TryInto<HeaderName>,
    K::Error: fmt::Display,
    V: TryInto<HeaderValue>,
    V::Error: fmt::Display,
    T: IntoResponse,
{
    fn into_response(self) -> Response {
        let mut resp = self.1.into_response();
        if add_headers(&mut resp, self.0) {
            resp
        } else {
            internal_error()
        }
    }
}

impl<K, V, T, const N: usize> IntoResponse for (StatusCode, [(K, V); N], T)
where
    K: TryInto<HeaderName>,
    K::Error: fmt::Display,
    V: TryInto<HeaderValue>,
    V::Error: fmt::Display,
    T: IntoResponse,
{
    fn into_response(self) -> Response {
        let mut resp = (self.1, self.2).into_response();
        if resp.status() != StatusCode::INTERNAL_SERVER_ERROR {
            *resp.status_mut() = self.0;
        }
        resp
    }
}

/// An HTML response: `text/html; charset=utf-8`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Html<T>(pub T);

impl<T: Into<Body>> IntoResponse for Html<T> {
    fn into_response(self) -> Response {
        with_type(self.0.into(), content_type::HTML)
    }
}

/// A redirect: 307 Temporary Redirect by default, like FastAPI's `RedirectResponse`.
#[derive(Debug, Clone)]
pub struct Redirect {
    status: StatusCode,
    location: HeaderValue,
}

impl Redirect {
    fn with(status: StatusCode, uri: &str) -> Self {
        let location = HeaderValue::try_from(uri).unwrap_or_else(|_| {
            tracing::error!(uri, "invalid redirect location; redirecting to /");
            HeaderValue::from_static("/")
        });
        Redirect { status, location }
    }

    /// 307 Temporary Redirect (the method and body are kept).
    pub fn to(uri: &str) -> Self {
        Self::with(StatusCode::TEMPORARY_REDIRECT, uri)
    }

    /// 308 Permanent Redirect.
    pub fn permanent(uri: &str) -> Self {
        Self::with(StatusCode::PERMANENT_REDIRECT, uri)
    }

    /// 303 See Other (the client follows with GET).
    pub fn see_other(uri: &str) -> Self {
        Self::with(StatusCode::SEE_OTHER, uri)
    }

    /// 302 Found.
    pub fn found(uri: &str) -> Self {
        Self::with(StatusCode::FOUND, uri)
    }

    /// The status sent.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl IntoResponse for Redirect {
    fn into_response(self) -> Response {
        let mut resp = Response::new(Body::empty());
        *resp.status_mut() = self.status;
        resp.headers_mut().insert(LOCATION, self.location);
        resp
    }
}
