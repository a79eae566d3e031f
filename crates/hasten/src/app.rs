//! [`App`]: routes, state, limits and error handlers; built into an [`AppService`].

use std::any::TypeId;
use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::StatusCode;

use crate::body::RequestBody;
use crate::error::HttpError;
pub use crate::extract::MountedAt;
pub use crate::lifespan::AppState;
use crate::operation::{BoxFuture, Endpoint, Operation};
use crate::pipeline::Dispatcher;
use crate::response::{IntoResponse, Response};
use crate::routing::Routes;
pub use crate::runtime::ErrorContext;
pub use crate::runtime::DEFAULT_BODY_LIMIT;
use crate::runtime::{ErrorHandlers, Limits, Runtime, Slots, TypeMap};
use crate::validation::RequestValidationError;

/// A web application: its path operations, state, limits and error handlers.
///
/// ```
/// use hasten::prelude::*;
///
/// /// Say hello.
/// #[get("/hello/{name}")]
/// async fn hello(name: String, excited: Option<bool>) -> String {
///     format!("Hello, {name}{}", if excited == Some(true) { "!" } else { "." })
/// }
///
/// let app = App::new().title("Greeter").route(hello);
/// # let _ = app.build().unwrap();
/// ```
pub struct App {
    info: crate::openapi::DocInfo,
    docs: crate::docs_ui::DocsConfig,
    /// The app's operations, dependencies and error handlers: a router without a
    /// prefix, as FastAPI's app holds an `APIRouter`.
    root: crate::Router,
    problems: Vec<String>,
    overrides: HashMap<TypeId, crate::depends::Resolver>,
    startup: Vec<crate::lifespan::StartupHook>,
    shutdown: Vec<crate::lifespan::ShutdownHook>,
    /// App-scoped dependencies made at startup, in the order added.
    eager: Vec<crate::depends::Eager>,
    /// The liveness and readiness endpoints, if any, and what readiness checks.
    probes: crate::health::Probes,
    /// Each request gets an ID (`App::request_ids`).
    request_ids: bool,
    /// The share of requests traced (`App::tracing`, `App::tracing_ratio`).
    traces: Option<f64>,
    /// Settings structs read at start (`App::settings`), in the order added.
    settings: Vec<SettingsLoader>,
    mounts: Vec<crate::mount::Mount>,
    /// State types startup hooks will provide.
    promised: Vec<TypeId>,
    state: TypeMap,
    limits: Limits,
    redirect_slashes: bool,
    handlers: ErrorHandlers,
    layers: crate::middleware::Layers,
    /// Where rate-limit counts are kept.
    rate_limits: crate::rate_limit::RateLimits,
    /// Durable jobs: the queue and the jobs registered.
    #[cfg(feature = "jobs")]
    jobs: crate::jobs::Setup,
}

impl Default for App {
    fn default() -> Self {
        App::new()
    }
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("title", &self.info.title)
            .field("version", &self.info.version)
            .field("operations", &self.root.operations().len())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl App {
    /// An empty app titled "hasten", version "0.1.0", with the default limits.
    pub fn new() -> Self {
        App {
            info: crate::openapi::DocInfo::default(),
            docs: crate::docs_ui::DocsConfig::default(),
            root: crate::Router::new(),
            problems: Vec::new(),
            overrides: HashMap::new(),
            startup: Vec::new(),
            shutdown: Vec::new(),
            eager: Vec::new(),
            probes: crate::health::Probes::default(),
            request_ids: false,
            traces: None,
            settings: Vec::new(),
            mounts: Vec::new(),
            promised: Vec::new(),
            state: TypeMap::default(),
            limits: Limits::default(),
            redirect_slashes: true,
            handlers: ErrorHandlers::default(),
            layers: crate::middleware::Layers::default(),
            rate_limits: crate::rate_limit::RateLimits::default(),
            #[cfg(feature = "jobs")]
            jobs: crate::jobs::Setup::default(),
        }
    }

    /// The API title (`info.title`; also the documentation pages' title).
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.info.title = title.into();
        self
    }

    /// The API version (`info.version`).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.info.version = version.into();
        self
    }

    /// The API description (`info.description`; Markdown).
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.info.description = Some(description.into());
        self
    }

    /// A one-line summary of the API (`info.summary`).
    pub fn summary(mut self, summary: impl Into<String>) -> Self {
        self.info.summary = Some(summary.into());
        self
    }

    /// A URL to the terms of service (`info.termsOfService`).
    pub fn terms_of_service(mut self, url: impl Into<String>) -> Self {
        self.info.terms_of_service = Some(url.into());
        self
    }

    /// Contact information (`info.contact`).
    pub fn contact(mut self, contact: crate::openapi::Contact) -> Self {
        self.info.contact = Some(contact);
        self
    }

    /// The API's license (`info.license`).
    pub fn license(mut self, license: crate::openapi::License) -> Self {
        self.info.license = Some(license);
        self
    }

    /// Add a server the API is reachable at (`servers`), e.g. `("/api/v1", "")`.
    pub fn server(mut self, url: impl Into<String>, description: impl Into<String>) -> Self {
        let description: String = description.into();
        self.info.servers.push(crate::openapi::Server {
            url: url.into(),
            description: (!description.is_empty()).then_some(description),
        });
        self
    }

    /// Describe a tag (`tags`, FastAPI's `openapi_tags`); tags are listed in the order
    /// described here. [`App::openapi_tag`] describes one with external docs.
    pub fn tag(self, name: impl Into<String>, description: impl Into<String>) -> Self {
        let description: String = description.into();
        let mut tag = crate::openapi::Tag::new(name);
        if !description.is_empty() {
            tag = tag.description(description);
        }
        self.openapi_tag(tag)
    }

    /// Describe a tag: its description and a link to more documentation.
    ///
    /// ```
    /// use hasten::App;
    /// use hasten::openapi::Tag;
    ///
    /// let app = App::new().openapi_tag(
    ///     Tag::new("items")
    ///         .description("Manage items.")
    ///         .external_docs("https://example.com/items/", "Items external docs"),
    /// );
    /// # let _ = app;
    /// ```
    pub fn openapi_tag(mut self, tag: crate::openapi::Tag) -> Self {
        self.info.tags.push(tag);
        self
    }

    /// The largest WebSocket message and frame accepted, in bytes (16 MiB each by
    /// default); a peer that sends more is disconnected with close code 1009.
    pub fn websocket_limits(mut self, max_message: usize, max_frame: usize) -> Self {
        self.limits.websocket.max_message = max_message;
        self.limits.websocket.max_frame = max_frame.min(max_message);
        self
    }

    /// How WebSockets find dead peers (uvicorn's `ws_ping_interval` and
    /// `ws_ping_timeout`, 20 s each by default): a socket that heard nothing for
    /// `interval` is pinged, and one that then hears nothing for `timeout` is closed
    /// with 1011 "keepalive ping timeout". `None` turns pings off. Pings are sent
    /// while the handler waits in [`WebSocket::receive`](crate::ws::WebSocket::receive).
    pub fn websocket_keepalive(
        mut self,
        interval: Option<std::time::Duration>,
        timeout: std::time::Duration,
    ) -> Self {
        self.limits.websocket.keepalive = crate::runtime::Keepalive { interval, timeout };
        self
    }

    /// Wrap the whole app in a tower layer (CORS, compression, tracing …): it sees
    /// every request, before routing. The last layer added is the outermost.
    pub fn layer<L: crate::middleware::HttpLayer>(mut self, layer: L) -> Self {
        self.layers.0.push(crate::middleware::wrap_layer(layer));
        self
    }

    /// Wrap the whole app in an async function `(request, next) -> response`
    /// (FastAPI's `@app.middleware("http")`); see [`middleware`](crate::middleware).
    pub fn middleware<F, Fut, R>(mut self, f: F) -> Self
    where
        F: Fn(crate::middleware::HttpRequest, crate::middleware::Next) -> Fut
            + Send
            + Sync
            + 'static,
        Fut: std::future::Future<Output = R> + Send + 'static,
        R: IntoResponse,
    {
        self.layers.0.push(crate::middleware::wrap_fn(f));
        self
    }

    /// Limits on `multipart/form-data` bodies (whole body, each file, each text field,
    /// number of parts) and when uploads go to disk; see
    /// [`UploadLimits`](crate::uploads::UploadLimits) for the defaults. The app's body
    /// limit does not apply to multipart bodies; these do.
    pub fn upload_limits(mut self, limits: crate::uploads::UploadLimits) -> Self {
        self.limits.upload = limits;
        self
    }

    /// Where the OpenAPI document is served (default `/openapi.json`); `None` turns it
    /// off, and the documentation pages with it.
    pub fn openapi_url(mut self, url: Option<&str>) -> Self {
        self.docs.openapi_url = url.map(str::to_owned);
        self
    }

    /// How the OpenAPI document is written: FastAPI's document for the same app by
    /// default, or with Rust number ranges and every status hasten answers
    /// ([`DocStyle`](crate::openapi::DocStyle)).
    pub fn openapi_style(mut self, style: crate::openapi::DocStyle) -> Self {
        self.info.style = style;
        self
    }

    /// Where Swagger UI is served (default `/docs`); `None` turns it off.
    pub fn docs_url(mut self, url: Option<&str>) -> Self {
        self.docs.docs_url = url.map(str::to_owned);
        self
    }

    /// Where ReDoc is served (default `/redoc`); `None` turns it off.
    pub fn redoc_url(mut self, url: Option<&str>) -> Self {
        self.docs.redoc_url = url.map(str::to_owned);
        self
    }

    /// Where Swagger UI's OAuth2 redirect page is served (default
    /// `/docs/oauth2-redirect`); `None` turns it off.
    pub fn swagger_ui_oauth2_redirect_url(mut self, url: Option<&str>) -> Self {
        self.docs.oauth2_redirect_url = url.map(str::to_owned);
        self
    }

    /// Extra Swagger UI settings, merged over the defaults (FastAPI's
    /// `swagger_ui_parameters`), e.g. `json!({"docExpansion": "none"})`.
    pub fn swagger_ui_parameters(mut self, parameters: serde_json::Value) -> Self {
        if let serde_json::Value::Object(m) = parameters {
            self.docs.swagger_ui_parameters.extend(m);
        }
        self
    }

    /// Add a path operation (a function annotated with `#[get]`, `#[post]` …).
    pub fn route(mut self, endpoint: impl Endpoint) -> Self {
        self.root = self.root.route(endpoint);
        self
    }

    /// Run `hook` at startup, before the first request; the value it returns becomes app
    /// state, reachable as [`State<T>`](crate::State). Hooks run in the order added, each
    /// seeing the state made before it; an `Err` stops the server from starting.
    ///
    /// ```
    /// use hasten::prelude::*;
    ///
    /// struct Pool { url: String }
    ///
    /// #[get("/pool")]
    /// async fn pool(pool: State<Pool>) -> String { pool.url.clone() }
    ///
    /// let app = App::new()
    ///     .route(pool)
    ///     .on_startup(|_state| async { Ok::<_, std::io::Error>(Pool { url: "sqlite://memory".into() }) })
    ///     .on_shutdown(|state| async move {
    ///         if let Some(pool) = state.get::<Pool>() { let _ = &pool.url; /* close it */ }
    ///     });
    /// ```
    pub fn on_startup<T, E, F, Fut>(mut self, hook: F) -> Self
    where
        T: Send + Sync + 'static,
        E: fmt::Display,
        F: FnOnce(crate::app::AppState) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        self.startup.push(crate::lifespan::startup_hook(hook));
        self.promised.push(TypeId::of::<T>());
        self
    }

    /// Give requests a server-side [`Session`](crate::sessions::Session), kept in
    /// `sessions`' store, with CSRF protection for requests that change something.
    /// See [`sessions`](crate::sessions).
    pub fn sessions(mut self, sessions: crate::sessions::Sessions) -> Self {
        let sessions = Arc::new(sessions);
        self.state
            .insert_erased(TypeId::of::<crate::sessions::Sessions>(), sessions.clone());
        self.layers.0.push(crate::middleware::wrap_fn(
            move |req: crate::middleware::HttpRequest, next: crate::middleware::Next| {
                sessions.clone().serve(req, next)
            },
        ));
        self
    }

    /// Keep rate-limit counts in `setup`'s store (in the process unless set; Redis to
    /// share them between instances). See [`rate_limit`](crate::rate_limit).
    pub fn rate_limits(mut self, setup: crate::rate_limit::RateLimits) -> Self {
        self.rate_limits = setup;
        self
    }

    /// Limit how often a client may call each operation of the app, each counting on
    /// its own (slowapi's `default_limits`); see [`Router::rate_limit`](crate::Router::rate_limit).
    pub fn rate_limit(mut self, limit: crate::rate_limit::RateLimit) -> Self {
        self.root = self.root.rate_limit(limit);
        self
    }

    /// Keep durable jobs in `queue` (cargo feature `jobs`); this process runs the
    /// jobs registered with [`App::job`] unless the queue says
    /// [`without_workers`](crate::jobs::Queue::without_workers). The app connects to
    /// the queue when it starts. See [`jobs`](crate::jobs).
    #[cfg(feature = "jobs")]
    pub fn jobs(mut self, queue: crate::jobs::Queue) -> Self {
        self.jobs.queue(queue);
        self
    }

    /// Queue `job` with `args` at each tick of `schedule`, a crontab expression in UTC:
    /// five fields (`"*/5 * * * *"`: minute, hour, day of month, month, day of week) or
    /// six with seconds first. Every instance running workers keeps the schedule, and
    /// each tick's job runs once among them (the tick is its idempotency key); a tick
    /// missed while no instance ran is not made up. The job must be registered too.
    #[cfg(feature = "jobs")]
    pub fn schedule<A, J>(mut self, job: J, schedule: &str, args: A) -> Self
    where
        A: serde::Serialize,
        J: FnOnce() -> crate::jobs::Job<A>,
    {
        self.jobs.schedule(job(), schedule, &args);
        self
    }

    /// Register a `#[job]`: only registered jobs can be queued, and this app's
    /// workers run them.
    #[cfg(feature = "jobs")]
    pub fn job<A, J>(mut self, job: J) -> Self
    where
        A: serde::Serialize + serde::de::DeserializeOwned + Send + 'static,
        J: FnOnce() -> crate::jobs::Job<A>,
    {
        self.jobs.add(job());
        self
    }

    /// Run `hook` at shutdown, after the last request and background task; hooks run in
    /// reverse order of adding.
    pub fn on_shutdown<F, Fut>(mut self, hook: F) -> Self
    where
        F: FnOnce(crate::app::AppState) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.shutdown.push(crate::lifespan::shutdown_hook(hook));
        self
    }

    /// Make app-scoped dependency `D` when the app starts ([`App::start`], which
    /// [`Server::serve`](crate::Server::serve) and the test client call) instead of on
    /// the first request that needs it: a bad configuration then stops the app from
    /// starting, with the reason, rather than answering 500 to its first request.
    /// Overrides apply, so a test can still swap it.
    ///
    /// ```
    /// use hasten::prelude::*;
    ///
    /// struct Pool { url: String }
    ///
    /// #[dependency(scope = "app")]
    /// async fn pool() -> Result<Pool, HttpError> {
    ///     let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://memory".into());
    ///     if !url.contains("://") {
    ///         return Err(HttpError::new(hasten::StatusCode::SERVICE_UNAVAILABLE, "DATABASE_URL is not a URL"));
    ///     }
    ///     Ok(Pool { url })
    /// }
    ///
    /// #[get("/db")]
    /// async fn db(pool: Depends<pool>) -> String {
    ///     pool.url.clone()
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// // `pool` is made here, before any request; an `Err` would be the start's error.
    /// let service = App::new().route(db).eager::<pool>().start().await.unwrap();
    /// # let _ = service;
    /// # }
    /// ```
    pub fn eager<D: crate::depends::Dependency>(mut self) -> Self {
        let eager = crate::depends::Eager::of::<D>();
        if !eager.app_scoped {
            self.problems.push(format!(
                "`App::eager::<{}>()`: only an app-scoped dependency \
                 (`#[dependency(scope = \"app\")]`) can be made at startup",
                eager.name
            ));
        } else {
            self.eager.push(eager);
        }
        self
    }

    /// Give each request an ID: the client's `X-Request-ID` when it is sane, else a new
    /// one; it is sent back in `X-Request-ID`, given to handlers as
    /// [`RequestId`](crate::request_id::RequestId), and recorded (with the method, the
    /// route template and the status) on a `request` tracing span around the request,
    /// so each log line the request causes carries it, as does the access log.
    pub fn request_ids(mut self) -> Self {
        self.request_ids = true;
        self
    }

    /// Trace each request: a `request` span (method, route template, status, and the
    /// request ID with [`request_ids`](App::request_ids)) with a child span for
    /// validation, for each dependency made, for the handler, for each background task
    /// and for a WebSocket's life; the [`trace`](crate::trace) module lists them. Off by
    /// default: an untraced app makes no spans. With the `otel` feature they are
    /// exported over OTLP (`hasten::otel`), and an incoming W3C `traceparent`
    /// is honoured.
    pub fn tracing(self) -> Self {
        self.tracing_ratio(1.0)
    }

    /// Trace a share of the requests, as [`tracing`](App::tracing) traces all: 0.1
    /// traces one request in ten. A request whose caller sends a W3C `traceparent` is
    /// traced when the caller sampled it, whatever the ratio, so a trace that crosses
    /// services stays whole. An untraced request makes no spans (beyond the request
    /// span [`request_ids`](App::request_ids) gives it for its log lines).
    pub fn tracing_ratio(mut self, ratio: f64) -> Self {
        self.traces = Some(ratio);
        self
    }

    /// Serve metrics in Prometheus' text format at `path` (`/metrics`, say): request
    /// counts, durations and sizes by route template, requests in flight, open
    /// connections against the cap, WebSockets and their messages, background-task
    /// outcomes and the blocking pool's use; the [`metrics`](crate::metrics) module lists
    /// them. Outside the OpenAPI document. Cargo feature `metrics`.
    ///
    /// ```
    /// use hasten::prelude::*;
    ///
    /// let app = App::new().metrics("/metrics");
    /// # let _ = app;
    /// ```
    #[cfg(feature = "metrics")]
    pub fn metrics(mut self, path: &str) -> Self {
        self.probes.metrics = Some(path.to_owned());
        self
    }

    /// Serve a liveness probe at `path` (`/health`, say): `200 {"status": "ok"}` to a
    /// GET or HEAD while the process serves at all. Outside the OpenAPI document.
    pub fn health(mut self, path: &str) -> Self {
        self.probes.health = Some(path.to_owned());
        self
    }

    /// Serve a readiness probe at `path` (`/ready`, say): `200 {"status": "ready",
    /// "checks": {…}}` when every check declared with [`ready_when`](App::ready_when)
    /// passes, `503 {"status": "unavailable", "checks": {…}}` naming each failure
    /// otherwise, and `503 {"status": "draining"}` once the server is shutting down
    /// (see [`Server::drain_delay`](crate::Server::drain_delay)). Outside the OpenAPI
    /// document.
    ///
    /// ```
    /// use hasten::prelude::*;
    ///
    /// struct Pool { url: String }
    ///
    /// #[dependency(scope = "app")]
    /// async fn pool() -> Pool {
    ///     Pool { url: "sqlite://memory".into() }
    /// }
    ///
    /// let app = App::new()
    ///     .health("/health")
    ///     .readiness("/ready")
    ///     // Ready when the pool answers; a failure names `pool` and says why.
    ///     .ready_when::<pool, _, _, _>(|pool| async move {
    ///         if pool.url.is_empty() { Err("no database URL") } else { Ok(()) }
    ///     });
    /// # let _ = app.build().unwrap();
    /// ```
    pub fn readiness(mut self, path: &str) -> Self {
        self.probes.ready = Some(path.to_owned());
        self
    }

    /// A readiness check on app-scoped dependency `D`: the readiness probe makes `D`
    /// (if no request has yet) and runs `check` on its value; an `Err` (its message), a
    /// failure to make `D` or a check slower than
    /// [`readiness_timeout`](App::readiness_timeout) makes the app not ready.
    pub fn ready_when<D, F, Fut, E>(mut self, check: F) -> Self
    where
        D: crate::depends::Dependency,
        F: Fn(std::sync::Arc<D::Output>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: fmt::Display,
    {
        if !D::APP_SCOPED {
            self.problems.push(format!(
                "`App::ready_when::<{}>`: readiness checks an app-scoped dependency \
                 (`#[dependency(scope = \"app\")]`)",
                std::any::type_name::<D>()
            ));
        }
        self.probes
            .checks
            .push(crate::health::ReadyCheck::of::<D, F, Fut, E>(check));
        self
    }

    /// How long one readiness check may take before it counts as failed (default 5 s).
    pub fn readiness_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.probes.timeout = timeout;
        self
    }

    /// Run the startup hooks, build the app (see [`App::build`]), then make the
    /// dependencies marked [`eager`](App::eager); every failure is reported at once.
    pub async fn start(mut self) -> Result<AppService, BuildError> {
        let mut problems = Vec::new();
        for load in std::mem::take(&mut self.settings) {
            if let Err(found) = load(&mut self.state) {
                problems.push(format!(
                    "the settings are invalid:\n    {}",
                    found.join("\n    ")
                ));
            }
        }
        if !problems.is_empty() {
            return Err(BuildError::at_start(problems));
        }
        let hooks = std::mem::take(&mut self.startup);
        if let Err(e) = crate::lifespan::run_startup(hooks, &mut self.state).await {
            return Err(BuildError::at_start(vec![e]));
        }
        #[cfg(feature = "jobs")]
        if let Err(e) = self.jobs.connect().await {
            return Err(BuildError::at_start(vec![e]));
        }
        let eager = std::mem::take(&mut self.eager);
        let service = self.build()?;
        let mut problems = Vec::new();
        for dependency in &eager {
            if let Err(why) = dependency.make(service.dispatcher.runtime().clone()).await {
                problems.push(why);
            }
        }
        if !problems.is_empty() {
            // What did start is stopped: shutdown hooks, and the cleanups of the
            // dependencies that were made (a pool opened before another failed).
            service.shutdown().await;
            return Err(BuildError::at_start(problems));
        }
        #[cfg(feature = "jobs")]
        service.built.jobs.start(service.dispatcher.runtime());
        Ok(service)
    }

    /// Run dependency `D` for its side effect (a token check, say) before every
    /// operation of the app; its errors join each operation's 422.
    pub fn dependency<D: crate::depends::Dependency>(mut self) -> Self {
        self.root = self.root.dependency::<D>();
        self
    }

    /// Resolve `Replacement` wherever `Original` is used — by operations and inside
    /// other dependencies — without touching the application code. For tests.
    ///
    /// ```
    /// use hasten::prelude::*;
    ///
    /// #[dependency]
    /// async fn database_url() -> String { "postgres://prod".to_owned() }
    ///
    /// #[dependency]
    /// async fn fake_database_url() -> String { "sqlite://memory".to_owned() }
    ///
    /// #[get("/db")]
    /// async fn db(url: Depends<database_url>) -> String { url.to_string() }
    ///
    /// let app = App::new().route(db).override_dependency::<database_url, fake_database_url>();
    /// # let _ = app.build().unwrap();
    /// ```
    pub fn override_dependency<Original, Replacement>(mut self) -> Self
    where
        Original: crate::depends::Dependency,
        Replacement: crate::depends::Dependency<Output = Original::Output>,
    {
        self.overrides.insert(
            TypeId::of::<Original>(),
            crate::depends::resolve_erased::<Replacement>,
        );
        self
    }

    /// Serve another app, or any tower `Service`, under `prefix`: it sees the path with
    /// the prefix removed (`/v2/items` → `/items`). The routes of this app take
    /// precedence; the longest matching prefix wins among mounts.
    ///
    /// ```
    /// use hasten::prelude::*;
    ///
    /// #[get("/items")]
    /// async fn items_v2() -> &'static str { "v2" }
    ///
    /// # fn main() -> Result<(), hasten::app::BuildError> {
    /// let v2 = App::new().route(items_v2).build()?;
    /// let app = App::new().mount("/v2", v2); // GET /v2/items -> "v2"
    /// # let _ = app.build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn mount<S: crate::middleware::HttpService>(
        mut self,
        prefix: impl Into<String>,
        service: S,
    ) -> Self {
        let prefix = prefix.into();
        if !prefix.starts_with('/') || prefix.ends_with('/') {
            self.problems.push(format!(
                "mount prefix `{prefix}` must start with `/` and not end with `/`"
            ));
        }
        if self.mounts.iter().any(|m| m.prefix == prefix) {
            self.problems
                .push(format!("two services are mounted at `{prefix}`"));
        }
        self.mounts.push(crate::mount::Mount::new(prefix, service));
        // Longest prefix first.
        self.mounts
            .sort_by_key(|m| std::cmp::Reverse(m.prefix.len()));
        self
    }

    /// Include a [`Router`](crate::Router): its operations, with its prefix and tags.
    pub fn include(mut self, router: crate::Router) -> Self {
        self.root = self.root.include(router);
        self
    }

    /// Read settings struct `T` when the app starts ([`App::start`]) from where
    /// `settings` says (environment variables, a `.env` file), validated as a request
    /// body is, and keep it as app state ([`State<T>`](crate::State)). Every problem
    /// (a missing variable, a value of the wrong type, a broken constraint) stops the
    /// start, all reported at once. A `T` already given with [`App::state`] is kept
    /// instead, which is how a test replaces it. See [`settings`](crate::settings).
    pub fn settings<T>(mut self, settings: crate::settings::Settings) -> Self
    where
        T: serde::de::DeserializeOwned + schemars::JsonSchema + Send + Sync + 'static,
    {
        self.promised.push(TypeId::of::<T>());
        self.settings.push(Box::new(move |state: &mut TypeMap| {
            if state.contains(&TypeId::of::<T>()) {
                return Ok(());
            }
            let value = settings.load::<T>()?;
            state.insert_erased(TypeId::of::<T>(), Arc::new(value));
            Ok(())
        }));
        self
    }

    /// Share a value with every request; handlers take it as [`State<T>`](crate::State).
    pub fn state<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        self.state.insert_erased(TypeId::of::<T>(), Arc::new(value));
        self
    }

    /// Share a value that is already in an `Arc` (keep a handle to it outside the app).
    pub fn state_arc<T: Send + Sync + 'static>(mut self, value: Arc<T>) -> Self {
        self.state.insert_erased(TypeId::of::<T>(), value);
        self
    }

    /// The largest request body accepted, in bytes (default 1 MiB). A larger body gets
    /// 413 "Content Too Large" without being read.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.limits.body = bytes;
        self
    }

    /// The most validation errors one 422 lists (default
    /// [`DEFAULT_MAX_ERRORS`](crate::validation::DEFAULT_MAX_ERRORS), 100); past it the
    /// list ends with a `too_many_errors` entry and validation stops, so one request's
    /// errors cost bounded time and memory.
    pub fn max_validation_errors(mut self, n: usize) -> Self {
        self.limits.max_errors = n.max(1);
        self
    }

    /// How many plain (non-async) handlers may run at once on the blocking pool
    /// (default 40, like FastAPI's thread pool).
    pub fn blocking_threads(mut self, n: usize) -> Self {
        self.limits.blocking_threads = n.max(1);
        self
    }

    /// Redirect (307) `/items` to `/items/` and back when only the other exists
    /// (default on, like FastAPI).
    pub fn redirect_slashes(mut self, on: bool) -> Self {
        self.redirect_slashes = on;
        self
    }

    /// Replace the 422 response for invalid input.
    ///
    /// ```
    /// use hasten::{App, Json, StatusCode, IntoResponse};
    /// let app = App::new().on_validation_error(|err, _ctx| {
    ///     (StatusCode::BAD_REQUEST, Json(serde_json::json!({ "errors": err.errors().len() })))
    ///         .into_response()
    /// });
    /// ```
    pub fn on_validation_error<F>(mut self, f: F) -> Self
    where
        F: Fn(&RequestValidationError, &ErrorContext) -> Response + Send + Sync + 'static,
    {
        self.handlers.validation = Some(Arc::new(f));
        self
    }

    /// Replace the answer to invalid input, and say so in the document: every operation
    /// that takes input documents `status` with `T`'s schema instead of FastAPI's 422
    /// `HTTPValidationError` (which FastAPI keeps documenting whatever its handler
    /// answers, fastapi#1376). `f` renders the answer, as with
    /// [`on_validation_error`](Self::on_validation_error).
    ///
    /// ```
    /// use hasten::prelude::*;
    ///
    /// /// Our error body.
    /// #[derive(Serialize, JsonSchema)]
    /// struct BadInput { message: String, fields: Vec<String> }
    ///
    /// let app = App::new().on_validation_error_documented::<BadInput, _>(
    ///     StatusCode::BAD_REQUEST,
    ///     "The input is invalid",
    ///     |errors, _ctx| {
    ///         let fields = errors.errors().iter().map(|e| format!("{:?}", e.loc)).collect();
    ///         let body = BadInput { message: "invalid input".into(), fields };
    ///         (StatusCode::BAD_REQUEST, Json(body)).into_response()
    ///     },
    /// );
    /// # let _ = app;
    /// ```
    pub fn on_validation_error_documented<T, F>(
        mut self,
        status: StatusCode,
        description: impl Into<String>,
        f: F,
    ) -> Self
    where
        T: schemars::JsonSchema + 'static,
        F: Fn(&RequestValidationError, &ErrorContext) -> Response + Send + Sync + 'static,
    {
        self.info.validation_response = Some(crate::openapi::ValidationResponse {
            status: status.as_u16(),
            description: description.into(),
            content_type: crate::response::APPLICATION_JSON,
            schema: crate::openapi::SchemaDoc::of::<T>(),
        });
        self.on_validation_error(f)
    }

    /// Answer errors as RFC 9457 problem details (`application/problem+json`), and
    /// document them so: invalid input is a 422 [`ProblemDetails`](crate::responses::ProblemDetails)
    /// whose `errors` are FastAPI's validation errors, and every [`HttpError`] a problem
    /// with its status, reason phrase and detail.
    ///
    /// ```
    /// use hasten::App;
    ///
    /// let app = App::new().problem_details();
    /// # let _ = app;
    /// ```
    pub fn problem_details(mut self) -> Self {
        self.info.validation_response = Some(crate::openapi::ValidationResponse {
            status: 422,
            description: "Validation Error".into(),
            content_type: crate::problem::PROBLEM_JSON,
            schema: crate::openapi::SchemaDoc::of::<crate::responses::ProblemDetails>(),
        });
        self.info.error_body = Some((
            crate::problem::PROBLEM_JSON,
            crate::openapi::SchemaDoc::of::<crate::responses::ProblemDetails>(),
        ));
        self.on_validation_error(crate::problem::validation)
            .on_http_error(crate::problem::http)
    }

    /// Replace the rendering of every [`HttpError`], and say so in the document: the
    /// error statuses it documents (the 400 and 401 of
    /// [`DocStyle::complete_statuses`](crate::openapi::DocStyle::complete_statuses)) show `T`'s
    /// schema instead of FastAPI's `{"detail": …}`. `f` renders, as with
    /// [`on_http_error`](Self::on_http_error).
    pub fn on_http_error_documented<T, F>(mut self, f: F) -> Self
    where
        T: schemars::JsonSchema + 'static,
        F: Fn(&HttpError, &ErrorContext) -> Response + Send + Sync + 'static,
    {
        self.info.error_body = Some((
            crate::response::APPLICATION_JSON,
            crate::openapi::SchemaDoc::of::<T>(),
        ));
        self.on_http_error(f)
    }

    /// Replace the rendering of every [`HttpError`]: those returned by handlers and the
    /// framework's own (404, 405, 413).
    pub fn on_http_error<F>(mut self, f: F) -> Self
    where
        F: Fn(&HttpError, &ErrorContext) -> Response + Send + Sync + 'static,
    {
        self.handlers.http = Some(Arc::new(f));
        self
    }

    /// Answer every [`Error`](crate::Error) of type `E` a handler or a dependency
    /// returns (FastAPI's `@app.exception_handler(E)`). A router's handler for the type
    /// comes first ([`Router::on_error`](crate::Router::on_error)); an error no handler
    /// takes is logged and answered 500. [`HttpError::default_response`] and
    /// [`RequestValidationError::default_response`] are the default renderings, to fall
    /// back on.
    pub fn on_error<E, F>(mut self, f: F) -> Self
    where
        E: std::error::Error + Send + Sync + 'static,
        F: Fn(&E, &ErrorContext) -> Response + Send + Sync + 'static,
    {
        self.root = self.root.on_error(f);
        self
    }

    /// Replace the 500 sent when a handler panics (the panic is logged either way).
    pub fn on_panic<F>(mut self, f: F) -> Self
    where
        F: Fn(&ErrorContext) -> Response + Send + Sync + 'static,
    {
        self.handlers.panic = Some(Arc::new(f));
        self
    }

    /// The operations added so far.
    pub fn operations(&self) -> &[Operation] {
        self.root.operations()
    }

    /// The app's OpenAPI document, without serving it: its startup hooks are not run
    /// (the document does not depend on them), so this works for any app — to print
    /// the document, or to compare it in a test. Errors are those of
    /// [`build`](Self::build).
    pub fn openapi_document(mut self) -> Result<serde_json::Value, BuildError> {
        self.startup.clear();
        self.settings.clear();
        self.eager.clear();
        #[cfg(feature = "jobs")]
        self.jobs.document_only();
        Ok(self.build()?.openapi().clone())
    }

    /// Check the whole app and build the service that serves it. Every problem found
    /// (conflicting routes, a state no one provided, a bad pattern) is reported at once.
    #[cfg_attr(not(feature = "jobs"), allow(unused_mut))]
    pub fn build(mut self) -> Result<AppService, BuildError> {
        let (operations, root_problems) = self.root.into_operations();
        let mut problems = self.problems;
        problems.extend(root_problems);
        #[cfg(feature = "metrics")]
        let metrics = self
            .probes
            .metrics
            .is_some()
            .then(|| Arc::new(crate::metrics::Metrics::new()));
        #[cfg(feature = "jobs")]
        let jobs_life = {
            problems.extend(self.jobs.problems());
            if self.jobs.has_queue() {
                self.promised.push(TypeId::of::<crate::jobs::Jobs>());
            }
            let meter = crate::jobs::Meter {
                #[cfg(feature = "metrics")]
                metrics: metrics.clone(),
            };
            let (jobs, life) = std::mem::take(&mut self.jobs).finish(meter);
            if let Some(jobs) = jobs {
                self.state
                    .insert_erased(TypeId::of::<crate::jobs::Jobs>(), Arc::new(jobs));
            }
            life
        };
        if !self.startup.is_empty() {
            problems.push(
                "the app has startup hooks: start it with `App::start().await` \
                 (`Server::serve` and `TestClient::start` do)"
                    .to_owned(),
            );
        }
        if !self.settings.is_empty() {
            problems.push(
                "the app reads settings at start (`App::settings`): start it with \
                 `App::start().await` (`Server::serve` and `TestClient::start` do)"
                    .to_owned(),
            );
        }
        if !self.eager.is_empty() {
            problems.push(
                "the app makes dependencies at startup (`App::eager`): start it with \
                 `App::start().await` (`Server::serve` and `TestClient::start` do)"
                    .to_owned(),
            );
        }
        let mut routes = Routes::default();
        let mut rate_limits = self.rate_limits.binder();
        let mut client_addrs = false;
        for mut op in operations {
            op.seal_layers();
            client_addrs |= op.is_rate_limited();
            if let Err(e) = op.seal_rate_limits(&mut rate_limits) {
                problems.push(format!("`{}`: {e}", op.meta.fn_name));
            }
            for spec in op.params {
                if let Err(e) = spec.validate() {
                    problems.push(format!("`{}`: {e}", op.meta.fn_name));
                }
                let wire = spec.wire_name(crate::extract::Source::Path);
                if spec.source == Some(crate::extract::Source::Path)
                    && !op.doc.path_params.iter().any(|n| *n == wire)
                {
                    problems.push(format!(
                        "`{}`: `{wire}` is marked #[path] but the path `{}` has no `{{{wire}}}`",
                        op.meta.fn_name, op.path
                    ));
                }
            }
            let checks = op.doc.body.iter().map(|b| b.check);
            for check in checks.chain(op.doc.embedded.iter().map(|e| e.check)) {
                if let Err(e) = check() {
                    problems.push(format!("`{}`: the request body {e}", op.meta.fn_name));
                }
            }
            for (ty, name) in &op.doc.checks.required_state {
                #[cfg(feature = "jobs")]
                if *ty == TypeId::of::<crate::jobs::Jobs>()
                    && !self.state.contains(ty)
                    && !self.promised.contains(ty)
                {
                    problems.push(format!(
                        "`{}` takes `Jobs` but the app has no job queue; add one with \
                         `App::jobs(Queue::sqlite(\"sqlite://jobs.sqlite\"))`",
                        op.meta.fn_name
                    ));
                    continue;
                }
                if *ty == TypeId::of::<crate::sessions::Sessions>() && !self.state.contains(ty) {
                    problems.push(format!(
                        "`{}` takes a `Session` but the app keeps no sessions; add them with \
                         `App::sessions(Sessions::in_process())`",
                        op.meta.fn_name
                    ));
                    continue;
                }
                if !self.state.contains(ty) && !self.promised.contains(ty) {
                    problems.push(format!(
                        "`{}` takes `State<{name}>` but the app has no such state; add it with `App::state`",
                        op.meta.fn_name
                    ));
                }
            }
            if let Err(e) = routes.add(op) {
                problems.push(e);
            }
        }
        for (what, path) in [
            ("health", &self.probes.health),
            ("readiness", &self.probes.ready),
            ("metrics", &self.probes.metrics),
        ] {
            let Some(path) = path else { continue };
            if !path.starts_with('/') {
                problems.push(format!("the {what} path `{path}` must start with `/`"));
            } else if routes.has_path(path) {
                problems.push(format!("the {what} path `{path}` is also an operation's"));
            }
        }
        if self.probes.ready.is_none() && !self.probes.checks.is_empty() {
            problems.push(
                "readiness checks were declared (`App::ready_when`) but no readiness \
                 probe serves them: add `App::readiness(\"/ready\")`"
                    .to_owned(),
            );
        }
        if !problems.is_empty() {
            return Err(BuildError {
                problems,
                starting: false,
            });
        }
        let openapi = crate::openapi::document(&routes.operations(), &self.info);
        let docs = crate::docs_ui::files(&self.info.title, &openapi, &self.docs);
        let mut slots = Slots::default();
        slots.insert(crate::depends::AppScope::new(self.overrides));
        #[cfg(feature = "metrics")]
        if let Some(metrics) = metrics {
            slots.insert(metrics);
        }
        let (probes, readiness) = self.probes.split();
        slots.insert(readiness);
        let rt = Arc::new(Runtime::new(self.state, self.limits, self.handlers, slots));
        let options = crate::pipeline::Options {
            redirect_slashes: self.redirect_slashes,
            request_ids: self.request_ids,
            traces: self.traces.map(crate::trace::Sampling::ratio),
            client_addrs,
        };
        let dispatcher =
            Dispatcher::new(routes, self.mounts, docs, probes, options, &self.layers, rt);
        Ok(AppService {
            dispatcher,
            built: Arc::new(Built {
                info: self.info,
                openapi,
                shutdown_hooks: std::sync::Mutex::new(self.shutdown),
                #[cfg(feature = "jobs")]
                jobs: jobs_life,
            }),
        })
    }
}

/// Reads a settings struct into the app's state (`App::settings`).
type SettingsLoader = Box<dyn FnOnce(&mut TypeMap) -> Result<(), Vec<String>> + Send>;

/// Everything wrong with an app, found when it was built.
#[derive(Debug, Clone)]
pub struct BuildError {
    problems: Vec<String>,
    /// Found while starting (settings, startup hooks, eager dependencies), not while
    /// checking the app.
    starting: bool,
}

impl BuildError {
    fn at_start(problems: Vec<String>) -> Self {
        BuildError {
            problems,
            starting: true,
        }
    }

    /// Each problem, as a sentence.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.starting {
            write!(f, "the app cannot start:")?;
        } else {
            write!(f, "the app cannot be built:")?;
        }
        for p in &self.problems {
            write!(f, "\n  - {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for BuildError {}

/// A built app: a cheap-to-clone [`tower_service::Service`] over HTTP requests.
#[derive(Clone)]
pub struct AppService {
    pub(crate) dispatcher: Arc<Dispatcher>,
    built: Arc<Built>,
}

/// What a built app keeps beside its dispatch.
struct Built {
    info: crate::openapi::DocInfo,
    /// The OpenAPI document, built with the app.
    openapi: serde_json::Value,
    /// Taken once, at shutdown.
    shutdown_hooks: std::sync::Mutex<Vec<crate::lifespan::ShutdownHook>>,
    /// The job workers, started with the app and drained before its shutdown hooks.
    #[cfg(feature = "jobs")]
    jobs: crate::jobs::Life,
}

impl fmt::Debug for AppService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppService")
            .field("title", &self.built.info.title)
            .field("dispatch", &self.dispatcher)
            .finish_non_exhaustive()
    }
}

impl AppService {
    /// Serve one request (through the app's middleware).
    pub fn handle(
        &self,
        req: http::Request<RequestBody>,
    ) -> impl Future<Output = Response> + Send + 'static {
        self.dispatcher.handle(req)
    }

    /// The API title, version and description.
    pub fn info(&self) -> (&str, &str, Option<&str>) {
        (
            &self.built.info.title,
            &self.built.info.version,
            self.built.info.description.as_deref(),
        )
    }

    /// The OpenAPI 3.1 document, as built with the app (served at `/openapi.json`
    /// unless turned off).
    pub fn openapi(&self) -> &serde_json::Value {
        &self.built.openapi
    }

    /// Every operation, in the order added.
    pub fn operations(&self) -> Vec<&Operation> {
        self.dispatcher.operations()
    }

    /// The app's job queue, to enqueue from outside a request (a script, a startup
    /// task): `None` without [`App::jobs`].
    #[cfg(feature = "jobs")]
    pub fn jobs(&self) -> Option<crate::jobs::Jobs> {
        self.dispatcher
            .runtime()
            .state
            .get::<crate::jobs::Jobs>()
            .map(|jobs| (*jobs).clone())
    }

    /// Drain the job workers, run the shutdown hooks (last added first), then the
    /// cleanups of app-scoped dependencies. Runs once; later calls do nothing. The server calls it after
    /// graceful shutdown.
    pub async fn shutdown(&self) {
        #[cfg(feature = "jobs")]
        self.built.jobs.drain().await;
        let hooks = self
            .built
            .shutdown_hooks
            .lock()
            .map(|mut h| std::mem::take(&mut *h))
            .unwrap_or_default();
        for hook in hooks.into_iter().rev() {
            let state = crate::app::AppState {
                map: self.dispatcher.runtime().state.clone(),
            };
            if let Err(e) = tokio::spawn(hook(state)).await {
                tracing::error!(target: "hasten::server", error = %e, "shutdown hook failed");
            }
        }
        crate::depends::shut_down(self.dispatcher.runtime()).await;
    }
}

impl<B> tower_service::Service<http::Request<B>> for AppService
where
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<crate::body::BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<Result<Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let req = req.map(RequestBody::new);
        let fut = self.dispatcher.handle(req);
        Box::pin(async move { Ok(fut.await) })
    }
}
