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
    /// Answered without a handler (404, 405, docs …); `None` once taken. Boxed: a
    /// response is three times the size of the other variants.
    Ready(Option<Box<Response>>),
    /// A handler running.
    Handler(HandlerCall),
    /// Middleware or a mounted service.
    Boxed(BoxFuture<Response>),
}

/// A handler's future, and what answers its panic.
pub(crate) struct HandlerCall {
    pub(super) future: BoxFuture<Response>,
    pub(super) meta: &'static OperationMeta,
    /// The app's panic handler and what it is told, kept only when the app has one (a
    /// panic takes the request with it); without one a panic gets the plain 500.
    pub(super) on_panic: Option<Box<(Arc<Runtime>, ErrorContext)>>,
}

impl HandlerCall {
    fn panicked(&mut self, message: &str) -> Response {
        crate::panics::log_handler_panic(self.meta.path, self.meta.fn_name, message);
        match self.on_panic.take() {
            Some(on_panic) => {
                let (rt, ctx) = *on_panic;
                rt.handlers.panic_response(Some(ctx))
            }
            None => internal_error(),
        }
    }
}

impl Future for Dispatch {
    type Output = Response;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        match self.get_mut() {
            Dispatch::Ready(resp) => Poll::Ready(resp.take().map_or_else(internal_error, |r| *r)),
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
