//! Lifespan: work at startup (creating pools, clients) and at shutdown (closing them).
//!
//! A startup hook returns a value that becomes app state, reachable by handlers and
//! dependencies as [`State<T>`](crate::State). Shutdown hooks run in reverse order,
//! after the server stopped serving and background tasks finished, followed by the
//! cleanups of app-scoped dependencies.

use std::any::{Any, TypeId};
use std::future::Future;
use std::sync::Arc;

use crate::operation::BoxFuture;
use crate::runtime::TypeMap;

/// The app's state as startup and shutdown hooks see it.
#[derive(Clone, Default)]
pub struct AppState {
    pub(crate) map: TypeMap,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

impl AppState {
    /// The state of type `T`, if the app has it (given to `App::state` or made by an
    /// earlier startup hook).
    pub fn get<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        self.map.get::<T>()
    }
}

type Produced = Result<(TypeId, Arc<dyn Any + Send + Sync>), String>;

/// A startup hook, type-erased.
pub(crate) type StartupHook = Box<dyn FnOnce(AppState) -> BoxFuture<Produced> + Send>;

/// A shutdown hook, type-erased.
pub(crate) type ShutdownHook = Box<dyn FnOnce(AppState) -> BoxFuture<()> + Send>;

pub(crate) fn startup_hook<T, E, F, Fut>(f: F) -> StartupHook
where
    T: Send + Sync + 'static,
    E: std::fmt::Display,
    F: FnOnce(AppState) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
{
    Box::new(move |state| {
        let fut = f(state);
        Box::pin(async move {
            match fut.await {
                Ok(v) => Ok((TypeId::of::<T>(), Arc::new(v) as Arc<dyn Any + Send + Sync>)),
                Err(e) => Err(format!(
                    "startup hook for `{}` failed: {e}",
                    std::any::type_name::<T>()
                )),
            }
        })
    })
}

pub(crate) fn shutdown_hook<F, Fut>(f: F) -> ShutdownHook
where
    F: FnOnce(AppState) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    Box::new(move |state| Box::pin(f(state)))
}

/// Run startup hooks in order, each seeing the state made so far.
pub(crate) async fn run_startup(
    hooks: Vec<StartupHook>,
    state: &mut TypeMap,
) -> Result<(), String> {
    for hook in hooks {
        let (ty, value) = hook(AppState { map: state.clone() }).await?;
        state.insert_erased(ty, value);
    }
    Ok(())
}
