//! [`TestClient`]: drive an app in-process, through the real HTTP connection code.
//!
//! Each request opens an in-memory duplex pipe, serves the server side with the same
//! hyper connection code as production, and talks HTTP/1.1 (or HTTP/2) to it from the
//! client side — so parsing, limits and errors behave exactly as over TCP, without a
//! port.
//!
//! With the cargo feature `tls`, `TestClient::tls` puts TLS on the pipe, both ends,
//! as `Server::tls` serves it.
//!
//! [`TestRequest::send`] returns once the request's background tasks and dependency
//! cleanups have run, as Starlette's `TestClient` does: a test asserts their effects
//! right away, without polling.
//!
//! ```
//! use hasten::prelude::*;
//! use hasten::testing::TestClient;
//!
//! #[get("/items/{item_id}")]
//! async fn read_item(item_id: u32, q: Option<String>) -> Json<serde_json::Value> {
//!     Json(serde_json::json!({ "item_id": item_id, "q": q }))
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let client = TestClient::new(App::new().route(read_item));
//! let resp = client.get("/items/5").query(&[("q", "x")]).send().await;
//! assert_eq!(resp.status(), 200);
//! assert_eq!(resp.json::<serde_json::Value>(), serde_json::json!({"item_id": 5, "q": "x"}));
//!
//! let resp = client.get("/items/abc").send().await;
//! assert_eq!(resp.status(), 422);
//! # }
//! ```

use std::sync::Arc;

use bytes::Bytes;
use http::header::{HeaderName, CONTENT_TYPE, HOST};
use http::{HeaderMap, HeaderValue, Method, StatusCode, Version};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::watch;

use tokio_tungstenite::tungstenite::Message as Frame;

use crate::app::{AppService, BuildError};
use crate::connection::{serve_connection, ConnSettings, Protocols};
use crate::server::ServerConfig;
use crate::App;

/// An in-process client for an app.
#[derive(Clone)]
pub struct TestClient {
    service: AppService,
    protocols: Arc<Protocols>,
    settings: ConnSettings,
    /// Speak TLS over the pipe.
    #[cfg(feature = "tls")]
    tls: Option<crate::tls::TlsConfig>,
    /// The server's TLS handshake deadline.
    #[cfg(feature = "tls")]
    handshake_timeout: Option<std::time::Duration>,
}

impl std::fmt::Debug for TestClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestClient")
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

impl TestClient {
    /// Build the app and a client for it.
    ///
    /// # Panics
    /// If the app cannot be built (the message lists every problem); use
    /// [`TestClient::try_new`] to inspect the error instead.
    pub fn new(app: App) -> Self {
        match Self::try_new(app) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    /// Build the app and a client for it.
    pub fn try_new(app: App) -> Result<Self, BuildError> {
        Ok(Self::from_service(app.build()?))
    }

    /// Run the app's startup hooks, build it, and make a client for it. Call
    /// [`shutdown`](TestClient::shutdown) at the end of the test to run the shutdown
    /// hooks.
    ///
    /// # Panics
    /// If a startup hook fails or the app cannot be built.
    pub async fn start(app: App) -> Self {
        match app.start().await {
            Ok(service) => Self::from_service(service),
            Err(e) => panic!("{e}"),
        }
    }

    /// Run the app's shutdown hooks and the cleanups of app-scoped dependencies.
    pub async fn shutdown(&self) {
        self.service.shutdown().await;
    }

    /// The app's job queue (`None` without `App::jobs`), to enqueue jobs and look at
    /// them from a test.
    #[cfg(feature = "jobs")]
    pub fn jobs(&self) -> Option<crate::jobs::Jobs> {
        self.service.jobs()
    }

    /// A client for an already built app.
    pub fn from_service(service: AppService) -> Self {
        let config = ServerConfig::default();
        // The server's limits, but no keep-alive: a test may hold a connection idle.
        let mut settings = config.connection();
        settings.keep_alive = None;
        // A response is read whole when the request's background tasks and cleanups
        // have run, as Starlette's TestClient does: no test has to poll for them.
        settings.await_post_work = true;
        TestClient {
            service,
            protocols: Arc::new(config.protocols()),
            settings,
            #[cfg(feature = "tls")]
            tls: None,
            #[cfg(feature = "tls")]
            handshake_timeout: config.header_read_timeout,
        }
    }

    /// Speak TLS to the app, as [`Server::tls`](crate::Server::tls) serves it: each
    /// request's pipe gets a TLS handshake, the client offering `h2` by ALPN for an
    /// [`http2`](TestRequest::http2) request and `http/1.1` otherwise. The client
    /// trusts exactly `config`'s certificate, whatever names it carries. Requires the
    /// cargo feature `tls`.
    ///
    /// ```
    /// use hasten::prelude::*;
    /// use hasten::testing::TestClient;
    /// use hasten::tls::TlsConfig;
    ///
    /// #[get("/")]
    /// async fn root() -> &'static str {
    ///     "hello"
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// // A self-signed certificate made for the test (with the `rcgen` crate).
    /// let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    /// let tls = TlsConfig::from_pem(
    ///     made.cert.pem().as_bytes(),
    ///     made.signing_key.serialize_pem().as_bytes(),
    /// )?;
    /// let client = TestClient::new(App::new().route(root)).tls(tls);
    /// let resp = client.get("/").http2().send().await;
    /// assert_eq!(resp.status(), 200);
    /// assert_eq!(resp.text(), "hello");
    /// assert_eq!(resp.version(), hasten::http::Version::HTTP_2);
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "tls")]
    pub fn tls(mut self, config: crate::tls::TlsConfig) -> Self {
        let mut protocols = (*self.protocols).clone();
        protocols.https = true;
        self.protocols = Arc::new(protocols);
        self.tls = Some(config);
        self
    }

    /// A request with any method.
    pub fn request(&self, method: Method, path: &str) -> TestRequest<'_> {
        TestRequest {
            client: self,
            method,
            path: path.to_owned(),
            query: String::new(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            http2: false,
        }
    }

    /// A WebSocket handshake to `path`; finish it with
    /// [`connect`](TestRequest::connect).
    pub fn websocket(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::GET, path)
    }

    /// A GET request.
    pub fn get(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::GET, path)
    }

    /// A POST request.
    pub fn post(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::POST, path)
    }

    /// A PUT request.
    pub fn put(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::PUT, path)
    }

    /// A PATCH request.
    pub fn patch(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::PATCH, path)
    }

    /// A DELETE request.
    pub fn delete(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::DELETE, path)
    }

    /// An OPTIONS request.
    pub fn options(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::OPTIONS, path)
    }

    /// A HEAD request.
    pub fn head(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::HEAD, path)
    }
}

/// A request being built; [`send`](TestRequest::send) it.
#[derive(Debug)]
pub struct TestRequest<'a> {
    client: &'a TestClient,
    method: Method,
    path: String,
    query: String,
    headers: HeaderMap,
    body: Bytes,
    http2: bool,
}

impl TestRequest<'_> {
    /// Add query parameters from anything `serde_urlencoded` can encode: `&[("q", "x")]`,
    /// a map, a struct.
    ///
    /// # Panics
    /// If the value cannot be encoded as a query string.
    pub fn query<T: Serialize + ?Sized>(mut self, query: &T) -> Self {
        let encoded = serde_urlencoded::to_string(query)
            .unwrap_or_else(|e| panic!("TestRequest::query: cannot encode: {e}"));
        if !encoded.is_empty() {
            if !self.query.is_empty() {
                self.query.push('&');
            }
            self.query.push_str(&encoded);
        }
        self
    }

    /// Add a header (appended: call twice for a repeated header).
    ///
    /// # Panics
    /// If the name or value is not valid in HTTP.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        let name = HeaderName::from_bytes(name.as_bytes())
            .unwrap_or_else(|e| panic!("TestRequest::header: bad name {name:?}: {e}"));
        let value = HeaderValue::from_str(value)
            .unwrap_or_else(|e| panic!("TestRequest::header: bad value {value:?}: {e}"));
        self.headers.append(name, value);
        self
    }

    /// A JSON body (and `Content-Type: application/json`).
    ///
    /// # Panics
    /// If the value cannot be serialised.
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Self {
        let bytes = serde_json::to_vec(body)
            .unwrap_or_else(|e| panic!("TestRequest::json: cannot serialise: {e}"));
        self.body = bytes.into();
        self.headers
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        self
    }

    /// An urlencoded form body (and its `Content-Type`).
    ///
    /// # Panics
    /// If the value cannot be encoded.
    pub fn form<T: Serialize + ?Sized>(mut self, body: &T) -> Self {
        let encoded = serde_urlencoded::to_string(body)
            .unwrap_or_else(|e| panic!("TestRequest::form: cannot encode: {e}"));
        self.body = encoded.into();
        self.headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        self
    }

    /// A raw body (set `Content-Type` yourself with [`header`](Self::header)).
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// Speak HTTP/2 (prior knowledge) instead of HTTP/1.1.
    pub fn http2(mut self) -> Self {
        self.http2 = true;
        self
    }

    /// Send the request and read the whole response; returns once the request's
    /// background tasks and cleanups have run.
    ///
    /// # Panics
    /// If the connection fails (the server closed it without a response, say).
    pub async fn send(self) -> TestResponse {
        match self.try_send().await {
            Ok(r) => r,
            Err(e) => panic!("TestRequest::send: {e}"),
        }
    }

    /// Send the request; a connection failure is an `Err` instead of a panic.
    pub async fn try_send(self) -> Result<TestResponse, crate::body::BoxError> {
        let http2 = self.http2;
        let (client_io, req, server) = self.open().await?;
        let resp = if http2 {
            let (mut sender, conn) = hyper::client::conn::http2::handshake(
                TokioExecutor::new(),
                TokioIo::new(client_io),
            )
            .await?;
            tokio::spawn(conn);
            let resp = TestResponse::read(sender.send_request(req).await?).await?;
            drop(sender);
            resp
        } else {
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake(TokioIo::new(client_io)).await?;
            tokio::spawn(conn);
            let resp = TestResponse::read(sender.send_request(req).await?).await?;
            drop(sender);
            resp
        };
        // The client's side is closed: the server's ends once the request's
        // background tasks and cleanups have run.
        let _ = server.await;
        Ok(resp)
    }

    /// Open a WebSocket with this request (the upgrade headers are added): the open
    /// socket, or the response that refused it.
    ///
    /// # Panics
    /// If the connection fails before any response.
    pub async fn connect(mut self) -> Result<TestWebSocket, TestResponse> {
        use tokio_tungstenite::tungstenite::protocol::Role;
        self.http2 = false;
        for (name, value) in [
            ("connection", "Upgrade"),
            ("upgrade", "websocket"),
            ("sec-websocket-version", "13"),
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ] {
            if !self.headers.contains_key(name) {
                self = self.header(name, value);
            }
        }
        let opened = async {
            let (client_io, req, _server) = self.open().await?;
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake(TokioIo::new(client_io)).await?;
            tokio::spawn(conn.with_upgrades());
            Ok::<_, crate::body::BoxError>(sender.send_request(req).await?)
        };
        let resp = opened
            .await
            .unwrap_or_else(|e| panic!("TestRequest::connect: {e}"));
        if resp.status() != StatusCode::SWITCHING_PROTOCOLS {
            return Err(TestResponse::read(resp)
                .await
                .unwrap_or_else(|e| panic!("TestRequest::connect: {e}")));
        }
        let protocol = resp
            .headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let upgraded = hyper::upgrade::on(resp)
            .await
            .unwrap_or_else(|e| panic!("TestRequest::connect: upgrade failed: {e}"));
        let stream = tokio_tungstenite::WebSocketStream::from_raw_socket(
            TokioIo::new(upgraded),
            Role::Client,
            None,
        )
        .await;
        Ok(TestWebSocket { stream, protocol })
    }

    /// Serve the app on one end of an in-memory pipe (after a TLS handshake, with
    /// [`TestClient::tls`]); the other end and the request.
    async fn open(self) -> Result<Opened, crate::body::BoxError> {
        let (client_io, server_io) = tokio::io::duplex(256 * 1024);
        let (stop_tx, stop_rx) = watch::channel(false);
        let app = self.client.service.dispatcher.clone();
        let protocols = self.client.protocols.clone();
        let settings = self.client.settings;
        #[cfg(feature = "tls")]
        let handshake = self
            .client
            .tls
            .as_ref()
            .map(|t| t.handshake(self.client.handshake_timeout));
        let server = tokio::spawn(async move {
            let _keep_open = stop_tx;
            #[cfg(feature = "tls")]
            if let Some(handshake) = handshake {
                if let Some(io) = handshake.accept(server_io, None, stop_rx.clone()).await {
                    serve_connection(io, None, app, &protocols, settings, None, stop_rx).await;
                }
                return;
            }
            serve_connection(server_io, None, app, &protocols, settings, None, stop_rx).await;
        });
        #[cfg(feature = "tls")]
        let client_io: ClientIo = match &self.client.tls {
            Some(tls) => Box::pin(tls.connect_pinned(client_io, self.http2).await?),
            None => Box::pin(client_io),
        };
        #[cfg(not(feature = "tls"))]
        let client_io: ClientIo = Box::pin(client_io);

        let mut target = self.path.clone();
        if !self.query.is_empty() {
            target.push(if target.contains('?') { '&' } else { '?' });
            target.push_str(&self.query);
        }
        let uri = if self.http2 {
            format!("http://testserver{target}")
        } else {
            target
        };
        let mut req = http::Request::builder()
            .method(self.method)
            .uri(uri)
            .body(Full::new(self.body))?;
        *req.headers_mut() = self.headers;
        if !self.http2 && !req.headers().contains_key(HOST) {
            req.headers_mut()
                .insert(HOST, HeaderValue::from_static("testserver"));
        }
        Ok((client_io, req, server))
    }
}

/// The client's end of a test connection, the request to send on it, and the task
/// serving the other end (it ends after the request's post-response work).
type Opened = (
    ClientIo,
    http::Request<Full<Bytes>>,
    tokio::task::JoinHandle<()>,
);

/// The client's end of a test connection: the pipe, or TLS over it.
type ClientIo = std::pin::Pin<Box<dyn ClientStream>>;

/// What the client's end is.
trait ClientStream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send {}

impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send> ClientStream for T {}

/// A complete response.
#[derive(Debug, Clone)]
pub struct TestResponse {
    status: StatusCode,
    version: Version,
    headers: HeaderMap,
    body: Bytes,
}

impl TestResponse {
    async fn read(
        resp: http::Response<hyper::body::Incoming>,
    ) -> Result<Self, crate::body::BoxError> {
        let (parts, body) = resp.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok(TestResponse {
            status: parts.status,
            version: parts.version,
            headers: parts.headers,
            body,
        })
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The HTTP version spoken.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// One header as text, if present and valid UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body bytes.
    pub fn bytes(&self) -> &Bytes {
        &self.body
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON.
    ///
    /// # Panics
    /// If the body is not JSON of type `T` (the message shows the body).
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "TestResponse::json: {e}; status {}, body: {}",
                self.status,
                self.text()
            )
        })
    }
}

/// The client side of a WebSocket opened with [`TestRequest::connect`].
pub struct TestWebSocket {
    stream: tokio_tungstenite::WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>,
    protocol: Option<String>,
}

impl std::fmt::Debug for TestWebSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestWebSocket")
            .field("protocol", &self.protocol)
            .finish_non_exhaustive()
    }
}

impl TestWebSocket {
    /// The subprotocol the server chose, if any.
    pub fn subprotocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// Send a text message.
    ///
    /// # Panics
    /// If the connection is gone.
    pub async fn send_text(&mut self, text: &str) {
        use futures_util::SinkExt;
        self.stream
            .send(Frame::Text(text.into()))
            .await
            .unwrap_or_else(|e| panic!("TestWebSocket::send_text: {e}"));
    }

    /// Send a binary message.
    ///
    /// # Panics
    /// If the connection is gone.
    pub async fn send_bytes(&mut self, bytes: impl Into<Bytes>) {
        use futures_util::SinkExt;
        self.stream
            .send(Frame::Binary(bytes.into()))
            .await
            .unwrap_or_else(|e| panic!("TestWebSocket::send_bytes: {e}"));
    }

    /// Send `value` as JSON text.
    ///
    /// # Panics
    /// If the value cannot be serialised or the connection is gone.
    pub async fn send_json<T: Serialize + ?Sized>(&mut self, value: &T) {
        let text = serde_json::to_string(value)
            .unwrap_or_else(|e| panic!("TestWebSocket::send_json: {e}"));
        self.send_text(&text).await;
    }

    /// The next message, or the close (code and reason) that ended the connection.
    pub async fn receive(&mut self) -> Result<crate::ws::Message, crate::ws::Disconnect> {
        use futures_util::StreamExt;
        loop {
            match self.stream.next().await {
                Some(Ok(Frame::Text(t))) => {
                    return Ok(crate::ws::Message::Text(t.as_str().to_owned()))
                }
                Some(Ok(Frame::Binary(b))) => return Ok(crate::ws::Message::Binary(b)),
                Some(Ok(Frame::Close(frame))) => {
                    return Err(match frame {
                        Some(f) => crate::ws::Disconnect {
                            code: f.code.into(),
                            reason: f.reason.as_str().to_owned(),
                        },
                        None => crate::ws::Disconnect {
                            code: 1005,
                            reason: String::new(),
                        },
                    })
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => {
                    return Err(crate::ws::Disconnect {
                        code: 1006,
                        reason: String::new(),
                    })
                }
            }
        }
    }

    /// The next message as text.
    ///
    /// # Panics
    /// If it is binary, or the connection closed.
    pub async fn receive_text(&mut self) -> String {
        match self.receive().await {
            Ok(crate::ws::Message::Text(t)) => t,
            other => panic!("TestWebSocket::receive_text: got {other:?}"),
        }
    }

    /// The next message parsed as JSON.
    ///
    /// # Panics
    /// If it is not JSON of that type, or the connection closed.
    pub async fn receive_json<T: DeserializeOwned>(&mut self) -> T {
        let text = self.receive_text().await;
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("TestWebSocket::receive_json: {e}: {text}"))
    }

    /// Close with `code` and `reason`, and wait for the server's close.
    pub async fn close(&mut self, code: u16, reason: &str) {
        use futures_util::StreamExt;
        let frame = tokio_tungstenite::tungstenite::protocol::CloseFrame {
            code: code.into(),
            reason: reason.to_owned().into(),
        };
        if self.stream.close(Some(frame)).await.is_ok() {
            while let Some(Ok(_)) = self.stream.next().await {}
        }
    }
}
