//! (being written)

use hasten::prelude::*;

/// The app.
pub(crate) fn app() -> App {
    App::new()
}
