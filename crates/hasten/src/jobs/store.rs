//! The queue's database: apalis' tables, written and read with the few statements the
//! facade needs beyond apalis' own (an insert that reports a duplicate key, a retry's
//! run time, the dead jobs).
//!
//! apalis 1.0's SQLite schema: `Jobs(job, id, job_type, status, attempts,
//! max_attempts, run_at, last_result, lock_at, lock_by, done_at, priority, metadata,
//! idempotency_key)`, with `run_at` in Unix seconds and a unique
//! `(job_type, idempotency_key)`. The version is pinned; `tests/jobs.rs` holds these
//! statements against it.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use sqlx::SqliteConnection;

use super::Enqueued;

/// Where the queue is, before the app connects.
#[derive(Clone)]
pub(crate) enum Place {
    SqliteUrl(String),
    Sqlite(SqlitePool),
}

impl fmt::Debug for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::SqliteUrl(url) => write!(f, "sqlite at {url}"),
            Place::Sqlite(_) => f.write_str("sqlite (the app's pool)"),
        }
    }
}

/// The connected queue.
#[derive(Clone)]
pub(crate) enum Store {
    Sqlite(SqlitePool),
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Store::Sqlite(_) => f.write_str("Sqlite"),
        }
    }
}

/// A job to write.
pub(crate) struct Row {
    pub(crate) name: &'static str,
    id: String,
    args: Vec<u8>,
    max_attempts: u32,
    key: Option<String>,
    run_at: i64,
}

impl Row {
    pub(crate) fn new(
        name: &'static str,
        args: Vec<u8>,
        max_attempts: u32,
        key: Option<String>,
        delay: Option<Duration>,
    ) -> Self {
        Row {
            name,
            id: ulid::Ulid::generate().to_string(),
            args,
            max_attempts,
            key,
            run_at: unix_now() + delay.map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0)),
        }
    }
}

/// A job that will not run again unless retried by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadJob {
    /// Its ID.
    pub id: String,
    /// Which job.
    pub name: String,
    /// Its arguments, as JSON.
    pub args: serde_json::Value,
    /// How many times it ran.
    pub attempts: u32,
    /// The last run's error.
    pub error: String,
}

/// A dead job's row: ID, job, arguments, attempts, last result.
type DeadRow = (String, String, Vec<u8>, i64, Option<String>);

pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

const INSERT: &str =
    "INSERT INTO Jobs (job, id, job_type, status, attempts, max_attempts, run_at, \
     last_result, lock_at, lock_by, done_at, priority, metadata, idempotency_key) \
     VALUES (?1, ?2, ?3, 'Pending', 0, ?4, ?5, NULL, NULL, NULL, NULL, 0, '{}', ?6) \
     ON CONFLICT (job_type, idempotency_key) DO NOTHING";

/// A dead job: out of attempts, or killed (a permanent failure).
macro_rules! dead {
    () => {
        "(status = 'Killed' OR (status = 'Failed' AND attempts >= max_attempts))"
    };
}

impl Store {
    /// Connect (a URL or a file path), then create or migrate apalis' tables.
    pub(crate) async fn connect(place: &Place) -> Result<Store, String> {
        let pool = match place {
            Place::Sqlite(pool) => pool.clone(),
            Place::SqliteUrl(url) => {
                let options = if url.starts_with("sqlite:") {
                    url.parse::<SqliteConnectOptions>()
                        .map_err(|e| format!("the job queue's URL `{url}` is invalid: {e}"))?
                } else {
                    SqliteConnectOptions::new().filename(url)
                }
                .create_if_missing(true)
                .busy_timeout(Duration::from_secs(10));
                SqlitePoolOptions::new()
                    .max_connections(4)
                    .connect_with(options)
                    .await
                    .map_err(|e| format!("the job queue at `{url}` cannot be opened: {e}"))?
            }
        };
        apalis_sqlite::SqliteStorage::setup(&pool)
            .await
            .map_err(|e| format!("the job queue's tables cannot be created: {e}"))?;
        Ok(Store::Sqlite(pool))
    }

    pub(crate) fn sqlite(&self) -> &SqlitePool {
        match self {
            Store::Sqlite(pool) => pool,
        }
    }

    pub(crate) async fn push(&self, row: &Row) -> Result<Enqueued, sqlx::Error> {
        let mut conn = self.sqlite().acquire().await?;
        self.push_on(&mut conn, row).await
    }

    pub(crate) async fn push_on(
        &self,
        conn: &mut SqliteConnection,
        row: &Row,
    ) -> Result<Enqueued, sqlx::Error> {
        let done = sqlx::query(INSERT)
            .bind(&row.args)
            .bind(&row.id)
            .bind(row.name)
            .bind(i64::from(row.max_attempts))
            .bind(row.run_at)
            .bind(row.key.as_deref())
            .execute(conn)
            .await?;
        Ok(if done.rows_affected() == 0 {
            Enqueued::AlreadyQueued
        } else {
            Enqueued::Added(row.id.clone())
        })
    }

    /// Hold a failed job back until `at` (Unix seconds): the next attempt waits for
    /// it.
    pub(crate) async fn retry_at(&self, id: &str, at: i64) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE Jobs SET run_at = ?1 WHERE id = ?2")
            .bind(at)
            .bind(id)
            .execute(self.sqlite())
            .await?;
        Ok(())
    }

    pub(crate) async fn dead(&self, limit: u32) -> Result<Vec<DeadJob>, sqlx::Error> {
        const SQL: &str = concat!(
            "SELECT id, job_type, job, attempts, last_result FROM Jobs WHERE ",
            dead!(),
            " ORDER BY done_at DESC, id DESC LIMIT ?1"
        );
        let rows: Vec<DeadRow> = sqlx::query_as(SQL)
            .bind(i64::from(limit))
            .fetch_all(self.sqlite())
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, args, attempts, result)| DeadJob {
                id,
                name,
                args: serde_json::from_slice(&args).unwrap_or(serde_json::Value::Null),
                attempts: u32::try_from(attempts).unwrap_or(0),
                error: last_error(result.as_deref()),
            })
            .collect())
    }

    pub(crate) async fn retry_dead(&self, id: &str) -> Result<bool, sqlx::Error> {
        const SQL: &str = concat!(
            "UPDATE Jobs SET status = 'Pending', attempts = 0, lock_by = NULL, lock_at = NULL, ",
            "done_at = NULL, run_at = ?2 WHERE id = ?1 AND ",
            dead!()
        );
        let done = sqlx::query(SQL)
            .bind(id)
            .bind(unix_now())
            .execute(self.sqlite())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub(crate) async fn pending(&self, name: &str) -> Result<u64, sqlx::Error> {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM Jobs WHERE job_type = ?1 AND (status IN ('Pending', 'Queued', \
             'Running') OR (status = 'Failed' AND attempts < max_attempts))",
        )
        .bind(name)
        .fetch_one(self.sqlite())
        .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

/// The error in apalis' `last_result` (`{"Err": "…"}`), as text.
fn last_error(result: Option<&str>) -> String {
    let Some(text) = result else {
        return String::new();
    };
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(map)) => match map.get("Err") {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => text.to_owned(),
        },
        _ => text.to_owned(),
    }
}
