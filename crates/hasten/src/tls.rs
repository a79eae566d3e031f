//! HTTPS: rustls (with its `ring` provider) in front of the same connection code, HTTP/2
//! or HTTP/1.1 chosen by ALPN. Behind the cargo feature `tls`.
//!
//! A [`TlsConfig`] is a certificate chain and its private key, read from PEM; hand it to
//! [`Server::tls`](crate::Server::tls):
//!
//! ```no_run
//! use hasten::prelude::*;
//! use hasten::tls::TlsConfig;
//!
//! #[get("/")]
//! async fn root() -> &'static str {
//!     "hello over TLS"
//! }
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let tls = TlsConfig::from_pem_files("cert.pem", "key.pem")?;
//!     hasten::Server::bind("0.0.0.0:8443")
//!         .await?
//!         .tls(tls)
//!         .serve(App::new().route(root))
//!         .await
//! }
//! ```
//!
//! What is offered:
//!
//! - TLS 1.3 and TLS 1.2 only (no SSL, no TLS 1.0 or 1.1), with rustls's default cipher
//!   suites: AES-GCM and ChaCha20-Poly1305 with forward secrecy (ECDHE), nothing else;
//!   the server's order of preference wins.
//! - ALPN `h2`, then `http/1.1`: a client that offers `h2` speaks HTTP/2, any other
//!   HTTP/1.1 (a client without ALPN too).
//! - No client certificates.
//!
//! The handshake runs on the connection's own task, never on the accept loop, and must
//! finish within the server's [header read
//! timeout](crate::Server::header_read_timeout) (10 s by default): a client that opens
//! a connection and never completes it is dropped then, and frees its connection slot.
//! A failed handshake (a plain-text client on the TLS port, say) is logged at debug
//! level under `hasten::server` and the connection closed.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::{self, PemObject};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A server's certificate chain and private key, and how it speaks TLS: see the
/// [module docs](self).
///
/// Cheap to clone (the rustls configuration is shared).
///
/// ```no_run
/// use hasten::tls::TlsConfig;
///
/// # fn main() -> std::io::Result<()> {
/// // From files (a missing file, a file without a certificate or a key that does not
/// // match the certificate is an error naming the file).
/// let tls = TlsConfig::from_pem_files("/etc/app/fullchain.pem", "/etc/app/key.pem")?;
///
/// // Or from PEM text already in memory.
/// let cert = std::fs::read("/etc/app/fullchain.pem")?;
/// let key = std::fs::read("/etc/app/key.pem")?;
/// let tls = TlsConfig::from_pem(&cert, &key)?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct TlsConfig {
    server: Arc<rustls::ServerConfig>,
    /// The chain as served, end-entity certificate first.
    chain: Arc<[CertificateDer<'static>]>,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let alpn: Vec<_> = self
            .server
            .alpn_protocols
            .iter()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect();
        f.debug_struct("TlsConfig")
            .field("certificates", &self.chain.len())
            .field("alpn", &alpn)
            .finish_non_exhaustive()
    }
}

/// Where PEM text came from, for the error messages.
#[derive(Clone, Copy)]
enum Source<'a> {
    File(&'a Path),
    Bytes,
}

impl Source<'_> {
    /// "the TLS certificate file /etc/app/cert.pem", "the TLS private key (PEM bytes)".
    fn name(self, what: &str) -> String {
        match self {
            Source::File(path) => format!("the TLS {what} file {}", path.display()),
            Source::Bytes => format!("the TLS {what} (PEM bytes given)"),
        }
    }
}

impl TlsConfig {
    /// Read the certificate chain (end-entity certificate first, then its
    /// intermediates, as `fullchain.pem` holds them) and its private key (PKCS#8,
    /// PKCS#1 RSA or SEC1 EC) from PEM files.
    ///
    /// The errors name the file and what is wrong with it: it cannot be read
    /// (the `io::ErrorKind` of the read, `NotFound` for a missing file), it holds no
    /// certificate or no private key, its PEM is malformed, or the key is not the
    /// certificate's (`InvalidData` or `InvalidInput`).
    ///
    /// ```no_run
    /// # fn main() -> std::io::Result<()> {
    /// let tls = hasten::tls::TlsConfig::from_pem_files("cert.pem", "key.pem")?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_pem_files(
        cert_chain: impl AsRef<Path>,
        private_key: impl AsRef<Path>,
    ) -> io::Result<TlsConfig> {
        let (cert_path, key_path) = (cert_chain.as_ref(), private_key.as_ref());
        let read = |path: &Path, what: &str| {
            std::fs::read(path).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("{} cannot be read: {e}", Source::File(path).name(what)),
                )
            })
        };
        let cert = read(cert_path, "certificate")?;
        let key = read(key_path, "private key")?;
        build(&cert, Source::File(cert_path), &key, Source::File(key_path))
    }

    /// The same from PEM text in memory: a certificate chain and its private key.
    ///
    /// ```
    /// # fn main() {
    /// let err = hasten::tls::TlsConfig::from_pem(b"not PEM", b"").unwrap_err();
    /// assert!(err.to_string().contains("no certificate"), "{err}");
    /// # }
    /// ```
    pub fn from_pem(cert_chain: &[u8], private_key: &[u8]) -> io::Result<TlsConfig> {
        build(cert_chain, Source::Bytes, private_key, Source::Bytes)
    }

    /// The protocols offered by ALPN, in the server's order of preference: `h2`, then
    /// `http/1.1`.
    ///
    /// ```no_run
    /// # fn main() -> std::io::Result<()> {
    /// let tls = hasten::tls::TlsConfig::from_pem_files("cert.pem", "key.pem")?;
    /// assert_eq!(tls.alpn_protocols(), ["h2", "http/1.1"]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn alpn_protocols(&self) -> Vec<String> {
        self.server
            .alpn_protocols
            .iter()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect()
    }

    /// What the server's accept path uses: the acceptor and the handshake's deadline.
    pub(crate) fn handshake(&self, timeout: Option<Duration>) -> Handshake {
        Handshake {
            acceptor: tokio_rustls::TlsAcceptor::from(self.server.clone()),
            timeout,
        }
    }

    /// A client configuration that trusts exactly this certificate (whatever names it
    /// carries; the handshake still proves the server holds its key), offering `h2`
    /// or `http/1.1` by ALPN: the test client's.
    fn pinned_client(&self, http2: bool) -> io::Result<tokio_rustls::TlsConnector> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = Pinned {
            leaf: self.chain[0].clone(),
            algorithms: provider.signature_verification_algorithms,
        };
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(io::Error::other)?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        config.alpn_protocols = vec![if http2 {
            b"h2".to_vec()
        } else {
            b"http/1.1".to_vec()
        }];
        Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
    }

    /// The test client's side of a handshake over `io`, trusting exactly this
    /// certificate (see `pinned_client`), with the name `testserver`.
    pub(crate) async fn connect_pinned<I>(
        &self,
        io: I,
        http2: bool,
    ) -> io::Result<tokio_rustls::client::TlsStream<I>>
    where
        I: AsyncRead + AsyncWrite + Unpin,
    {
        let name = rustls::pki_types::ServerName::try_from("testserver")
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        self.pinned_client(http2)?.connect(name, io).await
    }
}

/// The server configuration: the chain and key checked against each other, TLS 1.2 and
/// 1.3 with ring's default suites, ALPN `h2` and `http/1.1`.
fn build(
    cert_pem: &[u8],
    cert_source: Source<'_>,
    key_pem: &[u8],
    key_source: Source<'_>,
) -> io::Result<TlsConfig> {
    let cert_name = cert_source.name("certificate");
    let key_name = key_source.name("private key");
    let invalid = |msg: String| io::Error::new(io::ErrorKind::InvalidData, msg);
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(format!("{cert_name} is not valid PEM: {e}")))?;
    if chain.is_empty() {
        return Err(invalid(format!(
            "{cert_name} holds no certificate (no `-----BEGIN CERTIFICATE-----` block)"
        )));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| match e {
        pem::Error::NoItemsFound => invalid(format!(
            "{key_name} holds no private key (no `-----BEGIN PRIVATE KEY-----`, \
             `RSA PRIVATE KEY` or `EC PRIVATE KEY` block)"
        )),
        e => invalid(format!("{key_name} is not valid PEM: {e}")),
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(chain.clone(), key)
        .map_err(|e| match e {
            rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch) => {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{key_name} does not match the certificate in {cert_name}"),
                )
            }
            rustls::Error::InvalidCertificate(e) => {
                invalid(format!("{cert_name} holds an invalid certificate: {e}"))
            }
            e => invalid(format!(
                "{key_name} cannot be used with the certificate in {cert_name}: {e}"
            )),
        })?;
    server.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    server.ignore_client_order = true;
    Ok(TlsConfig {
        server: Arc::new(server),
        chain: chain.into(),
    })
}

/// A server's TLS handshake, as each accepted connection runs it.
#[derive(Clone)]
pub(crate) struct Handshake {
    acceptor: tokio_rustls::TlsAcceptor,
    /// The server's header read timeout: the whole handshake must fit in it.
    timeout: Option<Duration>,
}

impl Handshake {
    /// Run the handshake on `io`: the TLS stream, or `None` (logged at debug level)
    /// when it failed, timed out or the server began to stop meanwhile.
    pub(crate) async fn accept<I>(
        &self,
        io: I,
        peer: Option<SocketAddr>,
        mut stop: watch::Receiver<bool>,
    ) -> Option<tokio_rustls::server::TlsStream<I>>
    where
        I: AsyncRead + AsyncWrite + Unpin,
    {
        let handshake = self.acceptor.accept(io);
        let bounded = async {
            match self.timeout {
                Some(limit) => tokio::time::timeout(limit, handshake)
                    .await
                    .map_err(|_| limit),
                None => Ok(handshake.await),
            }
        };
        tokio::select! {
            done = bounded => match done {
                Ok(Ok(stream)) => Some(stream),
                Ok(Err(e)) => {
                    tracing::debug!(target: "hasten::server", ?peer, error = %e, "TLS handshake failed");
                    None
                }
                Err(limit) => {
                    tracing::debug!(target: "hasten::server", ?peer, ?limit, "TLS handshake timed out");
                    None
                }
            },
            _ = stop.wait_for(|stopping| *stopping) => {
                tracing::debug!(target: "hasten::server", ?peer, "TLS handshake abandoned: shutting down");
                None
            }
        }
    }
}

/// The test client's verifier: the server must present exactly the configured
/// certificate, and prove it holds its key (the handshake signature is checked).
#[derive(Debug)]
struct Pinned {
    leaf: CertificateDer<'static>,
    algorithms: rustls::crypto::WebPkiSupportedAlgorithms,
}

impl rustls::client::danger::ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.leaf.as_ref() {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
