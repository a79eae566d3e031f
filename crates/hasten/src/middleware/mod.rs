//! Middleware: any tower [`Layer`], or a plain async function, on
//! the whole app ([`App::layer`](crate::App::layer),
//! [`App::middleware`](crate::App::middleware)), a router
//! ([`Router::layer`](crate::Router::layer)) or one operation
//! ([`Operation::layer`](crate::operation::Operation::layer)).
//!
//! The last layer added is the outermost (it sees the request first), as with
//! Starlette's `add_middleware`. Operation and router layers run after routing and
//! before extraction, so they see only requests for their operations.
//!
//! ```
//! use hasten::prelude::*;
//! use hasten::middleware::{HttpRequest, Next};
//!
//! #[get("/")]
//! async fn root() -> &'static str {
//!     "hello"
//! }
//!
//! let app = App::new().route(root).middleware(|req: HttpRequest, next: Next| async move {
//!     let started = std::time::Instant::now();
//!     let mut resp = next.run(req).await;
//!     let ms = started.elapsed().as_secs_f64() * 1000.0;
//!     resp.headers_mut().insert("x-process-time", format!("{ms:.3}").parse().unwrap());
//!     resp
//! });
//! # let _ = app.build().unwrap();
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;

use crate::body::{Body, BoxError, RequestBody};
use crate::operation::BoxFuture;
use crate::response::{internal_error, IntoResponse, Response};

/// A request as middleware sees it.
pub type HttpRequest = http::Request<RequestBody>;

type Handle = dyn Fn(http::Request<RequestBody>) -> BoxFuture<Response> + Send + Sync;

/// The rest of the app, as seen by a middleware: call [`run`](Next::run) to pass the
/// request on. It is also a tower `Service`, so any tower layer can wrap it.
#[derive(Clone)]
pub struct Next(Arc<Handle>);

impl std::fmt::Debug for Next {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Next")
    }
}

impl Next {
    pub(crate) fn new<F>(f: F) -> Self
    where
        F: Fn(http::Request<RequestBody>) -> BoxFuture<Response> + Send + Sync + 'static,
    {
        Next(Arc::new(f))
    }

    /// Pass the request on and get the response.
    pub async fn run(&self, req: http::Request<RequestBody>) -> Response {
        (self.0)(req).await
    }

    /// The boxed future of [`run`](Next::run), without another layer of future.
    pub(crate) fn call(&self, req: http::Request<RequestBody>) -> BoxFuture<Response> {
        (self.0)(req)
    }

    /// Any tower service over requests, boxed. Its errors become a 500 (and are
    /// logged); its body is streamed as is.
    pub(crate) fn from_service<S>(service: S) -> Self
    where
        S: HttpService,
    {
        Next::new(move |req| {
            let mut svc = service.clone();
            Box::pin(async move {
                if let Err(e) = std::future::poll_fn(|cx| svc.poll_ready(cx)).await {
                    let e: BoxError = e.into();
                    tracing::error!(target: "hasten::middleware", error = %e, "service not ready");
                    return internal_error();
                }
                match svc.call(req).await {
                    Ok(resp) => resp.into_boxed(),
                    Err(e) => {
                        let e: BoxError = e.into();
                        tracing::error!(target: "hasten::middleware", error = %e, "service failed");
                        internal_error()
                    }
                }
            })
        })
    }
}

impl tower_service::Service<http::Request<RequestBody>> for Next {
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<Result<Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<RequestBody>) -> Self::Future {
        let next = self.clone();
        Box::pin(async move { Ok(next.run(req).await) })
    }
}

/// A middleware, type-erased: wraps what comes after it.
pub(crate) type Wrap = Arc<dyn Fn(Next) -> Next + Send + Sync>;

/// A response whose body can be streamed as hasten's [`Body`].
pub trait HttpResponse: Send + 'static {
    /// The response with its body boxed.
    fn into_boxed(self) -> Response;
}

impl<B> HttpResponse for http::Response<B>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    fn into_boxed(self) -> Response {
        self.map(Body::new)
    }
}

/// A tower service over HTTP requests that hasten can put in its stack: cloneable,
/// sendable, any response body, any error (an error becomes a 500).
pub trait HttpService:
    tower_service::Service<
        http::Request<RequestBody>,
        Response = Self::Resp,
        Error = Self::Err,
        Future = Self::Fut,
    > + Clone
    + Send
    + Sync
    + 'static
{
    /// The response.
    type Resp: HttpResponse;
    /// The error.
    type Err: Into<BoxError>;
    /// The future.
    type Fut: Future<Output = Result<Self::Resp, Self::Err>> + Send + 'static;
}

impl<S> HttpService for S
where
    S: tower_service::Service<http::Request<RequestBody>> + Clone + Send + Sync + 'static,
    S::Response: HttpResponse,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
{
    type Resp = S::Response;
    type Err = S::Error;
    type Fut = S::Future;
}

/// A tower layer hasten can wrap around the app, a router or an operation: any
/// [`Layer`] whose service is an [`HttpService`].
pub trait HttpLayer: tower_layer::Layer<Next, Service = Self::Svc> + Send + Sync + 'static {
    /// The service it makes.
    type Svc: HttpService;
}

impl<L> HttpLayer for L
where
    L: tower_layer::Layer<Next> + Send + Sync + 'static,
    L::Service: HttpService,
{
    type Svc = L::Service;
}

/// A tower layer as a [`Wrap`].
pub(crate) fn wrap_layer<L: HttpLayer>(layer: L) -> Wrap {
    Arc::new(move |next| Next::from_service(layer.layer(next)))
}

/// An async function `(request, next) -> response` as a [`Wrap`].
pub(crate) fn wrap_fn<F, Fut, R>(f: F) -> Wrap
where
    F: Fn(http::Request<RequestBody>, Next) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: IntoResponse,
{
    let f = Arc::new(f);
    Arc::new(move |next: Next| {
        let f = f.clone();
        Next::new(move |req| {
            let fut = f(req, next.clone());
            Box::pin(async move { fut.await.into_response() })
        })
    })
}

/// Middleware of a router or app, innermost first.
#[derive(Clone, Default)]
pub(crate) struct Layers(pub(crate) Vec<Wrap>);

impl std::fmt::Debug for Layers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} layers", self.0.len())
    }
}

/// Apply `wraps` around `inner`, the first innermost.
pub(crate) fn apply(inner: Next, wraps: &[Wrap]) -> Next {
    wraps.iter().fold(inner, |next, w| w(next))
}

mod cors;
mod gzip;
mod hosts;

pub use cors::Cors;
pub use gzip::GZip;
pub use hosts::{HttpsRedirect, TrustedHost};
/// The tower trait every layer implements, re-exported.
pub use tower_layer::Layer;
