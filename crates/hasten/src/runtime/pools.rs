//! The app's pools: plain handlers' threads, and the post-response work shutdown waits
//! for.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, Semaphore};

/// Limits how many plain handlers run at once; the rest wait (asynchronously) for a
/// slot, so the reactor keeps serving.
#[derive(Debug)]
pub(crate) struct BlockingPool {
    pub(crate) slots: Arc<Semaphore>,
    /// How many run at once.
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) capacity: usize,
    /// Work waiting for a slot now.
    pub(crate) waiting: AtomicUsize,
}

impl BlockingPool {
    pub(crate) fn new(size: usize) -> Self {
        BlockingPool {
            slots: Arc::new(Semaphore::new(size.max(1))),
            capacity: size.max(1),
            waiting: AtomicUsize::new(0),
        }
    }

    /// Run `f` on a blocking thread once the pool has room for it.
    pub(crate) async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> Result<R, tokio::task::JoinError> {
        let permit = {
            let _waiting = Waiting::new(&self.waiting);
            self.slots.clone().acquire_owned().await
        };
        tokio::task::spawn_blocking(move || {
            let out = f();
            drop(permit);
            out
        })
        .await
    }
}

/// Counts one waiter for as long as it lives.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Waiting(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Counts running post-response work, so shutdown can wait for it.
#[derive(Default)]
pub(crate) struct TaskTracker {
    running: AtomicUsize,
    idle: Notify,
}

impl TaskTracker {
    /// Wait until no work is running, or `timeout` passes; returns how much is left.
    pub(crate) async fn wait(&self, timeout: Duration) -> usize {
        let wait = async {
            loop {
                let idle = self.idle.notified();
                if self.running.load(Ordering::Acquire) == 0 {
                    return;
                }
                idle.await;
            }
        };
        let _ = tokio::time::timeout(timeout, wait).await;
        self.running.load(Ordering::Acquire)
    }

    pub(crate) fn started(&self) {
        self.running.fetch_add(1, Ordering::AcqRel);
    }

    pub(crate) fn finished(&self) {
        if self.running.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.idle.notify_waiters();
        }
    }
}
