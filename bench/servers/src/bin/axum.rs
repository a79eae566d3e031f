//! The benchmark endpoints in axum 0.8 (`bench_servers::axum_app`), with the same
//! checks written by hand.

fn main() -> std::io::Result<()> {
    let app = bench_servers::axum_app::router();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?
        .block_on(async {
            let listener = tokio::net::TcpListener::bind(bench_servers::addr()).await?;
            axum::serve(listener, app).await
        })
}
