//! How schemas are written: the last pass over every schema of the document, so that by
//! default it reads as FastAPI's document for the same app, key for key.
//!
//! schemars and pydantic describe the same values in different words. This pass rewrites
//! schemars' words into pydantic's where they differ:
//!
//! - a nullable type is `anyOf: [{…}, {"type": "null"}]`, not `"type": [T, "null"]`,
//!   with the keywords that constrain the value inside the first branch;
//! - a `null` default is not written;
//! - an enum whose variants carry doc comments is `enum: […]`, not a `oneOf` of `const`s;
//! - a map with integer keys is `additionalProperties`, not `patternProperties`;
//! - numbers carry no Rust `format` (`int64`, `double` …) and no bound that is only their
//!   type's range — unless [`DocStyle::precise_numbers`] keeps them.

use serde_json::{Map, Value};

/// How the OpenAPI document is written.
///
/// The default is FastAPI's document for the same app: a team that ports a FastAPI
/// service keeps its snapshot tests and generated clients. Two opt-ins say more than
/// FastAPI says, for tools that hold the server to its document (schemathesis, say):
///
/// - [`precise_numbers`](Self::precise_numbers): integers and floats carry their Rust
///   `format` (`int32`, `uint8`, `double` …) and their type's range as `minimum` and
///   `maximum`. hasten refuses a value outside a field's type with a 422 in either
///   style; this one documents it.
/// - [`complete_statuses`](Self::complete_statuses): operations with a body document
///   the `400` hasten answers when the body is not text, and secured operations the
///   `401` it answers without credentials. FastAPI answers both too, without saying so.
///
/// ```
/// use hasten::App;
/// use hasten::openapi::DocStyle;
///
/// let app = App::new().openapi_style(DocStyle::complete());
/// let fastapi_like = App::new().openapi_style(DocStyle::fastapi().precise_numbers(true));
/// # let _ = (app, fastapi_like);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DocStyle {
    precise_numbers: bool,
    complete_statuses: bool,
}

impl DocStyle {
    /// FastAPI's document, key for key (the default).
    pub const fn fastapi() -> Self {
        DocStyle {
            precise_numbers: false,
            complete_statuses: false,
        }
    }

    /// Everything hasten enforces, documented: precise numbers and complete statuses.
    pub const fn complete() -> Self {
        DocStyle {
            precise_numbers: true,
            complete_statuses: true,
        }
    }

    /// Document numbers' Rust formats and their types' ranges.
    pub const fn precise_numbers(mut self, on: bool) -> Self {
        self.precise_numbers = on;
        self
    }

    /// Document the 400 (body not text) and 401 (no credentials) responses.
    pub const fn complete_statuses(mut self, on: bool) -> Self {
        self.complete_statuses = on;
        self
    }

    /// Whether numbers carry their Rust formats and ranges.
    pub const fn has_precise_numbers(&self) -> bool {
        self.precise_numbers
    }

    /// Whether the 400 and 401 responses are documented.
    pub const fn has_complete_statuses(&self) -> bool {
        self.complete_statuses
    }
}

/// The keywords that constrain a value of one type: they go into the first branch when a
/// nullable type becomes `anyOf`. Annotations (`title`, `description`, `default`,
/// `examples`, `deprecated` …) stay outside, as pydantic writes them.
const VALUE_KEYWORDS: &[&str] = &[
    "format",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "items",
    "prefixItems",
    "minItems",
    "maxItems",
    "uniqueItems",
    "properties",
    "required",
    "additionalProperties",
    "patternProperties",
    "propertyNames",
    "minProperties",
    "maxProperties",
    "enum",
    "const",
    "contentMediaType",
    "contentEncoding",
];

/// Keywords whose values are data, not schemas: never rewritten.
const DATA_KEYWORDS: &[&str] = &["default", "examples", "example", "enum", "const"];

/// Rewrite `schema` and every schema inside it.
pub(crate) fn schema(node: &mut Value, style: DocStyle) {
    let Value::Object(m) = node else { return };
    for (key, value) in m.iter_mut() {
        if DATA_KEYWORDS.contains(&key.as_str()) {
            continue;
        }
        match value {
            Value::Object(_) => {
                // `properties`, `$defs`, `patternProperties`: maps of schemas.
                if matches!(
                    key.as_str(),
                    "properties" | "$defs" | "patternProperties" | "dependentSchemas"
                ) {
                    if let Value::Object(inner) = value {
                        for v in inner.values_mut() {
                            schema(v, style);
                        }
                    }
                } else {
                    schema(value, style);
                }
            }
            Value::Array(items) => {
                for v in items {
                    schema(v, style);
                }
            }
            _ => {}
        }
    }
    if m.get("default") == Some(&Value::Null) {
        m.remove("default");
    }
    enum_of_consts(m);
    integer_keys(m);
    nullable(m);
    if !style.precise_numbers {
        plain_number(m);
    }
}

/// `"type": [T, "null"]` → `anyOf: [{"type": T, …}, {"type": "null"}]`.
fn nullable(m: &mut Map<String, Value>) {
    let Some(Value::Array(types)) = m.get("type") else {
        return;
    };
    if types.len() != 2 || !types.contains(&Value::from("null")) {
        return;
    }
    let other = types.iter().find(|t| *t != "null").cloned();
    let mut inner = Map::new();
    inner.insert("type".into(), other.unwrap_or(Value::Null));
    for key in VALUE_KEYWORDS {
        // `format: password` marks the field for UIs; pydantic writes it outside.
        if *key == "format" && m.get("format") == Some(&Value::from("password")) {
            continue;
        }
        if let Some(v) = m.remove(*key) {
            inner.insert((*key).into(), v);
        }
    }
    m.remove("type");
    m.insert(
        "anyOf".into(),
        Value::Array(vec![
            Value::Object(inner),
            serde_json::json!({ "type": "null" }),
        ]),
    );
}

/// The range of each Rust integer format schemars writes.
fn integer_range(format: &str) -> Option<(i128, i128)> {
    Some(match format {
        "int8" => (i8::MIN as i128, i8::MAX as i128),
        "int16" => (i16::MIN as i128, i16::MAX as i128),
        "int32" => (i32::MIN as i128, i32::MAX as i128),
        "int64" | "int" => (i64::MIN as i128, i64::MAX as i128),
        "uint8" => (0, u8::MAX as i128),
        "uint16" => (0, u16::MAX as i128),
        "uint32" => (0, u32::MAX as i128),
        "uint64" | "uint" => (0, u64::MAX as i128),
        "int128" => (i128::MIN, i128::MAX),
        "uint128" => (0, i128::MAX),
        _ => return None,
    })
}

fn as_i128(v: &Value) -> Option<i128> {
    let n = v.as_number()?;
    n.as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from))
}

/// Drop a Rust number format, and a bound that is exactly the type's range; a bound the
/// user set (or a format that is not a Rust type's) stays.
fn plain_number(m: &mut Map<String, Value>) {
    if let Some(Value::Array(branches)) = m.get_mut("anyOf") {
        for b in branches {
            if let Value::Object(b) = b {
                plain_number(b);
            }
        }
    }
    let format = m.get("format").and_then(Value::as_str);
    match (m.get("type").and_then(Value::as_str), format) {
        (Some("integer"), Some(f)) => {
            let Some((low, high)) = integer_range(f) else {
                return;
            };
            m.remove("format");
            // An unsigned type's `minimum: 0` stays: it is what FastAPI writes for the
            // `Field(ge=0)` such a field ports, and what the server holds to.
            if low != 0 && m.get("minimum").and_then(as_i128) == Some(low) {
                m.remove("minimum");
            }
            if m.get("maximum").and_then(as_i128) == Some(high) {
                m.remove("maximum");
            }
        }
        (Some("number"), Some("float" | "double")) => {
            m.remove("format");
        }
        _ => {}
    }
}

/// A `oneOf` whose branches are each one `const` of one type (schemars' enum of
/// documented unit variants) → `"type": T, "enum": […]`, as pydantic writes every enum.
/// The variants' doc comments have no place there and are dropped, as pydantic drops them.
fn enum_of_consts(m: &mut Map<String, Value>) {
    let Some(Value::Array(branches)) = m.get("oneOf") else {
        return;
    };
    let mut kind: Option<&Value> = None;
    let mut values = Vec::with_capacity(branches.len());
    for b in branches {
        let Value::Object(b) = b else { return };
        let Some(c) = b.get("const") else { return };
        if b.keys()
            .any(|k| !matches!(k.as_str(), "const" | "type" | "description" | "title"))
        {
            return;
        }
        match (kind, b.get("type")) {
            (_, None) => return,
            (None, Some(t)) => kind = Some(t),
            (Some(k), Some(t)) if k != t => return,
            _ => {}
        }
        values.push(c.clone());
    }
    let Some(kind) = kind.cloned() else { return };
    m.remove("oneOf");
    m.insert("type".into(), kind);
    m.insert("enum".into(), Value::Array(values));
}

/// A map with integer keys: schemars writes `patternProperties: {"^-?\\d+$": V}` and
/// `additionalProperties: false`; pydantic writes `additionalProperties: V`.
fn integer_keys(m: &mut Map<String, Value>) {
    let Some(Value::Object(patterns)) = m.get("patternProperties") else {
        return;
    };
    if patterns.len() != 1
        || m.get("additionalProperties") != Some(&Value::Bool(false))
        || m.contains_key("properties")
    {
        return;
    }
    let Some(Value::Object(mut patterns)) = m.remove("patternProperties") else {
        return;
    };
    let value = patterns
        .values_mut()
        .next()
        .map(std::mem::take)
        .unwrap_or(Value::Bool(true));
    m.insert("additionalProperties".into(), value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fastapi(mut v: Value) -> Value {
        schema(&mut v, DocStyle::fastapi());
        v
    }

    #[test]
    fn nullable_types_become_any_of_with_their_constraints_inside() {
        assert_eq!(
            fastapi(
                json!({"type": ["string", "null"], "format": "uri", "minLength": 1,
                           "title": "Website", "default": null})
            ),
            json!({"anyOf": [{"type": "string", "format": "uri", "minLength": 1},
                             {"type": "null"}], "title": "Website"})
        );
        assert_eq!(
            fastapi(json!({"type": ["integer", "null"], "format": "int64", "minimum": 0})),
            json!({"anyOf": [{"type": "integer", "minimum": 0}, {"type": "null"}]})
        );
    }

    #[test]
    fn rust_number_formats_and_type_ranges_go_user_bounds_stay() {
        assert_eq!(
            fastapi(json!({"type": "integer", "format": "uint8", "minimum": 0, "maximum": 255})),
            json!({"type": "integer", "minimum": 0})
        );
        assert_eq!(
            fastapi(json!({"type": "integer", "format": "int64", "minimum": 1,
                           "maximum": 9223372036854775807u64})),
            json!({"type": "integer", "minimum": 1})
        );
        assert_eq!(
            fastapi(json!({"type": "number", "format": "double", "maximum": 5.0})),
            json!({"type": "number", "maximum": 5.0})
        );
        // A format that is not a Rust number's is the user's.
        assert_eq!(
            fastapi(json!({"type": "string", "format": "date-time"})),
            json!({"type": "string", "format": "date-time"})
        );
        let precise = json!({"type": "integer", "format": "uint8", "minimum": 0, "maximum": 255});
        let mut kept = precise.clone();
        schema(&mut kept, DocStyle::fastapi().precise_numbers(true));
        assert_eq!(kept, precise);
    }

    #[test]
    fn documented_enums_and_integer_keyed_maps_read_as_pydantic_writes_them() {
        assert_eq!(
            fastapi(json!({"oneOf": [
                {"type": "string", "const": "a", "description": "First."},
                {"type": "string", "const": "b"}], "title": "Order"})),
            json!({"type": "string", "enum": ["a", "b"], "title": "Order"})
        );
        // A oneOf of anything else is left alone.
        let mixed = json!({"oneOf": [{"type": "string", "const": "a"}, {"type": "integer"}]});
        assert_eq!(fastapi(mixed.clone()), mixed);
        assert_eq!(
            fastapi(json!({"type": "object", "additionalProperties": false,
                           "patternProperties": {"^-?\\d+$": {"type": "number", "format": "double"}}})),
            json!({"type": "object", "additionalProperties": {"type": "number"}})
        );
    }

    #[test]
    fn data_is_never_rewritten() {
        let v = json!({"type": "object", "default": {"type": ["string", "null"]},
                       "examples": [{"format": "int64", "type": "integer"}]});
        assert_eq!(fastapi(v.clone()), v);
    }
}
