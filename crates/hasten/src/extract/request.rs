//! Whole-request extractors: [`Request`], [`HeaderMap`], [`Bytes`], [`State`],
//! [`Method`](http::Method) and [`Uri`](http::Uri).

use std::any::TypeId;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Method, Uri};

use super::{Errors, Extracted, FromRequest, ParamSpec, RequestCtx};
use crate::body::RequestBody;
use crate::openapi::model::{BodyDoc, OperationDoc};
use crate::HttpError;

/// The raw request: head and whatever of the body no earlier parameter consumed.
pub type Request = http::Request<RequestBody>;

impl FromRequest for Request {
    const BODY: crate::extract::BodyUse = crate::extract::BodyUse::Whole;

    async fn from_request(
        ctx: &mut RequestCtx,
        _spec: &'static ParamSpec,
        _errors: &mut Errors,
    ) -> Extracted<Self> {
        let body = ctx.take_body().unwrap_or_else(RequestBody::empty);
        Some(http::Request::from_parts(ctx.parts.clone(), body))
    }
}

impl FromRequest for HeaderMap {
    async fn from_request(
        ctx: &mut RequestCtx,
        _spec: &'static ParamSpec,
        _errors: &mut Errors,
    ) -> Extracted<Self> {
        Some(ctx.parts.headers.clone())
    }
}

impl FromRequest for Method {
    async fn from_request(
        ctx: &mut RequestCtx,
        _spec: &'static ParamSpec,
        _errors: &mut Errors,
    ) -> Extracted<Self> {
        Some(ctx.parts.method.clone())
    }
}

impl FromRequest for Uri {
    async fn from_request(
        ctx: &mut RequestCtx,
        _spec: &'static ParamSpec,
        _errors: &mut Errors,
    ) -> Extracted<Self> {
        Some(ctx.parts.uri.clone())
    }
}

/// The raw body, read within the app's body limit.
impl FromRequest for Bytes {
    const BODY: crate::extract::BodyUse = crate::extract::BodyUse::Whole;

    async fn from_request(
        ctx: &mut RequestCtx,
        _spec: &'static ParamSpec,
        errors: &mut Errors,
    ) -> Extracted<Self> {
        match ctx.read_body().await {
            Ok(b) => Some(b),
            Err(e) => {
                errors.reject(e.into_http_error());
                None
            }
        }
    }

    fn describe(_spec: &'static ParamSpec, doc: &mut OperationDoc) {
        doc.body = Some(BodyDoc {
            content_types: vec!["application/octet-stream"],
            required: false,
            schema: crate::openapi::model::SchemaDoc::Inline(
                serde_json::json!({ "type": "string", "format": "binary" }),
            ),
            check: || Ok(()),
            name: None,
            per_operation: false,
        });
    }
}

/// App state: a value given to [`App::state`](crate::App::state), shared by all
/// requests. A missing state is an error when the app is built, not at request time.
#[derive(Debug)]
pub struct State<T>(pub Arc<T>);

impl<T> Clone for State<T> {
    fn clone(&self) -> Self {
        State(self.0.clone())
    }
}

impl<T> std::ops::Deref for State<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Send + Sync + 'static> FromRequest for State<T> {
    async fn from_request(
        ctx: &mut RequestCtx,
        _spec: &'static ParamSpec,
        errors: &mut Errors,
    ) -> Extracted<Self> {
        match ctx.state::<T>() {
            Some(v) => Some(State(v)),
            None => {
                tracing::error!(state = std::any::type_name::<T>(), "app state missing");
                errors.reject(HttpError::plain(
                    http::StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal Server Error",
                ));
                None
            }
        }
    }

    fn describe(_spec: &'static ParamSpec, doc: &mut OperationDoc) {
        doc.checks
            .required_state
            .push((TypeId::of::<T>(), std::any::type_name::<T>()));
    }
}

/// The prefix a mounted service was reached under, in its requests' extensions (the
/// URI it sees has the prefix removed), so it can build links back to itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountedAt(pub String);
