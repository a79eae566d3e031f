//! Background tasks run after the last byte of the response, in order; a failing or
//! panicking task does not stop the next one; shutdown waits for them.

use std::sync::Arc;
use std::time::Duration;

use hasten::body::Body;
use hasten::prelude::*;
use hasten::Server;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::time::timeout;

use crate::common::{gated_body, Events, BOUND};

fn explode() {
    panic!("task 2 exploded")
}

#[get("/stream")]
async fn stream(events: State<Events>, tasks: BackgroundTasks) -> Body {
    events.push("handler");
    let log = events.0.clone();
    tasks.spawn(async move { log.push("task 1") });
    tasks.spawn(async { explode() });
    let log = events.0.clone();
    tasks.spawn(async move {
        log.push("task 3");
        Err::<(), _>("task 3 failed after logging")
    });
    let log = events.0.clone();
    tasks.spawn_blocking(move || log.push("task 4 (blocking)"));

    gated_body(events.0.clone())
}

#[get("/plain")]
async fn plain(events: State<Events>, tasks: BackgroundTasks) -> &'static str {
    let log = events.0.clone();
    tasks.spawn(async move { log.push("after plain") });
    "plain"
}

#[get("/slow-task")]
async fn slow_task(events: State<Events>, tasks: BackgroundTasks) -> &'static str {
    let log = events.0.clone();
    tasks.spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        log.push("slow task done");
    });
    "queued"
}

/// A dependency whose cleanup takes a while.
#[dependency]
async fn slow_cleanup(events: State<Events>) -> hasten::depends::Cleanup<()> {
    let log = events.0.clone();
    hasten::depends::Cleanup::new((), move |_, _| async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        log.push("slow cleanup done");
    })
}

#[get("/slow-cleanup")]
async fn with_slow_cleanup(_dep: Depends<slow_cleanup>) -> &'static str {
    "cleaned"
}

fn app(events: Arc<Events>) -> App {
    App::new()
        .route(stream)
        .route(plain)
        .route(slow_task)
        .route(with_slow_cleanup)
        .state_arc(events)
}

#[tokio::test]
async fn the_test_client_returns_after_the_requests_tasks_and_cleanups() {
    let events = Arc::new(Events::default());
    let client = hasten::testing::TestClient::new(app(events.clone()));
    // Read at once, with no waiting: the task sleeps 300 ms, the cleanup 200 ms.
    let resp = client.get("/slow-task").send().await;
    assert_eq!(resp.text(), "queued");
    assert_eq!(events.snapshot(), ["slow task done"]);
    let resp = client.get("/slow-cleanup").send().await;
    assert_eq!(resp.text(), "cleaned");
    assert_eq!(events.snapshot(), ["slow task done", "slow cleanup done"]);
    // Over HTTP/2 too.
    client.get("/slow-task").http2().send().await;
    assert_eq!(events.snapshot().len(), 3);
    // A request with no post-response work is not held up.
    assert_eq!(client.get("/plain").send().await.text(), "plain");
}

async fn start(
    events: Arc<Events>,
) -> (
    std::net::SocketAddr,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let server = Server::bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(
        server
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .serve(app(events)),
    );
    (addr, tx, task)
}

#[tokio::test]
async fn tasks_start_only_after_the_last_byte_and_survive_failures() {
    let events = Arc::new(Events::default());
    let (addr, _stop, _task) = start(events.clone()).await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /stream HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();

    // Read until the first chunk arrived: the response is under way, not finished.
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    timeout(BOUND, async {
        while !String::from_utf8_lossy(&got).contains("first|") {
            let n = s.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed early");
            got.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        events.snapshot(),
        vec!["handler"],
        "a task ran before the body ended"
    );

    // Let the body finish; the tasks follow, in order, past the panic and the error.
    events.release_body.notify_one();
    timeout(BOUND, s.read_to_end(&mut got))
        .await
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&got).contains("last"));
    assert_eq!(
        events.wait_for(4).await,
        vec!["handler", "task 1", "task 3", "task 4 (blocking)"]
    );

    // The same server is still serving, its background tasks too.
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /plain HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut resp = Vec::new();
    timeout(BOUND, s.read_to_end(&mut resp))
        .await
        .unwrap()
        .unwrap();
    let resp = String::from_utf8_lossy(&resp);
    assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp}");
    assert!(resp.ends_with("\r\n\r\nplain"), "{resp}");
    assert_eq!(events.wait_for(5).await.last().unwrap(), "after plain");
}

#[tokio::test]
async fn a_client_that_disconnects_still_gets_its_tasks_run() {
    let events = Arc::new(Events::default());
    let (addr, _stop, _task) = start(events.clone()).await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /stream HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let _ = timeout(BOUND, s.read(&mut buf)).await.unwrap();
    drop(s);
    // The body is never released: only its drop with the connection can start the tasks.
    let log = events.wait_for(4).await;
    assert_eq!(&log[1..], ["task 1", "task 3", "task 4 (blocking)"]);
}

#[tokio::test]
async fn graceful_shutdown_waits_for_a_slow_task() {
    let events = Arc::new(Events::default());
    let (addr, stop, task) = start(events.clone()).await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /slow-task HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut got = Vec::new();
    timeout(BOUND, s.read_to_end(&mut got))
        .await
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&got).ends_with("queued"));

    stop.send(()).unwrap();
    timeout(BOUND, task).await.unwrap().unwrap().unwrap();
    // serve() returned only after the task finished.
    assert_eq!(events.snapshot(), vec!["slow task done"]);
}
