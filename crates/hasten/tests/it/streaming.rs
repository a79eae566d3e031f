//! Streamed responses: exact SSE and JSON Lines bytes, the keep-alive ping,
//! back-pressure from a slow reader, and a disconnect stopping the producer.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hasten::prelude::*;
use hasten::streaming::{stream, AnyStream, Event, JsonLines, Sse, StreamExt, StreamingResponse};
use hasten::testing::TestClient;
use hasten::{HeaderValue, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[get("/sse")]
async fn sse() -> Sse<impl AnyStream<Item = Event> + Send> {
    Sse::new(stream::iter([
        Event::json(&serde_json::json!({"n": 1}))
            .event("tick")
            .id("1"),
        Event::raw("two\nlines").retry(Duration::from_secs(3)),
        Event::comment("just a comment"),
    ]))
}

#[get("/quiet")]
async fn quiet() -> Sse<impl AnyStream<Item = Event> + Send> {
    // One event, 20 s of nothing, one more: one ping in between.
    let first = stream::iter([Event::raw("first")]);
    let later = stream::once(async {
        tokio::time::sleep(Duration::from_secs(20)).await;
        Event::raw("second")
    });
    Sse::new(first.chain(later))
}

#[get("/items.jsonl")]
async fn items() -> JsonLines<impl AnyStream<Item = serde_json::Value> + Send> {
    JsonLines::new(stream::iter(
        (1..=3).map(|i| serde_json::json!({"id": i, "name": format!("item {i}")})),
    ))
}

/// Counts what the producer made and notices when it is dropped.
#[derive(Default)]
struct Producer {
    made: AtomicUsize,
    dropped: AtomicBool,
}

struct DropFlag(Arc<Producer>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.dropped.store(true, Ordering::SeqCst);
    }
}

/// An endless stream of 1 KiB events.
#[get("/firehose")]
async fn firehose(producer: State<Producer>) -> Sse<impl AnyStream<Item = Event> + Send> {
    let producer = producer.0.clone();
    let flag = DropFlag(producer.clone());
    let chunk = "x".repeat(1024);
    Sse::new(stream::repeat(()).map(move |()| {
        let _keep = &flag;
        producer.made.fetch_add(1, Ordering::SeqCst);
        Event::raw(chunk.clone())
    }))
}

#[get("/bytes")]
async fn bytes() -> StreamingResponse {
    let chunks =
        stream::iter(["a", "b", "c"]).map(|s| Ok::<_, std::io::Error>(s.as_bytes().to_vec()));
    StreamingResponse::new(chunks).content_type(HeaderValue::from_static("text/plain"))
}

fn app() -> App {
    app_with(Arc::default())
}

fn app_with(producer: Arc<Producer>) -> App {
    App::new()
        .state_arc(producer)
        .route(sse)
        .route(quiet)
        .route(items)
        .route(firehose)
        .route(bytes)
}

#[tokio::test]
async fn sse_frames_and_headers_are_exact() {
    let resp = TestClient::new(app()).get("/sse").send().await;
    assert_eq!(
        resp.header("content-type"),
        Some("text/event-stream; charset=utf-8")
    );
    assert_eq!(resp.header("cache-control"), Some("no-cache"));
    assert_eq!(resp.header("x-accel-buffering"), Some("no"));
    assert_eq!(
        resp.text(),
        "event: tick\ndata: {\"n\":1}\nid: 1\n\n\
         data: two\ndata: lines\nretry: 3000\n\n\
         : just a comment\n\n"
    );
}

#[tokio::test(start_paused = true)]
async fn a_quiet_stream_gets_a_ping_every_15_seconds() {
    let resp = TestClient::new(app()).get("/quiet").send().await;
    assert_eq!(resp.text(), "data: first\n\n: ping\n\ndata: second\n\n");
}

#[tokio::test]
async fn json_lines_are_exact() {
    let resp = TestClient::new(app()).get("/items.jsonl").send().await;
    assert_eq!(resp.header("content-type"), Some("application/jsonl"));
    assert_eq!(
        resp.text(),
        "{\"id\":1,\"name\":\"item 1\"}\n{\"id\":2,\"name\":\"item 2\"}\n{\"id\":3,\"name\":\"item 3\"}\n"
    );
}

#[tokio::test]
async fn any_byte_stream_can_be_the_body() {
    let resp = TestClient::new(app()).get("/bytes").send().await;
    assert_eq!(resp.header("content-type"), Some("text/plain"));
    assert_eq!(resp.text(), "abc");
}

#[tokio::test]
async fn a_slow_reader_holds_the_producer_back_and_a_disconnect_stops_it() {
    let server = Server::bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr().unwrap();
    let producer = Arc::new(Producer::default());
    tokio::spawn(server.serve(app_with(producer.clone())));
    let mut client = TcpStream::connect(addr).await.unwrap();
    client
        .write_all(b"GET /firehose HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut head = [0u8; 256];
    let _ = client.read(&mut head).await.unwrap();

    // The client reads nothing more: once the socket buffers are full, production
    // stops, however long we wait.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let first = producer.made.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let second = producer.made.load(Ordering::SeqCst);
    assert!(first > 0, "the stream started");
    assert!(
        second - first <= 4,
        "production went on without a reader: {first} then {second} events"
    );
    // Bounded by the socket buffers, not by the stream: a few MiB at most.
    assert!(
        second < 16 * 1024,
        "{second} KiB produced for an idle reader"
    );

    // The client goes away: the stream is dropped.
    drop(client);
    let stopped = tokio::time::timeout(Duration::from_secs(10), async {
        while !producer.dropped.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(
        stopped.is_ok(),
        "the producer was not dropped after the disconnect"
    );
}
