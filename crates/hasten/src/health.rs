//! Liveness and readiness probes, for a load balancer or an orchestrator: opt-in
//! endpoints ([`App::health`](crate::App::health), [`App::readiness`](crate::App::readiness))
//! outside the OpenAPI document.
//!
//! - **liveness** answers `200 {"status": "ok"}` while the process serves at all;
//! - **readiness** runs the checks declared on app-scoped dependencies
//!   ([`App::ready_when`](crate::App::ready_when)), each within a timeout, and answers
//!   `200 {"status": "ready", "checks": {…}}` or `503 {"status": "unavailable",
//!   "checks": {…}}` naming what failed. Once the server starts to shut down it answers
//!   `503 {"status": "draining"}`, first for the server's
//!   [`drain_delay`](crate::Server::drain_delay) while it still accepts connections (so
//!   a load balancer stops sending traffic before the drain), then until it stops.

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http::{header::ALLOW, HeaderValue, Method, StatusCode};
use serde_json::{json, Map, Value};

use crate::depends::Dependency;
use crate::future::BoxFuture;
use crate::response::{content_type, strip_body, with_type, Response};
use crate::runtime::Runtime;

/// How long one readiness check may take before it counts as failed (default).
pub(crate) const DEFAULT_CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// The probes an app serves: their paths, and what readiness checks.
pub(crate) struct Probes {
    pub(crate) health: Option<String>,
    pub(crate) ready: Option<String>,
    /// The metrics endpoint's path (`App::metrics`), answered beside the probes.
    pub(crate) metrics: Option<String>,
    pub(crate) checks: Vec<ReadyCheck>,
    pub(crate) timeout: Duration,
}

impl Default for Probes {
    fn default() -> Self {
        Probes {
            health: None,
            ready: None,
            metrics: None,
            checks: Vec::new(),
            timeout: DEFAULT_CHECK_TIMEOUT,
        }
    }
}

impl Probes {
    /// Split into the paths the dispatcher answers and the runtime's readiness state.
    pub(crate) fn split(self) -> (ProbePaths, Readiness) {
        (
            ProbePaths {
                health: self.health,
                ready: self.ready,
                metrics: self.metrics,
            },
            Readiness {
                draining: AtomicBool::new(false),
                checks: self.checks,
                timeout: self.timeout,
            },
        )
    }
}

/// A readiness check, run in the started app: why it failed, on failure.
type CheckFn = dyn Fn(Arc<Runtime>) -> BoxFuture<Result<(), String>> + Send + Sync;

/// One readiness check: an app-scoped dependency's value, checked.
pub(crate) struct ReadyCheck {
    name: String,
    run: Arc<CheckFn>,
}

impl ReadyCheck {
    /// The check `check` on the value of app-scoped dependency `D`.
    pub(crate) fn of<D, F, Fut, E>(check: F) -> Self
    where
        D: Dependency,
        F: Fn(Arc<D::Output>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: fmt::Display,
    {
        let check = Arc::new(check);
        let full = std::any::type_name::<D>();
        ReadyCheck {
            name: full.rsplit("::").next().unwrap_or(full).to_owned(),
            run: Arc::new(move |rt| {
                let check = check.clone();
                Box::pin(async move {
                    let value = crate::depends::app_value::<D>(rt).await?;
                    check(value).await.map_err(|e| e.to_string())
                })
            }),
        }
    }
}

/// The paths the dispatcher answers as probes.
#[derive(Default)]
pub(crate) struct ProbePaths {
    health: Option<String>,
    ready: Option<String>,
    metrics: Option<String>,
}

/// Which probe a path is.
#[derive(Clone, Copy)]
pub(crate) enum Probe {
    Health,
    Ready,
    /// The metrics endpoint (cargo feature `metrics`).
    Metrics,
}

impl ProbePaths {
    /// The probe served at `path`, if any.
    pub(crate) fn at(&self, path: &str) -> Option<Probe> {
        if self.health.as_deref() == Some(path) {
            Some(Probe::Health)
        } else if self.ready.as_deref() == Some(path) {
            Some(Probe::Ready)
        } else if self.metrics.as_deref() == Some(path) {
            Some(Probe::Metrics)
        } else {
            None
        }
    }
}

/// Readiness at run time, kept in the runtime's slot for it.
pub(crate) struct Readiness {
    draining: AtomicBool,
    checks: Vec<ReadyCheck>,
    timeout: Duration,
}

/// From now on readiness answers 503: the server is shutting down.
pub(crate) fn start_draining(rt: &Runtime) {
    if let Some(r) = rt.slot::<Readiness>() {
        r.draining.store(true, Ordering::Relaxed);
    }
}

/// The answer to a probe or the metrics path (GET or HEAD; anything else is a 405).
pub(crate) async fn answer(probe: Probe, method: Method, rt: Arc<Runtime>) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return crate::error::HttpError::new(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
            .with_header(ALLOW, HeaderValue::from_static("GET, HEAD"))
            .render();
    }
    let (status, body, media_type) = match probe {
        Probe::Health => (
            StatusCode::OK,
            json!({ "status": "ok" }).to_string(),
            content_type::JSON,
        ),
        Probe::Ready => {
            let (status, body) = ready(&rt).await;
            (status, body.to_string(), content_type::JSON)
        }
        #[cfg(feature = "metrics")]
        Probe::Metrics => match crate::metrics::exposition(&rt) {
            Some((text, media_type)) => (StatusCode::OK, text, media_type),
            None => {
                return crate::error::HttpError::new(StatusCode::NOT_FOUND, "Not Found").render()
            }
        },
        #[cfg(not(feature = "metrics"))]
        Probe::Metrics => {
            return crate::error::HttpError::new(StatusCode::NOT_FOUND, "Not Found").render()
        }
    };
    let mut resp = with_type(crate::body::Body::full(body.into_bytes()), media_type);
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    if method == Method::HEAD {
        strip_body(&mut resp);
    }
    resp
}

async fn ready(rt: &Arc<Runtime>) -> (StatusCode, Value) {
    let Some(r) = rt.slot::<Readiness>() else {
        return (StatusCode::OK, json!({ "status": "ready", "checks": {} }));
    };
    if r.draining.load(Ordering::Relaxed) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "status": "draining" }),
        );
    }
    let runs = r.checks.iter().map(|c| {
        let run = (c.run)(rt.clone());
        async move {
            match tokio::time::timeout(r.timeout, run).await {
                Ok(Ok(())) => (c.name.clone(), None),
                Ok(Err(why)) => (c.name.clone(), Some(why)),
                Err(_) => (
                    c.name.clone(),
                    Some(format!("timed out after {:?}", r.timeout)),
                ),
            }
        }
    });
    let results = futures_util::future::join_all(runs).await;
    let failed = results.iter().any(|(_, why)| why.is_some());
    let checks: Map<String, Value> = results
        .into_iter()
        .map(|(name, why)| (name, Value::String(why.unwrap_or_else(|| "ok".to_owned()))))
        .collect();
    if failed {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "status": "unavailable", "checks": checks }),
        )
    } else {
        (
            StatusCode::OK,
            json!({ "status": "ready", "checks": checks }),
        )
    }
}
