//! CORS, as Starlette's `CORSMiddleware` does it.

use http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE,
    ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_REQUEST_METHOD, COOKIE, ORIGIN, VARY,
};
use http::{HeaderMap, HeaderValue, Method, StatusCode};

use super::Next;
use crate::response::Response;

const ALL_METHODS: &str = "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT";
const SAFELISTED_HEADERS: [&str; 4] = [
    "Accept",
    "Accept-Language",
    "Content-Language",
    "Content-Type",
];

/// Cross-origin resource sharing with the behaviour of FastAPI's `CORSMiddleware`:
/// preflights answered 200 "OK" (`Access-Control-Max-Age: 600` by default) or 400
/// "Disallowed CORS origin" (or `method`, `headers`), and the allow-origin headers
/// added to ordinary responses.
///
/// ```
/// use hasten::prelude::*;
/// use hasten::middleware::Cors;
///
/// let app = App::new().layer(
///     Cors::new()
///         .allow_origins(["https://example.com"])
///         .allow_methods(["GET", "POST"])
///         .allow_headers(["x-token"])
///         .allow_credentials(true),
/// );
/// # let _ = app.build().unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct Cors {
    origins: Vec<String>,
    origin_regex: Option<regex::Regex>,
    methods: Vec<String>,
    headers: Vec<String>,
    credentials: bool,
    expose: Vec<String>,
    max_age: u64,
}

impl Default for Cors {
    fn default() -> Self {
        Cors::new()
    }
}

impl Cors {
    /// Starlette's defaults: no origin allowed, `GET` only, no extra headers, no
    /// credentials, preflights cached 600 s.
    pub fn new() -> Self {
        Cors {
            origins: Vec::new(),
            origin_regex: None,
            methods: vec!["GET".to_owned()],
            headers: Vec::new(),
            credentials: false,
            expose: Vec::new(),
            max_age: 600,
        }
    }

    /// Allowed origins (`"*"` for any).
    pub fn allow_origins<I: IntoIterator<Item = S>, S: Into<String>>(mut self, origins: I) -> Self {
        self.origins = origins.into_iter().map(Into::into).collect();
        self
    }

    /// Origins allowed by a regular expression matching the whole origin.
    ///
    /// # Panics
    /// If the expression is invalid.
    pub fn allow_origin_regex(mut self, pattern: &str) -> Self {
        let anchored = format!("^(?:{pattern})$");
        self.origin_regex = Some(
            regex::Regex::new(&anchored)
                .unwrap_or_else(|e| panic!("Cors::allow_origin_regex: invalid pattern: {e}")),
        );
        self
    }

    /// Allowed methods (`"*"` for any).
    pub fn allow_methods<I: IntoIterator<Item = S>, S: Into<String>>(mut self, methods: I) -> Self {
        self.methods = methods
            .into_iter()
            .map(|m| m.into().to_ascii_uppercase())
            .collect();
        self
    }

    /// Allowed request headers (`"*"` for any).
    pub fn allow_headers<I: IntoIterator<Item = S>, S: Into<String>>(mut self, headers: I) -> Self {
        self.headers = headers.into_iter().map(Into::into).collect();
        self
    }

    /// Allow cookies and `Authorization` (`Access-Control-Allow-Credentials: true`).
    pub fn allow_credentials(mut self, allow: bool) -> Self {
        self.credentials = allow;
        self
    }

    /// Response headers the browser may show to scripts.
    pub fn expose_headers<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        headers: I,
    ) -> Self {
        self.expose = headers.into_iter().map(Into::into).collect();
        self
    }

    /// How long browsers may cache a preflight answer, in seconds.
    pub fn max_age(mut self, seconds: u64) -> Self {
        self.max_age = seconds;
        self
    }

    fn all_origins(&self) -> bool {
        self.origins.iter().any(|o| o == "*")
    }

    fn all_headers(&self) -> bool {
        self.headers.iter().any(|h| h == "*")
    }

    fn origin_allowed(&self, origin: &str) -> bool {
        self.all_origins()
            || self
                .origin_regex
                .as_ref()
                .is_some_and(|r| r.is_match(origin))
            || self.origins.iter().any(|o| o == origin)
    }

    fn preflight(&self, req_headers: &HeaderMap, origin: &str) -> Response {
        let mut failures = Vec::new();
        let mut headers = HeaderMap::new();
        let explicit_origin = !self.all_origins() || self.credentials;
        if self.origin_allowed(origin) {
            if explicit_origin {
                if let Ok(v) = HeaderValue::from_str(origin) {
                    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, v);
                }
            }
        } else {
            failures.push("origin");
        }
        if explicit_origin {
            headers.insert(VARY, HeaderValue::from_static("Origin"));
        } else {
            headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        }
        let methods = if self.methods.iter().any(|m| m == "*") {
            ALL_METHODS.to_owned()
        } else {
            self.methods.join(", ")
        };
        if let Ok(v) = HeaderValue::from_str(&methods) {
            headers.insert(ACCESS_CONTROL_ALLOW_METHODS, v);
        }
        headers.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from(self.max_age));
        if !self.headers.is_empty() && !self.all_headers() {
            let mut allowed: Vec<String> =
                SAFELISTED_HEADERS.iter().map(|s| (*s).to_owned()).collect();
            for h in &self.headers {
                if !allowed.iter().any(|a| a.eq_ignore_ascii_case(h)) {
                    allowed.push(h.clone());
                }
            }
            allowed.sort();
            if let Ok(v) = HeaderValue::from_str(&allowed.join(", ")) {
                headers.insert(ACCESS_CONTROL_ALLOW_HEADERS, v);
            }
        }
        if self.credentials {
            headers.insert(
                ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        let method = req_headers
            .get(ACCESS_CONTROL_REQUEST_METHOD)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !self.methods.iter().any(|m| m == "*" || m == method) {
            failures.push("method");
        }
        let requested = req_headers
            .get(ACCESS_CONTROL_REQUEST_HEADERS)
            .and_then(|v| v.to_str().ok());
        match requested {
            Some(r) if self.all_headers() => {
                if let Ok(v) = HeaderValue::from_str(r) {
                    headers.insert(ACCESS_CONTROL_ALLOW_HEADERS, v);
                }
            }
            Some(r) => {
                let allowed: Vec<String> = SAFELISTED_HEADERS
                    .iter()
                    .map(|s| s.to_ascii_lowercase())
                    .chain(self.headers.iter().map(|h| h.to_ascii_lowercase()))
                    .collect();
                if r.split(',')
                    .map(|h| h.trim().to_ascii_lowercase())
                    .filter(|h| !h.is_empty())
                    .any(|h| !allowed.contains(&h))
                {
                    failures.push("headers");
                }
            }
            None => {}
        }
        let (status, text) = if failures.is_empty() {
            (StatusCode::OK, "OK".to_owned())
        } else {
            (
                StatusCode::BAD_REQUEST,
                format!("Disallowed CORS {}", failures.join(", ")),
            )
        };
        let mut resp = crate::HttpError::plain(status, text).render();
        for (k, v) in headers.iter() {
            resp.headers_mut().insert(k, v.clone());
        }
        resp
    }

    fn decorate(&self, resp: &mut Response, origin: &str, has_cookie: bool) {
        let h = resp.headers_mut();
        if self.all_origins() && !self.credentials {
            h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        }
        if self.credentials {
            h.insert(
                ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        if !self.expose.is_empty() {
            if let Ok(v) = HeaderValue::from_str(&self.expose.join(", ")) {
                h.insert(ACCESS_CONTROL_EXPOSE_HEADERS, v);
            }
        }
        let echo = (self.all_origins() && has_cookie)
            || (!self.all_origins() && self.origin_allowed(origin));
        if echo {
            if let Ok(v) = HeaderValue::from_str(origin) {
                h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, v);
            }
            h.append(VARY, HeaderValue::from_static("Origin"));
        }
    }
}

impl tower_layer::Layer<Next> for Cors {
    type Service = Next;

    fn layer(&self, next: Next) -> Next {
        let cors = std::sync::Arc::new(self.clone());
        Next::new(move |req| {
            let cors = cors.clone();
            let next = next.clone();
            Box::pin(async move {
                let Some(origin) = req
                    .headers()
                    .get(ORIGIN)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
                else {
                    return next.run(req).await;
                };
                if req.method() == Method::OPTIONS
                    && req.headers().contains_key(ACCESS_CONTROL_REQUEST_METHOD)
                {
                    return cors.preflight(req.headers(), &origin);
                }
                let has_cookie = req.headers().contains_key(COOKIE);
                let mut resp = next.run(req).await;
                cors.decorate(&mut resp, &origin, has_cookie);
                resp
            })
        })
    }
}
