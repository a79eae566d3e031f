//! [`Json<T>`]: a JSON request body (validated, every error reported) and a JSON response.

use http::header::CONTENT_TYPE;
use http::HeaderMap;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::body::Body;
use crate::extract::{Errors, Extracted, FromRequest, ParamSpec, RequestCtx};
use crate::openapi::model::{BodyDoc, OperationDoc};
use crate::response::{
    content_type, internal_error, with_type, IntoResponse, Response, APPLICATION_JSON,
};
use crate::validation::compiled::Mode;
use crate::validation::{body, checked, json_invalid, messages, LocItem, ValidationError};

/// JSON body or response.
///
/// As a parameter, `Json<T>` reads the body as `T` (`T: Deserialize + JsonSchema`).
/// `application/json` and `application/*+json` are accepted; any other (or no)
/// `Content-Type` is a 422 `model_attributes_type`, like FastAPI. The constraints
/// `T`'s JSON Schema declares (ranges, lengths, patterns — what the OpenAPI document
/// shows) are always enforced. A valid body takes one typed parse, which checks them on
/// the way; an invalid one is checked against the schema so that *every* missing or
/// wrong field is reported, at `["body", field, …]`. Pydantic's lax conversions are
/// applied too (`"50.5"` is accepted for a float field).
///
/// As a return value, `Json<T>` serialises `T` (`T: Serialize`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Json<T>(pub T);

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> std::ops::DerefMut for Json<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        // A `Vec` writer: serde_json's writes inline into it, where `BytesMut`'s
        // writer costs a call per write.
        let mut buf = Vec::with_capacity(128);
        match serde_json::to_writer(&mut buf, &self.0) {
            Ok(()) => with_type(Body::full(bytes::Bytes::from(buf)), content_type::JSON),
            Err(e) => {
                tracing::error!(error = %e, "failed to serialise JSON response");
                internal_error()
            }
        }
    }
}

/// Whether the request declares a JSON body: `application/json` or `application/*+json`.
pub(crate) fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(CONTENT_TYPE) else {
        return false;
    };
    // The usual value, compared as bytes before anything is parsed.
    if value.as_bytes().eq_ignore_ascii_case(b"application/json") {
        return true;
    }
    let Ok(ct) = value.to_str() else {
        return false;
    };
    let mime = ct.split(';').next().unwrap_or("").trim();
    let Some((ty, sub)) = mime.split_once('/') else {
        return false;
    };
    ty.eq_ignore_ascii_case("application")
        && (sub.eq_ignore_ascii_case("json")
            || sub.len() > 5 && sub[sub.len() - 5..].eq_ignore_ascii_case("+json"))
}

fn body_loc() -> Vec<LocItem> {
    vec![LocItem::Key("body".into())]
}

/// Read and validate a JSON body. `Ok(None)`: no body and none required.
async fn json_body<T>(
    ctx: &mut RequestCtx,
    errors: &mut Errors,
    required: bool,
) -> Option<Option<T>>
where
    T: DeserializeOwned + JsonSchema + 'static,
{
    let json = is_json(ctx.headers());
    let bytes = match ctx.read_body().await {
        Ok(b) => b,
        Err(e) => {
            errors.reject(e.into_http_error());
            return None;
        }
    };
    if bytes.is_empty() {
        if required {
            errors.push(ValidationError::missing().at(body_loc()));
            return None;
        }
        return Some(None);
    }
    // Python's `json.loads` reads past a UTF-8 byte-order mark.
    let bytes = match bytes.strip_prefix(b"\xef\xbb\xbf") {
        Some(rest) => bytes.slice(bytes.len() - rest.len()..),
        None => bytes,
    };
    // An optional body sent as `null` is no body, as in FastAPI.
    if !required && json && bytes.trim_ascii() == b"null" {
        return Some(None);
    }
    if !json {
        let raw = String::from_utf8_lossy(&bytes).into_owned();
        errors.push(messages::model_attributes_type(Value::String(raw)).at(body_loc()));
        return None;
    }
    let compiled = body::schema::<T>(errors)?;
    // Fast path: one typed parse, checking the declared constraints on the way.
    if !compiled.checks {
        if let Ok(v) = serde_json::from_slice::<T>(&bytes) {
            return Some(Some(v));
        }
    } else if !compiled.checks_in_unions {
        if let Ok((v, true)) = checked::from_slice::<T>(&bytes, compiled) {
            return Some(Some(v));
        }
    }
    // Slow path: find every error. A body that is not UTF-8 is not a validation error
    // in FastAPI but a 400.
    if std::str::from_utf8(&bytes).is_err() {
        errors.reject(crate::HttpError::new(
            http::StatusCode::BAD_REQUEST,
            "There was an error parsing the body",
        ));
        return None;
    }
    // A refused body's errors, read from its bytes without building its JSON value;
    // when that walk cannot be sure of them, the value walk below finds them.
    if let Some(found) = compiled.stream_errors(&bytes, &body_loc(), errors.room()) {
        errors.push_all(found);
        return None;
    }
    let value: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => {
            errors.push(json_invalid::json_invalid(&bytes, &e));
            return None;
        }
    };
    body::validate_body::<T>(value, Mode::Json, &body_loc(), errors).map(Some)
}

/// An embedded JSON body parameter: its field of the shared object. `Ok(None)`: absent
/// (a `missing` error was pushed when `required`).
async fn embedded_json<T>(
    ctx: &mut RequestCtx,
    spec: &'static ParamSpec,
    errors: &mut Errors,
    required: bool,
) -> Option<Option<T>>
where
    T: DeserializeOwned + JsonSchema + 'static,
{
    let name = spec.wire_name(crate::extract::Source::Body);
    let loc = vec![LocItem::Key("body".into()), LocItem::Key(name.clone())];
    match ctx.embedded_field(&name, errors).await {
        Err(()) => None,
        Ok(None) if required => {
            errors.push(ValidationError::missing().at(loc));
            None
        }
        Ok(None) => Some(None),
        Ok(Some(serde_json::Value::Null)) if !required => Some(None),
        Ok(Some(value)) => body::validate_body::<T>(value, Mode::Json, &loc, errors).map(Some),
    }
}

fn describe_json<T: JsonSchema + 'static>(
    doc: &mut OperationDoc,
    required: bool,
    spec: &'static ParamSpec,
) {
    doc.body = Some(BodyDoc {
        content_types: vec![APPLICATION_JSON],
        required,
        schema: crate::openapi::model::SchemaDoc::of::<T>(),
        check: body::check_schema::<T>,
        name: Some(spec.name),
        per_operation: false,
    });
}

impl<T> FromRequest for Json<T>
where
    T: DeserializeOwned + JsonSchema + Send + 'static,
{
    const BODY: crate::extract::BodyUse = crate::extract::BodyUse::Json;

    async fn from_request(
        ctx: &mut RequestCtx,
        spec: &'static ParamSpec,
        errors: &mut Errors,
    ) -> Extracted<Self> {
        if spec.embed {
            // Boxed: the embedded path's future is the larger, and rarer, one; it
            // would otherwise size every `Json` extractor's.
            return Box::pin(embedded_json::<T>(ctx, spec, errors, true))
                .await
                .flatten()
                .map(Json);
        }
        json_body::<T>(ctx, errors, true).await.flatten().map(Json)
    }

    fn describe(spec: &'static ParamSpec, doc: &mut OperationDoc) {
        if spec.embed {
            doc.embedded.push(crate::openapi::model::EmbeddedDoc {
                name: spec.wire_name(crate::extract::Source::Body),
                required: true,
                schema: crate::openapi::model::SchemaDoc::of::<T>(),
                check: body::check_schema::<T>,
            });
            return;
        }
        describe_json::<T>(doc, true, spec);
    }
}

impl<T> FromRequest for Option<Json<T>>
where
    T: DeserializeOwned + JsonSchema + Send + 'static,
{
    const BODY: crate::extract::BodyUse = crate::extract::BodyUse::Json;

    async fn from_request(
        ctx: &mut RequestCtx,
        spec: &'static ParamSpec,
        errors: &mut Errors,
    ) -> Extracted<Self> {
        if spec.embed {
            // Boxed: the embedded path's future is the larger, and rarer, one; it
            // would otherwise size every `Json` extractor's.
            return Box::pin(embedded_json::<T>(ctx, spec, errors, false))
                .await
                .map(|o| o.map(Json));
        }
        json_body::<T>(ctx, errors, false)
            .await
            .map(|o| o.map(Json))
    }

    fn describe(spec: &'static ParamSpec, doc: &mut OperationDoc) {
        if spec.embed {
            doc.embedded.push(crate::openapi::model::EmbeddedDoc {
                name: spec.wire_name(crate::extract::Source::Body),
                required: false,
                schema: crate::openapi::model::SchemaDoc::of::<T>(),
                check: body::check_schema::<T>,
            });
            return;
        }
        describe_json::<T>(doc, false, spec);
    }
}

impl<T> crate::validate::probe::ModelParam for Json<T> {
    type Model = T;

    fn model(&self) -> Option<&T> {
        Some(&self.0)
    }

    fn located_input(ctx: &mut RequestCtx, spec: &ParamSpec) -> (Vec<LocItem>, Value) {
        json_input(ctx, spec)
    }
}

impl<T> crate::validate::probe::ModelParam for Option<Json<T>> {
    type Model = T;

    fn model(&self) -> Option<&T> {
        self.as_ref().map(|j| &j.0)
    }

    fn located_input(ctx: &mut RequestCtx, spec: &ParamSpec) -> (Vec<LocItem>, Value) {
        json_input(ctx, spec)
    }
}

/// A JSON body parameter's location and input: the body, or its field when embedded.
fn json_input(ctx: &mut RequestCtx, spec: &ParamSpec) -> (Vec<LocItem>, Value) {
    let body = ctx.raw_json();
    if !spec.embed {
        return (body_loc(), body);
    }
    let name = spec.wire_name(crate::extract::Source::Body);
    let input = match body {
        Value::Object(mut m) => m.remove(name.as_ref()).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    (vec![LocItem::Key("body".into()), LocItem::Key(name)], input)
}

/// What generated code needs of the `T` of a `Json<T>` parameter: its extraction and
/// its documentation, behind one bound. A body type missing
/// `Deserialize` or `JsonSchema` then gets one error, and it names the trait (through
/// `FromRequest` it would name neither).
pub trait JsonBody: Sized {
    /// Read a `Json<Self>` parameter.
    fn extract<'a>(
        ctx: &'a mut RequestCtx,
        spec: &'static ParamSpec,
        errors: &'a mut Errors,
    ) -> impl std::future::Future<Output = Extracted<Json<Self>>> + Send + 'a;

    /// Document a `Json<Self>` parameter.
    fn describe(spec: &'static ParamSpec, doc: &mut OperationDoc);
}

impl<T> JsonBody for T
where
    T: DeserializeOwned + JsonSchema + Send + 'static,
{
    fn extract<'a>(
        ctx: &'a mut RequestCtx,
        spec: &'static ParamSpec,
        errors: &'a mut Errors,
    ) -> impl std::future::Future<Output = Extracted<Json<Self>>> + Send + 'a {
        <Json<T> as FromRequest>::from_request(ctx, spec, errors)
    }

    fn describe(spec: &'static ParamSpec, doc: &mut OperationDoc) {
        <Json<T> as FromRequest>::describe(spec, doc)
    }
}

/// Generated code documents a `Json<T>` parameter through this probe: with
/// [`ViaJsonBody`] when `T` is a [`JsonBody`], else with [`ViaNoJsonBody`], which does
/// nothing. The parameter's extraction requires `T: JsonBody` too, so the fallback never
/// runs; it is there so that a body type missing a trait is reported once, where the
/// parameter is read, and not a second time where it is documented.
pub struct JsonProbe<T>(std::marker::PhantomData<T>);

impl<T> JsonProbe<T> {
    /// A probe for `T`.
    pub const fn new() -> Self {
        JsonProbe(std::marker::PhantomData)
    }
}

impl<T> Default for JsonProbe<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Documents a `Json<T>` parameter whose `T` is a [`JsonBody`].
pub trait ViaJsonBody {
    /// Document the parameter.
    fn describe_json(&self, spec: &'static ParamSpec, doc: &mut OperationDoc);
}

impl<T: JsonBody> ViaJsonBody for &&JsonProbe<T> {
    fn describe_json(&self, spec: &'static ParamSpec, doc: &mut OperationDoc) {
        T::describe(spec, doc)
    }
}

/// The fallback of [`ViaJsonBody`]: never runs (see [`JsonProbe`]).
pub trait ViaNoJsonBody {
    /// Does nothing.
    fn describe_json(&self, spec: &'static ParamSpec, doc: &mut OperationDoc);
}

impl<T> ViaNoJsonBody for JsonProbe<T> {
    fn describe_json(&self, _spec: &'static ParamSpec, _doc: &mut OperationDoc) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types() {
        let mut h = HeaderMap::new();
        for (ct, ok) in [
            ("application/json", true),
            ("application/json; charset=utf-8", true),
            ("application/vnd.api+json", true),
            ("Application/JSON", true),
            ("text/plain", false),
            ("application/x-www-form-urlencoded", false),
            ("application/jsonx", false),
        ] {
            h.insert(CONTENT_TYPE, ct.parse().unwrap());
            assert_eq!(is_json(&h), ok, "{ct}");
        }
        assert!(!is_json(&HeaderMap::new()));
    }
}
