//! The integration tests, one module per concept, in one binary: one link step instead of
//! one per file.

mod background;
mod blocking;
mod channels;
mod cleanup;
mod common;
mod defaults;
mod dependencies;
mod error_handlers;
mod files;
mod health;
mod hostile;
#[cfg(feature = "jobs")]
mod jobs;
mod layers;
mod lifespan;
#[cfg(feature = "metrics")]
mod metrics;
mod middleware;
mod nested_constraints;
mod openapi;
mod public_api;
mod rate_limit;
mod request_id;
mod response_model;
mod routers;
mod routing;
mod server;
mod sessions;
mod set_response;
mod settings;
mod streaming;
#[cfg(feature = "tls")]
mod tls;
mod tracing;
mod uploads;
mod validation;
mod websocket;
