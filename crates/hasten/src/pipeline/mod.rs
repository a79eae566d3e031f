//! The way of a request, top to bottom: dispatch routes it and answers what the
//! framework answers itself; the handler's future runs it; finish ends it.

mod dispatch;
mod finish;
mod handler;

pub(crate) use dispatch::{Dispatcher, Options};
pub use finish::{has_attached_dependencies, refuse, respond, run_attached_dependencies};
pub(crate) use handler::Dispatch;

use crate::response::strip_body;
