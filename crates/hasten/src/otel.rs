//! OpenTelemetry: the spans of traced apps ([`App::tracing`](crate::App::tracing))
//! exported over OTLP, and W3C trace context on the way in and out (cargo feature
//! `otel`).
//!
//! - [`Telemetry`] exports spans to an OTLP/HTTP receiver (protobuf), in batches, and
//!   gives the [`tracing_subscriber`] layer that feeds it;
//! - a traced request that arrives with a valid `traceparent` (and `tracestate`)
//!   continues the caller's trace: its `request` span is a child of the caller's span;
//! - [`inject`] writes the current span's context into the headers of an outgoing call,
//!   so the service called next continues the same trace.
//!
//! ```no_run
//! use hasten::otel::Telemetry;
//! use hasten::prelude::*;
//! use tracing_subscriber::prelude::*;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // OTEL_EXPORTER_OTLP_ENDPOINT (default http://localhost:4318) says where to send.
//! let telemetry = Telemetry::otlp("inventory")?;
//! tracing_subscriber::registry()
//!     .with(telemetry.layer())
//!     .with(tracing_subscriber::fmt::layer())
//!     .init();
//! let app = App::new().tracing();
//! hasten::Server::bind("127.0.0.1:8000").await?.serve(app).await?;
//! telemetry.shutdown(); // sends what is still buffered
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator as _};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{WithExportConfig as _, WithHttpConfig as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// How long one export may take before it is given up.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// Spans exported over OTLP/HTTP: the tracer provider and the layer that feeds it.
pub struct Telemetry {
    provider: SdkTracerProvider,
}

impl fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Telemetry").finish_non_exhaustive()
    }
}

/// Why telemetry could not start.
#[derive(Debug)]
pub struct TelemetryError(String);

impl fmt::Display for TelemetryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OpenTelemetry export cannot start: {}", self.0)
    }
}

impl std::error::Error for TelemetryError {}

impl Telemetry {
    /// Export spans of service `service_name` to the OTLP/HTTP receiver the standard
    /// variables name: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (the full URL), else
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` followed by `/v1/traces`, else
    /// `http://localhost:4318/v1/traces`. Call it inside the Tokio runtime that serves
    /// the app: exports run on it.
    pub fn otlp(service_name: &str) -> Result<Self, TelemetryError> {
        Self::build(service_name, None)
    }

    /// Export spans of service `service_name` to `endpoint`, the receiver's full URL
    /// (`http://127.0.0.1:4318/v1/traces`).
    pub fn otlp_to(service_name: &str, endpoint: &str) -> Result<Self, TelemetryError> {
        Self::build(service_name, Some(endpoint))
    }

    fn build(service_name: &str, endpoint: Option<&str>) -> Result<Self, TelemetryError> {
        let handle = tokio::runtime::Handle::try_current().map_err(|_| {
            TelemetryError("call Telemetry::otlp inside the Tokio runtime".to_owned())
        })?;
        if let Some(endpoint) = endpoint {
            check_endpoint(endpoint)?;
        }
        let mut builder = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(Client { handle })
            .with_timeout(EXPORT_TIMEOUT);
        if let Some(endpoint) = endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        let exporter = builder.build().map_err(|e| TelemetryError(e.to_string()))?;
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(
                Resource::builder()
                    .with_service_name(service_name.to_owned())
                    .build(),
            )
            .build();
        Ok(Telemetry { provider })
    }

    /// The layer that turns `tracing` spans into OpenTelemetry spans for this exporter;
    /// add it to the app's subscriber.
    pub fn layer<S>(&self) -> impl tracing_subscriber::Layer<S> + 'static
    where
        S: tracing::Subscriber
            + for<'span> tracing_subscriber::registry::LookupSpan<'span>
            + Send
            + Sync,
    {
        tracing_opentelemetry::layer()
            .with_tracer(self.tracer())
            // What a span costs on every request: no source location (it would name
            // hasten's files), no thread, no target, no busy/idle clock and no
            // OpenTelemetry context switch on every poll (`inject` reads the context
            // through the span itself).
            .with_location(false)
            .with_threads(false)
            .with_target(false)
            .with_tracked_inactivity(false)
            .with_context_activation(false)
    }

    /// The tracer, for a `tracing-opentelemetry` layer configured otherwise than
    /// [`layer`](Telemetry::layer)'s.
    pub fn tracer(&self) -> opentelemetry_sdk::trace::SdkTracer {
        self.provider.tracer("hasten")
    }

    /// Send what is buffered now.
    pub fn flush(&self) {
        if let Err(e) = self.provider.force_flush() {
            tracing::warn!(target: "hasten::otel", error = %e, "span export failed");
        }
    }

    /// Send what is buffered and stop exporting.
    pub fn shutdown(self) {
        if let Err(e) = self.provider.shutdown() {
            tracing::warn!(target: "hasten::otel", error = %e, "span export failed at shutdown");
        }
    }
}

/// The exporter speaks plain HTTP/1.1 to its receiver.
fn check_endpoint(endpoint: &str) -> Result<(), TelemetryError> {
    let uri: http::Uri = endpoint
        .parse()
        .map_err(|e| TelemetryError(format!("the endpoint `{endpoint}` is not a URL: {e}")))?;
    if uri.scheme_str() != Some("http") || uri.host().is_none() {
        return Err(TelemetryError(format!(
            "the endpoint `{endpoint}` must be an http:// URL (put a collector with TLS in front)"
        )));
    }
    Ok(())
}

/// The OTLP exporter's HTTP client: each export is one HTTP/1.1 exchange on a new
/// connection, run on the app's runtime (the batch processor calls from a thread of
/// its own).
#[derive(Debug)]
struct Client {
    handle: tokio::runtime::Handle,
}

type Exchange<'a> = Pin<
    Box<
        dyn Future<Output = Result<http::Response<Bytes>, opentelemetry_http::HttpError>>
            + Send
            + 'a,
    >,
>;

impl opentelemetry_http::HttpClient for Client {
    fn send_bytes<'life0, 'async_trait>(
        &'life0 self,
        request: http::Request<Bytes>,
    ) -> Exchange<'async_trait>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        let exchange = self.handle.spawn(exchange(request));
        Box::pin(async move {
            exchange
                .await
                .map_err(|e| -> opentelemetry_http::HttpError { Box::new(e) })?
        })
    }
}

async fn exchange(
    request: http::Request<Bytes>,
) -> Result<http::Response<Bytes>, opentelemetry_http::HttpError> {
    use http_body_util::BodyExt as _;
    let uri = request.uri();
    let host = uri.host().ok_or("the endpoint has no host")?;
    let port = uri.port_u16().unwrap_or(80);
    let stream = tokio::net::TcpStream::connect((host, port)).await?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let authority = uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .unwrap_or_default();
    let (mut parts, body) = request.into_parts();
    if let Some(path) = parts.uri.path_and_query() {
        parts.uri = path.as_str().parse()?;
    }
    parts
        .headers
        .insert(http::header::HOST, HeaderValue::from_str(&authority)?);
    let resp = sender
        .send_request(http::Request::from_parts(
            parts,
            http_body_util::Full::new(body),
        ))
        .await?;
    let (parts, body) = resp.into_parts();
    let body = http_body_util::Limited::new(body, 4 << 20)
        .collect()
        .await?
        .to_bytes();
    Ok(http::Response::from_parts(parts, body))
}

/// Make `span` a child of the caller's span when `headers` carry a valid W3C
/// `traceparent`.
pub(crate) fn continue_trace(span: &tracing::Span, headers: &HeaderMap) {
    if !headers.contains_key("traceparent") {
        return;
    }
    let parent = TraceContextPropagator::new().extract(&Headers(headers));
    if opentelemetry::trace::TraceContextExt::has_active_span(&parent) {
        let _ = span.set_parent(parent);
    }
}

/// Write the current span's trace context (`traceparent`, and `tracestate` when there
/// is one) into `headers`, for an outgoing call that should continue the trace.
///
/// ```
/// let mut headers = hasten::HeaderMap::new();
/// hasten::otel::inject(&mut headers);
/// // Outside a traced span there is nothing to pass on.
/// assert!(headers.get("traceparent").is_none());
/// ```
pub fn inject(headers: &mut HeaderMap) {
    let cx = tracing::Span::current().context();
    TraceContextPropagator::new().inject_context(&cx, &mut HeadersMut(headers));
}

struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

struct HeadersMut<'a>(&'a mut HeaderMap);

impl Injector for HeadersMut<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}
