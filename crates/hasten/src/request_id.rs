//! Request IDs ([`App::request_ids`](crate::App::request_ids)): each request gets an ID,
//! the client's `X-Request-ID` when it sent a sane one, a new random one otherwise. It
//! is sent back on the response, given to handlers and dependencies as [`RequestId`]
//! (to pass on to the services they call), and recorded on the request's tracing span,
//! so every log line the request causes carries it.
//!
//! ```
//! use hasten::prelude::*;
//! use hasten::request_id::RequestId;
//!
//! #[get("/items")]
//! async fn items(id: RequestId) -> String {
//!     tracing::info!("listing items"); // logged with request_id=…
//!     format!("handled as {id}")
//! }
//!
//! let app = App::new().route(items).request_ids();
//! # let _ = app.build().unwrap();
//! ```

use std::fmt;
use std::sync::Arc;

use http::{HeaderName, HeaderValue};

use crate::extract::{Errors, Extracted, FromRequest, ParamSpec, RequestCtx};

/// The header a request ID travels in.
pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The longest client-sent ID kept; a longer one is replaced.
const MAX_LEN: usize = 128;

/// The request's ID (see the [module](self)): its text, cheap to clone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestId(Arc<str>);

impl RequestId {
    /// The ID's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The client's ID when it is 1 to 128 visible ASCII characters, else a new one.
    pub(crate) fn for_request(headers: &http::HeaderMap) -> Self {
        let sent = headers
            .get(&HEADER)
            .and_then(|v| v.to_str().ok())
            .filter(|v| {
                !v.is_empty() && v.len() <= MAX_LEN && v.bytes().all(|b| b.is_ascii_graphic())
            });
        RequestId(match sent {
            Some(id) => id.into(),
            None => generate().into(),
        })
    }

    /// The ID as a header value.
    pub(crate) fn header_value(&self) -> Option<HeaderValue> {
        HeaderValue::from_str(&self.0).ok()
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new ID: 128 random bits as 32 hex digits.
fn generate() -> String {
    crate::random::hex128().unwrap_or_else(|_| {
        // No entropy source: a process-unique counter still tells requests apart.
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(1);
        format!("{:032x}", NEXT.fetch_add(1, Ordering::Relaxed))
    })
}

impl FromRequest for RequestId {
    async fn from_request(
        ctx: &mut RequestCtx,
        _spec: &'static ParamSpec,
        _errors: &mut Errors,
    ) -> Extracted<Self> {
        // Set by the dispatcher when the app has request IDs; else made here, once.
        if let Some(id) = ctx.parts.extensions.get::<RequestId>() {
            return Some(id.clone());
        }
        let id = RequestId::for_request(&ctx.parts.headers);
        ctx.parts.extensions.insert(id.clone());
        Some(id)
    }
}
