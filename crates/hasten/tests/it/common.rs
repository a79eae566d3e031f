//! Helpers shared by the integration tests that watch work happen around a response.

#![allow(dead_code, unreachable_pub)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use hasten::body::Body;
use hasten::Bytes;
use http_body::Frame;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Notify};
use tokio::time::timeout;

/// How long any wait in these tests may take.
pub const BOUND: Duration = Duration::from_secs(10);

/// A log of what happened, in order, that a test can wait on.
#[derive(Default)]
pub struct Events {
    log: Mutex<Vec<String>>,
    changed: Notify,
    /// Lets a [`gated_body`] send its last chunk.
    pub release_body: Notify,
}

impl Events {
    /// Record an event.
    pub fn push(&self, e: impl Into<String>) {
        self.log.lock().unwrap().push(e.into());
        self.changed.notify_waiters();
    }

    /// The events so far.
    pub fn snapshot(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Wait (bounded) until there are at least `n` events.
    pub async fn wait_for(&self, n: usize) -> Vec<String> {
        timeout(BOUND, async {
            loop {
                let changed = self.changed.notified();
                if self.log.lock().unwrap().len() >= n {
                    return self.snapshot();
                }
                changed.await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("waited for {n} events, have {:?}", self.snapshot()))
    }
}

/// A body fed from a channel, so the test controls when it ends.
pub struct ChannelBody(pub mpsc::Receiver<Bytes>);

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0.poll_recv(cx).map(|o| o.map(|b| Ok(Frame::data(b))))
    }
}

/// A body that sends `first|` at once and `last` only after `events.release_body`.
pub fn gated_body(events: Arc<Events>) -> Body {
    let (tx, rx) = mpsc::channel(1);
    tokio::spawn(async move {
        let _ = tx.send(Bytes::from_static(b"first|")).await;
        events.release_body.notified().await;
        let _ = tx.send(Bytes::from_static(b"last")).await;
    });
    Body::new(ChannelBody(rx))
}

/// Send raw bytes and read until the server closes (or BOUND passes).
pub async fn raw_exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let _ = timeout(BOUND, async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    String::from_utf8_lossy(&out).into_owned()
}

/// Write `bytes` one at a time, `every` apart, watching for the server to close:
/// whether it cut the client off before the end. An answer before the end fails.
pub async fn trickle(addr: SocketAddr, bytes: &[u8], every: Duration) -> bool {
    let mut s = TcpStream::connect(addr).await.unwrap();
    for byte in bytes {
        if s.write_all(&[*byte]).await.is_err() {
            return true;
        }
        let mut probe = [0u8; 1];
        match timeout(every, s.read(&mut probe)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => panic!("the server answered an unfinished request"),
            Err(_) => {}
        }
    }
    false
}

/// A Redis server of the test's own, on a free port: stopped when dropped.
pub struct Redis {
    child: std::process::Child,
    port: u16,
}

impl Redis {
    pub fn start(port: u16) -> Redis {
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--save", "", "--appendonly", "no"])
            .args(["--bind", "127.0.0.1"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("the tests with `channels-redis` or `rate-limit-redis` need `redis-server` (apt-get install redis-server)");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Redis { child, port }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// How many clients are connected, besides the one asking.
    pub fn clients(&self) -> usize {
        use std::io::{Read as _, Write as _};
        let mut conn = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        conn.write_all(b"CLIENT LIST\r\n").unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut reply = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = conn.read(&mut buf).unwrap();
            reply.extend_from_slice(&buf[..n]);
            // A bulk string: `$len\r\n…\r\n`.
            let text = String::from_utf8_lossy(&reply);
            if let Some((len, rest)) = text.strip_prefix('$').and_then(|t| t.split_once("\r\n")) {
                if rest.len() >= len.parse::<usize>().unwrap() + 2 {
                    return rest.lines().filter(|l| l.starts_with("id=")).count() - 1;
                }
            }
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
