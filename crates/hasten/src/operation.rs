//! Path operations: a handler plus everything known about it from its signature.
//!
//! The route macros (`#[get]`, `#[post]` …) turn a function into a unit struct that
//! implements [`Endpoint`]; [`App::route`](crate::App::route) asks it for its
//! [`Operation`].

use http::StatusCode;
use std::borrow::Cow;
use std::sync::Arc;

use crate::extract::{ParamSpec, RequestCtx};
use crate::response::Response;

pub use crate::future::BoxFuture;

/// The type-erased handler of an operation: extraction, call, response.
pub(crate) type HandlerFn = dyn Fn(Box<RequestCtx>) -> BoxFuture<Response> + Send + Sync + 'static;

/// What the macro knows of an operation; generated as a `static`.
#[derive(Debug)]
pub struct OperationMeta {
    /// HTTP methods, upper case (`"GET"`).
    pub methods: &'static [&'static str],
    /// The path template, FastAPI style: `/items/{item_id}`, `/files/{path:path}`.
    pub path: &'static str,
    /// The Rust function name (used for the operationId and default summary).
    pub fn_name: &'static str,
    /// Default status of a successful response (`status = 201`), if set.
    pub status: Option<u16>,
    /// Tags.
    pub tags: &'static [&'static str],
    /// A summary set in the attribute; else derived from the doc comment or name.
    pub summary: Option<&'static str>,
    /// The doc comment, trimmed.
    pub doc: Option<&'static str>,
    /// An explicit operationId.
    pub operation_id: Option<&'static str>,
    /// Marked deprecated.
    pub deprecated: bool,
    /// Whether the operation appears in the OpenAPI document.
    pub include_in_schema: bool,
    /// The success response's description (`response_description = "…"`); FastAPI's
    /// "Successful Response" when `None`.
    pub response_description: Option<&'static str>,
    /// Whether the handler is a plain `fn` (run on the blocking pool).
    pub blocking: bool,
}

impl OperationMeta {
    /// The summary FastAPI would show: the attribute's, else the function name
    /// title-cased (`read_item` → "Read Item").
    pub fn summary(&self) -> Cow<'static, str> {
        if let Some(s) = self.summary {
            return s.into();
        }
        self.fn_name
            .split('_')
            .filter(|w| !w.is_empty())
            .map(|w| {
                let mut c = w.chars();
                match c.next() {
                    Some(f) => f.to_uppercase().chain(c).collect::<String>(),
                    None => String::new(),
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
            .into()
    }

    /// The description: the doc comment.
    pub fn description(&self) -> Option<&'static str> {
        self.doc
    }

    /// FastAPI's generated operationId for one method:
    /// `re.sub(r"\W", "_", name + path) + "_" + method.lower()`, where the path is the
    /// route's own (see [`Operation::operation_id`] for the one with routers' prefixes).
    pub fn operation_id(&self, method: &str) -> String {
        self.operation_id_at(self.path, method)
    }

    /// The operationId of this route served at `path` (its routers' prefixes included):
    /// converters are not part of it (`{p:path}` counts as `{p}`), as in FastAPI.
    pub fn operation_id_at(&self, path: &str, method: &str) -> String {
        if let Some(id) = self.operation_id {
            return id.to_owned();
        }
        let raw = format!("{}{}", self.fn_name, path.replace(":path}", "}"));
        let mut id: String = raw
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        id.push('_');
        id.push_str(&method.to_ascii_lowercase());
        id
    }
}

use crate::openapi::model::{ExtraResponse, OperationDoc, SchemaDoc};

/// A complete path operation: metadata, handler and input documentation.
#[derive(Clone)]
pub struct Operation {
    pub(crate) meta: &'static OperationMeta,
    /// The path it is served at: the declared template behind any router prefixes.
    pub(crate) path: Cow<'static, str>,
    /// Tags: those of the routers it was included through, then its own.
    pub(crate) tags: Vec<Cow<'static, str>>,
    /// The default status of a successful response: the operation's, else a router's.
    pub(crate) status: Option<u16>,
    /// Documented responses besides the success one.
    pub(crate) responses: Vec<ExtraResponse>,
    pub(crate) params: &'static [ParamSpec],
    pub(crate) handler: Arc<HandlerFn>,
    pub(crate) describe: fn(&mut OperationDoc),
    /// Dependencies attached by the app, routers (outermost first) and the operation.
    pub(crate) attached: Vec<crate::depends::AttachedDependency>,
    pub(crate) doc: OperationDoc,
    /// Middleware around this operation, innermost first (its own, then routers').
    pub(crate) layers: Vec<crate::middleware::Wrap>,
    /// Its routers' error handlers, innermost router first.
    pub(crate) error_handlers: Option<Arc<[crate::raise::ErrorHandler]>>,
    /// Its rate limits: its own, then its routers'.
    pub(crate) rate_limits: Vec<crate::rate_limit::RateLimit>,
}

impl std::fmt::Debug for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operation")
            .field("path", &self.path)
            .field("meta", &self.meta)
            .field("doc", &self.doc)
            .finish_non_exhaustive()
    }
}

impl Operation {
    /// Build an operation. Called by the route macros (through `__private`).
    pub(crate) fn new<F>(
        meta: &'static OperationMeta,
        params: &'static [ParamSpec],
        handler: F,
        describe: fn(&mut OperationDoc),
    ) -> Self
    where
        F: Fn(Box<RequestCtx>) -> BoxFuture<Response> + Send + Sync + 'static,
    {
        let mut op = Operation {
            meta,
            path: Cow::Borrowed(meta.path),
            tags: meta.tags.iter().map(|t| Cow::Borrowed(*t)).collect(),
            status: meta.status,
            responses: Vec::new(),
            params,
            handler: Arc::new(handler),
            describe,
            attached: Vec::new(),
            doc: OperationDoc::default(),
            layers: Vec::new(),
            error_handlers: None,
            rate_limits: Vec::new(),
        };
        op.redescribe();
        op
    }

    /// Describe the inputs for the path the operation is served at (a router prefix
    /// can add path parameters).
    fn redescribe(&mut self) {
        let mut doc = OperationDoc {
            path_params: crate::routing::parse_template(&self.path)
                .map(|(_, names)| names.into_iter().map(str::to_owned).collect())
                .unwrap_or_default(),
            ..OperationDoc::default()
        };
        for dep in &self.attached {
            (dep.describe)(&mut doc);
        }
        (self.describe)(&mut doc);
        self.doc = doc;
    }

    /// Run dependency `D` for its side effect before this operation (after the app's
    /// and routers'), as [`Router::dependency`](crate::Router::dependency) does for a
    /// router's. The route attribute's `dependencies = [...]` uses it.
    pub fn dependency<D: crate::depends::Dependency>(mut self) -> Self {
        self.attached
            .push(crate::depends::AttachedDependency::of::<D>());
        self.redescribe();
        self
    }

    /// Document a response besides the success one (`responses = [...]` in the route
    /// attribute uses it); it wins over a router's entry for the same status.
    pub fn response(self, status: StatusCode, description: impl Into<String>) -> Self {
        self.documented(status.as_u16(), description.into(), None)
    }

    /// Like [`response`](Operation::response), with the body's model.
    pub fn response_model<T: schemars::JsonSchema + 'static>(
        self,
        status: StatusCode,
        description: impl Into<String>,
    ) -> Self {
        self.documented(
            status.as_u16(),
            description.into(),
            Some(SchemaDoc::of::<T>()),
        )
    }

    fn documented(mut self, status: u16, description: String, schema: Option<SchemaDoc>) -> Self {
        self.responses.retain(|r| r.status != status);
        self.responses.push(ExtraResponse {
            status,
            description,
            schema,
        });
        self
    }

    /// Wrap this operation in a tower layer (a timeout, say): it runs after routing,
    /// before the parameters are extracted.
    pub fn layer<L: crate::middleware::HttpLayer>(mut self, layer: L) -> Self {
        self.layers.push(crate::middleware::wrap_layer(layer));
        self
    }

    /// Limit how often a client may call this operation (`rate_limit = "…"` in the
    /// route attribute uses it); see [`rate_limit`](crate::rate_limit).
    pub fn rate_limit(mut self, limit: crate::rate_limit::RateLimit) -> Self {
        self.rate_limits.push(limit);
        self
    }

    /// Whether the operation has rate limits.
    pub fn is_rate_limited(&self) -> bool {
        !self.rate_limits.is_empty()
    }

    /// Check the operation's rate limits before its layers and handler (done once,
    /// when the app is built).
    pub(crate) fn seal_rate_limits(
        &mut self,
        binder: &mut crate::rate_limit::Binder,
    ) -> Result<(), String> {
        if self.rate_limits.is_empty() {
            return Ok(());
        }
        let limits = self.rate_limits.clone();
        self.handler = binder.seal(limits, self.meta.methods, &self.path, self.handler.clone())?;
        Ok(())
    }

    /// Run the operation's layers around its handler (done once, when the app is built).
    pub(crate) fn seal_layers(&mut self) {
        if self.layers.is_empty() {
            return;
        }
        let handler = self.handler.clone();
        let inner = crate::middleware::Next::new(move |req| match RequestCtx::from_http(req) {
            Some(ctx) => handler(ctx),
            None => Box::pin(async { crate::response::internal_error() }),
        });
        let next = crate::middleware::apply(inner, &std::mem::take(&mut self.layers));
        self.handler = Arc::new(move |ctx: Box<RequestCtx>| {
            let next = next.clone();
            Box::pin(async move { next.run(ctx.into_http()).await })
        });
    }

    /// The operation's metadata.
    pub fn meta(&self) -> &'static OperationMeta {
        self.meta
    }

    /// The documentation of its inputs.
    pub fn doc(&self) -> &OperationDoc {
        &self.doc
    }

    /// The path template it is served at (router prefixes included).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Its operationId for `method`, made from the path it is served at (routers'
    /// prefixes included), as FastAPI makes it: `read_items_items__get`.
    pub fn operation_id(&self, method: &str) -> String {
        self.meta().operation_id_at(&self.path, method)
    }

    /// Its tags (routers' first, then its own).
    pub fn tags(&self) -> impl Iterator<Item = &str> {
        self.tags.iter().map(|t| &**t)
    }

    /// The default status of a successful response (`status = …`, else the router's).
    pub fn status(&self) -> Option<StatusCode> {
        self.status.and_then(|s| StatusCode::from_u16(s).ok())
    }

    /// Documented responses besides the success one (from routers).
    pub fn responses(&self) -> &[ExtraResponse] {
        &self.responses
    }

    /// Take a router's default status (if the operation has none) and its documented
    /// responses (where the operation documents no response of the same status).
    /// Put a router's error handlers after those of the routers inside it.
    pub(crate) fn handle_errors(&mut self, handlers: &[crate::raise::ErrorHandler]) {
        if handlers.is_empty() {
            return;
        }
        let mut all: Vec<crate::raise::ErrorHandler> =
            self.error_handlers.as_deref().unwrap_or(&[]).to_vec();
        all.extend(handlers.iter().cloned());
        self.error_handlers = Some(all.into());
    }

    pub(crate) fn inherit(&mut self, status: Option<u16>, responses: &[ExtraResponse]) {
        if self.status.is_none() {
            self.status = status;
        }
        for r in responses {
            if !self.responses.iter().any(|own| own.status == r.status) {
                self.responses.push(r.clone());
            }
        }
    }

    /// Put the operation behind a router: prefix its path, put the router's tags first.
    /// Attach dependencies that run before this operation's own (outer ones first).
    pub(crate) fn attach(&mut self, deps: &[crate::depends::AttachedDependency]) {
        if !deps.is_empty() {
            self.attached.splice(0..0, deps.iter().copied());
            self.redescribe();
        }
    }

    pub(crate) fn nest(&mut self, prefix: &str, tags: &[String]) {
        if !prefix.is_empty() {
            self.path = Cow::Owned(format!("{prefix}{}", self.path));
            self.redescribe();
        }
        if !tags.is_empty() {
            let mut all: Vec<Cow<'static, str>> = tags.iter().cloned().map(Cow::Owned).collect();
            all.extend(self.tags.drain(..).filter(|t| !tags.iter().any(|x| x == t)));
            self.tags = all;
        }
    }
}

/// A value that can be routed: what the route macros generate.
pub trait Endpoint {
    /// The operation this endpoint serves.
    fn operation(self) -> Operation;
}

impl Endpoint for Operation {
    fn operation(self) -> Operation {
        self
    }
}

/// What the route macros generate: a function of the handler's name returning its
/// operation, so `App::new().route(read_item)` works.
impl<F: FnOnce() -> Operation> Endpoint for F {
    fn operation(self) -> Operation {
        self()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(fn_name: &'static str, path: &'static str) -> OperationMeta {
        OperationMeta {
            methods: &["GET"],
            path,
            fn_name,
            status: None,
            tags: &[],
            summary: None,
            doc: None,
            operation_id: None,
            deprecated: false,
            include_in_schema: true,
            response_description: None,
            blocking: false,
        }
    }

    #[test]
    fn operation_id_follows_fastapi() {
        let m = meta("read_item", "/items/{item_id}");
        assert_eq!(m.operation_id("GET"), "read_item_items__item_id__get");
        assert_eq!(
            m.operation_id_at("/v1/files/{p:path}", "GET"),
            "read_item_v1_files__p__get"
        );
    }

    #[test]
    fn summary_is_title_cased_name() {
        assert_eq!(meta("read_item", "/").summary(), "Read Item");
    }
}
