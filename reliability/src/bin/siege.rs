//! Attackers and a normal load, for `reliability/run`. Each prints one JSON line per
//! second on stdout. Every loop ends at the deadline; every wait has a timeout.
//!
//! usage:
//!   siege attack stalled-body|slow-reader|idle-ws COUNT ADDR SOURCE_IP SECONDS
//!   siege load ADDR PERSISTENT NEW_PER_SECOND SECONDS
//!
//! Attackers keep COUNT connections open, each from SOURCE_IP (one address per kind,
//! so 10,000 of each do not run out of ports), and open a new one when the server
//! closes one (or after holding it for two minutes; a slow reader, which cannot see
//! the close, after 35 s):
//! - `stalled-body` sends a head declaring a 100-byte JSON body, then nothing;
//! - `slow-reader` asks for a 16 MiB file and never reads;
//! - `idle-ws` opens a WebSocket and never reads or answers pings.
//!
//! The load keeps PERSISTENT keep-alive connections, each asking `/plaintext` ten
//! times a second, and opens NEW_PER_SECOND fresh connections a second for one
//! request each. It reports requests, failures and latency percentiles of both.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt, Interest};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::{sleep, timeout};

/// The longest a connect or a request may take before it counts as failed.
const PATIENCE: Duration = Duration::from_secs(10);
/// The longest an attacker holds one connection the server does not close.
const HOLD: Duration = Duration::from_secs(120);
/// A reader that stops reading cannot see the server close (the FIN waits behind the
/// unread bytes): it lets go after this, a little past the default send timeout, and
/// comes back. The server's own connection count shows when it dropped them.
const SLOW_HOLD: Duration = Duration::from_secs(35);

#[derive(Default)]
struct Counters {
    holding: AtomicU64,
    opened: AtomicU64,
    closed_by_server: AtomicU64,
    connect_failed: AtomicU64,
    answered_408: AtomicU64,
}

async fn connect(addr: SocketAddr, source: IpAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    match timeout(PATIENCE, socket.connect(addr)).await {
        Ok(r) => r,
        Err(_) => Err(std::io::ErrorKind::TimedOut.into()),
    }
}

/// Wait until the server closes the connection (seen without reading: the peer's
/// FIN or reset), or `HOLD` passes, or the deadline.
async fn until_closed(s: &TcpStream, hold: Duration, deadline: Instant) -> bool {
    let until = (Instant::now() + hold).min(deadline);
    while Instant::now() < until {
        if let Ok(Ok(r)) = timeout(Duration::from_secs(1), s.ready(Interest::READABLE)).await {
            if r.is_read_closed() || r.is_error() {
                return true;
            }
        }
        sleep(Duration::from_millis(500)).await;
    }
    false
}

async fn attacker(
    kind: String,
    addr: SocketAddr,
    source: IpAddr,
    c: Arc<Counters>,
    deadline: Instant,
) {
    while Instant::now() < deadline {
        let mut s = match connect(addr, source).await {
            Ok(s) => s,
            Err(_) => {
                c.connect_failed.fetch_add(1, Ordering::Relaxed);
                sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        c.opened.fetch_add(1, Ordering::Relaxed);
        c.holding.fetch_add(1, Ordering::Relaxed);
        let request: &[u8] = match kind.as_str() {
            "stalled-body" => b"POST /items/ HTTP/1.1\r\nHost: siege\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\":",
            "slow-reader" => b"GET /static/big.bin HTTP/1.1\r\nHost: siege\r\n\r\n",
            _ => b"GET /ws HTTP/1.1\r\nHost: siege\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        };
        let closed = if s.write_all(request).await.is_err() {
            true
        } else if kind == "stalled-body" {
            // The answer is small: read it, and see the close.
            let mut buf = [0u8; 512];
            let mut head = Vec::new();
            let left = deadline.saturating_duration_since(Instant::now()).min(HOLD);
            let done = timeout(left, async {
                loop {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
            })
            .await
            .is_ok();
            if head.starts_with(b"HTTP/1.1 408") {
                c.answered_408.fetch_add(1, Ordering::Relaxed);
            }
            done
        } else if kind == "slow-reader" {
            until_closed(&s, SLOW_HOLD, deadline).await
        } else {
            until_closed(&s, HOLD, deadline).await
        };
        if closed {
            c.closed_by_server.fetch_add(1, Ordering::Relaxed);
        }
        c.holding.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn attack(kind: String, count: usize, addr: SocketAddr, source: IpAddr, seconds: u64) {
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let c = Arc::new(Counters::default());
    for i in 0..count {
        tokio::spawn(attacker(kind.clone(), addr, source, c.clone(), deadline));
        // Ramp up at 2,000 connections a second, not in one burst of SYNs.
        if i % 200 == 199 {
            sleep(Duration::from_millis(100)).await;
        }
    }
    while Instant::now() < deadline {
        sleep(Duration::from_secs(1)).await;
        println!(
            "{}",
            serde_json::json!({
                "t": start.elapsed().as_secs(),
                "kind": kind,
                "holding": c.holding.load(Ordering::Relaxed),
                "opened": c.opened.load(Ordering::Relaxed),
                "closed_by_server": c.closed_by_server.load(Ordering::Relaxed),
                "answered_408": c.answered_408.load(Ordering::Relaxed),
                "connect_failed": c.connect_failed.load(Ordering::Relaxed),
            })
        );
    }
}

/// Latencies and failures of one second.
#[derive(Default)]
struct Window {
    persistent: Vec<f64>,
    fresh: Vec<f64>,
    persistent_failed: u64,
    fresh_failed: u64,
}

/// Send one `GET /plaintext` and read its whole answer.
async fn one_request(s: &mut TcpStream, close: bool) -> std::io::Result<()> {
    let req: &[u8] = if close {
        b"GET /plaintext HTTP/1.1\r\nHost: siege\r\nConnection: close\r\n\r\n"
    } else {
        b"GET /plaintext HTTP/1.1\r\nHost: siege\r\n\r\n"
    };
    s.write_all(req).await?;
    let mut buf = Vec::with_capacity(256);
    let mut chunk = [0u8; 512];
    loop {
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.starts_with(b"HTTP/1.1 200") && buf.ends_with(b"Hello, World!") {
            return Ok(());
        }
        if buf.len() > 4096 || (buf.len() >= 12 && !buf.starts_with(b"HTTP/1.1 200")) {
            return Err(std::io::Error::other("unexpected answer"));
        }
    }
}

async fn persistent_client(addr: SocketAddr, w: Arc<Mutex<Window>>, deadline: Instant) {
    let local: IpAddr = [127, 0, 0, 1].into();
    let mut conn: Option<TcpStream> = None;
    while Instant::now() < deadline {
        let started = Instant::now();
        let result = timeout(PATIENCE, async {
            if conn.is_none() {
                conn = Some(connect(addr, local).await?);
            }
            match conn.as_mut() {
                Some(s) => one_request(s, false).await,
                None => Err(std::io::ErrorKind::NotConnected.into()),
            }
        })
        .await;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        match result {
            Ok(Ok(())) => w.lock().unwrap().persistent.push(ms),
            _ => {
                w.lock().unwrap().persistent_failed += 1;
                conn = None;
            }
        }
        sleep(Duration::from_millis(100)).await;
    }
}

async fn fresh_client(addr: SocketAddr, w: Arc<Mutex<Window>>) {
    let started = Instant::now();
    let result = timeout(PATIENCE, async {
        let mut s = connect(addr, [127, 0, 0, 1].into()).await?;
        one_request(&mut s, true).await
    })
    .await;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let mut w = w.lock().unwrap();
    match result {
        Ok(Ok(())) => w.fresh.push(ms),
        _ => w.fresh_failed += 1,
    }
}

fn percentile(v: &mut [f64], p: f64) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    Some((v[i] * 100.0).round() / 100.0)
}

async fn load(addr: SocketAddr, persistent: usize, fresh_per_second: u64, seconds: u64) {
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let w = Arc::new(Mutex::new(Window::default()));
    for _ in 0..persistent {
        tokio::spawn(persistent_client(addr, w.clone(), deadline));
    }
    let spawner = {
        let w = w.clone();
        tokio::spawn(async move {
            if fresh_per_second == 0 {
                return;
            }
            let every = Duration::from_secs(1) / fresh_per_second as u32;
            while Instant::now() < deadline {
                tokio::spawn(fresh_client(addr, w.clone()));
                sleep(every).await;
            }
        })
    };
    while Instant::now() < deadline {
        sleep(Duration::from_secs(1)).await;
        let mut done = std::mem::take(&mut *w.lock().unwrap());
        println!(
            "{}",
            serde_json::json!({
                "t": start.elapsed().as_secs(),
                "requests": done.persistent.len() + done.fresh.len(),
                "persistent_failed": done.persistent_failed,
                "persistent_p50_ms": percentile(&mut done.persistent, 0.5),
                "persistent_p99_ms": percentile(&mut done.persistent, 0.99),
                "fresh": done.fresh.len(),
                "fresh_failed": done.fresh_failed,
                "fresh_p99_ms": percentile(&mut done.fresh, 0.99),
            })
        );
    }
    spawner.abort();
}

fn arg<T: std::str::FromStr>(args: &[String], i: usize, what: &str) -> T {
    args.get(i)
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("argument {i}: {what}"))
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("attack") => {
            let kind: String = arg(&args, 1, "stalled-body, slow-reader or idle-ws");
            assert!(
                ["stalled-body", "slow-reader", "idle-ws"].contains(&kind.as_str()),
                "unknown attack {kind}"
            );
            attack(
                kind,
                arg(&args, 2, "COUNT"),
                arg(&args, 3, "ADDR"),
                arg(&args, 4, "SOURCE_IP"),
                arg(&args, 5, "SECONDS"),
            )
            .await;
        }
        Some("load") => {
            load(
                arg(&args, 1, "ADDR"),
                arg(&args, 2, "PERSISTENT"),
                arg(&args, 3, "NEW_PER_SECOND"),
                arg(&args, 4, "SECONDS"),
            )
            .await;
        }
        _ => {
            eprintln!("usage: siege attack KIND COUNT ADDR SOURCE_IP SECONDS | siege load ADDR PERSISTENT NEW_PER_SECOND SECONDS");
            std::process::exit(2);
        }
    }
}
