//! Scalar parameters: path, query, header, cookie and form fields.
//!
//! A scalar type implements [`ParamValue`] (parse from one string, describe its schema).
//! `T`, `Option<T>`, `Vec<T>` and `Option<Vec<T>>` of a `ParamValue` are then
//! parameters: required, optional, repeated (`?q=1&q=2`), optional repeated.

use serde_json::{json, Value};
use std::borrow::Cow;

use super::{param_loc, Errors, Extracted, FromRequest, ParamSpec, RequestCtx, Source};
use crate::openapi::model::{OperationDoc, ParamDoc};
use crate::validation::{constraints, lax, messages, LocItem, ValidationError};

/// A number as written in a constraint attribute (`ge = 1`, `lt = 2.5`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    /// An integer literal.
    Int(i128),
    /// A floating-point literal.
    Float(f64),
}

impl Number {
    fn bound(self) -> constraints::Bound {
        match self {
            Number::Int(i) => constraints::Bound::Int(i),
            Number::Float(f) => constraints::Bound::Float(f),
        }
    }

    /// As JSON, kept as written (`1` stays an integer).
    pub fn to_json(self) -> Value {
        match self {
            Number::Int(i) => {
                if let Ok(v) = i64::try_from(i) {
                    json!(v)
                } else if let Ok(v) = u64::try_from(i) {
                    json!(v)
                } else {
                    json!(i as f64)
                }
            }
            Number::Float(f) => json!(f),
        }
    }
}

/// What a constraint check can see of a parsed value.
#[derive(Debug, Clone, Copy)]
pub enum Checkable<'a> {
    /// An integer.
    Int(i128),
    /// A float.
    Float(f64),
    /// A string.
    Str(&'a str),
    /// Nothing to check (booleans, enums).
    None,
}

/// A parse failure of one raw value; the caller adds `loc`. Boxed, so that a
/// successful parse moves only a small `Result`.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError(pub Box<ValidationError>);

impl From<ValidationError> for ParseError {
    fn from(e: ValidationError) -> Self {
        ParseError(Box::new(e))
    }
}

impl ParseError {
    /// The error, to be given a location.
    pub fn into_inner(self) -> ValidationError {
        *self.0
    }
}

/// What constraints a parameter's type can carry: numbers the range ones, text the
/// length and pattern ones, lists the length ones. The route macro checks it at
/// compile time, so a constraint nothing could enforce never compiles.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot carry `gt`/`ge`/`lt`/`le`/`min_length`/`max_length`/`pattern` constraints",
    label = "a constrained parameter of this type"
)]
pub trait ConstraintTarget {
    /// Takes `gt ge lt le`.
    const NUMBER: bool;
    /// Takes `min_length max_length pattern`.
    const TEXT: bool;
    /// Takes `min_length max_length` (counted in items).
    const LIST: bool = false;
}

macro_rules! numeric_target {
    ($($t:ty),*) => {$(
        impl ConstraintTarget for $t {
            const NUMBER: bool = true;
            const TEXT: bool = false;
        }
    )*};
}

numeric_target!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize, f32, f64);

impl ConstraintTarget for String {
    const NUMBER: bool = false;
    const TEXT: bool = true;
}

impl ConstraintTarget for char {
    const NUMBER: bool = false;
    const TEXT: bool = true;
}

impl ConstraintTarget for bool {
    const NUMBER: bool = false;
    const TEXT: bool = false;
}

impl<T: ConstraintTarget> ConstraintTarget for Option<T> {
    const NUMBER: bool = T::NUMBER;
    const TEXT: bool = T::TEXT;
    const LIST: bool = T::LIST;
}

impl<T: ConstraintTarget> ConstraintTarget for Vec<T> {
    const NUMBER: bool = T::NUMBER;
    const TEXT: bool = T::TEXT;
    const LIST: bool = true;
}

/// A scalar that can be parsed from one string: the element type of path, query,
/// header, cookie and form parameters.
///
/// Implemented for `String`, the integer and float types, `bool` (FastAPI's words) and
/// `char`; derive it for a unit-only enum with `#[derive(ParamValue)]`.
pub trait ParamValue: Sized + Send + 'static {
    /// Parse one raw value. The error's `input` is the raw string.
    fn parse(raw: &str) -> Result<Self, ParseError>;

    /// The value as seen by the `gt ge lt le min_length max_length pattern` checks.
    fn checkable(&self) -> Checkable<'_> {
        Checkable::None
    }

    /// The JSON Schema of one value, for the documentation.
    fn schema() -> Value;
}

macro_rules! int_param {
    ($($t:ty => $fmt:literal),*) => {$(
        impl ParamValue for $t {
            fn parse(raw: &str) -> Result<Self, ParseError> {
                parse_int::<$t>(raw)
            }
            fn checkable(&self) -> Checkable<'_> {
                Checkable::Int(*self as i128)
            }
            fn schema() -> Value {
                int_schema($fmt, <$t>::MIN as i128, <$t>::MAX as i128)
            }
        }
    )*};
}

int_param!(i8 => "int8", i16 => "int16", i32 => "int32", i64 => "int64", isize => "int64",
           u8 => "uint8", u16 => "uint16", u32 => "uint32", u64 => "uint64", usize => "uint64");

/// An integer type's schema, with its real range: a value outside it is refused, so
/// the document says so.
fn int_schema(format: &str, min: i128, max: i128) -> Value {
    let bound = |v: i128| -> Value {
        match (i64::try_from(v), u64::try_from(v)) {
            (Ok(i), _) => json!(i),
            (_, Ok(u)) => json!(u),
            _ => json!(v as f64),
        }
    };
    json!({ "type": "integer", "format": format, "minimum": bound(min), "maximum": bound(max) })
}

/// Parse an integer like pydantic's lax mode (see [`lax::int`]); out-of-range values
/// are range errors.
fn parse_int<T: TryFrom<i128> + Copy>(raw: &str) -> Result<T, ParseError> {
    let Some(wide) = lax::int(raw) else {
        return Err(messages::int_parsing(Value::String(raw.to_owned())).into());
    };
    T::try_from(wide).map_err(|_| {
        // Out of the type's range: report the bound that was crossed.
        let (min, max) = int_bounds::<T>();
        let input = Value::String(raw.to_owned());
        if wide < min {
            messages::range("ge", input, Number::Int(min).to_json()).into()
        } else {
            messages::range("le", input, Number::Int(max).to_json()).into()
        }
    })
}

fn int_bounds<T: TryFrom<i128>>() -> (i128, i128) {
    // Find the bounds by probing powers of two; cheap and only on the error path.
    let mut max: i128 = 0;
    for bits in (0..127).rev() {
        let candidate = (1i128 << bits) - 1;
        if T::try_from(candidate).is_ok() {
            max = candidate;
            break;
        }
    }
    let min = if T::try_from(-1i128).is_ok() {
        -max - 1
    } else {
        0
    };
    (min, max)
}

macro_rules! float_param {
    ($($t:ty => $fmt:literal),*) => {$(
        impl ParamValue for $t {
            fn parse(raw: &str) -> Result<Self, ParseError> {
                lax::float(raw)
                    .map(|f| f as $t)
                    .ok_or_else(|| messages::float_parsing(Value::String(raw.to_owned())).into())
            }
            fn checkable(&self) -> Checkable<'_> {
                Checkable::Float(*self as f64)
            }
            fn schema() -> Value {
                json!({ "type": "number", "format": $fmt })
            }
        }
    )*};
}

float_param!(f32 => "float", f64 => "double");

impl ParamValue for bool {
    fn parse(raw: &str) -> Result<Self, ParseError> {
        lax::boolean(raw)
            .ok_or_else(|| messages::bool_parsing(Value::String(raw.to_owned())).into())
    }
    fn schema() -> Value {
        json!({ "type": "boolean" })
    }
}

impl ParamValue for String {
    fn parse(raw: &str) -> Result<Self, ParseError> {
        Ok(raw.to_owned())
    }
    fn checkable(&self) -> Checkable<'_> {
        Checkable::Str(self)
    }
    fn schema() -> Value {
        json!({ "type": "string" })
    }
}

impl ParamValue for char {
    fn parse(raw: &str) -> Result<Self, ParseError> {
        let mut it = raw.chars();
        match (it.next(), it.next()) {
            (Some(c), None) => Ok(c),
            _ => {
                let n = raw.chars().count() as u64;
                let input = Value::String(raw.to_owned());
                Err(if n == 0 {
                    messages::string_too_short(input, 1)
                } else {
                    messages::string_too_long(input, 1)
                }
                .into())
            }
        }
    }
    fn schema() -> Value {
        json!({ "type": "string", "minLength": 1, "maxLength": 1 })
    }
}

/// Read one raw value as the type a schema `format` stands for (UUIDs, datetimes …),
/// with the checks and messages of body fields, then parse the rewritten text with the
/// Rust type's own `FromStr`. Should that refuse what pydantic accepts (a date past the
/// type's range), the error is a `value_error` with its reason.
#[cfg(any(feature = "uuid", feature = "jiff"))]
fn read_formatted<T>(raw: &str, format: &str) -> Result<T, ParseError>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let input = Value::String(raw.to_owned());
    let Some(f) = crate::validation::formats::Format::of(format) else {
        return raw.parse().map_err(|e| value_error(&e, input));
    };
    let text = f.read(&input).map_err(ParseError)?;
    let text = text.as_str().unwrap_or(raw);
    text.parse().map_err(|e| value_error(&e, input))
}

#[cfg(any(feature = "uuid", feature = "jiff"))]
fn value_error(e: &impl std::fmt::Display, input: Value) -> ParseError {
    ValidationError::new("value_error", format!("Value error, {e}"), input).into()
}

/// `ParamValue` for a type whose text is read by a schema format.
#[cfg(any(feature = "uuid", feature = "jiff"))]
macro_rules! formatted_param {
    ($($(#[$attr:meta])* $t:ty => $format:literal),* $(,)?) => {$(
        $(#[$attr])*
        impl ParamValue for $t {
            fn parse(raw: &str) -> Result<Self, ParseError> {
                read_formatted(raw, $format)
            }
            fn schema() -> Value {
                json!({ "type": "string", "format": $format })
            }
        }
    )*};
}

#[cfg(feature = "uuid")]
formatted_param!(
    /// A UUID in any form pydantic's `UUID` reads: hyphenated, simple, braced or
    /// `urn:uuid:`; `uuid_parsing` with the `uuid` crate's reason otherwise.
    uuid::Uuid => "uuid",
);

#[cfg(feature = "jiff")]
formatted_param!(
    /// An instant, read as pydantic reads a `datetime`: RFC 3339 or ISO 8601 text
    /// (`T`, `t`, `_` or a space between date and time; `Z` or an offset, UTC when
    /// none), a date alone (midnight), or a unix timestamp in seconds or milliseconds.
    jiff::Timestamp => "date-time",
    /// A wall-clock date and time, read as pydantic reads a `datetime`; an offset
    /// given is dropped.
    jiff::civil::DateTime => "partial-date-time",
    /// A date, read as pydantic reads a `date`: `YYYY-MM-DD`, a datetime at midnight,
    /// or a unix timestamp of a midnight.
    jiff::civil::Date => "date",
    /// A time of day, read as pydantic reads a `time` (`HH:MM[:SS[.ffffff]]`, an
    /// offset given is dropped). Documented with FastAPI's `format: time`.
    jiff::civil::Time => "time",
    /// A duration, read as pydantic reads a `timedelta`: ISO 8601 (`P1DT2H`, `PT1.5S`),
    /// `[-][D day[s][,]] HH:MM[:SS[.ffffff]]`, or a number of seconds.
    jiff::SignedDuration => "duration",
);

/// Check a parsed value against the spec's constraints, in pydantic's order, with the
/// same checks as body fields.
fn check_constraints<T: ParamValue>(
    value: &T,
    spec: &ParamSpec,
    raw: &str,
) -> Result<(), ParseError> {
    let c = &spec.constraints;
    let input = || Value::String(raw.to_owned());
    let bounds = || declared_bounds(spec);
    let checked = match value.checkable() {
        Checkable::Int(v) => bounds().check(constraints::Num::int(v), input),
        Checkable::Float(v) => bounds().check(constraints::Num::float(v), input),
        Checkable::Str(s) => {
            // A bad pattern is refused when the app is built ([`ParamSpec::validate`]);
            // it cannot get here.
            let re = c.pattern.and_then(|p| constraints::pattern(p).ok());
            let pattern = re.as_deref().zip(c.pattern);
            crate::validation::compiled::check_text(s, c.min_length, c.max_length, pattern, input)
        }
        Checkable::None => Ok(()),
    };
    checked.map_err(ParseError)
}

/// Parse and check one raw value; on failure push the error at `loc`.
fn parse_one<T: ParamValue>(
    raw: &str,
    spec: &ParamSpec,
    source: Source,
    errors: &mut Errors,
) -> Option<T> {
    let parsed = T::parse(raw).map_err(|e| declared_bound_first(e, spec, raw));
    match parsed.and_then(|v| check_constraints(&v, spec, raw).map(|()| v)) {
        Ok(v) => Some(v),
        Err(e) => {
            errors.push(e.into_inner().at(loc_for(spec, source)));
            None
        }
    }
}

/// The `gt ge lt le` a parameter declares.
fn declared_bounds(spec: &ParamSpec) -> constraints::Bounds {
    let c = &spec.constraints;
    constraints::Bounds {
        gt: c.gt.map(Number::bound),
        ge: c.ge.map(Number::bound),
        lt: c.lt.map(Number::bound),
        le: c.le.map(Number::bound),
        multiple_of: None,
    }
}

/// A value that did not parse because it is an integer past its Rust type's range,
/// and that also breaks a bound the parameter declares: the declared bound is
/// reported, as pydantic (whose `int` has no range) reports it.
fn declared_bound_first(e: ParseError, spec: &ParamSpec, raw: &str) -> ParseError {
    if !matches!(&*e.0.kind, "less_than_equal" | "greater_than_equal") {
        return e;
    }
    let Some(wide) = lax::int(raw) else {
        return e;
    };
    match declared_bounds(spec).check(constraints::Num::int(wide), || {
        Value::String(raw.to_owned())
    }) {
        Err(declared) => ParseError(declared),
        Ok(()) => e,
    }
}

/// The last value of `name` in a query string, decoded like a form
/// (`application/x-www-form-urlencoded`): only the matching value is decoded, and
/// only when it has escapes.
fn query_value<'a>(query: &'a str, name: &str) -> Option<Cow<'a, str>> {
    let mut found = None;
    // `&` and `=` are ASCII, so cutting at their bytes leaves whole UTF-8 pieces; a
    // byte scan is cheaper than `str::split`'s searcher on a short query.
    let bytes = query.as_bytes();
    let mut start = 0;
    while start < bytes.len() {
        let end = bytes[start..]
            .iter()
            .position(|&b| b == b'&')
            .map_or(bytes.len(), |i| start + i);
        let pair = &query[start..end];
        start = end + 1;
        if pair.is_empty() {
            continue;
        }
        let (key, value) = match pair.bytes().position(|b| b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, ""),
        };
        if form_decode(key) == name {
            found = Some(value);
        }
    }
    found.map(form_decode)
}

/// One form-encoded component: `+` is a space, `%XX` a byte, invalid UTF-8 replaced.
fn form_decode(s: &str) -> Cow<'_, str> {
    if !s.bytes().any(|b| b == b'%' || b == b'+') {
        return Cow::Borrowed(s);
    }
    let spaced = s.replace('+', " ");
    Cow::Owned(
        percent_encoding::percent_decode_str(&spaced)
            .decode_utf8_lossy()
            .into_owned(),
    )
}

/// The value of a single-valued parameter read from the request head (path, query,
/// header or cookie), borrowed unless it had to be decoded: the common case costs no
/// allocation. The outer `None`: the parameter is read from the body instead.
fn head_value<'a>(
    ctx: &'a RequestCtx,
    spec: &ParamSpec,
    source: Source,
) -> Option<Option<Cow<'a, str>>> {
    // The wire name is worked out only where it is read: a header's is known already.
    let name = || spec.wire_name(source);
    Some(match source {
        Source::Path => ctx.path_param_cow(&name()),
        // The last one wins (Starlette's multidict).
        Source::Query => ctx.parts.uri.query().and_then(|q| query_value(q, &name())),
        // The first one wins.
        Source::Header => match spec.header_name {
            Some(header) => ctx.parts.headers.get(header),
            None => ctx.parts.headers.get(name().as_ref()),
        }
        .map(|v| match v.to_str() {
            // Visible ASCII, as header values almost always are: no scan for UTF-8.
            Ok(text) => Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(v.as_bytes()),
        }),
        Source::Cookie => {
            let name = name();
            cookies(&ctx.parts.headers)
                .filter(|(k, _)| *k == name)
                .last()
                .map(|(_, v)| Cow::Borrowed(v))
        }
        Source::Form | Source::Body => return None,
    })
}

/// The raw values of a scalar parameter, wherever it comes from.
async fn raw_values(
    ctx: &mut RequestCtx,
    spec: &ParamSpec,
    source: Source,
    errors: &mut Errors,
) -> Option<Vec<String>> {
    let name = spec.wire_name(source);
    let values = match source {
        Source::Path => ctx.path_param(&name).into_iter().collect(),
        Source::Query => ctx
            .query_pairs()
            .iter()
            .filter(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
            .collect(),
        Source::Header => ctx
            .headers()
            .get_all(name.as_ref())
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect(),
        Source::Cookie => cookies(ctx.headers())
            .filter(|(k, _)| *k == name)
            .map(|(_, v)| v.to_owned())
            .collect(),
        // Boxed: reading a form (or a multipart body) is a large future that the
        // other sources should not carry.
        Source::Form => match Box::pin(ctx.form_pairs(errors)).await {
            Some(pairs) => pairs
                .iter()
                .filter(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
                .collect(),
            None => return None,
        },
        Source::Body => match Box::pin(ctx.read_body()).await {
            Ok(bytes) if bytes.is_empty() => Vec::new(),
            Ok(bytes) => match String::from_utf8(bytes.to_vec()) {
                Ok(s) => vec![s],
                Err(e) => {
                    let raw = String::from_utf8_lossy(e.as_bytes()).into_owned();
                    errors.push(
                        messages::string_unicode(Value::String(raw))
                            .at(vec![LocItem::Key("body".into())]),
                    );
                    return None;
                }
            },
            Err(e) => {
                errors.reject(e.into_http_error());
                return None;
            }
        },
    };
    Some(values)
}

/// The value of cookie `name` (the last one, like Starlette).
pub(crate) fn cookie(headers: &http::HeaderMap, name: &str) -> Option<String> {
    cookies(headers)
        .filter(|(k, _)| *k == name)
        .last()
        .map(|(_, v)| v.to_owned())
}

/// `name=value` pairs of every `Cookie` header.
pub(crate) fn cookies(headers: &http::HeaderMap) -> impl Iterator<Item = (&str, &str)> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v);
            Some((k.trim(), v))
        })
}

fn loc_for(spec: &ParamSpec, source: Source) -> Vec<LocItem> {
    if source == Source::Body {
        let mut loc = vec![LocItem::Key("body".into())];
        if spec.embed {
            loc.push(LocItem::Key(spec.wire_name(source).into_owned().into()));
        }
        return loc;
    }
    param_loc(spec, source)
}

/// Which value wins when a single-valued parameter is given several times: the last
/// for query, cookie and form (Starlette's multidict), the first for headers. An empty
/// form value is no value, as in FastAPI (a browser sends every field of a form,
/// empty or not).
fn pick(values: Vec<String>, source: Source) -> Option<String> {
    match source {
        Source::Header => values.into_iter().next(),
        Source::Form => values.into_iter().last().filter(|v| !v.is_empty()),
        _ => values.into_iter().last(),
    }
}

fn describe_scalar<T: ParamValue>(
    spec: &'static ParamSpec,
    doc: &mut OperationDoc,
    required: bool,
    many: bool,
) {
    let nullable = !required && !spec.has_default;
    let source = spec.scalar_source(&doc.path_params);
    let mut schema = T::schema();
    if many {
        schema = json!({ "type": "array", "items": schema });
    }
    doc.params.push(ParamDoc {
        spec,
        source,
        name: spec.wire_name(source),
        required: required && !spec.has_default,
        schema,
        nullable,
        title: None,
        definitions: Vec::new(),
        dependency: Vec::new(),
    });
}

/// A JSON value of an embedded body parameter as the text [`ParamValue::parse`] reads,
/// after the type checks pydantic makes on a field of the decoded object (its lax
/// Python mode, as FastAPI validates each embedded parameter): a string where text is
/// wanted; a number, numeric text or a bool where a number is; an integral number for
/// an integer.
fn embedded_text<T: ParamValue>(value: &Value) -> Result<String, ParseError> {
    let schema = T::schema();
    let kind = schema
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("string");
    let enumerated = schema.get("enum").is_some();
    // Dates, times and durations also read numbers (timestamps, seconds).
    let temporal = matches!(
        schema.get("format").and_then(Value::as_str),
        Some("date-time" | "date" | "time" | "duration" | "partial-time" | "partial-date-time")
    );
    let input = || value.clone();
    match (kind, value) {
        (_, Value::String(s)) => Ok(s.clone()),
        ("integer", Value::Number(n)) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Ok(i.to_string()),
            (_, Some(u), _) => Ok(u.to_string()),
            (_, _, Some(f)) if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e38 => {
                Ok(format!("{}", f as i128))
            }
            _ => Err(messages::int_from_float(input()).into()),
        },
        ("integer" | "number", Value::Bool(b)) => Ok(u8::from(*b).to_string()),
        ("integer", _) => Err(messages::int_type(input()).into()),
        ("number", Value::Number(n)) => Ok(n.to_string()),
        ("number", _) => Err(messages::float_type(input()).into()),
        ("boolean", Value::Bool(b)) => Ok(b.to_string()),
        ("boolean", Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(n.to_string()),
        ("boolean", _) => Err(messages::bool_type(input()).into()),
        (_, Value::Number(_) | Value::Bool(_)) if enumerated => Ok(value.to_string()),
        (_, Value::Number(n)) if temporal => Ok(n.to_string()),
        _ => Err(messages::string_type(input()).into()),
    }
}

/// Parse and check an embedded body parameter's JSON value; errors show that value.
fn parse_embedded<T: ParamValue>(
    value: &Value,
    spec: &ParamSpec,
    loc: Vec<LocItem>,
    errors: &mut Errors,
) -> Option<T> {
    let parsed = embedded_text::<T>(value)
        .and_then(|raw| T::parse(&raw).and_then(|v| check_constraints(&v, spec, &raw).map(|()| v)));
    match parsed {
        Ok(v) => Some(v),
        Err(e) => {
            let mut e = e.into_inner();
            e.input = value.clone();
            errors.push(e.at(loc));
            None
        }
    }
}

/// An embedded body parameter (one field of the body's JSON object): `Some(None)` when
/// absent (or null, if `nullable`), `None` after an error was reported. A null that is
/// not allowed is a type error, as pydantic reports it.
async fn embedded_scalar<T: ParamValue>(
    ctx: &mut RequestCtx,
    spec: &ParamSpec,
    errors: &mut Errors,
    nullable: bool,
) -> Option<Option<T>> {
    let name = spec.wire_name(Source::Body);
    match Box::pin(ctx.embedded_field(&name, errors)).await {
        Err(()) => None,
        Ok(None) => Some(None),
        Ok(Some(Value::Null)) if nullable => Some(None),
        Ok(Some(value)) => {
            parse_embedded(&value, spec, loc_for(spec, Source::Body), errors).map(Some)
        }
    }
}

/// An embedded list body parameter: each item checked, then the list's length.
async fn embedded_list<T: ParamValue>(
    ctx: &mut RequestCtx,
    spec: &ParamSpec,
    errors: &mut Errors,
    nullable: bool,
) -> Option<Option<Vec<T>>> {
    let name = spec.wire_name(Source::Body);
    let loc = loc_for(spec, Source::Body);
    let items = match Box::pin(ctx.embedded_field(&name, errors)).await {
        Err(()) => return None,
        Ok(None) => return Some(None),
        Ok(Some(Value::Null)) if nullable => return Some(None),
        Ok(Some(Value::Array(items))) => items,
        Ok(Some(other)) => {
            errors.push(messages::list_type(other).at(loc));
            return None;
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let mut at = loc.clone();
        at.push(LocItem::Index(i));
        if let Some(v) = parse_embedded::<T>(item, &ConstraintFree::SPEC, at, errors) {
            out.push(v);
        }
    }
    if out.len() != items.len() {
        return None;
    }
    let c = &spec.constraints;
    let n = out.len() as u64;
    if let Some(min) = c.min_length.filter(|m| n < *m) {
        errors.push(messages::too_short(Value::Array(items), min, n).at(loc));
        return None;
    }
    if let Some(max) = c.max_length.filter(|m| n > *m) {
        errors.push(messages::too_long(Value::Array(items), max, n).at(loc));
        return None;
    }
    Some(Some(out))
}

/// A spec with no constraints, for the items of a list (constraints apply to the list).
struct ConstraintFree;

impl ConstraintFree {
    const SPEC: ParamSpec = ParamSpec::new("item");
}

#[diagnostic::do_not_recommend]
impl<T: ParamValue> FromRequest for T {
    async fn from_request(
        ctx: &mut RequestCtx,
        spec: &'static ParamSpec,
        errors: &mut Errors,
    ) -> Extracted<Self> {
        if spec.embed {
            let value = embedded_scalar::<T>(ctx, spec, errors, false).await?;
            if value.is_none() {
                errors.push(ValidationError::missing().at(loc_for(spec, Source::Body)));
            }
            return value;
        }
        let source = ctx.scalar_source(spec);
        if let Some(value) = head_value(ctx, spec, source) {
            return match value {
                Some(raw) => parse_one(&raw, spec, source, errors),
                None => {
                    errors.push(ValidationError::missing().at(loc_for(spec, source)));
                    None
                }
            };
        }
        let values = raw_values(ctx, spec, source, errors).await?;
        match pick(values, source) {
            Some(raw) => parse_one(&raw, spec, source, errors),
            None => {
                errors.push(ValidationError::missing().at(loc_for(spec, source)));
                None
            }
        }
    }

    fn describe(spec: &'static ParamSpec, doc: &mut OperationDoc) {
        describe_scalar::<T>(spec, doc, true, false);
    }
}

#[diagnostic::do_not_recommend]
impl<T: ParamValue> FromRequest for Option<T> {
    async fn from_request(
        ctx: &mut RequestCtx,
        spec: &'static ParamSpec,
        errors: &mut Errors,
    ) -> Extracted<Self> {
        if spec.embed {
            return embedded_scalar::<T>(ctx, spec, errors, true).await;
        }
        let source = ctx.scalar_source(spec);
        if let Some(value) = head_value(ctx, spec, source) {
            return match value {
                Some(raw) => parse_one(&raw, spec, source, errors).map(Some),
                None if spec.required => {
                    errors.push(ValidationError::missing().at(loc_for(spec, source)));
                    None
                }
                None => Some(None),
            };
        }
        let values = raw_values(ctx, spec, source, errors).await?;
        match pick(values, source) {
            Some(raw) => parse_one(&raw, spec, source, errors).map(Some),
            None if spec.required => {
                errors.push(ValidationError::missing().at(loc_for(spec, source)));
                None
            }
            None => Some(None),
        }
    }

    fn describe(spec: &'static ParamSpec, doc: &mut OperationDoc) {
        describe_scalar::<T>(spec, doc, spec.required, false);
        if spec.required {
            // Required, and still documented as `anyOf [T, null]`.
            if let Some(p) = doc.params.last_mut() {
                p.nullable = true;
            }
        }
    }
}

fn parse_many<T: ParamValue>(
    values: Vec<String>,
    spec: &ParamSpec,
    source: Source,
    errors: &mut Errors,
) -> Option<Vec<T>> {
    let mut out = Vec::with_capacity(values.len());
    let mut ok = true;
    for (i, raw) in values.iter().enumerate() {
        let mut loc = loc_for(spec, source);
        loc.push(LocItem::Index(i));
        match T::parse(raw) {
            Ok(v) => out.push(v),
            Err(e) => {
                errors.push(e.into_inner().at(loc));
                ok = false;
            }
        }
    }
    if !ok {
        return None;
    }
    // Length constraints apply to the list itself.
    let c = &spec.constraints;
    let n = out.len() as u64;
    let input = || Value::Array(values.iter().cloned().map(Value::String).collect());
    if let Some(min) = c.min_length.filter(|m| n < *m) {
        errors.push(messages::too_short(input(), min, n).at(loc_for(spec, source)));
        return None;
    }
    if let Some(max) = c.max_length.filter(|m| n > *m) {
        errors.push(messages::too_long(input(), max, n).at(loc_for(spec, source)));
        return None;
    }
    Some(out)
}

#[diagnostic::do_not_recommend]
impl<T: ParamValue> FromRequest for Vec<T> {
    async fn from_request(
        ctx: &mut RequestCtx,
        spec: &'static ParamSpec,
        errors: &mut Errors,
    ) -> Extracted<Self> {
        if spec.embed {
            let value = embedded_list::<T>(ctx, spec, errors, false).await?;
            if value.is_none() {
                errors.push(ValidationError::missing().at(loc_for(spec, Source::Body)));
            }
            return value;
        }
        let source = ctx.scalar_source(spec);
        let values = raw_values(ctx, spec, source, errors).await?;
        if values.is_empty() {
            errors.push(ValidationError::missing().at(loc_for(spec, source)));
            return None;
        }
        parse_many(values, spec, source, errors)
    }

    fn describe(spec: &'static ParamSpec, doc: &mut OperationDoc) {
        describe_scalar::<T>(spec, doc, true, true);
    }
}

#[diagnostic::do_not_recommend]
impl<T: ParamValue> FromRequest for Option<Vec<T>> {
    async fn from_request(
        ctx: &mut RequestCtx,
        spec: &'static ParamSpec,
        errors: &mut Errors,
    ) -> Extracted<Self> {
        if spec.embed {
            return embedded_list::<T>(ctx, spec, errors, true).await;
        }
        let source = ctx.scalar_source(spec);
        let values = raw_values(ctx, spec, source, errors).await?;
        if values.is_empty() {
            return Some(None);
        }
        parse_many(values, spec, source, errors).map(Some)
    }

    fn describe(spec: &'static ParamSpec, doc: &mut OperationDoc) {
        describe_scalar::<T>(spec, doc, false, true);
    }
}

/// Helpers for `#[derive(ParamValue)]` on enums.
#[doc(hidden)]
pub fn enum_error(raw: &str, choices: &[&str]) -> ParseError {
    messages::enumeration(Value::String(raw.to_owned()), choices).into()
}

/// The schema of a string enum: its doc comment is its description, as a Python
/// enum's docstring is.
#[doc(hidden)]
pub fn enum_schema(title: &str, description: Option<&str>, choices: &[&str]) -> Value {
    let mut schema = json!({ "type": "string", "enum": choices, "title": title });
    if let Some(d) = description {
        schema["description"] = json!(d);
    }
    schema
}

/// Used by the generated code for a parameter with a `default = …`: a value, or the
/// default when absent.
#[doc(hidden)]
pub fn or_default<T>(v: Option<Option<T>>, default: impl FnOnce() -> T) -> Option<T> {
    v.map(|o| o.unwrap_or_else(default))
}

/// A parameter's default value, for the documentation: serialised when its type is
/// `Serialize` ([`DefaultViaSerialize`]), left out otherwise ([`DefaultViaOpaque`]).
/// The generated code calls `(&&DefaultProbe(&value)).default_json()`.
#[doc(hidden)]
pub struct DefaultProbe<'a, T>(pub &'a T);

/// The default of a type that serialises: its JSON.
#[doc(hidden)]
pub trait DefaultViaSerialize {
    /// The value as JSON.
    fn default_json(&self) -> Option<Value>;
}

impl<T: serde::Serialize> DefaultViaSerialize for &DefaultProbe<'_, T> {
    fn default_json(&self) -> Option<Value> {
        serde_json::to_value(self.0).ok()
    }
}

/// The default of a type that does not serialise: not documented.
#[doc(hidden)]
pub trait DefaultViaOpaque {
    /// Nothing.
    fn default_json(&self) -> Option<Value>;
}

impl<T> DefaultViaOpaque for DefaultProbe<'_, T> {
    fn default_json(&self) -> Option<Value> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_lookup_decodes_like_a_form_parser() {
        let queries = [
            "a=1&a=2",
            "a+b=c&b=1",
            "%61=x",
            "a",
            "a=%zz",
            "a=%C3%A9&b=%FF",
            "&&a=1&",
            "a=1=2",
            "a=x+y%2Bz",
            "b=1",
            "é=ü&a=é&b=ß=&=1",
            "",
        ];
        for q in queries {
            for name in ["a", "a b", "b"] {
                let expected = form_urlencoded::parse(q.as_bytes())
                    .filter(|(k, _)| k == name)
                    .last()
                    .map(|(_, v)| v.into_owned());
                let got = query_value(q, name).map(Cow::into_owned);
                assert_eq!(got, expected, "query {q:?}, name {name:?}");
            }
        }
        // Without escapes nothing is copied.
        assert!(matches!(
            query_value("limit=10&q=x", "q"),
            Some(Cow::Borrowed("x"))
        ));
    }

    #[test]
    fn ints_parse_like_pydantic_lax_mode() {
        assert_eq!(i32::parse(" 42 ").unwrap(), 42);
        assert_eq!(i32::parse("1_000").unwrap(), 1000);
        assert_eq!(i32::parse("3.0").unwrap(), 3);
        assert_eq!(i32::parse("abc").unwrap_err().0.kind, "int_parsing");
        assert_eq!(i32::parse("-1.00").unwrap(), -1);
        assert_eq!(i32::parse("1.5").unwrap_err().0.kind, "int_parsing");
        assert_eq!(i32::parse("1e3").unwrap_err().0.kind, "int_parsing");
        assert_eq!(i32::parse("1__0").unwrap_err().0.kind, "int_parsing");
        assert_eq!(i32::parse("").unwrap_err().0.kind, "int_parsing");
        let e = u8::parse("300").unwrap_err().into_inner();
        assert_eq!(e.kind, "less_than_equal");
        assert_eq!(e.ctx.map(|c| c.to_value()), Some(json!({"le": 255})));
        let e = u32::parse("-1").unwrap_err().into_inner();
        assert_eq!(e.kind, "greater_than_equal");
        assert_eq!(e.ctx.map(|c| c.to_value()), Some(json!({"ge": 0})));
    }

    #[test]
    fn bools_accept_fastapi_words() {
        for w in ["1", "true", "True", "on", "yes"] {
            assert!(bool::parse(w).unwrap(), "{w}");
        }
        for w in ["0", "false", "OFF", "no"] {
            assert!(!bool::parse(w).unwrap(), "{w}");
        }
        assert_eq!(bool::parse("maybe").unwrap_err().0.kind, "bool_parsing");
        assert_eq!(bool::parse(" yes ").unwrap_err().0.kind, "bool_parsing");
    }

    #[test]
    fn floats_reject_garbage() {
        assert_eq!(f64::parse("2.5").unwrap(), 2.5);
        assert_eq!(f64::parse("x").unwrap_err().0.kind, "float_parsing");
        assert_eq!(f64::parse("").unwrap_err().0.kind, "float_parsing");
    }

    #[test]
    fn cookies_are_split_and_unquoted() {
        let mut h = http::HeaderMap::new();
        h.insert(http::header::COOKIE, "a=1; b=\"two\"".parse().unwrap());
        let v: Vec<_> = cookies(&h).collect();
        assert_eq!(v, vec![("a", "1"), ("b", "two")]);
    }
}
