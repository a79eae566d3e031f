//! Hostile clients over real TCP on 127.0.0.1 (and h2c where it applies): each test
//! is an attack that took a default server down or lost data, and asserts the bound
//! that now stops it — a connection closed, a response let go, descriptors or bytes
//! under a ceiling. The server's limits are set small so the attacks end quickly;
//! every wait is bounded by `BOUND`, and no assertion is a wall-clock timing.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hasten::prelude::*;
use hasten::streaming::StreamingResponse;
use hasten::ws::WebSocket;
use hasten::Server;
use http_body_util::{BodyExt, Empty, StreamBody};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::{sleep, timeout};

/// The longest any wait in these tests may take.
const BOUND: Duration = Duration::from_secs(10);
/// The body, send and keepalive timeouts the test servers use.
const SHORT: Duration = Duration::from_millis(800);

// ---------------------------------------------------------------------------------
// The app under attack.

#[post("/upload")]
async fn upload(body: Bytes) -> String {
    body.len().to_string()
}

#[derive(Deserialize, JsonSchema)]
struct Numbers {
    xs: Vec<i64>,
}

#[post("/numbers")]
async fn numbers(body: Json<Numbers>) -> String {
    body.xs.len().to_string()
}

#[post("/form")]
async fn form(#[form] a: String) -> String {
    a
}

#[post("/files")]
async fn files(file: hasten::uploads::UploadFile, seen: State<Seen>) -> String {
    if let Some(p) = file.path() {
        seen.paths.lock().unwrap().push(p.to_owned());
    }
    file.size().to_string()
}

/// Response bodies still held by the server.
#[derive(Default)]
struct Live(AtomicUsize);

/// What handlers observed, for the tests to read.
#[derive(Default)]
struct Seen {
    paths: Mutex<Vec<std::path::PathBuf>>,
    ws_sends_failed: AtomicUsize,
}

/// A stream that counts itself among the live bodies until dropped.
struct Counted {
    live: Arc<Live>,
    left: usize,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.live.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// 64 MiB in 64 KiB chunks: more than any socket buffer holds.
#[get("/big")]
async fn big(live: State<Live>) -> StreamingResponse {
    live.0 .0.fetch_add(1, Ordering::SeqCst);
    let counted = Counted {
        live: live.0.clone(),
        left: 1024,
    };
    StreamingResponse::new(futures_util::stream::unfold(counted, |mut c| async move {
        if c.left == 0 {
            return None;
        }
        c.left -= 1;
        Some((
            Ok::<_, std::io::Error>(Bytes::from(vec![b'x'; 64 << 10])),
            c,
        ))
    }))
}

/// A 1 MiB file on disk.
#[get("/file")]
async fn file(path: State<std::path::PathBuf>) -> hasten::files::FileResponse {
    hasten::files::FileResponse::new(path.as_path())
}

#[get("/boom")]
async fn boom() -> &'static str {
    panic!("boom")
}

#[get("/")]
async fn root() -> &'static str {
    "ok"
}

/// Waits in `receive` until the peer goes.
#[websocket("/ws")]
async fn ws_wait(mut socket: WebSocket) {
    if socket.accept().await.is_err() {
        return;
    }
    while socket.receive().await.is_ok() {}
}

/// Sends 64 KiB messages until a send fails.
#[websocket("/ws/flood")]
async fn ws_flood(mut socket: WebSocket, seen: State<Seen>) {
    if socket.accept().await.is_err() {
        return;
    }
    let chunk = Bytes::from(vec![b'y'; 64 << 10]);
    for _ in 0..100_000 {
        if socket.send_bytes(chunk.clone()).await.is_err() {
            seen.ws_sends_failed.fetch_add(1, Ordering::SeqCst);
            return;
        }
    }
}

fn app(live: Arc<Live>, seen: Arc<Seen>, file: std::path::PathBuf) -> App {
    App::new()
        .route(upload)
        .route(numbers)
        .route(form)
        .route(files)
        .route(big)
        .route(self::file)
        .route(boom)
        .route(root)
        .route(ws_wait)
        .route(ws_flood)
        .state_arc(live)
        .state_arc(seen)
        .state(file)
        .body_limit(1 << 20)
        .websocket_keepalive(Some(SHORT), SHORT)
}

struct Running {
    addr: SocketAddr,
    live: Arc<Live>,
    seen: Arc<Seen>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
    /// The 1 MiB file `/file` serves.
    file: std::path::PathBuf,
    _dir: TempDir,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.stop.take().map(|s| s.send(()));
        self.task.abort();
    }
}

/// A folder removed when dropped.
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir(tag: &str) -> TempDir {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "hasten-hostile-{}-{tag}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    TempDir(dir)
}

/// Start a server with the short limits, then `configure`'s changes.
async fn start(configure: impl FnOnce(Server) -> Server) -> Running {
    start_app(|a| a, configure).await
}

async fn start_app(
    adapt: impl FnOnce(App) -> App,
    configure: impl FnOnce(Server) -> Server,
) -> Running {
    let dir = temp_dir("srv");
    let file = dir.0.join("one-mib.bin");
    std::fs::write(&file, vec![b'f'; 1 << 20]).unwrap();
    let live = Arc::new(Live::default());
    let seen = Arc::new(Seen::default());
    let server = Server::bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let server = configure(
        server
            .body_timeout(SHORT)
            .min_body_rate(0, Duration::ZERO)
            .send_timeout(SHORT)
            .shutdown_timeout(Duration::from_secs(2)),
    )
    .with_graceful_shutdown(async move {
        let _ = rx.await;
    });
    let app = adapt(app(live.clone(), seen.clone(), file));
    let task = tokio::spawn(server.serve(app));
    Running {
        addr,
        live,
        seen,
        stop: Some(tx),
        task,
        file: dir.0.join("one-mib.bin"),
        _dir: dir,
    }
}

/// Read until the peer closes (or `BOUND`): what arrived, and whether it closed.
async fn read_to_close(s: &mut TcpStream) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 << 10];
    let closed = timeout(BOUND, async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .is_ok();
    (out, closed)
}

/// Wait (bounded) until `cond` holds.
async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let held = timeout(BOUND, async {
        while !cond() {
            sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .is_ok();
    assert!(held, "{what}: not within {BOUND:?}");
}

/// Descriptors this process has open on `file`. (Counted by target, not in total: other
/// tests in this binary open sockets and files at the same time.)
fn open_fds_to(file: &std::path::Path) -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |fds| {
        fds.filter_map(Result::ok)
            .filter(|fd| std::fs::read_link(fd.path()).is_ok_and(|to| to == file))
            .count()
    })
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

// ---------------------------------------------------------------------------------
// 1. A stalled request body.

#[tokio::test]
async fn a_stalled_body_gets_408_and_its_connection_is_closed() {
    let srv = start(|s| s).await;
    for sent in [&b""[..], b"0123456789"] {
        let mut s = TcpStream::connect(srv.addr).await.unwrap();
        let mut req = b"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n".to_vec();
        req.extend_from_slice(sent);
        s.write_all(&req).await.unwrap();
        // Then nothing: the server answers and closes, it does not wait forever.
        let (resp, closed) = read_to_close(&mut s).await;
        let resp = text(&resp);
        assert!(closed, "the connection stayed open: {resp:?}");
        assert!(
            resp.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
            "{resp}"
        );
        assert!(resp.contains("\r\nconnection: close\r\n"), "{resp}");
        assert!(resp.ends_with("\r\n\r\nRequest Timeout"), "{resp}");
    }
}

#[tokio::test]
async fn a_body_trickled_below_the_minimum_rate_gets_408() {
    // A byte every 300 ms passes any per-chunk timeout; the rate does not.
    let srv = start(|s| {
        s.body_timeout(Duration::from_secs(5))
            .min_body_rate(100, Duration::from_millis(500))
    })
    .await;
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    s.write_all(b"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n")
        .await
        .unwrap();
    let mut sent = 0;
    let mut buf = [0u8; 1024];
    let answer = timeout(BOUND, async {
        loop {
            tokio::select! {
                n = s.read(&mut buf) => return n.map(|n| text(&buf[..n])).unwrap_or_default(),
                () = sleep(Duration::from_millis(300)) => {
                    if sent < 100 && s.write_all(b"x").await.is_ok() {
                        sent += 1;
                    }
                }
            }
        }
    })
    .await
    .expect("no answer to a trickled body");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(sent < 100, "the whole body went through");
    // A body that comes at a normal pace is still read whole.
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    s.write_all(
        b"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
    )
    .await
    .unwrap();
    let (resp, _) = read_to_close(&mut s).await;
    assert!(text(&resp).ends_with("\r\n\r\n5"), "{}", text(&resp));
}

#[tokio::test]
async fn a_stalled_body_over_h2c_gets_408() {
    let srv = start(|s| s).await;
    let stream = TcpStream::connect(srv.addr).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    // A body that sends 10 bytes, then never ends.
    let chunks = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(
        hyper::body::Frame::data(Bytes::from_static(b"0123456789")),
    )])
    .chain(futures_util::stream::pending());
    let req = http::Request::post(format!("http://{}/upload", srv.addr))
        .header("content-length", "100")
        .body(StreamBody::new(chunks))
        .unwrap();
    let resp = timeout(BOUND, sender.send_request(req))
        .await
        .expect("no answer to a stalled h2 body")
        .unwrap();
    assert_eq!(resp.status(), 408);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"Request Timeout");
}

use futures_util::StreamExt as _;

// ---------------------------------------------------------------------------------
// 2. A client that stops reading.

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped_and_its_response_released() {
    let srv = start(|s| s).await;
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    s.write_all(b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    eventually("the response started", || {
        srv.live.0.load(Ordering::SeqCst) == 1
    })
    .await;
    // Read nothing: the server must let go of the response.
    eventually("the stalled response was released", || {
        srv.live.0.load(Ordering::SeqCst) == 0
    })
    .await;
    let (got, closed) = read_to_close(&mut s).await;
    assert!(closed);
    assert!(got.len() < 64 << 20, "the whole body was sent");
}

#[tokio::test]
async fn an_h2_client_that_grants_no_window_is_dropped() {
    let srv = start(|s| s).await;
    for pings in [false, true] {
        let stream = TcpStream::connect(srv.addr).await.unwrap();
        let mut builder = hyper::client::conn::http2::Builder::new(TokioExecutor::new());
        builder
            .timer(TokioTimer::new())
            .initial_stream_window_size(0);
        if pings {
            // PINGs move bytes; they must not keep the stalled connection alive.
            builder
                .keep_alive_interval(Duration::from_millis(100))
                .keep_alive_while_idle(true);
        }
        let (mut sender, conn) = builder.handshake(TokioIo::new(stream)).await.unwrap();
        let closed = tokio::spawn(conn);
        let mut held = Vec::new();
        for _ in 0..50 {
            let req = http::Request::get(format!("http://{}/file", srv.addr))
                .body(Empty::<Bytes>::new())
                .unwrap();
            if let Ok(Ok(resp)) = timeout(BOUND, sender.send_request(req)).await {
                assert_eq!(resp.status(), 200);
                held.push(resp); // never read
            }
        }
        assert_eq!(held.len(), 50);
        // 50 stalled file responses hold no descriptors: a file is open only while
        // a chunk is read.
        let fds = open_fds_to(&srv.file);
        assert!(fds < 5, "{fds} descriptors open on the served file");
        // And the connection is dropped after the send timeout.
        let ended = timeout(BOUND, closed).await;
        assert!(
            ended.is_ok(),
            "the stalled h2 connection stayed open (pings: {pings})"
        );
    }
    for _ in 0..3 {
        let mut b = hyper::client::conn::http2::Builder::new(TokioExecutor::new());
        b.timer(TokioTimer::new());
        let stream = TcpStream::connect(srv.addr).await.unwrap();
        let (mut sender, conn) = b.handshake(TokioIo::new(stream)).await.unwrap();
        tokio::spawn(conn);
        // A client that reads gets the whole file.
        let req = http::Request::get(format!("http://{}/file", srv.addr))
            .body(Empty::<Bytes>::new())
            .unwrap();
        let resp = sender.send_request(req).await.unwrap();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body.len(), 1 << 20);
    }
}

// ---------------------------------------------------------------------------------
// 3. WebSockets and the connection cap; keepalive.

fn ws_handshake(path: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .into_bytes()
}

/// Open a raw WebSocket: the 101 read, nothing else.
async fn raw_ws(addr: SocketAddr, path: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(&ws_handshake(path)).await.unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    timeout(BOUND, async {
        while !head.ends_with(b"\r\n\r\n") {
            s.read_exact(&mut byte).await.unwrap();
            head.push(byte[0]);
        }
    })
    .await
    .expect("no 101");
    assert!(text(&head).starts_with("HTTP/1.1 101"), "{}", text(&head));
    s
}

#[tokio::test]
async fn open_websockets_count_against_the_connection_cap() {
    let srv = start_app(
        |a| a.websocket_keepalive(None, SHORT),
        |s| s.max_connections(2),
    )
    .await;
    let first = raw_ws(srv.addr, "/ws").await;
    let _second = raw_ws(srv.addr, "/ws").await;
    // Both slots are taken by open sockets: a third client waits in the backlog.
    let mut third = TcpStream::connect(srv.addr).await.unwrap();
    third
        .write_all(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 256];
    let early = timeout(Duration::from_millis(500), third.read(&mut buf)).await;
    assert!(early.is_err(), "served past the cap: {early:?}");
    // One socket closes: its slot is free, and the waiting client is served.
    drop(first);
    let (resp, _) = read_to_close(&mut third).await;
    assert!(text(&resp).ends_with("\r\n\r\nok"), "{}", text(&resp));
}

#[tokio::test]
async fn a_websocket_that_does_not_answer_pings_is_closed_with_1011() {
    let srv = start(|s| s).await;
    let mut s = raw_ws(srv.addr, "/ws").await;
    // Never answer: the server pings, then gives up with 1011 and closes.
    let (frames, closed) = read_to_close(&mut s).await;
    assert!(closed, "the idle socket stayed open");
    assert_eq!(frames.first(), Some(&0x89), "no ping first: {frames:?}");
    let close_at = frames
        .iter()
        .position(|b| *b == 0x88)
        .expect("no close frame");
    let close = &frames[close_at..];
    let reason = b"keepalive ping timeout";
    assert_eq!(close[1] as usize, 2 + reason.len());
    assert_eq!(u16::from_be_bytes([close[2], close[3]]), 1011);
    assert_eq!(&close[4..4 + reason.len()], reason);
}

#[tokio::test]
async fn a_websocket_that_answers_pings_stays_open() {
    let srv = start(|s| s).await;
    let stream = TcpStream::connect(srv.addr).await.unwrap();
    let (mut ws, _) = tokio_tungstenite::client_async(format!("ws://{}/ws", srv.addr), stream)
        .await
        .unwrap();
    // The client library answers pings while it reads; read for several periods.
    let mut pings = 0;
    let ended = timeout(SHORT * 5, async {
        loop {
            match ws.next().await {
                Some(Ok(tokio_tungstenite::tungstenite::Message::Ping(_))) => pings += 1,
                other => return other,
            }
        }
    })
    .await;
    assert!(ended.is_err(), "the socket ended: {ended:?}");
    assert!(pings >= 2, "{pings} pings in five periods");
    use futures_util::SinkExt;
    ws.send(tokio_tungstenite::tungstenite::Message::text("still here"))
        .await
        .expect("the socket was closed while the peer answered pings");
}

#[tokio::test]
async fn a_websocket_peer_that_stops_reading_fails_the_senders_send() {
    let srv = start(|s| s).await;
    let _s = raw_ws(srv.addr, "/ws/flood").await;
    // Never read: the socket fills, the send stalls, and fails after the send timeout.
    eventually("the flooding send failed", || {
        srv.seen.ws_sends_failed.load(Ordering::SeqCst) == 1
    })
    .await;
}

// ---------------------------------------------------------------------------------
// 4. Validation errors are bounded.

#[tokio::test]
async fn a_body_of_many_wrong_items_gets_a_bounded_422() {
    let srv = start(|s| s).await;
    // ~1 MiB: 200,000 wrong items.
    let items = vec!["\"x\""; 200_000].join(",");
    let body = format!("{{\"xs\":[{items}]}}");
    assert!(body.len() < 1 << 20);
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    let head = format!(
        "POST /numbers HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(body.as_bytes()).await.unwrap();
    let (resp, _) = read_to_close(&mut s).await;
    assert!(resp.len() < 64 << 10, "a 422 of {} bytes", resp.len());
    let resp = text(&resp);
    assert!(resp.starts_with("HTTP/1.1 422"), "{resp}");
    let json: serde_json::Value =
        serde_json::from_str(resp.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    let detail = json["detail"].as_array().unwrap();
    assert_eq!(detail.len(), 101);
    assert_eq!(
        detail[0],
        serde_json::json!({"type": "int_parsing", "loc": ["body", "xs", 0],
            "msg": "Input should be a valid integer, unable to parse string as an integer",
            "input": "x"})
    );
    assert_eq!(
        detail[100],
        serde_json::json!({"type": "too_many_errors", "loc": ["body", "xs", 100],
            "msg": "Too many errors: only the first 100 are listed", "input": null,
            "ctx": {"limit": 100}})
    );
}

// ---------------------------------------------------------------------------------
// 5. Multipart part headers.

#[tokio::test]
async fn a_huge_multipart_part_header_is_refused_before_it_is_buffered() {
    let srv = start(|s| s).await;
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    let total = 50 << 20; // declared: a 50 MB header line
    s.write_all(
        format!(
            "POST /files HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; boundary=XX\r\n\
             Content-Length: {total}\r\n\r\n--XX\r\nX-Big: "
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    // 256 KiB of the header line, far short of its end: the answer must not wait.
    s.write_all(&vec![b'a'; 256 << 10]).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = timeout(BOUND, s.read(&mut buf))
        .await
        .expect("no answer while the header line goes on")
        .unwrap();
    let resp = text(&buf[..n]);
    assert!(resp.starts_with("HTTP/1.1 400"), "{resp}");
    assert!(
        resp.ends_with("{\"detail\":\"Invalid multipart data: part headers over 16384 bytes.\"}"),
        "{resp}"
    );
}

#[tokio::test]
async fn upload_temporary_files_have_unguessable_names_and_private_modes() {
    let srv = start_app(
        |a| {
            a.upload_limits(hasten::uploads::UploadLimits {
                spool_threshold: 16,
                ..Default::default()
            })
        },
        |s| s,
    )
    .await;
    for _ in 0..2 {
        let part =
            "--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\n\
                    0123456789012345678901234567890123456789\r\n--XX--\r\n";
        let mut s = TcpStream::connect(srv.addr).await.unwrap();
        s.write_all(
            format!(
                "POST /files HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; boundary=XX\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{part}",
                part.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
        let (resp, _) = read_to_close(&mut s).await;
        assert!(text(&resp).ends_with("\r\n\r\n40"), "{}", text(&resp));
    }
    let paths = srv.seen.paths.lock().unwrap().clone();
    assert_eq!(paths.len(), 2);
    assert_ne!(paths[0], paths[1]);
    for p in &paths {
        let name = p.file_name().unwrap().to_str().unwrap();
        let random = name.strip_prefix("hasten-upload-").unwrap();
        assert_eq!(random.len(), 32, "{name}");
        assert!(random.bytes().all(|b| b.is_ascii_hexdigit()), "{name}");
    }
}

// ---------------------------------------------------------------------------------
// 7. The smaller ones.

#[tokio::test]
async fn a_client_that_writes_its_whole_body_before_reading_sees_the_413() {
    let srv = start(|s| s).await;
    let addr = srv.addr;
    // Like Python's http.client: write all 4 MiB, and only then read.
    let resp = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(BOUND)).unwrap();
        s.set_write_timeout(Some(BOUND)).unwrap();
        let body = vec![b'z'; 4 << 20];
        s.write_all(
            format!(
                "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        )
        .unwrap();
        s.write_all(&body)
            .expect("the upload was cut off before its end");
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        out
    })
    .await
    .unwrap();
    let resp = text(&resp);
    assert!(resp.starts_with("HTTP/1.1 413"), "{resp}");
    assert!(resp.ends_with("Content Too Large"), "{resp}");
}

/// Send raw bytes and read the whole answer.
async fn exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(request).await.unwrap();
    let (resp, _) = read_to_close(&mut s).await;
    text(&resp)
}

#[tokio::test]
async fn smuggling_ingredients_are_refused() {
    let srv = start(|s| s).await;
    // A request target in authority form is for a proxy's CONNECT: refused as uvicorn
    // refuses it, not redirected.
    let resp = exchange(srv.addr, b"GET 127.0.0.1:80 HTTP/1.1\r\nHost: t\r\n\r\n").await;
    assert!(resp.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{resp}");
    assert!(
        resp.ends_with("\r\n\r\nInvalid HTTP request received."),
        "{resp}"
    );
    // Content-Length lists and differing lengths are refused by hyper (equal repeated
    // headers it merges, as RFC 9110 §8.6 allows; see RELIABILITY.md).
    for req in [
        &b"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 5, 5\r\n\r\nhello"[..],
        b"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    ] {
        let resp = exchange(srv.addr, req).await;
        assert!(resp.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{resp}");
    }
}

#[tokio::test]
async fn malformed_urlencoded_forms_are_refused_not_altered() {
    let srv = start(|s| s).await;
    for (body, detail) in [
        (
            &b"a=%zz"[..],
            "Invalid form data: field `a` has a `%` that is not followed by two hex digits",
        ),
        (
            b"a=%ff%fe",
            "Invalid form data: field `a` is not valid UTF-8 once decoded",
        ),
        (b"a=\xff", "Invalid form data: field `a` is not valid UTF-8"),
    ] {
        let mut req = format!(
            "POST /form HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        req.extend_from_slice(body);
        let resp = exchange(srv.addr, &req).await;
        assert!(resp.starts_with("HTTP/1.1 400"), "{resp}");
        let want = serde_json::json!({ "detail": detail }).to_string();
        assert!(resp.ends_with(&want), "{resp}");
    }
    let resp = exchange(
        srv.addr,
        b"POST /form HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\n\
          Content-Length: 12\r\nConnection: close\r\n\r\na=%C3%A9+%25",
    )
    .await;
    assert!(resp.ends_with("\r\n\r\né %"), "{resp}");
}

/// Counts the "handler panicked" events logged.
#[derive(Clone, Default)]
struct PanicLog(Arc<AtomicUsize>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for PanicLog {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Message(bool);
        impl tracing::field::Visit for Message {
            fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn std::fmt::Debug) {
                if f.name() == "message" && format!("{v:?}") == "handler panicked" {
                    self.0 = true;
                }
            }
        }
        let mut m = Message(false);
        event.record(&mut m);
        if m.0 {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[test]
fn a_route_that_panics_on_every_request_is_logged_once_a_minute() {
    use tracing_subscriber::layer::SubscriberExt;
    let log = PanicLog::default();
    let subscriber = tracing_subscriber::registry().with(log.clone());
    let _guard = tracing::subscriber::set_default(subscriber);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let srv = start(|s| s).await;
        for _ in 0..30 {
            let resp = exchange(
                srv.addr,
                b"GET /boom HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
            )
            .await;
            assert!(resp.starts_with("HTTP/1.1 500"), "{resp}");
        }
        // Still serving.
        let resp = exchange(
            srv.addr,
            b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(resp.ends_with("ok"), "{resp}");
    });
    assert_eq!(log.0.load(Ordering::SeqCst), 1);
}

// ---------------------------------------------------------------------------------
// Each limit above is a knob, too.

#[tokio::test]
async fn the_error_and_part_header_limits_are_knobs() {
    let srv = start_app(
        |a| {
            a.max_validation_errors(3)
                .upload_limits(hasten::uploads::UploadLimits {
                    max_part_headers: 1024,
                    ..Default::default()
                })
        },
        |s| s,
    )
    .await;
    let body = br#"{"xs":["a","b","c","d","e","f"]}"#;
    let mut req = format!(
        "POST /numbers HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    let resp = exchange(srv.addr, &req).await;
    let json: serde_json::Value =
        serde_json::from_str(resp.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    let detail = json["detail"].as_array().unwrap();
    assert_eq!(detail.len(), 4, "{json}");
    assert_eq!(detail[2]["loc"], serde_json::json!(["body", "xs", 2]));
    assert_eq!(
        detail[3],
        serde_json::json!({"type": "too_many_errors", "loc": ["body", "xs", 3],
            "msg": "Too many errors: only the first 3 are listed", "input": null,
            "ctx": {"limit": 3}})
    );
    for (header, answer) in [(900, "HTTP/1.1 200"), (2000, "HTTP/1.1 400")] {
        let part = format!(
            "--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\nX-Pad: {}\r\n\r\nabc\r\n--XX--\r\n",
            "p".repeat(header)
        );
        let resp = exchange(
            srv.addr,
            format!(
                "POST /files HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; boundary=XX\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{part}",
                part.len()
            )
            .as_bytes(),
        )
        .await;
        assert!(resp.starts_with(answer), "{header}: {resp}");
        if header == 2000 {
            assert!(
                resp.ends_with(
                    "{\"detail\":\"Invalid multipart data: part headers over 1024 bytes.\"}"
                ),
                "{resp}"
            );
        }
    }
}

#[tokio::test]
async fn http2_streams_per_connection_is_a_knob() {
    for (configured, expected) in [(None, 128), (Some(7), 7)] {
        let srv = start(|s| match configured {
            Some(n) => s.http2_max_concurrent_streams(n),
            None => s,
        })
        .await;
        let stream = TcpStream::connect(srv.addr).await.unwrap();
        let (mut sender, mut conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
                .await
                .unwrap();
        let req = http::Request::get(format!("http://{}/", srv.addr))
            .body(Empty::<Bytes>::new())
            .unwrap();
        let resp = timeout(BOUND, async {
            tokio::select! {
                r = sender.send_request(req) => r.unwrap(),
                c = &mut conn => panic!("the connection ended: {c:?}"),
            }
        })
        .await
        .unwrap();
        assert_eq!(resp.status(), 200);
        // The server's SETTINGS_MAX_CONCURRENT_STREAMS, as the client applies it.
        assert_eq!(conn.current_max_send_streams(), expected);
    }
}
