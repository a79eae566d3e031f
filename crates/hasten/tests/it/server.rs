//! The server over real TCP on 127.0.0.1: limits, timeouts, panics, HTTP/2, graceful
//! shutdown. Every wait is bounded.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hasten::prelude::*;
use hasten::Server;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, Notify};
use tokio::task::JoinHandle;
use tokio::time::timeout;

use crate::common::{raw_exchange, trickle};

const BOUND: Duration = Duration::from_secs(10);

#[get("/")]
async fn root() -> &'static str {
    "hello"
}

#[post("/upload")]
async fn upload(body: Bytes) -> String {
    body.len().to_string()
}

#[get("/boom")]
async fn boom() -> &'static str {
    panic!("boom")
}

#[derive(Default)]
struct Gate {
    started: Notify,
    release: Notify,
}

#[get("/slow")]
async fn slow(gate: State<Gate>) -> &'static str {
    gate.started.notify_one();
    gate.release.notified().await;
    "finished"
}

fn app(gate: Arc<Gate>) -> App {
    App::new()
        .route(root)
        .route(upload)
        .route(boom)
        .route(slow)
        .state_arc(gate)
        .body_limit(1024)
}

struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

async fn start(configure: impl FnOnce(Server) -> Server, gate: Arc<Gate>) -> Running {
    let server = Server::bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr().unwrap();
    let (tx, task) = run(configure(server), gate);
    Running {
        addr,
        stop: Some(tx),
        task,
    }
}

/// Serve the app on `server` until the sender is used (or dropped).
fn run(server: Server, gate: Arc<Gate>) -> (oneshot::Sender<()>, JoinHandle<std::io::Result<()>>) {
    let (tx, rx) = oneshot::channel::<()>();
    let server = server.with_graceful_shutdown(async move {
        let _ = rx.await;
    });
    (tx, tokio::spawn(server.serve(app(gate))))
}

#[tokio::test]
async fn oversized_body_gets_413_without_being_read() {
    let srv = start(|s| s, Arc::default()).await;
    // Declare 10 MB, send only the head and 100 bytes: the answer must not wait for the rest.
    let mut req = b"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 10000000\r\n\r\n".to_vec();
    req.extend_from_slice(&[b'x'; 100]);
    let resp = raw_exchange(srv.addr, &req).await;
    assert!(resp.starts_with("HTTP/1.1 413"), "{resp}");
    assert!(
        resp.contains("content-type: text/plain; charset=utf-8"),
        "{resp}"
    );
    assert!(resp.ends_with("Content Too Large"), "{resp}");

    // A chunked body is cut off as soon as it passes the limit.
    let mut req =
        b"POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    req.extend_from_slice(b"800\r\n");
    req.extend_from_slice(&[b'y'; 0x800]);
    req.extend_from_slice(b"\r\n");
    let resp = raw_exchange(srv.addr, &req).await;
    assert!(resp.starts_with("HTTP/1.1 413"), "{resp}");

    // Within the limit all is well.
    let resp = raw_exchange(
        srv.addr,
        b"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
    )
    .await;
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.ends_with("\r\n\r\n5"), "{resp}");
}

#[tokio::test]
async fn slow_header_client_is_disconnected() {
    let srv = start(
        |s| s.header_read_timeout(Duration::from_millis(300)),
        Arc::default(),
    )
    .await;
    // Trickle the head one byte every 50 ms: it would take ~4 s to finish.
    let head = b"GET / HTTP/1.1\r\nHost: t\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let cut_off = trickle(srv.addr, head, Duration::from_millis(50)).await;
    assert!(cut_off, "the server waited for the whole slow head");
}

/// The HTTP/2 connection preface.
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

#[tokio::test]
async fn the_protocol_is_told_from_first_bytes_that_arrive_apart() {
    let srv = start(|s| s, Arc::default()).await;
    // HTTP/1.1 whose first byte is also the preface's.
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    s.write_all(b"P").await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    s.write_all(
        b"OST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
    )
    .await
    .unwrap();
    let mut out = Vec::new();
    timeout(BOUND, s.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    let resp = String::from_utf8_lossy(&out);
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.ends_with("\r\n\r\n5"), "{resp}");

    // The HTTP/2 preface in two pieces, then an empty SETTINGS frame: the server
    // answers with its own SETTINGS frame (type 4, stream 0).
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    s.write_all(&PREFACE[..10]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    s.write_all(&PREFACE[10..]).await.unwrap();
    s.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).await.unwrap();
    let mut frame = [0u8; 9];
    timeout(BOUND, s.read_exact(&mut frame))
        .await
        .expect("no HTTP/2 frame")
        .unwrap();
    assert_eq!(frame[3], 4, "not a SETTINGS frame: {frame:?}");
    assert_eq!(&frame[5..], &[0, 0, 0, 0], "{frame:?}");
}

#[tokio::test]
async fn a_trickled_http2_preface_is_cut_off_at_the_header_timeout() {
    let srv = start(
        |s| s.header_read_timeout(Duration::from_millis(300)),
        Arc::default(),
    )
    .await;
    // One byte every 100 ms: the preface alone would take 2.4 s.
    let cut_off = trickle(srv.addr, PREFACE, Duration::from_millis(100)).await;
    assert!(cut_off, "the server waited for the whole trickled preface");
}

#[tokio::test]
async fn panicking_handler_then_normal_request() {
    let srv = start(|s| s, Arc::default()).await;
    let resp = raw_exchange(
        srv.addr,
        b"GET /boom HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(resp.starts_with("HTTP/1.1 500"), "{resp}");
    assert!(resp.ends_with("Internal Server Error"), "{resp}");
    let resp = raw_exchange(
        srv.addr,
        b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.ends_with("hello"), "{resp}");
}

#[tokio::test]
async fn keep_alive_and_pipelining() {
    let srv = start(|s| s, Arc::default()).await;
    let resp = raw_exchange(
        srv.addr,
        b"GET / HTTP/1.1\r\nHost: t\r\n\r\nGET /nope HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    )
    .await;
    let statuses: Vec<&str> = resp.split("HTTP/1.1 ").skip(1).map(|r| &r[..3]).collect();
    assert_eq!(statuses, vec!["200", "404", "200"], "{resp}");
}

#[tokio::test]
async fn idle_keep_alive_connection_is_closed() {
    let srv = start(
        |s| {
            s.keep_alive_timeout(Duration::from_millis(200))
                .header_read_timeout(None)
        },
        Arc::default(),
    )
    .await;
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = timeout(BOUND, s.read(&mut buf)).await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    // Now say nothing: the server closes the idle connection.
    let n = timeout(BOUND, s.read(&mut buf))
        .await
        .expect("idle connection was kept open");
    assert!(matches!(n, Ok(0) | Err(_)));
}

#[tokio::test]
async fn http2_prior_knowledge() {
    let srv = start(|s| s, Arc::default()).await;
    let stream = TcpStream::connect(srv.addr).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    let req = http::Request::get(format!("http://{}/", srv.addr))
        .body(Empty::<Bytes>::new())
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    assert_eq!(resp.version(), http::Version::HTTP_2);
    assert_eq!(resp.status(), 200);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"hello");
}

#[tokio::test]
async fn graceful_shutdown_finishes_in_flight_request() {
    let gate = Arc::new(Gate::default());
    let mut srv = start(|s| s, gate.clone()).await;
    let addr = srv.addr;
    let in_flight =
        tokio::spawn(
            async move { raw_exchange(addr, b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n").await },
        );
    timeout(BOUND, gate.started.notified())
        .await
        .expect("handler never started");

    srv.stop.take().unwrap().send(()).unwrap();
    // The listener closes: new connections are refused.
    let refused = timeout(BOUND, async {
        loop {
            if TcpStream::connect(addr).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(refused.is_ok(), "still accepting after shutdown");
    assert!(
        !srv.task.is_finished(),
        "returned before the in-flight request finished"
    );

    gate.release.notify_one();
    let resp = timeout(BOUND, in_flight).await.unwrap().unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.ends_with("finished"), "{resp}");
    timeout(BOUND, srv.task)
        .await
        .expect("server did not return")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn connection_cap_makes_extra_clients_wait() {
    let srv = start(|s| s.max_connections(1), Arc::default()).await;
    // The first client holds the only slot with an open keep-alive connection.
    let mut first = TcpStream::connect(srv.addr).await.unwrap();
    first
        .write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    timeout(BOUND, first.read(&mut buf)).await.unwrap().unwrap();

    let second = tokio::spawn(raw_exchange(
        srv.addr,
        b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    ));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !second.is_finished(),
        "a second connection was served past the cap"
    );
    drop(first);
    let resp = timeout(BOUND, second).await.unwrap().unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
}

#[tokio::test]
async fn malformed_requests_get_400_not_a_silent_close() {
    let srv = start(|s| s, Arc::default()).await;
    let cases: [&[u8]; 5] = [
        b"GET / HTTP/1.1\r\nHost: t\r\nBad Header : v\r\n\r\n",
        b"GET / HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        b"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        b"POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ];
    for raw in cases {
        let resp = raw_exchange(srv.addr, raw).await;
        assert!(
            resp.starts_with("HTTP/1.1 400"),
            "{:?} -> {resp:?}",
            String::from_utf8_lossy(raw)
        );
    }
}

#[tokio::test]
async fn too_many_or_too_large_headers_get_431() {
    let srv = start(|s| s, Arc::default()).await;
    let many: String = (0..300).map(|i| format!("X-H{i}: v\r\n")).collect();
    let resp = raw_exchange(
        srv.addr,
        format!("GET / HTTP/1.1\r\nHost: t\r\n{many}\r\n").as_bytes(),
    )
    .await;
    assert!(resp.starts_with("HTTP/1.1 431"), "{resp}");
    let big = "a".repeat(500_000);
    let resp = raw_exchange(
        srv.addr,
        format!("GET / HTTP/1.1\r\nHost: t\r\nX-Big: {big}\r\n\r\n").as_bytes(),
    )
    .await;
    assert!(resp.starts_with("HTTP/1.1 431"), "{resp}");
}

#[tokio::test]
async fn on_panic_replaces_the_500() {
    let server = Server::bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr().unwrap();
    let app = App::new().route(boom).route(root).on_panic(|ctx| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "error": "crashed", "path": ctx.uri.path() })),
        )
            .into_response()
    });
    tokio::spawn(server.serve(app));
    let resp = raw_exchange(
        addr,
        b"GET /boom HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(
        resp.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{resp}"
    );
    assert!(
        resp.contains("\r\ncontent-type: application/json\r\n"),
        "{resp}"
    );
    assert!(
        resp.ends_with("\r\n\r\n{\"error\":\"crashed\",\"path\":\"/boom\"}"),
        "{resp}"
    );
    let resp = raw_exchange(
        addr,
        b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(resp.ends_with("\r\n\r\nhello"), "{resp}");
}

#[tokio::test]
async fn a_unix_socket_serves_and_is_removed_after() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("server-unix");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("hasten.sock");
    // A stale socket from an earlier run is replaced.
    drop(std::os::unix::net::UnixListener::bind(&path).or_else(|_| {
        std::fs::remove_file(&path)?;
        std::os::unix::net::UnixListener::bind(&path)
    }));
    assert!(path.exists());
    let server = Server::bind_unix(&path).unwrap();
    assert!(server.local_addr().is_err());
    let (tx, task) = run(server, Arc::default());
    let mut s = tokio::net::UnixStream::connect(&path).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = Vec::new();
    timeout(BOUND, s.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    let resp = String::from_utf8_lossy(&out);
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.ends_with("hello"), "{resp}");
    tx.send(()).unwrap();
    timeout(BOUND, task).await.unwrap().unwrap().unwrap();
    assert!(!path.exists(), "the socket file was left behind");
}

#[tokio::test]
async fn two_servers_share_a_port_with_reuse_port() {
    let first = Server::bind_reuse_port("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = first.local_addr().unwrap();
    let second = Server::bind_reuse_port(addr).unwrap();
    // Without the option the port is taken.
    assert!(TcpListener::bind(addr).await.is_err());
    let (stop_first, first) = run(first, Arc::default());
    let (stop_second, second) = run(second, Arc::default());
    let hello = || {
        raw_exchange(
            addr,
            b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        )
    };
    for _ in 0..4 {
        let resp = hello().await;
        assert!(resp.ends_with("hello"), "{resp}");
    }
    // One stops; the other still takes every connection.
    stop_first.send(()).unwrap();
    timeout(BOUND, first).await.unwrap().unwrap().unwrap();
    for _ in 0..4 {
        let resp = hello().await;
        assert!(resp.ends_with("hello"), "{resp}");
    }
    stop_second.send(()).unwrap();
    timeout(BOUND, second).await.unwrap().unwrap().unwrap();
}
