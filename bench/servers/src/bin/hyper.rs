//! The benchmark endpoints in raw hyper 1 (`bench_servers::hyper_app`): the ceiling.

use hyper_util::rt::{TokioIo, TokioTimer};

fn main() -> std::io::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?
        .block_on(async {
            let listener = tokio::net::TcpListener::bind(bench_servers::addr()).await?;
            loop {
                let (stream, _) = listener.accept().await?;
                let _ = stream.set_nodelay(true);
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .timer(TokioTimer::new())
                        .serve_connection(
                            TokioIo::new(stream),
                            hyper::service::service_fn(bench_servers::hyper_app::handle),
                        )
                        .await;
                });
            }
        })
}
