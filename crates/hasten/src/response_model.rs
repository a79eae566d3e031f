//! `response_model = T`: the success body is sent through `T`, as FastAPI sends it
//! through its `response_model` — fields `T` lacks are never sent (the way to keep a
//! password hash or an internal flag off the wire), values are converted to `T`'s
//! types, and the `response_model_exclude_*`, `_include` and `_exclude` options drop
//! what they name.
//!
//! The handler's JSON is read into `T` and written back out. A body that does not fit
//! `T` is the server's mistake, not the client's: it is logged and answered with
//! `500 Internal Server Error`, as FastAPI answers its `ResponseValidationError`.

use std::sync::OnceLock;

use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::HeaderValue;
use http_body_util::BodyExt;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::body::Body;
use crate::Response;

/// What a route's `response_model_*` options drop from the body. Built by the route
/// macros, one per route.
#[doc(hidden)]
#[derive(Debug)]
pub struct ModelOptions {
    /// `response_model_exclude_unset`: fields the handler's body did not have (a
    /// default `T` filled in) are left out.
    pub exclude_unset: bool,
    /// `response_model_exclude_none`: `null` fields are left out, at every depth.
    pub exclude_none: bool,
    /// `response_model_exclude_defaults`: fields equal to `T`'s documented default are
    /// left out.
    pub exclude_defaults: bool,
    /// `response_model_include = [...]`: only these top-level fields are sent.
    pub include: Option<&'static [&'static str]>,
    /// `response_model_exclude = [...]`: these top-level fields are not sent.
    pub exclude: &'static [&'static str],
    /// `T`'s JSON Schema, made once, for the defaults.
    pub schema: OnceLock<Value>,
}

impl ModelOptions {
    /// No option set: the body only goes through the model.
    pub const fn new() -> Self {
        ModelOptions {
            exclude_unset: false,
            exclude_none: false,
            exclude_defaults: false,
            include: None,
            exclude: &[],
            schema: OnceLock::new(),
        }
    }
}

impl Default for ModelOptions {
    fn default() -> Self {
        Self::new()
    }
}

/// Send a successful JSON response through the model `M`; anything else (an error, a
/// non-JSON body) passes unchanged. Used by generated code.
#[doc(hidden)]
pub async fn through_model<M>(resp: Response, options: &'static ModelOptions) -> Response
where
    M: DeserializeOwned + Serialize + JsonSchema,
{
    let json = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with(crate::response::APPLICATION_JSON));
    if !resp.status().is_success()
        || !json
        || resp
            .extensions()
            .get::<crate::error::ErrorMarker>()
            .is_some()
    {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let bytes = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return crate::response::internal_error(),
    };
    let written = match filter::<M>(&bytes, options) {
        Ok(written) => written,
        Err(e) => {
            tracing::error!(
                target: "hasten::response_model",
                model = std::any::type_name::<M>(),
                error = %e,
                "the response does not fit its response_model"
            );
            return crate::response::internal_error();
        }
    };
    parts.headers.remove(CONTENT_LENGTH);
    parts
        .headers
        .insert(CONTENT_LENGTH, HeaderValue::from(written.len()));
    Response::from_parts(parts, Body::full(written))
}

/// The body, read into `M`, written back, and the options applied.
fn filter<M>(bytes: &[u8], options: &ModelOptions) -> Result<Vec<u8>, serde_json::Error>
where
    M: DeserializeOwned + Serialize + JsonSchema,
{
    let model: M = serde_json::from_slice(bytes)?;
    let mut out = serde_json::to_value(&model)?;
    if options.exclude_unset {
        // What the handler returned, read again only for this option.
        let original: Value = serde_json::from_slice(bytes)?;
        keep_set(&mut out, &original);
    }
    if options.exclude_defaults {
        let schema = options
            .schema
            .get_or_init(|| schemars::schema_for!(M).to_value());
        let defs = schema.get("$defs").cloned().unwrap_or(Value::Null);
        drop_defaults(&mut out, schema, &defs, 0);
    }
    if options.exclude_none {
        drop_nulls(&mut out);
    }
    if let Value::Object(m) = &mut out {
        if let Some(include) = options.include {
            m.retain(|k, _| include.contains(&k.as_str()));
        }
        m.retain(|k, _| !options.exclude.contains(&k.as_str()));
    }
    serde_json::to_vec(&out)
}

/// Leave out of `out` every field that `original` (what the handler returned) did not
/// have, at every depth.
fn keep_set(out: &mut Value, original: &Value) {
    match (out, original) {
        (Value::Object(o), Value::Object(orig)) => {
            o.retain(|k, _| orig.contains_key(k));
            for (k, v) in o.iter_mut() {
                if let Some(ov) = orig.get(k) {
                    keep_set(v, ov);
                }
            }
        }
        (Value::Array(o), Value::Array(orig)) => {
            for (v, ov) in o.iter_mut().zip(orig) {
                keep_set(v, ov);
            }
        }
        _ => {}
    }
}

/// Leave out every field equal to its schema's `default`, at every depth (following
/// `$ref`s into `defs`).
fn drop_defaults(value: &mut Value, schema: &Value, defs: &Value, depth: usize) {
    if depth > 32 {
        return;
    }
    let schema = resolve(schema, defs);
    match value {
        Value::Object(m) => {
            let Some(Value::Object(props)) = schema.get("properties") else {
                return;
            };
            m.retain(|k, v| {
                props
                    .get(k)
                    .and_then(|p| resolve(p, defs).get("default").or_else(|| p.get("default")))
                    != Some(v)
            });
            for (k, v) in m.iter_mut() {
                if let Some(p) = props.get(k) {
                    drop_defaults(v, nullable_inner(p, defs), defs, depth + 1);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item) = schema.get("items") {
                for v in items {
                    drop_defaults(v, item, defs, depth + 1);
                }
            }
        }
        _ => {}
    }
}

/// A `$ref` into `defs`, followed; anything else as is.
fn resolve<'a>(schema: &'a Value, defs: &'a Value) -> &'a Value {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
        .and_then(|name| defs.get(name))
        .unwrap_or(schema)
}

/// The non-null branch of `anyOf [X, null]`, resolved; anything else resolved.
fn nullable_inner<'a>(schema: &'a Value, defs: &'a Value) -> &'a Value {
    if let Some(Value::Array(branches)) = schema.get("anyOf") {
        if let Some(b) = branches
            .iter()
            .find(|b| b.get("type") != Some(&"null".into()))
        {
            return resolve(b, defs);
        }
    }
    resolve(schema, defs)
}

/// Leave out every `null` field, at every depth.
fn drop_nulls(value: &mut Value) {
    match value {
        Value::Object(m) => {
            m.retain(|_, v| !v.is_null());
            m.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Deserialize, Serialize, JsonSchema)]
    struct Out {
        name: String,
        #[serde(default)]
        tags: Vec<String>,
        #[serde(default = "one")]
        count: u32,
        note: Option<String>,
    }

    fn one() -> u32 {
        1
    }

    fn run(body: Value, options: ModelOptions) -> Value {
        let bytes = serde_json::to_vec(&body).unwrap();
        serde_json::from_slice(&filter::<Out>(&bytes, &options).unwrap()).unwrap()
    }

    #[test]
    fn fields_the_model_lacks_are_never_sent() {
        let body = json!({"name": "ann", "password_hash": "x", "count": 2, "note": null});
        assert_eq!(
            run(body, ModelOptions::new()),
            json!({"name": "ann", "tags": [], "count": 2, "note": null})
        );
    }

    #[test]
    fn each_exclusion_drops_what_it_names() {
        let body = json!({"name": "ann", "count": 1, "note": null});
        let unset = ModelOptions {
            exclude_unset: true,
            ..ModelOptions::new()
        };
        assert_eq!(
            run(body.clone(), unset),
            json!({"name": "ann", "count": 1, "note": null})
        );
        let defaults = ModelOptions {
            exclude_defaults: true,
            ..ModelOptions::new()
        };
        assert_eq!(
            run(body.clone(), defaults),
            json!({"name": "ann", "note": null})
        );
        let none = ModelOptions {
            exclude_none: true,
            ..ModelOptions::new()
        };
        assert_eq!(
            run(body.clone(), none),
            json!({"name": "ann", "tags": [], "count": 1})
        );
        let include = ModelOptions {
            include: Some(&["name"]),
            exclude: &["name"],
            ..ModelOptions::new()
        };
        assert_eq!(run(body, include), json!({}));
    }

    #[test]
    fn a_body_that_does_not_fit_is_an_error() {
        let bytes = serde_json::to_vec(&json!({"count": 1})).unwrap();
        assert!(filter::<Out>(&bytes, &ModelOptions::new()).is_err());
    }
}
