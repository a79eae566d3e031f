//! The workers: one apalis worker per kind of job, each running its jobs through a
//! service that makes the job's parameters, bounds its run, and decides what a failure
//! means (retry after a backoff, or dead).

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use apalis_core::backend::ext::poll_strategy::Strategy;
use apalis_core::backend::ext::BackendExt as _;
use apalis_core::error::{AbortError, BoxDynError};
use apalis_core::task::Task;
use apalis_core::worker::builder::WorkerBuilder;
use futures_util::FutureExt as _;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::PollSemaphore;
use tracing::Instrument as _;

use super::store::Store;
use super::{Enqueued, JobError, JobMeta, Jobs, LocalFuture, Queue};
use crate::depends::Outcome;
use crate::extract::RequestCtx;
use crate::runtime::Runtime;

/// A job's run, with its arguments still JSON.
type ErasedRun = dyn for<'a> Fn(&'a mut RequestCtx, serde_json::Value) -> LocalFuture<'a, Result<(), JobError>>
    + Send
    + Sync;

/// A registered job, its arguments' type erased.
#[derive(Clone)]
pub(crate) struct Entry {
    pub(crate) meta: &'static JobMeta,
    pub(crate) run: Arc<ErasedRun>,
}

/// Wakes a kind of job's worker in this process when a job of that kind is enqueued
/// here, so that it need not wait for its next poll. Wake-ups coalesce.
#[derive(Clone)]
pub(crate) struct LocalWake {
    tx: tokio::sync::mpsc::Sender<()>,
    rx: Arc<std::sync::Mutex<tokio::sync::mpsc::Receiver<()>>>,
}

impl Default for LocalWake {
    fn default() -> Self {
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        LocalWake {
            tx,
            rx: Arc::new(std::sync::Mutex::new(rx)),
        }
    }
}

impl LocalWake {
    pub(crate) fn wake(&self) {
        let _ = self.tx.try_send(());
    }

    /// The wake-ups as a stream, for apalis' poll strategy; it never ends.
    fn stream(&self) -> WakeStream {
        WakeStream(self.rx.clone())
    }
}

/// Wakes the worker when dropped: when a job's run ends, after its slot is free.
struct WakeOnDrop(LocalWake);

impl Drop for WakeOnDrop {
    fn drop(&mut self) {
        self.0.wake();
    }
}

struct WakeStream(Arc<std::sync::Mutex<tokio::sync::mpsc::Receiver<()>>>);

impl futures_util::Stream for WakeStream {
    type Item = ();

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<()>> {
        match self.0.lock() {
            Ok(mut rx) => match rx.poll_recv(cx) {
                Poll::Ready(Some(())) => Poll::Ready(Some(())),
                // The sender lives as long as the queue: no end to report.
                _ => Poll::Pending,
            },
            Err(_) => Poll::Pending,
        }
    }
}

/// The running workers, stopped at shutdown.
pub(crate) struct Workers {
    stop: watch::Sender<bool>,
    handles: Vec<tokio::task::JoinHandle<()>>,
    drain: Duration,
}

/// Start one worker per job on `queue`'s database, and the schedules.
pub(crate) fn start_workers(
    rt: &Arc<Runtime>,
    jobs: &Jobs,
    entries: &[Entry],
    schedules: &[super::schedule::Schedule],
    queue: &Queue,
) -> Workers {
    let (stop, stopped) = watch::channel(false);
    let instance = crate::random::hex128()
        .map(|h| h[..12].to_owned())
        .unwrap_or_else(|_| std::process::id().to_string());
    // On Redis, a push wakes the idle workers of its kind at once.
    #[cfg(feature = "jobs-redis")]
    let wakes: std::collections::HashMap<&'static str, Arc<tokio::sync::Notify>> = entries
        .iter()
        .map(|e| (e.meta.name, Arc::new(tokio::sync::Notify::new())))
        .collect();
    #[cfg(feature = "jobs-redis")]
    let wake_task = match &jobs.inner.store {
        Store::Redis(queue) => {
            let (queue, wakes, stopped) = ((**queue).clone(), wakes.clone(), stopped.clone());
            Some(tokio::spawn(
                async move { queue.wake_ups(wakes, stopped).await },
            ))
        }
        _ => None,
    };
    #[cfg(not(feature = "jobs-redis"))]
    let wake_task: Option<tokio::task::JoinHandle<()>> = None;
    let handles = entries
        .iter()
        .map(|entry| {
            let worker = WorkerLoop {
                #[cfg(feature = "jobs-redis")]
                wake: wakes.get(entry.meta.name).cloned().unwrap_or_default(),
                name: format!("{}@{}-{instance}", entry.meta.name, std::process::id()),
                entry: entry.clone(),
                rt: rt.clone(),
                jobs: jobs.clone(),
                concurrency: queue.concurrency,
                poll: queue.poll_interval,
                heartbeat: queue.heartbeat,
            };
            tokio::spawn(worker.run(stopped.clone()))
        })
        .chain(schedules.iter().map(|schedule| {
            tokio::spawn(super::schedule::run(
                schedule.clone(),
                jobs.clone(),
                stopped.clone(),
            ))
        }))
        .chain(wake_task)
        .collect();
    Workers {
        stop,
        handles,
        drain: queue.drain_timeout,
    }
}

/// Stop taking jobs and wait (up to the drain timeout) for the running ones. A job
/// still running then is abandoned: its row stays claimed by this process's workers,
/// whose silence lets another worker (or this app, restarted) run it again.
pub(crate) async fn drain(workers: Workers) {
    let _ = workers.stop.send(true);
    let mut handles = workers.handles;
    let all = futures_util::future::join_all(handles.iter_mut());
    if tokio::time::timeout(workers.drain, all).await.is_err() {
        tracing::warn!(
            target: "hasten::jobs",
            timeout = ?workers.drain,
            "jobs were still running at the drain deadline; they will run again"
        );
        for handle in &handles {
            handle.abort();
        }
    }
}

/// One kind of job's worker, restarted (after a pause) if its database fails.
struct WorkerLoop {
    /// Notified when a job of this kind is pushed (on Redis).
    #[cfg(feature = "jobs-redis")]
    wake: Arc<tokio::sync::Notify>,
    name: String,
    entry: Entry,
    rt: Arc<Runtime>,
    jobs: Jobs,
    concurrency: usize,
    poll: Duration,
    heartbeat: Duration,
}

impl WorkerLoop {
    async fn run(self, stopped: watch::Receiver<bool>) {
        #[cfg(feature = "jobs-redis")]
        if let Store::Redis(queue) = &self.jobs.inner.store {
            let queue = (**queue).clone();
            return self.run_redis(queue, stopped).await;
        }
        let mut pause = Duration::from_millis(500);
        let wake = self
            .jobs
            .inner
            .wakes
            .get(self.entry.meta.name)
            .cloned()
            .unwrap_or_default();
        loop {
            let service = JobService {
                entry: self.entry.clone(),
                rt: self.rt.clone(),
                jobs: self.jobs.clone(),
                slots: PollSemaphore::new(Arc::new(Semaphore::new(self.concurrency))),
                permit: None,
                wake: wake.clone(),
            };
            // One worker on the backend, until the stop signal; the same for each
            // backend but for its type.
            macro_rules! run {
                ($storage:ty, $config:ty, $pool:expr) => {{
                    let config = <$config>::default()
                        .queue(self.entry.meta.name)
                        .batch_size(self.concurrency)
                        .heartbeat_interval(self.heartbeat)
                        .missed_heartbeats(2);
                    // Polled every `poll`, and at once when this process enqueues.
                    let strategy = Strategy::new().stream(wake.stream()).interval(self.poll);
                    let backend = <$storage>::new($pool)
                        .with_config(config)
                        .poll_with_strategy(strategy);
                    let worker = WorkerBuilder::new(self.name.as_str())
                        .backend(backend)
                        .build(service);
                    let signal = stopped.clone();
                    worker
                        .run_with_ctx(move |ctx| {
                            let mut signal = signal.clone();
                            async move {
                                let _ = signal.wait_for(|stop| *stop).await;
                                ctx.stop()
                            }
                        })
                        .await
                }};
            }
            let ran = match &self.jobs.inner.store {
                Store::Sqlite(pool) => run!(
                    apalis_sqlite::SqliteStorage<serde_json::Value>,
                    apalis_sqlite::Config,
                    pool
                ),
                #[cfg(feature = "jobs-postgres")]
                Store::Postgres(pool) => run!(
                    apalis_postgres::PostgresStorage<serde_json::Value>,
                    apalis_postgres::Config,
                    pool
                ),
                #[cfg(feature = "jobs-redis")]
                Store::Redis(_) => return,
            };
            if *stopped.borrow() {
                return;
            }
            tracing::error!(
                target: "hasten::jobs",
                job = self.entry.meta.name,
                error = ?ran.err(),
                retry_in = ?pause,
                "a job worker stopped; it starts again"
            );
            let mut signal = stopped.clone();
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = signal.wait_for(|stop| *stop) => return,
            }
            pause = (pause * 2).min(Duration::from_secs(30));
        }
    }
}

#[cfg(feature = "jobs-redis")]
impl WorkerLoop {
    /// The Redis queue's worker: claim due jobs while slots are free (each for a lease
    /// of two heartbeats, renewed while it runs), run them, report each outcome. When
    /// stopped, stop claiming and keep renewing until the running jobs end.
    async fn run_redis(self, queue: super::redis::RedisQueue, mut stopped: watch::Receiver<bool>) {
        use std::collections::HashSet;
        use std::sync::Mutex;

        let name = self.entry.meta.name;
        let lease = self.heartbeat * 2;
        let slots = Arc::new(Semaphore::new(self.concurrency));
        let running: Arc<Mutex<HashSet<String>>> = Arc::default();
        let mut tasks = tokio::task::JoinSet::new();
        let mut renew_at = Instant::now() + self.heartbeat;
        let mut pause = Duration::from_millis(100);
        loop {
            while tasks.try_join_next().is_some() {}
            if Instant::now() >= renew_at {
                renew_at = Instant::now() + self.heartbeat;
                let ids: Vec<String> = running
                    .lock()
                    .map(|r| r.iter().cloned().collect())
                    .unwrap_or_default();
                if let Err(e) = queue.renew(name, &ids, lease).await {
                    tracing::warn!(target: "hasten::jobs", job = name, error = %e, "the running jobs' leases were not renewed");
                }
            }
            let stopping = *stopped.borrow();
            if stopping {
                if tasks.is_empty() {
                    return;
                }
                // Draining: renew while the running jobs end.
                tokio::select! {
                    _ = tasks.join_next() => {}
                    _ = tokio::time::sleep_until(renew_at.into()) => {}
                }
                continue;
            }
            let free = slots.available_permits();
            let claimed = if free == 0 {
                Vec::new()
            } else {
                match queue.claim(name, free, lease).await {
                    Ok(claimed) => {
                        pause = Duration::from_millis(100);
                        claimed
                    }
                    Err(e) => {
                        tracing::error!(target: "hasten::jobs", job = name, error = %e, retry_in = ?pause, "the job queue's Redis failed; the worker tries again");
                        tokio::select! {
                            _ = tokio::time::sleep(pause) => {}
                            _ = stopped.changed() => {}
                        }
                        pause = (pause * 2).min(Duration::from_secs(5));
                        continue;
                    }
                }
            };
            if claimed.is_empty() {
                tokio::select! {
                    _ = tokio::time::sleep(self.poll) => {}
                    _ = self.wake.notified() => {}
                    _ = stopped.changed() => {}
                    Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
                }
                continue;
            }
            for job in claimed {
                let Ok(permit) = slots.clone().try_acquire_owned() else {
                    break;
                };
                if let Ok(mut r) = running.lock() {
                    r.insert(job.id.clone());
                }
                let (entry, rt, jobs, queue, running) = (
                    self.entry.clone(),
                    self.rt.clone(),
                    self.jobs.clone(),
                    queue.clone(),
                    running.clone(),
                );
                tasks.spawn(async move {
                    let _permit = permit;
                    let verdict = match serde_json::from_slice::<serde_json::Value>(&job.args) {
                        Ok(args) => {
                            execute(
                                rt,
                                &entry,
                                &jobs,
                                args,
                                &job.id,
                                job.attempt,
                                job.max_attempts,
                            )
                            .await
                        }
                        Err(e) => Verdict::Dead(format!("its arguments are not JSON: {e}")),
                    };
                    report(&queue, name, &job.id, verdict).await;
                    if let Ok(mut r) = running.lock() {
                        r.remove(&job.id);
                    }
                });
            }
        }
    }
}

/// Tell Redis how a run ended, trying again for a while if it cannot be reached; if it
/// never hears, the job's lease runs out and it runs again.
#[cfg(feature = "jobs-redis")]
async fn report(queue: &super::redis::RedisQueue, name: &'static str, id: &str, verdict: Verdict) {
    let mut wait = Duration::from_millis(100);
    for _ in 0..20 {
        let sent = match &verdict {
            Verdict::Done => queue.done(name, id).await,
            Verdict::Retry(after, error) => queue.failed(name, id, Some(*after), error).await,
            Verdict::Dead(error) => queue.failed(name, id, None, error).await,
        };
        match sent {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(target: "hasten::jobs", job = name, id, error = %e, "a job's outcome was not stored yet");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(2));
            }
        }
    }
    tracing::error!(target: "hasten::jobs", job = name, id, "a job's outcome could not be stored; it will run again");
}

/// Runs one kind of job, at most `concurrency` at once (a free slot gates fetching).
struct JobService {
    entry: Entry,
    rt: Arc<Runtime>,
    jobs: Jobs,
    slots: PollSemaphore,
    permit: Option<OwnedSemaphorePermit>,
    /// Woken as each job ends: while there is work, the next fetch need not wait for
    /// the poll.
    wake: LocalWake,
}

impl tower_service::Service<Task<serde_json::Value>> for JobService {
    type Response = ();
    type Error = BoxDynError;
    type Future = Pin<Box<dyn Future<Output = Result<(), BoxDynError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxDynError>> {
        if self.permit.is_none() {
            match self.slots.poll_acquire(cx) {
                Poll::Ready(Some(permit)) => self.permit = Some(permit),
                Poll::Ready(None) => return Poll::Ready(Err("the job slots are closed".into())),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, task: Task<serde_json::Value>) -> Self::Future {
        let permit = self.permit.take();
        let entry = self.entry.clone();
        let rt = self.rt.clone();
        let jobs = self.jobs.clone();
        let (args, ctx) = task.take();
        let wake = self.wake.clone();
        Box::pin(async move {
            let _permit = permit;
            let _next = WakeOnDrop(wake);
            let attempt = u32::try_from(ctx.attempt()).unwrap_or(u32::MAX);
            let max = ctx
                .max_attempts()
                .and_then(|m| u32::try_from(m).ok())
                .unwrap_or(entry.meta.max_attempts);
            let id = ctx.task_id().map(|id| id.to_string()).unwrap_or_default();
            match execute(rt, &entry, &jobs, args, &id, attempt, max).await {
                Verdict::Done => Ok(()),
                Verdict::Dead(message) => Err(Box::new(AbortError::new(message)) as BoxDynError),
                Verdict::Retry(wait, message) => {
                    if let Err(db) = jobs.inner.store.retry_at(&id, retry_time(wait)).await {
                        tracing::error!(target: "hasten::jobs", job = entry.meta.name, id = %id, error = %db, "a failed job's retry time was not stored; it retries at once");
                    }
                    Err(message.into())
                }
            }
        })
    }
}

/// What a run means for its job.
enum Verdict {
    Done,
    /// Run again after the wait.
    Retry(Duration, String),
    /// Out of attempts, or failed for good.
    Dead(String),
}

/// Run attempt `attempt` (of `max`) of a job, in its span, counted in the metrics,
/// and say what comes of it.
async fn execute(
    rt: Arc<Runtime>,
    entry: &Entry,
    jobs: &Jobs,
    args: serde_json::Value,
    id: &str,
    attempt: u32,
    max: u32,
) -> Verdict {
    let meta = entry.meta;
    let span = tracing::info_span!(
        target: "hasten::jobs",
        "job",
        name = meta.name,
        id = %id,
        attempt,
        outcome = tracing::field::Empty,
    );
    let started = Instant::now();
    let result = run_once(rt, entry, args).instrument(span.clone()).await;
    let secs = started.elapsed().as_secs_f64();
    let _enter = span.enter();
    match result {
        Ok(()) => {
            span.record("outcome", "done");
            jobs.inner.metrics.ran(meta.name, "done", secs);
            Verdict::Done
        }
        Err(e) if e.is_permanent() || attempt >= max => {
            span.record("outcome", "dead");
            jobs.inner.metrics.ran(meta.name, "dead", secs);
            tracing::error!(
                target: "hasten::jobs",
                job = meta.name,
                id = %id,
                attempt,
                error = %e,
                "a job failed for good; it is kept with the dead jobs"
            );
            Verdict::Dead(e.message)
        }
        Err(e) => {
            span.record("outcome", "retry");
            jobs.inner.metrics.ran(meta.name, "retry", secs);
            let wait = backoff(meta.backoff_ms, attempt);
            tracing::warn!(
                target: "hasten::jobs",
                job = meta.name,
                id = %id,
                attempt,
                max_attempts = max,
                retry_in = ?wait,
                error = %e,
                "a job failed; it will be retried"
            );
            Verdict::Retry(wait, e.message)
        }
    }
}

/// The wait before attempt `attempt + 1`: the base doubled for each attempt made
/// after the first, at least a second (the queue's clock counts seconds), at most an
/// hour.
pub(crate) fn backoff(base_ms: u64, attempt: u32) -> Duration {
    let factor = 1u64 << attempt.saturating_sub(1).min(20);
    let ms = base_ms.saturating_mul(factor).min(3_600_000);
    Duration::from_secs(ms.div_ceil(1000).max(1))
}

/// When a retry after `wait` may run, in the queue's Unix seconds: rounded up, so the
/// wait is never cut short.
fn retry_time(wait: Duration) -> i64 {
    let at = std::time::SystemTime::now() + wait;
    let since = at.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs() + u64::from(since.subsec_nanos() > 0);
    i64::try_from(secs).unwrap_or(i64::MAX)
}

/// Run the job once outside any request: make its parameters, bound it by its timeout,
/// catch a panic, then run its dependencies' cleanups with the outcome.
async fn run_once(
    rt: Arc<Runtime>,
    entry: &Entry,
    args: serde_json::Value,
) -> Result<(), JobError> {
    let mut ctx = RequestCtx::detached(rt);
    let timeout = Duration::from_millis(entry.meta.timeout_ms);
    let result = {
        let run = AssertUnwindSafe((entry.run)(&mut ctx, args)).catch_unwind();
        match tokio::time::timeout(timeout, run).await {
            Err(_) => Err(JobError::new(format!(
                "it ran longer than its timeout of {timeout:?}"
            ))),
            Ok(Err(panic)) => Err(JobError::new(format!(
                "it panicked: {}",
                crate::panics::panic_message(panic)
            ))),
            Ok(Ok(result)) => result,
        }
    };
    let cleanups = crate::depends::take_cleanups(&mut ctx);
    let outcome = match &result {
        Ok(()) => Outcome::Completed(http::StatusCode::OK),
        Err(_) => Outcome::Failed(http::StatusCode::INTERNAL_SERVER_ERROR),
    };
    match crate::depends::run_cleanups(cleanups, outcome).await {
        Some(failed) if result.is_ok() => Err(JobError::new(format!(
            "a dependency's cleanup failed (it answered {})",
            failed.status()
        ))),
        _ => result,
    }
}

/// The jobs' metrics, when the app keeps metrics.
#[derive(Clone, Default)]
pub(crate) struct Meter {
    #[cfg(feature = "metrics")]
    pub(crate) metrics: Option<Arc<crate::metrics::Metrics>>,
}

impl Meter {
    pub(crate) fn enqueued(&self, name: &str, done: &Enqueued) {
        #[cfg(feature = "metrics")]
        if let (Some(m), Enqueued::Added(_)) = (&self.metrics, done) {
            m.job_enqueued(name);
        }
        #[cfg(not(feature = "metrics"))]
        let _ = (name, done);
    }

    fn ran(&self, name: &str, outcome: &str, secs: f64) {
        #[cfg(feature = "metrics")]
        if let Some(m) = &self.metrics {
            m.job_ran(name, outcome, secs);
        }
        #[cfg(not(feature = "metrics"))]
        let _ = (name, outcome, secs);
    }
}

#[cfg(test)]
mod tests {
    use super::backoff;
    use std::time::Duration;

    #[test]
    fn backoff_doubles_from_the_base_within_bounds() {
        assert_eq!(backoff(1000, 1), Duration::from_secs(1));
        assert_eq!(backoff(1000, 2), Duration::from_secs(2));
        assert_eq!(backoff(1000, 4), Duration::from_secs(8));
        assert_eq!(backoff(100, 1), Duration::from_secs(1));
        assert_eq!(backoff(1000, 40), Duration::from_secs(3600));
    }
}
