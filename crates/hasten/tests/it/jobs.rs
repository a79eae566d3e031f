//! Durable jobs on the default backend (SQLite): they run with their dependencies,
//! survive nothing less than a commit, retry with backoff, die with their last error,
//! keep their idempotency key, and drain at shutdown.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hasten::jobs::sqlx::{self, SqlitePool};
use hasten::jobs::{EnqueueError, Enqueued, JobError, Jobs, Queue};
use hasten::prelude::*;
use hasten::testing::TestClient;
use serde_json::json;

use crate::common::Events;

/// A fresh queue file for one test.
fn queue_file(test: &str) -> String {
    let path =
        std::env::temp_dir().join(format!("hasten-jobs-{test}-{}.sqlite", std::process::id()));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    path.display().to_string()
}

/// A fresh queue for one test: an SQLite file; with the `jobs-postgres` feature a
/// new database in the PostgreSQL at `HASTEN_TEST_POSTGRES` (which
/// `tests/engines/postgres.sh` starts); with `jobs-redis` and `HASTEN_TEST_REDIS_JOBS`
/// set to a Redis URL, a database of its own in that Redis (started with
/// `--databases 64`).
async fn queue(test: &str) -> Queue {
    #[cfg(feature = "jobs-redis")]
    if let Ok(url) = std::env::var("HASTEN_TEST_REDIS_JOBS") {
        return Queue::redis(redis_database(&url))
            .poll_interval(Duration::from_millis(20))
            .heartbeat(Duration::from_secs(1));
    }
    #[cfg(not(feature = "jobs-postgres"))]
    let queue = Queue::sqlite(queue_file(test));
    #[cfg(feature = "jobs-postgres")]
    let queue = Queue::postgres(postgres_database(test).await);
    queue
        .poll_interval(Duration::from_millis(20))
        .heartbeat(Duration::from_secs(1))
}

/// The URL of a database of the Redis at `url` that no other test of this process
/// uses (1 to 63).
#[cfg(feature = "jobs-redis")]
fn redis_database(url: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    assert!(n < 64, "more Redis databases than the test Redis has");
    format!("{}/{n}", url.trim_end_matches('/'))
}

/// A new, empty database for `test`: its URL.
#[cfg(feature = "jobs-postgres")]
async fn postgres_database(test: &str) -> String {
    let admin = std::env::var("HASTEN_TEST_POSTGRES").expect(
        "the jobs tests with `jobs-postgres` need a PostgreSQL: start one with \
         `tests/engines/postgres.sh start DIR PORT` and set HASTEN_TEST_POSTGRES to the URL it prints",
    );
    let name = format!("hasten_{test}_{}", std::process::id());
    let pool = sqlx::PgPool::connect(&admin)
        .await
        .expect("PostgreSQL answers");
    for statement in [
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        format!("CREATE DATABASE {name}"),
    ] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(&pool)
            .await
            .expect("a test database");
    }
    pool.close().await;
    let (base, _) = admin.rsplit_once('/').expect("a URL with a database");
    format!("{base}/{name}")
}

#[derive(Serialize, Deserialize)]
struct Greeting {
    to: String,
}

/// Where the jobs say what they did.
struct Mailer {
    prefix: String,
}

#[dependency(scope = "app")]
async fn mailer() -> Mailer {
    Mailer {
        prefix: "hello".to_owned(),
    }
}

/// Greet someone, through a dependency, into the app's event log.
#[job]
async fn greet(greeting: Greeting, mailer: Depends<mailer>, events: State<Events>) {
    events.push(format!("{} {}", mailer.prefix, greeting.to));
}

#[post("/greet/{to}")]
async fn greet_endpoint(to: String, jobs: Jobs) -> Result<Json<serde_json::Value>, HttpError> {
    let done = jobs.enqueue(greet, Greeting { to }).await?;
    Ok(Json(json!({ "added": matches!(done, Enqueued::Added(_)) })))
}

#[tokio::test]
async fn a_job_enqueued_by_a_request_runs_with_its_dependencies() {
    let events = Arc::new(Events::default());
    let app = App::new()
        .state_arc(events.clone())
        .jobs(queue("deps").await)
        .job(greet)
        .route(greet_endpoint);
    #[cfg(feature = "metrics")]
    let app = app.metrics("/metrics");
    let client = TestClient::start(app).await;
    let resp = client.post("/greet/ann").send().await;
    assert_eq!(resp.status(), 200, "{}", resp.text());
    assert_eq!(resp.text(), r#"{"added":true}"#);
    assert_eq!(events.wait_for(1).await, ["hello ann"]);
    #[cfg(feature = "metrics")]
    {
        let metrics = wait(Duration::from_secs(5), || async {
            let text = client.get("/metrics").send().await.text();
            text.contains(r#"hasten_jobs_total{job="greet",outcome="done"} 1"#)
                .then_some(text)
        })
        .await;
        assert!(
            metrics.contains(r#"hasten_jobs_enqueued_total{job="greet"} 1"#),
            "{metrics}"
        );
        assert!(
            metrics.contains(r#"hasten_job_duration_seconds_count{job="greet"} 1"#),
            "{metrics}"
        );
    }
    client.shutdown().await;
}

/// When each run of `flaky` started.
static FLAKY_RUNS: std::sync::Mutex<Vec<Instant>> = std::sync::Mutex::new(Vec::new());

/// Fails until its third run.
#[job(max_attempts = 3, backoff = "1s")]
async fn flaky(events: State<Events>) -> Result<(), JobError> {
    let run = {
        let mut runs = FLAKY_RUNS.lock().unwrap();
        runs.push(Instant::now());
        runs.len()
    };
    events.push(format!("run {run}"));
    if run < 3 {
        return Err(JobError::new(format!("run {run} failed")));
    }
    Ok(())
}

/// Always fails.
#[job(max_attempts = 2, backoff = "1s")]
async fn doomed(attempt: u32) -> Result<(), JobError> {
    Err(JobError::new(format!("doomed #{attempt}")))
}

/// Fails for good at once.
#[job]
async fn refused() -> Result<(), JobError> {
    Err(JobError::permanent("the address does not exist"))
}

/// Panics on its first run.
static PANICS: AtomicUsize = AtomicUsize::new(0);

#[job(max_attempts = 2, backoff = "1s")]
async fn panicky(events: State<Events>) {
    if PANICS.fetch_add(1, Ordering::SeqCst) == 0 {
        panic!("first run panics");
    }
    events.push("panicky ran");
}

/// Overruns its timeout.
#[job(max_attempts = 1, timeout = "100ms")]
async fn slow() {
    tokio::time::sleep(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn failures_are_retried_with_backoff_and_then_kept_dead() {
    let events = Arc::new(Events::default());
    let client = TestClient::start(
        App::new()
            .state_arc(events.clone())
            .jobs(queue("retries").await)
            .job(flaky)
            .job(doomed)
            .job(refused)
            .job(panicky)
            .job(slow),
    )
    .await;
    let jobs = client_jobs(&client);
    jobs.enqueue(flaky, ()).await.unwrap();
    jobs.enqueue(doomed, 7).await.unwrap();
    jobs.enqueue(refused, ()).await.unwrap();
    jobs.enqueue(panicky, ()).await.unwrap();
    jobs.enqueue(slow, ()).await.unwrap();

    // flaky: three runs, the second at least 1 s after the first and the third at
    // least 2 s after the second (the backoff doubles).
    let log = wait(Duration::from_secs(15), || async {
        let log = events.snapshot();
        let runs = log.iter().filter(|e| e.starts_with("run ")).count();
        (runs >= 3 && log.iter().any(|e| e == "panicky ran")).then_some(log)
    })
    .await;
    assert_eq!(
        log.iter().filter(|e| e.starts_with("run ")).count(),
        3,
        "{log:?}"
    );
    let times = FLAKY_RUNS.lock().unwrap().clone();
    assert!(times[1] - times[0] >= Duration::from_secs(1), "{times:?}");
    assert!(times[2] - times[1] >= Duration::from_secs(2), "{times:?}");

    let dead = wait(Duration::from_secs(10), || async {
        let dead = jobs.dead(10).await.unwrap();
        (dead.len() == 3).then_some(dead)
    })
    .await;
    let by_name = |name: &str| dead.iter().find(|d| d.name == name).unwrap().clone();
    let doomed_job = by_name("doomed");
    assert_eq!(doomed_job.attempts, 2);
    assert_eq!(doomed_job.args, json!(7));
    assert!(doomed_job.error.contains("doomed #7"), "{doomed_job:?}");
    let refused_job = by_name("refused");
    assert_eq!(
        refused_job.attempts, 1,
        "a permanent failure is not retried"
    );
    assert_eq!(refused_job.error, "the address does not exist");
    let slow_job = by_name("slow");
    assert_eq!(slow_job.error, "it ran longer than its timeout of 100ms");
    assert!(dead
        .iter()
        .all(|d| d.name != "flaky" && d.name != "panicky"));
    assert_eq!(jobs.pending("flaky").await.unwrap(), 0);

    // A dead job retried by hand runs again (and dies again: it always fails).
    assert!(jobs.retry_dead(&doomed_job.id).await.unwrap());
    assert!(!jobs.retry_dead("no-such-job").await.unwrap());
    client.shutdown().await;
}

/// The app's queue, as the test client reaches it.
fn client_jobs(client: &TestClient) -> Jobs {
    client.jobs().expect("the app has a queue")
}

/// Wait (bounded) until `check` gives a value.
async fn wait<T, F, Fut>(bound: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + bound;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "waited {bound:?} in vain");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Records an order's number, once per run.
#[job]
async fn confirm(order: i64, events: State<Events>) {
    events.push(format!("confirm {order}"));
}

/// The app's own database, beside the queue's tables.
struct Db {
    pool: SqlitePool,
}

/// Store an order and queue its confirmation in one transaction, which commits unless
/// `?fail=true`.
#[post("/orders/{id}")]
async fn place_order(
    id: i64,
    fail: Option<bool>,
    db: State<Db>,
    jobs: Jobs,
) -> Result<&'static str, HttpError> {
    let internal =
        |e: sqlx::Error| HttpError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
    let mut tx = db.pool.begin().await.map_err(internal)?;
    sqlx::query("INSERT INTO orders (id) VALUES (?1)")
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(internal)?;
    jobs.enqueue(confirm, id).in_transaction(&mut tx).await?;
    if fail == Some(true) {
        tx.rollback().await.map_err(internal)?;
        return Err(HttpError::new(StatusCode::CONFLICT, "rolled back"));
    }
    tx.commit().await.map_err(internal)?;
    Ok("placed")
}

#[tokio::test]
async fn a_job_enqueued_in_a_rolled_back_transaction_never_runs() {
    let file = queue_file("tx");
    let pool = SqlitePool::connect(&format!("sqlite://{file}?mode=rwc"))
        .await
        .unwrap();
    sqlx::query("CREATE TABLE orders (id INTEGER PRIMARY KEY)")
        .execute(&pool)
        .await
        .unwrap();
    let events = Arc::new(Events::default());
    let client = TestClient::start(
        App::new()
            .state_arc(events.clone())
            .state(Db { pool: pool.clone() })
            .jobs(Queue::sqlite_pool(pool.clone()).poll_interval(Duration::from_millis(20)))
            .job(confirm)
            .route(place_order),
    )
    .await;
    assert_eq!(
        client
            .post("/orders/1")
            .query(&[("fail", "true")])
            .send()
            .await
            .status(),
        409
    );
    assert_eq!(client.post("/orders/2").send().await.status(), 200);
    assert_eq!(events.wait_for(1).await, ["confirm 2"]);
    // Order 1's job would have run long before order 2's: it was never written.
    let jobs: i64 = sqlx::query_scalar("SELECT count(*) FROM Jobs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(jobs, 1);
    let orders: Vec<i64> = sqlx::query_scalar("SELECT id FROM orders")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(orders, [2]);
    client.shutdown().await;
}

#[tokio::test]
async fn an_idempotency_key_queues_a_job_once() {
    let events = Arc::new(Events::default());
    let client = TestClient::start(
        App::new()
            .state_arc(events.clone())
            .jobs(queue("key").await)
            .job(confirm),
    )
    .await;
    let jobs = client_jobs(&client);
    let first = jobs.enqueue(confirm, 5).key("order-5").await.unwrap();
    assert!(matches!(first, Enqueued::Added(_)), "{first:?}");
    assert_eq!(
        jobs.enqueue(confirm, 5).key("order-5").await.unwrap(),
        Enqueued::AlreadyQueued
    );
    events.wait_for(1).await;
    // Still a duplicate once the first is done.
    assert_eq!(
        jobs.enqueue(confirm, 5).key("order-5").await.unwrap(),
        Enqueued::AlreadyQueued
    );
    // Another key, or no key, is another job.
    jobs.enqueue(confirm, 6).key("order-6").await.unwrap();
    jobs.enqueue(confirm, 7).await.unwrap();
    let mut log = events.wait_for(3).await;
    log.sort();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(events.snapshot().len(), 3, "{:?}", events.snapshot());
    assert_eq!(log, ["confirm 5", "confirm 6", "confirm 7"]);
    client.shutdown().await;
}

/// Takes arguments JSON cannot hold (a map with non-string keys).
#[job]
async fn odd(map: std::collections::BTreeMap<(u8, u8), u8>) {
    let _ = map;
}

/// Never registered with the app.
#[job]
async fn stray() {}

#[tokio::test]
async fn enqueueing_what_cannot_run_is_a_clear_error() {
    let client = TestClient::start(App::new().jobs(queue("errors").await).job(odd)).await;
    let jobs = client_jobs(&client);
    let err = jobs.enqueue(stray, ()).await.unwrap_err();
    assert!(matches!(err, EnqueueError::UnknownJob("stray")), "{err:?}");
    assert_eq!(
        err.to_string(),
        "the job `stray` is not registered with this app (add `App::job(stray)`), so no \
         worker would run it"
    );
    let args = std::collections::BTreeMap::from([((1, 2), 3)]);
    let err = jobs.enqueue(odd, args).await.unwrap_err();
    assert!(
        err.to_string()
            .starts_with("the arguments of job `odd` do not serialize: key must be a string"),
        "{err}"
    );
    client.shutdown().await;
}

/// Takes its time, then says so.
#[job(timeout = "30s")]
async fn lengthy(millis: u64, events: State<Events>) {
    events.push("lengthy started");
    tokio::time::sleep(Duration::from_millis(millis)).await;
    events.push("lengthy finished");
}

#[tokio::test]
async fn shutdown_waits_for_running_jobs() {
    let events = Arc::new(Events::default());
    let client = TestClient::start(
        App::new()
            .state_arc(events.clone())
            .jobs(queue("drain").await)
            .job(lengthy),
    )
    .await;
    let jobs = client_jobs(&client);
    jobs.enqueue(lengthy, 700).await.unwrap();
    events.wait_for(1).await;
    client.shutdown().await;
    assert_eq!(events.snapshot(), ["lengthy started", "lengthy finished"]);
    assert_eq!(jobs.pending("lengthy").await.unwrap(), 0);
}

#[tokio::test]
async fn a_job_cut_off_at_the_drain_deadline_runs_again_after_a_restart() {
    let queue = queue("restart")
        .await
        .drain_timeout(Duration::from_millis(100));
    let app = |events: Arc<Events>| {
        App::new()
            .state_arc(events)
            .jobs(queue.clone())
            .job(lengthy)
    };
    let first = Arc::new(Events::default());
    let client = TestClient::start(app(first.clone())).await;
    client_jobs(&client).enqueue(lengthy, 3_000).await.unwrap();
    first.wait_for(1).await;
    client.shutdown().await;
    assert_eq!(first.snapshot(), ["lengthy started"]);

    // The next process takes the job over once the first one's workers have been
    // silent for two heartbeats.
    let second = Arc::new(Events::default());
    let client = TestClient::start(app(second.clone())).await;
    let log = wait(Duration::from_secs(15), || async {
        let log = second.snapshot();
        (log.len() >= 2).then_some(log)
    })
    .await;
    assert_eq!(log, ["lengthy started", "lengthy finished"]);
    client.shutdown().await;
}

#[test]
fn apps_whose_jobs_cannot_run_do_not_build() {
    let problems = App::new().job(greet).build().unwrap_err().to_string();
    assert!(
        problems.contains("the app registers jobs (`greet`) but has no queue to keep them"),
        "{problems}"
    );
    let problems = App::new()
        .route(greet_endpoint)
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        problems.contains("`greet_endpoint` takes `Jobs` but the app has no job queue"),
        "{problems}"
    );
    let problems = App::new()
        .jobs(Queue::sqlite("unused.sqlite"))
        .job(greet)
        .job(greet)
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        problems.contains("the job `greet` is registered twice"),
        "{problems}"
    );
    assert!(
        problems.contains("start it with `App::start().await`"),
        "{problems}"
    );
}

#[tokio::test]
async fn an_in_memory_queue_works_within_one_process() {
    let events = Arc::new(Events::default());
    let client = TestClient::start(
        App::new()
            .state_arc(events.clone())
            .jobs(Queue::sqlite("sqlite::memory:").poll_interval(Duration::from_millis(20)))
            .job(confirm),
    )
    .await;
    client_jobs(&client).enqueue(confirm, 9).await.unwrap();
    assert_eq!(events.wait_for(1).await, ["confirm 9"]);
    client.shutdown().await;
}

#[tokio::test]
async fn a_queue_that_cannot_be_opened_stops_the_start() {
    let err = App::new()
        .jobs(Queue::sqlite("/nonexistent-dir/jobs.sqlite"))
        .job(greet)
        .start()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("the job queue at `/nonexistent-dir/jobs.sqlite` cannot be opened"),
        "{err}"
    );
}

/// On PostgreSQL, the same transaction rule, and a duplicate key inside the caller's
/// transaction leaves the transaction usable.
#[cfg(feature = "jobs-postgres")]
#[tokio::test]
async fn postgres_jobs_follow_the_callers_transaction() {
    let pool = sqlx::PgPool::connect(&postgres_database("pgtx").await)
        .await
        .unwrap();
    sqlx::query("CREATE TABLE orders (id BIGINT PRIMARY KEY)")
        .execute(&pool)
        .await
        .unwrap();
    let events = Arc::new(Events::default());
    let client = TestClient::start(
        App::new()
            .state_arc(events.clone())
            .jobs(Queue::postgres_pool(pool.clone()).poll_interval(Duration::from_millis(20)))
            .job(confirm),
    )
    .await;
    let jobs = client_jobs(&client);

    let mut tx = pool.begin().await.unwrap();
    sqlx::query("INSERT INTO orders VALUES (1)")
        .execute(&mut *tx)
        .await
        .unwrap();
    jobs.enqueue(confirm, 1)
        .in_transaction(&mut tx)
        .await
        .unwrap();
    tx.rollback().await.unwrap();

    let mut tx = pool.begin().await.unwrap();
    let first = jobs
        .enqueue(confirm, 2)
        .key("order-2")
        .in_transaction(&mut tx)
        .await;
    assert!(matches!(first, Ok(Enqueued::Added(_))), "{first:?}");
    let again = jobs
        .enqueue(confirm, 2)
        .key("order-2")
        .in_transaction(&mut tx)
        .await;
    assert!(matches!(again, Ok(Enqueued::AlreadyQueued)), "{again:?}");
    sqlx::query("INSERT INTO orders VALUES (2)")
        .execute(&mut *tx)
        .await
        .expect("the transaction survived the duplicate key");
    tx.commit().await.unwrap();

    assert_eq!(events.wait_for(1).await, ["confirm 2"]);
    let jobs_written: i64 = sqlx::query_scalar("SELECT count(*) FROM apalis.jobs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(jobs_written, 1);
    client.shutdown().await;
}

/// When each run of `tick` happened.
static TICKS: std::sync::Mutex<Vec<Instant>> = std::sync::Mutex::new(Vec::new());

/// Notes that it ran.
#[job]
async fn tick(label: String) {
    assert_eq!(label, "every second");
    TICKS.lock().unwrap().push(Instant::now());
}

#[tokio::test]
async fn a_schedule_kept_by_two_instances_runs_once_per_tick() {
    let queue = queue("cron").await;
    let instance = || {
        App::new().jobs(queue.clone()).job(tick).schedule(
            tick,
            "* * * * * *",
            "every second".to_owned(),
        )
    };
    let a = TestClient::start(instance()).await;
    let b = TestClient::start(instance()).await;
    let start = Instant::now();
    tokio::time::sleep(Duration::from_millis(3_500)).await;
    a.shutdown().await;
    b.shutdown().await;
    let elapsed = start.elapsed().as_secs_f64();
    let runs = TICKS.lock().unwrap().len();
    // One run per second that passed (the last tick's job may not have run yet); two
    // instances each queueing every tick would have run about twice as many.
    assert!(
        runs >= 2 && runs as f64 <= elapsed.ceil(),
        "{runs} runs in {elapsed:.1} s"
    );
}

#[test]
fn a_bad_schedule_does_not_build() {
    let problems = App::new()
        .jobs(Queue::sqlite("unused.sqlite"))
        .job(greet)
        .schedule(greet, "every day", Greeting { to: "all".into() })
        .schedule(tick, "0 * * * *", String::new())
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        problems.contains("the schedule of job `greet`: `every day` has 2 fields"),
        "{problems}"
    );
    assert!(
        problems.contains("the job `tick` is scheduled but not registered: add `App::job(tick)`"),
        "{problems}"
    );
}

/// Jobs of `overlap` running now, and the most at once.
static RUNNING: std::sync::Mutex<(usize, usize)> = std::sync::Mutex::new((0, 0));

/// Holds a slot for a while, noting how many run at once.
#[job]
async fn overlap(events: State<Events>) {
    {
        let mut r = RUNNING.lock().unwrap();
        r.0 += 1;
        r.1 = r.1.max(r.0);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    RUNNING.lock().unwrap().0 -= 1;
    events.push("overlap");
}

#[tokio::test]
async fn a_worker_runs_no_more_jobs_at_once_than_its_concurrency() {
    let events = Arc::new(Events::default());
    let client = TestClient::start(
        App::new()
            .state_arc(events.clone())
            .jobs(queue("concurrency").await.concurrency(2))
            .job(overlap),
    )
    .await;
    let jobs = client_jobs(&client);
    for _ in 0..6 {
        jobs.enqueue(overlap, ()).await.unwrap();
    }
    events.wait_for(6).await;
    assert_eq!(
        RUNNING.lock().unwrap().1,
        2,
        "at most 2 at once, and 2 were"
    );
    client.shutdown().await;
}

/// A plain `fn` job: it runs on the blocking pool.
#[job]
fn plain(n: u32, events: State<Events>) {
    std::thread::sleep(Duration::from_millis(10));
    events.push(format!("plain {n}"));
}

#[tokio::test]
async fn an_instance_without_workers_only_enqueues() {
    let queue = queue("enqueue_only").await;
    let events = Arc::new(Events::default());
    let api = TestClient::start(
        App::new()
            .state_arc(events.clone())
            .jobs(queue.clone().without_workers())
            .job(plain),
    )
    .await;
    let jobs = client_jobs(&api);
    jobs.enqueue(plain, 4).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(events.snapshot().is_empty(), "no worker ran it here");
    assert_eq!(jobs.pending("plain").await.unwrap(), 1);

    // An instance with workers on the same queue runs it (a plain fn, on the blocking
    // pool).
    let worker =
        TestClient::start(App::new().state_arc(events.clone()).jobs(queue).job(plain)).await;
    assert_eq!(events.wait_for(1).await, ["plain 4"]);
    worker.shutdown().await;
    api.shutdown().await;
}

/// A Redis with an append-only file, as a queue in Redis wants it: restartable on the
/// same port and directory.
#[cfg(feature = "jobs-redis")]
struct DurableRedis {
    dir: std::path::PathBuf,
    port: u16,
    child: Option<std::process::Child>,
}

#[cfg(feature = "jobs-redis")]
impl DurableRedis {
    fn new() -> DurableRedis {
        let port = crate::common::free_port();
        let dir = std::env::temp_dir().join(format!("hasten-redis-jobs-{port}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut redis = DurableRedis {
            dir,
            port,
            child: None,
        };
        redis.start();
        redis
    }

    fn start(&mut self) {
        let child = std::process::Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("the Redis jobs tests need `redis-server` (apt-get install redis-server)");
        self.child = Some(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("redis-server did not start");
    }

    /// Stop it as an operator would (SIGTERM: it flushes and exits).
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = std::process::Command::new("kill")
                .arg(child.id().to_string())
                .status();
            let _ = child.wait();
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

#[cfg(feature = "jobs-redis")]
impl Drop for DurableRedis {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(feature = "jobs-redis")]
#[tokio::test]
async fn jobs_acknowledged_by_redis_outlive_its_restart_and_an_outage_is_a_clear_error() {
    let mut redis = DurableRedis::new();
    let queue = Queue::redis(redis.url())
        .poll_interval(Duration::from_millis(20))
        .heartbeat(Duration::from_secs(1));
    let events = Arc::new(Events::default());
    let api = TestClient::start(
        App::new()
            .state_arc(events.clone())
            .jobs(queue.clone().without_workers())
            .job(plain),
    )
    .await;
    let jobs = client_jobs(&api);
    for n in 0..20 {
        let done = jobs.enqueue(plain, n).key(format!("n{n}")).await.unwrap();
        assert!(matches!(done, Enqueued::Added(_)), "{done:?}");
    }

    redis.stop();
    let err = jobs.enqueue(plain, 99).await.unwrap_err();
    assert!(matches!(err, EnqueueError::Database(_)), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with("the job queue's database failed") && text.contains("Redis: "),
        "{err}"
    );

    redis.start();
    // The connection comes back by itself; the keys were kept with the jobs.
    let again = wait(Duration::from_secs(10), || async {
        jobs.enqueue(plain, 3).key("n3").await.ok()
    })
    .await;
    assert_eq!(again, Enqueued::AlreadyQueued);
    let worker =
        TestClient::start(App::new().state_arc(events.clone()).jobs(queue).job(plain)).await;
    events.wait_for(20).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut ran = events.snapshot();
    ran.sort_by_key(|e| e[6..].parse::<u32>().unwrap());
    let want: Vec<String> = (0..20).map(|n| format!("plain {n}")).collect();
    assert_eq!(ran, want, "every acknowledged job ran once, and only those");
    assert_eq!(jobs.pending("plain").await.unwrap(), 0);
    worker.shutdown().await;
    api.shutdown().await;
}

#[tokio::test]
async fn a_job_enqueued_here_starts_without_waiting_for_the_next_poll() {
    // Polls (and heartbeats, which also look for work) 10 s apart: a job that ran
    // within 2 s was woken for.
    let queue = queue("wake")
        .await
        .poll_interval(Duration::from_secs(10))
        .heartbeat(Duration::from_secs(10));
    let events = Arc::new(Events::default());
    let client =
        TestClient::start(App::new().state_arc(events.clone()).jobs(queue).job(plain)).await;
    // The worker's first poll happens as it starts; wait past it.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let jobs = client_jobs(&client);
    for n in 0..3 {
        let sent = Instant::now();
        jobs.enqueue(plain, n).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(2);
        while events.snapshot().len() <= n as usize {
            assert!(Instant::now() < deadline, "job {n} waited for a poll");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            sent.elapsed() < Duration::from_secs(2),
            "{:?}",
            sent.elapsed()
        );
    }
    client.shutdown().await;
}
