//! One app, many instances, one PostgreSQL: the instances share the job queue (in
//! PostgreSQL, or in Redis when `HASTEN_JOBS` is a `redis://` URL), so a job queued
//! through any of them runs once, on whichever has a free worker, and a job
//! whose instance dies is run again by another. Their WebSocket rooms go through a
//! channel broker (`HASTEN_CHANNELS`: a `redis://` or `postgres://` URL), so a message
//! sent on one instance reaches the room's members on all of them, and presence is
//! the same from every instance. Their rate-limit counts live in Redis when
//! `HASTEN_RATE_LIMITS` is a `redis://` URL, so `/limited` lets a client through 20
//! times a minute in all, whichever instances serve it; so do their sessions
//! (`HASTEN_SESSIONS`), so `/visits` counts a browser's visits whichever instance
//! answers. `tests/scaleout/run.sh` runs three of them behind nginx and checks exactly
//! that.
//!
//! Run with (a PostgreSQL at `DATABASE_URL`; `tests/engines/postgres.sh` starts one):
//!
//! ```text
//! DATABASE_URL=postgres://postgres@127.0.0.1:25432/postgres HASTEN_INSTANCE=a \
//!     cargo run --release --example scaleout
//! curl -X POST 'http://127.0.0.1:8000/work?count=100&prefix=demo'
//! curl http://127.0.0.1:8000/effects/demo
//! ```
//!
//! Each job writes its effect under its key: `effects(key, instance, runs)`, where a
//! second run of the same key adds to `runs` (a double effect), unless the job is
//! idempotent, when the second write does nothing.

use std::time::Duration;

use hasten::channels::{Channels, Delivery};
use hasten::jobs::sqlx::{self, PgPool};
use hasten::jobs::{JobError, Jobs, Queue};
use hasten::prelude::*;
use hasten::rate_limit::RateLimits;
use hasten::sessions::{Session, Sessions};
use hasten::ws::{Message, WebSocket};
use serde_json::json;

/// This instance's name (`HASTEN_INSTANCE`).
struct Instance {
    name: String,
}

/// The shared database.
struct Db {
    pool: PgPool,
}

/// One unit of work.
#[derive(Serialize, Deserialize)]
struct Work {
    key: String,
    /// How long the job holds on after its effect (to be killed meanwhile).
    hold_ms: u64,
    /// Write the effect at most once per key, whatever the runs.
    idempotent: bool,
}

/// Write the work's effect, then hold on for `hold_ms`.
#[job(max_attempts = 5, timeout = "60s", backoff = "1s")]
async fn record(work: Work, db: State<Db>, instance: State<Instance>) -> Result<(), JobError> {
    sqlx::query("INSERT INTO starts (key, instance) VALUES ($1, $2)")
        .bind(&work.key)
        .bind(&instance.name)
        .execute(&db.pool)
        .await?;
    let effect = if work.idempotent {
        "INSERT INTO effects (key, instance, runs) VALUES ($1, $2, 1) ON CONFLICT (key) DO NOTHING"
    } else {
        "INSERT INTO effects (key, instance, runs) VALUES ($1, $2, 1) \
         ON CONFLICT (key) DO UPDATE SET runs = effects.runs + 1"
    };
    sqlx::query(effect)
        .bind(&work.key)
        .bind(&instance.name)
        .execute(&db.pool)
        .await?;
    tokio::time::sleep(Duration::from_millis(work.hold_ms)).await;
    Ok(())
}

/// How much work to queue.
#[derive(Deserialize, JsonSchema)]
struct Batch {
    #[schemars(range(min = 1, max = 100000))]
    count: u32,
    #[schemars(length(min = 1, max = 40))]
    prefix: String,
    #[serde(default)]
    hold_ms: u64,
    #[serde(default)]
    idempotent: bool,
}

/// What was queued, and by whom.
#[derive(Serialize, JsonSchema)]
struct Queued {
    instance: String,
    added: u32,
}

/// Queue `count` jobs keyed `{prefix}-{i}` (a key already queued is not queued again).
#[post("/work")]
async fn queue_work(
    batch: hasten::Query<Batch>,
    jobs: Jobs,
    instance: State<Instance>,
) -> Result<Json<Queued>, HttpError> {
    let mut added = 0;
    for i in 0..batch.count {
        let key = format!("{}-{i}", batch.prefix);
        let work = Work {
            key: key.clone(),
            hold_ms: batch.hold_ms,
            idempotent: batch.idempotent,
        };
        if let hasten::jobs::Enqueued::Added(_) = jobs.enqueue(record, work).key(key).await? {
            added += 1;
        }
    }
    Ok(Json(Queued {
        instance: instance.name.clone(),
        added,
    }))
}

/// The effects of the work keyed `{prefix}-…`.
#[derive(Serialize, JsonSchema)]
struct Effects {
    /// Keys with an effect.
    keys: i64,
    /// Effects written more than once.
    doubled: i64,
    /// Runs started, retries included.
    starts: i64,
    /// Effects by instance.
    by_instance: std::collections::BTreeMap<String, i64>,
}

#[get("/effects/{prefix}")]
async fn effects(prefix: String, db: State<Db>) -> Result<Json<Effects>, HttpError> {
    let like = format!("{prefix}-%");
    let internal =
        |e: sqlx::Error| HttpError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
    let (keys, doubled): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE runs > 1) FROM effects WHERE key LIKE $1",
    )
    .bind(&like)
    .fetch_one(&db.pool)
    .await
    .map_err(internal)?;
    let starts: i64 = sqlx::query_scalar("SELECT count(*) FROM starts WHERE key LIKE $1")
        .bind(&like)
        .fetch_one(&db.pool)
        .await
        .map_err(internal)?;
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT instance, count(*) FROM effects WHERE key LIKE $1 GROUP BY instance",
    )
    .bind(&like)
    .fetch_all(&db.pool)
    .await
    .map_err(internal)?;
    Ok(Json(Effects {
        keys,
        doubled,
        starts,
        by_instance: rows.into_iter().collect(),
    }))
}

/// Join `room` as `name`: what you send reaches the room on every instance; what the
/// room hears comes to you, with `{"missed": n}` for messages lost and
/// `{"interrupted": true}` when the broker connection dropped.
#[websocket("/ws/{room}")]
async fn room_socket(
    mut socket: WebSocket,
    #[path(min_length = 1, max_length = 40)] room: String,
    #[query(min_length = 1, max_length = 40)] name: String,
    channels: State<Channels>,
    instance: State<Instance>,
) {
    let mut heard = channels.subscribe(&room);
    if socket.accept().await.is_err() {
        return;
    }
    let _present = match channels.enter(&room, &name).await {
        Ok(presence) => presence,
        Err(e) => {
            let _ = socket.close(1011, &e.to_string()).await;
            return;
        }
    };
    loop {
        tokio::select! {
            incoming = socket.receive() => match incoming {
                Ok(Message::Text(text)) => {
                    let said = json!({ "from": name, "text": text, "via": instance.name });
                    if let Err(e) = channels.publish(&room, &said).await {
                        if socket.send_json(&json!({ "error": e.to_string() })).await.is_err() {
                            break;
                        }
                    }
                }
                Ok(_) => {}
                Err(_) => break,
            },
            delivery = heard.recv() => {
                let sent = match delivery {
                    Some(Delivery::Message(m)) => socket.send_text(m.data()).await,
                    Some(Delivery::Missed(n)) => socket.send_json(&json!({ "missed": n })).await,
                    Some(Delivery::Interrupted) => socket.send_json(&json!({ "interrupted": true })).await,
                    None => break,
                };
                if sent.is_err() {
                    break;
                }
            }
        }
    }
}

/// Who is in `room`, on any instance.
#[get("/presence/{room}")]
async fn presence(room: String, channels: State<Channels>) -> Result<Json<Vec<String>>, HttpError> {
    channels
        .presence(&room)
        .await
        .map(Json)
        .map_err(|e| HttpError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string()))
}

/// Which instance answered, 20 times a minute per client across the instances.
#[get("/limited", rate_limit = "20/minute")]
async fn limited(instance: State<Instance>) -> String {
    instance.name.clone()
}

/// This browser's visits, counted in its session, and which instance answered.
#[get("/visits")]
async fn visits(session: Session, instance: State<Instance>) -> String {
    let n: u64 = session.get("visits").unwrap_or(0) + 1;
    session.insert("visits", n).expect("a number serializes");
    format!("{n} {}", instance.name)
}

/// Which instance answered.
#[get("/instance")]
async fn whoami(instance: State<Instance>) -> String {
    instance.name.clone()
}

fn app(
    database: &str,
    instance: String,
    limits: RateLimits,
    sessions: Sessions,
) -> Result<App, sqlx::Error> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(16)
        .connect_lazy(database)?;
    let heartbeat = std::env::var("HASTEN_JOBS_HEARTBEAT_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map_or(Duration::from_secs(5), Duration::from_millis);
    // The job queue: PostgreSQL, or Redis when `HASTEN_JOBS` is a `redis://` URL.
    let queue = match std::env::var("HASTEN_JOBS") {
        Ok(url) if url.starts_with("redis") => Queue::redis(url),
        _ => Queue::postgres(database),
    };
    let app = App::new()
        .title("Scale-out")
        .state(Instance { name: instance })
        .rate_limits(limits)
        .sessions(sessions)
        .on_startup(|_| async {
            // The rooms' broker: Redis or PostgreSQL, or this process alone.
            match std::env::var("HASTEN_CHANNELS") {
                Ok(url) if url.starts_with("redis") => Channels::redis(&url).await,
                Ok(url) if url.starts_with("postgres") => Channels::postgres(&url).await,
                _ => Ok(Channels::in_process()),
            }
        })
        .on_startup({
            let pool = pool.clone();
            move |_| async move {
                // Instances starting together create the tables once.
                let mut tx = pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock(4242)")
                    .execute(&mut *tx)
                    .await?;
                sqlx::raw_sql(
                    "CREATE TABLE IF NOT EXISTS effects (key TEXT PRIMARY KEY, instance TEXT NOT NULL, runs INT NOT NULL);
                     CREATE TABLE IF NOT EXISTS starts (key TEXT NOT NULL, instance TEXT NOT NULL);",
                )
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok::<_, sqlx::Error>(Db { pool })
            }
        })
        .jobs(queue.heartbeat(heartbeat).concurrency(16))
        .job(record)
        .metrics("/metrics")
        .route(queue_work)
        .route(effects)
        .route(room_socket)
        .route(presence)
        .route(limited)
        .route(visits)
        .route(whoami);
    Ok(app)
}

/// What `connect` makes of the Redis URL in `var`, or `local()` when it is unset; a
/// Redis that cannot be reached stops the start.
async fn redis_or<T, E, Fut>(var: &str, local: fn() -> T, connect: impl FnOnce(String) -> Fut) -> T
where
    E: std::fmt::Display,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let Ok(url) = std::env::var(var) else {
        return local();
    };
    connect(url).await.unwrap_or_else(|e| {
        eprintln!("error: {var}: {e}");
        std::process::exit(2)
    })
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let Ok(database) = std::env::var("DATABASE_URL") else {
        eprintln!("error: set DATABASE_URL to a PostgreSQL (tests/engines/postgres.sh starts one)");
        std::process::exit(2);
    };
    let instance = std::env::var("HASTEN_INSTANCE").unwrap_or_else(|_| "a".to_owned());
    let limits = redis_or(
        "HASTEN_RATE_LIMITS",
        RateLimits::in_process,
        |url| async move { RateLimits::redis(&url).await },
    )
    .await;
    let sessions = redis_or("HASTEN_SESSIONS", Sessions::in_process, |url| async move {
        Sessions::redis(&url).await
    })
    .await;
    match app(&database, instance, limits, sessions) {
        Ok(app) => hasten_examples::run(app).await,
        Err(e) => {
            eprintln!("error: DATABASE_URL is not a PostgreSQL URL: {e}");
            std::process::exit(2);
        }
    }
}
