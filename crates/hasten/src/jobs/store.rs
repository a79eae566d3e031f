//! The queue's database: apalis' tables, written and read with the few statements the
//! facade needs beyond apalis' own (an insert that reports a duplicate key, a retry's
//! run time, the dead jobs).
//!
//! apalis 1.0's SQLite schema: `Jobs(job, id, job_type, status, attempts,
//! max_attempts, run_at, last_result, lock_at, lock_by, done_at, priority, metadata,
//! idempotency_key)`, with `run_at` in Unix seconds and a unique
//! `(job_type, idempotency_key)`. Its PostgreSQL schema has the same columns in table
//! `apalis.jobs`, with `run_at` a `timestamptz`, `last_result` JSON and `metadata` an
//! `hstore`. The versions are pinned; the jobs tests hold these statements against
//! both.

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
    #[cfg(feature = "jobs-postgres")]
    PostgresUrl(String),
    #[cfg(feature = "jobs-postgres")]
    Postgres(sqlx::PgPool),
    #[cfg(feature = "jobs-redis")]
    RedisUrl(String),
}

impl fmt::Debug for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::SqliteUrl(url) => write!(f, "sqlite at {url}"),
            Place::Sqlite(_) => f.write_str("sqlite (the app's pool)"),
            #[cfg(feature = "jobs-postgres")]
            Place::PostgresUrl(_) => f.write_str("postgres"),
            #[cfg(feature = "jobs-postgres")]
            Place::Postgres(_) => f.write_str("postgres (the app's pool)"),
            #[cfg(feature = "jobs-redis")]
            Place::RedisUrl(_) => f.write_str("redis"),
        }
    }
}

/// The connected queue.
#[derive(Clone)]
pub(crate) enum Store {
    Sqlite(SqlitePool),
    #[cfg(feature = "jobs-postgres")]
    Postgres(sqlx::PgPool),
    #[cfg(feature = "jobs-redis")]
    Redis(Box<super::redis::RedisQueue>),
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Store::Sqlite(_) => f.write_str("Sqlite"),
            #[cfg(feature = "jobs-postgres")]
            Store::Postgres(_) => f.write_str("Postgres"),
            #[cfg(feature = "jobs-redis")]
            Store::Redis(_) => f.write_str("Redis"),
        }
    }
}

/// A connection a job can be written on, inside the caller's transaction: SQLite's,
/// or PostgreSQL's with the `jobs-postgres` feature.
pub trait JobConnection: sealed::Sealed + Send {
    #[doc(hidden)]
    fn push<'a>(
        &'a mut self,
        row: &'a Row,
    ) -> super::LocalFuture<'a, Result<Enqueued, sqlx::Error>>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for sqlx::SqliteConnection {}
    #[cfg(feature = "jobs-postgres")]
    impl Sealed for sqlx::PgConnection {}
}

impl JobConnection for SqliteConnection {
    fn push<'a>(
        &'a mut self,
        row: &'a Row,
    ) -> super::LocalFuture<'a, Result<Enqueued, sqlx::Error>> {
        Box::pin(push_sqlite(self, row))
    }
}

#[cfg(feature = "jobs-postgres")]
impl JobConnection for sqlx::PgConnection {
    fn push<'a>(
        &'a mut self,
        row: &'a Row,
    ) -> super::LocalFuture<'a, Result<Enqueued, sqlx::Error>> {
        Box::pin(push_postgres(self, row))
    }
}

/// A job to write.
#[doc(hidden)]
#[derive(Debug)]
pub struct Row {
    pub(crate) name: &'static str,
    pub(crate) id: String,
    pub(crate) args: Vec<u8>,
    pub(crate) max_attempts: u32,
    pub(crate) key: Option<String>,
    /// When it may run, in Unix seconds.
    pub(crate) run_at: i64,
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

const INSERT_SQLITE: &str =
    "INSERT INTO Jobs (job, id, job_type, status, attempts, max_attempts, run_at, \
     last_result, lock_at, lock_by, done_at, priority, metadata, idempotency_key) \
     VALUES (?1, ?2, ?3, 'Pending', 0, ?4, ?5, NULL, NULL, NULL, NULL, 0, '{}', ?6) \
     ON CONFLICT (job_type, idempotency_key) DO NOTHING";

async fn push_sqlite(conn: &mut SqliteConnection, row: &Row) -> Result<Enqueued, sqlx::Error> {
    let done = sqlx::query(INSERT_SQLITE)
        .bind(&row.args)
        .bind(&row.id)
        .bind(row.name)
        .bind(i64::from(row.max_attempts))
        .bind(row.run_at)
        .bind(row.key.as_deref())
        .execute(conn)
        .await?;
    Ok(row.outcome(done.rows_affected()))
}

#[cfg(feature = "jobs-postgres")]
const INSERT_POSTGRES: &str = "INSERT INTO apalis.jobs (job, id, job_type, status, attempts, \
     max_attempts, run_at, priority, metadata, idempotency_key) \
     VALUES ($1, $2, $3, 'Pending', 0, $4, to_timestamp($5), 0, ''::hstore, $6) \
     ON CONFLICT (job_type, idempotency_key) DO NOTHING";

#[cfg(feature = "jobs-postgres")]
async fn push_postgres(conn: &mut sqlx::PgConnection, row: &Row) -> Result<Enqueued, sqlx::Error> {
    let done = sqlx::query(INSERT_POSTGRES)
        .bind(&row.args)
        .bind(&row.id)
        .bind(row.name)
        .bind(i32::try_from(row.max_attempts).unwrap_or(i32::MAX))
        .bind(row.run_at)
        .bind(row.key.as_deref())
        .execute(conn)
        .await?;
    Ok(row.outcome(done.rows_affected()))
}

impl Row {
    fn outcome(&self, rows: u64) -> Enqueued {
        if rows == 0 {
            Enqueued::AlreadyQueued
        } else {
            Enqueued::Added(self.id.clone())
        }
    }
}

/// The SQL of one operation, in each backend's dialect.
struct Sql {
    sqlite: &'static str,
    #[cfg(feature = "jobs-postgres")]
    postgres: &'static str,
}

/// A dead job: out of attempts, or killed (a permanent failure).
macro_rules! dead {
    () => {
        "(status = 'Killed' OR (status = 'Failed' AND attempts >= max_attempts))"
    };
}

/// A job still to run: waiting, claimed, running, or failed with attempts left.
macro_rules! pending {
    () => {
        "(status IN ('Pending', 'Queued', 'Running') OR (status = 'Failed' AND attempts < max_attempts))"
    };
}

const RETRY_AT: Sql = Sql {
    sqlite: "UPDATE Jobs SET run_at = ?1 WHERE id = ?2",
    #[cfg(feature = "jobs-postgres")]
    postgres: "UPDATE apalis.jobs SET run_at = to_timestamp($1) WHERE id = $2",
};

const DEAD_JOBS: Sql = Sql {
    sqlite: concat!(
        "SELECT id, job_type, job, attempts, last_result FROM Jobs WHERE ",
        dead!(),
        " ORDER BY done_at DESC, id DESC LIMIT ?1"
    ),
    #[cfg(feature = "jobs-postgres")]
    postgres: concat!(
        "SELECT id, job_type, job, attempts::bigint, last_result::text FROM apalis.jobs WHERE ",
        dead!(),
        " ORDER BY done_at DESC NULLS LAST, id DESC LIMIT $1"
    ),
};

const RETRY_DEAD: Sql = Sql {
    sqlite: concat!(
        "UPDATE Jobs SET status = 'Pending', attempts = 0, lock_by = NULL, lock_at = NULL, ",
        "done_at = NULL, run_at = ?2 WHERE id = ?1 AND ",
        dead!()
    ),
    #[cfg(feature = "jobs-postgres")]
    postgres: concat!(
        "UPDATE apalis.jobs SET status = 'Pending', attempts = 0, lock_by = NULL, lock_at = NULL, ",
        "done_at = NULL, run_at = to_timestamp($2) WHERE id = $1 AND ",
        dead!()
    ),
};

const PENDING: Sql = Sql {
    sqlite: concat!(
        "SELECT count(*) FROM Jobs WHERE job_type = ?1 AND ",
        pending!()
    ),
    #[cfg(feature = "jobs-postgres")]
    postgres: concat!(
        "SELECT count(*) FROM apalis.jobs WHERE job_type = $1 AND ",
        pending!()
    ),
};

/// `$body`, with `$q` the backend's SQL and `$pool` its pool, whichever the backend:
/// the body is written once and compiled for each.
macro_rules! on_store {
    ($store:expr, $sql:expr, |$q:ident, $pool:ident| $body:expr) => {
        match $store {
            Store::Sqlite($pool) => {
                let $q = $sql.sqlite;
                $body
            }
            #[cfg(feature = "jobs-postgres")]
            Store::Postgres($pool) => {
                let $q = $sql.postgres;
                $body
            }
            #[cfg(feature = "jobs-redis")]
            Store::Redis(_) => unreachable!("the Redis queue is answered before the SQL"),
        }
    };
}

impl Store {
    /// Connect, then create or migrate apalis' tables.
    pub(crate) async fn connect(place: &Place) -> Result<Store, String> {
        match place {
            Place::Sqlite(pool) => Store::setup_sqlite(pool.clone()).await,
            Place::SqliteUrl(url) => {
                let options = if url.starts_with("sqlite:") {
                    url.parse::<SqliteConnectOptions>()
                        .map_err(|e| format!("the job queue's URL `{url}` is invalid: {e}"))?
                } else {
                    SqliteConnectOptions::new().filename(url)
                }
                .create_if_missing(true)
                .busy_timeout(Duration::from_secs(10))
                // Every connection alike: WAL, and a commit durable once the write-ahead
                // log has it (a crash of the process loses nothing; a power cut may lose
                // the last commits, never the database).
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Normal);
                // One connection: SQLite writes one at a time anyway, and connections
                // contending for its lock sleep (1 ms, 2 ms, 5 ms …) or fail to upgrade a
                // read to a write; the pool's queue orders them without either.
                let pool = SqlitePoolOptions::new()
                    .max_connections(1)
                    .connect_with(options)
                    .await
                    .map_err(|e| format!("the job queue at `{url}` cannot be opened: {e}"))?;
                Store::setup_sqlite(pool).await
            }
            #[cfg(feature = "jobs-postgres")]
            Place::Postgres(pool) => Store::setup_postgres(pool.clone()).await,
            #[cfg(feature = "jobs-postgres")]
            Place::PostgresUrl(url) => {
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect(url)
                    .await
                    .map_err(|e| format!("the job queue's PostgreSQL cannot be reached: {e}"))?;
                Store::setup_postgres(pool).await
            }
            #[cfg(feature = "jobs-redis")]
            Place::RedisUrl(url) => Ok(Store::Redis(Box::new(
                super::redis::RedisQueue::connect(url).await?,
            ))),
        }
    }

    /// Create or migrate apalis' tables. Its migrations only: its `setup` would also set
    /// `synchronous = OFF` on whichever connection of the pool it got, the app's own
    /// pool included.
    async fn setup_sqlite(pool: SqlitePool) -> Result<Store, String> {
        apalis_sqlite::SqliteStorage::<()>::migrations()
            .run(&pool)
            .await
            .map_err(|e| format!("the job queue's tables cannot be created: {e}"))?;
        Ok(Store::Sqlite(pool))
    }

    #[cfg(feature = "jobs-postgres")]
    async fn setup_postgres(pool: sqlx::PgPool) -> Result<Store, String> {
        // Instances starting together must not migrate at once.
        let mut conn = pool
            .acquire()
            .await
            .map_err(|e| format!("the job queue's PostgreSQL cannot be reached: {e}"))?;
        let lock = "SELECT pg_advisory_lock(7347147260417311)";
        sqlx::query(lock)
            .execute(&mut *conn)
            .await
            .map_err(|e| format!("the job queue's tables cannot be created: {e}"))?;
        let migrated = apalis_postgres::PostgresStorage::setup(&pool).await;
        let _ = sqlx::query("SELECT pg_advisory_unlock(7347147260417311)")
            .execute(&mut *conn)
            .await;
        migrated.map_err(|e| format!("the job queue's tables cannot be created: {e}"))?;
        Ok(Store::Postgres(pool))
    }

    pub(crate) async fn push(&self, row: &Row) -> Result<Enqueued, sqlx::Error> {
        match self {
            Store::Sqlite(pool) => push_sqlite(&mut *pool.acquire().await?, row).await,
            #[cfg(feature = "jobs-postgres")]
            Store::Postgres(pool) => push_postgres(&mut *pool.acquire().await?, row).await,
            #[cfg(feature = "jobs-redis")]
            Store::Redis(queue) => queue.push(row).await,
        }
    }

    /// Hold a failed job back until `at` (Unix seconds): the next attempt waits for
    /// it.
    pub(crate) async fn retry_at(&self, id: &str, at: i64) -> Result<(), sqlx::Error> {
        #[cfg(feature = "jobs-redis")]
        if let Store::Redis(_) = self {
            // The Redis worker schedules its retries as it reports the failure.
            return Ok(());
        }
        on_store!(self, RETRY_AT, |sql, pool| {
            sqlx::query(sql).bind(at).bind(id).execute(pool).await?;
        });
        Ok(())
    }

    /// The dead jobs of the kinds `names` (the app's), newest first.
    pub(crate) async fn dead(
        &self,
        names: &[&'static str],
        limit: u32,
    ) -> Result<Vec<DeadJob>, sqlx::Error> {
        #[cfg(feature = "jobs-redis")]
        if let Store::Redis(queue) = self {
            return queue.dead(names, limit).await;
        }
        let _ = names;
        let rows: Vec<DeadRow> = on_store!(self, DEAD_JOBS, |sql, pool| {
            sqlx::query_as(sql)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
        });
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

    pub(crate) async fn retry_dead(
        &self,
        names: &[&'static str],
        id: &str,
    ) -> Result<bool, sqlx::Error> {
        #[cfg(feature = "jobs-redis")]
        if let Store::Redis(queue) = self {
            return queue.retry_dead(names, id).await;
        }
        let _ = names;
        let changed = on_store!(self, RETRY_DEAD, |sql, pool| {
            sqlx::query(sql)
                .bind(id)
                .bind(unix_now())
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(changed > 0)
    }

    pub(crate) async fn pending(&self, name: &str) -> Result<u64, sqlx::Error> {
        #[cfg(feature = "jobs-redis")]
        if let Store::Redis(queue) = self {
            return queue.pending(name).await;
        }
        let n: i64 = on_store!(self, PENDING, |sql, pool| {
            sqlx::query_scalar(sql).bind(name).fetch_one(pool).await?
        });
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

/// The error in apalis' `last_result` (`{"Err": "…"}`), as text, without the
/// `AbortError: ` apalis puts before a permanent failure's.
fn last_error(result: Option<&str>) -> String {
    let Some(text) = result else {
        return String::new();
    };
    let error = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(map)) => match map.get("Err") {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => text.to_owned(),
        },
        _ => text.to_owned(),
    };
    match error.strip_prefix("AbortError: ") {
        Some(rest) => rest.to_owned(),
        None => error,
    }
}
