//! The bounded pool that runs plain (non-async) handlers, never on the reactor.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::extract::RequestCtx;
use crate::response::{internal_error, Response};

/// FastAPI's (AnyIO's) default thread limit.
pub(crate) const DEFAULT_BLOCKING_THREADS: usize = 40;

/// Limits how many plain handlers run at once; the rest wait (asynchronously) for a
/// slot, so the reactor keeps serving.
#[derive(Debug)]
pub(crate) struct BlockingPool {
    pub(crate) slots: Arc<Semaphore>,
}

impl BlockingPool {
    pub(crate) fn new(size: usize) -> Self {
        BlockingPool {
            slots: Arc::new(Semaphore::new(size.max(1))),
        }
    }
}

/// Run a plain handler on the blocking pool. A panic becomes a 500 and is logged.
///
/// Takes what it needs from `ctx` before returning, so the future borrows nothing.
pub fn run_blocking<F>(ctx: &RequestCtx, f: F) -> impl Future<Output = Response> + Send + 'static
where
    F: FnOnce() -> Response + Send + 'static,
{
    let run = run_blocking_value(ctx, f);
    async move { run.await.unwrap_or_else(|panic_response| panic_response) }
}

/// Run a plain handler or dependency on the blocking pool. `Err` is the response for a
/// panic (which is logged).
pub fn run_blocking_value<R, F>(
    ctx: &RequestCtx,
    f: F,
) -> impl Future<Output = Result<R, Response>> + Send + 'static
where
    R: Send + 'static,
    F: FnOnce() -> R + Send + 'static,
{
    let app = ctx.app.clone();
    let meta = ctx.operation();
    let error_ctx = app.panic_context(ctx);
    async move {
        let Ok(permit) = app.blocking.slots.clone().acquire_owned().await else {
            return Err(internal_error());
        };
        let joined = tokio::task::spawn_blocking(move || {
            let out = crate::panics::in_handler(f);
            drop(permit);
            out
        })
        .await;
        joined.map_err(|e| {
            let message = if e.is_panic() {
                crate::app::panic_message(e.into_panic())
            } else {
                "cancelled".to_owned()
            };
            crate::panics::log_handler_panic(meta.path, meta.fn_name, &message);
            app.panic_response(error_ctx)
        })
    }
}
