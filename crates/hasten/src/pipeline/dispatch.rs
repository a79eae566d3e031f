//! Routing a request, and the answers the framework gives itself: a malformed head,
//! 404 and 405, the documentation pages, mounted services and the slash redirect.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use http::header::ALLOW;
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};

use super::handler::{Dispatch, HandlerCall};
use super::strip_body;
use crate::body::RequestBody;
use crate::docs_ui::StaticFile;
use crate::error::HttpError;
use crate::extract::{Locals, RequestCtx, RouteCtx};
use crate::middleware::{Layers, Next};
use crate::mount::Mount;
use crate::operation::Operation;
use crate::request_id::RequestId;
use crate::response::{internal_error, IntoResponse, Response};
use crate::routing::{Match, Routes};
use crate::runtime::Runtime;

/// A built app's dispatch: its routes, mounts, documentation pages and middleware,
/// and the runtime each request is handed.
pub(crate) struct Dispatcher {
    routes: Routes,
    redirect_slashes: bool,
    mounts: Vec<crate::mount::Mount>,
    /// The document and documentation pages, by path.
    docs: HashMap<String, crate::docs_ui::StaticFile>,
    /// The liveness and readiness probes' paths.
    probes: crate::health::ProbePaths,
    /// Each request gets an ID and a span (`App::request_ids`).
    request_ids: bool,
    /// Which requests are traced (`App::tracing`).
    traces: Option<crate::trace::Sampling>,
    /// Requests carry their peer's address (rate limits count by it).
    client_addrs: bool,
    /// App middleware around [`dispatch`](Dispatcher::dispatch), if any.
    entry: Option<crate::middleware::Next>,
    /// The app's metrics, when it serves them (`App::metrics`).
    #[cfg(feature = "metrics")]
    metrics: Option<Arc<crate::metrics::Metrics>>,
    rt: Arc<Runtime>,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("routes", &self.routes)
            .finish_non_exhaustive()
    }
}

/// The dispatcher's switches.
pub(crate) struct Options {
    /// Redirect to the other spelling of a path (with or without a trailing slash).
    pub(crate) redirect_slashes: bool,
    /// Give each request an ID and a span.
    pub(crate) request_ids: bool,
    /// Trace requests, or a share of them: a span with children (see [`crate::trace`]).
    pub(crate) traces: Option<crate::trace::Sampling>,
    /// Requests carry their peer's address (rate limits count by it).
    pub(crate) client_addrs: bool,
}

impl Dispatcher {
    /// The dispatch of a built app. App middleware ends in the dispatcher itself,
    /// through a weak reference, so the app does not keep itself alive.
    pub(crate) fn new(
        routes: Routes,
        mounts: Vec<Mount>,
        docs: HashMap<String, StaticFile>,
        probes: crate::health::ProbePaths,
        options: Options,
        layers: &Layers,
        rt: Arc<Runtime>,
    ) -> Arc<Self> {
        let Options {
            redirect_slashes,
            request_ids,
            traces,
            client_addrs,
        } = options;
        Arc::new_cyclic(|me: &Weak<Dispatcher>| Dispatcher {
            entry: (!layers.0.is_empty()).then(|| {
                let me = me.clone();
                let inner = Next::new(move |req| {
                    let me = me.clone();
                    Box::pin(async move {
                        match me.upgrade() {
                            Some(app) => app.dispatch(req).await,
                            None => internal_error(),
                        }
                    })
                });
                crate::middleware::apply(inner, &layers.0)
            }),
            routes,
            redirect_slashes,
            mounts,
            docs,
            probes,
            request_ids,
            traces,
            client_addrs,
            #[cfg(feature = "metrics")]
            metrics: rt.slot::<Arc<crate::metrics::Metrics>>().cloned(),
            rt,
        })
    }

    /// Whether requests must carry their peer's address.
    pub(crate) fn wants_client_addrs(&self) -> bool {
        self.client_addrs
    }

    /// The runtime each request is handed.
    pub(crate) fn runtime(&self) -> &Arc<Runtime> {
        &self.rt
    }

    /// Every operation, in the order added.
    pub(crate) fn operations(&self) -> Vec<&Operation> {
        self.routes.operations()
    }

    /// Serve one request: through the app's middleware, then routing.
    pub(crate) fn handle(self: &Arc<Self>, req: http::Request<RequestBody>) -> Dispatch {
        #[cfg(feature = "metrics")]
        if self.metrics.is_some() {
            return self.handle_observed(req);
        }
        if self.request_ids || self.traces.is_some() {
            return self.handle_observed(req);
        }
        self.enter(req)
    }

    /// The app's metrics, for its servers (connections) and features.
    #[cfg(feature = "metrics")]
    pub(crate) fn metrics(&self) -> Option<&Arc<crate::metrics::Metrics>> {
        self.metrics.as_ref()
    }

    /// Through the app's middleware, then routing.
    fn enter(self: &Arc<Self>, req: http::Request<RequestBody>) -> Dispatch {
        match &self.entry {
            Some(entry) => Dispatch::Boxed(crate::middleware::Next::call(entry, req)),
            None => self.dispatch(req),
        }
    }

    /// [`handle`](Self::handle) with a request ID, a trace, metrics, or several. A
    /// request ID is taken or made, kept in the request's extensions, recorded on the
    /// request's span and sent back; a traced request keeps its span in its extensions
    /// for the spans under it; metrics count, time and size the request.
    fn handle_observed(self: &Arc<Self>, mut req: http::Request<RequestBody>) -> Dispatch {
        use tracing::Instrument as _;
        #[cfg(feature = "metrics")]
        let meter = self.metrics.as_ref().map(|m| m.start(&mut req));
        let id = self
            .request_ids
            .then(|| RequestId::for_request(req.headers()));
        let traced = self
            .traces
            .as_ref()
            .is_some_and(|s| s.decide(req.headers()));
        let span = if self.request_ids || traced {
            tracing::info_span!(
                "request",
                method = %req.method(),
                route = tracing::field::Empty,
                status = tracing::field::Empty,
                request_id = tracing::field::Empty,
            )
        } else {
            tracing::Span::none()
        };
        let mut header = None;
        if let Some(id) = id {
            span.record("request_id", tracing::field::display(&id));
            header = id.header_value();
            req.extensions_mut().insert(id);
        }
        if traced {
            #[cfg(feature = "otel")]
            crate::otel::continue_trace(&span, req.headers());
            req.extensions_mut()
                .insert(crate::trace::RequestSpan(span.clone()));
        }
        let inner = span.in_scope(|| self.enter(req));
        Dispatch::Boxed(Box::pin(
            async move {
                let mut resp = inner.await;
                tracing::Span::current().record("status", resp.status().as_u16());
                if let Some(value) = header {
                    resp.headers_mut().insert(crate::request_id::HEADER, value);
                }
                #[cfg(feature = "metrics")]
                if let Some(meter) = meter {
                    meter.finish(&mut resp);
                }
                resp
            }
            .instrument(span),
        ))
    }

    /// Route a request and start its handler. Routing, the framework's own answers
    /// and the handler's start happen here, synchronously; what is left is a small
    /// future (see [`Dispatch`]) that polls the handler and finishes its response.
    pub(crate) fn dispatch(self: &Arc<Self>, req: http::Request<RequestBody>) -> Dispatch {
        let (parts, body) = req.into_parts();
        if (parts.version == http::Version::HTTP_11 && !single_host(&parts.headers))
            || authority_form(&parts.uri)
        {
            // RFC 9112 §3.2: a 1.1 request without exactly one Host is refused; so is
            // a target in authority form (`GET host:80`, meant for a proxy's CONNECT),
            // as uvicorn does.
            return Dispatch::Ready(Some(Box::new(
                HttpError::plain(StatusCode::BAD_REQUEST, "Invalid HTTP request received.")
                    .with_header(http::header::CONNECTION, HeaderValue::from_static("close"))
                    .render(),
            )));
        }
        let is_head = parts.method == Method::HEAD;
        // Routes match the decoded path, as Starlette's do: `%2F` is a slash there, so
        // `/files/a%2Fb` is not `/files/{name}`. Decoded only when it has escapes.
        let raw_path = parts.uri.path();
        let decoded_path = raw_path.bytes().any(|b| b == b'%').then(|| {
            percent_encoding::percent_decode_str(raw_path)
                .decode_utf8_lossy()
                .into_owned()
        });
        let routed_path = decoded_path.as_deref().unwrap_or(raw_path);
        let mut resp = match self.routes.find(&parts.method, routed_path) {
            Match::Found(route, params) => {
                let meta = route.op.meta;
                if self.request_ids || self.traces.is_some() {
                    tracing::Span::current().record("route", meta.path);
                }
                #[cfg(feature = "metrics")]
                if self.metrics.is_some() {
                    crate::metrics::note_route(&parts.extensions, || meta.path.into());
                }
                // The panic handler's context, kept only when there is one: a panic
                // takes the request with it.
                let on_panic = self
                    .rt
                    .handlers
                    .panic_context(&parts, meta)
                    .map(|ctx| Box::new((self.rt.clone(), ctx)));
                let ctx = Box::new(RequestCtx {
                    parts,
                    body: Some(body),
                    raw_body: None,
                    query: None,
                    route: RouteCtx {
                        route: route.route.clone(),
                        path_params: params,
                        decoded_path,
                    },
                    rt: self.rt.clone(),
                    locals: Locals::default(),
                });
                return Dispatch::Handler(HandlerCall {
                    future: (route.op.handler)(ctx),
                    meta,
                    on_panic,
                });
            }
            Match::MethodNotAllowed(allow) => {
                let err = HttpError::new(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
                    .with_header(ALLOW, allow.clone());
                self.rt.handlers.framework_error(err, &parts)
            }
            Match::NotFound if self.docs.contains_key(parts.uri.path()) => {
                #[cfg(feature = "metrics")]
                crate::metrics::note_route(&parts.extensions, || {
                    parts.uri.path().to_owned().into()
                });
                self.serve_docs(&parts)
            }
            Match::NotFound if self.probes.at(parts.uri.path()).is_some() => {
                let probe = self.probes.at(parts.uri.path());
                #[cfg(feature = "metrics")]
                crate::metrics::note_route(&parts.extensions, || {
                    parts.uri.path().to_owned().into()
                });
                let (method, rt) = (parts.method.clone(), self.rt.clone());
                return match probe {
                    Some(probe) => {
                        Dispatch::Boxed(Box::pin(crate::health::answer(probe, method, rt)))
                    }
                    None => Dispatch::Ready(None),
                };
            }
            // Like Starlette: an upgrade to an unknown WebSocket route is refused.
            Match::NotFound if crate::ws::is_upgrade(&parts.headers) => {
                HttpError::plain(StatusCode::FORBIDDEN, "Forbidden").render()
            }
            Match::NotFound => {
                let mounted = self
                    .mounts
                    .iter()
                    .find_map(|m| m.target(&parts.uri).map(|uri| (m, uri)));
                if let Some((mount, uri)) = mounted {
                    #[cfg(feature = "metrics")]
                    crate::metrics::note_route(&parts.extensions, || mount.prefix.clone().into());
                    let mut parts = parts;
                    parts.uri = uri;
                    parts
                        .extensions
                        .insert(crate::mount::MountedAt(mount.prefix.clone()));
                    let mount = mount.clone();
                    return Dispatch::Boxed(Box::pin(async move {
                        mount.serve(http::Request::from_parts(parts, body)).await
                    }));
                }
                match self.slash_redirect(&parts.uri) {
                    Some(location) => {
                        // An absolute URL, from the request's scheme and host, as
                        // Starlette writes it.
                        let scheme = parts.uri.scheme_str().unwrap_or("http");
                        let host = parts
                            .uri
                            .authority()
                            .map(|a| a.as_str().to_owned())
                            .or_else(|| {
                                parts
                                    .headers
                                    .get(http::header::HOST)
                                    .and_then(|h| h.to_str().ok())
                                    .map(str::to_owned)
                            });
                        let location = match host {
                            Some(host) => format!("{scheme}://{host}{location}"),
                            None => location,
                        };
                        crate::Redirect::to(&location).into_response()
                    }
                    None => self.rt.handlers.framework_error(
                        HttpError::new(StatusCode::NOT_FOUND, "Not Found"),
                        &parts,
                    ),
                }
            }
        };
        if is_head {
            strip_body(&mut resp);
        }
        Dispatch::Ready(Some(Box::new(resp)))
    }

    /// The document or a documentation page (GET and HEAD only).
    fn serve_docs(&self, parts: &http::request::Parts) -> Response {
        let Some(file) = self.docs.get(parts.uri.path()) else {
            return HttpError::new(StatusCode::NOT_FOUND, "Not Found").render();
        };
        if parts.method != Method::GET && parts.method != Method::HEAD {
            return HttpError::new(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
                .with_header(ALLOW, HeaderValue::from_static("GET, HEAD"))
                .render();
        }
        let mut resp = crate::response::with_type(
            crate::body::Body::from(file.body.clone()),
            HeaderValue::from_static(file.content_type),
        );
        let cache = if file.immutable {
            "public, max-age=86400"
        } else {
            "no-cache"
        };
        resp.headers_mut()
            .insert(http::header::CACHE_CONTROL, HeaderValue::from_static(cache));
        resp
    }

    /// The other spelling of the path (with or without a trailing slash), if routed.
    fn slash_redirect(&self, uri: &Uri) -> Option<String> {
        if !self.redirect_slashes {
            return None;
        }
        let path = uri.path();
        if path == "/" {
            return None;
        }
        let other = match path.strip_suffix('/') {
            Some(p) => p.to_owned(),
            None => format!("{path}/"),
        };
        if !self.routes.has_path(&other) {
            return None;
        }
        Some(match uri.query() {
            Some(q) => format!("{other}?{q}"),
            None => other,
        })
    }
}

/// A request target in authority form (`host:port`): no scheme, no path.
fn authority_form(uri: &Uri) -> bool {
    uri.scheme().is_none() && uri.authority().is_some()
}

fn single_host(headers: &HeaderMap) -> bool {
    if headers.len() > 16 {
        let mut hosts = headers.get_all(http::header::HOST).iter();
        return hosts.next().is_some() && hosts.next().is_none();
    }
    // A walk over a few headers costs less than hashing the name.
    let mut hosts = headers
        .iter()
        .filter(|(name, _)| *name == http::header::HOST);
    hosts.next().is_some() && hosts.next().is_none()
}
