//! The hasten halves of the FastAPI twins in `tests/twin/apps/`: the same app written
//! with each framework, held to the same OpenAPI document and the same answers by
//! `tests/twin/twins.py`.
//!
//! `cargo run --example twins -- NAME` serves the app NAME (on `HASTEN_ADDR`);
//! `cargo run --example twins -- NAME --openapi` prints its document.

mod background;
mod bodies;
mod datatypes;
mod dependencies;
mod errors;
mod forms;
mod models;
mod operations;
mod params;
mod responses;
mod routing;
mod security;

/// The names of the apps.
const NAMES: &[&str] = &[
    "background",
    "bodies",
    "datatypes",
    "dependencies",
    "errors",
    "forms",
    "models",
    "operations",
    "params",
    "responses",
    "routing",
    "security",
];

/// The app called `name`.
fn app(name: &str) -> Option<hasten::App> {
    Some(match name {
        "background" => background::app(),
        "bodies" => bodies::app(),
        "datatypes" => datatypes::app(),
        "dependencies" => dependencies::app(),
        "errors" => errors::app(),
        "forms" => forms::app(),
        "models" => models::app(),
        "operations" => operations::app(),
        "params" => params::app(),
        "responses" => responses::app(),
        "routing" => routing::app(),
        "security" => security::app(),
        _ => return None,
    })
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let name = std::env::args().nth(1).unwrap_or_default();
    let Some(app) = app(&name) else {
        eprintln!(
            "usage: twins NAME [--openapi], NAME one of: {}",
            NAMES.join(", ")
        );
        std::process::exit(2);
    };
    hasten_examples::run(app).await
}

#[cfg(test)]
mod tests {
    /// Every twin builds: its routes, dependencies and document are consistent.
    #[test]
    fn every_app_builds() {
        for name in super::NAMES {
            let app = super::app(name).expect("listed");
            if let Err(e) = app.openapi_document() {
                panic!("{name}: {e}");
            }
        }
    }
}
