//! The app's error handlers, and what they know of the request that failed.

use std::sync::Arc;

use http::request::Parts;
use http::{HeaderMap, Method, Uri};

use crate::error::{ErrorMarker, HttpError};
use crate::operation::OperationMeta;
use crate::response::{internal_error, Response};
use crate::validation::RequestValidationError;

/// What an error handler knows of the request that failed.
#[derive(Debug, Clone)]
pub struct ErrorContext {
    /// The request method.
    pub method: Method,
    /// The request URI.
    pub uri: Uri,
    /// The request headers.
    pub headers: HeaderMap,
    /// The operation that was serving it, if routing got that far.
    pub operation: Option<&'static OperationMeta>,
    /// The request body as read, for a validation error's handler (FastAPI's
    /// `exc.body`); `None` elsewhere, or when no parameter read the body.
    pub body: Option<bytes::Bytes>,
}

impl ErrorContext {
    /// The context of a request with this head, served by `operation`.
    pub(crate) fn of(parts: &Parts, operation: Option<&'static OperationMeta>) -> Self {
        ErrorContext {
            method: parts.method.clone(),
            uri: parts.uri.clone(),
            headers: parts.headers.clone(),
            operation,
            body: None,
        }
    }
}

pub(crate) type ValidationHandler =
    dyn Fn(&RequestValidationError, &ErrorContext) -> Response + Send + Sync + 'static;
pub(crate) type HttpErrorHandler =
    dyn Fn(&HttpError, &ErrorContext) -> Response + Send + Sync + 'static;
pub(crate) type PanicHandler = dyn Fn(&ErrorContext) -> Response + Send + Sync + 'static;

/// The app's error handlers; each absent one leaves the default answer.
#[derive(Default, Clone)]
pub(crate) struct ErrorHandlers {
    pub(crate) validation: Option<Arc<ValidationHandler>>,
    pub(crate) http: Option<Arc<HttpErrorHandler>>,
    pub(crate) panic: Option<Arc<PanicHandler>>,
}

impl ErrorHandlers {
    /// Whether a handler may need the request's head after the handler ran.
    pub(crate) fn need_head(&self) -> bool {
        self.http.is_some() || self.panic.is_some()
    }

    /// An [`HttpError`] the framework answers itself (404, 405 …), rendered by the
    /// app's handler when it has one.
    pub(crate) fn framework_error(&self, err: HttpError, parts: &Parts) -> Response {
        match &self.http {
            Some(h) => h(&err, &ErrorContext::of(parts, None)),
            None => err.render(),
        }
    }

    /// `resp`, or the app's rendering of the [`HttpError`] it carries.
    pub(crate) fn replace_http_error(&self, resp: Response, ctx: &ErrorContext) -> Response {
        match (&self.http, resp.extensions().get::<ErrorMarker>()) {
            (Some(h), Some(ErrorMarker(err))) => h(err, ctx),
            _ => resp,
        }
    }

    /// What the panic handler will need, taken only when there is one.
    pub(crate) fn panic_context(
        &self,
        parts: &Parts,
        operation: &'static OperationMeta,
    ) -> Option<ErrorContext> {
        self.panic
            .as_ref()
            .map(|_| ErrorContext::of(parts, Some(operation)))
    }

    /// The answer to a handler that panicked.
    pub(crate) fn panic_response(&self, ctx: Option<ErrorContext>) -> Response {
        match (&self.panic, ctx) {
            (Some(h), Some(ctx)) => h(&ctx),
            _ => internal_error(),
        }
    }
}
