//! The HTTP server: hyper 1 (HTTP/1.1 with keep-alive and pipelining, HTTP/2 with prior
//! knowledge) on a tokio multi-thread runtime, with safe defaults.
//!
//! | limit | default | what happens |
//! |---|---|---|
//! | request body ([`App::body_limit`](crate::App::body_limit)) | 1 MiB | 413 "Content Too Large", the rest is not read |
//! | header read timeout | 10 s | a client that has not sent its whole head is disconnected (slow-loris) |
//! | keep-alive idle timeout | 5 s | an idle connection is closed (HTTP/2: GOAWAY) |
//! | concurrent connections | 10 000 | further clients wait in the listen backlog |
//! | shutdown deadline | 30 s | in-flight requests finish; then the server returns |
//!
//! With HTTP/1.1 the header read timer also runs while a keep-alive connection waits for
//! its next request, so an idle connection is closed after the shorter of the two.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, ToSocketAddrs};
use tokio::sync::{watch, Semaphore};
use tokio::time::Instant;

use crate::app::{AppInner, AppService};
use crate::body::RequestBody;
use crate::operation::BoxFuture;
use crate::App;

/// Serve `app` on `addr` with the default limits until SIGINT or SIGTERM, then shut
/// down gracefully.
///
/// ```no_run
/// use hasten::prelude::*;
///
/// #[get("/")]
/// async fn root() -> &'static str {
///     "hello"
/// }
///
/// #[tokio::main]
/// async fn main() -> std::io::Result<()> {
///     hasten::serve(App::new().route(root), "127.0.0.1:8000").await
/// }
/// ```
pub async fn serve(app: App, addr: impl ToSocketAddrs) -> io::Result<()> {
    Server::bind(addr).await?.serve(app).await
}

/// Connection-level settings.
#[derive(Debug, Clone)]
pub(crate) struct ServerConfig {
    pub(crate) header_read_timeout: Option<Duration>,
    pub(crate) keep_alive_timeout: Option<Duration>,
    pub(crate) max_connections: usize,
    pub(crate) shutdown_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            header_read_timeout: Some(Duration::from_secs(10)),
            keep_alive_timeout: Some(Duration::from_secs(5)),
            max_connections: 10_000,
            shutdown_timeout: Duration::from_secs(30),
        }
    }
}

impl ServerConfig {
    pub(crate) fn builder(&self) -> auto::Builder<TokioExecutor> {
        let mut b = auto::Builder::new(TokioExecutor::new());
        b.http1()
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_read_timeout)
            .keep_alive(true);
        b.http2()
            .timer(TokioTimer::new())
            .max_concurrent_streams(256);
        b
    }
}

/// A bound server with its limits; [`Server::serve`] runs an app on it.
///
/// ```no_run
/// # use hasten::{App, Server};
/// # use std::time::Duration;
/// # async fn run(app: App) -> std::io::Result<()> {
/// Server::bind("127.0.0.1:8000")
///     .await?
///     .header_read_timeout(Duration::from_secs(5))
///     .keep_alive_timeout(Duration::from_secs(30))
///     .max_connections(50_000)
///     .shutdown_timeout(Duration::from_secs(10))
///     .serve(app)
///     .await
/// # }
/// ```
pub struct Server {
    listener: TcpListener,
    config: ServerConfig,
    shutdown: Option<BoxFuture<()>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("addr", &self.listener.local_addr().ok())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Bind a TCP listener.
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<Server> {
        Ok(Server::from_listener(TcpListener::bind(addr).await?))
    }

    /// Serve on an existing listener.
    pub fn from_listener(listener: TcpListener) -> Server {
        Server {
            listener,
            config: ServerConfig::default(),
            shutdown: None,
        }
    }

    /// The bound address (useful after binding port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// How long a client may take to send a request head (default 10 s; `None`
    /// disables it).
    pub fn header_read_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.config.header_read_timeout = timeout.into();
        self
    }

    /// How long a connection may sit idle between requests (default 5 s; `None`
    /// disables it).
    pub fn keep_alive_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.config.keep_alive_timeout = timeout.into();
        self
    }

    /// The most connections served at once (default 10 000).
    pub fn max_connections(mut self, n: usize) -> Self {
        self.config.max_connections = n.max(1);
        self
    }

    /// How long shutdown waits for in-flight requests (default 30 s).
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.config.shutdown_timeout = timeout;
        self
    }

    /// Shut down gracefully when `signal` completes, instead of on SIGINT/SIGTERM.
    pub fn with_graceful_shutdown(
        mut self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> Self {
        self.shutdown = Some(Box::pin(signal));
        self
    }

    /// Build `app` and serve it until the shutdown signal; then stop accepting, let
    /// in-flight requests finish (up to the deadline) and return.
    pub async fn serve(self, app: App) -> io::Result<()> {
        let service = app
            .start()
            .await
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        self.serve_service(service).await
    }

    /// Serve an already built (and started) app; its shutdown hooks run at the end.
    pub async fn serve_service(self, service: AppService) -> io::Result<()> {
        let Server {
            listener,
            config,
            shutdown,
        } = self;
        let addr = listener.local_addr()?;
        let builder = Arc::new(config.builder());
        let max = config.max_connections;
        let slots = Arc::new(Semaphore::new(max));
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut shutdown = shutdown.unwrap_or_else(|| Box::pin(shutdown_signal()));
        tracing::info!(target: "hasten::server", "serving on http://{addr}");
        loop {
            let permit = tokio::select! {
                biased;
                () = &mut shutdown => break,
                p = slots.clone().acquire_owned() => match p {
                    Ok(p) => p,
                    Err(_) => break,
                },
            };
            let (stream, peer) = tokio::select! {
                biased;
                () = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Per-connection failures (reset before accept) are routine; running
                        // out of descriptors is not: back off instead of spinning.
                        tracing::warn!(target: "hasten::server", error = %e, "accept failed");
                        if !matches!(e.kind(), io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset) {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                        continue;
                    }
                },
            };
            let _ = stream.set_nodelay(true);
            let app = service.inner.clone();
            let builder = builder.clone();
            let keep_alive = config.keep_alive_timeout;
            let stop = stop_rx.clone();
            tokio::spawn(async move {
                serve_connection(stream, Some(peer), app, &builder, keep_alive, stop).await;
                drop(permit);
            });
        }
        drop(listener);
        let open = max - slots.available_permits();
        tracing::info!(target: "hasten::server", open, "shutting down: no new connections; finishing in-flight requests");
        let _ = stop_tx.send(true);
        let deadline = tokio::time::Instant::now() + config.shutdown_timeout;
        let all = u32::try_from(max).unwrap_or(u32::MAX);
        let mut clean = true;
        if tokio::time::timeout_at(deadline, slots.acquire_many(all))
            .await
            .is_err()
        {
            clean = false;
            tracing::warn!(
                target: "hasten::server",
                still_open = max - slots.available_permits(),
                "shutdown deadline reached; abandoning open connections"
            );
        }
        // Background tasks of finished responses get what is left of the deadline.
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let abandoned = service.inner.tasks.wait(left).await;
        if abandoned > 0 {
            clean = false;
            tracing::warn!(
                target: "hasten::server",
                abandoned,
                "shutdown deadline reached; abandoning running background task queues"
            );
        }
        service.shutdown().await;
        if clean {
            tracing::info!(target: "hasten::server", "shutdown complete");
        }
        Ok(())
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!(target: "hasten::server", "shutdown signal received");
}

/// Activity of one connection: a count of reads and writes that moved bytes, and
/// requests in flight. Counting instead of timestamping keeps the clock out of every
/// read and write; the idle check samples the count a few times per timeout period.
#[derive(Default)]
struct Activity {
    ops: AtomicU64,
    inflight: AtomicUsize,
}

impl Activity {
    fn touch(&self) {
        // One writer (the connection's task): a plain increment, no locked add.
        let n = self.ops.load(Ordering::Relaxed);
        self.ops.store(n.wrapping_add(1), Ordering::Relaxed);
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

/// An IO stream that records when it last moved bytes.
struct Tracked<I> {
    io: I,
    activity: Arc<Activity>,
}

impl<I: AsyncRead + Unpin> AsyncRead for Tracked<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.io).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        r
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Tracked<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// Serve one connection until it closes, it idles past `keep_alive`, or `stop` fires
/// (then in-flight requests finish first). Used by the server and the test client.
pub(crate) async fn serve_connection<I>(
    io: I,
    peer: Option<SocketAddr>,
    app: Arc<AppInner>,
    builder: &auto::Builder<TokioExecutor>,
    keep_alive: Option<Duration>,
    stop: watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Arc::new(Activity::default());
    let io = TokioIo::new(Tracked {
        io,
        activity: activity.clone(),
    });
    let svc_activity = activity.clone();
    let service = hyper::service::service_fn(move |req: http::Request<Incoming>| {
        let guard = InFlight::new(&svc_activity);
        // The access log costs nothing unless a subscriber wants it.
        let log = tracing::enabled!(target: "hasten::access", tracing::Level::INFO).then(|| {
            Box::new((
                std::time::Instant::now(),
                req.method().clone(),
                req.uri().clone(),
                req.version(),
            ))
        });
        let response = app.handle(req.map(RequestBody::new));
        async move {
            let resp = response.await;
            drop(guard);
            if let Some(log) = log {
                let (start, method, uri, version) = *log;
                tracing::info!(
                    target: "hasten::access",
                    "{} - \"{} {} {:?}\" {} ({:.1} ms)",
                    peer.map_or_else(|| "-".to_owned(), |p| p.to_string()),
                    method,
                    uri,
                    version,
                    resp.status(),
                    start.elapsed().as_secs_f64() * 1000.0
                );
            }
            Ok::<_, Infallible>(resp)
        }
    });
    let conn = builder.serve_connection_with_upgrades(io, service);
    tokio::pin!(conn);
    if *stop.borrow() {
        conn.as_mut().graceful_shutdown();
    } else {
        let watch = watch_connection(stop, keep_alive, activity, peer);
        tokio::pin!(watch);
        let woken = Arc::new(WatchWaker::default());
        let mut watching = true;
        // The connection is polled on every wake; the watcher only when one of its
        // own timers or signals fired, so a busy connection does not pay for it.
        let ended = std::future::poll_fn(|cx| {
            loop {
                if let Poll::Ready(res) = conn.as_mut().poll(cx) {
                    return Poll::Ready(Some(res));
                }
                if !watching {
                    return Poll::Pending;
                }
                woken.task.register(cx.waker());
                if !woken.fired.swap(false, Ordering::AcqRel) {
                    return Poll::Pending;
                }
                let waker = std::task::Waker::from(woken.clone());
                if watch
                    .as_mut()
                    .poll(&mut Context::from_waker(&waker))
                    .is_pending()
                {
                    return Poll::Pending;
                }
                // Stop or idle: finish what is in flight, then close; poll again so
                // the connection sees it.
                watching = false;
                conn.as_mut().graceful_shutdown();
            }
        })
        .await;
        if let Some(Err(e)) = ended {
            tracing::debug!(target: "hasten::server", ?peer, error = %e, "connection ended with an error");
        }
        return;
    }
    if let Err(e) = conn.await {
        tracing::debug!(target: "hasten::server", ?peer, error = %e, "connection ended with an error");
    }
}

/// Wakes the connection's task for its watcher, and says so.
struct WatchWaker {
    fired: std::sync::atomic::AtomicBool,
    task: futures_util::task::AtomicWaker,
}

impl Default for WatchWaker {
    fn default() -> Self {
        WatchWaker {
            // The watcher's first poll sets up its timer.
            fired: std::sync::atomic::AtomicBool::new(true),
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

/// Resolves when a connection should wind down: the server is stopping, or the
/// connection was idle for the whole keep-alive period. The idle check runs every
/// quarter of the period: a connection that moved no bytes and had no request in
/// flight since the last activity seen is closed between one and one and a quarter
/// periods after it fell silent.
async fn watch_connection(
    mut stop: watch::Receiver<bool>,
    keep_alive: Option<Duration>,
    activity: Arc<Activity>,
    peer: Option<SocketAddr>,
) {
    let mut last_active = Instant::now();
    let mut seen = activity.ops.load(Ordering::Relaxed);
    let mut next_check = keep_alive.map(|k| last_active + quarter(k));
    loop {
        tokio::select! {
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    return;
                }
            }
            () = sleep_until_opt(next_check), if next_check.is_some() => {
                let Some(k) = keep_alive else { continue };
                let now = Instant::now();
                let ops = activity.ops.load(Ordering::Relaxed);
                if ops != seen || activity.inflight.load(Ordering::Relaxed) > 0 {
                    seen = ops;
                    last_active = now;
                }
                if now.saturating_duration_since(last_active) >= k {
                    tracing::debug!(target: "hasten::server", ?peer, "closing idle connection");
                    return;
                }
                next_check = Some((now + quarter(k)).min(last_active + k));
            }
        }
    }
}

/// A quarter of the keep-alive period, at least a millisecond.
fn quarter(k: Duration) -> Duration {
    (k / 4).max(Duration::from_millis(1))
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
