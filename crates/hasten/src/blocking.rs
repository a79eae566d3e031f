//! The bounded pool that runs plain (non-async) handlers, never on the reactor.

use std::future::Future;

use crate::extract::RequestCtx;
use crate::response::Response;

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
    let rt = ctx.rt.clone();
    let meta = ctx.operation();
    let error_ctx = rt.handlers.panic_context(&ctx.parts, meta);
    async move {
        let joined = rt.blocking.run(|| crate::panics::in_handler(f)).await;
        joined.map_err(|e| {
            let message = if e.is_panic() {
                crate::panics::panic_message(e.into_panic())
            } else {
                "cancelled".to_owned()
            };
            crate::panics::log_handler_panic(meta.path, meta.fn_name, &message);
            rt.handlers.panic_response(error_ctx)
        })
    }
}
