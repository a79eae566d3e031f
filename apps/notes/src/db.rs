//! The database: one pool through sqlx's `Any` driver, so the same queries run on
//! SQLite and on PostgreSQL (both read `$1` placeholders and `RETURNING`).

use hasten::prelude::*;
use sqlx::pool::PoolOptions;
use sqlx::{Any, Pool};

/// A pool of connections to SQLite or PostgreSQL.
pub type AnyPool = Pool<Any>;

/// The app's connection pool, made when the app starts.
#[derive(Clone)]
pub struct Db {
    /// The pool.
    pub pool: AnyPool,
}

/// Which engine a `DATABASE_URL` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// An SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl Engine {
    /// The engine of `url`, or why it cannot be used.
    pub fn of(url: &str) -> Result<Engine, String> {
        if url.starts_with("sqlite:") {
            if url.contains(":memory:") {
                return Err(
                    "DATABASE_URL: an in-memory SQLite database would not be shared by \
                            the app's connections and its job queue; name a file"
                        .to_owned(),
                );
            }
            Ok(Engine::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            if cfg!(feature = "postgres") {
                Ok(Engine::Postgres)
            } else {
                Err(
                    "DATABASE_URL names PostgreSQL, but this build has no PostgreSQL support: \
                     build with `--features postgres`"
                        .to_owned(),
                )
            }
        } else {
            Err(format!(
                "DATABASE_URL must start with `sqlite:` or `postgres://`, not `{}`",
                url.split(':').next().unwrap_or(url)
            ))
        }
    }
}

/// `url` with SQLite's `mode=rwc`, so that a missing file is created.
pub fn sqlite_url(url: &str) -> String {
    if url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

/// Connect to `url` and bring its tables up to date.
pub async fn connect(url: &str) -> Result<Db, String> {
    let engine = Engine::of(url)?;
    sqlx::any::install_default_drivers();
    let (url, connections) = match engine {
        Engine::Sqlite => (sqlite_url(url), 4),
        Engine::Postgres => (url.to_owned(), 10),
    };
    let pool = PoolOptions::<Any>::new()
        .max_connections(connections)
        .connect(&url)
        .await
        .map_err(|e| format!("the database cannot be opened: {e}"))?;
    let mut migrator = match engine {
        Engine::Sqlite => {
            // Readers do not wait for the writer (the job queue writes to this file too).
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await
                .map_err(|e| format!("the database cannot be opened: {e}"))?;
            sqlx::migrate!("migrations/sqlite")
        }
        Engine::Postgres => sqlx::migrate!("migrations/postgres"),
    };
    // The job queue keeps its migrations in the default table; these are the app's.
    migrator.dangerous_set_table_name("notes_migrations");
    migrator
        .run(&pool)
        .await
        .map_err(|e| format!("the database's tables cannot be created: {e}"))?;
    Ok(Db { pool })
}

/// The current time, to the millisecond, as stored.
pub fn now() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Millisecond)
        .unwrap_or_else(|_| jiff::Timestamp::now())
        .to_string()
}

/// A stored time, read back.
pub fn time(stored: &str) -> jiff::Timestamp {
    stored.parse().unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// A database failure, logged, answered as a 500 that says no more.
pub fn internal(e: impl std::fmt::Display) -> HttpError {
    tracing::error!(error = %e, "database error");
    HttpError::new(StatusCode::INTERNAL_SERVER_ERROR, "Database error")
}

/// The pool, as an app-scoped dependency: what the readiness probe checks.
#[dependency(scope = "app")]
pub async fn database(db: State<Db>) -> Db {
    (*db).clone()
}
