//! [`Router`]: a group of path operations with a common prefix and tags, included into
//! an [`App`](crate::App) or into another router — FastAPI's `APIRouter`.

use crate::operation::{Endpoint, Operation};

/// A group of path operations sharing a path prefix and tags.
///
/// ```
/// use hasten::prelude::*;
///
/// #[get("/")]
/// async fn list_users() -> &'static str { "users" }
///
/// #[get("/{user_id}")]
/// async fn read_user(user_id: u32) -> String { user_id.to_string() }
///
/// let users = Router::new().prefix("/users").tag("users").route(list_users).route(read_user);
/// let app = App::new().include(Router::new().prefix("/api/v1").include(users));
/// // GET /api/v1/users/ and GET /api/v1/users/{user_id}, tagged "users"
/// # let _ = app.build().unwrap();
/// ```
#[derive(Debug, Default)]
pub struct Router {
    prefix: String,
    tags: Vec<String>,
    attached: Vec<crate::depends::AttachedDependency>,
    status: Option<u16>,
    responses: Vec<crate::openapi::ExtraResponse>,
    operations: Vec<Operation>,
    problems: Vec<String>,
    layers: crate::middleware::Layers,
    error_handlers: crate::raise::Handlers,
    rate_limits: Vec<crate::rate_limit::RateLimit>,
}

impl Router {
    /// An empty router with no prefix.
    pub fn new() -> Self {
        Router::default()
    }

    /// The path prefix of every operation: starts with `/`, does not end with one (as in
    /// FastAPI; a bad prefix is reported when the app is built). It may hold path
    /// parameters: `/users/{user_id}`.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        if !prefix.is_empty() && (!prefix.starts_with('/') || prefix.ends_with('/')) {
            self.problems.push(format!(
                "router prefix `{prefix}` must start with `/` and not end with `/`"
            ));
        }
        self.prefix = prefix;
        self
    }

    /// Add a tag to every operation (before the operation's own tags).
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// Run dependency `D` for its side effect before every operation of this router
    /// (and of routers included into it); its errors join each operation's 422.
    pub fn dependency<D: crate::depends::Dependency>(mut self) -> Self {
        self.attached
            .push(crate::depends::AttachedDependency::of::<D>());
        self
    }

    /// Wrap every operation of this router (and of routers included into it) in a
    /// tower layer; it runs after routing, outside the operations' own layers.
    pub fn layer<L: crate::middleware::HttpLayer>(mut self, layer: L) -> Self {
        self.layers.0.push(crate::middleware::wrap_layer(layer));
        self
    }

    /// Wrap every operation of this router in an async function
    /// `(request, next) -> response` (see [`App::middleware`](crate::App::middleware)).
    pub fn middleware<F, Fut, R>(mut self, f: F) -> Self
    where
        F: Fn(crate::middleware::HttpRequest, crate::middleware::Next) -> Fut
            + Send
            + Sync
            + 'static,
        Fut: std::future::Future<Output = R> + Send + 'static,
        R: crate::IntoResponse,
    {
        self.layers.0.push(crate::middleware::wrap_fn(f));
        self
    }

    /// Limit how often a client may call each operation of this router (and of routers
    /// included into it); each operation counts on its own unless the limit has a
    /// [`scope`](crate::rate_limit::RateLimit::scope). See [`rate_limit`](crate::rate_limit).
    pub fn rate_limit(mut self, limit: crate::rate_limit::RateLimit) -> Self {
        self.rate_limits.push(limit);
        self
    }

    /// The status of a successful response for operations that set none themselves.
    pub fn default_status(mut self, status: http::StatusCode) -> Self {
        self.status = Some(status.as_u16());
        self
    }

    /// Document a response every operation may give (for the OpenAPI document); an
    /// operation's own entry for the same status wins.
    pub fn response(mut self, status: http::StatusCode, description: impl Into<String>) -> Self {
        self.responses.push(crate::openapi::ExtraResponse {
            status: status.as_u16(),
            description: description.into(),
            schema: None,
        });
        self
    }

    /// Like [`response`](Router::response), with the body's model.
    pub fn response_model<T: schemars::JsonSchema + 'static>(
        mut self,
        status: http::StatusCode,
        description: impl Into<String>,
    ) -> Self {
        self.responses.push(crate::openapi::ExtraResponse {
            status: status.as_u16(),
            description: description.into(),
            schema: Some(crate::openapi::SchemaDoc::of::<T>()),
        });
        self
    }

    /// Answer every [`Error`](crate::Error) of type `E` returned by this router's
    /// operations (and their dependencies) with `f`, before the app's handlers and
    /// those of routers this one is included in. FastAPI has no router-level exception
    /// handlers (fastapi#1667); this is one.
    ///
    /// ```
    /// use hasten::prelude::*;
    ///
    /// #[derive(Debug)]
    /// struct Locked;
    /// impl std::fmt::Display for Locked {
    ///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    ///         f.write_str("the account is locked")
    ///     }
    /// }
    /// impl std::error::Error for Locked {}
    ///
    /// #[get("/me")]
    /// async fn me() -> Result<String, hasten::Error> {
    ///     Err(Locked.into())
    /// }
    ///
    /// let accounts = Router::new()
    ///     .prefix("/accounts")
    ///     .on_error(|e: &Locked, _ctx| HttpError::new(StatusCode::LOCKED, e.to_string()).into_response())
    ///     .route(me);
    /// # let _ = App::new().include(accounts).build().unwrap();
    /// ```
    pub fn on_error<E, F>(mut self, f: F) -> Self
    where
        E: std::error::Error + Send + Sync + 'static,
        F: Fn(&E, &crate::runtime::ErrorContext) -> crate::Response + Send + Sync + 'static,
    {
        self.error_handlers.0.push(crate::raise::handler(f));
        self
    }

    /// Add a path operation.
    pub fn route(mut self, endpoint: impl Endpoint) -> Self {
        self.operations.push(endpoint.operation());
        self
    }

    /// Include another router: its operations get its prefix and tags, then this one's.
    ///
    /// For settings that apply to one inclusion only (FastAPI's
    /// `include_router(router, prefix=…, dependencies=[…])`), wrap the router:
    /// `Router::new().prefix("/admin").dependency::<verify_admin>().include(router)`.
    pub fn include(mut self, router: Router) -> Self {
        let (ops, problems) = router.into_operations();
        self.operations.extend(ops);
        self.problems.extend(problems);
        self
    }

    /// The operations added so far, as added.
    pub(crate) fn operations(&self) -> &[Operation] {
        &self.operations
    }

    /// The operations with this router's prefix and tags applied, and any problem found.
    pub(crate) fn into_operations(self) -> (Vec<Operation>, Vec<String>) {
        let Router {
            prefix,
            tags,
            attached,
            status,
            responses,
            mut operations,
            problems,
            layers,
            error_handlers,
            rate_limits,
        } = self;
        for op in &mut operations {
            op.handle_errors(&error_handlers.0);
            op.nest(&prefix, &tags);
            op.attach(&attached);
            op.inherit(status, &responses);
            op.layers.extend(layers.0.iter().cloned());
            op.rate_limits.extend(rate_limits.iter().cloned());
        }
        (operations, problems)
    }
}
