//! Extraction: turning a request into the typed arguments of a path operation.
//!
//! The route macros generate, for each parameter, a call to
//! [`FromRequest::from_request`] with a static [`ParamSpec`] describing the parameter
//! (its name, whether it appears in the path template, the attribute that sets its
//! source, its constraints). Every parameter is extracted; failures are pushed into a
//! shared [`RequestValidationError`] so one 422 lists them all.
//!
//! The same trait describes the parameter for the OpenAPI document
//! ([`FromRequest::describe`]), so the documentation cannot drift from the extraction.

pub(crate) mod body;
mod locals;
mod model;
pub(crate) mod param;
mod request;

use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use http::request::Parts;
use http::HeaderMap;

pub(crate) use body::read_body;
pub use body::BodyError;
pub(crate) use locals::Locals;
pub use model::{Cookie, Header, Query};
pub(crate) use param::cookie;
pub use param::{Checkable, Number, ParamValue, ParseError};
pub use request::{MountedAt, Request, State};

use crate::body::RequestBody;
use crate::openapi::model::OperationDoc;
use crate::operation::OperationMeta;
use crate::runtime::Runtime;
use crate::validation::{LocItem, RequestValidationError, ValidationError};

/// Where a parameter's value comes from, as in FastAPI's `loc[0]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// A `{name}` segment of the path template.
    Path,
    /// The query string.
    Query,
    /// A request header.
    Header,
    /// A cookie.
    Cookie,
    /// The request body.
    Body,
    /// A field of a form body.
    Form,
}

impl Source {
    /// The first element of an error's `loc`.
    pub fn loc_name(self) -> &'static str {
        match self {
            Source::Path => "path",
            Source::Query => "query",
            Source::Header => "header",
            Source::Cookie => "cookie",
            Source::Body | Source::Form => "body",
        }
    }
}

/// Constraints on a scalar parameter, from the parameter's attribute.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Constraints {
    /// Exclusive lower bound.
    pub gt: Option<Number>,
    /// Inclusive lower bound.
    pub ge: Option<Number>,
    /// Exclusive upper bound.
    pub lt: Option<Number>,
    /// Inclusive upper bound.
    pub le: Option<Number>,
    /// Minimum length of a string (in characters) or a list.
    pub min_length: Option<u64>,
    /// Maximum length of a string (in characters) or a list.
    pub max_length: Option<u64>,
    /// A regular expression a string must match somewhere (like Python's `re.search`).
    pub pattern: Option<&'static str>,
}

impl Constraints {
    /// No constraint at all.
    pub const NONE: Constraints = Constraints {
        gt: None,
        ge: None,
        lt: None,
        le: None,
        min_length: None,
        max_length: None,
        pattern: None,
    };
}

/// Everything the route macro knows about one parameter. Generated as a `static`.
#[derive(Debug)]
pub struct ParamSpec {
    /// The Rust parameter name.
    pub name: &'static str,
    /// The source set by an attribute (`#[query]`, `#[header]` …), if any.
    pub source: Option<Source>,
    /// Whether `name` appears as `{name}` in the path template.
    pub in_path: bool,
    /// The name on the wire, when it differs from `name`.
    pub alias: Option<&'static str>,
    /// For headers: turn `_` into `-` (the default, as in FastAPI).
    pub convert_underscores: bool,
    /// Value constraints.
    pub constraints: Constraints,
    /// Marked deprecated in the documentation.
    pub deprecated: bool,
    /// Whether a default value was given (the parameter is then optional).
    pub has_default: bool,
    /// A title for the documentation.
    pub title: Option<&'static str>,
    /// A description for the documentation.
    pub description: Option<&'static str>,
    /// An example value, as JSON text, for the documentation.
    pub example: Option<&'static str>,
    /// OAuth2 scopes a `Depends` parameter requires (`#[security(scopes = [...])]`).
    pub scopes: &'static [&'static str],
    /// The default value as JSON text, when it is a literal (for the documentation).
    pub default_json: Option<&'static str>,
    /// The default value as JSON, when it is an expression (`"x".to_owned()`,
    /// `vec![…]`) of a type that serialises: computed when the document is built.
    pub default_doc: Option<fn() -> Option<serde_json::Value>>,
    /// Whether the parameter is documented (`include_in_schema = false` hides it, as in
    /// FastAPI; it is read and validated all the same).
    pub include_in_schema: bool,
    /// `required` on an `Option` parameter: it must be sent, and it is documented as
    /// FastAPI documents `Annotated[Optional[T], Query()]` with no default — required,
    /// and `anyOf [T, null]`.
    pub required: bool,
    /// A body parameter that is one field of an embedding JSON object (several body
    /// parameters, or `#[body(embed)]`).
    pub embed: bool,
    /// For a header: its name, worked out once (the wire name, lower-cased) so that
    /// reading it is a lookup, not a parse. `None` where the macro could not, or for
    /// other sources.
    pub header_name: Option<&'static http::HeaderName>,
}

impl ParamSpec {
    /// A spec with only a name; the macros fill the rest with struct-update syntax.
    pub const fn new(name: &'static str) -> Self {
        ParamSpec {
            name,
            source: None,
            in_path: false,
            alias: None,
            convert_underscores: true,
            constraints: Constraints::NONE,
            deprecated: false,
            has_default: false,
            title: None,
            description: None,
            example: None,
            scopes: &[],
            default_json: None,
            default_doc: None,
            include_in_schema: true,
            required: false,
            embed: false,
            header_name: None,
        }
    }

    /// The source of a scalar parameter served at a path with these parameter names:
    /// the attribute's, else path when named in the path, else query (FastAPI's rule).
    pub fn scalar_source<S: AsRef<str>>(&self, path_params: &[S]) -> Source {
        match self.source {
            Some(s) => s,
            None if self.in_path => Source::Path,
            None => {
                let wire = self.wire_name(Source::Path);
                if path_params.iter().any(|n| n.as_ref() == wire) {
                    Source::Path
                } else {
                    Source::Query
                }
            }
        }
    }

    /// The name on the wire for `source`: the alias, or the name (for headers with
    /// underscores turned into hyphens unless disabled).
    pub fn wire_name(&self, source: Source) -> std::borrow::Cow<'static, str> {
        if let Some(alias) = self.alias {
            return alias.into();
        }
        if source == Source::Header && self.convert_underscores && self.name.contains('_') {
            return self.name.replace('_', "-").into();
        }
        self.name.into()
    }

    /// Whether `s` matches the `pattern` constraint (true when there is none), with the
    /// cache body fields use. A bad pattern is refused when the app is built
    /// ([`ParamSpec::validate`]), so it never gets here.
    pub fn pattern_matches(&self, s: &str) -> bool {
        match self.constraints.pattern {
            None => true,
            Some(p) => crate::validation::constraints::pattern(p).is_ok_and(|re| re.is_match(s)),
        }
    }

    /// Checks made once when the app is built (a bad regular expression, say): the
    /// same rule as for body fields.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(header) = self.header_name {
            // The name read on each request is the one documented and reported.
            debug_assert_eq!(
                header.as_str(),
                self.wire_name(Source::Header).to_ascii_lowercase()
            );
        }
        if let Some(p) = self.constraints.pattern {
            crate::validation::constraints::pattern(p)
                .map_err(|e| format!("parameter `{}`: invalid pattern: {e}", self.name))?;
        }
        Ok(())
    }
}

/// The location of a parameter for its errors: `[source, wire name]`.
pub(crate) fn param_loc(spec: &ParamSpec, source: Source) -> Vec<LocItem> {
    vec![
        LocItem::Key(source.loc_name().into()),
        LocItem::Key(spec.wire_name(source)),
    ]
}

/// The values of `name` among `pairs`.
fn pairs_named(pairs: &[(String, String)], name: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .collect()
}

/// The request as seen by extractors: head, body (until taken), the route it matched,
/// and the app.
///
/// Features keep their per-request state among its locals, each under a type of its
/// own; only what every request needs has a field here.
pub struct RequestCtx {
    pub(crate) parts: Parts,
    pub(crate) body: Option<RequestBody>,
    /// The body as read, kept (a reference count) so that a validator's error can show
    /// the input it was given.
    pub(crate) raw_body: Option<Bytes>,
    /// The query pairs, parsed on first use.
    pub(crate) query: Option<Vec<(String, String)>>,
    pub(crate) route: RouteCtx,
    /// The app, as request-time code sees it.
    pub(crate) rt: Arc<Runtime>,
    /// Features' per-request state.
    pub(crate) locals: Locals,
}

/// What request-time code knows of a routed operation, shared by its requests.
pub(crate) struct Route {
    pub(crate) meta: &'static OperationMeta,
    /// Names of the path parameters, in template order.
    pub(crate) path_names: Arc<[Box<str>]>,
    /// Dependencies attached to the operation for their side effect.
    pub(crate) attached: Arc<[crate::depends::AttachedDependency]>,
    /// The status of the operation's success (its own, or its routers').
    pub(crate) status: Option<u16>,
    /// The operation's routers' error handlers, innermost first.
    pub(crate) errors: Option<Arc<[crate::raise::ErrorHandler]>>,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Route")
            .field("path", &self.meta.path)
            .field("path_names", &self.path_names)
            .finish_non_exhaustive()
    }
}

/// Where the matched path parameters' (still percent-encoded) values are in the path:
/// a few spans, kept inline.
#[derive(Default)]
pub(crate) struct PathSpans {
    inline: [(u32, u32); 4],
    len: u8,
    more: Vec<(u32, u32)>,
}

impl PathSpans {
    pub(crate) fn push(&mut self, start: usize, end: usize) {
        let span = (
            u32::try_from(start).unwrap_or(u32::MAX),
            u32::try_from(end).unwrap_or(u32::MAX),
        );
        match self.inline.get_mut(usize::from(self.len)) {
            Some(slot) if self.more.is_empty() => {
                *slot = span;
                self.len += 1;
            }
            _ => self.more.push(span),
        }
    }

    fn get(&self, i: usize) -> Option<(usize, usize)> {
        let len = usize::from(self.len);
        let (s, e) = if i < len {
            self.inline[i]
        } else {
            *self.more.get(i - len)?
        };
        Some((s as usize, e as usize))
    }
}

/// The route a request matched.
pub(crate) struct RouteCtx {
    pub(crate) route: Arc<Route>,
    pub(crate) path_params: PathSpans,
    /// The path, decoded, when it had escapes: the path routing matched, which the
    /// path parameters' positions refer to.
    pub(crate) decoded_path: Option<String>,
}

impl std::ops::Deref for RouteCtx {
    type Target = Route;

    fn deref(&self) -> &Route {
        &self.route
    }
}

/// The fields of a form body (urlencoded, or a multipart body's text parts), parsed
/// once.
struct FormFields(Vec<(String, String)>);

/// The JSON object shared by embedded body parameters, read once: `None` when the body
/// could not be read as one (its error is already reported).
struct Embedded(Option<serde_json::Map<String, serde_json::Value>>);

impl RequestCtx {
    /// The request head (method, URI, headers, extensions).
    pub fn parts(&self) -> &Parts {
        &self.parts
    }

    /// The request headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.parts.headers
    }

    /// The source of a scalar parameter on the route being served.
    pub fn scalar_source(&self, spec: &ParamSpec) -> Source {
        spec.scalar_source(&self.route.path_names)
    }

    /// The operation being served.
    pub fn operation(&self) -> &'static OperationMeta {
        self.route.meta
    }

    /// The raw (percent-decoded) value of a path parameter.
    pub fn path_param(&self, name: &str) -> Option<String> {
        self.path_param_cow(name).map(Cow::into_owned)
    }

    /// The value of a path parameter: a slice of the path routing matched (decoded
    /// once, when the request's had escapes).
    pub(crate) fn path_param_cow(&self, name: &str) -> Option<Cow<'_, str>> {
        let route = &self.route;
        let path = route
            .decoded_path
            .as_deref()
            .unwrap_or_else(|| self.parts.uri.path());
        let i = route.path_names.iter().position(|n| &**n == name)?;
        route
            .path_params
            .get(i)
            .and_then(|(s, e)| path.get(s..e))
            .map(Cow::Borrowed)
    }

    /// The query pairs, percent-decoded, parsed once per request.
    pub fn query_pairs(&mut self) -> &[(String, String)] {
        if self.query.is_none() {
            let pairs = match self.parts.uri.query() {
                Some(q) => form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect(),
                None => Vec::new(),
            };
            self.query = Some(pairs);
        }
        self.query.as_deref().unwrap_or(&[])
    }

    /// Take the body. Only the first body extractor gets it; later ones see `None`.
    pub fn take_body(&mut self) -> Option<RequestBody> {
        self.body.take()
    }

    /// Read the whole body within the app's body limit.
    pub async fn read_body(&mut self) -> Result<Bytes, BodyError> {
        // Read where it lies, then gone, whatever the outcome: moved out first, the
        // body would sit in this future twice.
        let Some(body) = self.body.as_mut() else {
            return Ok(Bytes::new());
        };
        let read = read_body(body, &self.parts.headers, self.rt.limits.body).await;
        self.body = None;
        let bytes = read?;
        self.raw_body = Some(bytes.clone());
        Ok(bytes)
    }

    /// The body read so far, parsed as JSON (`null` if it was not read or is not JSON).
    pub(crate) fn raw_json(&self) -> serde_json::Value {
        self.raw_body
            .as_deref()
            .and_then(|b| serde_json::from_slice(b).ok())
            .unwrap_or(serde_json::Value::Null)
    }

    /// Where a parameter is located in a 422, and its input as sent: the raw text (a
    /// list when given several times), or its JSON value when it is an embedded body
    /// parameter. Read again from the request, for a validator's error.
    pub(crate) fn param_input(&mut self, spec: &ParamSpec) -> (Vec<LocItem>, serde_json::Value) {
        use serde_json::Value;
        let source = self.scalar_source(spec);
        let name = spec.wire_name(source);
        if source == Source::Body {
            let mut loc = vec![LocItem::Key("body".into())];
            let body = self.raw_body.clone().unwrap_or_default();
            if spec.embed {
                let input = match self.raw_json() {
                    Value::Object(mut m) => m.remove(name.as_ref()).unwrap_or(Value::Null),
                    _ => Value::Null,
                };
                loc.push(LocItem::Key(name));
                return (loc, input);
            }
            return (
                loc,
                Value::String(String::from_utf8_lossy(&body).into_owned()),
            );
        }
        let values: Vec<String> = match source {
            Source::Path => self.path_param(&name).into_iter().collect(),
            Source::Query => pairs_named(self.query_pairs(), &name),
            Source::Form => pairs_named(self.form_fields().unwrap_or(&[]), &name),
            Source::Header => self
                .headers()
                .get_all(name.as_ref())
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .collect(),
            _ => param::cookies(self.headers())
                .filter(|(k, _)| *k == name)
                .map(|(_, v)| v.to_owned())
                .collect(),
        };
        let input = match (source, values.len()) {
            (_, 0) => Value::Null,
            (Source::Header, _) => Value::String(values[0].clone()),
            (_, 1) => Value::String(values[0].clone()),
            _ => Value::Array(values.into_iter().map(Value::String).collect()),
        };
        (param_loc(spec, source), input)
    }

    /// The value of embedded body parameter `name`: the JSON body is read (once) as an
    /// object, and each embedded parameter takes its field. An absent or empty body,
    /// or one that is not an object, has no fields: each parameter is then missing, as
    /// in FastAPI. `Err(())`: the body could not be read, and that was reported.
    pub(crate) async fn embedded_field(
        &mut self,
        name: &str,
        errors: &mut Errors,
    ) -> Result<Option<serde_json::Value>, ()> {
        if self.locals.get::<Embedded>().is_none() {
            let object = self.read_embedded(errors).await;
            self.locals.get_or_insert_with(|| Embedded(object));
        }
        match self.locals.get_mut::<Embedded>() {
            Some(Embedded(Some(map))) => Ok(map.remove(name)),
            _ => Err(()),
        }
    }

    async fn read_embedded(
        &mut self,
        errors: &mut Errors,
    ) -> Option<serde_json::Map<String, serde_json::Value>> {
        let json = crate::json::is_json(self.headers());
        let bytes = match self.read_body().await {
            Ok(b) => b,
            Err(e) => {
                errors.reject(e.into_http_error());
                return None;
            }
        };
        // A body that is not JSON has no fields: each parameter is then missing, as
        // FastAPI reports it.
        if bytes.is_empty() || !json {
            return Some(serde_json::Map::new());
        }
        match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(serde_json::Value::Object(map)) => Some(map),
            Ok(_) => Some(serde_json::Map::new()),
            Err(e) => {
                if std::str::from_utf8(&bytes).is_err() {
                    errors.reject(crate::HttpError::new(
                        http::StatusCode::BAD_REQUEST,
                        "There was an error parsing the body",
                    ));
                } else {
                    errors.push(crate::validation::json_invalid::json_invalid(&bytes, &e));
                }
                None
            }
        }
    }

    /// The pairs of an urlencoded form body, read and parsed once per request. Any other
    /// body has no form fields. `None` after a rejection (body too large) was recorded.
    pub async fn form_pairs(&mut self, errors: &mut Errors) -> Option<&[(String, String)]> {
        if self.locals.get::<FormFields>().is_none() {
            let pairs = self.read_form(errors).await;
            let read = pairs.is_some();
            self.locals
                .get_or_insert_with(|| FormFields(pairs.unwrap_or_default()));
            if !read {
                return None;
            }
        }
        self.form_fields()
    }

    /// The form's fields, if the form was read.
    pub(crate) fn form_fields(&self) -> Option<&[(String, String)]> {
        self.locals.get::<FormFields>().map(|f| f.0.as_slice())
    }

    /// Read and parse the form body: `None` after a rejection was recorded.
    async fn read_form(&mut self, errors: &mut Errors) -> Option<Vec<(String, String)>> {
        if crate::uploads::is_multipart(self.headers()) {
            // Text fields become form pairs; files wait for their parameters.
            let body = self.body.take()?;
            let limits = &self.rt.limits.upload;
            return match crate::uploads::parse(body, &self.parts.headers, limits).await {
                Ok(mut parsed) => {
                    let fields = std::mem::take(&mut parsed.fields);
                    self.locals.get_or_insert_with(|| parsed);
                    Some(fields)
                }
                Err(e) => {
                    errors.reject(e);
                    None
                }
            };
        }
        let is_form = crate::form::is_form(self.headers());
        let bytes = match self.read_body().await {
            Ok(b) => b,
            Err(e) => {
                errors.reject(e.into_http_error());
                return None;
            }
        };
        if !is_form {
            return Some(Vec::new());
        }
        match crate::form::parse_urlencoded(&bytes) {
            Ok(p) => Some(p),
            Err(e) => {
                errors.reject(e);
                None
            }
        }
    }

    /// App state of type `T`, if the app has it.
    pub fn state<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        self.rt.state.get::<T>()
    }
}

/// Carries a [`RequestCtx`] through operation middleware (extensions need `Clone`).
#[derive(Clone)]
struct CtxSlot(Arc<std::sync::Mutex<Option<Box<RequestCtx>>>>);

impl RequestCtx {
    /// A context with no request behind it (an empty `GET /`), for work done on the
    /// app's behalf outside a request: making an app-scoped dependency at startup or for
    /// a readiness check.
    pub(crate) fn detached(rt: Arc<Runtime>) -> RequestCtx {
        /// What such work names as its operation.
        static DETACHED: OperationMeta = OperationMeta {
            methods: &[],
            path: "(outside a request)",
            fn_name: "(outside a request)",
            status: None,
            tags: &[],
            summary: None,
            doc: None,
            operation_id: None,
            deprecated: false,
            include_in_schema: false,
            response_description: None,
            blocking: false,
        };
        let meta = &DETACHED;
        RequestCtx {
            parts: http::Request::new(()).into_parts().0,
            body: Some(RequestBody::empty()),
            raw_body: None,
            query: None,
            route: RouteCtx {
                route: Arc::new(Route {
                    meta,
                    path_names: Arc::new([]),
                    attached: Arc::new([]),
                    status: None,
                    errors: None,
                }),
                path_params: PathSpans::default(),
                decoded_path: None,
            },
            rt,
            locals: Locals::default(),
        }
    }

    /// The request as an HTTP request for operation middleware; the rest of the
    /// context rides along in its extensions.
    pub(crate) fn into_http(mut self: Box<Self>) -> http::Request<RequestBody> {
        let parts = std::mem::replace(&mut self.parts, http::Request::new(()).into_parts().0);
        let body = self.body.take().unwrap_or_else(RequestBody::empty);
        let mut req = http::Request::from_parts(parts, body);
        req.extensions_mut()
            .insert(CtxSlot(Arc::new(std::sync::Mutex::new(Some(self)))));
        req
    }

    /// The context back from a request made by [`into_http`](Self::into_http), with
    /// whatever the middleware changed in the head and body.
    pub(crate) fn from_http(req: http::Request<RequestBody>) -> Option<Box<RequestCtx>> {
        let (mut parts, body) = req.into_parts();
        let slot = parts.extensions.remove::<CtxSlot>()?;
        let mut ctx = slot.0.lock().ok()?.take()?;
        ctx.parts = parts;
        ctx.body = Some(body);
        Some(ctx)
    }
}

/// How a parameter uses the request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyUse {
    /// Not at all.
    None,
    /// The whole body, read once: `Bytes`, `Request`.
    Whole,
    /// A JSON value: `Json<T>`, a `#[body]` scalar. Several of them (or one marked
    /// `#[body(embed)]`) share one JSON object, each under its own name, as FastAPI
    /// embeds several body parameters.
    Json,
    /// A form model (`Form<T>`): the whole form, urlencoded or multipart.
    FormModel,
    /// One part of a form (`#[form]` fields, `UploadFile`): shares the parsed form with
    /// other parts.
    FormPart,
}

impl BodyUse {
    /// Whether this is a JSON value (embeddable beside others).
    pub const fn is_json(self) -> bool {
        matches!(self, BodyUse::Json)
    }

    /// The use of a `#[body]` parameter of a type that uses the body this way: a
    /// scalar (which reads no body by itself) becomes a JSON value.
    pub const fn body_param(self) -> BodyUse {
        match self {
            BodyUse::None => BodyUse::Json,
            other => other,
        }
    }

    /// The use of a `#[form]` parameter of a type that uses the body this way: one
    /// field of the form. A type that reads the body another way (`Bytes`, `Json<T>`,
    /// `Form<T>`) cannot be one field: that is a compile error.
    pub const fn form_param(self) -> BodyUse {
        match self {
            BodyUse::None | BodyUse::FormPart => BodyUse::FormPart,
            _ => panic!(
                "#[form] reads one field of the form, and this type reads the body its own \
                 way: take a text value (`String`, a number …) or an `UploadFile` (for a \
                 file's bytes, `UploadFile::bytes`)"
            ),
        }
    }

    /// Whether two parameters using the body this way cannot both have it.
    pub const fn conflicts(self, other: BodyUse) -> bool {
        match (self, other) {
            (BodyUse::None, _) | (_, BodyUse::None) => false,
            (BodyUse::Json, BodyUse::Json) => false,
            (BodyUse::Whole, _) | (_, BodyUse::Whole) => true,
            (BodyUse::FormModel, BodyUse::FormModel) => true,
            // A form model reads urlencoded bodies itself; fields would find it gone.
            (BodyUse::FormModel, BodyUse::FormPart) | (BodyUse::FormPart, BodyUse::FormModel) => {
                true
            }
            (BodyUse::FormPart, BodyUse::FormPart) => false,
            // JSON beside a form: one body cannot be both.
            (BodyUse::Json, _) | (_, BodyUse::Json) => true,
        }
    }
}

/// The result of one extractor: `None` means it pushed at least one error (or a
/// rejection) into the [`Errors`] collector.
pub type Extracted<T> = Option<T>;

/// Collects every failure of one request's extraction.
#[derive(Debug, Default)]
pub struct Errors {
    pub(crate) validation: RequestValidationError,
    /// Boxed: rare, and the collector lives in every handler's future.
    pub(crate) rejection: Option<Box<crate::Response>>,
    /// Where each error came from, in order; see [`Errors::open_dependant`]. Nothing
    /// is allocated for a request without errors.
    origins: Vec<Origin>,
    /// The dependant being extracted, and the next number to give one.
    current: u32,
    next: u32,
    /// How many dependants have finished.
    closed: u32,
}

/// The dependant (the operation, or a dependency) an error came from, and when it
/// finished: dependants finish in post-order, a dependency before the one that uses
/// it; the operation never does, so its errors come last.
#[derive(Debug, Clone, Copy)]
struct Origin {
    dependant: u32,
    finished: u32,
}

impl Origin {
    /// Not finished (yet): the operation's errors, or those of a dependency still
    /// being extracted.
    const OPEN: u32 = u32::MAX;
}

impl Errors {
    /// An empty collector, keeping up to
    /// [`DEFAULT_MAX_ERRORS`](crate::validation::DEFAULT_MAX_ERRORS) errors.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty collector for a request, keeping up to its app's
    /// [`max_validation_errors`](crate::App::max_validation_errors). Used by generated
    /// code.
    pub fn for_request(ctx: &RequestCtx) -> Self {
        Errors {
            validation: RequestValidationError::with_limit(ctx.rt.limits.max_errors),
            ..Errors::default()
        }
    }

    /// Start extracting a dependency's parameters; pass the result to
    /// [`close_dependant`](Self::close_dependant) when done. Used by generated code.
    pub fn open_dependant(&mut self) -> u32 {
        let outer = self.current;
        self.next += 1;
        self.current = self.next;
        outer
    }

    /// Done extracting the dependency opened by [`open_dependant`](Self::open_dependant).
    pub fn close_dependant(&mut self, outer: u32) {
        let rank = self.closed;
        self.closed += 1;
        for origin in &mut self.origins {
            if origin.dependant == self.current {
                origin.finished = rank;
            }
        }
        self.current = outer;
    }

    /// The errors in the order FastAPI lists them: each dependency's before those of
    /// the one that uses it (the operation's last); within one, path, query, header,
    /// then cookie parameters; every body error at the end, as FastAPI validates the
    /// body last.
    pub(crate) fn into_ordered(mut self) -> RequestValidationError {
        if self.next == 0 && self.validation.errors().len() < 2 {
            return self.validation;
        }
        let origins = &self.origins;
        let rank = |e: &ValidationError| match e.loc.first() {
            Some(LocItem::Key(k)) => match k.as_ref() {
                "path" => 0,
                "query" => 1,
                "header" => 2,
                "cookie" => 3,
                _ => 4,
            },
            _ => 4,
        };
        // The operation itself never finishes: its errors come after its dependencies'.
        let key = |i: usize, e: &ValidationError| {
            let r = rank(e);
            let when = origins.get(i).map_or(Origin::OPEN, |o| o.finished);
            (r == 4, if r == 4 { 0 } else { when }, r)
        };
        let keys = (self.validation.errors().iter().enumerate()).map(|(i, e)| key(i, e));
        if keys.is_sorted() {
            return self.validation;
        }
        let errors = std::mem::take(self.validation.errors_mut());
        let mut keyed: Vec<_> = (errors.into_iter().enumerate())
            .map(|(i, e)| (key(i, &e), e))
            .collect();
        // Stable: the order of extraction within each key.
        keyed.sort_by_key(|(k, _)| *k);
        *self.validation.errors_mut() = keyed.into_iter().map(|(_, e)| e).collect();
        self.validation
    }

    /// How many more validation errors are kept before the list is cut.
    pub fn room(&self) -> usize {
        self.validation.room()
    }

    /// Record a validation error.
    pub fn push(&mut self, err: ValidationError) {
        let kept = self.validation.errors().len();
        self.validation.push(err);
        if self.validation.errors().len() > kept {
            self.origins.push(Origin {
                dependant: self.current,
                finished: Origin::OPEN,
            });
        }
    }

    /// Record several validation errors, room made for them at once.
    pub(crate) fn push_all(&mut self, errs: Vec<ValidationError>) {
        let n = errs.len().min(self.room() + 1);
        self.validation.errors_mut().reserve(n);
        self.origins.reserve(n);
        for e in errs {
            self.push(e);
        }
    }

    /// Record an outright rejection (not a 422). The first one is kept.
    pub fn reject(&mut self, err: crate::HttpError) {
        if self.rejection.is_none() {
            self.rejection = Some(Box::new(crate::IntoResponse::into_response(err)));
        }
    }

    /// Record a rejection with any response (a dependency's `Err`). The first one is kept.
    pub fn reject_response(&mut self, resp: crate::Response) {
        if self.rejection.is_none() {
            self.rejection = Some(Box::new(resp));
        }
    }

    /// Whether nothing failed.
    pub fn is_empty(&self) -> bool {
        self.validation.is_empty() && self.rejection.is_none()
    }
}

/// A type that can be a parameter of a path operation.
///
/// Implemented for the scalar types (query, path, header and cookie parameters),
/// `Option` and `Vec` of those, [`Json`](crate::Json), [`Form`](crate::Form),
/// [`Bytes`], [`Request`], [`HeaderMap`], [`State`] …
///
/// `from_request` returns `None` after pushing at least one error (or a rejection) into
/// `errors`; it never returns `None` silently.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a parameter of a path operation",
    label = "not a parameter type",
    note = "parameters are scalars (String, integers, floats, bool, enums deriving `ParamValue`), \
            `Option`/`Vec` of those, `Json<T>`, `Form<T>`, `Bytes`, `Request`, `HeaderMap` or `State<T>`",
    note = "in `Json<T>`, `Form<T>` and `Query<T>`, `T` derives both `Deserialize` (to read it) and \
            `JsonSchema` (to validate and document it)"
)]
pub trait FromRequest: Sized + Send + 'static {
    /// Whether, and how, the parameter reads the request body. The route macro checks
    /// at compile time that no two parameters of one operation read it in ways that
    /// exclude each other (the body can be read once).
    const BODY: BodyUse = BodyUse::None;

    /// Extract the parameter described by `spec` from the request.
    fn from_request(
        ctx: &mut RequestCtx,
        spec: &'static ParamSpec,
        errors: &mut Errors,
    ) -> impl Future<Output = Extracted<Self>> + Send;

    /// Describe the parameter for the documentation (and check the app can supply it).
    fn describe(spec: &'static ParamSpec, doc: &mut OperationDoc) {
        let _ = (spec, doc);
    }
}

#[cfg(test)]
mod tests {
    use super::Errors;
    use crate::validation::{LocItem, ValidationError};

    fn at(source: &'static str, name: &'static str) -> ValidationError {
        ValidationError::missing().at(vec![LocItem::Key(source.into()), LocItem::Key(name.into())])
    }

    fn locs(errors: Errors) -> Vec<String> {
        let ordered = errors.into_ordered();
        (ordered.errors().iter())
            .map(|e| match (&e.loc[0], &e.loc[1]) {
                (LocItem::Key(s), LocItem::Key(n)) => format!("{s}.{n}"),
                _ => unreachable!("two keys"),
            })
            .collect()
    }

    /// FastAPI's order: each dependency's errors before those of the one that uses it
    /// (post-order), the operation's last; path, query, header, cookie within one; the
    /// body at the end. Here the operation uses `a`, which uses `b`; errors arrive
    /// interleaved as extraction goes in and out of them.
    #[test]
    fn errors_are_ordered_by_dependant_then_source() {
        let mut errors = Errors::new();
        errors.push(at("query", "op_q"));
        errors.push(at("body", "item"));
        let op = errors.open_dependant(); // a
        errors.push(at("header", "a_h"));
        let a = errors.open_dependant(); // b, inside a
        errors.push(at("cookie", "b_c"));
        errors.push(at("path", "b_p"));
        errors.close_dependant(a);
        errors.push(at("query", "a_q"));
        errors.close_dependant(op);
        errors.push(at("path", "op_p"));
        assert_eq!(
            locs(errors),
            [
                "path.b_p",
                "cookie.b_c",
                "query.a_q",
                "header.a_h",
                "path.op_p",
                "query.op_q",
                "body.item"
            ]
        );
    }

    /// A dependency that reported nothing takes no part; the order is the sources'.
    #[test]
    fn without_dependencies_the_sources_order_the_errors() {
        let mut errors = Errors::new();
        let outer = errors.open_dependant();
        errors.close_dependant(outer);
        errors.push(at("cookie", "c"));
        errors.push(at("query", "q"));
        assert_eq!(locs(errors), ["query.q", "cookie.c"]);
    }
}
