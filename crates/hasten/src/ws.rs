//! WebSockets: `#[websocket("/path/{p}")]` operations.
//!
//! A WebSocket operation takes its path, query, header and dependency parameters like
//! any other, plus a [`WebSocket`]. The handshake answer (101) is sent when the handler
//! calls [`WebSocket::accept`]; a handler that returns without accepting refuses the
//! connection with its response (403 when it returns nothing useful). Input errors and
//! an [`HttpError`](crate::HttpError) from a dependency before `accept` are reported as
//! FastAPI reports them over a WebSocket (`WebSocketRequestValidationError`,
//! `WebSocketException`): the connection is accepted and closed with code 1008, the
//! errors or the error's detail as the reason — whatever the app's error handlers
//! render over HTTP.
//!
//! Pings are answered, fragmented messages are reassembled, text is checked to be
//! UTF-8, and messages and frames over the app's limits
//! ([`App::websocket_limits`](crate::App::websocket_limits), 16 MiB each by default)
//! close the connection with 1009. permessage-deflate is not offered.
//!
//! Safe defaults, as for HTTP:
//! - an open WebSocket keeps its connection's slot under the server's
//!   [`max_connections`](crate::Server::max_connections) until it closes;
//! - a quiet peer is pinged, and one that does not answer is closed with 1011
//!   ([`App::websocket_keepalive`](crate::App::websocket_keepalive), 20 s + 20 s);
//! - a send that makes no progress for the server's
//!   [`send_timeout`](crate::Server::send_timeout) drops the connection;
//! - when the server shuts down, sockets waiting in `receive` are closed with 1012.
//!
//! ```
//! use hasten::prelude::*;
//! use hasten::ws::WebSocket;
//!
//! /// Echo every message back.
//! #[websocket("/ws/{room}")]
//! async fn echo(mut socket: WebSocket, room: String) {
//!     if socket.accept().await.is_err() {
//!         return;
//!     }
//!     while let Ok(message) = socket.receive().await {
//!         if socket.send(message).await.is_err() {
//!             break;
//!         }
//!     }
//!     let _ = room;
//! }
//! # let _ = App::new().route(echo).build().unwrap();
//! ```

use std::time::Duration;

use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{FutureExt, SinkExt, StreamExt};
use http::header::{CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, UPGRADE};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::{oneshot, watch};
use tokio::time::Sleep;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message as Frame};
use tokio_tungstenite::WebSocketStream;

use crate::connection::{Activity, UpgradeSlot};
use crate::extract::{Errors, Extracted, FromRequest, ParamSpec, RequestCtx};
use crate::future::BoxFuture;
use crate::openapi::model::OperationDoc;
use crate::response::Response;

/// Bytes read from the socket at a time. The protocol library's default (128 KiB) is
/// allocated for every connection and zeroed before every read, which made that
/// zeroing most of the cost of echoing a small message; 8 KiB is what hyper reads
/// with. Larger messages arrive in more reads, each into the same growing buffer.
const READ_BUFFER: usize = 8 * 1024;

use crate::runtime::Keepalive;
pub use crate::runtime::DEFAULT_MAX_MESSAGE;

type Stream = WebSocketStream<TokioIo<Upgraded>>;

/// The keepalive of one open socket. Hearing from the peer costs a flag; the timer
/// moves once per interval.
struct Pinger {
    settings: Keepalive,
    interval: Duration,
    timer: Pin<Box<Sleep>>,
    heard: bool,
    awaiting_pong: bool,
}

enum Due {
    Ping,
    Dead,
    Fine,
}

impl Pinger {
    fn new(settings: Keepalive) -> Option<Self> {
        let interval = settings.interval?;
        Some(Pinger {
            settings,
            interval,
            timer: Box::pin(tokio::time::sleep(interval)),
            heard: false,
            awaiting_pong: false,
        })
    }

    /// The timer fired: what to do, and when to look again.
    fn due(&mut self) -> Due {
        let now = tokio::time::Instant::now();
        let (due, next) = if self.heard {
            (Due::Fine, self.interval)
        } else if self.awaiting_pong {
            (Due::Dead, self.settings.timeout)
        } else {
            (Due::Ping, self.settings.timeout)
        };
        self.awaiting_pong = matches!(due, Due::Ping);
        self.heard = false;
        self.timer.as_mut().reset(now + next);
        due
    }
}

/// An accepted socket and what watches it.
struct Open {
    stream: Stream,
    /// The connection it was upgraded from: holds its slot under the server's cap.
    conn: Option<Arc<Activity>>,
    pinger: Option<Pinger>,
    stop: Option<watch::Receiver<bool>>,
    /// Counts the socket and its messages, when the app serves metrics.
    #[cfg(feature = "metrics")]
    meter: Option<crate::metrics::WsMeter>,
}

impl Open {
    fn new(stream: Stream, conn: Option<Arc<Activity>>, keepalive: Keepalive) -> Self {
        let stop = conn.as_ref().map(|c| c.stop_signal());
        Open {
            stream,
            conn,
            pinger: Pinger::new(keepalive),
            stop,
            #[cfg(feature = "metrics")]
            meter: None,
        }
    }

    /// Send one frame, giving up (`false`) when the socket takes no bytes for the
    /// server's send timeout. The clock is only involved when the socket is full.
    async fn send(&mut self, frame: Frame) -> bool {
        let limit = self.conn.as_ref().and_then(|c| c.send_timeout());
        let conn = self.conn.clone();
        let mut send = self.stream.send(frame);
        if let Some(done) = (&mut send).now_or_never() {
            return done.is_ok();
        }
        let (Some(limit), Some(conn)) = (limit, conn) else {
            return send.await.is_ok();
        };
        let mut seen = conn.writes();
        loop {
            match tokio::time::timeout(limit, &mut send).await {
                Ok(done) => return done.is_ok(),
                Err(_) if conn.writes() == seen => {
                    tracing::debug!(target: "hasten::ws", "send timeout: the peer is not reading");
                    return false;
                }
                Err(_) => seen = conn.writes(),
            }
        }
    }

    /// Close with `code` and `reason`, waiting at most `wait` for the peer's close.
    async fn close(&mut self, code: CloseCode, reason: &str, wait: Duration) {
        let frame = CloseFrame {
            code,
            reason: truncate(reason, 123).to_owned().into(),
        };
        let stream = &mut self.stream;
        let _ = tokio::time::timeout(wait, async {
            if stream.close(Some(frame)).await.is_ok() {
                while let Some(Ok(_)) = stream.next().await {}
            }
        })
        .await;
    }
}

/// What woke a `receive`.
enum Woke {
    Frame(Option<Result<Frame, tungstenite::Error>>),
    Keepalive,
    Stop,
}

async fn keepalive_due(pinger: &mut Option<Pinger>) {
    match pinger {
        Some(p) => p.timer.as_mut().await,
        None => std::future::pending().await,
    }
}

async fn stopping(stop: &mut Option<watch::Receiver<bool>>) {
    if let Some(rx) = stop {
        loop {
            if *rx.borrow_and_update() {
                return;
            }
            if rx.changed().await.is_err() {
                break;
            }
        }
    }
    std::future::pending().await
}

/// A message received or sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Bytes),
}

/// The peer closed the connection (or it broke): the close code and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disconnect {
    /// The close code (1000 normal, 1001 going away, 1006 no close frame …).
    pub code: u16,
    /// The reason the peer gave, if any.
    pub reason: String,
}

impl std::fmt::Display for Disconnect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WebSocket disconnected with code {}", self.code)?;
        if !self.reason.is_empty() {
            write!(f, ": {}", self.reason)?;
        }
        Ok(())
    }
}

impl std::error::Error for Disconnect {}

/// What can go wrong with a typed receive.
#[derive(Debug)]
pub enum WsError {
    /// The connection is gone.
    Disconnected(Disconnect),
    /// A message arrived but is not what was asked for (not JSON of that type, or
    /// binary where text was expected). The connection stays open.
    Decode(String),
    /// The socket was used before [`WebSocket::accept`] or after it was closed.
    NotOpen,
}

impl std::fmt::Display for WsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WsError::Disconnected(d) => d.fmt(f),
            WsError::Decode(e) => write!(f, "cannot decode the message: {e}"),
            WsError::NotOpen => f.write_str("the WebSocket is not open"),
        }
    }
}

impl std::error::Error for WsError {}

impl From<Disconnect> for WsError {
    fn from(d: Disconnect) -> Self {
        WsError::Disconnected(d)
    }
}

/// What `accept` asks of the connection task: the 101's extras, and where to send the
/// stream once the connection is upgraded.
struct AcceptRequest {
    subprotocol: Option<String>,
    headers: HeaderMap,
    reply: oneshot::Sender<Option<Open>>,
}

/// Carries [`Pending`] in the request's extensions (which need `Clone`).
#[derive(Clone)]
struct PendingSlot(std::sync::Arc<std::sync::Mutex<Option<Pending>>>);

/// On the response of a WebSocket operation whose input failed validation: the errors,
/// as the reason of the 1008 close (FastAPI's `WebSocketRequestValidationError`). Set
/// from the errors themselves, whatever the app's validation handler renders.
#[derive(Clone)]
pub(crate) struct InputRefused(pub(crate) String);

/// In the extensions of a request to a WebSocket operation, while it is served.
#[derive(Clone, Copy)]
pub(crate) struct WebSocketRequest;

/// Left in the request by the operation for its [`WebSocket`] parameter.
struct Pending {
    accept: oneshot::Sender<AcceptRequest>,
    protocols: Vec<String>,
}

enum State {
    /// Not accepted yet.
    Pending(Pending),
    Open(Box<Open>),
    Closed,
}

/// A WebSocket connection, as a parameter of a `#[websocket]` operation.
pub struct WebSocket {
    state: State,
    protocols: Vec<String>,
}

impl std::fmt::Debug for WebSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.state {
            State::Pending(_) => "pending",
            State::Open(_) => "open",
            State::Closed => "closed",
        };
        f.debug_struct("WebSocket").field("state", &state).finish()
    }
}

/// How the connection is accepted: a subprotocol and extra headers for the 101.
#[derive(Debug, Default, Clone)]
pub struct Accept {
    subprotocol: Option<String>,
    headers: HeaderMap,
}

impl Accept {
    /// Accept with nothing extra.
    pub fn new() -> Self {
        Accept::default()
    }

    /// Choose a subprotocol (it must be one the client offered).
    pub fn subprotocol(mut self, protocol: impl Into<String>) -> Self {
        self.subprotocol = Some(protocol.into());
        self
    }

    /// Add a header to the 101 response.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.append(name, value);
        self
    }
}

fn gone() -> Disconnect {
    Disconnect {
        code: 1006,
        reason: String::new(),
    }
}

impl WebSocket {
    /// The subprotocols the client offered (`Sec-WebSocket-Protocol`), in its order.
    pub fn offered_subprotocols(&self) -> &[String] {
        &self.protocols
    }

    /// Accept the connection: the server answers 101 and the socket is open.
    pub async fn accept(&mut self) -> Result<(), WsError> {
        self.accept_with(Accept::new()).await
    }

    /// Accept with a subprotocol and extra headers.
    pub async fn accept_with(&mut self, accept: Accept) -> Result<(), WsError> {
        let State::Pending(pending) = std::mem::replace(&mut self.state, State::Closed) else {
            return Err(WsError::NotOpen);
        };
        if let Some(p) = &accept.subprotocol {
            if !self.protocols.iter().any(|o| o == p) {
                tracing::warn!(target: "hasten::ws", subprotocol = %p, "accepting a subprotocol the client did not offer");
            }
        }
        let (reply, stream) = oneshot::channel();
        let request = AcceptRequest {
            subprotocol: accept.subprotocol,
            headers: accept.headers,
            reply,
        };
        if pending.accept.send(request).is_err() {
            return Err(WsError::Disconnected(gone()));
        }
        match stream.await {
            Ok(Some(s)) => {
                self.state = State::Open(Box::new(s));
                Ok(())
            }
            _ => Err(WsError::Disconnected(gone())),
        }
    }

    fn open(&mut self) -> Result<&mut Open, WsError> {
        match &mut self.state {
            State::Open(s) => Ok(s),
            _ => Err(WsError::NotOpen),
        }
    }

    /// The next message. Pings are answered and pongs skipped on the way; a close
    /// from the peer, or a broken connection, is a [`Disconnect`] with its code.
    pub async fn receive(&mut self) -> Result<Message, Disconnect> {
        let Ok(open) = self.open() else {
            return Err(gone());
        };
        loop {
            let woke = {
                let Open {
                    stream,
                    pinger,
                    stop,
                    ..
                } = &mut *open;
                tokio::select! {
                    biased;
                    frame = stream.next() => Woke::Frame(frame),
                    () = keepalive_due(pinger) => Woke::Keepalive,
                    () = stopping(stop) => Woke::Stop,
                }
            };
            let frame = match woke {
                Woke::Frame(frame) => frame,
                Woke::Keepalive => {
                    let due = open.pinger.as_mut().map_or(Due::Fine, Pinger::due);
                    match due {
                        Due::Fine => continue,
                        Due::Ping => {
                            if open.send(Frame::Ping(Bytes::new())).await {
                                continue;
                            }
                            self.state = State::Closed;
                            return Err(gone());
                        }
                        Due::Dead => {
                            tracing::debug!(target: "hasten::ws", "closing a WebSocket whose peer does not answer pings");
                            open.close(
                                CloseCode::Error,
                                "keepalive ping timeout",
                                Duration::from_secs(1),
                            )
                            .await;
                            self.state = State::Closed;
                            return Err(Disconnect {
                                code: 1006,
                                reason: "keepalive ping timeout".to_owned(),
                            });
                        }
                    }
                }
                Woke::Stop => {
                    open.close(CloseCode::Restart, "", Duration::from_secs(1))
                        .await;
                    self.state = State::Closed;
                    return Err(Disconnect {
                        code: 1012,
                        reason: String::new(),
                    });
                }
            };
            if let Some(p) = &mut open.pinger {
                p.heard = true;
            }
            let stream = &mut open.stream;
            let failure = match frame {
                Some(Ok(Frame::Text(t))) => {
                    #[cfg(feature = "metrics")]
                    if let Some(m) = &open.meter {
                        m.received();
                    }
                    return Ok(Message::Text(t.as_str().to_owned()));
                }
                Some(Ok(Frame::Binary(b))) => {
                    #[cfg(feature = "metrics")]
                    if let Some(m) = &open.meter {
                        m.received();
                    }
                    return Ok(Message::Binary(b));
                }
                Some(Ok(Frame::Ping(_) | Frame::Pong(_) | Frame::Frame(_))) => continue,
                Some(Ok(Frame::Close(frame))) => {
                    // The close reply is queued by the protocol; flush it.
                    let _ = tokio::time::timeout(Duration::from_secs(5), stream.flush()).await;
                    self.state = State::Closed;
                    return Err(match frame {
                        Some(f) => Disconnect {
                            code: f.code.into(),
                            reason: f.reason.as_str().to_owned(),
                        },
                        None => Disconnect {
                            code: 1005,
                            reason: String::new(),
                        },
                    });
                }
                None => {
                    self.state = State::Closed;
                    return Err(gone());
                }
                Some(Err(e)) => e,
            };
            // The peer broke the protocol: fail the connection with the right code.
            let code = match &failure {
                tungstenite::Error::Capacity(_) => CloseCode::Size,
                tungstenite::Error::Utf8(_) => CloseCode::Invalid,
                tungstenite::Error::Protocol(_) => CloseCode::Protocol,
                _ => {
                    self.state = State::Closed;
                    return Err(gone());
                }
            };
            tracing::debug!(target: "hasten::ws", error = %failure, "closing a WebSocket that broke the protocol");
            let _ = tokio::time::timeout(
                Duration::from_secs(5),
                stream.close(Some(CloseFrame {
                    code,
                    reason: "".into(),
                })),
            )
            .await;
            self.state = State::Closed;
            return Err(Disconnect {
                code: code.into(),
                reason: failure.to_string(),
            });
        }
    }

    /// The next text message; a binary one is a [`WsError::Decode`].
    pub async fn receive_text(&mut self) -> Result<String, WsError> {
        match self.receive().await? {
            Message::Text(t) => Ok(t),
            Message::Binary(_) => Err(WsError::Decode("expected text, got binary".into())),
        }
    }

    /// The next binary message; a text one is a [`WsError::Decode`].
    pub async fn receive_bytes(&mut self) -> Result<Bytes, WsError> {
        match self.receive().await? {
            Message::Binary(b) => Ok(b),
            Message::Text(_) => Err(WsError::Decode("expected binary, got text".into())),
        }
    }

    /// The next message (text or binary) parsed as JSON of type `T`; a message that is
    /// not is a [`WsError::Decode`] saying why, and the connection stays open.
    pub async fn receive_json<T: DeserializeOwned>(&mut self) -> Result<T, WsError> {
        let parsed = match self.receive().await? {
            Message::Text(t) => serde_json::from_str(&t),
            Message::Binary(b) => serde_json::from_slice(&b),
        };
        parsed.map_err(|e| WsError::Decode(e.to_string()))
    }

    /// Send a message.
    pub async fn send(&mut self, message: Message) -> Result<(), WsError> {
        let frame = match message {
            Message::Text(t) => Frame::Text(t.into()),
            Message::Binary(b) => Frame::Binary(b),
        };
        let open = self.open()?;
        if !open.send(frame).await {
            self.state = State::Closed;
            return Err(WsError::Disconnected(gone()));
        }
        #[cfg(feature = "metrics")]
        if let Some(m) = &open.meter {
            m.sent();
        }
        Ok(())
    }

    /// Send a text message.
    pub async fn send_text(&mut self, text: impl Into<String>) -> Result<(), WsError> {
        self.send(Message::Text(text.into())).await
    }

    /// Send a binary message.
    pub async fn send_bytes(&mut self, bytes: impl Into<Bytes>) -> Result<(), WsError> {
        self.send(Message::Binary(bytes.into())).await
    }

    /// Send `value` as a JSON text message.
    pub async fn send_json<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), WsError> {
        let text = serde_json::to_string(value).map_err(|e| WsError::Decode(e.to_string()))?;
        self.send_text(text).await
    }

    /// Close the connection with `code` and `reason` (at most 123 bytes; longer is
    /// cut at a character boundary), and wait (up to 5 s) for the peer's close.
    pub async fn close(&mut self, code: u16, reason: &str) -> Result<(), WsError> {
        self.open()?
            .close(CloseCode::from(code), reason, Duration::from_secs(5))
            .await;
        self.state = State::Closed;
        Ok(())
    }
}

/// At most `max` bytes of `s`, cut at a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

impl FromRequest for WebSocket {
    async fn from_request(
        ctx: &mut RequestCtx,
        _spec: &'static ParamSpec,
        errors: &mut Errors,
    ) -> Extracted<Self> {
        let pending = ctx
            .parts
            .extensions
            .remove::<PendingSlot>()
            .and_then(|slot| slot.0.lock().ok().and_then(|mut p| p.take()));
        match pending {
            Some(pending) => Some(WebSocket {
                protocols: pending.protocols.clone(),
                state: State::Pending(pending),
            }),
            None => {
                errors.reject(crate::HttpError::new(
                    StatusCode::BAD_REQUEST,
                    "A WebSocket parameter needs a #[websocket] operation",
                ));
                None
            }
        }
    }

    fn describe(_spec: &'static ParamSpec, _doc: &mut OperationDoc) {}
}

fn has_token(headers: &HeaderMap, name: HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// Whether the request asks to upgrade to a WebSocket.
pub(crate) fn is_upgrade(headers: &HeaderMap) -> bool {
    has_token(headers, UPGRADE, "websocket") && has_token(headers, CONNECTION, "upgrade")
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    crate::HttpError::plain(status, text).render()
}

/// Serve a WebSocket operation: check the handshake, run `run` (extraction and the
/// handler) as its own task, and answer 101 when it accepts. Used by generated code.
pub(crate) fn serve_websocket<F>(mut ctx: Box<RequestCtx>, run: F) -> BoxFuture<Response>
where
    F: FnOnce(Box<RequestCtx>) -> BoxFuture<Response> + Send + 'static,
{
    Box::pin(async move {
        let headers = &ctx.parts.headers;
        if ctx.parts.method != http::Method::GET || !is_upgrade(headers) {
            // Like Starlette: a WebSocket route does not serve plain HTTP.
            return crate::HttpError::new(StatusCode::NOT_FOUND, "Not Found").render();
        }
        if headers
            .get("sec-websocket-version")
            .is_none_or(|v| v.as_bytes() != b"13")
        {
            let mut resp = plain(
                StatusCode::UPGRADE_REQUIRED,
                "Unsupported WebSocket version",
            );
            resp.headers_mut()
                .insert("sec-websocket-version", HeaderValue::from_static("13"));
            return resp;
        }
        let Some(key) = headers
            .get(SEC_WEBSOCKET_KEY)
            .map(|k| k.as_bytes().to_vec())
        else {
            return plain(StatusCode::BAD_REQUEST, "Missing Sec-WebSocket-Key");
        };
        let Some(on_upgrade) = ctx.parts.extensions.remove::<OnUpgrade>() else {
            return plain(
                StatusCode::BAD_REQUEST,
                "This connection cannot be upgraded",
            );
        };
        let protocols: Vec<String> = headers
            .get_all("sec-websocket-protocol")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect();
        let limits = ctx.rt.limits.websocket;
        let keepalive = limits.keepalive;
        #[cfg(feature = "metrics")]
        let metrics = ctx.rt.slot::<Arc<crate::metrics::Metrics>>().cloned();
        let config = WebSocketConfig::default()
            .read_buffer_size(READ_BUFFER)
            .max_message_size(Some(limits.max_message))
            .max_frame_size(Some(limits.max_frame));
        let (accept_tx, accept_rx) = oneshot::channel();
        ctx.parts.extensions.insert(WebSocketRequest);
        ctx.parts
            .extensions
            .insert(PendingSlot(std::sync::Arc::new(std::sync::Mutex::new(
                Some(Pending {
                    accept: accept_tx,
                    protocols,
                }),
            ))));
        let span = crate::trace::websocket(&ctx.parts.extensions);
        let handler = tokio::spawn(tracing::Instrument::instrument(
            async move {
                let (parts, body) = run(ctx).await.into_parts();
                // Reading the body to its end runs cleanups and background tasks as for a
                // completed response.
                let body = http_body_util::BodyExt::collect(body)
                    .await
                    .map(|b| b.to_bytes())
                    .unwrap_or_default();
                (parts, body)
            },
            span,
        ));
        let accept_key = tungstenite::handshake::derive_accept_key(&key);
        // The connection fills it in as the 101 goes out.
        let slot = UpgradeSlot::default();
        let for_response = slot.clone();
        let switching = |extra: HeaderMap, subprotocol: Option<String>| {
            let mut resp = Response::new(crate::body::Body::empty());
            resp.extensions_mut().insert(for_response.clone());
            *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
            let h = resp.headers_mut();
            h.insert(UPGRADE, HeaderValue::from_static("websocket"));
            h.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
            if let Ok(v) = HeaderValue::from_str(&accept_key) {
                h.insert(SEC_WEBSOCKET_ACCEPT, v);
            }
            if let Some(p) = subprotocol.and_then(|p| HeaderValue::from_str(&p).ok()) {
                h.insert("sec-websocket-protocol", p);
            }
            for (name, value) in extra.iter() {
                h.append(name, value.clone());
            }
            resp
        };
        let upgrade = async move {
            match on_upgrade.await {
                Ok(upgraded) => {
                    let open = Open::new(
                        WebSocketStream::from_raw_socket(
                            TokioIo::new(upgraded),
                            Role::Server,
                            Some(config),
                        )
                        .await,
                        slot.connection(),
                        keepalive,
                    );
                    #[cfg(feature = "metrics")]
                    let open = Open {
                        meter: metrics.as_ref().map(|m| m.websocket()),
                        ..open
                    };
                    Some(open)
                }
                Err(e) => {
                    tracing::debug!(target: "hasten::ws", error = %e, "upgrade failed");
                    None
                }
            }
        };
        // The handler either accepts, or lets go of its socket (returned, failed
        // validation, or dropped it) without accepting.
        if let Ok(AcceptRequest {
            subprotocol,
            headers,
            reply,
        }) = accept_rx.await
        {
            tokio::spawn(async move {
                let _ = reply.send(upgrade.await);
            });
            return switching(headers, subprotocol);
        }
        let Ok((parts, body)) = handler.await else {
            return crate::response::internal_error(); // the handler panicked
        };
        // Invalid input, or an `HttpError` from a dependency or the handler before
        // `accept`: as FastAPI answers them (`WebSocketRequestValidationError`,
        // `WebSocketException`), accept, then close with 1008 (policy violation), the
        // errors or the detail as the reason. Decided by what failed, not by the status
        // the app's error handlers chose to render.
        let refused = parts
            .extensions
            .get::<InputRefused>()
            .map(|r| r.0.clone())
            .or_else(|| {
                parts
                    .extensions
                    .get::<crate::error::ErrorMarker>()
                    .map(|m| m.0.close_reason())
            });
        if let Some(reason) = refused {
            tokio::spawn(async move {
                if let Some(mut open) = upgrade.await {
                    open.close(CloseCode::Policy, &reason, Duration::from_secs(5))
                        .await;
                }
            });
            return switching(HeaderMap::new(), None);
        }
        if parts.status.is_client_error() {
            // Refused by a dependency or a security scheme: its answer, as is.
            return Response::from_parts(parts, crate::body::Body::from(body));
        }
        plain(StatusCode::FORBIDDEN, "Forbidden")
    })
}

/// Named rooms for broadcasting typed messages to many sockets: in one process
/// ([`Rooms::new`]), or through a channel broker to the sockets of every instance
/// ([`Rooms::through`], with Redis or PostgreSQL behind
/// [`Channels`](crate::channels::Channels)). For message numbers, missed-message counts,
/// history and presence, use [`Channels`](crate::channels::Channels) itself.
///
/// Each room is a bounded [`tokio::sync::broadcast`] channel: sending never waits for a
/// receiver, and a receiver that falls more than `capacity` messages behind skips the
/// oldest (its next `recv` reports how many it missed) instead of slowing the room
/// down. A room disappears when its last member leaves.
///
/// ```
/// use hasten::ws::Rooms;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let rooms: Rooms<String> = Rooms::new(64);
/// let mut ann = rooms.join("lobby");
/// let bob = rooms.join("lobby");
/// assert_eq!(rooms.send("lobby", "hi".to_owned()), 2);
/// assert_eq!(ann.recv().await.unwrap(), "hi");
/// drop((ann, bob));
/// assert_eq!(rooms.send("lobby", "anyone?".to_owned()), 0);
/// # }
/// ```
pub struct Rooms<T> {
    capacity: usize,
    rooms:
        Arc<std::sync::Mutex<std::collections::HashMap<String, tokio::sync::broadcast::Sender<T>>>>,
    via: Option<Via<T>>,
}

/// Sends a room's messages through a broker, and feeds a room from it.
struct Via<T> {
    channels: crate::channels::Channels,
    encode: fn(&T) -> Option<serde_json::Value>,
    decode: fn(&crate::channels::Message) -> Option<T>,
}

impl<T> std::fmt::Debug for Rooms<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.rooms.lock().map(|r| r.len()).unwrap_or(0);
        f.debug_struct("Rooms")
            .field("capacity", &self.capacity)
            .field("rooms", &n)
            .field("through_broker", &self.via.is_some())
            .finish()
    }
}

impl<T: Clone + Send + 'static> Rooms<T> {
    /// Rooms in this process, whose members may fall `capacity` messages behind before
    /// skipping.
    pub fn new(capacity: usize) -> Self {
        Rooms {
            capacity: capacity.max(1),
            rooms: Default::default(),
            via: None,
        }
    }

    /// Join `room` (made on first use): a receiver of every message sent from now on.
    pub fn join(&self, room: &str) -> tokio::sync::broadcast::Receiver<T> {
        let mut rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(sender) = rooms.get(room) {
            return sender.subscribe();
        }
        let (sender, receiver) = tokio::sync::broadcast::channel(self.capacity);
        if let Some(via) = &self.via {
            self.follow(via, room, &sender);
        }
        rooms.insert(room.to_owned(), sender);
        receiver
    }

    /// Feed `room` from the broker until it has no member left.
    fn follow(&self, via: &Via<T>, room: &str, sender: &tokio::sync::broadcast::Sender<T>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(target: "hasten::ws", "rooms joined outside a tokio runtime hear only this process");
            return;
        };
        // Subscribed now, so nothing sent after `join` returns is missed.
        let mut heard = via.channels.subscribe(room);
        let (decode, sender) = (via.decode, sender.clone());
        let (rooms, room) = (Arc::downgrade(&self.rooms), room.to_owned());
        runtime.spawn(async move {
            while let Some(delivery) = heard.recv().await {
                let crate::channels::Delivery::Message(m) = delivery else {
                    continue;
                };
                let Some(message) = decode(&m) else { continue };
                if sender.send(message).is_err() {
                    // Its last member left: forget the room (unless made anew).
                    if let Some(rooms) = rooms.upgrade() {
                        let mut rooms: std::sync::MutexGuard<'_, _> =
                            rooms.lock().unwrap_or_else(|e| e.into_inner());
                        if rooms.get(&room).is_some_and(|s| s.same_channel(&sender)) {
                            rooms.remove(&room);
                        }
                    }
                    return;
                }
            }
        });
    }

    /// Send `message` to everyone in `room`: how many members it reached in this
    /// process (0 for an empty or unknown room, which is then forgotten). Never waits:
    /// through a broker, the message is published in the background and reaches this
    /// process's members as it comes back.
    pub fn send(&self, room: &str, message: T) -> usize {
        if let Some(via) = &self.via {
            let here = self.members(room);
            match (
                (via.encode)(&message),
                tokio::runtime::Handle::try_current(),
            ) {
                (Some(value), Ok(runtime)) => {
                    let (channels, room) = (via.channels.clone(), room.to_owned());
                    runtime.spawn(async move {
                        if let Err(e) = channels.publish(&room, &value).await {
                            tracing::warn!(target: "hasten::ws", room, error = %e, "a room message was not published");
                        }
                    });
                }
                _ => tracing::warn!(target: "hasten::ws", room, "a room message was not published"),
            }
            return here;
        }
        let mut rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        let Some(sender) = rooms.get(room) else {
            return 0;
        };
        match sender.send(message) {
            Ok(n) => n,
            Err(_) => {
                rooms.remove(room);
                0
            }
        }
    }

    /// How many members `room` has in this process.
    pub fn members(&self, room: &str) -> usize {
        let rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        rooms.get(room).map_or(0, |s| s.receiver_count())
    }
}

impl<T> Rooms<T>
where
    T: Clone + Send + serde::Serialize + serde::de::DeserializeOwned + 'static,
{
    /// Rooms whose messages go through `channels`' broker (as JSON), so that the
    /// members on every instance sharing the broker hear them; the channels' capacity
    /// bounds each room. Make it inside the tokio runtime.
    pub fn through(channels: crate::channels::Channels) -> Self {
        Rooms {
            capacity: channels.room_capacity(),
            rooms: Default::default(),
            via: Some(Via {
                channels,
                encode: |m| serde_json::to_value(m).ok(),
                decode: |m| m.json::<T>().ok(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_slow_member_skips_instead_of_blocking() {
        let rooms: Rooms<u32> = Rooms::new(4);
        let mut slow = rooms.join("r");
        let mut fast = rooms.join("r");
        for i in 0..100 {
            assert_eq!(rooms.send("r", i), 2, "sending never blocks");
            assert_eq!(fast.recv().await.unwrap(), i);
        }
        // The slow member missed all but the last 4.
        match slow.recv().await {
            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => assert_eq!(n, 96),
            other => panic!("{other:?}"),
        }
        assert_eq!(slow.recv().await.unwrap(), 96);
    }

    #[test]
    fn reasons_are_cut_at_char_boundaries() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("héllo", 3), "hé");
        assert_eq!(truncate("ok", 123), "ok");
    }

    #[test]
    fn upgrade_needs_both_headers() {
        let mut h = HeaderMap::new();
        h.insert(UPGRADE, HeaderValue::from_static("WebSocket"));
        assert!(!is_upgrade(&h));
        h.insert(CONNECTION, HeaderValue::from_static("keep-alive, Upgrade"));
        assert!(is_upgrade(&h));
    }
}
