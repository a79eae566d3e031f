//! RFC 9457 problem details (`application/problem+json`), the answer of apps that opt
//! in with [`App::problem_details`](crate::App::problem_details).

use http::header::CONTENT_TYPE;
use http::{HeaderValue, StatusCode};
use schemars::JsonSchema;
use serde::Serialize;

use crate::runtime::ErrorContext;
use crate::validation::{RequestValidationError, ValidationError};
use crate::{HttpError, Response};

/// The media type of a problem.
pub(crate) const PROBLEM_JSON: &str = "application/problem+json";

/// A problem, as RFC 9457 describes one.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ProblemDetails {
    /// A URI naming the kind of problem; `about:blank` when the status says it all.
    #[serde(rename = "type")]
    pub kind: String,
    /// The status's reason phrase.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong, for a person.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The request path it happened at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// For invalid input: every error, as FastAPI lists them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<ValidationError>>,
}

impl ProblemDetails {
    fn new(status: StatusCode, ctx: &ErrorContext) -> Self {
        ProblemDetails {
            kind: "about:blank".into(),
            title: crate::error::reason_phrase(status)
                .unwrap_or("Error")
                .to_owned(),
            status: status.as_u16(),
            detail: None,
            instance: Some(ctx.uri.path().to_owned()).filter(|p| !p.is_empty()),
            errors: None,
        }
    }

    fn into_response(self, extra: Option<&http::HeaderMap>) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let bytes = serde_json::to_vec(&self).unwrap_or_default();
        let mut resp = Response::new(crate::body::Body::full(bytes));
        *resp.status_mut() = status;
        let headers = resp.headers_mut();
        if let Some(extra) = extra {
            for (k, v) in extra {
                headers.append(k, v.clone());
            }
        }
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        resp
    }
}

/// Invalid input as a problem: 422, the errors under `errors`.
pub(crate) fn validation(errors: &RequestValidationError, ctx: &ErrorContext) -> Response {
    let mut p = ProblemDetails::new(StatusCode::UNPROCESSABLE_ENTITY, ctx);
    p.detail = Some("The request's input is invalid.".into());
    p.errors = Some(errors.errors().to_vec());
    p.into_response(None)
}

/// An `HttpError` as a problem: its status, and its detail as text.
pub(crate) fn http(error: &HttpError, ctx: &ErrorContext) -> Response {
    let mut p = ProblemDetails::new(error.status(), ctx);
    p.detail = Some(match error.detail() {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    p.into_response(Some(error.headers()))
}
