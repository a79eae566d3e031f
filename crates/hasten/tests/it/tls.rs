//! TLS (the `tls` feature) over real TCP on 127.0.0.1: HTTP/2 and HTTP/1.1 chosen by
//! ALPN, plain-text and silent clients, the errors of bad PEM files, and the test
//! client over TLS. Certificates are made per test with rcgen. Every wait is bounded.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hasten::prelude::*;
use hasten::testing::TestClient;
use hasten::tls::TlsConfig;
use hasten::Server;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::timeout;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::ServerName;

const BOUND: Duration = Duration::from_secs(10);

#[get("/items/{item_id}")]
async fn read_item(item_id: u32, q: Option<String>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "item_id": item_id, "q": q }))
}

#[get("/list/")]
async fn list() -> &'static str {
    "list"
}

fn app() -> App {
    App::new().route(read_item).route(list)
}

/// A self-signed certificate for `localhost` and 127.0.0.1: (certificate PEM, key PEM,
/// certificate DER).
fn certificate() -> (String, String, rustls::pki_types::CertificateDer<'static>) {
    let made =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    (
        made.cert.pem(),
        made.signing_key.serialize_pem(),
        made.cert.der().clone(),
    )
}

struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
    /// The certificate the server presents, for the clients to trust.
    cert: rustls::pki_types::CertificateDer<'static>,
}

impl Running {
    /// Stop the server and wait (bounded) for it to finish.
    async fn stop(mut self) -> Duration {
        let started = Instant::now();
        let _ = self.stop.take().unwrap().send(());
        timeout(BOUND, &mut self.task)
            .await
            .expect("the server stops in time")
            .unwrap()
            .unwrap();
        started.elapsed()
    }
}

async fn start(configure: impl FnOnce(Server) -> Server) -> Running {
    let (cert_pem, key_pem, cert) = certificate();
    let tls = TlsConfig::from_pem(cert_pem.as_bytes(), key_pem.as_bytes()).unwrap();
    let server = configure(Server::bind("127.0.0.1:0").await.unwrap().tls(tls));
    let addr = server.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let server = server.with_graceful_shutdown(async move {
        let _ = rx.await;
    });
    Running {
        addr,
        stop: Some(tx),
        task: tokio::spawn(server.serve(app())),
        cert,
    }
}

/// A TLS client trusting `cert` (as a root), offering `alpn`, limited to `versions`.
fn connector(
    cert: &rustls::pki_types::CertificateDer<'static>,
    alpn: &[&[u8]],
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.clone()).unwrap();
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(versions)
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

type Tls = tokio_rustls::client::TlsStream<TcpStream>;

async fn handshake(
    srv: &Running,
    alpn: &[&[u8]],
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Tls {
    let tcp = timeout(BOUND, TcpStream::connect(srv.addr))
        .await
        .unwrap()
        .unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    timeout(
        BOUND,
        connector(&srv.cert, alpn, versions).connect(name, tcp),
    )
    .await
    .expect("the handshake finishes in time")
    .expect("the handshake succeeds")
}

/// GET `target` over an open TLS stream, with HTTP/2 or HTTP/1.1: status, version,
/// `Location`, body.
async fn get(tls: Tls, http2: bool, target: &str) -> (u16, http::Version, Option<String>, String) {
    let exchange = async {
        let req = http::Request::get(format!("https://localhost{target}"))
            .header("host", "localhost")
            .body(Empty::<Bytes>::new())
            .unwrap();
        let resp = if http2 {
            let (mut sender, conn) =
                hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
                    .await
                    .unwrap();
            tokio::spawn(conn);
            let mut req = req;
            req.headers_mut().remove("host");
            sender.send_request(req).await.unwrap()
        } else {
            let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
                .await
                .unwrap();
            tokio::spawn(conn);
            // Origin form, as a browser sends it over HTTP/1.1.
            let (mut parts, body) = req.into_parts();
            parts.uri = target.parse().unwrap();
            sender
                .send_request(http::Request::from_parts(parts, body))
                .await
                .unwrap()
        };
        let (parts, body) = resp.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        (
            parts.status.as_u16(),
            parts.version,
            parts
                .headers
                .get("location")
                .map(|v| v.to_str().unwrap().to_owned()),
            String::from_utf8_lossy(&body).into_owned(),
        )
    };
    timeout(BOUND, exchange)
        .await
        .expect("the exchange finishes in time")
}

const BOTH: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

#[tokio::test]
async fn alpn_h2_speaks_http2_and_http11_speaks_http11() {
    let srv = start(|s| s).await;

    let tls = handshake(&srv, &[b"h2", b"http/1.1"], BOTH).await;
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    assert_eq!(
        tls.get_ref().1.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_3)
    );
    let (status, version, _, body) = get(tls, true, "/items/1?q=books").await;
    assert_eq!((status, version), (200, http::Version::HTTP_2));
    assert_eq!(body, r#"{"item_id":1,"q":"books"}"#);

    let tls = handshake(&srv, &[b"http/1.1"], BOTH).await;
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    let (status, version, _, body) = get(tls, false, "/items/2").await;
    assert_eq!((status, version), (200, http::Version::HTTP_11));
    assert_eq!(body, r#"{"item_id":2,"q":null}"#);

    // A client without ALPN speaks HTTP/1.1.
    let tls = handshake(&srv, &[], BOTH).await;
    assert_eq!(tls.get_ref().1.alpn_protocol(), None);
    let (status, version, _, _) = get(tls, false, "/items/3").await;
    assert_eq!((status, version), (200, http::Version::HTTP_11));

    srv.stop().await;
}

#[tokio::test]
async fn tls12_is_accepted_too() {
    let srv = start(|s| s).await;
    let tls = handshake(&srv, &[b"h2"], &[&rustls::version::TLS12]).await;
    assert_eq!(
        tls.get_ref().1.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_2)
    );
    let (status, version, _, _) = get(tls, true, "/items/4").await;
    assert_eq!((status, version), (200, http::Version::HTTP_2));
    srv.stop().await;
}

#[tokio::test]
async fn redirects_keep_the_https_scheme() {
    // The trailing-slash redirect is absolute, built from the request's scheme: over
    // TLS it must say https, with HTTP/1.1 (origin-form targets) as with HTTP/2.
    let srv = start(|s| s).await;
    for http2 in [false, true] {
        let alpn: &[&[u8]] = if http2 { &[b"h2"] } else { &[b"http/1.1"] };
        let tls = handshake(&srv, alpn, BOTH).await;
        let (status, _, location, _) = get(tls, http2, "/list?page=2").await;
        assert_eq!(status, 307, "http2: {http2}");
        assert_eq!(
            location.as_deref(),
            Some("https://localhost/list/?page=2"),
            "http2: {http2}"
        );
    }
    srv.stop().await;
}

#[tokio::test]
async fn a_plain_text_client_is_closed_at_once() {
    // A long header timeout: the close comes from the failed handshake, not a timer.
    let srv = start(|s| s.header_read_timeout(Duration::from_secs(60))).await;
    let started = Instant::now();
    let mut tcp = TcpStream::connect(srv.addr).await.unwrap();
    tcp.write_all(b"GET /items/1 HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut got = Vec::new();
    let read = timeout(Duration::from_secs(5), async {
        let mut buf = [0u8; 1024];
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the connection was not closed");
    assert!(started.elapsed() < Duration::from_secs(5));
    // At most a TLS alert (content type 21), never an HTTP answer.
    assert!(
        !got.starts_with(b"HTTP/"),
        "{:?}",
        String::from_utf8_lossy(&got)
    );
    assert!(got.is_empty() || got[0] == 21, "{got:?}");

    // The server is still fine.
    let tls = handshake(&srv, &[b"h2"], BOTH).await;
    assert_eq!(get(tls, true, "/items/5").await.0, 200);
    srv.stop().await;
}

/// Read until the server closes (or errors); the time that took.
async fn wait_closed(mut tcp: TcpStream) -> Duration {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    timeout(BOUND, async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await
    .expect("the server closes the connection in time");
    started.elapsed()
}

#[tokio::test]
async fn a_client_that_never_says_hello_is_dropped_after_the_header_timeout() {
    let limit = Duration::from_millis(600);
    let srv = start(|s| s.header_read_timeout(limit).max_connections(1)).await;

    // Silent: it holds the only slot until the timeout.
    let silent = TcpStream::connect(srv.addr).await.unwrap();
    let waited = tokio::spawn(wait_closed(silent));
    // Meanwhile a real client waits in the backlog, and is served once the slot frees.
    let started = Instant::now();
    let tls = handshake(&srv, &[b"h2"], BOTH).await;
    let served = get(tls, true, "/items/6").await;
    assert_eq!(served.0, 200);
    let waited = timeout(BOUND, waited).await.unwrap().unwrap();
    assert!(waited >= limit - Duration::from_millis(100), "{waited:?}");
    assert!(waited < limit * 5, "{waited:?}");
    assert!(
        started.elapsed() >= limit - Duration::from_millis(100),
        "the second client was served while the silent one held the only slot"
    );

    // A client that starts a ClientHello and stops mid-way is dropped the same.
    let mut partial = TcpStream::connect(srv.addr).await.unwrap();
    partial
        .write_all(&[0x16, 0x03, 0x01, 0x01, 0x00, 0x01])
        .await
        .unwrap();
    let waited = wait_closed(partial).await;
    assert!(waited >= limit - Duration::from_millis(100), "{waited:?}");
    assert!(waited < limit * 5, "{waited:?}");

    srv.stop().await;
}

#[tokio::test]
async fn shutdown_does_not_wait_for_a_pending_handshake() {
    // The header timeout is long; shutdown must still end at once.
    let srv = start(|s| {
        s.header_read_timeout(Duration::from_secs(60))
            .shutdown_timeout(Duration::from_secs(30))
    })
    .await;
    let silent = TcpStream::connect(srv.addr).await.unwrap();
    // Let the server accept it.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let took = srv.stop().await;
    assert!(took < Duration::from_secs(5), "{took:?}");
    drop(silent);
}

/// A folder of its own under the temporary directory.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hasten-tls-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn bad_pem_files_give_clear_errors() {
    let dir = scratch("pem");
    let (cert, key, _) = certificate();
    let (_, other_key, _) = certificate();
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let cert_file = write("cert.pem", &cert);
    let key_file = write("key.pem", &key);
    let other_key_file = write("other-key.pem", &other_key);
    let empty = write("empty.pem", "");
    let broken = write(
        "broken.pem",
        "-----BEGIN CERTIFICATE-----\nMIIB\n", // no END line
    );

    // The good pair loads, and offers h2 then http/1.1.
    let tls = TlsConfig::from_pem_files(&cert_file, &key_file).unwrap();
    assert_eq!(tls.alpn_protocols(), ["h2", "http/1.1"]);

    let err = |r: std::io::Result<TlsConfig>| r.unwrap_err();

    let missing = dir.join("missing.pem");
    let e = err(TlsConfig::from_pem_files(&missing, &key_file));
    assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
    let msg = e.to_string();
    assert!(msg.contains("TLS certificate file"), "{msg}");
    assert!(msg.contains(&missing.display().to_string()), "{msg}");
    let e = err(TlsConfig::from_pem_files(&cert_file, &missing));
    assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
    assert!(e.to_string().contains("TLS private key file"), "{e}");

    // A key where the certificate should be: no certificate in it.
    for no_cert in [&key_file, &empty] {
        let e = err(TlsConfig::from_pem_files(no_cert, &key_file));
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
        let msg = e.to_string();
        assert!(msg.contains("holds no certificate"), "{msg}");
        assert!(msg.contains(&no_cert.display().to_string()), "{msg}");
    }
    // And the other way round: no key.
    let e = err(TlsConfig::from_pem_files(&cert_file, &cert_file));
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
    let msg = e.to_string();
    assert!(msg.contains("holds no private key"), "{msg}");
    assert!(msg.contains(&cert_file.display().to_string()), "{msg}");

    let e = err(TlsConfig::from_pem_files(&broken, &key_file));
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
    let msg = e.to_string();
    assert!(msg.contains("is not valid PEM"), "{msg}");
    assert!(msg.contains(&broken.display().to_string()), "{msg}");

    // A key of another certificate.
    let e = err(TlsConfig::from_pem_files(&cert_file, &other_key_file));
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
    let msg = e.to_string();
    assert!(msg.contains("does not match the certificate"), "{msg}");
    assert!(msg.contains(&other_key_file.display().to_string()), "{msg}");
    assert!(msg.contains(&cert_file.display().to_string()), "{msg}");

    // From bytes, the same reasons without a file name.
    let e = err(TlsConfig::from_pem(cert.as_bytes(), other_key.as_bytes()));
    assert!(e.to_string().contains("does not match"), "{e}");
    let e = err(TlsConfig::from_pem(b"", key.as_bytes()));
    assert!(e.to_string().contains("holds no certificate"), "{e}");

    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_test_client_speaks_tls() {
    let (cert, key, _) = certificate();
    let tls = TlsConfig::from_pem(cert.as_bytes(), key.as_bytes()).unwrap();
    let client = TestClient::new(app()).tls(tls);

    let resp = timeout(BOUND, client.get("/items/7").query(&[("q", "x")]).send())
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.version(), http::Version::HTTP_11);
    assert_eq!(resp.text(), r#"{"item_id":7,"q":"x"}"#);

    let resp = timeout(BOUND, client.get("/items/8").http2().send())
        .await
        .unwrap();
    assert_eq!(
        (resp.status(), resp.version()),
        (StatusCode::OK, http::Version::HTTP_2)
    );

    // The app sees https (here in the slash redirect), with HTTP/1.1 too.
    let resp = timeout(BOUND, client.get("/list").send()).await.unwrap();
    assert_eq!(resp.status(), 307);
    assert_eq!(resp.header("location"), Some("https://testserver/list/"));

    // Without TLS the same redirect says http.
    let plain = TestClient::new(app());
    let resp = timeout(BOUND, plain.get("/list").send()).await.unwrap();
    assert_eq!(resp.header("location"), Some("http://testserver/list/"));
}
