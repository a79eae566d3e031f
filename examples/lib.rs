//! What every runnable example shares: how it starts.

use hasten::App;
use tracing_subscriber::prelude::*;

/// Run an example app: with `--openapi`, print its OpenAPI document and exit;
/// otherwise log to stderr (`RUST_LOG`, default `info`) and serve on `HASTEN_ADDR`
/// (default `127.0.0.1:8000`; `systemd` for the socket systemd's socket activation
/// passed) until SIGINT/SIGTERM. `HASTEN_DRAIN_DELAY_MS` keeps
/// serving that long after the signal, readiness answering 503, before the drain;
/// `HASTEN_LOG_FORMAT=json` writes the log as JSON lines. With `HASTEN_TLS_CERT` and
/// `HASTEN_TLS_KEY` naming PEM files (the certificate chain and its private key) it
/// serves HTTPS, HTTP/2 or HTTP/1.1 by ALPN. With `OTEL_EXPORTER_OTLP_ENDPOINT` (an
/// OTLP/HTTP collector, `http://…:4318`) every request is traced and exported.
///
/// `HASTEN_OPENAPI=complete` documents everything hasten enforces (Rust number ranges,
/// the 400 and 401 answers) instead of FastAPI's document for the same app: what the
/// schemathesis runs in CI hold the examples to.
pub async fn run(app: App) -> std::io::Result<()> {
    let app = match std::env::var("HASTEN_OPENAPI").as_deref() {
        Ok("complete") => app.openapi_style(hasten::openapi::DocStyle::complete()),
        _ => app,
    };
    if std::env::args().any(|a| a == "--openapi") {
        let document = app.openapi_document().map_err(std::io::Error::other)?;
        let doc = serde_json::to_string_pretty(&document).map_err(std::io::Error::other)?;
        println!("{doc}");
        return Ok(());
    }
    // With `OTEL_EXPORTER_OTLP_ENDPOINT` set, each request is traced and its spans go
    // to that OTLP/HTTP collector (service `OTEL_SERVICE_NAME`, default the example's
    // name), whatever `RUST_LOG` says of the log.
    let telemetry = match std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT") {
        Some(_) => {
            let service = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| {
                let exe = std::env::args().next().unwrap_or_default();
                exe.rsplit('/').next().unwrap_or("hasten").to_owned()
            });
            Some(hasten::otel::Telemetry::otlp(&service).map_err(std::io::Error::other)?)
        }
        None => None,
    };
    let app = if telemetry.is_some() {
        app.tracing()
    } else {
        app
    };
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let log = if std::env::var("HASTEN_LOG_FORMAT").as_deref() == Ok("json") {
        // One JSON object per line, with the fields of the span it was written in
        // (the request's ID, method and route, with `App::request_ids`).
        tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_filter(filter)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer().with_filter(filter).boxed()
    };
    tracing_subscriber::registry()
        .with(log)
        .with(telemetry.as_ref().map(|t| t.layer()))
        .init();
    let addr = std::env::var("HASTEN_ADDR").unwrap_or_else(|_| "127.0.0.1:8000".to_owned());
    let drain_delay = match std::env::var("HASTEN_DRAIN_DELAY_MS") {
        Ok(ms) => ms
            .parse()
            .map_err(|e| std::io::Error::other(format!("HASTEN_DRAIN_DELAY_MS={ms}: {e}")))?,
        Err(_) => 0,
    };
    let tls = match (
        std::env::var_os("HASTEN_TLS_CERT"),
        std::env::var_os("HASTEN_TLS_KEY"),
    ) {
        (Some(cert), Some(key)) => Some(hasten::tls::TlsConfig::from_pem_files(cert, key)),
        (None, None) => None,
        _ => Some(Err(std::io::Error::other(
            "HASTEN_TLS_CERT and HASTEN_TLS_KEY go together: set both or neither",
        ))),
    };
    let served = async {
        // `HASTEN_ADDR=systemd`: the socket systemd's socket activation passed.
        let server = if addr == "systemd" {
            hasten::Server::from_systemd()?
        } else {
            hasten::Server::bind(addr).await?
        };
        let server = server.drain_delay(std::time::Duration::from_millis(drain_delay));
        let server = match tls {
            Some(tls) => server.tls(tls?),
            None => server,
        };
        server.serve(app).await
    };
    let served = served.await;
    if let Some(telemetry) = telemetry {
        // Send the spans still buffered (the exporter waits on this runtime).
        let _ = tokio::task::spawn_blocking(move || telemetry.shutdown()).await;
    }
    if let Err(e) = served {
        // The reasons as sentences, one per line (`main`'s `Err` would print them
        // escaped, on one line), and a failed exit.
        eprintln!("error: {e}");
        std::process::exit(1);
    }
    Ok(())
}
