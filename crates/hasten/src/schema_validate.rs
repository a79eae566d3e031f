//! The slow path of body validation: check a parsed body against its type's JSON Schema,
//! collecting *every* error with pydantic's wording and applying pydantic's lax
//! coercions (`"50.5"` for a float, `"3"` for an int, `"yes"` for a bool).
//!
//! Only runs after the one typed parse of the fast path failed. The schema is what
//! schemars 1 generates (JSON Schema 2020-12, named types under `$defs`); keywords it
//! does not emit are ignored. See `docs/decisions/0002-body-validation.md`.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Map, Number, Value};

use crate::validation::{messages, LocItem, ValidationError};

/// How deep the walk goes; anything deeper is left to serde.
const MAX_DEPTH: usize = 64;

/// What kind of input is being validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// A parsed JSON body.
    Json,
    /// An urlencoded form: every value is a string, repeated keys are arrays.
    Form,
}

/// The root schema of `T`, generated once per type.
pub(crate) fn schema_of<T: schemars::JsonSchema + 'static>() -> Arc<Value> {
    static CACHE: OnceLock<Mutex<HashMap<TypeId, Arc<Value>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let id = TypeId::of::<T>();
    if let Some(s) = cache.lock().ok().and_then(|c| c.get(&id).cloned()) {
        return s;
    }
    let schema = Arc::new(schemars::schema_for!(T).to_value());
    if let Ok(mut c) = cache.lock() {
        c.insert(id, schema.clone());
    }
    schema
}

/// Validate `value` against `root`. `Ok`: the coerced value; `Err`: the errors, each
/// `loc` starting with `loc_prefix` — every one up to `room`, then one more (so the
/// caller knows the list was cut) and the walk stops.
pub(crate) fn validate(
    root: &Value,
    value: Value,
    mode: Mode,
    loc_prefix: &[LocItem],
    room: usize,
) -> Result<Value, Vec<ValidationError>> {
    let mut v = Validator {
        root,
        mode,
        room,
        errors: Vec::new(),
    };
    let mut loc = loc_prefix.to_vec();
    let out = v.check(root, value, &mut loc, 0);
    if v.errors.is_empty() {
        Ok(out)
    } else {
        Err(v.errors)
    }
}

struct Validator<'a> {
    root: &'a Value,
    mode: Mode,
    /// How many errors are wanted; one more is kept to show there were more.
    room: usize,
    errors: Vec<ValidationError>,
}

impl<'a> Validator<'a> {
    fn full(&self) -> bool {
        self.errors.len() > self.room
    }

    fn fail(&mut self, err: ValidationError, loc: &[LocItem]) {
        if !self.full() {
            self.errors.push(err.at(loc.to_vec()));
        }
    }

    fn resolve(&self, reference: &str) -> Option<&'a Value> {
        let name = reference
            .strip_prefix("#/$defs/")
            .or_else(|| reference.strip_prefix("#/definitions/"))?;
        self.root
            .get("$defs")
            .or_else(|| self.root.get("definitions"))?
            .get(name)
    }

    /// Check one value; return it coerced (or unchanged where it failed).
    fn check(
        &mut self,
        schema: &'a Value,
        value: Value,
        loc: &mut Vec<LocItem>,
        depth: usize,
    ) -> Value {
        if depth > MAX_DEPTH || self.full() {
            return value;
        }
        let Value::Object(s) = schema else {
            return value; // `true`, `false` or garbage: nothing to check
        };
        if let Some(Value::String(r)) = s.get("$ref") {
            return match self.resolve(r) {
                Some(target) => self.check(target, value, loc, depth + 1),
                None => value,
            };
        }
        let mut value = value;
        if let Some(Value::Array(all)) = s.get("allOf") {
            for sub in all {
                value = self.check(sub, value, loc, depth + 1);
            }
        }
        if let Some(Value::Array(branches)) = s.get("anyOf").or_else(|| s.get("oneOf")) {
            return self.union(branches, value, loc, depth);
        }
        if let Some(expected) = s.get("const") {
            return self.constant(expected, value, loc);
        }
        if let Some(Value::Array(choices)) = s.get("enum") {
            return self.enumeration(choices, value, loc);
        }
        match s.get("type") {
            Some(Value::String(t)) => self.typed(t, s, value, loc, depth),
            Some(Value::Array(types)) => {
                if value.is_null() && types.iter().any(|t| t == "null") {
                    return Value::Null;
                }
                match types
                    .iter()
                    .filter_map(Value::as_str)
                    .find(|t| *t != "null")
                {
                    Some(t) => self.typed(t, s, value, loc, depth),
                    None => value,
                }
            }
            _ => value,
        }
    }

    fn typed(
        &mut self,
        ty: &str,
        s: &'a Map<String, Value>,
        value: Value,
        loc: &mut Vec<LocItem>,
        depth: usize,
    ) -> Value {
        match ty {
            "object" => self.object(s, value, loc, depth),
            "array" => self.array(s, value, loc, depth),
            "string" => self.string(s, value, loc),
            "integer" => self.integer(s, value, loc),
            "number" => self.number(s, value, loc),
            "boolean" => self.boolean(value, loc),
            "null" => {
                if !value.is_null() {
                    self.fail(
                        ValidationError::new(
                            "none_required",
                            "Input should be None",
                            value.clone(),
                        ),
                        loc,
                    );
                }
                value
            }
            _ => value,
        }
    }

    fn object(
        &mut self,
        s: &'a Map<String, Value>,
        value: Value,
        loc: &mut Vec<LocItem>,
        depth: usize,
    ) -> Value {
        let props = s.get("properties").and_then(Value::as_object);
        let Value::Object(mut map) = value else {
            let err = if props.is_some() {
                messages::model_attributes_type(value.clone())
            } else {
                messages::dict_type(value.clone())
            };
            self.fail(err, loc);
            return value;
        };
        if self.mode == Mode::Form {
            // FastAPI treats an empty form field as absent.
            map.retain(|_, v| v.as_str() != Some(""));
        }
        let required: Vec<&str> = s
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let original = Value::Object(map.clone());
        let mut out = Map::with_capacity(map.len());
        if let Some(props) = props {
            for (name, sub) in props {
                loc.push(LocItem::Key(name.clone().into()));
                match map.remove(name) {
                    Some(v) => {
                        let v = self.check(sub, v, loc, depth + 1);
                        out.insert(name.clone(), v);
                    }
                    None if required.contains(&name.as_str()) => {
                        let mut e = ValidationError::missing();
                        e.input = original.clone();
                        self.fail(e, loc);
                    }
                    None => {}
                }
                loc.pop();
            }
        }
        match s.get("additionalProperties") {
            Some(Value::Bool(false)) => {
                for (k, v) in map {
                    loc.push(LocItem::Key(k.into()));
                    self.fail(messages::extra_forbidden(v), loc);
                    loc.pop();
                }
            }
            Some(extra @ Value::Object(_)) => {
                for (k, v) in map {
                    loc.push(LocItem::Key(k.clone().into()));
                    let v = self.check(extra, v, loc, depth + 1);
                    loc.pop();
                    out.insert(k, v);
                }
            }
            _ => out.extend(map),
        }
        Value::Object(out)
    }

    fn array(
        &mut self,
        s: &'a Map<String, Value>,
        value: Value,
        loc: &mut Vec<LocItem>,
        depth: usize,
    ) -> Value {
        let value = match value {
            Value::String(_) if self.mode == Mode::Form => Value::Array(vec![value]),
            v => v,
        };
        let Value::Array(items) = value else {
            self.fail(messages::list_type(value.clone()), loc);
            return value;
        };
        let n = items.len() as u64;
        let input = Value::Array(items.clone());
        let prefix = s.get("prefixItems").and_then(Value::as_array);
        let rest = s.get("items");
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            let sub = prefix.and_then(|p| p.get(i)).or(rest);
            let item = match sub {
                Some(sub) => {
                    loc.push(LocItem::Index(i));
                    let v = self.check(sub, item, loc, depth + 1);
                    loc.pop();
                    v
                }
                None => item,
            };
            out.push(item);
        }
        if let Some(min) = s.get("minItems").and_then(Value::as_u64).filter(|m| n < *m) {
            self.fail(messages::too_short(input, min, n), loc);
        } else if let Some(max) = s.get("maxItems").and_then(Value::as_u64).filter(|m| n > *m) {
            self.fail(messages::too_long(input, max, n), loc);
        }
        Value::Array(out)
    }

    fn string(&mut self, s: &'a Map<String, Value>, value: Value, loc: &mut [LocItem]) -> Value {
        let Value::String(text) = &value else {
            self.fail(messages::string_type(value.clone()), loc);
            return value;
        };
        let n = text.chars().count() as u64;
        if let Some(min) = s
            .get("minLength")
            .and_then(Value::as_u64)
            .filter(|m| n < *m)
        {
            self.fail(messages::string_too_short(value.clone(), min), loc);
        } else if let Some(max) = s
            .get("maxLength")
            .and_then(Value::as_u64)
            .filter(|m| n > *m)
        {
            self.fail(messages::string_too_long(value.clone(), max), loc);
        } else if let Some(Value::String(p)) = s.get("pattern") {
            if !pattern_matches(p, text) {
                self.fail(messages::string_pattern_mismatch(value.clone(), p), loc);
            }
        }
        value
    }

    fn integer(&mut self, s: &'a Map<String, Value>, value: Value, loc: &mut [LocItem]) -> Value {
        let parsed: Result<i128, ValidationError> = match &value {
            Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
                (Some(i), _, _) => Ok(i as i128),
                (_, Some(u), _) => Ok(u as i128),
                (_, _, Some(f)) if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e38 => {
                    Ok(f as i128)
                }
                (_, _, Some(f)) if f.is_finite() => Err(messages::int_from_float(value.clone())),
                _ => Err(messages::int_parsing(value.clone())),
            },
            Value::String(text) => {
                parse_int_str(text).ok_or_else(|| messages::int_parsing(value.clone()))
            }
            Value::Bool(b) if self.mode == Mode::Json => Ok(i128::from(*b)),
            _ => Err(messages::int_type(value.clone())),
        };
        let i = match parsed {
            Ok(i) => i,
            Err(e) => {
                self.fail(e, loc);
                return value;
            }
        };
        let (fmin, fmax) = format_bounds(s.get("format").and_then(Value::as_str));
        if let Some(e) = check_bounds(s, i as f64, Some(i), &value, fmin, fmax) {
            self.fail(e, loc);
            return value;
        }
        if let Ok(v) = i64::try_from(i) {
            Value::Number(v.into())
        } else if let Ok(v) = u64::try_from(i) {
            Value::Number(v.into())
        } else {
            value
        }
    }

    fn number(&mut self, s: &'a Map<String, Value>, value: Value, loc: &mut [LocItem]) -> Value {
        let parsed = match &value {
            Value::Number(n) => n.as_f64().ok_or(()),
            Value::String(text) => parse_float_str(text).ok_or(()),
            Value::Bool(b) if self.mode == Mode::Json => Ok(f64::from(u8::from(*b))),
            _ => Err(()),
        };
        let f = match parsed {
            Ok(f) => f,
            Err(()) => {
                let e = if value.is_string() {
                    messages::float_parsing(value.clone())
                } else {
                    messages::float_type(value.clone())
                };
                self.fail(e, loc);
                return value;
            }
        };
        if let Some(e) = check_bounds(s, f, None, &value, None, None) {
            self.fail(e, loc);
            return value;
        }
        match (&value, Number::from_f64(f)) {
            (Value::Number(_), _) => value,
            (_, Some(n)) => Value::Number(n),
            // inf / nan cannot be JSON numbers; leave the string for serde to judge.
            (_, None) => value,
        }
    }

    fn boolean(&mut self, value: Value, loc: &mut [LocItem]) -> Value {
        let parsed = match &value {
            Value::Bool(b) => Ok(*b),
            Value::Number(n) => match n.as_f64() {
                Some(0.0) => Ok(false),
                Some(1.0) => Ok(true),
                _ => Err(messages::bool_parsing(value.clone())),
            },
            Value::String(text) => match text.to_ascii_lowercase().as_str() {
                "1" | "true" | "on" | "yes" | "t" | "y" => Ok(true),
                "0" | "false" | "off" | "no" | "f" | "n" => Ok(false),
                _ => Err(messages::bool_parsing(value.clone())),
            },
            _ => Err(messages::bool_type(value.clone())),
        };
        match parsed {
            Ok(b) => Value::Bool(b),
            Err(e) => {
                self.fail(e, loc);
                value
            }
        }
    }

    fn enumeration(&mut self, choices: &[Value], value: Value, loc: &mut [LocItem]) -> Value {
        if choices.contains(&value) {
            return value;
        }
        let shown: Vec<String> = choices
            .iter()
            .map(|c| match c {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        self.fail(messages::enumeration(value.clone(), &shown), loc);
        value
    }

    fn constant(&mut self, expected: &Value, value: Value, loc: &mut [LocItem]) -> Value {
        if *expected != value {
            let shown = match expected {
                Value::String(s) => format!("'{s}'"),
                other => other.to_string(),
            };
            self.fail(
                ValidationError::new(
                    "literal_error",
                    format!("Input should be {shown}"),
                    value.clone(),
                )
                .with_ctx(serde_json::json!({ "expected": shown })),
                loc,
            );
        }
        value
    }

    /// `anyOf`/`oneOf`: `Option<T>` (one branch plus null) is checked as `T`, like
    /// pydantic's `Optional`. A serde-tagged enum picks its branch by the tag. Other
    /// unions take the first branch that passes; when none does, every branch's errors
    /// are reported with the branch's name in `loc`, as pydantic does.
    fn union(
        &mut self,
        branches: &'a [Value],
        value: Value,
        loc: &mut Vec<LocItem>,
        depth: usize,
    ) -> Value {
        let is_null = |b: &Value| b.get("type").and_then(Value::as_str) == Some("null");
        if value.is_null() && branches.iter().any(is_null) {
            return Value::Null;
        }
        let real: Vec<&'a Value> = branches.iter().filter(|b| !is_null(b)).collect();
        if real.len() == 1 {
            return self.check(real[0], value, loc, depth + 1);
        }
        if let Some((tag, tags)) = self.discriminator(&real) {
            let found = value.get(&tag).cloned();
            let expected = tags
                .iter()
                .map(|(t, _)| format!("'{t}'"))
                .collect::<Vec<_>>()
                .join(", ");
            return match found {
                Some(Value::String(t)) => match tags.iter().find(|(name, _)| *name == t) {
                    Some((_, branch)) => self.check(branch, value, loc, depth + 1),
                    None => {
                        self.fail(
                            ValidationError::new(
                                "union_tag_invalid",
                                format!("Input tag '{t}' found using '{tag}' does not match any of the expected tags: {expected}"),
                                value.clone(),
                            )
                            .with_ctx(serde_json::json!({"discriminator": format!("'{tag}'"), "tag": t, "expected_tags": expected})),
                            loc,
                        );
                        value
                    }
                },
                _ => {
                    self.fail(
                        ValidationError::new(
                            "union_tag_not_found",
                            format!("Unable to extract tag using discriminator '{tag}'"),
                            value.clone(),
                        )
                        .with_ctx(serde_json::json!({"discriminator": format!("'{tag}'")})),
                        loc,
                    );
                    value
                }
            };
        }
        let mut all = Vec::new();
        for branch in &real {
            let mut sub = Validator {
                root: self.root,
                mode: self.mode,
                room: self.room,
                errors: Vec::new(),
            };
            loc.push(LocItem::Key(self.branch_name(branch).into()));
            let out = sub.check(branch, value.clone(), loc, depth + 1);
            loc.pop();
            if sub.errors.is_empty() {
                return out;
            }
            all.extend(sub.errors);
        }
        let keep = (self.room + 1).saturating_sub(self.errors.len());
        self.errors.extend(all.into_iter().take(keep));
        value
    }

    /// For a serde internally tagged enum: the tag property and each branch's tag.
    fn discriminator(&self, branches: &[&'a Value]) -> Option<(String, Vec<(String, &'a Value)>)> {
        let mut tag: Option<String> = None;
        let mut tags = Vec::new();
        for b in branches {
            let b = match b.get("$ref").and_then(Value::as_str) {
                Some(r) => self.resolve(r)?,
                None => b,
            };
            let props = b.get("properties")?.as_object()?;
            let (name, value) = props.iter().find_map(|(k, v)| {
                v.get("const")
                    .and_then(Value::as_str)
                    .map(|c| (k.clone(), c.to_owned()))
            })?;
            match &tag {
                Some(t) if *t != name => return None,
                _ => tag = Some(name),
            }
            tags.push((value, b));
        }
        tag.map(|t| (t, tags))
    }

    fn branch_name(&self, branch: &Value) -> String {
        if let Some(r) = branch.get("$ref").and_then(Value::as_str) {
            return r.rsplit('/').next().unwrap_or(r).to_owned();
        }
        match branch.get("type").and_then(Value::as_str) {
            Some("integer") => "int",
            Some("number") => "float",
            Some("string") => "str",
            Some("boolean") => "bool",
            Some("array") => "list",
            Some("object") => "dict",
            _ => "union",
        }
        .to_owned()
    }
}

/// Bounds implied by schemars' integer formats (it writes `minimum`/`maximum` only for
/// the small types).
fn format_bounds(format: Option<&str>) -> (Option<i128>, Option<i128>) {
    match format {
        Some("int32") => (Some(i32::MIN.into()), Some(i32::MAX.into())),
        Some("uint32") => (Some(0), Some(u32::MAX.into())),
        Some("int64") => (Some(i64::MIN.into()), Some(i64::MAX.into())),
        Some("uint64") | Some("uint") => (Some(0), Some(u64::MAX.into())),
        Some("int") => (Some(i64::MIN.into()), Some(i64::MAX.into())),
        _ => (None, None),
    }
}

/// The first range error, in pydantic's order (le, lt, ge, gt).
fn check_bounds(
    s: &Map<String, Value>,
    v: f64,
    exact: Option<i128>,
    input: &Value,
    fmin: Option<i128>,
    fmax: Option<i128>,
) -> Option<ValidationError> {
    let bound = |key: &str| s.get(key).filter(|b| b.is_number()).cloned();
    let cmp = |b: &Value| -> std::cmp::Ordering {
        match (
            exact,
            b.as_i64().map(i128::from).or(b.as_u64().map(i128::from)),
        ) {
            (Some(i), Some(bi)) => i.cmp(&bi),
            _ => v
                .partial_cmp(&b.as_f64().unwrap_or(f64::NAN))
                .unwrap_or(std::cmp::Ordering::Less),
        }
    };
    use std::cmp::Ordering::*;
    let max = bound("maximum").or_else(|| fmax.map(|m| Value::Number(number_of(m))));
    if let Some(b) = max {
        if cmp(&b) == Greater {
            return Some(messages::range("le", input.clone(), b));
        }
    }
    if let Some(b) = bound("exclusiveMaximum") {
        if cmp(&b) != Less {
            return Some(messages::range("lt", input.clone(), b));
        }
    }
    let min = bound("minimum").or_else(|| fmin.map(|m| Value::Number(number_of(m))));
    if let Some(b) = min {
        if cmp(&b) == Less {
            return Some(messages::range("ge", input.clone(), b));
        }
    }
    if let Some(b) = bound("exclusiveMinimum") {
        if cmp(&b) != Greater {
            return Some(messages::range("gt", input.clone(), b));
        }
    }
    None
}

fn number_of(i: i128) -> Number {
    if let Ok(v) = i64::try_from(i) {
        v.into()
    } else if let Ok(v) = u64::try_from(i) {
        v.into()
    } else {
        Number::from_f64(i as f64).unwrap_or_else(|| 0.into())
    }
}

/// An integer in a string, as pydantic reads it: surrounding spaces, `_` between digits
/// and a zero fraction (`"3.0"`) are accepted.
fn parse_int_str(text: &str) -> Option<i128> {
    let t = text.trim();
    let digits_ok = |s: &str| !s.starts_with('_') && !s.ends_with('_') && !s.contains("__");
    if !digits_ok(t.trim_start_matches(['+', '-'])) {
        return None;
    }
    let plain = t.replace('_', "");
    if let Ok(i) = plain.parse::<i128>() {
        return Some(i);
    }
    let (whole, frac) = plain.split_once('.')?;
    if !frac.is_empty() && frac.chars().all(|c| c == '0') {
        return whole.parse::<i128>().ok();
    }
    None
}

/// A number in a string: spaces, `_` between digits, exponents, `inf`/`nan`.
fn parse_float_str(text: &str) -> Option<f64> {
    let t = text.trim();
    match t.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => return Some(f64::INFINITY),
        "-inf" | "-infinity" => return Some(f64::NEG_INFINITY),
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    if t.is_empty() || t.starts_with('_') || t.ends_with('_') || t.contains("__") {
        return None;
    }
    t.replace('_', "").parse::<f64>().ok()
}

fn pattern_matches(pattern: &str, text: &str) -> bool {
    static CACHE: OnceLock<Mutex<HashMap<String, Option<regex::Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let Ok(mut cache) = cache.lock() else {
        return true;
    };
    let re = cache
        .entry(pattern.to_owned())
        .or_insert_with(|| regex::Regex::new(pattern).ok());
    // A pattern the regex engine cannot compile is not held against the input.
    re.as_ref().is_none_or(|re| re.is_match(text))
}

/// The `json_invalid` error for a body that is not JSON, as FastAPI reports it:
/// `loc ["body", <character offset>]`, `msg "JSON decode error"`, `input {}`, and
/// Python's `json` message in `ctx.error`.
pub(crate) fn json_invalid(body: &[u8], err: &serde_json::Error) -> ValidationError {
    let text = String::from_utf8_lossy(body);
    let total_chars = text.chars().count();
    let message = err.to_string();
    let python = python_message(&message, err.classify() == serde_json::error::Category::Eof);
    // serde_json counts columns in bytes, 1-based, pointing just past the offending
    // byte; Python's position is the character index of the offending character. At
    // end of input Python points at the end.
    let offset = if python == "Unterminated string starting at" {
        unterminated_string_start(&text).unwrap_or(total_chars)
    } else if err.classify() == serde_json::error::Category::Eof {
        total_chars
    } else {
        let mut byte = 0usize;
        for (i, line) in text.split('\n').enumerate() {
            if i + 1 == err.line() {
                byte += err.column().saturating_sub(1);
                break;
            }
            byte += line.len() + 1;
        }
        let byte = byte.min(text.len());
        let mut boundary = byte;
        while !text.is_char_boundary(boundary) {
            boundary -= 1;
        }
        text[..boundary].chars().count()
    };
    // serde says "trailing comma" for both; Python's message depends on the container.
    let python = if message.starts_with("trailing comma") && text.chars().nth(offset) == Some('}') {
        "Expecting property name enclosed in double quotes"
    } else {
        python
    };
    messages::json_invalid(offset, python)
}

/// The character index of the quote opening a string that never closes.
fn unterminated_string_start(text: &str) -> Option<usize> {
    let (mut start, mut escaped) = (None, false);
    for (i, c) in text.chars().enumerate() {
        match (start, c) {
            (Some(_), _) if escaped => escaped = false,
            (Some(_), '\\') => escaped = true,
            (Some(_), '"') => start = None,
            (None, '"') => start = Some(i),
            _ => {}
        }
    }
    start
}

/// Python's `json` module message for serde_json's error.
fn python_message(serde_message: &str, eof: bool) -> &'static str {
    let m = serde_message;
    if m.starts_with("EOF while parsing a string") {
        "Unterminated string starting at"
    } else if m.starts_with("EOF while parsing a list")
        || m.starts_with("EOF while parsing an object")
    {
        "Expecting ',' delimiter"
    } else if eof {
        "Expecting value"
    } else if m.starts_with("key must be a string") {
        "Expecting property name enclosed in double quotes"
    } else if m.starts_with("expected `:`") {
        "Expecting ':' delimiter"
    } else if m.starts_with("expected `,` or") {
        "Expecting ',' delimiter"
    } else if m.starts_with("trailing characters") {
        "Extra data"
    } else if m.starts_with("control character") {
        "Invalid control character at"
    } else if m.starts_with("invalid escape") {
        "Invalid \\escape"
    } else if m.starts_with("invalid unicode code point") || m.contains("surrogate") {
        "Invalid \\uXXXX escape"
    } else {
        "Expecting value"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body() -> Vec<LocItem> {
        vec![LocItem::Key("body".into())]
    }

    fn errors(root: &Value, value: Value) -> Value {
        let errs = validate(root, value, Mode::Json, &body(), 100).unwrap_err();
        serde_json::to_value(errs).unwrap()
    }

    #[derive(serde::Deserialize, schemars::JsonSchema)]
    #[allow(dead_code)]
    struct Item {
        name: String,
        description: Option<String>,
        price: f64,
        tax: Option<f64>,
    }

    #[derive(serde::Deserialize, schemars::JsonSchema)]
    #[allow(dead_code)]
    #[serde(deny_unknown_fields)]
    struct Order {
        id: u8,
        items: Vec<Item>,
        first: Option<Item>,
        kind: Kind,
        #[serde(default)]
        notes: Vec<String>,
        scores: HashMap<String, i32>,
    }

    #[derive(serde::Deserialize, schemars::JsonSchema)]
    #[allow(dead_code)]
    #[serde(rename_all = "lowercase")]
    enum Kind {
        Retail,
        Bulk,
    }

    #[derive(serde::Deserialize, schemars::JsonSchema)]
    #[allow(dead_code)]
    #[serde(tag = "t")]
    enum Shape {
        Circle { r: f64 },
        Square { side: f64 },
    }

    #[test]
    fn missing_fields_carry_the_whole_object() {
        let root = schema_of::<Item>();
        assert_eq!(
            errors(&root, json!({"name": "Foo"})),
            json!([{"type":"missing","loc":["body","price"],"msg":"Field required","input":{"name":"Foo"}}])
        );
    }

    #[test]
    fn lax_coercions_produce_a_deserialisable_value() {
        let root = schema_of::<Item>();
        let v = validate(
            &root,
            json!({"name": "Foo", "price": "50.5", "tax": 3}),
            Mode::Json,
            &body(),
            100,
        )
        .unwrap();
        let item: Item = serde_json::from_value(v).unwrap();
        assert_eq!(item.price, 50.5);
        assert_eq!(item.tax, Some(3.0));
    }

    #[test]
    fn nested_errors_have_full_locations_in_field_order() {
        let root = schema_of::<Order>();
        let got = errors(
            &root,
            json!({"id": 300, "items": [{"name": "a", "price": 1}, {"price": "x"}], "first": 5,
                   "kind": "retial", "scores": {"a": 1.5}, "extra": true}),
        );
        let locs: Vec<&Value> = got.as_array().unwrap().iter().map(|e| &e["loc"]).collect();
        assert_eq!(
            locs,
            vec![
                &json!(["body", "id"]),
                &json!(["body", "items", 1, "name"]),
                &json!(["body", "items", 1, "price"]),
                &json!(["body", "first"]),
                &json!(["body", "kind"]),
                &json!(["body", "scores", "a"]),
                &json!(["body", "extra"]),
            ]
        );
        let types: Vec<&Value> = got.as_array().unwrap().iter().map(|e| &e["type"]).collect();
        assert_eq!(
            types,
            vec![
                "less_than_equal",
                "missing",
                "float_parsing",
                "model_attributes_type",
                "enum",
                "int_from_float",
                "extra_forbidden"
            ]
        );
        assert_eq!(got[0]["ctx"], json!({"le": 255}));
        assert_eq!(got[4]["msg"], "Input should be 'retail' or 'bulk'");
    }

    #[test]
    fn wrong_container_types() {
        let root = schema_of::<Order>();
        let got = errors(
            &root,
            json!({"id": 1, "items": "nope", "kind": "bulk", "scores": [], "notes": null}),
        );
        let types: Vec<&Value> = got.as_array().unwrap().iter().map(|e| &e["type"]).collect();
        assert_eq!(types, vec!["list_type", "list_type", "dict_type"]);
    }

    #[test]
    fn non_object_body_is_model_attributes_type() {
        let root = schema_of::<Item>();
        assert_eq!(
            errors(&root, json!([1, 2])),
            json!([{"type":"model_attributes_type","loc":["body"],"msg":"Input should be a valid dictionary or object to extract fields from","input":[1,2]}])
        );
    }

    #[test]
    fn tagged_enums_use_the_tag() {
        let root = schema_of::<Shape>();
        assert!(validate(
            &root,
            json!({"t": "Circle", "r": "2"}),
            Mode::Json,
            &body(),
            100
        )
        .is_ok());
        let got = errors(&root, json!({"t": "Square"}));
        assert_eq!(got[0]["loc"], json!(["body", "side"]));
        let got = errors(&root, json!({"t": "Hexagon"}));
        assert_eq!(got[0]["type"], "union_tag_invalid");
        let got = errors(&root, json!({"r": 1}));
        assert_eq!(got[0]["type"], "union_tag_not_found");
    }

    #[test]
    fn form_mode_reads_strings() {
        #[derive(serde::Deserialize, schemars::JsonSchema)]
        #[allow(dead_code)]
        struct F {
            n: i32,
            on: bool,
            tags: Vec<String>,
            note: Option<String>,
        }
        let root = schema_of::<F>();
        let v = validate(
            &root,
            json!({"n": "4", "on": "yes", "tags": "one", "note": ""}),
            Mode::Form,
            &body(),
            100,
        )
        .unwrap();
        assert_eq!(v, json!({"n": 4, "on": true, "tags": ["one"]}));
    }

    #[test]
    fn integer_strings_like_pydantic() {
        assert_eq!(parse_int_str(" 7 "), Some(7));
        assert_eq!(parse_int_str("1_000"), Some(1000));
        assert_eq!(parse_int_str("3.00"), Some(3));
        assert_eq!(parse_int_str("1.5"), None);
        assert_eq!(parse_int_str("1e3"), None);
        assert_eq!(parse_int_str("_1"), None);
    }

    fn invalid(body: &str) -> (Value, Value) {
        let err = serde_json::from_str::<Value>(body).unwrap_err();
        let e = json_invalid(body.as_bytes(), &err);
        (
            serde_json::to_value(&e.loc).unwrap(),
            e.ctx.unwrap()["error"].clone(),
        )
    }

    #[test]
    fn json_decode_errors_match_python() {
        // (body, character offset, message) as Python's json.loads reports them.
        let cases = [
            (
                "{some broken json}",
                1,
                "Expecting property name enclosed in double quotes",
            ),
            ("{\"a\": x}", 6, "Expecting value"),
            ("{\"a\" 1}", 5, "Expecting ':' delimiter"),
            ("{\"a\": 1 \"b\": 2}", 8, "Expecting ',' delimiter"),
            ("{} x", 3, "Extra data"),
            ("{\"a\": 1", 7, "Expecting ',' delimiter"),
            ("", 0, "Expecting value"),
            ("{\"é\": x}", 6, "Expecting value"),
            ("\"abc", 0, "Unterminated string starting at"),
            ("[1,]", 3, "Expecting value"),
            (
                "{\"a\":1,}",
                7,
                "Expecting property name enclosed in double quotes",
            ),
        ];
        for (body, offset, message) in cases {
            assert_eq!(
                invalid(body),
                (json!(["body", offset]), json!(message)),
                "{body:?}"
            );
        }
    }
}
