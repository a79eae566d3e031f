//! One client connection: hyper serving the app over it, and the watcher that ends it
//! when it idles, stalls or outlives a shutdown.
//!
//! What the watcher enforces (every limit has a knob on [`Server`](crate::Server)):
//!
//! - **idle**: no bytes moved and no request in flight for the keep-alive period:
//!   graceful close (HTTP/1.1: after the response in progress; HTTP/2: GOAWAY). Over
//!   HTTP/2 only streams count as activity, so PINGs cannot keep a connection open.
//! - **send stall**: a write to the socket, or an HTTP/2 response waiting for the
//!   client's flow-control window, made no progress for the send timeout: the
//!   connection is dropped. This is what frees a client that stops reading.
//! - **after a graceful close**: nothing moved for the send timeout: dropped; and at
//!   the shutdown deadline, dropped whatever it is doing.
//! - **request bodies** ([`TimedIncoming`]): a body that goes the body timeout without
//!   a byte, or arrives slower than the minimum rate after its grace period, fails
//!   with [`BodyTimedOut`]; the app answers 408 and the connection closes.
//!
//! - **lingering close**: after a 413 over HTTP/1.1 the connection closes its write
//!   side and reads (and drops) up to [`LINGER_BYTES`] more for up to
//!   [`LINGER_TIME`], as nginx does: a client that writes its whole body before it
//!   reads (Python's `http.client`, `urllib`) then sees the 413 instead of a reset.
//!
//! None of this reads the clock per byte or per request: reads and writes bump a
//! counter, and the watcher samples it a few times per period.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body as _, Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{watch, OwnedSemaphorePermit};
use tokio::time::{Instant, Sleep};

use crate::body::{Body, BodyTimedOut, BoxError, RequestBody};
use crate::pipeline::Dispatcher;

/// How long a request body may keep the app waiting.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyTimeouts {
    /// The longest wait for the next chunk.
    pub(crate) idle: Option<Duration>,
    /// The slowest average rate accepted, in bytes per second of waiting (0: off).
    pub(crate) min_rate: u64,
    /// Waiting time before the rate is enforced.
    pub(crate) grace: Duration,
}

/// What one connection enforces; see the module docs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnSettings {
    pub(crate) keep_alive: Option<Duration>,
    pub(crate) send_timeout: Option<Duration>,
    pub(crate) body: BodyTimeouts,
    /// After the server starts shutting down, the connection is dropped this much later.
    pub(crate) shutdown_timeout: Duration,
    /// Before it ends, the connection waits for its requests' background tasks and
    /// cleanups (the test client's connections do; the server's do not).
    pub(crate) await_post_work: bool,
}

/// The fallback for how long a closing connection may sit without progress when no
/// send timeout is set.
const LINGER: Duration = Duration::from_secs(30);

/// At most this much of a refused body is read and dropped after a 413.
pub(crate) const LINGER_BYTES: u64 = 8 << 20;
/// For at most this long.
pub(crate) const LINGER_TIME: Duration = Duration::from_secs(5);

/// A connection's place under the server's cap, held until the connection and any
/// WebSocket upgraded from it are gone.
pub(crate) struct Slot {
    _permit: OwnedSemaphorePermit,
    /// Counts the connection open, when the app serves metrics.
    #[cfg(feature = "metrics")]
    _open: Option<crate::metrics::Open>,
}

impl Slot {
    /// The slot `permit`, for an app with `metrics` (if any).
    pub(crate) fn new(
        permit: OwnedSemaphorePermit,
        #[cfg(feature = "metrics")] metrics: Option<&crate::metrics::Metrics>,
    ) -> Self {
        Slot {
            _permit: permit,
            #[cfg(feature = "metrics")]
            _open: metrics.map(|m| m.connection()),
        }
    }
}

/// What one connection is doing, shared by its IO, its requests' bodies, its
/// watcher and — after an upgrade — its WebSocket. It also holds the connection's
/// slot under the server's cap, so the slot is free only when all of them are gone.
pub(crate) struct Activity {
    /// Progress: reads and writes that moved bytes (HTTP/1), or stream events (HTTP/2).
    ops: AtomicU64,
    /// Writes that moved bytes.
    writes: AtomicU64,
    inflight: AtomicUsize,
    /// The connection speaks HTTP/2: bytes alone (PINGs, SETTINGS) are not progress.
    h2: AtomicBool,
    /// The watcher's tick count, starting at 1; stalls are stamped with it.
    tick: AtomicU32,
    /// The tick at which a socket write started waiting (0: none waiting).
    write_blocked: AtomicU32,
    /// HTTP/2 responses waiting for the client to take bytes: the tick each started
    /// waiting (0: a free slot).
    streams: Mutex<Vec<u32>>,
    /// The watcher asks the connection to wind down (graceful close).
    wind_down: AtomicBool,
    /// A body was refused (413): drain what the client still sends when closing.
    linger: AtomicBool,
    settings: ConnSettings,
    /// The server's stop signal, for a WebSocket that outlives the connection task.
    stop: watch::Receiver<bool>,
    /// Post-response work to wait for before the connection ends (only kept when
    /// `settings.await_post_work`).
    post_work: Mutex<Vec<crate::background::PostWorkDone>>,
    _slot: Option<Slot>,
}

impl Activity {
    fn new(settings: ConnSettings, slot: Option<Slot>, stop: watch::Receiver<bool>) -> Self {
        Activity {
            ops: AtomicU64::new(0),
            writes: AtomicU64::new(0),
            inflight: AtomicUsize::new(0),
            h2: AtomicBool::new(false),
            tick: AtomicU32::new(1),
            write_blocked: AtomicU32::new(0),
            streams: Mutex::new(Vec::new()),
            wind_down: AtomicBool::new(false),
            linger: AtomicBool::new(false),
            settings,
            stop,
            post_work: Mutex::new(Vec::new()),
            _slot: slot,
        }
    }

    /// Record progress. Relaxed and racy on purpose: the watcher only asks whether
    /// the count moved.
    fn touch(&self) {
        let n = self.ops.load(Ordering::Relaxed);
        self.ops.store(n.wrapping_add(1), Ordering::Relaxed);
    }

    fn io_moved(&self) {
        if !self.h2.load(Ordering::Relaxed) {
            self.touch();
        }
    }

    fn mark_stream(&self, slot: &mut Option<usize>) {
        let tick = self.tick.load(Ordering::Relaxed);
        let Ok(mut streams) = self.streams.lock() else {
            return;
        };
        match *slot {
            Some(i) => streams[i] = tick,
            None => match streams.iter().position(|t| *t == 0) {
                Some(i) => {
                    streams[i] = tick;
                    *slot = Some(i);
                }
                None => {
                    streams.push(tick);
                    *slot = Some(streams.len() - 1);
                }
            },
        }
    }

    fn unmark_stream(&self, slot: Option<usize>) {
        if let (Some(i), Ok(mut streams)) = (slot, self.streams.lock()) {
            streams[i] = 0;
        }
    }

    /// The tick at which the oldest wait for the client began (0: nothing waits).
    fn oldest_stall(&self) -> u32 {
        let mut oldest = self.write_blocked.load(Ordering::Relaxed);
        if let Ok(streams) = self.streams.lock() {
            for &t in streams.iter().filter(|t| **t != 0) {
                if oldest == 0 || t < oldest {
                    oldest = t;
                }
            }
        }
        oldest
    }

    /// The send timeout of the connection, for a WebSocket that outlives it.
    pub(crate) fn send_timeout(&self) -> Option<Duration> {
        self.settings.send_timeout
    }

    /// The server's stop signal: `true` once it is shutting down.
    pub(crate) fn stop_signal(&self) -> watch::Receiver<bool> {
        self.stop.clone()
    }

    /// How many writes moved bytes, for a WebSocket that waits on its socket.
    pub(crate) fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }
}

/// Where a `101 Switching Protocols` response receives its connection, so that the
/// upgraded socket keeps the connection's slot under the cap. The WebSocket code puts
/// one in the 101's extensions; the connection fills it before hyper sends the 101.
#[derive(Clone, Default)]
pub(crate) struct UpgradeSlot(Arc<OnceLock<Arc<Activity>>>);

impl UpgradeSlot {
    /// The connection, once the 101 went out through a hasten server.
    pub(crate) fn connection(&self) -> Option<Arc<Activity>> {
        self.0.get().cloned()
    }
}

/// Decrements the in-flight count even if the request future is dropped.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn new(a: &Arc<Activity>) -> Self {
        a.inflight.fetch_add(1, Ordering::Relaxed);
        InFlight(a.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.inflight.fetch_sub(1, Ordering::Relaxed);
        self.0.touch();
    }
}

/// An IO stream that counts the reads and writes that moved bytes, and notes when a
/// write has to wait. When dropped after a refused body, it lingers (see the module
/// docs). `io` is `None` only once dropped.
struct Tracked<I: AsyncRead + AsyncWrite + Unpin + Send + 'static> {
    io: Option<I>,
    activity: Arc<Activity>,
    /// The first bytes, read to tell the protocol, served again before the rest.
    preread: Preread,
}

/// The start of a connection, read before its protocol is known: at most the length of
/// the HTTP/2 preface, kept inline.
#[derive(Default)]
struct Preread {
    buf: [u8; H2_PREFACE.len()],
    len: u8,
    served: u8,
}

impl Preread {
    fn pending(&self) -> &[u8] {
        &self.buf[usize::from(self.served)..usize::from(self.len)]
    }
}

impl<I: AsyncRead + AsyncWrite + Unpin + Send + 'static> Tracked<I> {
    fn io(&mut self) -> Pin<&mut I> {
        Pin::new(self.io.as_mut().expect("the IO is present until dropped"))
    }
}

impl<I: AsyncRead + AsyncWrite + Unpin + Send + 'static> Drop for Tracked<I> {
    fn drop(&mut self) {
        if !self.activity.linger.load(Ordering::Relaxed) {
            return;
        }
        let (Some(io), Ok(rt)) = (self.io.take(), tokio::runtime::Handle::try_current()) else {
            return;
        };
        rt.spawn(linger(io));
    }
}

/// Close the write side, then read and drop what the client still sends, within
/// [`LINGER_BYTES`] and [`LINGER_TIME`].
async fn linger<I: AsyncRead + AsyncWrite + Unpin>(mut io: I) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let drain = async {
        let _ = io.shutdown().await;
        let mut buf = vec![0u8; 16 * 1024];
        let mut left = LINGER_BYTES;
        while left > 0 {
            match io.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left = left.saturating_sub(n as u64),
            }
        }
    };
    let _ = tokio::time::timeout(LINGER_TIME, drain).await;
}

/// The HTTP/2 connection preface (RFC 9113 §3.4).
const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The protocol a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    Http1,
    /// HTTP/2 with prior knowledge (h2c): the client opened with the preface.
    Http2,
}

impl<I: AsyncRead + AsyncWrite + Unpin + Send + 'static> Tracked<I> {
    /// Read until the protocol is known: the HTTP/2 preface, or anything else (HTTP/1).
    /// What was read is served again by `poll_read`.
    fn poll_protocol(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Protocol>> {
        loop {
            let len = usize::from(self.preread.len);
            let mut buf = ReadBuf::new(&mut self.preread.buf[len..]);
            let io = Pin::new(self.io.as_mut().expect("the IO is present until dropped"));
            std::task::ready!(io.poll_read(cx, &mut buf))?;
            let read = buf.filled().len();
            if read == 0 {
                // The client closed: HTTP/1's parser reports what it sent, if anything.
                return Poll::Ready(Ok(Protocol::Http1));
            }
            self.activity.io_moved();
            let end = len + read;
            self.preread.len = u8::try_from(end).unwrap_or(u8::MAX);
            if self.preread.buf[..end] != H2_PREFACE[..end] {
                return Poll::Ready(Ok(Protocol::Http1));
            }
            if end == H2_PREFACE.len() {
                self.activity.h2.store(true, Ordering::Relaxed);
                return Poll::Ready(Ok(Protocol::Http2));
            }
        }
    }
}

impl<I: AsyncRead + AsyncWrite + Unpin + Send + 'static> AsyncRead for Tracked<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let pending = self.preread.pending();
        if !pending.is_empty() {
            let n = pending.len().min(buf.remaining());
            buf.put_slice(&pending[..n]);
            self.preread.served += u8::try_from(n).unwrap_or(u8::MAX);
            if !self.preread.pending().is_empty() || buf.remaining() == 0 {
                return Poll::Ready(Ok(()));
            }
            // With what the socket has now, so the parser sees the whole head in one
            // read: a first read of a few bytes would make hyper grow its read buffer
            // to twice its size, for the connection's lifetime. Nothing there yet (or an
            // error, which the next read reports) leaves the bytes above as the read.
            let before = buf.filled().len();
            if let Poll::Ready(Ok(())) = self.io().poll_read(cx, buf) {
                if buf.filled().len() > before {
                    self.activity.io_moved();
                }
            }
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let r = self.io().poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.io_moved();
        }
        r
    }
}

impl<I: AsyncRead + AsyncWrite + Unpin + Send + 'static> Tracked<I> {
    fn note_write(&self, r: &Poll<io::Result<usize>>) {
        match r {
            Poll::Ready(Ok(n)) if *n > 0 => {
                self.activity.io_moved();
                let w = &self.activity.writes;
                w.store(w.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
                if self.activity.write_blocked.load(Ordering::Relaxed) != 0 {
                    self.activity.write_blocked.store(0, Ordering::Relaxed);
                }
            }
            Poll::Pending if self.activity.write_blocked.load(Ordering::Relaxed) == 0 => {
                let tick = self.activity.tick.load(Ordering::Relaxed);
                self.activity.write_blocked.store(tick, Ordering::Relaxed);
            }
            _ => {}
        }
    }
}

impl<I: AsyncRead + AsyncWrite + Unpin + Send + 'static> AsyncWrite for Tracked<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = self.io().poll_write(cx, buf);
        self.note_write(&r);
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = self.io().poll_write_vectored(cx, bufs);
        self.note_write(&r);
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.io.as_ref().is_some_and(I::is_write_vectored)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io().poll_shutdown(cx)
    }
}

/// A request body from the connection, with the body timeout and minimum rate.
///
/// The clock is read when the app starts waiting for body bytes and when they come,
/// never per byte. Only time spent waiting counts: an app that reads slowly (writing
/// an upload to disk, say) is not the client's fault.
pub(crate) struct TimedIncoming {
    body: Incoming,
    conn: Arc<Activity>,
    received: u64,
    waited: Duration,
    waiting_since: Option<Instant>,
    timer: Option<Pin<Box<Sleep>>>,
    too_slow: bool,
    failed: bool,
}

impl TimedIncoming {
    fn new(body: Incoming, conn: Arc<Activity>) -> Self {
        TimedIncoming {
            body,
            conn,
            received: 0,
            waited: Duration::ZERO,
            waiting_since: None,
            timer: None,
            too_slow: false,
            failed: false,
        }
    }

    /// When the wait that starts `now` must end.
    fn deadline(&mut self, now: Instant) -> Option<Instant> {
        let limits = self.conn.settings.body;
        let idle = limits.idle.map(|d| now + d);
        let rate = (limits.min_rate > 0).then(|| {
            let earned = Duration::from_secs_f64(self.received as f64 / limits.min_rate as f64);
            now + earned.max(limits.grace).saturating_sub(self.waited)
        });
        match (idle, rate) {
            (Some(i), Some(r)) => {
                self.too_slow = r < i;
                Some(i.min(r))
            }
            (Some(i), None) => {
                self.too_slow = false;
                Some(i)
            }
            (None, r) => {
                self.too_slow = r.is_some();
                r
            }
        }
    }

    pub(crate) fn poll_frame(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if self.failed {
            return Poll::Ready(None);
        }
        match Pin::new(&mut self.body).poll_frame(cx) {
            Poll::Ready(r) => {
                if let Some(since) = self.waiting_since.take() {
                    self.waited += since.elapsed();
                }
                if let Some(Ok(frame)) = &r {
                    if let Some(data) = frame.data_ref() {
                        self.received += data.len() as u64;
                        self.conn.touch();
                    }
                }
                Poll::Ready(r.map(|r| r.map_err(Into::into)))
            }
            Poll::Pending => {
                if self.waiting_since.is_none() {
                    let now = Instant::now();
                    self.waiting_since = Some(now);
                    match self.deadline(now) {
                        Some(at) => match &mut self.timer {
                            Some(t) => t.as_mut().reset(at),
                            None => self.timer = Some(Box::pin(tokio::time::sleep_until(at))),
                        },
                        None => self.timer = None,
                    }
                }
                if let Some(t) = &mut self.timer {
                    if t.as_mut().poll(cx).is_ready() {
                        self.failed = true;
                        return Poll::Ready(Some(Err(Box::new(BodyTimedOut {
                            received: self.received,
                            too_slow: self.too_slow,
                        }))));
                    }
                }
                Poll::Pending
            }
        }
    }

    pub(crate) fn is_end_stream(&self) -> bool {
        self.failed || http_body::Body::is_end_stream(&self.body)
    }

    pub(crate) fn size_hint(&self) -> SizeHint {
        http_body::Body::size_hint(&self.body)
    }
}

/// An HTTP/2 response body that tells the watcher when it waits for the client: from
/// the moment it is handed to hyper, or has handed over a chunk, until hyper asks for
/// more (hyper asks only when the stream has flow-control window).
struct StreamWatch {
    body: Body,
    conn: Arc<Activity>,
    slot: Option<usize>,
    marked: bool,
}

impl http_body::Body for StreamWatch {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let me = self.get_mut();
        if me.marked {
            me.marked = false;
            me.conn.unmark_stream(me.slot);
        }
        let r = Pin::new(&mut me.body).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &r {
            if frame.is_data() {
                me.conn.touch();
                if !me.body.is_end_stream() {
                    me.conn.mark_stream(&mut me.slot);
                    me.marked = true;
                }
            }
        }
        r
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

impl Drop for StreamWatch {
    fn drop(&mut self) {
        if self.marked {
            self.conn.unmark_stream(self.slot);
        }
    }
}

fn watch_stream(body: Body, conn: Arc<Activity>) -> Body {
    if http_body::Body::is_end_stream(&body) {
        return body;
    }
    let mut watched = StreamWatch {
        body,
        conn,
        slot: None,
        marked: true,
    };
    watched.conn.mark_stream(&mut watched.slot);
    Body::new(watched)
}

/// Serve one connection until it closes, idles or stalls past its limits, or `stop`
/// fires (then in-flight requests finish first, within the shutdown deadline). Used by
/// the server and the test client. `slot` is the connection's place under the cap.
pub(crate) async fn serve_connection<I>(
    io: I,
    peer: Option<SocketAddr>,
    app: Arc<Dispatcher>,
    protocols: &Protocols,
    settings: ConnSettings,
    slot: Option<Slot>,
    stop: watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Arc::new(Activity::new(settings, slot, stop.clone()));
    let io = Tracked {
        io: Some(io),
        activity: activity.clone(),
        preread: Preread::default(),
    };
    let svc_activity = activity.clone();
    let https = protocols.https;
    let client_addr = peer
        .filter(|_| app.wants_client_addrs())
        .map(crate::rate_limit::ClientAddr);
    let service = hyper::service::service_fn(move |mut req: http::Request<Incoming>| {
        let guard = InFlight::new(&svc_activity);
        // The access log costs nothing unless a subscriber wants it.
        let log = tracing::enabled!(target: "hasten::access", tracing::Level::INFO).then(|| {
            Box::new(AccessLog {
                start: std::time::Instant::now(),
                method: req.method().clone(),
                uri: req.uri().clone(),
                version: req.version(),
                peer,
            })
        });
        let h2 = req.version() == http::Version::HTTP_2;
        if h2 {
            svc_activity.h2.store(true, Ordering::Relaxed);
        } else if https {
            https_target(&mut req);
        }
        if let Some(addr) = client_addr {
            req.extensions_mut().insert(addr);
        }
        let dispatch = app.handle(req.map(|b| {
            if http_body::Body::is_end_stream(&b) {
                RequestBody::new(b)
            } else {
                RequestBody::timed(TimedIncoming::new(b, svc_activity.clone()))
            }
        }));
        Served {
            dispatch,
            guard: Some(guard),
            log,
            h2,
        }
    });
    let mut conn = Conn::Choosing {
        io: Some(io),
        service: Some(service),
        protocols,
        deadline: None,
    };
    let watch = watch_connection(stop, activity.clone(), peer);
    tokio::pin!(watch);
    let woken = Arc::new(WatchWaker::default());
    let mut winding_down = false;
    // The connection is polled on every wake; the watcher only when one of its own
    // timers or signals fired, so a busy connection does not pay for it.
    let ended = std::future::poll_fn(|cx| loop {
        if let Poll::Ready(res) = Pin::new(&mut conn).poll(cx) {
            return Poll::Ready(Some(res));
        }
        woken.task.register(cx.waker());
        if !woken.fired.swap(false, Ordering::AcqRel) {
            return Poll::Pending;
        }
        let waker = std::task::Waker::from(woken.clone());
        let verdict = watch.as_mut().poll(&mut Context::from_waker(&waker));
        if let Poll::Ready(reason) = verdict {
            tracing::debug!(target: "hasten::server", ?peer, reason, "dropping connection");
            return Poll::Ready(None);
        }
        if !winding_down && activity.wind_down.load(Ordering::Relaxed) {
            // Idle or stopping: finish what is in flight, then close; poll again so
            // the connection sees it.
            winding_down = true;
            conn.graceful_shutdown();
            continue;
        }
        return Poll::Pending;
    })
    .await;
    if let Some(Err(e)) = ended {
        tracing::debug!(target: "hasten::server", ?peer, error = %e, "connection ended with an error");
    }
    if activity.settings.await_post_work {
        let pending = activity
            .post_work
            .lock()
            .map(|mut p| std::mem::take(&mut *p))
            .unwrap_or_default();
        for done in pending {
            done.wait().await;
        }
    }
}

/// How the server speaks each protocol: hyper's builders, configured once.
#[derive(Clone)]
pub(crate) struct Protocols {
    pub(crate) http1: hyper::server::conn::http1::Builder,
    pub(crate) http2: hyper::server::conn::http2::Builder<TokioExecutor>,
    /// How long a client may take to say which protocol it speaks once it has started
    /// (the header read timeout): a trickled HTTP/2 preface is not a way around it.
    pub(crate) choose_timeout: Option<Duration>,
    /// The connection is TLS: see [`https_target`].
    pub(crate) https: bool,
}

/// Over TLS, an HTTP/1.1 request's target in origin form (`/path?q`) is made absolute
/// (`https://` and its `Host`), as an HTTP/2 request's `:scheme` and `:authority` make
/// it: the app sees the scheme, so its redirects keep `https`.
fn https_target<B>(req: &mut http::Request<B>) {
    if req.uri().scheme().is_some() || !req.uri().path().starts_with('/') {
        return;
    }
    let Some(host) = req.headers().get(http::header::HOST) else {
        return;
    };
    let Ok(authority) = http::uri::Authority::try_from(host.as_bytes()) else {
        return;
    };
    let mut parts = req.uri().clone().into_parts();
    parts.scheme = Some(http::uri::Scheme::HTTPS);
    parts.authority = Some(authority);
    let uri = http::Uri::from_parts(parts);
    // Cannot fail (scheme, authority and a path); the request is left as it came if so.
    if let Ok(uri) = uri {
        *req.uri_mut() = uri;
    }
}

/// The service a connection runs: the app behind the connection's bookkeeping.
trait ConnService:
    hyper::service::Service<
        http::Request<Incoming>,
        Response = http::Response<Body>,
        Error = Infallible,
        Future = Served,
    > + Unpin
    + Send
    + 'static
{
}

impl<S> ConnService for S where
    S: hyper::service::Service<
            http::Request<Incoming>,
            Response = http::Response<Body>,
            Error = Infallible,
            Future = Served,
        > + Unpin
        + Send
        + 'static
{
}

/// A connection: its protocol read from the first bytes, then hyper's connection for
/// it (HTTP/1.1 with upgrades, or HTTP/2, boxed: it is twice the size and rarer).
// The HTTP/1.1 connection is the steady state of most connections, and the enum lives
// in the connection's task already: boxing it would cost each one an allocation.
#[allow(clippy::large_enum_variant)]
enum Conn<'a, I, S>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: ConnService,
{
    Choosing {
        io: Option<Tracked<I>>,
        service: Option<S>,
        protocols: &'a Protocols,
        /// Set when the first bytes did not decide (a partial preface).
        deadline: Option<Pin<Box<Sleep>>>,
    },
    Http1(hyper::server::conn::http1::UpgradeableConnection<TokioIo<Tracked<I>>, S>),
    Http2(Box<hyper::server::conn::http2::Connection<TokioIo<Tracked<I>>, S, TokioExecutor>>),
    /// Shut down before it said which protocol it speaks.
    Closed,
}

impl<I, S> Conn<'_, I, S>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: ConnService,
{
    /// Finish what is in flight, then close (HTTP/2: GOAWAY).
    fn graceful_shutdown(&mut self) {
        match self {
            Conn::Choosing { .. } => *self = Conn::Closed,
            Conn::Http1(c) => Pin::new(c).graceful_shutdown(),
            Conn::Http2(c) => Pin::new(&mut **c).graceful_shutdown(),
            Conn::Closed => {}
        }
    }
}

impl<I, S> Future for Conn<'_, I, S>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: ConnService,
{
    type Output = Result<(), hyper::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            match this {
                Conn::Choosing {
                    io,
                    service,
                    protocols,
                    deadline,
                } => {
                    let tracked = io.as_mut().expect("chosen once");
                    let protocol = match tracked.poll_protocol(cx) {
                        Poll::Pending => {
                            let started = tracked.preread.len > 0;
                            if let (true, None, Some(limit)) =
                                (started, &deadline, protocols.choose_timeout)
                            {
                                *deadline = Some(Box::pin(tokio::time::sleep(limit)));
                            }
                            if let Some(timer) = deadline {
                                if timer.as_mut().poll(cx).is_ready() {
                                    return Poll::Ready(Ok(()));
                                }
                            }
                            return Poll::Pending;
                        }
                        Poll::Ready(Ok(p)) => p,
                        // Gone before the first request: nothing to answer.
                        Poll::Ready(Err(_)) => return Poll::Ready(Ok(())),
                    };
                    let io = TokioIo::new(io.take().expect("chosen once"));
                    let service = service.take().expect("chosen once");
                    *this = match protocol {
                        Protocol::Http1 => Conn::Http1(
                            protocols
                                .http1
                                .serve_connection(io, service)
                                .with_upgrades(),
                        ),
                        Protocol::Http2 => {
                            Conn::Http2(Box::new(protocols.http2.serve_connection(io, service)))
                        }
                    };
                }
                Conn::Http1(c) => return Pin::new(c).poll(cx),
                Conn::Http2(c) => return Pin::new(&mut **c).poll(cx),
                Conn::Closed => return Poll::Ready(Ok(())),
            }
        }
    }
}

/// What the access log line says of a request, taken when it arrives.
struct AccessLog {
    start: std::time::Instant,
    method: http::Method,
    uri: http::Uri,
    version: http::Version,
    peer: Option<SocketAddr>,
}

/// One request on its way through the app, then what the connection does with the
/// answer: a refused body lingers, an upgrade takes the request's slot, an HTTP/2
/// stream's body is watched, the access log is written. A future of its own rather
/// than an `async` block: the server moves it into place for every request.
struct Served {
    dispatch: crate::pipeline::Dispatch,
    /// `None` once the answer is out.
    guard: Option<InFlight>,
    log: Option<Box<AccessLog>>,
    h2: bool,
}

impl Future for Served {
    type Output = Result<http::Response<Body>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let Poll::Ready(mut resp) = Pin::new(&mut this.dispatch).poll(cx) else {
            return Poll::Pending;
        };
        if let Some(guard) = this.guard.take() {
            if let Some(done) = resp
                .extensions_mut()
                .remove::<crate::background::PostWorkDone>()
            {
                if guard.0.settings.await_post_work {
                    if let Ok(mut pending) = guard.0.post_work.lock() {
                        pending.push(done);
                    }
                }
            }
            if resp.status() == http::StatusCode::PAYLOAD_TOO_LARGE && !this.h2 {
                guard.0.linger.store(true, Ordering::Relaxed);
            } else if resp.status() == http::StatusCode::SWITCHING_PROTOCOLS {
                if let Some(slot) = resp.extensions().get::<UpgradeSlot>() {
                    let _ = slot.0.set(guard.0.clone());
                }
            } else if this.h2 {
                let body = std::mem::take(resp.body_mut());
                *resp.body_mut() = watch_stream(body, guard.0.clone());
            }
        }
        if let Some(log) = this.log.take() {
            let peer = log.peer.map_or_else(|| "-".to_owned(), |p| p.to_string());
            let ms = log.start.elapsed().as_secs_f64() * 1000.0;
            let (method, uri, version, status) = (log.method, log.uri, log.version, resp.status());
            // With request IDs on, the line carries the request's.
            match resp
                .headers()
                .get(&crate::request_id::HEADER)
                .and_then(|v| v.to_str().ok())
            {
                Some(request_id) => tracing::info!(
                    target: "hasten::access",
                    request_id,
                    "{peer} - \"{method} {uri} {version:?}\" {status} ({ms:.1} ms)"
                ),
                None => tracing::info!(
                    target: "hasten::access",
                    "{peer} - \"{method} {uri} {version:?}\" {status} ({ms:.1} ms)"
                ),
            }
        }
        Poll::Ready(Ok(resp))
    }
}

/// Wakes the connection's task for its watcher, and says so.
struct WatchWaker {
    fired: AtomicBool,
    task: futures_util::task::AtomicWaker,
}

impl Default for WatchWaker {
    fn default() -> Self {
        WatchWaker {
            // The watcher's first poll sets up its timer.
            fired: AtomicBool::new(true),
            task: futures_util::task::AtomicWaker::new(),
        }
    }
}

impl std::task::Wake for WatchWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.fired.store(true, Ordering::Release);
        self.task.wake();
    }
}

/// Watches one connection; sets `wind_down` when it should close gracefully, and
/// resolves (with the reason) when it must be dropped at once. It wakes every quarter
/// of the shortest period it enforces.
async fn watch_connection(
    mut stop: watch::Receiver<bool>,
    activity: Arc<Activity>,
    peer: Option<SocketAddr>,
) -> &'static str {
    let s = activity.settings;
    let linger = s.send_timeout.unwrap_or(LINGER);
    let period = [s.keep_alive, s.send_timeout]
        .into_iter()
        .flatten()
        .min()
        .map(quarter);
    let mut last_active = Instant::now();
    let mut seen = activity.ops.load(Ordering::Relaxed);
    let mut closing = false;
    let mut stopping = *stop.borrow();
    let mut hard_deadline = None;
    if stopping {
        activity.wind_down.store(true, Ordering::Relaxed);
        closing = true;
        hard_deadline = Some(last_active + s.shutdown_timeout);
    }
    let mut next_check = period.map(|p| last_active + p);
    loop {
        let wake_at = match (next_check, hard_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        tokio::select! {
            changed = stop.changed(), if !stopping => {
                if changed.is_err() || *stop.borrow() {
                    stopping = true;
                    if changed.is_ok() {
                        hard_deadline = Some(Instant::now() + s.shutdown_timeout);
                    }
                    if !closing {
                        closing = true;
                        last_active = Instant::now();
                        activity.wind_down.store(true, Ordering::Relaxed);
                    }
                }
            }
            () = sleep_until_opt(wake_at), if wake_at.is_some() => {
                let now = Instant::now();
                if hard_deadline.is_some_and(|d| now >= d) {
                    return "shutdown deadline";
                }
                let Some(period) = period else { continue };
                let tick = activity.tick.load(Ordering::Relaxed).wrapping_add(1);
                activity.tick.store(tick, Ordering::Relaxed);
                let ops = activity.ops.load(Ordering::Relaxed);
                if ops != seen || activity.inflight.load(Ordering::Relaxed) > 0 {
                    seen = ops;
                    last_active = now;
                }
                if let Some(limit) = s.send_timeout {
                    let since = activity.oldest_stall();
                    let waited = period.checked_mul(tick.wrapping_sub(since));
                    if since != 0 && waited.is_none_or(|w| w >= limit + period) {
                        return "send timeout: the client is not taking the response";
                    }
                }
                let silent = now.saturating_duration_since(last_active);
                if closing {
                    if silent >= linger {
                        return "no progress after a graceful close";
                    }
                } else if s.keep_alive.is_some_and(|k| silent >= k) {
                    tracing::debug!(target: "hasten::server", ?peer, "closing idle connection");
                    closing = true;
                    last_active = now;
                    activity.wind_down.store(true, Ordering::Relaxed);
                }
                next_check = Some(now + period);
            }
        }
    }
}

/// A quarter of a period, at least a millisecond.
fn quarter(k: Duration) -> Duration {
    (k / 4).max(Duration::from_millis(1))
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
