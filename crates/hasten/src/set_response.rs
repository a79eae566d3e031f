//! [`SetResponse`]: FastAPI's `response: Response` parameter — a handler or any of its
//! dependencies sets the status, headers and cookies of the response the handler
//! returns.

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use http::header::SET_COOKIE;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

use crate::extract::{Errors, Extracted, FromRequest, ParamSpec, RequestCtx};
use crate::openapi::model::OperationDoc;
use crate::Response;

/// What the handler and its dependencies asked for, merged into the handler's response.
#[derive(Debug, Default)]
pub(crate) struct Changes {
    status: Option<StatusCode>,
    headers: HeaderMap,
}

/// Set the status, headers and cookies of the response, from the handler or from a
/// dependency (FastAPI's `response: Response` parameter). Every `SetResponse` of one
/// request is the same: what a dependency sets, the handler sees and may change.
///
/// When the handler returns, the status set here replaces the handler's (and the
/// route's `status = …`), and the headers set here are added to its response, as
/// FastAPI merges its temporal response. An error response (an
/// [`HttpError`](crate::HttpError), a 422) does not carry them.
///
/// ```
/// use hasten::prelude::*;
/// use hasten::responses::{SetCookie, SetResponse};
///
/// /// Log in: answers 202 with a session cookie.
/// #[post("/login")]
/// async fn login(response: SetResponse) -> Json<serde_json::Value> {
///     response.set_status(StatusCode::ACCEPTED);
///     response.set_cookie(SetCookie::new("session", "abc123").max_age(3600).http_only(true));
///     response.append_header("x-login", "fresh");
///     Json(serde_json::json!({"ok": true}))
/// }
/// # let _ = App::new().route(login);
/// ```
#[derive(Clone, Debug)]
pub struct SetResponse {
    changes: Arc<Mutex<Changes>>,
}

impl SetResponse {
    fn with<R>(&self, f: impl FnOnce(&mut Changes) -> R) -> R {
        // A panic while holding the lock leaves plain data behind: keep using it.
        let mut changes = self.changes.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut changes)
    }

    /// The status of the response, replacing the handler's and the route's.
    pub fn set_status(&self, status: StatusCode) {
        self.with(|c| c.status = Some(status));
    }

    /// Add a header to the response. An invalid name or value is logged and skipped.
    pub fn append_header<K, V>(&self, name: K, value: V)
    where
        K: TryInto<HeaderName>,
        K::Error: std::fmt::Display,
        V: TryInto<HeaderValue>,
        V::Error: std::fmt::Display,
    {
        match (name.try_into(), value.try_into()) {
            (Ok(k), Ok(v)) => self.with(|c| {
                c.headers.append(k, v);
            }),
            (Err(e), _) => tracing::error!(error = %e, "SetResponse: invalid header name"),
            (_, Err(e)) => tracing::error!(error = %e, "SetResponse: invalid header value"),
        }
    }

    /// Add a `Set-Cookie` header, written as Starlette writes it.
    pub fn set_cookie(&self, cookie: SetCookie) {
        match HeaderValue::from_str(&cookie.to_string()) {
            Ok(v) => self.with(|c| {
                c.headers.append(SET_COOKIE, v);
            }),
            Err(e) => tracing::error!(error = %e, "SetResponse: invalid cookie"),
        }
    }

    /// Tell the client to drop a cookie: the cookie, empty, expired now (`Max-Age=0`),
    /// with the path, domain and flags of `cookie` (Starlette's `delete_cookie`).
    pub fn delete_cookie(&self, cookie: impl Into<SetCookie>) {
        let mut cookie = cookie.into();
        cookie.value = String::new();
        cookie.max_age = Some(0);
        cookie.expires = Some(SystemTime::now());
        self.set_cookie(cookie);
    }
}

/// What the request's `SetResponse`s changed, kept among its locals (made by the
/// first).
#[derive(Default)]
struct Shared(Arc<Mutex<Changes>>);

impl FromRequest for SetResponse {
    async fn from_request(
        ctx: &mut RequestCtx,
        _spec: &'static ParamSpec,
        _errors: &mut Errors,
    ) -> Extracted<Self> {
        let changes = ctx.locals.get_or_default::<Shared>().0.clone();
        Some(SetResponse { changes })
    }

    fn describe(_spec: &'static ParamSpec, _doc: &mut OperationDoc) {}
}

/// Merge what was set through [`SetResponse`] into the handler's response. Used by
/// generated code.
pub(crate) fn apply_set_response(ctx: &mut RequestCtx, mut resp: Response) -> Response {
    let Some(Shared(shared)) = ctx.locals.take::<Shared>() else {
        return resp;
    };
    let mut changes = shared.lock().unwrap_or_else(|p| p.into_inner());
    if resp
        .extensions()
        .get::<crate::error::ErrorMarker>()
        .is_some()
    {
        return resp;
    }
    if let Some(status) = changes.status {
        *resp.status_mut() = status;
    }
    let headers = std::mem::take(&mut changes.headers);
    let mut last: Option<HeaderName> = None;
    for (name, value) in headers {
        // `HeaderMap`'s owned iteration names a header once, before all its values.
        if let Some(n) = name {
            last = Some(n);
        }
        if let Some(n) = &last {
            resp.headers_mut().append(n.clone(), value);
        }
    }
    resp
}

/// `SameSite` of a cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    /// Sent with top-level navigations and same-site requests (the default).
    Lax,
    /// Sent with same-site requests only.
    Strict,
    /// Sent with every request (needs `secure`).
    None,
}

/// A cookie to set, with every attribute Starlette's `set_cookie` takes: `Path=/` and
/// `SameSite=lax` by default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetCookie {
    key: String,
    value: String,
    max_age: Option<i64>,
    expires: Option<SystemTime>,
    path: Option<String>,
    domain: Option<String>,
    secure: bool,
    http_only: bool,
    same_site: Option<SameSite>,
    partitioned: bool,
}

impl SetCookie {
    /// A cookie `key=value`.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        SetCookie {
            key: key.into(),
            value: value.into(),
            max_age: None,
            expires: None,
            path: Some("/".to_owned()),
            domain: None,
            secure: false,
            http_only: false,
            same_site: Some(SameSite::Lax),
            partitioned: false,
        }
    }

    /// Seconds until it expires (`Max-Age`).
    pub fn max_age(mut self, seconds: i64) -> Self {
        self.max_age = Some(seconds);
        self
    }

    /// When it expires (`expires`).
    pub fn expires(mut self, at: SystemTime) -> Self {
        self.expires = Some(at);
        self
    }

    /// The path it is sent for (`/` by default); `None` leaves the attribute out.
    pub fn path(mut self, path: Option<&str>) -> Self {
        self.path = path.map(str::to_owned);
        self
    }

    /// The domain it is sent to.
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// Sent over HTTPS only.
    pub fn secure(mut self, on: bool) -> Self {
        self.secure = on;
        self
    }

    /// Hidden from scripts.
    pub fn http_only(mut self, on: bool) -> Self {
        self.http_only = on;
        self
    }

    /// Its `SameSite` (`Lax` by default); `None` leaves the attribute out.
    pub fn same_site(mut self, same_site: Option<SameSite>) -> Self {
        self.same_site = same_site;
        self
    }

    /// Partitioned (CHIPS).
    pub fn partitioned(mut self, on: bool) -> Self {
        self.partitioned = on;
        self
    }
}

impl From<&str> for SetCookie {
    fn from(key: &str) -> Self {
        SetCookie::new(key, "")
    }
}

impl std::fmt::Display for SetCookie {
    /// The `Set-Cookie` value, as Python's `SimpleCookie` writes it for Starlette: the
    /// value quoted when it needs to be, the attributes in alphabetical order.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}", self.key, quote(&self.value))?;
        if let Some(d) = &self.domain {
            write!(f, "; Domain={d}")?;
        }
        if let Some(at) = self.expires {
            write!(f, "; expires={}", crate::files::http_date(at))?;
        }
        if self.http_only {
            f.write_str("; HttpOnly")?;
        }
        if let Some(age) = self.max_age {
            write!(f, "; Max-Age={age}")?;
        }
        if self.partitioned {
            f.write_str("; Partitioned")?;
        }
        if let Some(p) = &self.path {
            write!(f, "; Path={p}")?;
        }
        if let Some(s) = self.same_site {
            let s = match s {
                SameSite::Lax => "lax",
                SameSite::Strict => "strict",
                SameSite::None => "none",
            };
            write!(f, "; SameSite={s}")?;
        }
        if self.secure {
            f.write_str("; Secure")?;
        }
        Ok(())
    }
}

/// A cookie value as Python's `http.cookies` quotes it: as is when every character is
/// legal, else in double quotes with `"` and `\` escaped and other characters as
/// `\ooo` octal escapes.
fn quote(value: &str) -> String {
    let legal = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~:".contains(&b);
    if !value.is_empty() && value.bytes().all(legal) {
        return value.to_owned();
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for b in value.bytes() {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b if (0x20..0x7f).contains(&b) && b != b',' && b != b';' => out.push(b as char),
            b => out.push_str(&format!("\\{b:03o}")),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_written_as_starlette_writes_them() {
        assert_eq!(
            SetCookie::new("session", "abc").to_string(),
            "session=abc; Path=/; SameSite=lax"
        );
        let full = SetCookie::new("id", "a b;c")
            .max_age(60)
            .domain("example.com")
            .secure(true)
            .http_only(true)
            .same_site(Some(SameSite::Strict))
            .expires(SystemTime::UNIX_EPOCH);
        assert_eq!(
            full.to_string(),
            "id=\"a b\\073c\"; Domain=example.com; expires=Thu, 01 Jan 1970 00:00:00 GMT; \
             HttpOnly; Max-Age=60; Path=/; SameSite=strict; Secure"
        );
        assert_eq!(
            SetCookie::new("e", "")
                .path(None)
                .same_site(None)
                .to_string(),
            "e=\"\""
        );
    }

    #[test]
    fn partitioned_sits_where_python_sorts_it() {
        // Python 3.14's `SimpleCookie` (the first that writes it) sorts attributes by name.

        assert_eq!(
            SetCookie::new("c", "v")
                .max_age(5)
                .partitioned(true)
                .to_string(),
            "c=v; Max-Age=5; Partitioned; Path=/; SameSite=lax"
        );
    }
}
