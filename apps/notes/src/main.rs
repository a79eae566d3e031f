//! `cargo run --release -p notes`: the flagship app on http://127.0.0.1:8000, its data
//! in `notes.sqlite`. Settings come from the environment or `.env` (see
//! [`notes::Config`]): `DATABASE_URL`, `SECRET_KEY`, `ACCESS_TOKEN_EXPIRE_MINUTES`,
//! `LISTEN_ADDR`, `STATIC_DIR`, `CHANNELS_URL` (`postgres://…` with `--features postgres`,
//! `redis://…` with `--features redis`).

use std::process::ExitCode;

use notes::Config;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt().with_env_filter(filter).init();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(problems) => {
            eprintln!("notes cannot start, its settings are wrong:");
            for problem in problems {
                eprintln!("  {problem}");
            }
            return ExitCode::FAILURE;
        }
    };
    if config.secret_key.is_none() {
        tracing::warn!(
            "SECRET_KEY is not set: tokens are signed with a random key and end with this process"
        );
    }
    let addr = config.listen_addr.clone();
    let database = notes::config::redact(&config.database_url);
    let served = async {
        let channels = notes::channels(&config).await?;
        let app = notes::app(config, channels)?;
        let server = hasten::Server::bind(&addr)
            .await
            .map_err(|e| format!("{addr}: {e}"))?;
        let local = server.local_addr().map_err(|e| format!("{addr}: {e}"))?;
        let url = format!("http://{local}");
        println!("notes is serving on {url} (data: {database})");
        println!("  the page:  {url}/");
        println!("  the docs:  {url}/docs");
        println!("Press Ctrl+C to stop.");
        server.serve(app).await.map_err(|e| e.to_string())
    };
    match served.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
