//! The HTTP server: hyper 1 (HTTP/1.1 with keep-alive and pipelining, HTTP/2 with prior
//! knowledge) on a tokio multi-thread runtime, with safe defaults. With the cargo feature
//! `tls`, `Server::tls` serves HTTPS, HTTP/2 or HTTP/1.1 chosen by ALPN.
//!
//! | limit | default | what happens |
//! |---|---|---|
//! | request body ([`App::body_limit`](crate::App::body_limit)) | 1 MiB | 413 "Content Too Large" |
//! | header read timeout | 10 s | a client that has not sent its whole head is disconnected (slow-loris) |
//! | TLS handshake (with `Server::tls`) | the header read timeout | a client that has not completed its handshake is disconnected |
//! | body timeout | 30 s | a request body that pauses this long while the app waits for it: 408, then close |
//! | minimum body rate | 240 bytes/s after 5 s | a body trickled in slower than this: 408, then close |
//! | send timeout | 30 s | a client that takes no response bytes (a full socket, or no HTTP/2 window) this long is disconnected |
//! | keep-alive idle timeout | 5 s | an idle connection is closed (HTTP/2: GOAWAY) |
//! | concurrent connections | 10 000 | further clients wait in the listen backlog; an upgraded WebSocket keeps its slot |
//! | HTTP/2 streams per connection | 128 | further streams are refused by the client's own accounting (`SETTINGS_MAX_CONCURRENT_STREAMS`) |
//! | shutdown deadline | 30 s | in-flight requests finish; then every connection still open is dropped |
//!
//! With HTTP/1.1 the header read timer also runs while a keep-alive connection waits for
//! its next request, so an idle connection is closed after the shorter of the two. A
//! connection that is closing (idle, or the server is stopping) and moves no bytes for
//! the send timeout is dropped. See `RELIABILITY.md` for the attacks each one stops.

pub use crate::body::BodyTimedOut;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::net::{TcpListener, ToSocketAddrs};
use tokio::sync::{watch, Semaphore};

use crate::app::AppService;
use crate::connection::{serve_connection, BodyTimeouts, ConnSettings, Protocols};
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

/// How much one connection (HTTP/1.1) or one stream (HTTP/2) buffers ahead of the
/// client: the response bytes queued before the socket takes them, and the largest
/// request head. hyper's default, ~400 KiB, let each client that stops reading pin that
/// much memory; with 64 KiB, 10,000 such clients hold at most about 1.3 GiB (one file
/// chunk and this buffer each) instead of about 5 GiB. A request head over 64 KiB gets
/// 431 (nginx allows 32 KiB by default, uvicorn's h11 16 KiB).
const CONNECTION_BUFFER: usize = 64 * 1024;

/// Connection-level settings.
#[derive(Debug, Clone)]
pub(crate) struct ServerConfig {
    pub(crate) header_read_timeout: Option<Duration>,
    pub(crate) keep_alive_timeout: Option<Duration>,
    pub(crate) body: BodyTimeouts,
    pub(crate) send_timeout: Option<Duration>,
    pub(crate) max_connections: usize,
    pub(crate) http2_max_streams: u32,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) drain_delay: Duration,
    /// Speak TLS on every accepted connection.
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<crate::tls::TlsConfig>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            header_read_timeout: Some(Server::DEFAULT_HEADER_READ_TIMEOUT),
            keep_alive_timeout: Some(Server::DEFAULT_KEEP_ALIVE_TIMEOUT),
            body: BodyTimeouts {
                idle: Some(Server::DEFAULT_BODY_TIMEOUT),
                min_rate: Server::DEFAULT_MIN_BODY_RATE.0,
                grace: Server::DEFAULT_MIN_BODY_RATE.1,
            },
            send_timeout: Some(Server::DEFAULT_SEND_TIMEOUT),
            max_connections: Server::DEFAULT_MAX_CONNECTIONS,
            http2_max_streams: Server::DEFAULT_HTTP2_MAX_CONCURRENT_STREAMS,
            shutdown_timeout: Server::DEFAULT_SHUTDOWN_TIMEOUT,
            drain_delay: Duration::ZERO,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

impl ServerConfig {
    /// hyper's HTTP/1.1 and HTTP/2 builders with the server's limits.
    pub(crate) fn protocols(&self) -> Protocols {
        let mut http1 = hyper::server::conn::http1::Builder::new();
        http1
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_read_timeout)
            .keep_alive(true)
            .max_buf_size(CONNECTION_BUFFER);
        let mut http2 = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
        http2
            .timer(TokioTimer::new())
            .max_concurrent_streams(self.http2_max_streams)
            .max_send_buf_size(CONNECTION_BUFFER);
        Protocols {
            http1,
            http2,
            choose_timeout: self.header_read_timeout,
            https: self.tls(),
        }
    }

    /// Whether connections speak TLS.
    #[cfg(feature = "tls")]
    pub(crate) fn tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Whether connections speak TLS: never without the feature.
    #[cfg(not(feature = "tls"))]
    pub(crate) fn tls(&self) -> bool {
        false
    }

    /// What each connection enforces.
    pub(crate) fn connection(&self) -> ConnSettings {
        ConnSettings {
            keep_alive: self.keep_alive_timeout,
            send_timeout: self.send_timeout,
            body: self.body,
            shutdown_timeout: self.shutdown_timeout,
            await_post_work: false,
        }
    }
}

/// What every connection of a server is served with.
#[derive(Clone)]
struct Serving {
    app: Arc<crate::pipeline::Dispatcher>,
    protocols: Arc<Protocols>,
    settings: ConnSettings,
    stop: watch::Receiver<bool>,
    /// The TLS handshake each connection runs first, if any.
    #[cfg(feature = "tls")]
    tls: Option<crate::tls::Handshake>,
}

/// Serve one accepted connection on a task of its own.
fn spawn_connection<I>(
    io: I,
    peer: Option<SocketAddr>,
    permit: tokio::sync::OwnedSemaphorePermit,
    serving: &Serving,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let Serving {
        app,
        protocols,
        settings,
        stop,
        #[cfg(feature = "tls")]
        tls,
    } = serving.clone();
    let slot = crate::connection::Slot::new(
        permit,
        #[cfg(feature = "metrics")]
        app.metrics().map(|m| &**m),
    );
    tokio::spawn(async move {
        // The handshake runs here, on the connection's task, holding its slot: a
        // client that never finishes it keeps the slot only until its deadline.
        #[cfg(feature = "tls")]
        if let Some(tls) = tls {
            if let Some(io) = tls.accept(io, peer, stop.clone()).await {
                serve_connection(io, peer, app, &protocols, settings, Some(slot), stop).await;
            }
            return;
        }
        serve_connection(io, peer, app, &protocols, settings, Some(slot), stop).await;
    });
}

/// What a server listens on.
enum Listener {
    Tcp(TcpListener),
    /// The socket, its path, and whether the server made it (then the file is removed
    /// when the server is done; an inherited socket's file is its owner's).
    #[cfg(unix)]
    Unix(tokio::net::UnixListener, std::path::PathBuf, bool),
}

/// An accepted connection.
enum Accepted {
    Tcp(tokio::net::TcpStream, SocketAddr),
    #[cfg(unix)]
    Unix(tokio::net::UnixStream),
}

impl Listener {
    async fn accept(&self) -> io::Result<Accepted> {
        match self {
            Listener::Tcp(l) => l.accept().await.map(|(s, peer)| Accepted::Tcp(s, peer)),
            #[cfg(unix)]
            Listener::Unix(l, ..) => l.accept().await.map(|(s, _)| Accepted::Unix(s)),
        }
    }

    /// Where it listens, for the log (`https://` with TLS).
    fn describe(&self, tls: bool) -> String {
        match self {
            Listener::Tcp(l) => match l.local_addr() {
                Ok(addr) if tls => format!("https://{addr}"),
                Ok(addr) => format!("http://{addr}"),
                Err(e) => format!("a TCP socket ({e})"),
            },
            #[cfg(unix)]
            Listener::Unix(_, path, _) if tls => format!("unix:{} (TLS)", path.display()),
            #[cfg(unix)]
            Listener::Unix(_, path, _) => format!("unix:{}", path.display()),
        }
    }
}

#[cfg(unix)]
impl Drop for Listener {
    fn drop(&mut self) {
        if let Listener::Unix(_, path, true) = self {
            let _ = std::fs::remove_file(path);
        }
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
///     .body_timeout(Duration::from_secs(60))
///     .send_timeout(Duration::from_secs(60))
///     .max_connections(50_000)
///     .shutdown_timeout(Duration::from_secs(10))
///     .serve(app)
///     .await
/// # }
/// ```
pub struct Server {
    listener: Listener,
    config: ServerConfig,
    shutdown: Option<BoxFuture<()>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("listening", &self.listener.describe(self.config.tls()))
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// The default [`header_read_timeout`](Server::header_read_timeout): 10 s.
    pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
    /// The default [`keep_alive_timeout`](Server::keep_alive_timeout): 5 s.
    pub const DEFAULT_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(5);
    /// The default [`body_timeout`](Server::body_timeout): 30 s.
    pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);
    /// The default [`min_body_rate`](Server::min_body_rate): 240 bytes/s after 5 s.
    pub const DEFAULT_MIN_BODY_RATE: (u64, Duration) = (240, Duration::from_secs(5));
    /// The default [`send_timeout`](Server::send_timeout): 30 s.
    pub const DEFAULT_SEND_TIMEOUT: Duration = Duration::from_secs(30);
    /// The default [`max_connections`](Server::max_connections): 10,000.
    pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
    /// The default [`http2_max_concurrent_streams`](Server::http2_max_concurrent_streams):
    /// 128.
    pub const DEFAULT_HTTP2_MAX_CONCURRENT_STREAMS: u32 = 128;
    /// The default [`shutdown_timeout`](Server::shutdown_timeout): 30 s.
    pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

    /// Bind a TCP listener.
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<Server> {
        Ok(Server::from_listener(TcpListener::bind(addr).await?))
    }

    /// Bind a TCP listener that other processes may bind too (`SO_REUSEPORT`, with
    /// `SO_REUSEADDR`): the kernel spreads new connections over every process bound,
    /// so a new instance can start beside the old one before the old one drains, for
    /// a restart without refused connections.
    #[cfg(unix)]
    pub fn bind_reuse_port(addr: SocketAddr) -> io::Result<Server> {
        let socket = if addr.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        socket.set_reuseport(true)?;
        socket.bind(addr)?;
        Ok(Server::from_listener(socket.listen(1024)?))
    }

    /// Bind a Unix domain socket at `path` (for a proxy on the same host): a stale
    /// socket file left by an earlier run is replaced. Clients have no IP address
    /// there: the access log shows `-`.
    #[cfg(unix)]
    pub fn bind_unix(path: impl AsRef<std::path::Path>) -> io::Result<Server> {
        let path = path.as_ref();
        match std::fs::symlink_metadata(path) {
            Ok(meta) if std::os::unix::fs::FileTypeExt::is_socket(&meta.file_type()) => {
                std::fs::remove_file(path)?;
            }
            _ => {}
        }
        Ok(Server {
            listener: Listener::Unix(tokio::net::UnixListener::bind(path)?, path.to_owned(), true),
            config: ServerConfig::default(),
            shutdown: None,
        })
    }

    /// Serve on the socket systemd passed to this process (socket activation: a
    /// `.socket` unit, or `systemd-socket-activate`), TCP or Unix. With a `.socket`
    /// unit systemd keeps the socket open across the service's restarts, so clients wait
    /// in its backlog instead of being refused. An error says why when there is no such
    /// socket (`LISTEN_FDS` unset, or meant for another process).
    ///
    /// ```no_run
    /// # async fn run(app: hasten::App) -> std::io::Result<()> {
    /// // hello.socket: [Socket] ListenStream=8000
    /// hasten::Server::from_systemd()?.serve(app).await
    /// # }
    /// ```
    #[cfg(unix)]
    pub fn from_systemd() -> io::Result<Server> {
        let mut fds = listenfd::ListenFd::from_env();
        if fds.len() == 0 {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "no socket was passed to this process (LISTEN_FDS and LISTEN_PID name none \
                 for it): start it from a systemd .socket unit or with systemd-socket-activate",
            ));
        }
        let unexpected = |e: io::Error| {
            io::Error::new(
                e.kind(),
                format!(
                    "the socket systemd passed is not a listening TCP or Unix stream socket: {e}"
                ),
            )
        };
        let listener = if let Ok(Some(tcp)) = fds.take_tcp_listener(0) {
            tcp.set_nonblocking(true)?;
            Listener::Tcp(TcpListener::from_std(tcp)?)
        } else {
            let unix = fds
                .take_unix_listener(0)
                .map_err(unexpected)?
                .ok_or_else(|| {
                    unexpected(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "it was already taken",
                    ))
                })?;
            unix.set_nonblocking(true)?;
            let path = unix
                .local_addr()?
                .as_pathname()
                .map(std::path::Path::to_path_buf)
                .unwrap_or_default();
            Listener::Unix(tokio::net::UnixListener::from_std(unix)?, path, false)
        };
        Ok(Server {
            listener,
            config: ServerConfig::default(),
            shutdown: None,
        })
    }

    /// Serve on an existing listener: one inherited some other way than
    /// [`from_systemd`](Server::from_systemd), converted with `TcpListener::from_std`.
    pub fn from_listener(listener: TcpListener) -> Server {
        Server {
            listener: Listener::Tcp(listener),
            config: ServerConfig::default(),
            shutdown: None,
        }
    }

    /// The bound address (useful after binding port 0); an error for a Unix socket.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        match &self.listener {
            Listener::Tcp(l) => l.local_addr(),
            #[cfg(unix)]
            Listener::Unix(_, path, _) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("the server listens on the Unix socket {}", path.display()),
            )),
        }
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

    /// How long a request body may pause while the app waits for it (default 30 s;
    /// `None` disables it). The timer restarts with every chunk, like nginx's
    /// `client_body_timeout`; when it runs out the app answers 408 and the connection
    /// closes. Time the app spends not reading does not count.
    pub fn body_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.config.body.idle = timeout.into();
        self
    }

    /// The slowest a request body may arrive, in bytes per second of the app waiting
    /// for it, once `grace` of waiting has passed (default 240 bytes/s after 5 s, as
    /// ASP.NET Core's Kestrel; `0` disables it). This stops a body trickled in a byte
    /// at a time, which the body timeout alone would not: 408, then close.
    pub fn min_body_rate(mut self, bytes_per_second: u64, grace: Duration) -> Self {
        self.config.body.min_rate = bytes_per_second;
        self.config.body.grace = grace;
        self
    }

    /// How long a write to the client may make no progress (default 30 s; `None`
    /// disables it): a client that stops reading the response — a full socket over
    /// HTTP/1.1, no flow-control window over HTTP/2 — is disconnected after this. A
    /// connection that is closing is also dropped once nothing moved for this long.
    pub fn send_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.config.send_timeout = timeout.into();
        self
    }

    /// The most connections served at once (default 10 000). A connection upgraded to
    /// a WebSocket keeps its slot until the socket closes.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.config.max_connections = n.max(1);
        self
    }

    /// The most concurrent HTTP/2 streams on one connection (default 128, as nginx).
    pub fn http2_max_concurrent_streams(mut self, n: u32) -> Self {
        self.config.http2_max_streams = n.max(1);
        self
    }

    /// How long shutdown waits for in-flight requests (default 30 s); connections still
    /// open then are dropped.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.config.shutdown_timeout = timeout;
        self
    }

    /// How long the server keeps serving, new connections included, after the shutdown
    /// signal and before it drains (default 0). Meanwhile the app's readiness probe
    /// ([`App::readiness`](crate::App::readiness)) answers 503, so a load balancer
    /// stops sending it traffic before it stops accepting any: set it to a little
    /// more than the balancer's health-check interval.
    pub fn drain_delay(mut self, delay: Duration) -> Self {
        self.config.drain_delay = delay;
        self
    }

    /// Serve HTTPS: every accepted connection first completes a TLS handshake with
    /// `config` (TLS 1.2 or 1.3), then speaks HTTP/2 or HTTP/1.1 as its client chose
    /// by ALPN. The handshake runs on the connection's own task and must finish within
    /// the [header read timeout](Server::header_read_timeout) (10 s by default); a
    /// client that fails it or runs out of time is disconnected, and the failure logged
    /// at debug level. Requires the cargo feature `tls`; see [`crate::tls`].
    ///
    /// ```no_run
    /// # use hasten::{App, Server};
    /// # async fn run(app: App) -> std::io::Result<()> {
    /// let tls = hasten::tls::TlsConfig::from_pem_files("cert.pem", "key.pem")?;
    /// Server::bind("0.0.0.0:8443").await?.tls(tls).serve(app).await
    /// # }
    /// ```
    #[cfg(feature = "tls")]
    pub fn tls(mut self, config: crate::tls::TlsConfig) -> Self {
        self.config.tls = Some(config);
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
        crate::panics::install_hook();
        let max = config.max_connections;
        let slots = Arc::new(Semaphore::new(max));
        #[cfg(feature = "metrics")]
        if let Some(metrics) = service.dispatcher.metrics() {
            metrics.add_server(max as i64);
        }
        let (stop_tx, stop_rx) = watch::channel(false);
        let signal = shutdown.unwrap_or_else(|| Box::pin(shutdown_signal()));
        // The signal, then the drain delay: readiness answers 503 from the signal on,
        // while the server still accepts until the delay is over.
        let (rt, delay) = (service.dispatcher.runtime().clone(), config.drain_delay);
        let mut shutdown = std::pin::pin!(async move {
            signal.await;
            crate::health::start_draining(&rt);
            if !delay.is_zero() {
                tracing::info!(
                    target: "hasten::server",
                    ?delay,
                    "shutting down: readiness is 503; still serving until the drain"
                );
                tokio::time::sleep(delay).await;
            }
        });
        let place = listener.describe(config.tls());
        if tracing::dispatcher::has_been_set() {
            tracing::info!(target: "hasten::server", "serving on {place}");
        } else {
            // No log is set up (a first app): say where it is, as uvicorn does.
            eprintln!("hasten: serving on {place} (press Ctrl+C to stop)");
        }
        let serving = Serving {
            app: service.dispatcher.clone(),
            protocols: Arc::new(config.protocols()),
            settings: config.connection(),
            stop: stop_rx,
            // Each connection's handshake must fit in the header read timeout (else
            // the keep-alive timeout, which would close an idle plain-text connection).
            #[cfg(feature = "tls")]
            tls: config
                .tls
                .as_ref()
                .map(|t| t.handshake(config.header_read_timeout.or(config.keep_alive_timeout))),
        };
        loop {
            let permit = tokio::select! {
                biased;
                () = &mut shutdown => break,
                p = slots.clone().acquire_owned() => match p {
                    Ok(p) => p,
                    Err(_) => break,
                },
            };
            let accepted = tokio::select! {
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
            // The slot travels with the connection, and with its WebSocket if upgraded.
            match accepted {
                Accepted::Tcp(stream, peer) => {
                    let _ = stream.set_nodelay(true);
                    spawn_connection(stream, Some(peer), permit, &serving);
                }
                #[cfg(unix)]
                Accepted::Unix(stream) => {
                    spawn_connection(stream, None, permit, &serving);
                }
            }
        }
        drop(listener);
        #[cfg(feature = "metrics")]
        if let Some(metrics) = service.dispatcher.metrics() {
            metrics.add_server(-(max as i64));
        }
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
        let abandoned = service.dispatcher.runtime().tasks.wait(left).await;
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
