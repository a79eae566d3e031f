//! Parameter models, as in FastAPI 0.115 (`Annotated[FilterParams, Query()]`): one
//! struct holds several query, header or cookie parameters, each field validated with
//! the constraints its schema declares, all errors in the one 422, each field
//! documented as its own parameter. `#[serde(deny_unknown_fields)]` is pydantic's
//! `extra = "forbid"`: an unknown parameter is an `extra_forbidden` error.
//!
//! ```
//! use hasten::prelude::*;
//! use hasten::Query;
//!
//! #[derive(Deserialize, Serialize, JsonSchema)]
//! #[serde(deny_unknown_fields)]
//! struct Filter {
//!     #[schemars(range(min = 1, max = 100))]
//!     #[serde(default = "hundred")]
//!     limit: u32,
//!     #[serde(default)]
//!     tags: Vec<String>,
//! }
//!
//! fn hundred() -> u32 { 100 }
//!
//! /// Items, filtered.
//! #[get("/items/")]
//! async fn items(filter: Query<Filter>) -> Json<Filter> {
//!     Json(filter.0)
//! }
//! # let _ = App::new().route(items).build().unwrap();
//! ```

use std::borrow::Cow;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::{Errors, Extracted, FromRequest, ParamSpec, RequestCtx, Source};
use crate::openapi::model::{OperationDoc, ParamDoc};
use crate::validation::compiled::{compiled_of, Kind, Mode, Type};
use crate::validation::{body, LocItem};

/// Query parameters read into one struct: `filter: Query<Filter>`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Query<T>(pub T);

/// Headers read into one struct: `headers: Header<CommonHeaders>`. Field names are
/// header names with `_` for `-` (`x_token` is `x-token`), as FastAPI does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Header<T>(pub T);

/// Cookies read into one struct: `cookies: Cookie<Session>`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cookie<T>(pub T);

macro_rules! deref {
    ($($name:ident),*) => {$(
        impl<T> std::ops::Deref for $name<T> {
            type Target = T;
            fn deref(&self) -> &T {
                &self.0
            }
        }
    )*};
}

deref!(Query, Header, Cookie);

/// The wire name of a field read from `source`.
fn wire(field: &str, source: Source) -> Cow<'_, str> {
    if source == Source::Header {
        Cow::Owned(field.replace('_', "-"))
    } else {
        Cow::Borrowed(field)
    }
}

/// The model's fields: each name, and whether it takes a list (repeated values).
fn fields<T: JsonSchema + 'static>() -> Result<Vec<(String, bool)>, String> {
    let compiled = compiled_of::<T>()?;
    let node = compiled.resolve(compiled.root);
    let Kind::Typed {
        ty: Type::Object { properties, .. },
        ..
    } = &node.kind
    else {
        return Err(format!(
            "`{}` is not a struct of named fields",
            std::any::type_name::<T>()
        ));
    };
    Ok(properties
        .iter()
        .map(|(name, id, _)| {
            let list = matches!(
                compiled.resolve(*id).kind,
                Kind::Typed {
                    ty: Type::Array { .. },
                    ..
                }
            );
            (name.clone(), list)
        })
        .collect())
}

/// The parameters from `source`, as the JSON object FastAPI validates: one string per
/// field (the last value), a list for list fields, and the other names too, as sent
/// (so that a model that forbids extras can say which — for headers, as FastAPI, that
/// is every header the model does not name).
fn collect(ctx: &mut RequestCtx, source: Source, fields: &[(String, bool)]) -> Value {
    let pairs: Vec<(String, String)> = match source {
        Source::Query => ctx.query_pairs().to_vec(),
        Source::Header => ctx
            .parts
            .headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect(),
        _ => super::param::cookies(&ctx.parts.headers)
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
    };
    let mut map = Map::new();
    for (key, value) in pairs {
        let field = fields.iter().find(|(name, _)| wire(name, source) == key);
        let name = field.map_or(key.clone(), |(n, _)| n.clone());
        match field {
            Some((_, true)) => match map.entry(name).or_insert_with(|| Value::Array(Vec::new())) {
                Value::Array(list) => list.push(Value::String(value)),
                other => *other = Value::String(value),
            },
            _ => {
                map.insert(name, Value::String(value));
            }
        }
    }
    Value::Object(map)
}

async fn extract<T: DeserializeOwned + JsonSchema + 'static>(
    ctx: &mut RequestCtx,
    source: Source,
    errors: &mut Errors,
) -> Option<T> {
    let fields = match fields::<T>() {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(error = %e, "a parameter model's schema cannot be used");
            errors.reject(crate::HttpError::plain(
                http::StatusCode::INTERNAL_SERVER_ERROR,
                "Internal Server Error",
            ));
            return None;
        }
    };
    let object = collect(ctx, source, &fields);
    let loc = [LocItem::Key(source.loc_name().into())];
    // Errors are located at the field's wire name, as FastAPI locates them.
    let before = errors.validation.errors().len();
    let value = body::validate_body::<T>(object, Mode::Params, &loc, errors);
    if source == Source::Header {
        errors
            .validation
            .rename_locs(before, |key| key.replace('_', "-"));
    }
    value
}

/// Document each field as its own parameter. Named types a field uses (an enum, say)
/// are referenced from the document's components, as FastAPI references them.
fn describe<T: JsonSchema + 'static>(
    spec: &'static ParamSpec,
    doc: &mut OperationDoc,
    source: Source,
) {
    let schema = schemars::schema_for!(T).to_value();
    let definitions: Vec<(String, Value)> = schema
        .get("$defs")
        .and_then(Value::as_object)
        .map(|defs| {
            defs.iter()
                .map(|(name, def)| (name.clone(), component_refs(def.clone())))
                .collect()
        })
        .unwrap_or_default();
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (name, prop) in props {
        let schema = component_refs(prop.clone());
        let refers = schema.to_string().contains("#/components/schemas/");
        doc.params.push(ParamDoc {
            spec,
            source,
            name: Cow::Owned(wire(name, source).into_owned()),
            required: required.contains(&name.as_str()),
            schema,
            nullable: false,
            title: Some(crate::openapi::describe::title_case(name)),
            definitions: if refers {
                definitions.clone()
            } else {
                Vec::new()
            },
            dependency: Vec::new(),
        });
    }
}

/// A schema whose references into the model's own `$defs` point into the document's
/// components instead.
fn component_refs(schema: Value) -> Value {
    match schema {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => {
                        let r = match r.strip_prefix("#/$defs/") {
                            Some(name) => format!("#/components/schemas/{name}"),
                            None => r,
                        };
                        (k, Value::String(r))
                    }
                    (_, v) => (k, component_refs(v)),
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(component_refs).collect()),
        other => other,
    }
}

macro_rules! model_param {
    ($name:ident, $source:expr) => {
        impl<T> FromRequest for $name<T>
        where
            T: DeserializeOwned + JsonSchema + Send + 'static,
        {
            async fn from_request(
                ctx: &mut RequestCtx,
                _spec: &'static ParamSpec,
                errors: &mut Errors,
            ) -> Extracted<Self> {
                extract::<T>(ctx, $source, errors).await.map($name)
            }

            fn describe(spec: &'static ParamSpec, doc: &mut OperationDoc) {
                describe::<T>(spec, doc, $source);
            }
        }

        impl<T> crate::validate::probe::ModelParam for $name<T>
        where
            T: JsonSchema + 'static,
        {
            type Model = T;

            fn model(&self) -> Option<&T> {
                Some(&self.0)
            }

            fn located_input(ctx: &mut RequestCtx, _spec: &ParamSpec) -> (Vec<LocItem>, Value) {
                let fields = fields::<T>().unwrap_or_default();
                let input = collect(ctx, $source, &fields);
                (vec![LocItem::Key($source.loc_name().into())], input)
            }
        }
    };
}

model_param!(Query, Source::Query);
model_param!(Header, Source::Header);
model_param!(Cookie, Source::Cookie);
