//! Every limit the app enforces while it serves, in one value: a new limit is a field
//! here, its default, and a setter on `App`.

use std::path::PathBuf;
use std::time::Duration;

/// The default request body limit: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// The default limit on one message and on one frame: 16 MiB (uvicorn's default).
pub const DEFAULT_MAX_MESSAGE: usize = 16 << 20;

/// FastAPI's (AnyIO's) default thread limit.
pub(crate) const DEFAULT_BLOCKING_THREADS: usize = 40;

/// The app's limits, read by the features that enforce them.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    /// The largest request body read whole.
    pub(crate) body: usize,
    /// The most errors one 422 lists.
    pub(crate) max_errors: usize,
    /// Multipart bodies.
    pub(crate) upload: UploadLimits,
    /// WebSocket messages and keepalive.
    pub(crate) websocket: WebSocketLimits,
    /// Plain handlers running at once.
    pub(crate) blocking_threads: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            body: DEFAULT_BODY_LIMIT,
            max_errors: crate::validation::DEFAULT_MAX_ERRORS,
            upload: UploadLimits::default(),
            websocket: WebSocketLimits::default(),
            blocking_threads: DEFAULT_BLOCKING_THREADS,
        }
    }
}

/// WebSocket limits; see [`App::websocket_limits`](crate::App::websocket_limits) and
/// [`App::websocket_keepalive`](crate::App::websocket_keepalive).
#[derive(Debug, Clone, Copy)]
pub(crate) struct WebSocketLimits {
    pub(crate) max_message: usize,
    pub(crate) max_frame: usize,
    pub(crate) keepalive: Keepalive,
}

impl Default for WebSocketLimits {
    fn default() -> Self {
        WebSocketLimits {
            max_message: DEFAULT_MAX_MESSAGE,
            max_frame: DEFAULT_MAX_MESSAGE,
            keepalive: Keepalive::default(),
        }
    }
}

/// WebSocket keepalive settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Keepalive {
    pub(crate) interval: Option<Duration>,
    pub(crate) timeout: Duration,
}

impl Default for Keepalive {
    fn default() -> Self {
        Keepalive {
            interval: Some(Duration::from_secs(20)),
            timeout: Duration::from_secs(20),
        }
    }
}

/// Limits on a multipart body.
#[derive(Debug, Clone)]
pub struct UploadLimits {
    /// The whole body (default 100 MiB).
    pub max_body: u64,
    /// One file (default 100 MiB).
    pub max_file: u64,
    /// One text field (default 1 MiB, Starlette's `max_part_size`).
    pub max_field: u64,
    /// Parts, files and fields together (default 1000).
    pub max_parts: usize,
    /// The headers of one part, and the preamble before the first part (default
    /// 16 KiB; Starlette allows 8 header lines of about 4 KiB each).
    pub max_part_headers: usize,
    /// Files larger than this go to disk while they arrive (default 1 MiB).
    pub spool_threshold: usize,
    /// Where temporary files go (default: the system's temporary folder).
    pub temp_dir: Option<PathBuf>,
}

impl Default for UploadLimits {
    fn default() -> Self {
        UploadLimits {
            max_body: 100 << 20,
            max_file: 100 << 20,
            max_field: 1 << 20,
            max_parts: 1000,
            max_part_headers: 16 << 10,
            spool_threshold: 1 << 20,
            temp_dir: None,
        }
    }
}
