//! The end of a request served by a handler, called by generated code.

use crate::background::hand_over;
use crate::depends::{run_cleanups, CleanupEntry, CleanupScope, Outcome};
use crate::extract::{Errors, RequestCtx};
use crate::future::BoxFuture;
use crate::response::Response;
use crate::runtime::ErrorContext;

/// The response for failed extraction: an outright rejection (413 …), or the 422 —
/// rendered by the app's validation handler when it has one. Used by generated code.
pub fn validation_failed(ctx: &mut RequestCtx, errors: Errors) -> Response {
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
                method: ctx.parts.method.clone(),
                uri: ctx.parts.uri.clone(),
                headers: ctx.parts.headers.clone(),
                operation: Some(ctx.route.meta),
                body: ctx.raw_body.clone(),
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

/// End a request: run the cleanups scoped before the response now, and hand the
/// background tasks and the other cleanups to the response. Used by generated code.
///
/// Usually there is nothing to wait for: `Ok` is the finished response. A file to
/// open or a cleanup to run first comes back as a boxed future to await, so the
/// handler's own future stays small.
pub fn finish(ctx: &mut RequestCtx, mut resp: Response) -> Result<Response, BoxFuture<Response>> {
    let file = resp.extensions_mut().remove::<crate::files::PendingFile>();
    let cleanups = crate::depends::take_cleanups(ctx);
    let before = cleanups
        .iter()
        .any(|c| c.scope == CleanupScope::BeforeResponse);
    // Background tasks run after a response the handler returned, not after an error
    // (invalid input, an `HttpError`, a raised `Error`): as FastAPI drops them when an
    // exception ends the request. Cleanups run either way.
    // Looked at only when there are tasks.
    let failed = |resp: &Response| {
        resp.extensions()
            .get::<crate::error::ErrorMarker>()
            .is_some()
            || resp.extensions().get::<crate::raise::Raised>().is_some()
    };
    let queue = crate::background::take_queue(ctx).filter(|_| !failed(&resp));
    if file.is_none() && !before {
        hand_over(&mut resp, queue, cleanups);
        return Ok(resp);
    }
    // A file is read under the request's conditions (Range, If-None-Match …).
    let conditions = file
        .as_ref()
        .and_then(|_| crate::files::Conditions::of(&ctx.parts.headers));
    Err(Box::pin(async move {
        if let Some(file) = file {
            resp = file.complete(resp, conditions.as_ref()).await;
        }
        let outcome = Outcome::from_status(resp.status());
        let (now, later): (Vec<CleanupEntry>, Vec<CleanupEntry>) = cleanups
            .into_iter()
            .partition(|c| c.scope == CleanupScope::BeforeResponse);
        if !now.is_empty() {
            if let Some(failure) = run_cleanups(now, outcome).await {
                resp = failure;
            }
        }
        hand_over(&mut resp, queue, later);
        resp
    }))
}

/// Run the dependencies attached to the operation (and its routers and app) for their
/// side effect, before its parameters. Used by generated code.
pub async fn run_attached_dependencies(ctx: &mut RequestCtx, errors: &mut Errors) {
    crate::depends::run_attached_all(ctx, errors).await;
}
