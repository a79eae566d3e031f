//! The way of a request, top to bottom: dispatch routes it and answers what the
//! framework answers itself; the handler's future runs it; finish ends it.

mod dispatch;
mod finish;
mod handler;

pub(crate) use dispatch::{Dispatcher, Options};
pub use finish::{has_attached_dependencies, refuse, respond, run_attached_dependencies};
pub(crate) use handler::Dispatch;

use http::header::CONTENT_LENGTH;
use http::HeaderValue;
use http_body::Body as _;

use crate::body::Body;
use crate::response::Response;

/// A HEAD answered by a GET operation: keep the headers (and the length), drop the body.
fn strip_body(resp: &mut Response) {
    if !resp.headers().contains_key(CONTENT_LENGTH) {
        if let Some(n) = resp.body().size_hint().exact() {
            resp.headers_mut()
                .insert(CONTENT_LENGTH, HeaderValue::from(n));
        }
    }
    *resp.body_mut() = Body::empty();
}
