#![doc = include_str!("docs/crate.md")]

mod app;
mod background;
mod blocking;
mod body;
mod connection;
mod depends;
mod docs_ui;
mod error;
mod extract;
pub mod files;
mod form;
mod future;
mod json;
mod lifespan;
pub mod middleware;
mod mount;
pub mod openapi;
mod operation;
mod panics;
mod pipeline;
mod problem;
mod raise;
mod response;
mod response_model;
mod router;
mod routing;
mod runtime;
pub mod security;
mod server;
mod set_response;
pub mod streaming;
pub mod testing;
pub mod uploads;
mod validate;
pub mod validation;
pub mod ws;

pub use app::{App, AppService, BuildError};
pub use background::{BackgroundTasks, TaskResult};
pub use body::{Body, BoxError, RequestBody};
pub use connection::BodyTimedOut;
pub use depends::{
    CachePolicy, Cached, Cleanup, CleanupResult, Dependency, Depends, NoCache, Outcome,
};
pub use error::HttpError;
pub use extract::{
    BodyError, BodyUse, Checkable, Constraints, Cookie, Errors, Extracted, FromRequest, Header,
    Number, ParamSpec, ParamValue, ParseError, Query, Request, RequestCtx, Source, State,
};
pub use form::Form;
pub use json::Json;
pub use lifespan::AppState;
pub use mount::MountedAt;
pub use openapi::{
    BodyDoc, Contact, DescribeResponse, DocStyle, ExtraResponse, License, OperationDoc, ParamDoc,
    ResponseDoc, SchemaDoc, Tag,
};
pub use operation::{BoxFuture, Endpoint, Operation, OperationMeta};
pub use problem::ProblemDetails;
pub use raise::Error;
pub use response::{Html, IntoResponse, Redirect, Response};
pub use router::Router;
pub use runtime::{ErrorContext, DEFAULT_BODY_LIMIT};
pub use server::{serve, Server};
pub use set_response::{SameSite, SetCookie, SetResponse};
pub use validate::{Invalid, Validate, Validation};
pub use validation::{RequestValidationError, ValidationError};

/// Path-operation macros and the parameter-enum derive.
pub use hasten_macros::{
    delete, dependency, get, head, options, patch, post, put, route, websocket, ParamValue,
};

pub use bytes::Bytes;
pub use http::{self, HeaderMap, HeaderValue, Method, StatusCode};
pub use schemars;
pub use serde_json;

/// What a handler author needs, in one import: `use hasten::prelude::*;`.
pub mod prelude {
    pub use crate::{
        delete, dependency, get, head, options, patch, post, put, route, websocket, App,
        BackgroundTasks, Bytes, Depends, Form, HeaderMap, Html, HttpError, IntoResponse, Json,
        NoCache, ParamValue, Redirect, Request, Response, Router, State, StatusCode,
    };
    pub use schemars::JsonSchema;
    pub use serde::{Deserialize, Serialize};
}

/// Items used by the code the macros generate. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::blocking::{run_blocking, run_blocking_value};
    pub use crate::depends::Dependency;
    pub use crate::extract::{
        enum_error, enum_schema, or_default, DefaultProbe, DefaultViaOpaque, DefaultViaSerialize,
    };
    pub use crate::extract::{
        BodyUse, Checkable, ConstraintTarget, Constraints, Errors, FromRequest, Number, ParamSpec,
        ParamValue, ParseError, RequestCtx, Source,
    };
    pub use crate::json::{JsonBody, JsonProbe, ViaJsonBody, ViaNoJsonBody};
    pub use crate::openapi::OperationDoc;
    pub use crate::openapi::{
        Probe, ResponseDoc, SchemaDoc, ViaDescribe, ViaFallback, ViaMissingSchema,
    };
    pub use crate::operation::{BoxFuture, Operation, OperationMeta};
    pub use crate::pipeline::{finish, run_attached_dependencies, validation_failed};
    pub use crate::response::{IntoResponse, Response};
    pub use crate::response_model::{through_model, ModelOptions};
    pub use crate::set_response::apply_set_response;
    pub use crate::validate::{
        run_optional_validator, run_param_validator, ModelParam, ValidateProbe, ViaNoRule,
        ViaValidate,
    };
    pub use crate::ws::serve_websocket;
    pub use serde_json::Value;
    pub use std::boxed::Box;
    pub use std::option::Option::{self, None, Some};
    pub use std::result::Result::{Err, Ok};
}

/// The README's examples, compiled as doctests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
