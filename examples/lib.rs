//! What every runnable example shares: how it starts.

use hasten::App;

/// Run an example app: with `--openapi`, print its OpenAPI document and exit;
/// otherwise log to stderr (`RUST_LOG`, default `info`) and serve on `HASTEN_ADDR`
/// (default `127.0.0.1:8000`) until SIGINT/SIGTERM. `HASTEN_DRAIN_DELAY_MS` keeps
/// serving that long after the signal, readiness answering 503, before the drain;
/// `HASTEN_LOG_FORMAT=json` writes the log as JSON lines.
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
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    if std::env::var("HASTEN_LOG_FORMAT").as_deref() == Ok("json") {
        // One JSON object per line, with the fields of the span it was written in
        // (the request's ID, method and route, with `App::request_ids`).
        tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter)
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    let addr = std::env::var("HASTEN_ADDR").unwrap_or_else(|_| "127.0.0.1:8000".to_owned());
    let drain_delay = match std::env::var("HASTEN_DRAIN_DELAY_MS") {
        Ok(ms) => ms
            .parse()
            .map_err(|e| std::io::Error::other(format!("HASTEN_DRAIN_DELAY_MS={ms}: {e}")))?,
        Err(_) => 0,
    };
    let served = async {
        hasten::Server::bind(addr)
            .await?
            .drain_delay(std::time::Duration::from_millis(drain_delay))
            .serve(app)
            .await
    };
    if let Err(e) = served.await {
        // The reasons as sentences, one per line (`main`'s `Err` would print them
        // escaped, on one line), and a failed exit.
        eprintln!("error: {e}");
        std::process::exit(1);
    }
    Ok(())
}
