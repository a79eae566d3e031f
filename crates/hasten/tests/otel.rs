//! Traces at a real OTLP/HTTP receiver: the app's spans are exported by `Telemetry`,
//! received by a server built on `opentelemetry-proto`, and checked: one trace per
//! request, with the validation, dependency, handler and background spans as children
//! of the request's span, and an incoming `traceparent` honoured.

#![cfg(feature = "otel")]

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hasten::otel::Telemetry;
use hasten::prelude::*;
use hasten::Server;
use http_body_util::BodyExt as _;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tracing_subscriber::prelude::*;

const BOUND: Duration = Duration::from_secs(15);

/// What the receiver got: every span, with its service name.
#[derive(Default)]
struct Received {
    spans: Mutex<Vec<(String, Span)>>,
}

/// An OTLP/HTTP receiver on 127.0.0.1: decodes each export request, answers 200.
async fn receiver() -> (String, Arc<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let received = Arc::new(Received::default());
    let store = received.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let store = store.clone();
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                        let store = store.clone();
                        async move {
                            assert_eq!(req.uri().path(), "/v1/traces");
                            assert_eq!(req.headers()["content-type"], "application/x-protobuf");
                            let body = req.into_body().collect().await.unwrap().to_bytes();
                            let export = ExportTraceServiceRequest::decode(body).unwrap();
                            let mut spans = store.spans.lock().unwrap();
                            for resource in export.resource_spans {
                                let service = resource
                                    .resource
                                    .iter()
                                    .flat_map(|r| &r.attributes)
                                    .find(|kv| kv.key == "service.name")
                                    .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
                                        AnyValue::StringValue(s) => Some(s.clone()),
                                        _ => None,
                                    })
                                    .unwrap_or_default();
                                for scope in resource.scope_spans {
                                    for span in scope.spans {
                                        spans.push((service.clone(), span));
                                    }
                                }
                            }
                            Ok::<_, Infallible>(http::Response::new(http_body_util::Full::new(
                                hasten::Bytes::new(),
                            )))
                        }
                    });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (format!("http://{addr}/v1/traces"), received)
}

struct Db;

#[dependency]
async fn db() -> Db {
    tokio::time::sleep(Duration::from_millis(5)).await;
    Db
}

#[get("/items/{item_id}")]
async fn item(
    #[path(ge = 1)] item_id: u32,
    _db: Depends<db>,
    tasks: BackgroundTasks,
) -> Json<serde_json::Value> {
    tasks.spawn(async { Ok::<(), String>(()) });
    // What an outgoing call from here would carry.
    let mut outgoing = hasten::HeaderMap::new();
    hasten::otel::inject(&mut outgoing);
    let traceparent = outgoing
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Json(serde_json::json!({ "item_id": item_id, "traceparent": traceparent }))
}

fn attr(span: &Span, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
            AnyValue::StringValue(s) => Some(s.clone()),
            AnyValue::IntValue(i) => Some(i.to_string()),
            _ => None,
        })
}

async fn get(addr: std::net::SocketAddr, path: &str, extra: &str) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: t\r\n{extra}Connection: close\r\n\r\n");
    s.write_all(request.as_bytes()).await.unwrap();
    let mut out = String::new();
    tokio::time::timeout(BOUND, s.read_to_string(&mut out))
        .await
        .unwrap()
        .unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traces_arrive_at_an_otlp_receiver_with_their_children_and_the_callers_parent() {
    let (endpoint, received) = receiver().await;
    let telemetry = Telemetry::otlp_to("items-service", &endpoint).unwrap();
    tracing_subscriber::registry()
        .with(telemetry.layer())
        .init();

    let server = Server::bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr().unwrap();
    let app = App::new().route(item).tracing().request_ids();
    let served = tokio::spawn(server.serve(app));

    // A caller's trace, continued; then a request that starts its own.
    let caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let traced = get(
        addr,
        "/items/7",
        &format!("traceparent: 00-{caller_trace}-{caller_span}-01\r\n"),
    )
    .await;
    assert!(traced.starts_with("HTTP/1.1 200"), "{traced}");
    let fresh = get(addr, "/items/8", "").await;
    assert!(fresh.starts_with("HTTP/1.1 200"), "{fresh}");
    // Invalid input: validation fails, the handler never runs.
    let invalid = get(addr, "/items/0", "").await;
    assert!(invalid.starts_with("HTTP/1.1 422"), "{invalid}");

    // Wait (bounded) for the background tasks' spans to close, then export.
    let all = tokio::time::timeout(BOUND, async {
        loop {
            telemetry_flush(&telemetry).await;
            let spans = received.spans.lock().unwrap().clone();
            let background = spans.iter().filter(|(_, s)| s.name == "background").count();
            let requests = spans.iter().filter(|(_, s)| s.name == "request").count();
            if background >= 2 && requests >= 3 {
                return spans;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("the receiver never got the spans");
    let spans = all;
    assert!(spans.iter().all(|(service, _)| service == "items-service"));

    // One trace per request.
    let mut traces: HashMap<Vec<u8>, Vec<&Span>> = HashMap::new();
    for (_, span) in &spans {
        traces.entry(span.trace_id.clone()).or_default().push(span);
    }
    assert_eq!(traces.len(), 3, "{:#?}", spans);
    for trace in traces.values() {
        let requests: Vec<_> = trace.iter().filter(|s| s.name == "request").collect();
        assert_eq!(requests.len(), 1, "one request span per trace: {trace:#?}");
    }

    // The caller's trace: the request span is the caller span's child.
    let caller = traces
        .get(&hex(caller_trace))
        .expect("the incoming traceparent was not honoured");
    let request = caller.iter().find(|s| s.name == "request").unwrap();
    assert_eq!(request.parent_span_id, hex(caller_span));
    assert_eq!(attr(request, "route").as_deref(), Some("/items/{item_id}"));
    assert_eq!(attr(request, "method").as_deref(), Some("GET"));
    assert_eq!(attr(request, "status").as_deref(), Some("200"));
    assert!(attr(request, "request_id").is_some());
    let children: Vec<(&str, Option<String>)> = caller
        .iter()
        .filter(|s| s.parent_span_id == request.span_id)
        .map(|s| {
            (
                s.name.as_str(),
                attr(s, "name").or_else(|| attr(s, "outcome")),
            )
        })
        .collect();
    for expected in [
        ("validation", None),
        ("dependency", Some("db".to_owned())),
        ("handler", Some("item".to_owned())),
        ("background", Some("ok".to_owned())),
    ] {
        assert!(
            children.contains(&expected),
            "no {expected:?} under the request span: {children:?}"
        );
    }

    // An outgoing call from the handler continues the trace, with the handler's span
    // as its parent.
    let handler = caller.iter().find(|s| s.name == "handler").unwrap();
    let passed_on = format!(
        "00-{caller_trace}-{}-01",
        handler
            .span_id
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    assert!(
        traced.ends_with(&format!(r#""traceparent":"{passed_on}"}}"#)),
        "{traced}"
    );

    // The request without a traceparent starts a trace of its own (no parent).
    let own: Vec<_> = traces
        .values()
        .filter_map(|t| t.iter().find(|s| s.name == "request"))
        .filter(|s| s.parent_span_id.is_empty())
        .collect();
    assert_eq!(own.len(), 2, "{own:#?}");
    // The 422: validation ran, the handler did not.
    let refused = traces
        .values()
        .find(|t| {
            t.iter()
                .any(|s| attr(s, "status").as_deref() == Some("422"))
        })
        .unwrap();
    assert!(refused.iter().any(|s| s.name == "validation"));
    assert!(!refused.iter().any(|s| s.name == "handler"), "{refused:#?}");

    served.abort();
    tokio::task::spawn_blocking(move || telemetry.shutdown())
        .await
        .unwrap();
}

/// Flush the exporter from a blocking thread (the batch processor waits for the
/// export, which runs on this runtime).
async fn telemetry_flush(telemetry: &Telemetry) {
    tokio::task::block_in_place(|| telemetry.flush());
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[tokio::test]
async fn an_endpoint_the_exporter_cannot_speak_to_is_refused_at_start() {
    let err = Telemetry::otlp_to("svc", "https://collector:4318/v1/traces").unwrap_err();
    assert!(
        err.to_string()
            .contains("the endpoint `https://collector:4318/v1/traces` must be an http:// URL"),
        "{err}"
    );
    let err = Telemetry::otlp_to("svc", "not a url").unwrap_err();
    assert!(err.to_string().contains("is not a URL"), "{err}");
}
