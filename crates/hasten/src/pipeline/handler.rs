//! The future of one request: the handler running, then its response completed.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{HeaderMap, Method, StatusCode, Uri};

use super::strip_body;
use crate::error::ErrorMarker;
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

/// A handler's future and what its response needs afterwards.
pub(crate) struct HandlerCall {
    pub(super) future: BoxFuture<Response>,
    pub(super) rt: Arc<Runtime>,
    pub(super) meta: &'static OperationMeta,
    pub(super) status: Option<u16>,
    /// The operation's routers' error handlers, innermost first.
    pub(super) errors: Option<Arc<[crate::raise::ErrorHandler]>>,
    pub(super) is_head: bool,
    /// The request head, only when an error handler may need it.
    pub(super) head: Option<Box<(Method, Uri, HeaderMap)>>,
}

impl HandlerCall {
    fn error_context(&mut self) -> ErrorContext {
        let (method, uri, headers) = self.head.take().map(|h| *h).unwrap_or_default();
        ErrorContext {
            method,
            uri,
            headers,
            operation: Some(self.meta),
            body: None,
        }
    }

    /// The handler's response, with the operation's status, the app's error handler,
    /// HEAD's empty body and the post-response work attached.
    fn complete(&mut self, mut resp: Response) -> Response {
        let post = resp
            .extensions_mut()
            .remove::<crate::background::PostResponse>();
        if let Some(status) = self.status {
            if resp.status() == StatusCode::OK {
                if let Ok(s) = StatusCode::from_u16(status) {
                    *resp.status_mut() = s;
                }
            }
        }
        if resp.extensions().get::<crate::raise::Raised>().is_some() {
            let rt = self.rt.clone();
            let routers = self.errors.take();
            let handlers = [routers.as_deref().unwrap_or(&[]), &rt.handlers.errors[..]];
            resp = crate::raise::answer(resp, &handlers, || self.error_context());
        }
        if self.rt.handlers.http.is_some() && resp.extensions().get::<ErrorMarker>().is_some() {
            let ctx = self.error_context();
            resp = self.rt.handlers.replace_http_error(resp, &ctx);
        }
        if self.is_head {
            // Strip before attaching: dropping a wrapped body would look like a
            // client that went away.
            strip_body(&mut resp);
        }
        crate::background::attach(&mut resp, post, &self.rt);
        resp
    }

    fn panicked(&mut self, message: &str) -> Response {
        crate::panics::log_handler_panic(self.meta.path, self.meta.fn_name, message);
        let rt = self.rt.clone();
        match &rt.handlers.panic {
            Some(h) => h(&self.error_context()),
            None => internal_error(),
        }
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
                    Ok(Poll::Ready(resp)) => Poll::Ready(call.complete(resp)),
                    Err(payload) => {
                        Poll::Ready(call.panicked(&crate::panics::panic_message(payload)))
                    }
                }
            }
        }
    }
}
