//! The future of one request: the handler running, then its response completed.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::future::BoxFuture;
use crate::operation::OperationMeta;
use crate::response::{internal_error, Response};
use crate::runtime::{ErrorContext, Runtime};

/// The future of one request. Kept small on purpose: the server moves it into place
/// for every request, so routing happens before it exists and rare, large futures
/// (middleware, mounts) are boxed.
pub(crate) enum Dispatch {
    /// Answered without a handler (404, 405, docs …); `None` once taken.
    Ready(Option<Response>),
    /// A handler running.
    Handler(HandlerCall),
    /// Middleware or a mounted service.
    Boxed(BoxFuture<Response>),
}

/// A handler's future, and what answers its panic.
pub(crate) struct HandlerCall {
    pub(super) future: BoxFuture<Response>,
    pub(super) rt: Arc<Runtime>,
    pub(super) meta: &'static OperationMeta,
    /// What the app's panic handler is told, when it has one.
    pub(super) panic_ctx: Option<Box<ErrorContext>>,
}

impl HandlerCall {
    fn panicked(&mut self, message: &str) -> Response {
        crate::panics::log_handler_panic(self.meta.path, self.meta.fn_name, message);
        let ctx = self.panic_ctx.take().map(|c| *c);
        self.rt.handlers.panic_response(ctx)
    }
}

impl Future for Dispatch {
    type Output = Response;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        match self.get_mut() {
            Dispatch::Ready(resp) => Poll::Ready(resp.take().unwrap_or_else(internal_error)),
            Dispatch::Boxed(fut) => fut.as_mut().poll(cx),
            Dispatch::Handler(call) => {
                let fut = &mut call.future;
                let poll = || crate::panics::in_handler(|| fut.as_mut().poll(cx));
                match std::panic::catch_unwind(AssertUnwindSafe(poll)) {
                    Ok(Poll::Pending) => Poll::Pending,
                    Ok(Poll::Ready(resp)) => Poll::Ready(resp),
                    Err(payload) => {
                        Poll::Ready(call.panicked(&crate::panics::panic_message(payload)))
                    }
                }
            }
        }
    }
}
