//! The benchmark endpoints in hasten with tracing and metrics on: every request traced
//! (`App::tracing`, its spans exported over OTLP/HTTP to `BENCH_OTLP` by
//! `hasten::otel::Telemetry`) and measured (`App::metrics`). Against the `hasten`
//! server, the price of observability.

use tracing_subscriber::prelude::*;

fn main() -> std::io::Result<()> {
    let workers: usize = std::env::var("BENCH_WORKERS")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or(1);
    let endpoint = std::env::var("BENCH_OTLP")
        .unwrap_or_else(|_| "http://127.0.0.1:4318/v1/traces".to_owned());
    // `BENCH_OBSERVE`: `both` (the default), `metrics`, `tracing` (spans exported), or
    // `spans` (spans made, no subscriber layer exporting them).
    let mode = std::env::var("BENCH_OBSERVE").unwrap_or_else(|_| "both".to_owned());
    let mut app = bench_servers::hasten_app::app();
    // `BENCH_TRACE_RATIO`: the share of requests traced (default all).
    let ratio: f64 = std::env::var("BENCH_TRACE_RATIO")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1.0);
    if mode != "metrics" {
        app = app.tracing_ratio(ratio);
    }
    if mode == "both" || mode == "metrics" {
        app = app.metrics("/metrics");
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()?
        .block_on(async {
            let telemetry = hasten::otel::Telemetry::otlp_to("bench", &endpoint)
                .map_err(std::io::Error::other)?;
            // The spans at INFO, as a service would filter them: not hyper's debug
            // events, and no access log (the `hasten` server writes none either).
            let filter = tracing_subscriber::filter::Targets::new()
                .with_default(tracing::level_filters::LevelFilter::INFO)
                .with_target("hasten::access", tracing::level_filters::LevelFilter::OFF);
            match mode.as_str() {
                "metrics" => {}
                "spans" => tracing_subscriber::registry().with(filter).init(),
                _ => tracing_subscriber::registry()
                    .with(telemetry.layer().with_filter(filter))
                    .init(),
            }
            let served = hasten::Server::bind(bench_servers::addr())
                .await?
                .max_connections(20_000)
                .keep_alive_timeout(std::time::Duration::from_secs(300))
                .header_read_timeout(std::time::Duration::from_secs(300))
                .serve(app)
                .await;
            tokio::task::spawn_blocking(move || telemetry.shutdown())
                .await
                .ok();
            served
        })
}
