//! The end of a request served by a handler, called by generated code.

use std::sync::Arc;

use http::{Method, StatusCode};

use crate::depends::{run_cleanups, CleanupEntry, CleanupScope, Outcome};
use crate::error::ErrorMarker;
use crate::extract::{Errors, RequestCtx};
use crate::future::BoxFuture;
use crate::response::Response;
use crate::runtime::ErrorContext;
use crate::runtime::Runtime;

/// The response for failed extraction: an outright rejection (413 …), or the 422 —
/// rendered by the app's validation handler when it has one. Used by generated code.
pub(crate) fn validation_failed(ctx: &mut RequestCtx, errors: Errors) -> Response {
    crate::background::discard(ctx);
    if let Some(rejection) = errors.rejection {
        return *rejection;
    }
    let validation = errors.into_ordered();
    // Over a WebSocket the errors are also the reason of the 1008 close.
    let ws_reason = ctx
        .parts
        .extensions
        .get::<crate::ws::WebSocketRequest>()
        .is_some()
        .then(|| validation.to_json()["detail"].to_string());
    let mut resp = match &ctx.rt.handlers.validation {
        Some(h) => h(
            &validation,
            &ErrorContext {
                body: ctx.raw_body.clone(),
                ..ErrorContext::of(&ctx.parts, Some(ctx.route.meta))
            },
        ),
        None => validation.default_response(),
    };
    if let Some(reason) = ws_reason {
        resp.extensions_mut()
            .insert(crate::ws::InputRefused(reason));
    }
    resp
}

/// End a request with the handler's response: what it set through `SetResponse` is
/// merged in, then the epilogue (`finish`). Called by generated code, which awaits the
/// rest when there is a rest (a file to open, a cleanup to run first): a plain
/// function, not an `async` one, so the common case adds no future to the handler's.
pub fn respond(ctx: &mut RequestCtx, resp: Response) -> Result<Response, BoxFuture<Response>> {
    let inert = ctx.locals.is_empty() || crate::depends::only_resolved(ctx);
    if inert && resp.extensions().is_empty() {
        // Nothing set through `SetResponse`, no cleanups, no tasks, no file to open,
        // no error to re-render: steps 1 and 5 are all there is (most requests).
        return Ok(plain(ctx, resp));
    }
    let resp = crate::set_response::apply_set_response(ctx, resp);
    finish(ctx, resp)
}

/// End a request whose input was refused: the answer to `errors`
/// (`validation_failed`), then the epilogue (`finish`). Called by generated code, as
/// [`respond`] is.
pub fn refuse(ctx: &mut RequestCtx, errors: Errors) -> Result<Response, BoxFuture<Response>> {
    let resp = validation_failed(ctx, errors);
    finish(ctx, resp)
}

/// The end of every request a handler served: the one epilogue, with the handler's
/// response (or the answer to invalid input). In this order:
///
/// 1. **default status**: the operation's status replaces a 200;
/// 2. **file completion**: a [`FileResponse`](crate::files::FileResponse) is opened
///    and read under the request's conditions (`Range`, `If-None-Match` …);
/// 3. **before-response cleanups** run; a failing one replaces the response;
/// 4. **error re-render**: a raised [`Error`](crate::Error) is answered by the
///    routers' handlers, then the app's; an [`HttpError`](crate::HttpError) by the
///    app's HTTP error handler;
/// 5. **HEAD strip**: a HEAD request gets the headers, not the body;
/// 6. **post-response work**: background tasks (not after an error) and the other
///    cleanups start when the body's last byte is sent, or when it is dropped.
///
/// Usually nothing has to be waited for: `Ok` is the finished response. A file to
/// open or a cleanup to run first comes back as a boxed future to await, so the
/// handler's own future stays small.
pub(crate) fn finish(
    ctx: &mut RequestCtx,
    mut resp: Response,
) -> Result<Response, BoxFuture<Response>> {
    default_status(&mut resp, ctx.route.status);
    let file = resp.extensions_mut().remove::<crate::files::PendingFile>();
    let cleanups = crate::depends::take_cleanups(ctx);
    let before = cleanups
        .iter()
        .any(|c| c.scope == CleanupScope::BeforeResponse);
    // Background tasks run after a response the handler returned, not after an error
    // (invalid input, an `HttpError`, a raised `Error`): as FastAPI drops them when an
    // exception ends the request. Cleanups run either way.
    let queue = crate::background::take_queue(ctx).filter(|_| !failed(&resp));
    let is_head = ctx.parts.method == Method::HEAD;
    if file.is_none() && !before {
        let work = (queue, cleanups);
        let ctx = &*ctx;
        let error_ctx = || ErrorContext::of(&ctx.parts, Some(ctx.route.meta));
        let routers = ctx.route.errors.as_deref();
        return Ok(complete(resp, &ctx.rt, routers, is_head, work, error_ctx));
    }
    let conditions = file
        .as_ref()
        .and_then(|_| crate::files::Conditions::of(&ctx.parts.headers));
    let (now, later): (Vec<CleanupEntry>, Vec<CleanupEntry>) = cleanups
        .into_iter()
        .partition(|c| c.scope == CleanupScope::BeforeResponse);
    let rt = ctx.rt.clone();
    let routers = ctx.route.errors.clone();
    let meta = ctx.route.meta;
    // The request is gone by the time an error handler may need its head.
    let head = (rt.handlers.need_head() || routers.is_some())
        .then(|| ErrorContext::of(&ctx.parts, Some(meta)));
    Err(Box::pin(async move {
        if let Some(file) = file {
            resp = file.complete(resp, conditions.as_ref()).await;
        }
        if !now.is_empty() {
            if let Some(failure) = run_cleanups(now, Outcome::from_status(resp.status())).await {
                resp = failure;
            }
        }
        let error_ctx = || head.clone().unwrap_or_else(|| headless(meta));
        let work = (queue, later);
        complete(resp, &rt, routers.as_deref(), is_head, work, error_ctx)
    }))
}

/// The epilogue of a response that needs only steps 1 and 5: no request locals and no
/// response extensions, so no file, no cleanups, no tasks and no error.
fn plain(ctx: &RequestCtx, mut resp: Response) -> Response {
    default_status(&mut resp, ctx.route.status);
    if ctx.parts.method == Method::HEAD {
        super::strip_body(&mut resp);
    }
    resp
}

/// Step 1: the operation's status, in place of a 200.
fn default_status(resp: &mut Response, status: Option<u16>) {
    if let Some(status) = status {
        if resp.status() == StatusCode::OK {
            if let Ok(s) = StatusCode::from_u16(status) {
                *resp.status_mut() = s;
            }
        }
    }
}

/// Whether the response is an error the handler ended with.
fn failed(resp: &Response) -> bool {
    resp.extensions().get::<ErrorMarker>().is_some()
        || resp.extensions().get::<crate::raise::Raised>().is_some()
}

/// The request's post-response work: its task queue and the cleanups left to run.
type Work = (Option<Arc<crate::background::TaskQueue>>, Vec<CleanupEntry>);

/// Steps 4 to 6: error re-render, HEAD strip, post-response work.
fn complete(
    mut resp: Response,
    rt: &Arc<Runtime>,
    routers: Option<&[crate::raise::ErrorHandler]>,
    is_head: bool,
    (queue, cleanups): Work,
    error_ctx: impl Fn() -> ErrorContext,
) -> Response {
    if resp.extensions().get::<crate::raise::Raised>().is_some() {
        // The routers' handlers, innermost first, then the app's (its root router's).
        resp = crate::raise::answer(resp, routers.unwrap_or(&[]), &error_ctx);
    }
    if rt.handlers.http.is_some() {
        if let Some(marker) = resp.extensions().get::<ErrorMarker>().cloned() {
            let ctx = error_ctx();
            resp = rt.handlers.replace_http_error(resp, &ctx);
            // What failed stays known (a WebSocket closes with 1008 by it).
            resp.extensions_mut().insert(marker);
        }
    }
    if is_head {
        // Strip before attaching: dropping a wrapped body would look like a client
        // that went away.
        super::strip_body(&mut resp);
    }
    crate::background::attach(&mut resp, queue, cleanups, rt);
    resp
}

/// The context of an error in `operation` when the request head was not kept: no
/// handler needed it, only the log.
fn headless(operation: &'static crate::operation::OperationMeta) -> ErrorContext {
    ErrorContext {
        method: Method::GET,
        uri: http::Uri::default(),
        headers: http::HeaderMap::new(),
        operation: Some(operation),
        body: None,
    }
}

/// Whether dependencies are attached to the operation (or its routers or app): checked
/// before [`run_attached_dependencies`], so an operation without them awaits nothing.
/// Used by generated code.
#[inline]
pub fn has_attached_dependencies(ctx: &RequestCtx) -> bool {
    !ctx.route.attached.is_empty()
}

/// Run the dependencies attached to the operation (and its routers and app) for their
/// side effect, before its parameters. Used by generated code.
pub async fn run_attached_dependencies(ctx: &mut RequestCtx, errors: &mut Errors) {
    crate::depends::run_attached_all(ctx, errors).await;
}
