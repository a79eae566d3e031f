//! Dependency injection: FastAPI's `Depends`.
//!
//! `#[dependency]` on a function makes it a dependency: its parameters are extracted
//! like an endpoint's (path, query, header, cookie, body, other dependencies), and their
//! errors join the endpoint's in the same 422. A handler (or another dependency) takes
//! it as [`Depends<D>`]. Within one request a dependency runs at most once, however
//! often it appears in the graph; [`Depends<D, NoCache>`](NoCache) runs it again.
//!
//! ```
//! use hasten::prelude::*;
//!
//! struct User {
//!     name: String,
//! }
//!
//! /// The caller, from the `x-token` header.
//! #[dependency]
//! async fn current_user(#[header] x_token: String) -> Result<User, HttpError> {
//!     if x_token != "secret" {
//!         return Err(HttpError::new(StatusCode::BAD_REQUEST, "X-Token header invalid"));
//!     }
//!     Ok(User { name: "ann".to_owned() })
//! }
//!
//! #[get("/me")]
//! async fn me(user: Depends<current_user>) -> String {
//!     user.name.clone()
//! }
//! # let _ = App::new().route(me).build().unwrap();
//! ```

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;
use tracing::Instrument as _;

use crate::extract::{Errors, Extracted, FromRequest, ParamSpec, RequestCtx};
use crate::openapi::model::OperationDoc;
use crate::runtime::Runtime;

/// A dependency: something resolved from the request, once per request by default.
/// `#[dependency]` implements it for a function; implement it by hand for a type (a
/// FastAPI "class dependency").
pub trait Dependency: Send + Sync + 'static {
    /// What the dependency provides.
    type Output: Send + Sync + 'static;

    /// Resolve once per app (on first use) instead of once per request; its cleanup
    /// runs at shutdown. `#[dependency(scope = "app")]` sets it.
    const APP_SCOPED: bool = false;

    /// Resolve it: extract its inputs (pushing their errors into `errors`) and compute
    /// the value. `None` means an error or a rejection was recorded.
    fn resolve(
        ctx: &mut RequestCtx,
        errors: &mut Errors,
    ) -> impl Future<Output = Option<Self::Output>> + Send;

    /// Describe its inputs (they become the operation's parameters).
    fn describe(doc: &mut OperationDoc) {
        let _ = doc;
    }
}

/// Whether a [`Depends`] may reuse the request's cached value.
pub trait CachePolicy: Send + Sync + 'static {
    /// Reuse a value already resolved in this request.
    const CACHED: bool;
}

/// Reuse the value resolved earlier in the request (the default).
#[derive(Debug, Clone, Copy)]
pub struct Cached;

/// Resolve the dependency again for this parameter (FastAPI's `use_cache=False`).
#[derive(Debug, Clone, Copy)]
pub struct NoCache;

impl CachePolicy for Cached {
    const CACHED: bool = true;
}

impl CachePolicy for NoCache {
    const CACHED: bool = false;
}

/// A resolved dependency. Dereferences to `D::Output`; the value is shared (an `Arc`)
/// with every other user of the same dependency in the request.
pub struct Depends<D: Dependency, C: CachePolicy = Cached> {
    value: Arc<D::Output>,
    _marker: PhantomData<fn() -> (D, C)>,
}

impl<D: Dependency, C: CachePolicy> Depends<D, C> {
    /// The shared value.
    pub fn into_inner(self) -> Arc<D::Output> {
        self.value
    }
}

impl<D: Dependency, C: CachePolicy> Clone for Depends<D, C> {
    fn clone(&self) -> Self {
        Depends {
            value: self.value.clone(),
            _marker: PhantomData,
        }
    }
}

impl<D: Dependency, C: CachePolicy> std::ops::Deref for Depends<D, C> {
    type Target = D::Output;
    fn deref(&self) -> &D::Output {
        &self.value
    }
}

impl<D: Dependency, C: CachePolicy> std::fmt::Debug for Depends<D, C>
where
    D::Output: std::fmt::Debug,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Depends").field(&self.value).finish()
    }
}

/// A resolved value, shared by every `Depends` on it.
type Shared = Arc<dyn Any + Send + Sync>;

/// Dependency injection's app-wide state, kept in the runtime's slot for it: the
/// overrides, app-scoped values (resolved on first use) and their cleanups.
#[derive(Default)]
pub(crate) struct AppScope {
    overrides: HashMap<TypeId, Resolver>,
    values: Mutex<HashMap<TypeId, Arc<OnceCell<Shared>>>>,
    /// The cleanups of app-scoped values, run at shutdown.
    cleanups: Mutex<Vec<CleanupEntry>>,
}

impl AppScope {
    pub(crate) fn new(overrides: HashMap<TypeId, Resolver>) -> Self {
        AppScope {
            overrides,
            ..AppScope::default()
        }
    }

    /// The replacement registered for dependency `id`, if any.
    fn replacement(rt: &Runtime, id: TypeId) -> Option<Resolver> {
        rt.slot::<AppScope>()?.overrides.get(&id).copied()
    }
}

/// Run the cleanups of app-scoped dependencies (at shutdown), once.
pub(crate) async fn shut_down(rt: &Runtime) {
    let cleanups = rt
        .slot::<AppScope>()
        .and_then(|scope| {
            scope
                .cleanups
                .lock()
                .ok()
                .map(|mut c| std::mem::take(&mut *c))
        })
        .unwrap_or_default();
    run_late_cleanups(cleanups, Outcome::Shutdown).await;
}

/// Resolve an app-scoped dependency once for the whole app; concurrent first requests
/// wait for the one resolving it. A failed resolution is not kept: the next request
/// tries again.
async fn app_scoped<D: Dependency>(
    ctx: &mut RequestCtx,
    errors: &mut Errors,
) -> Option<Arc<D::Output>> {
    let id = TypeId::of::<D>();
    let rt = ctx.rt.clone();
    let scope = rt.slot::<AppScope>()?;
    let cell = {
        let mut values = scope.values.lock().ok()?;
        values.entry(id).or_default().clone()
    };
    let shared = cell
        .get_or_try_init(|| async {
            let value: Arc<D::Output> = match scope.overrides.get(&id).copied() {
                Some(resolve) => resolve(ctx, errors)
                    .await
                    .ok_or(())?
                    .downcast::<D::Output>()
                    .map_err(|_| ())?,
                None => Arc::new(D::resolve(ctx, errors).await.ok_or(())?),
            };
            if let Some((_, cleanup)) = take_pending(ctx) {
                let shared = value.clone() as Arc<dyn Any + Send + Sync>;
                if let Ok(mut cleanups) = scope.cleanups.lock() {
                    cleanups.push(CleanupEntry {
                        scope: CleanupScope::AfterResponse,
                        run: Box::new(move |outcome| cleanup(shared, outcome)),
                    });
                }
            }
            Ok::<_, ()>(value as Arc<dyn Any + Send + Sync>)
        })
        .await
        .ok()?
        .clone();
    shared.downcast::<D::Output>().ok()
}

/// An app-scoped dependency to make when the app starts ([`App::eager`](crate::App::eager)).
pub(crate) struct Eager {
    /// The dependency's type, for messages.
    pub(crate) name: &'static str,
    /// Only an app-scoped dependency can be made before any request.
    pub(crate) app_scoped: bool,
    make: fn(Arc<Runtime>) -> crate::future::BoxFuture<Result<(), String>>,
}

impl Eager {
    /// The entry for dependency `D`.
    pub(crate) fn of<D: Dependency>() -> Self {
        Eager {
            name: std::any::type_name::<D>(),
            app_scoped: D::APP_SCOPED,
            make: make_eagerly::<D>,
        }
    }

    /// Make it now, in the started app: what went wrong, as a sentence, on failure.
    pub(crate) async fn make(&self, rt: Arc<Runtime>) -> Result<(), String> {
        (self.make)(rt).await.map_err(|why| {
            format!(
                "the app-scoped dependency `{}` failed at startup: {why}",
                self.name
            )
        })
    }
}

fn make_eagerly<D: Dependency>(rt: Arc<Runtime>) -> crate::future::BoxFuture<Result<(), String>> {
    Box::pin(async move { app_value::<D>(rt).await.map(|_| ()) })
}

/// The value of app-scoped `D`, made now outside any request if no request made it
/// yet, and kept for the requests to come (overrides apply, as they do for requests).
/// What went wrong, as a sentence, on failure.
pub(crate) async fn app_value<D: Dependency>(rt: Arc<Runtime>) -> Result<Arc<D::Output>, String> {
    use futures_util::FutureExt as _;
    let mut ctx = RequestCtx::detached(rt);
    let mut errors = Errors::for_request(&ctx);
    let made = std::panic::AssertUnwindSafe(app_scoped::<D>(&mut ctx, &mut errors))
        .catch_unwind()
        .await;
    match made {
        Ok(Some(value)) => Ok(value),
        Ok(None) => Err(failure(errors).await),
        Err(payload) => Err(format!(
            "it panicked: {}",
            crate::panics::panic_message(payload)
        )),
    }
}

/// Why a dependency made at startup failed: the answer it gave (its status and body),
/// or the inputs it could not read.
pub(crate) async fn failure(errors: Errors) -> String {
    use http_body_util::BodyExt as _;
    if let Some(rejection) = errors.rejection {
        let status = rejection.status();
        let body = match rejection.into_body().collect().await {
            Ok(body) => String::from_utf8_lossy(&body.to_bytes()).into_owned(),
            Err(e) => format!("(its body failed: {e})"),
        };
        return format!("it answered {status}: {body}");
    }
    let detail = errors.into_ordered().to_json()["detail"].to_string();
    format!("it could not read its inputs outside a request: {detail}")
}

/// A dependency and the scopes it was resolved under.
type CacheKey = (TypeId, Vec<&'static str>);

/// Dependency injection's state in one request, kept among the request's locals (made
/// when the first dependency resolves).
#[derive(Default)]
pub(crate) struct RequestDeps {
    /// Dependencies resolved so far.
    cache: DependencyCache,
    /// A cleanup returned by the dependency being resolved, until `Depends` binds it.
    pending: Option<(CleanupScope, ErasedCleanup)>,
    /// Cleanups of resolved dependencies, in setup order.
    cleanups: Vec<CleanupEntry>,
    /// Scopes required by the `#[security(scopes = …)]` parameters being resolved.
    scopes: Vec<&'static str>,
    /// Where cleanups left behind run (set with the first cleanup).
    rt: Option<Arc<Runtime>>,
}

impl Drop for RequestDeps {
    /// Cleanups still here when the request is dropped belong to a handler that
    /// panicked or was abandoned (the client went away): run them with that outcome.
    fn drop(&mut self) {
        let (Some(rt), false) = (self.rt.take(), self.cleanups.is_empty()) else {
            return;
        };
        let outcome = if std::thread::panicking() {
            Outcome::Panicked
        } else {
            Outcome::Disconnected
        };
        let entries = std::mem::take(&mut self.cleanups);
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => rt.spawn_tracked(&handle, run_late_cleanups(entries, outcome)),
            Err(_) => tracing::error!(
                target: "hasten::dependency",
                "request dropped outside a runtime; dependency cleanups not run"
            ),
        }
    }
}

/// Whether the dependencies are all this request keeps, with nothing left for the end
/// of the request (no cleanup): the epilogue then has nothing of theirs to do.
pub(crate) fn only_resolved(ctx: &RequestCtx) -> bool {
    ctx.locals
        .sole::<RequestDeps>()
        .is_some_and(|d| d.cleanups.is_empty() && d.pending.is_none())
}

fn deps(ctx: &mut RequestCtx) -> &mut RequestDeps {
    ctx.locals.get_or_default::<RequestDeps>()
}

/// The request's dependency cleanups, taken to run at the end of the request.
pub(crate) fn take_cleanups(ctx: &mut RequestCtx) -> Vec<CleanupEntry> {
    ctx.locals
        .get_mut::<RequestDeps>()
        .map(|d| std::mem::take(&mut d.cleanups))
        .unwrap_or_default()
}

/// The scopes required where the current dependency is being resolved.
pub(crate) fn current_scopes(ctx: &RequestCtx) -> &[&'static str] {
    ctx.locals
        .get::<RequestDeps>()
        .map_or(&[], |d| d.scopes.as_slice())
}

/// The cleanup the dependency just resolved returned, if any.
fn take_pending(ctx: &mut RequestCtx) -> Option<(CleanupScope, ErasedCleanup)> {
    ctx.locals.get_mut::<RequestDeps>()?.pending.take()
}

/// Resolved dependencies of one request, by dependency type.
#[derive(Default)]
pub(crate) struct DependencyCache {
    /// Keyed by the dependency and the scopes required where it was resolved (sorted),
    /// so a dependency checking `SecurityScopes` is not reused for other scopes.
    /// A few entries per request at most: a list beats a hash map, and the first is
    /// kept inline.
    first: Option<(CacheKey, Shared)>,
    rest: Vec<(CacheKey, Shared)>,
}

impl DependencyCache {
    fn get(&self, key: &CacheKey) -> Option<&Shared> {
        self.first
            .iter()
            .chain(self.rest.iter())
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    fn insert(&mut self, key: CacheKey, value: Shared) {
        let empty = self.first.is_none();
        let mut existing = self.first.iter_mut().chain(self.rest.iter_mut());
        match existing.find(|(k, _)| *k == key) {
            Some((_, v)) => *v = value,
            None if empty => self.first = Some((key, value)),
            None => self.rest.push((key, value)),
        }
    }
}

/// The cache key for dependency `id` resolved under the current scopes.
fn cache_key(id: TypeId, ctx: &RequestCtx) -> CacheKey {
    let mut scopes = current_scopes(ctx).to_vec();
    scopes.sort_unstable();
    scopes.dedup();
    (id, scopes)
}

impl<D: Dependency, C: CachePolicy> FromRequest for Depends<D, C> {
    async fn from_request(
        ctx: &mut RequestCtx,
        spec: &'static ParamSpec,
        errors: &mut Errors,
    ) -> Extracted<Self> {
        if spec.scopes.is_empty() {
            return resolve::<D, C>(ctx, errors).await;
        }
        // `#[security(scopes = …)]`: the scopes hold for everything resolved below.
        let depth = current_scopes(ctx).len();
        deps(ctx).scopes.extend_from_slice(spec.scopes);
        let out = resolve::<D, C>(ctx, errors).await;
        deps(ctx).scopes.truncate(depth);
        out
    }

    fn describe(spec: &'static ParamSpec, doc: &mut OperationDoc) {
        // Each dependency's inputs are documented once, however often it is used; a
        // use under other scopes is described again so its scopes are recorded.
        let id = TypeId::of::<D>();
        let depth = doc.describer.scopes.len();
        doc.describer.scopes.extend_from_slice(spec.scopes);
        if !doc.describer.dependencies.contains(&id) || !doc.describer.scopes.is_empty() {
            if !doc.describer.dependencies.contains(&id) {
                doc.describer.dependencies.push(id);
            }
            let params = doc.params.len();
            // This dependency's position among its siblings: its parameters (and its
            // own dependencies') are listed after the operation's own, in this order.
            if doc.describer.dependency_counts.is_empty() {
                doc.describer.dependency_counts.push(0);
            }
            let level = doc.describer.dependency_counts.len() - 1;
            let position = doc.describer.dependency_counts[level];
            doc.describer.dependency_counts[level] += 1;
            doc.describer.dependency_counts.push(0);
            D::describe(doc);
            doc.describer.dependency_counts.truncate(level + 1);
            for p in &mut doc.params[params..] {
                p.dependency.insert(0, position);
            }
            // Parameters seen before are not listed twice.
            let mut i = params;
            while i < doc.params.len() {
                let p = &doc.params[i];
                if doc.params[..i]
                    .iter()
                    .any(|q| q.name == p.name && q.source == p.source)
                {
                    doc.params.remove(i);
                } else {
                    i += 1;
                }
            }
        }
        doc.describer.scopes.truncate(depth);
    }
}

async fn resolve<D: Dependency, C: CachePolicy>(
    ctx: &mut RequestCtx,
    errors: &mut Errors,
) -> Extracted<Depends<D, C>> {
    {
        let id = TypeId::of::<D>();
        if D::APP_SCOPED {
            // Boxed: the first request's construction is a large future.
            return Box::pin(app_scoped::<D>(ctx, errors))
                .await
                .map(|value| Depends {
                    value,
                    _marker: PhantomData,
                });
        }
        // The scopes are the same after resolving (nested ones are undone): one key.
        let key = cache_key(id, ctx);
        if C::CACHED {
            let cached = ctx
                .locals
                .get::<RequestDeps>()
                .and_then(|d| d.cache.get(&key).cloned())
                .and_then(|v| v.downcast::<D::Output>().ok());
            if let Some(value) = cached {
                return Some(Depends {
                    value,
                    _marker: PhantomData,
                });
            }
        }
        let span = crate::trace::dependency::<D>(&ctx.parts.extensions);
        let value = match AppScope::replacement(&ctx.rt, id) {
            // A test swapped this dependency: resolve the replacement instead.
            Some(resolve) => resolve(ctx, errors)
                .instrument(span)
                .await?
                .downcast::<D::Output>()
                .ok()?,
            // An untraced request makes it as it is.
            None if span.is_disabled() => Arc::new(D::resolve(ctx, errors).await?),
            None => Arc::new(D::resolve(ctx, errors).instrument(span).await?),
        };
        // A dependency returning `Cleanup` left its cleanup pending: bind it to the value.
        if let Some((scope, cleanup)) = take_pending(ctx) {
            let shared = value.clone() as Arc<dyn Any + Send + Sync>;
            let rt = ctx.rt.clone();
            let deps = deps(ctx);
            deps.rt.get_or_insert(rt);
            deps.cleanups.push(CleanupEntry {
                scope,
                run: Box::new(move |outcome| cleanup(shared, outcome)),
            });
        }
        deps(ctx).cache.insert(key, value.clone());
        Some(Depends {
            value,
            _marker: PhantomData,
        })
    }
}

/// A borrowed, sendable future.
pub(crate) type RefFuture<'a, T> = std::pin::Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Runs one dependency for its side effect (a token check, say), caching its value.
pub(crate) type SideEffect = for<'a> fn(&'a mut RequestCtx, &'a mut Errors) -> RefFuture<'a, ()>;

/// A dependency attached to an app, a router or an operation for its side effect.
#[derive(Clone, Copy)]
pub(crate) struct AttachedDependency {
    pub(crate) name: &'static str,
    pub(crate) run: SideEffect,
    pub(crate) describe: fn(&mut OperationDoc),
}

impl std::fmt::Debug for AttachedDependency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// A spec for dependencies that are not parameters of a function.
static ATTACHED: ParamSpec = ParamSpec::new("dependency");

fn run_attached<'a, D: Dependency>(
    ctx: &'a mut RequestCtx,
    errors: &'a mut Errors,
) -> RefFuture<'a, ()> {
    Box::pin(async move {
        let _ = <Depends<D> as FromRequest>::from_request(ctx, &ATTACHED, errors).await;
    })
}

fn describe_attached<D: Dependency>(doc: &mut OperationDoc) {
    <Depends<D> as FromRequest>::describe(&ATTACHED, doc);
}

impl AttachedDependency {
    pub(crate) fn of<D: Dependency>() -> Self {
        AttachedDependency {
            name: std::any::type_name::<D>(),
            run: run_attached::<D>,
            describe: describe_attached::<D>,
        }
    }
}

/// Run the dependencies attached to the operation being served (app's, then routers'
/// from the outermost, then the operation's own), before its parameters. Used by
/// generated code.
pub(crate) async fn run_attached_all(ctx: &mut RequestCtx, errors: &mut Errors) {
    if ctx.route.attached.is_empty() {
        return;
    }
    let attached = ctx.route.attached.clone();
    for dep in attached.iter() {
        (dep.run)(ctx, errors).await;
    }
}

/// Resolves a replacement dependency in place of the original (see
/// [`App::override_dependency`](crate::App::override_dependency)).
pub(crate) type Resolver = for<'a> fn(
    &'a mut RequestCtx,
    &'a mut Errors,
) -> RefFuture<'a, Option<Arc<dyn Any + Send + Sync>>>;

pub(crate) fn resolve_erased<'a, R: Dependency>(
    ctx: &'a mut RequestCtx,
    errors: &'a mut Errors,
) -> RefFuture<'a, Option<Arc<dyn Any + Send + Sync>>> {
    Box::pin(async move {
        let value = R::resolve(ctx, errors).await?;
        Some(Arc::new(value) as Arc<dyn Any + Send + Sync>)
    })
}

/// How the request ended, as a cleanup sees it (to commit or roll back, say).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// A response below 400 was sent completely.
    Completed(http::StatusCode),
    /// A response of 400 or more was produced (an error from the handler or a
    /// dependency, or invalid input).
    Failed(http::StatusCode),
    /// The handler (or a dependency) panicked.
    Panicked,
    /// The client went away before the response was complete.
    Disconnected,
    /// The app is shutting down (the cleanup of an app-scoped dependency).
    Shutdown,
}

impl Outcome {
    /// `Completed` or `Failed`, by status.
    pub fn from_status(status: http::StatusCode) -> Self {
        if status.as_u16() < 400 {
            Outcome::Completed(status)
        } else {
            Outcome::Failed(status)
        }
    }

    /// Whether the request completed without error.
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Completed(_))
    }
}

/// When a cleanup runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CleanupScope {
    /// After the response is sent and the background tasks ran (FastAPI's "request").
    AfterResponse,
    /// As soon as the handler returns, before the response is sent ("function").
    BeforeResponse,
}

/// A cleanup with its value erased: the failure response it may produce.
pub(crate) type ErasedCleanup = Box<
    dyn FnOnce(
            Arc<dyn Any + Send + Sync>,
            Outcome,
        ) -> crate::future::BoxFuture<Option<crate::Response>>
        + Send,
>;

/// A registered cleanup, ready to run once with the outcome.
pub(crate) struct CleanupEntry {
    pub(crate) scope: CleanupScope,
    pub(crate) run:
        Box<dyn FnOnce(Outcome) -> crate::future::BoxFuture<Option<crate::Response>> + Send>,
}

/// What a cleanup may return: `()`, or `Result<(), E>` where `E` is any response (an
/// [`HttpError`](crate::HttpError), say). An `Err` from a cleanup that runs
/// [`before_response`](Cleanup::before_response) becomes the response; after the
/// response it can only be logged.
pub trait CleanupResult: Send + 'static {
    /// The response for a failure, if this is one.
    fn into_failure(self) -> Option<crate::Response>;
}

impl CleanupResult for () {
    fn into_failure(self) -> Option<crate::Response> {
        None
    }
}

impl<E: crate::IntoResponse + Send + 'static> CleanupResult for Result<(), E> {
    fn into_failure(self) -> Option<crate::Response> {
        self.err().map(crate::IntoResponse::into_response)
    }
}

/// A dependency's value plus work to run when the request is over — FastAPI's
/// dependencies with `yield`. The cleanup runs exactly once, in reverse order of
/// setup, and sees how the request ended ([`Outcome`]).
///
/// **When it runs decides what it can change.** By default it runs after the response
/// was sent and the background tasks ran: the client already has its answer, so
/// nothing the cleanup does — or fails to do — can change it. A cleanup that must
/// succeed for the answer to be true, such as committing the request's transaction,
/// runs [`before_response`](Cleanup::before_response) and returns a `Result`: an
/// `Err` replaces the response. Committing after the response would acknowledge
/// writes that a failed `COMMIT` (a full disk, a constraint checked at commit) then
/// loses.
///
/// The safe pattern for a transaction: commit before the response, answer the error
/// if the commit fails.
///
/// ```
/// use hasten::prelude::*;
/// use hasten::depends::{Cleanup, Outcome};
///
/// struct Session;
/// impl Session {
///     async fn commit(&self) -> Result<(), String> { Ok(()) }
///     async fn rollback(&self) {}
/// }
///
/// #[dependency]
/// async fn db_session() -> Cleanup<Session> {
///     Cleanup::new(Session, |session, outcome: Outcome| async move {
///         if !outcome.is_success() {
///             session.rollback().await;
///             return Ok(());
///         }
///         session.commit().await.map_err(|e| {
///             HttpError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("commit failed: {e}"))
///         })
///     })
///     .before_response()
/// }
/// ```
///
/// Work that may safely happen after the answer (closing a file, returning a
/// connection to a pool) keeps the default.
pub struct Cleanup<T> {
    value: T,
    scope: CleanupScope,
    cleanup: ErasedCleanup,
}

impl<T: Send + Sync + 'static> Cleanup<T> {
    /// A value and its cleanup.
    pub fn new<F, Fut>(value: T, cleanup: F) -> Self
    where
        F: FnOnce(Arc<T>, Outcome) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: CleanupResult,
    {
        Cleanup {
            value,
            scope: CleanupScope::AfterResponse,
            cleanup: Box::new(move |any: Arc<dyn Any + Send + Sync>, outcome| {
                match any.downcast::<T>() {
                    Ok(value) => {
                        let done = cleanup(value, outcome);
                        Box::pin(async move { done.await.into_failure() })
                    }
                    Err(_) => Box::pin(async { None }),
                }
            }),
        }
    }

    /// Run the cleanup as soon as the handler returns, before the response is sent
    /// (FastAPI's `scope="function"`). An `Err` it returns replaces the response, and
    /// the cleanups that run after the response see the request as failed.
    pub fn before_response(mut self) -> Self {
        self.scope = CleanupScope::BeforeResponse;
        self
    }

    /// Hand the cleanup to the request and return the value. Used by generated code
    /// and by hand-written [`Dependency`] impls.
    pub fn register(self, ctx: &mut RequestCtx) -> T {
        deps(ctx).pending = Some((self.scope, self.cleanup));
        self.value
    }
}

impl<T> std::fmt::Debug for Cleanup<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cleanup")
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// Run cleanups, last registered first, each isolated: a panic is logged. Returns the
/// response of the first that failed; the others' failures are logged.
pub(crate) async fn run_cleanups(
    entries: Vec<CleanupEntry>,
    outcome: Outcome,
) -> Option<crate::Response> {
    let mut failed = None;
    for entry in entries.into_iter().rev() {
        match tokio::spawn((entry.run)(outcome)).await {
            Ok(Some(resp)) if failed.is_none() => failed = Some(resp),
            Ok(Some(resp)) => {
                tracing::error!(target: "hasten::dependency", status = %resp.status(), "another dependency cleanup failed too");
            }
            Ok(None) => {}
            Err(e) => {
                if e.is_panic() {
                    let message = crate::panics::panic_message(e.into_panic());
                    tracing::error!(target: "hasten::dependency", panic = %message, "dependency cleanup panicked");
                }
            }
        }
    }
    failed
}

/// Run cleanups after the response: a failure can no longer change the answer, so it
/// is logged, loudly.
pub(crate) async fn run_late_cleanups(entries: Vec<CleanupEntry>, outcome: Outcome) {
    if let Some(resp) = run_cleanups(entries, outcome).await {
        tracing::error!(
            target: "hasten::dependency",
            status = %resp.status(),
            ?outcome,
            "a dependency cleanup failed after the response was sent; the client was \
             already answered (run it `before_response` to answer the failure instead)"
        );
    }
}
