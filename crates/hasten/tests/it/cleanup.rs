//! Dependency cleanups (FastAPI's `yield` dependencies): the exact order around the
//! response and background tasks, both scopes, and exactly-once on every outcome.

use std::sync::Arc;
use std::time::Duration;

use hasten::body::Body;
use hasten::depends::{Cleanup, Outcome};
use hasten::prelude::*;
use hasten::Server;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use crate::common::{gated_body, Events, BOUND};

fn describe(outcome: Outcome) -> String {
    match outcome {
        Outcome::Completed(s) => format!("completed {}", s.as_u16()),
        Outcome::Failed(s) => format!("failed {}", s.as_u16()),
        Outcome::Panicked => "panicked".to_owned(),
        Outcome::Disconnected => "disconnected".to_owned(),
        _ => "other".to_owned(),
    }
}

#[dependency]
async fn dep_a(events: State<Events>, tasks: BackgroundTasks) -> Cleanup<&'static str> {
    events.push("setup a");
    let log = events.0.clone();
    tasks.spawn(async move { log.push("task from dependency") });
    let log = events.0.clone();
    Cleanup::new("a", move |_, outcome| async move {
        log.push(format!("cleanup a: {}", describe(outcome)))
    })
}

#[dependency]
async fn dep_b(a: Depends<dep_a>, events: State<Events>) -> Cleanup<String> {
    events.push("setup b");
    let log = events.0.clone();
    Cleanup::new(
        format!("b after {}", *a),
        move |value, outcome| async move {
            log.push(format!("cleanup b ({value}): {}", describe(outcome)))
        },
    )
}

#[dependency]
async fn dep_early(events: State<Events>) -> Cleanup<()> {
    events.push("setup early");
    let log = events.0.clone();
    Cleanup::new((), move |_, outcome| async move {
        log.push(format!("cleanup early: {}", describe(outcome)))
    })
    .before_response()
}

#[get("/order")]
async fn order(_b: Depends<dep_b>, events: State<Events>, tasks: BackgroundTasks) -> Body {
    events.push("handler");
    let log = events.0.clone();
    tasks.spawn(async move { log.push("task from endpoint") });
    gated_body(events.0.clone())
}

#[get("/early")]
async fn early(_e: Depends<dep_early>, events: State<Events>, tasks: BackgroundTasks) -> Body {
    events.push("handler");
    let log = events.0.clone();
    tasks.spawn(async move { log.push("task") });
    gated_body(events.0.clone())
}

#[get("/error")]
async fn error(_a: Depends<dep_a>) -> Result<String, HttpError> {
    Err(HttpError::new(StatusCode::NOT_FOUND, "Item not found"))
}

#[get("/panic")]
async fn panics(_a: Depends<dep_a>) -> String {
    panic!("handler exploded")
}

#[get("/invalid")]
async fn invalid(_a: Depends<dep_a>, limit: u8) -> String {
    limit.to_string()
}

fn app(events: Arc<Events>) -> App {
    App::new()
        .route(order)
        .route(early)
        .route(error)
        .route(panics)
        .route(invalid)
        .state_arc(events)
}

async fn start(events: Arc<Events>) -> std::net::SocketAddr {
    let server = Server::bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr().unwrap();
    tokio::spawn(
        server
            .with_graceful_shutdown(std::future::pending())
            .serve(app(events)),
    );
    addr
}

/// A server, and how to stop it: send on the channel, then await the task (graceful
/// shutdown waits for every cleanup, so counting after it is final).
async fn start_stoppable(
    events: Arc<Events>,
) -> (
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let server = Server::bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(
        server
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .serve(app(events)),
    );
    (addr, stop, task)
}

/// GET `path` over TCP: the status line.
async fn status_of(addr: std::net::SocketAddr, path: &str) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut got = Vec::new();
    timeout(BOUND, s.read_to_end(&mut got))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&got).into_owned();
    text.lines().next().unwrap_or_default().to_owned()
}

/// Send a GET and read until the first chunk of the body arrived.
async fn open(addr: std::net::SocketAddr, path: &str) -> (TcpStream, Vec<u8>) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
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
    (s, got)
}

#[tokio::test]
async fn setup_handler_body_tasks_then_cleanups_in_reverse() {
    let events = Arc::new(Events::default());
    let addr = start(events.clone()).await;
    let (mut s, mut got) = open(addr, "/order").await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    // The body is not complete: nothing after the handler has run.
    assert_eq!(events.snapshot(), vec!["setup a", "setup b", "handler"]);

    events.release_body.notify_one();
    timeout(BOUND, s.read_to_end(&mut got))
        .await
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&got).contains("last"));
    assert_eq!(
        events.wait_for(7).await,
        vec![
            "setup a",
            "setup b",
            "handler",
            "task from dependency",
            "task from endpoint",
            "cleanup b (b after a): completed 200",
            "cleanup a: completed 200",
        ]
    );
}

#[tokio::test]
async fn a_before_response_cleanup_runs_before_the_body_is_sent() {
    let events = Arc::new(Events::default());
    let addr = start(events.clone()).await;
    let (mut s, mut got) = open(addr, "/early").await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        events.snapshot(),
        vec!["setup early", "handler", "cleanup early: completed 200"]
    );
    events.release_body.notify_one();
    timeout(BOUND, s.read_to_end(&mut got))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(events.wait_for(4).await[3], "task");
}

/// The cleanups that ran, counted once the server has shut down: graceful shutdown
/// waits for all of them, so a second run of any would be in the list.
async fn cleanup_lines_after_shutdown(
    events: &Events,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
) -> Vec<String> {
    stop.send(()).unwrap();
    timeout(BOUND, task).await.unwrap().unwrap().unwrap();
    events
        .snapshot()
        .into_iter()
        .filter(|e| e.starts_with("cleanup"))
        .collect()
}

#[tokio::test]
async fn cleanup_runs_once_and_sees_an_error_response() {
    let events = Arc::new(Events::default());
    let (addr, stop, task) = start_stoppable(events.clone()).await;
    assert_eq!(status_of(addr, "/error").await, "HTTP/1.1 404 Not Found");
    assert_eq!(
        cleanup_lines_after_shutdown(&events, stop, task).await,
        vec!["cleanup a: failed 404"]
    );
}

#[tokio::test]
async fn cleanup_runs_once_and_sees_a_panic() {
    let events = Arc::new(Events::default());
    let (addr, stop, task) = start_stoppable(events.clone()).await;
    assert_eq!(
        status_of(addr, "/panic").await,
        "HTTP/1.1 500 Internal Server Error"
    );
    assert_eq!(
        cleanup_lines_after_shutdown(&events, stop, task).await,
        vec!["cleanup a: panicked"]
    );
}

#[tokio::test]
async fn cleanup_runs_once_and_sees_invalid_input() {
    let events = Arc::new(Events::default());
    let (addr, stop, task) = start_stoppable(events.clone()).await;
    assert_eq!(
        status_of(addr, "/invalid?limit=x").await,
        "HTTP/1.1 422 Unprocessable Entity"
    );
    assert_eq!(
        cleanup_lines_after_shutdown(&events, stop, task).await,
        vec!["cleanup a: failed 422"]
    );
}

#[tokio::test]
async fn cleanup_runs_once_and_sees_a_client_that_went_away() {
    let events = Arc::new(Events::default());
    let (addr, stop, task) = start_stoppable(events.clone()).await;
    let (s, _) = open(addr, "/order").await;
    drop(s); // mid-response; the body is never released
    let log = events.wait_for(7).await;
    assert_eq!(
        &log[5..],
        [
            "cleanup b (b after a): disconnected",
            "cleanup a: disconnected"
        ]
    );
    assert_eq!(
        cleanup_lines_after_shutdown(&events, stop, task)
            .await
            .len(),
        2
    );
}
