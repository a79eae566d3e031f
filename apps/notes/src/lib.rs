//! notes: hasten's flagship app, a complete service of the kind FastAPI's full-stack
//! template is for FastAPI.
//!
//! - **Accounts**: sign-up with argon2id password hashes; the OAuth2 password flow
//!   issuing signed JWTs with scopes (`me`, `notes:read`, `notes:write`); a
//!   `current_user` dependency that checks them.
//! - **Notes**: create, read, page through (constrained query parameters), change and
//!   delete, with response models that keep internal fields (password hashes, owner
//!   IDs) off the wire. sqlx with migrations, on an SQLite file by default and on
//!   PostgreSQL when `DATABASE_URL` says so.
//! - **Jobs**: each change queues a durable job that writes the activity log.
//! - **Live updates**: every change reaches every open page over a WebSocket, through
//!   channels (in this process, or Redis or PostgreSQL across instances).
//! - **Operations**: typed settings, `/healthz`, `/readyz` (the database answers),
//!   Prometheus `/metrics`.
//! - **A web page** at `/`, served with `StaticFiles`: sign up, log in, write notes,
//!   see everyone's changes as they happen.

pub mod auth;
pub mod config;
pub mod db;
pub mod live;
pub mod notes;

use std::time::Duration;

use hasten::channels::Channels;
use hasten::files::{FileResponse, StaticFiles};
use hasten::jobs::Queue;
use hasten::prelude::*;

pub use config::Config;
use db::{Db, Engine};

/// The web page.
#[get("/", include_in_schema = false)]
async fn page(config: State<Config>) -> FileResponse {
    FileResponse::new(format!("{}/index.html", config.static_dir)).inline()
}

/// Where live updates go through, as `config` says.
pub async fn channels(config: &Config) -> Result<Channels, String> {
    let channels = match config.channels_url.as_deref() {
        None => Channels::in_process(),
        #[cfg(feature = "postgres")]
        Some(url) if url.starts_with("postgres") => Channels::postgres(url)
            .await
            .map_err(|e| format!("CHANNELS_URL: {e}"))?,
        #[cfg(feature = "redis")]
        Some(url) if url.starts_with("redis") => Channels::redis(url)
            .await
            .map_err(|e| format!("CHANNELS_URL: {e}"))?,
        Some(url) => {
            return Err(format!(
                "CHANNELS_URL `{}` is not supported by this build: PostgreSQL needs \
                 `--features postgres`, Redis `--features redis`",
                config::redact(url)
            ))
        }
    };
    Ok(channels.capacity(1024))
}

/// The app, configured by `config`, its live updates through `channels`.
pub fn app(config: Config, channels: Channels) -> Result<App, String> {
    let engine = Engine::of(&config.database_url)?;
    let queue = match engine {
        Engine::Sqlite => Queue::sqlite(db::sqlite_url(&config.database_url)),
        #[cfg(feature = "postgres")]
        Engine::Postgres => Queue::postgres(config.database_url.clone()),
        #[cfg(not(feature = "postgres"))]
        Engine::Postgres => unreachable!("Engine::of refuses PostgreSQL without the feature"),
    };
    let keys = auth::Keys::new(
        config.secret_key.as_deref(),
        Duration::from_secs(60 * u64::from(config.access_token_expire_minutes)),
    );
    let database_url = config.database_url.clone();
    let static_dir = config.static_dir.clone();
    Ok(App::new()
        .title("notes")
        .version(env!("CARGO_PKG_VERSION"))
        .description("Shared notes with accounts, live updates and an activity log.")
        .state(config)
        .state(keys)
        .state(channels)
        .on_startup(move |_| async move { db::connect(&database_url).await })
        .jobs(queue)
        .job(live::record_activity)
        .route(auth::sign_up)
        .route(auth::login)
        .route(auth::read_me)
        .route(notes::list_notes)
        .route(notes::create_note)
        .route(notes::read_note)
        .route(notes::update_note)
        .route(notes::delete_note)
        .route(live::list_activity)
        .route(live::follow)
        .route(page)
        .mount("/static", StaticFiles::new(static_dir))
        .health("/healthz")
        .readiness("/readyz")
        .ready_when::<db::database, _, _, _>(|db: std::sync::Arc<Db>| async move {
            sqlx::query("SELECT 1").execute(&db.pool).await.map(|_| ())
        })
        .metrics("/metrics")
        .request_ids())
}
