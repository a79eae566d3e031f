//! The metrics endpoint: what each metric counts, labelled by route template so the
//! series stay bounded, and the figures read from the server at scrape time.

use std::sync::Arc;
use std::time::Duration;

use hasten::background::BackgroundTasks;
use hasten::prelude::*;
use hasten::streaming::{stream, StreamExt, StreamingResponse};
use hasten::testing::TestClient;
use hasten::ws::{Message, WebSocket};
use hasten::Server;

use crate::common::{raw_exchange, BOUND};

#[get("/items/{item_id}")]
async fn item(item_id: u32) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "item_id": item_id }))
}

#[post("/echo")]
async fn echo(body: Json<String>) -> Json<String> {
    body
}

#[get("/chunks")]
async fn chunks() -> StreamingResponse {
    let parts = stream::iter(["ab", "cde"]).map(|s| Ok::<_, std::io::Error>(s.as_bytes().to_vec()));
    StreamingResponse::new(parts)
}

#[get("/work")]
async fn work(tasks: BackgroundTasks) -> &'static str {
    tasks.spawn(async { Ok::<(), String>(()) });
    tasks.spawn(async { Err::<(), String>("the mail server refused".into()) });
    tasks.spawn(async {
        panic!("a bug in a task");
        #[allow(unreachable_code)]
        Ok::<(), String>(())
    });
    "queued"
}

#[get("/slow")]
async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_millis(400)).await;
    "done"
}

/// Holds a blocking-pool thread until the test lets it go.
#[derive(Default)]
struct Gate(std::sync::Mutex<bool>, std::sync::Condvar);

#[get("/hold")]
fn hold(gate: State<Gate>) -> &'static str {
    let gate: &Gate = &gate;
    let mut open = gate.0.lock().unwrap();
    let deadline = std::time::Instant::now() + BOUND;
    while !*open && std::time::Instant::now() < deadline {
        open = gate
            .1
            .wait_timeout(open, Duration::from_millis(50))
            .unwrap()
            .0;
    }
    "released"
}

#[websocket("/ws")]
async fn ws(mut socket: WebSocket) {
    if socket.accept().await.is_err() {
        return;
    }
    while let Ok(Message::Text(t)) = socket.receive().await {
        if socket.send_text(t).await.is_err() {
            return;
        }
    }
}

fn app() -> App {
    App::new()
        .route(item)
        .route(echo)
        .route(chunks)
        .route(work)
        .route(slow)
        .route(ws)
        .health("/health")
        .metrics("/metrics")
        .mount(
            "/static",
            hasten::files::StaticFiles::new(std::env::temp_dir().join("hasten-metrics-none")),
        )
}

/// The value of the series written exactly as `series` (name and labels), if any.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        let rest = line.strip_prefix(series)?;
        rest.strip_prefix(' ')?.trim().parse().ok()
    })
}

fn must(text: &str, series: &str) -> f64 {
    value(text, series).unwrap_or_else(|| panic!("no `{series}` in:\n{text}"))
}

#[tokio::test]
async fn requests_are_counted_timed_and_sized_by_route_template() {
    let c = TestClient::new(app());
    for id in [1, 2, 3] {
        assert_eq!(c.get(&format!("/items/{id}")).send().await.status(), 200);
    }
    assert_eq!(c.get("/items/nope").send().await.status(), 422);
    assert_eq!(c.get("/nowhere/1").send().await.status(), 404);
    assert_eq!(c.get("/nowhere/2").send().await.status(), 404);
    assert_eq!(c.delete("/items/1").send().await.status(), 405);
    let resp = c
        .request(hasten::Method::from_bytes(b"BREW").unwrap(), "/items/1")
        .send()
        .await;
    assert_eq!(resp.status(), 405);
    // A JSON string of 300 bytes, quotes included, both ways.
    let text = format!("\"{}\"", "x".repeat(298));
    let resp = c
        .post("/echo")
        .header("content-type", "application/json")
        .body(text)
        .send()
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(c.get("/chunks").send().await.text(), "abcde");
    assert_eq!(c.get("/health").send().await.status(), 200);
    assert_eq!(c.get("/openapi.json").send().await.status(), 200);
    // Two files of a mounted app (missing ones: 404 from the mount), one series.
    assert_eq!(c.get("/static/a.txt").send().await.status(), 404);
    assert_eq!(c.get("/static/b/c.txt").send().await.status(), 404);

    let resp = c.get("/metrics").send().await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.header("content-type"),
        Some("text/plain; version=0.0.4")
    );
    let text = resp.text();
    // One series per template and status, whatever the raw paths were.
    let ok = r#"http_requests_total{method="GET",route="/items/{item_id}",status="200"}"#;
    assert_eq!(must(&text, ok), 3.0);
    let invalid = r#"http_requests_total{method="GET",route="/items/{item_id}",status="422"}"#;
    assert_eq!(must(&text, invalid), 1.0);
    let unmatched = r#"http_requests_total{method="GET",route="<unmatched>",status="404"}"#;
    assert_eq!(must(&text, unmatched), 2.0);
    assert!(
        !text.contains("/nowhere"),
        "a raw path became a label:\n{text}"
    );
    // An unknown method cannot make a series of its own.
    let other = r#"http_requests_total{method="OTHER",route="<unmatched>",status="405"}"#;
    assert_eq!(must(&text, other), 1.0);
    assert!(!text.contains("BREW"), "{text}");
    let probe = r#"http_requests_total{method="GET",route="/health",status="200"}"#;
    assert_eq!(must(&text, probe), 1.0);
    let docs = r#"http_requests_total{method="GET",route="/openapi.json",status="200"}"#;
    assert_eq!(must(&text, docs), 1.0);
    let mounted = r#"http_requests_total{method="GET",route="/static",status="404"}"#;
    assert_eq!(must(&text, mounted), 2.0);
    assert!(!text.contains("a.txt"), "{text}");

    // The latency histogram, per route template.
    let count = r#"http_request_duration_seconds_count{method="GET",route="/items/{item_id}"}"#;
    assert_eq!(must(&text, count), 4.0);
    let inf =
        r#"http_request_duration_seconds_bucket{method="GET",route="/items/{item_id}",le="+Inf"}"#;
    assert_eq!(must(&text, inf), 4.0);

    // Sizes: the declared request body, the response body whether its length was known
    // up front or streamed.
    let req = r#"http_request_size_bytes_sum{method="POST",route="/echo"}"#;
    assert_eq!(must(&text, req), 300.0);
    let resp_size = r#"http_response_size_bytes_sum{method="POST",route="/echo"}"#;
    assert_eq!(must(&text, resp_size), 300.0);
    let streamed = r#"http_response_size_bytes_sum{method="GET",route="/chunks"}"#;
    assert_eq!(must(&text, streamed), 5.0);

    // The scrape itself is in flight while it is rendered, and nothing else is.
    assert_eq!(must(&text, "http_requests_in_flight"), 1.0);
    // The metrics endpoint is not part of the API.
    let doc = c
        .get("/openapi.json")
        .send()
        .await
        .json::<serde_json::Value>();
    assert!(doc["paths"].get("/metrics").is_none(), "{doc}");
    let resp = c.post("/metrics").send().await;
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.header("allow"), Some("GET, HEAD"));
}

#[tokio::test]
async fn background_outcomes_websockets_and_the_blocking_pool_are_counted() {
    let c = TestClient::new(app());
    // The test client waits for the request's background tasks.
    assert_eq!(c.get("/work").send().await.text(), "queued");
    let mut socket = c.websocket("/ws").connect().await.unwrap();
    socket.send_text("one").await;
    assert_eq!(socket.receive_text().await, "one");
    socket.send_text("two").await;
    assert_eq!(socket.receive_text().await, "two");

    let text = c.get("/metrics").send().await.text();
    for outcome in ["ok", "error", "panic"] {
        let series = format!(r#"hasten_background_tasks_total{{outcome="{outcome}"}}"#);
        assert_eq!(must(&text, &series), 1.0, "{outcome}");
    }
    assert_eq!(must(&text, "hasten_websocket_connections_open"), 1.0);
    let received = r#"hasten_websocket_messages_total{direction="received"}"#;
    assert_eq!(must(&text, received), 2.0);
    let sent = r#"hasten_websocket_messages_total{direction="sent"}"#;
    assert_eq!(must(&text, sent), 2.0);
    assert!(must(&text, "hasten_blocking_threads_max") >= 1.0);
    assert_eq!(must(&text, "hasten_blocking_threads_busy"), 0.0);
    assert_eq!(must(&text, "hasten_blocking_waiting"), 0.0);

    socket.close(1000, "bye").await;
    // Bounded wait for the server side of the socket to end.
    let closed = tokio::time::timeout(BOUND, async {
        loop {
            let text = c.get("/metrics").send().await.text();
            if value(&text, "hasten_websocket_connections_open") == Some(0.0) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(closed.is_ok(), "the closed WebSocket is still counted open");
}

#[tokio::test]
async fn open_connections_and_requests_in_flight_are_read_from_the_server() {
    let server = Server::bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(
        server
            .max_connections(64)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .serve(app()),
    );
    // Two requests held open by the handler, each on its own connection.
    let slow = |_| {
        tokio::spawn(raw_exchange(
            addr,
            b"GET /slow HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        ))
    };
    let held: Vec<_> = (0..2).map(slow).collect();
    tokio::time::sleep(Duration::from_millis(150)).await;
    let text = raw_exchange(
        addr,
        b"GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert_eq!(must(&text, "hasten_connections_max"), 64.0);
    assert_eq!(must(&text, "hasten_connections_open"), 3.0);
    assert_eq!(must(&text, "http_requests_in_flight"), 3.0);
    for h in held {
        let answer = tokio::time::timeout(BOUND, h).await.unwrap().unwrap();
        assert!(answer.ends_with("done"), "{answer}");
    }
    stop.send(()).unwrap();
    tokio::time::timeout(BOUND, task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_saturated_blocking_pool_shows_busy_threads_and_waiting_work() {
    let gate = Arc::new(Gate::default());
    let c = Arc::new(TestClient::new(
        app()
            .route(hold)
            .state_arc(gate.clone())
            .blocking_threads(2),
    ));
    // Three plain handlers for two threads: two run, one waits.
    let held: Vec<_> = (0..3)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.get("/hold").send().await.text() })
        })
        .collect();
    let saturated = tokio::time::timeout(BOUND, async {
        loop {
            let text = c.get("/metrics").send().await.text();
            if value(&text, "hasten_blocking_waiting") == Some(1.0) {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the third call never waited for the pool");
    assert_eq!(must(&saturated, "hasten_blocking_threads_max"), 2.0);
    assert_eq!(must(&saturated, "hasten_blocking_threads_busy"), 2.0);
    *gate.0.lock().unwrap() = true;
    gate.1.notify_all();
    for h in held {
        let text = tokio::time::timeout(BOUND, h).await.unwrap().unwrap();
        assert_eq!(text, "released");
    }
    let text = c.get("/metrics").send().await.text();
    assert_eq!(must(&text, "hasten_blocking_threads_busy"), 0.0);
    assert_eq!(must(&text, "hasten_blocking_waiting"), 0.0);
}

#[tokio::test]
async fn the_metrics_path_cannot_shadow_an_operation() {
    let err = App::new()
        .route(item)
        .metrics("/items/{item_id}")
        .build()
        .unwrap_err()
        .to_string();
    assert!(err.contains("the metrics path"), "{err}");
    let err = App::new()
        .metrics("metrics")
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("the metrics path `metrics` must start with `/`"),
        "{err}"
    );
}
