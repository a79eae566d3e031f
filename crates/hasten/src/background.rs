//! Background tasks: work that runs after the response has been sent.
//!
//! A handler takes [`BackgroundTasks`] and queues work with
//! [`spawn`](BackgroundTasks::spawn) or [`spawn_blocking`](BackgroundTasks::spawn_blocking).
//! The response body is wrapped so that its end — the last byte handed to the
//! connection, or the body being dropped when the client goes away — starts the queue.
//! Tasks run one after another in the order added; a task that fails or panics is
//! logged and the next one still runs (FastAPI stops at the first failure). Graceful
//! shutdown waits for queued tasks up to the server's deadline.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body as _, Frame, SizeHint};

use crate::body::{Body, BoxError};
use crate::depends::{run_late_cleanups, CleanupEntry, Outcome};
use crate::extract::{Errors, Extracted, FromRequest, ParamSpec, RequestCtx};
use crate::future::BoxFuture;
use crate::response::Response;
use crate::runtime::Runtime;

/// What a background task may return: `()` or a `Result` whose error is logged.
pub trait TaskResult: Send + 'static {
    /// `Err(message)` to log.
    fn into_outcome(self) -> Result<(), String>;
}

impl TaskResult for () {
    fn into_outcome(self) -> Result<(), String> {
        Ok(())
    }
}

impl<E: fmt::Display + Send + 'static> TaskResult for Result<(), E> {
    fn into_outcome(self) -> Result<(), String> {
        self.map_err(|e| e.to_string())
    }
}

enum Task {
    Async(BoxFuture<Result<(), String>>),
    Blocking(Box<dyn FnOnce() -> Result<(), String> + Send + 'static>),
}

/// The tasks queued by one request.
#[derive(Default)]
pub(crate) struct TaskQueue {
    tasks: Mutex<Vec<Task>>,
    /// The request's span, when it is traced: each task runs in a span under it.
    parent: std::sync::OnceLock<tracing::Span>,
}

/// Queue work to run after the response is sent.
///
/// ```
/// use hasten::prelude::*;
///
/// #[post("/send-notification/{email}")]
/// async fn send_notification(email: String, tasks: BackgroundTasks) -> Json<serde_json::Value> {
///     tasks.spawn(async move {
///         // runs after the client has the response
///         let _ = email;
///     });
///     Json(serde_json::json!({ "message": "Notification sent in the background" }))
/// }
/// ```
#[derive(Clone)]
pub struct BackgroundTasks {
    queue: Arc<TaskQueue>,
}

impl fmt::Debug for BackgroundTasks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackgroundTasks")
            .field("queued", &self.len())
            .finish()
    }
}

impl BackgroundTasks {
    /// Queue an async task. It may return `()` or `Result<(), E>` (an error is logged).
    pub fn spawn<F, R>(&self, task: F)
    where
        F: Future<Output = R> + Send + 'static,
        R: TaskResult,
    {
        self.push(Task::Async(Box::pin(
            async move { task.await.into_outcome() },
        )));
    }

    /// Queue blocking work; it runs on the blocking pool, never on the reactor.
    pub fn spawn_blocking<F, R>(&self, task: F)
    where
        F: FnOnce() -> R + Send + 'static,
        R: TaskResult,
    {
        self.push(Task::Blocking(Box::new(move || task().into_outcome())));
    }

    /// How many tasks are queued.
    pub fn len(&self) -> usize {
        self.queue.tasks.lock().map_or(0, |t| t.len())
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn push(&self, task: Task) {
        if let Ok(mut tasks) = self.queue.tasks.lock() {
            tasks.push(task);
        }
    }
}

impl FromRequest for BackgroundTasks {
    async fn from_request(
        ctx: &mut RequestCtx,
        _spec: &'static ParamSpec,
        _errors: &mut Errors,
    ) -> Extracted<Self> {
        let queue = ctx.locals.get_or_default::<Queued>().0.clone();
        if let Some(span) = crate::trace::request_span(&ctx.parts.extensions) {
            let _ = queue.parent.set(span.clone());
        }
        Some(BackgroundTasks { queue })
    }
}

/// The request's task queue, kept among its locals (made by the first
/// `BackgroundTasks`).
#[derive(Default)]
struct Queued(Arc<TaskQueue>);

/// Take the request's background tasks, to run after its response.
pub(crate) fn take_queue(ctx: &mut RequestCtx) -> Option<Arc<TaskQueue>> {
    ctx.locals.take::<Queued>().map(|q| q.0)
}

/// Drop the request's background tasks: the request failed, and they do not run (its
/// cleanups do), as FastAPI drops them when an exception ends the request.
pub(crate) fn discard(ctx: &mut RequestCtx) {
    ctx.locals.take::<Queued>();
}

/// What is left to do after the response: background tasks, then cleanups.
pub(crate) struct PostWork {
    queue: Option<Arc<TaskQueue>>,
    cleanups: Mutex<Vec<CleanupEntry>>,
    done: PostWorkDone,
}

/// Says when a request's post-response work is over (run, or nothing to run). It rides
/// on the response to the connection, which waits for it when asked to (the test
/// client's connections do, so a test sees the work done when `send` returns).
#[derive(Clone, Default)]
pub(crate) struct PostWorkDone(Arc<Finished>);

#[derive(Default)]
struct Finished {
    done: std::sync::atomic::AtomicBool,
    notify: tokio::sync::Notify,
}

impl PostWorkDone {
    /// Wait until the work is over.
    pub(crate) async fn wait(&self) {
        loop {
            let notified = self.0.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.0.done.load(std::sync::atomic::Ordering::Acquire) {
                return;
            }
            notified.await;
        }
    }

    fn finish(&self) {
        self.0
            .done
            .store(true, std::sync::atomic::Ordering::Release);
        self.0.notify.notify_waiters();
    }
}

/// Marks the work over when dropped: when it ends, panics or is cancelled alike.
struct FinishOnDrop(PostWorkDone);

impl Drop for FinishOnDrop {
    fn drop(&mut self) {
        self.0.finish();
    }
}

/// Run a request's post-response work now: its tasks in order, each isolated, then
/// its cleanups in reverse order of setup.
fn start(work: Arc<PostWork>, outcome: Outcome, rt: Arc<Runtime>) {
    let finished = FinishOnDrop(work.done.clone());
    let (tasks, parent) = match &work.queue {
        Some(q) => (
            q.tasks
                .lock()
                .map(|mut t| std::mem::take(&mut *t))
                .unwrap_or_default(),
            q.parent.get().cloned(),
        ),
        None => (Vec::new(), None),
    };
    let cleanups = work
        .cleanups
        .lock()
        .map(|mut c| std::mem::take(&mut *c))
        .unwrap_or_default();
    if tasks.is_empty() && cleanups.is_empty() {
        return;
    }
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        tracing::error!(
            target: "hasten::background",
            tasks = tasks.len(),
            cleanups = cleanups.len(),
            "response dropped outside a runtime; background tasks and cleanups not run"
        );
        return;
    };
    let work_rt = rt.clone();
    rt.spawn_tracked(&handle, async move {
        let _finished = finished;
        run_tasks(tasks, parent, &work_rt).await;
        run_late_cleanups(cleanups, outcome).await;
    });
}

/// Run a request's tasks in order, each isolated; with `parent` (a traced request's
/// span), each in a `background` span under it that records the task's outcome.
async fn run_tasks(tasks: Vec<Task>, parent: Option<tracing::Span>, rt: &Runtime) {
    use tracing::Instrument as _;
    let total = tasks.len();
    for (i, task) in tasks.into_iter().enumerate() {
        let span = parent
            .as_ref()
            .map_or_else(tracing::Span::none, crate::trace::background);
        let joined = match task {
            Task::Async(fut) => tokio::spawn(fut.instrument(span.clone())).await,
            Task::Blocking(f) => {
                let span = span.clone();
                rt.blocking.run(move || span.in_scope(f)).await
            }
        };
        let outcome = match &joined {
            Ok(Ok(())) => "ok",
            Ok(Err(_)) => "error",
            Err(e) if e.is_panic() => "panic",
            Err(_) => "cancelled",
        };
        span.record("outcome", outcome);
        #[cfg(feature = "metrics")]
        if let Some(metrics) = rt.slot::<Arc<crate::metrics::Metrics>>() {
            metrics.background_task(outcome);
        }
        match joined {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::error!(target: "hasten::background", task = i + 1, of = total, error = %e, "background task failed")
            }
            Err(e) if e.is_panic() => {
                let message = crate::panics::panic_message(e.into_panic());
                tracing::error!(target: "hasten::background", task = i + 1, of = total, panic = %message, "background task panicked");
            }
            Err(_) => {
                tracing::warn!(target: "hasten::background", task = i + 1, of = total, "background task cancelled")
            }
        }
    }
}

/// A response body that starts the request's queue when it ends or is dropped.
struct OnEnd {
    inner: Body,
    status: http::StatusCode,
    /// The body's exact length, when known: hyper stops polling after that many bytes.
    expected: Option<u64>,
    sent: u64,
    pending: Option<(Arc<PostWork>, Arc<Runtime>)>,
}

impl OnEnd {
    fn fire(&mut self, outcome: Outcome) {
        if let Some((work, rt)) = self.pending.take() {
            start(work, outcome, rt);
        }
    }
}

impl http_body::Body for OnEnd {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        let complete = match &polled {
            Poll::Ready(None) => true,
            Poll::Ready(Some(Ok(frame))) => {
                self.sent += frame.data_ref().map_or(0, |d| d.len() as u64);
                self.expected == Some(self.sent)
            }
            _ => false,
        };
        if complete {
            let outcome = Outcome::from_status(self.status);
            self.fire(outcome);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        // Never report the end early: the final poll is what starts the tasks.
        false
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for OnEnd {
    /// Dropped: complete if the inner body had ended, else the client went away
    /// mid-response.
    fn drop(&mut self) {
        let outcome = if self.inner.is_end_stream() {
            Outcome::from_status(self.status)
        } else {
            Outcome::Disconnected
        };
        self.fire(outcome);
    }
}

/// If the request left work for after the response, wrap the body so the work starts
/// when the body ends (or is dropped: then the outcome is `Disconnected`).
pub(crate) fn attach(
    resp: &mut Response,
    queue: Option<Arc<TaskQueue>>,
    cleanups: Vec<CleanupEntry>,
    rt: &Arc<Runtime>,
) {
    if queue.is_none() && cleanups.is_empty() {
        return;
    }
    let done = PostWorkDone::default();
    resp.extensions_mut().insert(done.clone());
    let work = Arc::new(PostWork {
        queue,
        cleanups: Mutex::new(cleanups),
        done,
    });
    let status = resp.status();
    let inner = std::mem::take(resp.body_mut());
    let expected = inner.size_hint().exact();
    *resp.body_mut() = Body::new(OnEnd {
        inner,
        status,
        expected,
        sent: 0,
        pending: Some((work, rt.clone())),
    });
}
