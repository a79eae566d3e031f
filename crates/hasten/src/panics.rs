//! Repeated panics, summarised: a route that panics on every request must not fill
//! the disk with the same backtrace (about 20 KB each with `RUST_BACKTRACE=1`).
//!
//! The first panic at a place in each minute is reported in full, by the panic hook
//! that was installed before (Rust's default prints the message and, if asked, the
//! backtrace); further panics at the same place that minute are counted, and the
//! count is reported with the next one shown. Only panics while a handler or
//! dependency runs are summarised; any other panic reaches the previous hook as is.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::{Mutex, Once, OnceLock};
use std::time::{Duration, Instant};

/// How often one place may report a panic in full.
const WINDOW: Duration = Duration::from_secs(60);
/// Places remembered at once; past this, the oldest window is forgotten.
const PLACES: usize = 1024;

struct Seen {
    since: Instant,
    hidden: u64,
}

/// Decides, per place, whether a panic is shown or only counted.
#[derive(Default)]
pub(crate) struct Limiter {
    places: Mutex<HashMap<String, Seen>>,
}

impl Limiter {
    /// `Some(hidden)` when this panic should be shown (`hidden` panics at the same
    /// place were left out since the last one shown); `None` to leave it out.
    pub(crate) fn allow(&self, place: &str, now: Instant) -> Option<u64> {
        let Ok(mut places) = self.places.lock() else {
            return Some(0);
        };
        if let Some(seen) = places.get_mut(place) {
            if now.saturating_duration_since(seen.since) < WINDOW {
                seen.hidden += 1;
                return None;
            }
            let hidden = seen.hidden;
            *seen = Seen {
                since: now,
                hidden: 0,
            };
            return Some(hidden);
        }
        if places.len() >= PLACES {
            if let Some(oldest) = places
                .iter()
                .min_by_key(|(_, s)| s.since)
                .map(|(k, _)| k.clone())
            {
                places.remove(&oldest);
            }
        }
        places.insert(
            place.to_owned(),
            Seen {
                since: now,
                hidden: 0,
            },
        );
        Some(0)
    }
}

thread_local! {
    static IN_HANDLER: Cell<bool> = const { Cell::new(false) };
}

/// Run `f` (a poll of a handler, or a plain handler) marked as handler code, so a
/// panic in it is summarised when repeated.
pub(crate) fn in_handler<R>(f: impl FnOnce() -> R) -> R {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            IN_HANDLER.with(|h| h.set(self.0));
        }
    }
    let _reset = Reset(IN_HANDLER.with(|h| h.replace(true)));
    f()
}

/// The limiter shared by the panic hook and the "handler panicked" log line.
pub(crate) fn limiter() -> &'static Limiter {
    static LIMITER: OnceLock<Limiter> = OnceLock::new();
    LIMITER.get_or_init(Limiter::default)
}

/// Log a panic of a handler or dependency: the first per route and minute at error
/// level with the count of those left out since.
pub(crate) fn log_handler_panic(route: &'static str, handler: &'static str, message: &str) {
    if let Some(hidden) = limiter().allow(&format!("route {route} {handler}"), Instant::now()) {
        tracing::error!(
            route,
            handler,
            panic = %message,
            not_shown = hidden,
            "handler panicked"
        );
    }
}

/// Wrap the process's panic hook so repeats are summarised (once per process; the
/// server calls it when it starts).
pub(crate) fn install_hook() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !IN_HANDLER.with(Cell::get) {
                return previous(info);
            }
            let place = info
                .location()
                .map_or_else(|| "<unknown>".to_owned(), ToString::to_string);
            let Some(hidden) = limiter().allow(&format!("hook {place}"), Instant::now()) else {
                return;
            };
            if hidden > 0 {
                eprintln!(
                    "hasten: {hidden} more panic(s) at {place} in the last minute were not shown"
                );
            }
            previous(info);
        }));
    });
}

/// The text of a panic payload.
pub(crate) fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_panic_per_place_per_minute_is_shown_and_the_rest_counted() {
        let l = Limiter::default();
        let t0 = Instant::now();
        assert_eq!(l.allow("a.rs:1", t0), Some(0));
        for i in 1..=5 {
            assert_eq!(l.allow("a.rs:1", t0 + Duration::from_secs(i)), None);
        }
        assert_eq!(l.allow("b.rs:2", t0 + Duration::from_secs(6)), Some(0));
        assert_eq!(l.allow("a.rs:1", t0 + WINDOW), Some(5));
        assert_eq!(
            l.allow("a.rs:1", t0 + WINDOW + Duration::from_secs(1)),
            None
        );
    }

    #[test]
    fn the_number_of_places_is_bounded() {
        let l = Limiter::default();
        let t0 = Instant::now();
        for i in 0..PLACES + 10 {
            let _ = l.allow(&format!("f.rs:{i}"), t0 + Duration::from_millis(i as u64));
        }
        assert_eq!(l.places.lock().unwrap().len(), PLACES);
    }
}
