//! The benchmark endpoints in hasten (`bench_servers::hasten_app`).

fn main() -> std::io::Result<()> {
    let workers: usize = std::env::var("BENCH_WORKERS")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or(1);
    let app = bench_servers::hasten_app::app();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()?
        .block_on(async {
            hasten::Server::bind(bench_servers::addr())
                .await?
                .max_connections(20_000)
                // Idle keep-alive connections stay open for the memory scenario.
                .keep_alive_timeout(std::time::Duration::from_secs(300))
                .header_read_timeout(std::time::Duration::from_secs(300))
                .serve(app)
                .await
        })
}
