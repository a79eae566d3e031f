//! Host checks: Starlette's `TrustedHostMiddleware` and `HTTPSRedirectMiddleware`.

use http::header::{HOST, LOCATION};
use http::{HeaderValue, StatusCode};

use super::Next;
use crate::response::Response;

/// Refuse requests whose `Host` is not one of the allowed names (400 "Invalid host
/// header", FastAPI's `TrustedHostMiddleware`). A name may start with `*.` for any
/// subdomain; `"*"` allows all. With `www_redirect` (the default), a request for
/// `example.com` when only `www.example.com` is allowed is redirected there.
///
/// ```
/// use hasten::prelude::*;
/// use hasten::middleware::TrustedHost;
///
/// let app = App::new().layer(TrustedHost::new(["example.com", "*.example.com"]));
/// # let _ = app.build().unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct TrustedHost {
    allowed: Vec<String>,
    www_redirect: bool,
}

impl TrustedHost {
    /// Allow these host names.
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(allowed: I) -> Self {
        TrustedHost {
            allowed: allowed.into_iter().map(Into::into).collect(),
            www_redirect: true,
        }
    }

    /// Redirect `example.com` to an allowed `www.example.com` (default: on).
    pub fn www_redirect(mut self, on: bool) -> Self {
        self.www_redirect = on;
        self
    }
}

fn host_of(req: &http::Request<crate::body::RequestBody>) -> String {
    let raw = req
        .headers()
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .unwrap_or("");
    // Strip the port (an IPv6 literal keeps its brackets).
    match raw.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !h.ends_with(':') => {
            h.to_owned()
        }
        _ => raw.to_owned(),
    }
}

impl tower_layer::Layer<Next> for TrustedHost {
    type Service = Next;

    fn layer(&self, next: Next) -> Next {
        let cfg = std::sync::Arc::new(self.clone());
        Next::new(move |req| {
            let cfg = cfg.clone();
            let next = next.clone();
            Box::pin(async move {
                if cfg.allowed.iter().any(|a| a == "*") {
                    return next.run(req).await;
                }
                let host = host_of(&req).to_ascii_lowercase();
                let mut www = false;
                for pattern in &cfg.allowed {
                    let pattern = pattern.to_ascii_lowercase();
                    let ok = pattern == host
                        || pattern
                            .strip_prefix('*')
                            .is_some_and(|suffix| host.ends_with(suffix));
                    if ok {
                        return next.run(req).await;
                    }
                    if pattern == format!("www.{host}") {
                        www = true;
                    }
                }
                if www && cfg.www_redirect {
                    let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
                    let location = format!("http://www.{host}{path}");
                    return redirect(&location);
                }
                crate::HttpError::plain(StatusCode::BAD_REQUEST, "Invalid host header").render()
            })
        })
    }
}

fn redirect(location: &str) -> Response {
    let mut resp = Response::new(crate::body::Body::empty());
    *resp.status_mut() = StatusCode::TEMPORARY_REDIRECT;
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(LOCATION, v);
    }
    resp
}

/// Redirect plain-HTTP requests to `https://` (307, FastAPI's
/// `HTTPSRedirectMiddleware`). A request over hasten's own TLS (`Server::tls`, the
/// `tls` feature) is secure; behind a TLS proxy, so is a request with
/// `X-Forwarded-Proto: https`.
#[derive(Debug, Clone, Copy, Default)]
pub struct HttpsRedirect;

impl tower_layer::Layer<Next> for HttpsRedirect {
    type Service = Next;

    fn layer(&self, next: Next) -> Next {
        Next::new(move |req| {
            let next = next.clone();
            Box::pin(async move {
                let secure = req.uri().scheme_str() == Some("https")
                    || req
                        .headers()
                        .get("x-forwarded-proto")
                        .and_then(|v| v.to_str().ok())
                        .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
                if secure {
                    return next.run(req).await;
                }
                let host = host_of(&req);
                let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
                redirect(&format!("https://{host}{path}"))
            })
        })
    }
}
