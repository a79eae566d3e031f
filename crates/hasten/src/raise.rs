//! [`Error`]: any error a handler or a dependency returns, answered by the handler
//! registered for its type — FastAPI's `raise MyError(...)` with
//! `@app.exception_handler(MyError)`, at app level ([`App::on_error`](crate::App::on_error))
//! or router level ([`Router::on_error`](crate::Router::on_error)).

use std::sync::Arc;

use crate::runtime::ErrorContext;
use crate::{HttpError, IntoResponse, Response};

/// Any error, returned from a handler or a dependency as `Result<T, hasten::Error>`
/// (with `?` on your own error types), and answered by the handler registered for its
/// type: the operation's routers' first (innermost first), then the app's. An error no
/// handler takes is logged and answered `500 Internal Server Error`, as FastAPI
/// answers an unhandled exception; an [`HttpError`] is answered as itself.
///
/// ```
/// use hasten::prelude::*;
///
/// #[derive(Debug)]
/// struct UnicornError { name: String }
///
/// impl std::fmt::Display for UnicornError {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
///         write!(f, "{} did something", self.name)
///     }
/// }
///
/// impl std::error::Error for UnicornError {}
///
/// #[get("/unicorns/{name}")]
/// async fn read_unicorn(name: String) -> Result<Json<serde_json::Value>, hasten::Error> {
///     if name == "yolo" {
///         return Err(UnicornError { name }.into());
///     }
///     Ok(Json(serde_json::json!({ "unicorn_name": name })))
/// }
///
/// let app = App::new()
///     .on_error(|e: &UnicornError, _ctx| {
///         let body = serde_json::json!({ "message": format!("Oops! {} did something.", e.name) });
///         (StatusCode::IM_A_TEAPOT, Json(body)).into_response()
///     })
///     .route(read_unicorn);
/// # let _ = app.build().unwrap();
/// ```
pub struct Error {
    inner: Box<dyn std::error::Error + Send + Sync + 'static>,
}

impl Error {
    /// Wrap an error.
    pub fn new(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error {
            inner: Box::new(error),
        }
    }

    /// Whether it is an `E`.
    pub fn is<E: std::error::Error + 'static>(&self) -> bool {
        self.inner.is::<E>()
    }

    /// The `E` it is, if it is one.
    pub fn downcast_ref<E: std::error::Error + 'static>(&self) -> Option<&E> {
        self.inner.downcast_ref::<E>()
    }

    /// The error itself.
    pub fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.inner
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for Error {
    fn from(error: E) -> Self {
        Error::new(error)
    }
}

impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.inner, f)
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.inner, f)
    }
}

/// On a response made from an [`Error`] that is not an [`HttpError`]: the error, for the
/// handler of its type.
#[derive(Clone)]
pub(crate) struct Raised(pub(crate) Arc<Error>);

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let inner = match self.inner.downcast::<HttpError>() {
            Ok(http) => return http.into_response(),
            Err(inner) => inner,
        };
        let mut resp = crate::response::internal_error();
        resp.extensions_mut()
            .insert(Raised(Arc::new(Error { inner })));
        resp
    }
}

/// A handler for one error type, erased: `None` when the error is another type.
pub(crate) type ErrorHandler =
    Arc<dyn Fn(&Error, &ErrorContext) -> Option<Response> + Send + Sync + 'static>;

/// A router's error handlers, in registration order.
#[derive(Clone, Default)]
pub(crate) struct Handlers(pub(crate) Vec<ErrorHandler>);

impl std::fmt::Debug for Handlers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} error handler(s)", self.0.len())
    }
}

/// `f` as a handler of errors of type `E`.
pub(crate) fn handler<E, F>(f: F) -> ErrorHandler
where
    E: std::error::Error + Send + Sync + 'static,
    F: Fn(&E, &ErrorContext) -> Response + Send + Sync + 'static,
{
    Arc::new(move |e, ctx| e.downcast_ref::<E>().map(|e| f(e, ctx)))
}

/// The answer to a raised error: the first of `handlers` (the operation's routers',
/// innermost first; the app's are its root router's, last) that takes its type, else
/// the 500 it already is (logged).
pub(crate) fn answer(
    resp: Response,
    handlers: &[ErrorHandler],
    ctx: impl FnOnce() -> ErrorContext,
) -> Response {
    let Some(Raised(error)) = resp.extensions().get::<Raised>().cloned() else {
        return resp;
    };
    let ctx = ctx();
    for h in handlers {
        if let Some(answer) = h(&error, &ctx) {
            return answer;
        }
    }
    tracing::error!(
        target: "hasten::error",
        operation = ctx.operation.map(|o| o.path).unwrap_or(""),
        error = %error,
        "unhandled error: answered 500"
    );
    resp
}
