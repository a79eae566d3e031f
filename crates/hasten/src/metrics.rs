//! Metrics in Prometheus' text format at an opt-in path ([`App::metrics`](crate::App::metrics),
//! cargo feature `metrics`), outside the OpenAPI document.
//!
//! Requests are labelled by route template (`/items/{item_id}`), never by the raw
//! path, so the number of series stays bounded by the app's routes:
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `http_requests_total` | counter | `method`, `route`, `status` |
//! | `http_request_duration_seconds` | histogram | `method`, `route` |
//! | `http_requests_in_flight` | gauge | |
//! | `http_request_size_bytes` | histogram | `method`, `route` |
//! | `http_response_size_bytes` | histogram | `method`, `route` |
//! | `hasten_connections_open`, `hasten_connections_max` | gauge | |
//! | `hasten_websocket_connections_open` | gauge | |
//! | `hasten_websocket_messages_total` | counter | `direction` (`received`, `sent`) |
//! | `hasten_background_tasks_total` | counter | `outcome` (`ok`, `error`, `panic`, `cancelled`) |
//! | `hasten_blocking_threads_busy`, `hasten_blocking_threads_max`, `hasten_blocking_waiting` | gauge | |
//! | `hasten_jobs_enqueued_total` | counter | `job` |
//! | `hasten_jobs_total` | counter | `job`, `outcome` (`done`, `retry`, `dead`) |
//! | `hasten_job_duration_seconds` | histogram | `job` |
//!
//! - `route` is the operation's path template; a mounted app is labelled with its
//!   prefix, the documentation pages and probes with their paths, and anything no
//!   route answers (404, 405, the slash redirect) `<unmatched>`.
//! - `method` is the request's method when it is one of HTTP's nine, else `OTHER`.
//! - The duration runs from the request's arrival until its response head is ready.
//! - The request size is the declared `Content-Length` (0 without a body); a chunked
//!   request body is not observed. The response size is the body's exact length when
//!   it is known up front, else the bytes sent, observed when the body ends.
//! - `hasten_connections_max` adds up the caps of the servers serving the app; the
//!   blocking pool's figures are read when the endpoint is scraped.

use std::borrow::Cow;
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock, RwLock};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode};
use http_body::{Frame, SizeHint};
use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
};

use crate::body::{Body, BoxError};
use crate::response::Response;
use crate::runtime::Runtime;

/// The route label of a request no route answers.
pub(crate) const UNMATCHED: &str = "<unmatched>";

/// The app's metrics: its registry and the handles the request path updates.
pub(crate) struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
    request_size: HistogramVec,
    response_size: HistogramVec,
    in_flight: IntGauge,
    connections_open: IntGauge,
    connections_max: IntGauge,
    ws_open: IntGauge,
    ws_received: IntCounter,
    ws_sent: IntCounter,
    background: IntCounterVec,
    blocking_busy: IntGauge,
    blocking_max: IntGauge,
    blocking_waiting: IntGauge,
    // Counted by the durable jobs (cargo feature `jobs`).
    #[cfg_attr(not(feature = "jobs"), allow(dead_code))]
    jobs_enqueued: IntCounterVec,
    #[cfg_attr(not(feature = "jobs"), allow(dead_code))]
    jobs: IntCounterVec,
    #[cfg_attr(not(feature = "jobs"), allow(dead_code))]
    job_duration: HistogramVec,
    /// Each route's series, by method.
    series: RwLock<HashMap<Box<str>, ByMethod>>,
}

impl Metrics {
    /// A registry with every metric of the table in the module docs, at zero.
    pub(crate) fn new() -> Self {
        let registry = Registry::new();
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help), labels).expect("a valid metric");
            registry
                .register(Box::new(c.clone()))
                .expect("registered once");
            c
        };
        let gauge = |name: &str, help: &str| {
            let g = IntGauge::new(name, help).expect("a valid metric");
            registry
                .register(Box::new(g.clone()))
                .expect("registered once");
            g
        };
        let histogram = |name: &str, help: &str, buckets: Vec<f64>| {
            let h = HistogramVec::new(
                HistogramOpts::new(name, help).buckets(buckets),
                &["method", "route"],
            )
            .expect("a valid metric");
            registry
                .register(Box::new(h.clone()))
                .expect("registered once");
            h
        };
        let sizes = prometheus::exponential_buckets(64.0, 4.0, 10).expect("valid buckets");
        let ws_messages = counter(
            "hasten_websocket_messages_total",
            "WebSocket data messages, by direction.",
            &["direction"],
        );
        Metrics {
            requests: counter(
                "http_requests_total",
                "HTTP requests answered, by method, route template and status.",
                &["method", "route", "status"],
            ),
            duration: histogram(
                "http_request_duration_seconds",
                "Time from a request's arrival until its response head is ready.",
                prometheus::DEFAULT_BUCKETS.to_vec(),
            ),
            request_size: histogram(
                "http_request_size_bytes",
                "Request body sizes, as declared by Content-Length.",
                sizes.clone(),
            ),
            response_size: histogram(
                "http_response_size_bytes",
                "Response body sizes, in bytes sent.",
                sizes,
            ),
            in_flight: gauge("http_requests_in_flight", "Requests being answered now."),
            connections_open: gauge(
                "hasten_connections_open",
                "Open connections (WebSockets included), across the app's servers.",
            ),
            connections_max: gauge(
                "hasten_connections_max",
                "The servers' cap on open connections.",
            ),
            ws_open: gauge(
                "hasten_websocket_connections_open",
                "Open WebSocket connections.",
            ),
            ws_received: ws_messages.with_label_values(&["received"]),
            ws_sent: ws_messages.with_label_values(&["sent"]),
            background: counter(
                "hasten_background_tasks_total",
                "Background tasks run, by outcome.",
                &["outcome"],
            ),
            blocking_busy: gauge(
                "hasten_blocking_threads_busy",
                "Plain handlers and blocking tasks running on the blocking pool.",
            ),
            blocking_max: gauge("hasten_blocking_threads_max", "The blocking pool's size."),
            blocking_waiting: gauge(
                "hasten_blocking_waiting",
                "Work waiting for a blocking-pool slot.",
            ),
            jobs_enqueued: counter(
                "hasten_jobs_enqueued_total",
                "Durable jobs queued (a duplicate key queues none), by job.",
                &["job"],
            ),
            jobs: counter(
                "hasten_jobs_total",
                "Durable job runs, by job and outcome (done, retry, dead).",
                &["job", "outcome"],
            ),
            job_duration: {
                let h = HistogramVec::new(
                    HistogramOpts::new("hasten_job_duration_seconds", "Durable job run times.")
                        .buckets(
                            prometheus::exponential_buckets(0.001, 4.0, 10).expect("valid buckets"),
                        ),
                    &["job"],
                )
                .expect("a valid metric");
                registry
                    .register(Box::new(h.clone()))
                    .expect("registered once");
                h
            },
            series: RwLock::default(),
            registry,
        }
    }

    /// Run `f` on the series of `method` (its place in [`METHODS`]) and `route`, made on
    /// first use.
    fn with_series<R>(&self, method: usize, route: &str, f: impl FnOnce(&Series) -> R) -> R {
        if let Ok(map) = self.series.read() {
            if let Some(series) = map.get(route).and_then(|by| by[method].as_ref()) {
                return f(series);
            }
        }
        let labels = [METHODS[method], route];
        let made = Arc::new(Series {
            duration: self.duration.with_label_values(&labels),
            request_size: self.request_size.with_label_values(&labels),
            response_size: self.response_size.with_label_values(&labels),
            statuses: RwLock::default(),
            requests: self.requests.clone(),
            method: METHODS[method],
            route: route.into(),
        });
        let series = match self.series.write() {
            Ok(mut map) => map.entry(route.into()).or_default()[method]
                .get_or_insert(made)
                .clone(),
            Err(_) => made,
        };
        f(&series)
    }

    /// A server serving the app with a cap of `max` connections starts (or, with
    /// `-max`, stops accepting).
    pub(crate) fn add_server(&self, max: i64) {
        self.connections_max.add(max);
    }

    /// A connection opens: it counts until the returned guard is dropped.
    pub(crate) fn connection(&self) -> Open {
        self.connections_open.inc();
        Open(self.connections_open.clone())
    }

    /// A request arrives: it is in flight until the returned meter is finished or
    /// dropped, and dispatch writes its route label into the request.
    pub(crate) fn start(
        self: &Arc<Self>,
        req: &mut http::Request<crate::body::RequestBody>,
    ) -> Meter {
        self.in_flight.inc();
        let route = RouteSlot::default();
        req.extensions_mut().insert(route.clone());
        let declared = req
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
            .or_else(|| http_body::Body::is_end_stream(req.body()).then_some(0));
        Meter {
            metrics: self.clone(),
            start: Instant::now(),
            method: method_index(req.method()),
            route,
            declared,
            done: false,
        }
    }

    /// A background task ended with `outcome`.
    pub(crate) fn background_task(&self, outcome: &str) {
        self.background.with_label_values(&[outcome]).inc();
    }

    /// A durable job was queued.
    #[cfg_attr(not(feature = "jobs"), allow(dead_code))]
    pub(crate) fn job_enqueued(&self, job: &str) {
        self.jobs_enqueued.with_label_values(&[job]).inc();
    }

    /// A durable job ran for `secs` and ended with `outcome`.
    #[cfg_attr(not(feature = "jobs"), allow(dead_code))]
    pub(crate) fn job_ran(&self, job: &str, outcome: &str, secs: f64) {
        self.jobs.with_label_values(&[job, outcome]).inc();
        self.job_duration.with_label_values(&[job]).observe(secs);
    }

    /// Handles for one WebSocket: open now, closed when dropped.
    pub(crate) fn websocket(&self) -> WsMeter {
        self.ws_open.inc();
        WsMeter {
            open: self.ws_open.clone(),
            received: self.ws_received.clone(),
            sent: self.ws_sent.clone(),
        }
    }

    /// The exposition, with the figures read at scrape time brought up to date.
    fn render(&self, rt: &Runtime) -> String {
        let pool = &rt.blocking;
        self.blocking_max.set(pool.capacity as i64);
        self.blocking_busy
            .set(pool.capacity.saturating_sub(pool.slots.available_permits()) as i64);
        self.blocking_waiting
            .set(pool.waiting.load(Ordering::Relaxed) as i64);
        let mut text = String::new();
        if let Err(e) =
            prometheus::TextEncoder::new().encode_utf8(&self.registry.gather(), &mut text)
        {
            tracing::error!(target: "hasten::metrics", error = %e, "metrics could not be encoded");
        }
        text
    }
}

/// The `method` labels: HTTP's nine methods, and `OTHER`, so a client cannot make new
/// series.
const METHODS: [&str; 10] = [
    "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "CONNECT", "OTHER",
];

/// `method`'s place in [`METHODS`].
fn method_index(method: &Method) -> usize {
    match *method {
        Method::GET => 0,
        Method::POST => 1,
        Method::PUT => 2,
        Method::DELETE => 3,
        Method::PATCH => 4,
        Method::HEAD => 5,
        Method::OPTIONS => 6,
        Method::TRACE => 7,
        Method::CONNECT => 8,
        _ => 9,
    }
}

/// Where dispatch writes a request's route label (in the request's extensions).
#[derive(Clone, Default)]
pub(crate) struct RouteSlot(Arc<OnceLock<Cow<'static, str>>>);

/// Label the request in `extensions` (if it is metered) with `route`.
pub(crate) fn note_route(extensions: &http::Extensions, route: impl FnOnce() -> Cow<'static, str>) {
    if let Some(slot) = extensions.get::<RouteSlot>() {
        let _ = slot.0.set(route());
    }
}

/// One request being measured.
pub(crate) struct Meter {
    metrics: Arc<Metrics>,
    start: Instant,
    /// The method's place in [`METHODS`].
    method: usize,
    route: RouteSlot,
    declared: Option<u64>,
    done: bool,
}

impl Meter {
    /// The response head is ready: count the request, time it, size both bodies.
    pub(crate) fn finish(mut self, resp: &mut Response) {
        self.done = true;
        let m = &*self.metrics;
        m.in_flight.dec();
        let route = self.route.0.get().map_or(UNMATCHED, |r| r.as_ref());
        let elapsed = self.start.elapsed().as_secs_f64();
        let exact = http_body::Body::size_hint(resp.body()).exact();
        let streamed = m.with_series(self.method, route, |series| {
            series.count(resp.status());
            series.duration.observe(elapsed);
            if let Some(n) = self.declared {
                series.request_size.observe(n as f64);
            }
            match exact {
                Some(n) => {
                    series.response_size.observe(n as f64);
                    None
                }
                None => Some(series.response_size.clone()),
            }
        });
        if let Some(sizes) = streamed {
            let body = std::mem::take(resp.body_mut());
            *resp.body_mut() = Body::new(Counted {
                inner: body,
                sent: 0,
                sizes: Some(sizes),
            });
        }
    }
}

/// A route's series, by the method's place in [`METHODS`].
type ByMethod = [Option<Arc<Series>>; METHODS.len()];

/// The series of one method and route: looked up once per request, where the labelled
/// families would hash the labels once per metric.
struct Series {
    duration: Histogram,
    request_size: Histogram,
    response_size: Histogram,
    /// The request counter by status: a few statuses per route, so a short list.
    statuses: RwLock<Vec<(StatusCode, IntCounter)>>,
    requests: IntCounterVec,
    method: &'static str,
    route: Box<str>,
}

impl Series {
    /// Count one request answered with `status`.
    fn count(&self, status: StatusCode) {
        if let Ok(statuses) = self.statuses.read() {
            if let Some((_, c)) = statuses.iter().find(|(s, _)| *s == status) {
                c.inc();
                return;
            }
        }
        let c = self
            .requests
            .with_label_values(&[self.method, &self.route, status.as_str()]);
        c.inc();
        if let Ok(mut statuses) = self.statuses.write() {
            if !statuses.iter().any(|(s, _)| *s == status) {
                statuses.push((status, c));
            }
        }
    }
}

impl Drop for Meter {
    /// Dropped unfinished: the client went away before the answer; no longer in flight.
    fn drop(&mut self) {
        if !self.done {
            self.metrics.in_flight.dec();
        }
    }
}

/// A response body of unknown length: its size is observed when it ends or is dropped.
struct Counted {
    inner: Body,
    sent: u64,
    sizes: Option<Histogram>,
}

impl http_body::Body for Counted {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                self.sent += frame.data_ref().map_or(0, |d| d.len() as u64);
            }
            Poll::Ready(None) => {
                if let Some(h) = self.sizes.take() {
                    h.observe(self.sent as f64);
                }
            }
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        if let Some(h) = self.sizes.take() {
            h.observe(self.sent as f64);
        }
    }
}

/// Counts one open connection until dropped.
pub(crate) struct Open(IntGauge);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// One WebSocket's handles.
pub(crate) struct WsMeter {
    open: IntGauge,
    received: IntCounter,
    sent: IntCounter,
}

impl WsMeter {
    /// A data message arrived.
    pub(crate) fn received(&self) {
        self.received.inc();
    }

    /// A data message went out.
    pub(crate) fn sent(&self) {
        self.sent.inc();
    }
}

impl Drop for WsMeter {
    fn drop(&mut self) {
        self.open.dec();
    }
}

/// The exposition of the app's metrics (`None` when it serves none), and its media type.
pub(crate) fn exposition(rt: &Runtime) -> Option<(String, HeaderValue)> {
    let metrics = rt.slot::<Arc<Metrics>>()?;
    Some((
        metrics.render(rt),
        HeaderValue::from_static(prometheus::TEXT_FORMAT),
    ))
}
