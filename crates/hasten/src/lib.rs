#![doc = include_str!("docs/crate.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod app;
pub mod background;
mod blocking;
pub mod body;
pub mod channels;
mod connection;
pub mod depends;
mod docs_ui;
mod error;
pub mod extract;
pub mod files;
mod form;
mod future;
mod health;
#[cfg(feature = "jobs")]
pub mod jobs;
mod json;
mod lifespan;
#[cfg(feature = "metrics")]
pub mod metrics;
pub mod middleware;
mod mount;
pub mod openapi;
pub mod operation;
#[cfg(feature = "otel")]
pub mod otel;
mod panics;
mod pipeline;
mod problem;
mod raise;
mod random;
pub mod rate_limit;
pub mod request_id;
mod response;
mod response_model;
mod router;
mod routing;
mod runtime;
pub mod security;
pub mod server;
pub mod sessions;
mod set_response;
pub mod settings;
pub mod streaming;
pub mod testing;
#[cfg(feature = "tls")]
pub mod tls;
pub mod trace;
pub mod uploads;
pub mod validate;
pub mod validation;
pub mod ws;

// The root holds what a handler touches; the rest sits in the module of its concept
// (the README lists both).
pub use app::App;
pub use background::BackgroundTasks;
pub use depends::{Depends, NoCache};
pub use error::HttpError;
pub use extract::{Cookie, Header, Query, Request, State};
pub use form::Form;
pub use json::Json;
pub use raise::Error;
pub use response::{Html, IntoResponse, Redirect, Response};
pub use router::Router;
pub use server::{serve, Server};

/// The durable-job macro (cargo feature `jobs`).
#[cfg(feature = "jobs")]
pub use hasten_macros::job;
/// Path-operation macros and the parameter-enum derive.
pub use hasten_macros::{
    delete, dependency, get, head, options, patch, post, put, route, websocket, ParamValue,
};

pub use bytes::Bytes;
pub use http::{self, HeaderMap, HeaderValue, Method, StatusCode};
pub use schemars;
pub use serde_json;

/// Every kind of response in one place, as FastAPI's `fastapi.responses`: plain and
/// typed bodies, redirects, files, streams, and what a handler sets on its response.
pub mod responses {
    pub use crate::files::{FileResponse, StaticFiles};
    pub use crate::problem::ProblemDetails;
    pub use crate::response::{Html, IntoResponse, Redirect, Response};
    pub use crate::set_response::{SameSite, SetCookie, SetResponse};
    pub use crate::streaming::{Event, JsonLines, Sse, StreamingResponse};
}

/// What a handler author needs, in one import: `use hasten::prelude::*;`.
pub mod prelude {
    pub use crate::depends::{Cleanup, Outcome};
    pub use crate::files::FileResponse;
    pub use crate::set_response::SetResponse;
    pub use crate::streaming::StreamingResponse;
    pub use crate::uploads::UploadFile;
    pub use crate::ws::WebSocket;
    pub use crate::{
        delete, dependency, get, head, options, patch, post, put, route, websocket, App,
        BackgroundTasks, Bytes, Depends, Form, HeaderMap, Html, HttpError, IntoResponse, Json,
        NoCache, ParamValue, Redirect, Request, Response, Router, State, StatusCode,
    };
    #[cfg(feature = "jobs")]
    pub use crate::{job, jobs::Jobs};
    pub use schemars::JsonSchema;
    pub use serde::{Deserialize, Serialize};
}

/// Items used by the code the macros generate. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::blocking::{run_blocking, run_blocking_value};
    pub use crate::depends::Dependency;
    pub use crate::extract::param::{
        enum_error, enum_schema, or_default, ConstraintTarget, DefaultProbe, DefaultViaOpaque,
        DefaultViaSerialize,
    };
    pub use crate::extract::{
        BodyUse, Checkable, Constraints, Errors, FromRequest, Number, ParamSpec, ParamValue,
        ParseError, RequestCtx, Source,
    };
    pub use crate::json::{JsonBody, JsonProbe, ViaJsonBody, ViaNoJsonBody};
    pub use crate::openapi::describe::{
        JsonReturn, Probe, ResponseSchema, ViaDescribe, ViaFallback, ViaMissingSchema,
    };
    pub use crate::openapi::OperationDoc;
    pub use crate::openapi::{ResponseDoc, SchemaDoc};
    pub use crate::operation::{BoxFuture, Operation, OperationMeta};
    pub use crate::pipeline::{
        has_attached_dependencies, refuse, respond, run_attached_dependencies,
    };
    pub use crate::response::{IntoResponse, Response};
    pub use crate::response_model::{through_model, ModelOptions};
    pub use crate::validate::probe::{
        run_optional_validator, run_param_validator, ModelParam, ValidateProbe, ViaNoRule,
        ViaValidate,
    };
    pub use http::HeaderName;

    /// Whether the request is traced (it carries a request span).
    pub fn traced(ctx: &RequestCtx) -> bool {
        crate::trace::request_span(&ctx.parts.extensions).is_some()
    }

    /// The request's `validation` span, or a disabled span when it is not traced.
    pub fn validation_span(ctx: &RequestCtx) -> tracing::Span {
        crate::trace::validation(&ctx.parts.extensions)
    }

    /// The request's `handler` span, or a disabled span when it is not traced.
    pub fn handler_span(ctx: &RequestCtx, name: &'static str) -> tracing::Span {
        crate::trace::handler(&ctx.parts.extensions, name)
    }
    pub use std::mem::drop;
    pub use tracing::Instrument;

    /// A status the route macro checked (100 to 599).
    pub fn status(code: u16) -> crate::StatusCode {
        crate::StatusCode::from_u16(code).unwrap_or(crate::StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// An operation from what the route macros generate.
    pub fn operation<F>(
        meta: &'static OperationMeta,
        params: &'static [ParamSpec],
        handler: F,
        describe: fn(&mut OperationDoc),
    ) -> Operation
    where
        F: Fn(Box<RequestCtx>) -> BoxFuture<Response> + Send + Sync + 'static,
    {
        Operation::new(meta, params, handler, describe)
    }

    /// Serve a WebSocket operation: the handshake around `run`, the generated handler.
    pub fn serve_websocket<F>(ctx: Box<RequestCtx>, run: F) -> BoxFuture<Response>
    where
        F: FnOnce(Box<RequestCtx>) -> BoxFuture<Response> + Send + 'static,
    {
        crate::ws::serve_websocket(ctx, run)
    }
    #[cfg(feature = "jobs")]
    pub use crate::jobs::{
        blocking_failed as job_blocking_failed, inputs_failed as job_inputs_failed, Job, JobFuture,
        JobMeta, JobOutput,
    };
    pub use serde_json::Value;
    pub use std::boxed::Box;
    pub use std::option::Option::{self, None, Some};
    pub use std::result::Result::{Err, Ok};
}

/// The README's examples, compiled as doctests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
