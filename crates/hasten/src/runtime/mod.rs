//! What request-time code may know of the app: its state, its limits, its pools, its
//! error handlers, and the app-wide state each feature keeps in a slot of its own.
//!
//! The routes, mounts, documentation pages and app middleware are not here: they
//! belong to dispatch, which owns an `Arc<Runtime>` and hands it to each request.

mod errors;
mod limits;
mod pools;

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

pub use errors::ErrorContext;
pub(crate) use errors::ErrorHandlers;
pub(crate) use limits::{Keepalive, Limits};
pub use limits::{UploadLimits, DEFAULT_BODY_LIMIT, DEFAULT_MAX_MESSAGE};
pub(crate) use pools::{BlockingPool, TaskTracker};

/// Values by type, one per type: the app's state, or features' app-wide slots.
#[derive(Default, Clone)]
pub(crate) struct TypeMap(HashMap<TypeId, Arc<dyn Any + Send + Sync>>);

impl TypeMap {
    pub(crate) fn insert_erased(&mut self, ty: TypeId, value: Arc<dyn Any + Send + Sync>) {
        self.0.insert(ty, value);
    }

    pub(crate) fn contains(&self, ty: &TypeId) -> bool {
        self.0.contains_key(ty)
    }

    pub(crate) fn get<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        self.0
            .get(&TypeId::of::<T>())
            .cloned()
            .and_then(|v| v.downcast::<T>().ok())
    }
}

/// Features' app-wide state, one value per type: a short list (a feature or two), so a
/// lookup is a few comparisons, not a hash.
#[derive(Default)]
pub(crate) struct Slots(Vec<(TypeId, Box<dyn Any + Send + Sync>)>);

impl Slots {
    /// Keep `value` as the slot of type `T`, replacing any earlier one.
    pub(crate) fn insert<T: Send + Sync + 'static>(&mut self, value: T) {
        let ty = TypeId::of::<T>();
        self.0.retain(|(t, _)| *t != ty);
        self.0.push((ty, Box::new(value)));
    }

    fn get<T: Send + Sync + 'static>(&self) -> Option<&T> {
        let ty = TypeId::of::<T>();
        let (_, value) = self.0.iter().find(|(t, _)| *t == ty)?;
        value.downcast_ref::<T>()
    }
}

/// The app as request-time code sees it.
pub(crate) struct Runtime {
    /// The app's state (`State<T>`).
    pub(crate) state: TypeMap,
    pub(crate) limits: Limits,
    pub(crate) handlers: ErrorHandlers,
    /// Plain handlers and blocking background tasks run here.
    pub(crate) blocking: BlockingPool,
    /// Post-response work that graceful shutdown waits for.
    pub(crate) tasks: TaskTracker,
    /// Features' app-wide state, each under a type the feature owns.
    slots: Slots,
}

impl Runtime {
    pub(crate) fn new(
        state: TypeMap,
        limits: Limits,
        handlers: ErrorHandlers,
        slots: Slots,
    ) -> Self {
        Runtime {
            blocking: BlockingPool::new(limits.blocking_threads),
            tasks: TaskTracker::default(),
            state,
            limits,
            handlers,
            slots,
        }
    }

    /// The feature state of type `T`, if the app was built with it.
    pub(crate) fn slot<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.slots.get::<T>()
    }

    /// Spawn post-response work that graceful shutdown waits for (within its deadline).
    pub(crate) fn spawn_tracked(
        self: &Arc<Self>,
        handle: &tokio::runtime::Handle,
        work: impl Future<Output = ()> + Send + 'static,
    ) {
        self.tasks.started();
        let rt = self.clone();
        handle.spawn(async move {
            work.await;
            rt.tasks.finished();
        });
    }
}
