//! Durable jobs: work that outlives the request and the process, retried until it is
//! done.
//!
//! [`BackgroundTasks`](crate::BackgroundTasks) run after the response, in the process
//! that answered, and die with it. A job is written to a database first, so a restart,
//! a crash or a deploy loses nothing: a worker (in this process or another one on the
//! same database) runs it, retries it with backoff when it fails, and leaves it *dead*,
//! with its last error, when its attempts run out.
//!
//! `#[job]` on a function makes a job. Its first parameter that is not injected is its
//! arguments (any serde type); its other parameters are injected as an endpoint's are:
//! [`Depends<…>`](crate::Depends) on the app's dependencies, [`State<…>`](crate::State)
//! and [`Jobs`], to enqueue more jobs. It returns nothing or `Result<(), E>` where `E`
//! turns into [`JobError`] (every standard error does, so `?` works).
//!
//! ```
//! use hasten::prelude::*;
//! use hasten::jobs::{JobError, Jobs, Queue};
//!
//! #[derive(Serialize, Deserialize)]
//! struct Welcome {
//!     email: String,
//! }
//!
//! /// Send the welcome e-mail.
//! #[job(max_attempts = 5, timeout = "30s")]
//! async fn send_welcome(welcome: Welcome) -> Result<(), JobError> {
//!     if welcome.email.is_empty() {
//!         return Err(JobError::permanent("no address"));
//!     }
//!     Ok(())
//! }
//!
//! #[post("/users")]
//! async fn create_user(jobs: Jobs) -> Result<&'static str, HttpError> {
//!     jobs.enqueue(send_welcome, Welcome { email: "ann@example.com".into() })
//!         .key("welcome:ann")
//!         .await?;
//!     Ok("created")
//! }
//!
//! # async fn run() {
//! let app = App::new()
//!     .jobs(Queue::sqlite("sqlite://jobs.sqlite"))
//!     .job(send_welcome)
//!     .route(create_user);
//! # let _ = app;
//! # }
//! ```
//!
//! - **Storage.** [`Queue::sqlite`] keeps the queue in an SQLite file (embedded, nothing
//!   to set up). Jobs are rows in apalis' tables; the workers are apalis workers.
//! - **Transactions.** [`Enqueue::in_transaction`] writes the job in the caller's own
//!   transaction: a request that rolls back never emits its job.
//! - **Idempotency.** [`Enqueue::key`] names a job; a second job with the same key is
//!   not queued ([`Enqueued::AlreadyQueued`]), whether the first is waiting, running
//!   or done.
//! - **Failures.** An error or a panic is retried after an exponential backoff (the
//!   `backoff` base, doubled each attempt, at most an hour) until `max_attempts`; a
//!   run longer than `timeout` fails. [`JobError::permanent`], or arguments that no
//!   longer deserialize, end the job at once. A job that ran out of attempts is dead
//!   and kept with its last error ([`Jobs::dead`]).
//! - **Shutdown.** Workers stop taking jobs when the app shuts down and wait (up to
//!   [`Queue::drain_timeout`]) for the jobs they are running; a job still running then
//!   is run again later, by this process when it restarts or by another worker.

#[cfg(feature = "jobs-redis")]
mod redis;
mod schedule;
mod store;
mod worker;

use std::fmt;
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::HttpError;
use crate::extract::{Errors, Extracted, FromRequest, ParamSpec, RequestCtx};
use crate::openapi::model::OperationDoc;
use crate::response::{IntoResponse, Response};

/// The sqlx the queue is written with, for [`Enqueue::in_transaction`] and
/// [`Queue::sqlite_pool`].
pub use sqlx;
pub use store::{DeadJob, JobConnection};
pub(crate) use worker::{drain, start_workers, Meter, Workers};

/// A future borrowing what it runs on.
type LocalFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a job is, as `#[job]` declares it.
#[doc(hidden)]
#[derive(Debug)]
pub struct JobMeta {
    /// Its queue's name: the function's name unless `name = "…"` says otherwise.
    pub name: &'static str,
    /// How many times it runs before it is dead.
    pub max_attempts: u32,
    /// The longest one run may take, in milliseconds.
    pub timeout_ms: u64,
    /// The first retry's delay, in milliseconds; each later one doubles it.
    pub backoff_ms: u64,
}

/// A job: what `#[job]` makes of a function, taking arguments `A`. Pass it to
/// [`App::job`](crate::App::job) to run it, and to [`Jobs::enqueue`] to queue it.
pub struct Job<A> {
    pub(crate) meta: &'static JobMeta,
    run: for<'a> fn(&'a mut RequestCtx, A) -> LocalFuture<'a, Result<(), JobError>>,
}

impl<A> Clone for Job<A> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<A> Copy for Job<A> {}

impl<A> fmt::Debug for Job<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Job")
            .field("name", &self.meta.name)
            .finish()
    }
}

impl<A> Job<A> {
    /// The job's name: its queue.
    pub fn name(&self) -> &'static str {
        self.meta.name
    }
}

impl<A: Serialize + DeserializeOwned + Send + 'static> Job<A> {
    /// What `#[job]` generates.
    #[doc(hidden)]
    pub fn __new(
        meta: &'static JobMeta,
        run: for<'a> fn(&'a mut RequestCtx, A) -> LocalFuture<'a, Result<(), JobError>>,
    ) -> Self {
        Job { meta, run }
    }

    /// The job with its arguments' type erased, as the worker runs it.
    pub(crate) fn erase(self) -> worker::Entry {
        worker::Entry {
            meta: self.meta,
            run: Arc::new(move |ctx, args| run_erased(self.run, ctx, args)),
        }
    }
}

/// Deserialize the arguments, then run: arguments that do not fit are a permanent
/// failure (they will not fit next time either).
fn run_erased<'a, A: DeserializeOwned + Send + 'static>(
    run: for<'b> fn(&'b mut RequestCtx, A) -> LocalFuture<'b, Result<(), JobError>>,
    ctx: &'a mut RequestCtx,
    args: serde_json::Value,
) -> LocalFuture<'a, Result<(), JobError>> {
    match serde_json::from_value::<A>(args) {
        Ok(args) => run(ctx, args),
        Err(e) => Box::pin(async move {
            Err(JobError::permanent(format!(
                "its arguments do not fit `{}`: {e}",
                std::any::type_name::<A>()
            )))
        }),
    }
}

/// Why a job's run failed. Every standard error converts into one (so `?` works in a
/// job); [`JobError::new`] makes one from a message, and [`JobError::permanent`] one
/// that is not retried.
pub struct JobError {
    message: String,
    permanent: bool,
}

impl JobError {
    /// A failure that is retried (after the backoff) while attempts remain.
    pub fn new(message: impl fmt::Display) -> Self {
        JobError {
            message: message.to_string(),
            permanent: false,
        }
    }

    /// A failure that retrying cannot fix: the job is dead at once.
    pub fn permanent(message: impl fmt::Display) -> Self {
        JobError {
            message: message.to_string(),
            permanent: true,
        }
    }

    /// Whether the job is dead at once rather than retried.
    pub fn is_permanent(&self) -> bool {
        self.permanent
    }

    /// What went wrong.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Debug for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobError")
            .field("message", &self.message)
            .field("permanent", &self.permanent)
            .finish()
    }
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl<E: std::error::Error> From<E> for JobError {
    fn from(e: E) -> Self {
        JobError::new(e)
    }
}

/// What a job function may return: nothing, or a `Result` whose error becomes a
/// [`JobError`].
pub trait JobOutput: Send + 'static {
    /// The outcome of the run.
    fn into_outcome(self) -> Result<(), JobError>;
}

impl JobOutput for () {
    fn into_outcome(self) -> Result<(), JobError> {
        Ok(())
    }
}

impl<E: Into<JobError> + Send + 'static> JobOutput for Result<(), E> {
    fn into_outcome(self) -> Result<(), JobError> {
        self.map_err(Into::into)
    }
}

/// Where the queue is kept and how this process works it, for [`App::jobs`](crate::App::jobs).
#[derive(Debug, Clone)]
pub struct Queue {
    pub(crate) place: store::Place,
    pub(crate) concurrency: usize,
    pub(crate) workers: bool,
    pub(crate) poll_interval: Duration,
    pub(crate) heartbeat: Duration,
    pub(crate) drain_timeout: Duration,
}

impl Queue {
    fn at(place: store::Place) -> Self {
        Queue {
            place,
            concurrency: 8,
            workers: true,
            poll_interval: Duration::from_millis(100),
            heartbeat: Duration::from_secs(5),
            drain_timeout: Duration::from_secs(30),
        }
    }

    /// The queue in an SQLite database: a URL (`sqlite://jobs.sqlite`, created if
    /// missing; `sqlite::memory:` for one process's tests) or a file path. Its tables
    /// are created (or migrated) when the app starts.
    pub fn sqlite(url: impl Into<String>) -> Self {
        Queue::at(store::Place::SqliteUrl(url.into()))
    }

    /// The queue in the database behind an SQLite pool the app already has, so that
    /// jobs can be enqueued in the app's own transactions
    /// ([`Enqueue::in_transaction`]).
    pub fn sqlite_pool(pool: sqlx::SqlitePool) -> Self {
        Queue::at(store::Place::Sqlite(pool))
    }

    /// The queue in PostgreSQL (cargo feature `jobs-postgres`), at a `postgres://` URL:
    /// for many instances sharing one queue. Its tables (schema `apalis`, with the
    /// `hstore` extension) are created or migrated when the app starts.
    #[cfg(feature = "jobs-postgres")]
    pub fn postgres(url: impl Into<String>) -> Self {
        Queue::at(store::Place::PostgresUrl(url.into()))
    }

    /// The queue in the PostgreSQL database behind a pool the app already has, so that
    /// jobs can be enqueued in the app's own transactions.
    #[cfg(feature = "jobs-postgres")]
    pub fn postgres_pool(pool: sqlx::PgPool) -> Self {
        Queue::at(store::Place::Postgres(pool))
    }

    /// The queue in Redis (cargo feature `jobs-redis`), at a `redis://` URL: for many
    /// instances sharing one queue. Redis acknowledges an enqueue once it holds it in
    /// memory: run it with `appendonly yes` for jobs to outlive a Redis restart.
    /// Enqueueing inside a database transaction needs SQLite or PostgreSQL; finished
    /// jobs are not kept, and an idempotency key is kept for 7 days after its job.
    #[cfg(feature = "jobs-redis")]
    pub fn redis(url: impl Into<String>) -> Self {
        Queue::at(store::Place::RedisUrl(url.into()))
    }

    /// How many jobs of each kind this process runs at once (8 unless set; at least 1).
    pub fn concurrency(mut self, jobs: usize) -> Self {
        self.concurrency = jobs.max(1);
        self
    }

    /// Only enqueue: run no workers in this process (other instances run the jobs).
    pub fn without_workers(mut self) -> Self {
        self.workers = false;
        self
    }

    /// How often an idle worker looks for new jobs (100 ms unless set).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval.max(Duration::from_millis(1));
        self
    }

    /// How often a worker tells the database it is alive (5 s unless set). A worker
    /// silent for two of these is taken for dead, and its jobs are run again elsewhere.
    pub fn heartbeat(mut self, interval: Duration) -> Self {
        self.heartbeat = interval.max(Duration::from_secs(1));
        self
    }

    /// How long shutdown waits for running jobs (30 s unless set).
    pub fn drain_timeout(mut self, timeout: Duration) -> Self {
        self.drain_timeout = timeout;
        self
    }
}

/// The app's queue, as handlers, dependencies and jobs enqueue into it. Take it as a
/// parameter; it is cheap to clone.
#[derive(Clone)]
pub struct Jobs {
    pub(crate) inner: Arc<JobsInner>,
}

/// The queue the app connected to at start, and the jobs it knows.
pub(crate) struct JobsInner {
    pub(crate) store: store::Store,
    pub(crate) known: std::collections::HashSet<&'static str>,
    pub(crate) metrics: worker::Meter,
    /// Per kind of job, what wakes this process's worker when a job is enqueued here.
    pub(crate) wakes: std::collections::HashMap<&'static str, worker::LocalWake>,
}

impl fmt::Debug for Jobs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jobs")
            .field("store", &self.inner.store)
            .finish_non_exhaustive()
    }
}

impl Jobs {
    /// Queue `job` with `args`; await the [`Enqueue`] to write it. It runs as soon as
    /// a worker is free, unless [`Enqueue::delay`] says later.
    pub fn enqueue<A, J>(&self, job: J, args: A) -> Enqueue<'_, A>
    where
        A: Serialize + Send + Sync + 'static,
        J: FnOnce() -> Job<A>,
    {
        Enqueue {
            jobs: self,
            meta: job().meta,
            args,
            key: None,
            delay: None,
            _args: PhantomData,
        }
    }

    /// The dead jobs (out of attempts, or failed permanently), newest first, at most
    /// `limit`.
    pub async fn dead(&self, limit: u32) -> Result<Vec<DeadJob>, EnqueueError> {
        self.inner
            .store
            .dead(&self.names(), limit)
            .await
            .map_err(EnqueueError::Database)
    }

    /// Run a dead job again, with its attempts reset. Whether there was such a dead
    /// job.
    pub async fn retry_dead(&self, id: &str) -> Result<bool, EnqueueError> {
        self.inner
            .store
            .retry_dead(&self.names(), id)
            .await
            .map_err(EnqueueError::Database)
    }

    /// The kinds of job the app registered, by name.
    fn names(&self) -> Vec<&'static str> {
        let mut names: Vec<_> = self.inner.known.iter().copied().collect();
        names.sort_unstable();
        names
    }

    /// How many jobs of `name` are waiting or running.
    pub async fn pending(&self, name: &str) -> Result<u64, EnqueueError> {
        self.inner
            .store
            .pending(name)
            .await
            .map_err(EnqueueError::Database)
    }
}

/// Taken as a parameter, the queue is the app's state: the same extraction and the same
/// build-time check as `State<Jobs>`.
impl FromRequest for Jobs {
    async fn from_request(
        ctx: &mut RequestCtx,
        spec: &'static ParamSpec,
        errors: &mut Errors,
    ) -> Extracted<Self> {
        let jobs = crate::State::<Jobs>::from_request(ctx, spec, errors).await?;
        Some((*jobs.0).clone())
    }

    fn describe(spec: &'static ParamSpec, doc: &mut OperationDoc) {
        crate::State::<Jobs>::describe(spec, doc);
    }
}

/// A job about to be queued ([`Jobs::enqueue`]): set its key, delay or transaction,
/// then await it.
#[must_use = "a job is queued only when the `Enqueue` is awaited"]
pub struct Enqueue<'a, A> {
    jobs: &'a Jobs,
    meta: &'static JobMeta,
    args: A,
    key: Option<String>,
    delay: Option<Duration>,
    _args: PhantomData<fn(A)>,
}

impl<A> fmt::Debug for Enqueue<'_, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Enqueue")
            .field("job", &self.meta.name)
            .field("key", &self.key)
            .field("delay", &self.delay)
            .finish_non_exhaustive()
    }
}

impl<'a, A: Serialize + Send + Sync + 'static> Enqueue<'a, A> {
    /// The job's idempotency key: while a job of this kind with this key exists
    /// (waiting, running, done or dead), another is not queued.
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Run it no sooner than `delay` from now (to the second).
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// Write the job in the caller's transaction (or on its connection): it exists
    /// only if that transaction commits. The connection must be to the queue's
    /// database: an `sqlx::SqliteConnection`, or an `sqlx::PgConnection` with the
    /// `jobs-postgres` feature (pass `&mut tx` for an `sqlx::Transaction`). A
    /// duplicate key does not abort the transaction.
    pub async fn in_transaction<C>(self, conn: &mut C) -> Result<Enqueued, EnqueueError>
    where
        C: std::ops::DerefMut,
        C::Target: JobConnection,
    {
        let row = self.row()?;
        let done = conn
            .deref_mut()
            .push(&row)
            .await
            .map_err(EnqueueError::Database)?;
        self.jobs.inner.metrics.enqueued(row.name, &done);
        Ok(done)
    }

    fn row(&self) -> Result<store::Row, EnqueueError> {
        let name = self.meta.name;
        if !self.jobs.inner.known.contains(name) {
            return Err(EnqueueError::UnknownJob(name));
        }
        let args = serde_json::to_vec(&self.args).map_err(|e| EnqueueError::Arguments {
            job: name,
            error: e.to_string(),
        })?;
        Ok(store::Row::new(
            name,
            args,
            self.meta.max_attempts,
            self.key.clone(),
            self.delay,
        ))
    }
}

impl<'a, A: Serialize + Send + Sync + 'static> IntoFuture for Enqueue<'a, A> {
    type Output = Result<Enqueued, EnqueueError>;
    type IntoFuture = LocalFuture<'a, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let row = self.row()?;
            let done = self
                .jobs
                .inner
                .store
                .push(&row)
                .await
                .map_err(EnqueueError::Database)?;
            self.jobs.inner.metrics.enqueued(row.name, &done);
            if self.delay.is_none() && matches!(done, Enqueued::Added(_)) {
                if let Some(wake) = self.jobs.inner.wakes.get(row.name) {
                    wake.wake();
                }
            }
            Ok(done)
        })
    }
}

/// What enqueueing did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enqueued {
    /// The job was queued, under this ID.
    Added(String),
    /// A job of this kind with the same key already exists; nothing was queued.
    AlreadyQueued,
}

/// Why a job could not be queued.
#[derive(Debug)]
#[non_exhaustive]
pub enum EnqueueError {
    /// The job was not registered with [`App::job`](crate::App::job), so no worker
    /// would run it.
    UnknownJob(&'static str),
    /// The arguments could not be serialized.
    Arguments {
        /// The job.
        job: &'static str,
        /// What serde said.
        error: String,
    },
    /// The queue's database refused or could not be reached (a Redis queue's errors
    /// come as `sqlx::Error::Io`, their message starting with `Redis:`).
    Database(sqlx::Error),
}

impl fmt::Display for EnqueueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnqueueError::UnknownJob(name) => write!(
                f,
                "the job `{name}` is not registered with this app (add `App::job({name})`), \
                 so no worker would run it"
            ),
            EnqueueError::Arguments { job, error } => {
                write!(f, "the arguments of job `{job}` do not serialize: {error}")
            }
            EnqueueError::Database(e) => write!(f, "the job queue's database failed: {e}"),
        }
    }
}

impl std::error::Error for EnqueueError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            EnqueueError::Database(e) => Some(e),
            _ => None,
        }
    }
}

/// A job that could not be queued is the server's failure: a 500, with the reason
/// logged (the client learns nothing of the queue).
impl IntoResponse for EnqueueError {
    fn into_response(self) -> Response {
        tracing::error!(target: "hasten::jobs", error = %self, "a job could not be queued");
        HttpError::plain(
            http::StatusCode::INTERNAL_SERVER_ERROR,
            "Internal Server Error",
        )
        .into_response()
    }
}

impl From<EnqueueError> for HttpError {
    fn from(e: EnqueueError) -> Self {
        tracing::error!(target: "hasten::jobs", error = %e, "a job could not be queued");
        HttpError::plain(
            http::StatusCode::INTERNAL_SERVER_ERROR,
            "Internal Server Error",
        )
    }
}

/// A job's run, as `#[job]` generates it.
#[doc(hidden)]
pub type JobFuture<'a> = LocalFuture<'a, Result<(), JobError>>;

/// A plain (blocking) job that failed on the blocking pool: it panicked.
#[doc(hidden)]
pub fn blocking_failed(resp: Response) -> JobError {
    JobError::new(format!(
        "it failed on the blocking pool (it panicked; answered {})",
        resp.status()
    ))
}

/// Why a job's injected parameters could not be made.
#[doc(hidden)]
pub async fn inputs_failed(errors: Errors) -> JobError {
    JobError::new(format!(
        "its parameters could not be made: {}",
        crate::depends::failure(errors).await
    ))
}

/// The app's jobs while it is built and started: its queue, the jobs it registered,
/// and, once connected, the store.
#[derive(Default)]
pub(crate) struct Setup {
    queue: Option<Queue>,
    entries: Vec<worker::Entry>,
    schedules: Vec<schedule::Schedule>,
    store: Option<store::Store>,
    problems: Vec<String>,
    /// Built for its OpenAPI document only: it will not run, so needs no connection.
    document_only: bool,
}

impl Setup {
    pub(crate) fn queue(&mut self, queue: Queue) {
        self.queue = Some(queue);
    }

    pub(crate) fn add<A: Serialize + DeserializeOwned + Send + 'static>(&mut self, job: Job<A>) {
        let name = job.meta.name;
        if self.entries.iter().any(|e| e.meta.name == name) {
            self.problems
                .push(format!("the job `{name}` is registered twice (`App::job`)"));
            return;
        }
        self.entries.push(job.erase());
    }

    pub(crate) fn schedule<A: Serialize>(&mut self, job: Job<A>, expr: &str, args: &A) {
        let name = job.meta.name;
        let cron = match schedule::parse(expr) {
            Ok(cron) => cron,
            Err(why) => {
                self.problems
                    .push(format!("the schedule of job `{name}`: {why}"));
                return;
            }
        };
        match serde_json::to_vec(args) {
            Ok(args) => self.schedules.push(schedule::Schedule {
                meta: job.meta,
                expr: expr.to_owned(),
                cron,
                args,
            }),
            Err(e) => self.problems.push(format!(
                "the arguments of scheduled job `{name}` do not serialize: {e}"
            )),
        }
    }

    /// Whether the app has a queue.
    pub(crate) fn has_queue(&self) -> bool {
        self.queue.is_some()
    }

    /// The app is built for its document only.
    pub(crate) fn document_only(&mut self) {
        self.document_only = true;
    }

    /// Connect to the queue's database (at start).
    pub(crate) async fn connect(&mut self) -> Result<(), String> {
        if let (Some(queue), None) = (&self.queue, &self.store) {
            self.store = Some(store::Store::connect(&queue.place).await?);
        }
        Ok(())
    }

    /// What is wrong with the app's jobs.
    pub(crate) fn problems(&self) -> Vec<String> {
        let mut problems = self.problems.clone();
        for schedule in &self.schedules {
            let name = schedule.meta.name;
            if !self.entries.iter().any(|e| e.meta.name == name) {
                problems.push(format!(
                    "the job `{name}` is scheduled but not registered: add `App::job({name})`"
                ));
            }
        }
        match (&self.queue, &self.store) {
            (None, _) if !self.entries.is_empty() => problems.push(format!(
                "the app registers jobs ({}) but has no queue to keep them: add \
                 `App::jobs(Queue::sqlite(\"sqlite://jobs.sqlite\"))`",
                self.entries
                    .iter()
                    .map(|e| format!("`{}`", e.meta.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            (Some(_), None) if !self.document_only => problems.push(
                "the app has a job queue (`App::jobs`): start it with `App::start().await` \
                 (`Server::serve` and `TestClient::start` do)"
                    .to_owned(),
            ),
            _ => {}
        }
        problems
    }

    /// The handle enqueuers use (once connected), and what starts and stops the
    /// workers.
    pub(crate) fn finish(self, metrics: worker::Meter) -> (Option<Jobs>, Life) {
        let jobs = self.store.map(|store| Jobs {
            inner: Arc::new(JobsInner {
                store,
                known: self.entries.iter().map(|e| e.meta.name).collect(),
                wakes: self
                    .entries
                    .iter()
                    .map(|e| (e.meta.name, worker::LocalWake::default()))
                    .collect(),
                metrics,
            }),
        });
        let life = match (&jobs, self.queue) {
            (Some(jobs), Some(queue)) if queue.workers && !self.entries.is_empty() => {
                LifeState::Ready {
                    jobs: jobs.clone(),
                    entries: self.entries,
                    schedules: self.schedules,
                    queue,
                }
            }
            _ => LifeState::Off,
        };
        (jobs, Life(std::sync::Mutex::new(life)))
    }
}

/// The workers' life: started with the app, drained at its shutdown.
pub(crate) struct Life(std::sync::Mutex<LifeState>);

enum LifeState {
    Ready {
        jobs: Jobs,
        entries: Vec<worker::Entry>,
        schedules: Vec<schedule::Schedule>,
        queue: Queue,
    },
    Running(Workers),
    Off,
}

impl Life {
    /// Start the workers (once).
    pub(crate) fn start(&self, rt: &Arc<crate::runtime::Runtime>) {
        let Ok(mut state) = self.0.lock() else { return };
        if let LifeState::Ready {
            jobs,
            entries,
            schedules,
            queue,
        } = &*state
        {
            let workers = start_workers(rt, jobs, entries, schedules, queue);
            *state = LifeState::Running(workers);
        }
    }

    /// Stop the workers and wait for their running jobs (once).
    pub(crate) async fn drain(&self) {
        let workers = match self.0.lock() {
            Ok(mut state) => match std::mem::replace(&mut *state, LifeState::Off) {
                LifeState::Running(workers) => workers,
                _ => return,
            },
            Err(_) => return,
        };
        drain(workers).await;
    }
}
