//! Request validation errors in FastAPI's (pydantic's) wire format.
//!
//! Every parameter of an operation is extracted, every failure is collected into a
//! [`RequestValidationError`], and one `422 Unprocessable Entity` answers them all:
//!
//! ```json
//! {"detail":[{"type":"int_parsing","loc":["query","limit"],
//!             "msg":"Input should be a valid integer, unable to parse string as an integer",
//!             "input":"abc"}]}
//! ```
//!
//! One request reports at most [`DEFAULT_MAX_ERRORS`] errors (set with
//! [`App::max_validation_errors`](crate::App::max_validation_errors)), so a body of a
//! million wrong items costs a bounded answer. Past the limit the list ends with one
//! more entry of type `too_many_errors`, located where the first error left out was:
//!
//! ```json
//! {"type":"too_many_errors","loc":["body","xs",100],
//!  "msg":"Too many errors: only the first 100 are listed","input":null,"ctx":{"limit":100}}
//! ```

use std::borrow::Cow;
use std::fmt;

pub(crate) mod body;
pub(crate) mod checked;
pub(crate) mod compiled;
pub(crate) mod constraints;
pub(crate) mod formats;
pub(crate) mod json_invalid;
pub(crate) mod lax;
pub(crate) mod stream;
#[cfg(feature = "datetime")]
pub(crate) mod temporal;

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::Value;

/// One element of an error's location: a name or a list index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocItem {
    /// A named location: `"query"`, a parameter name or a field name.
    Key(Cow<'static, str>),
    /// A position in a list.
    Index(usize),
}

impl Serialize for LocItem {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            LocItem::Key(k) => s.serialize_str(k),
            LocItem::Index(i) => s.serialize_u64(*i as u64),
        }
    }
}

impl From<&'static str> for LocItem {
    fn from(s: &'static str) -> Self {
        LocItem::Key(Cow::Borrowed(s))
    }
}

impl From<String> for LocItem {
    fn from(s: String) -> Self {
        LocItem::Key(Cow::Owned(s))
    }
}

impl From<usize> for LocItem {
    fn from(i: usize) -> Self {
        LocItem::Index(i)
    }
}

/// The error of one input, as pydantic reports it: `type`, `loc`, `msg`, `input`, `ctx`.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidationError {
    /// Machine-readable error type, e.g. `"missing"` or `"int_parsing"`.
    pub kind: Cow<'static, str>,
    /// Where the input was: `["query", "limit"]`, `["body", "price"]`, `["query", "q", 1]`.
    pub loc: Vec<LocItem>,
    /// Human-readable message, in pydantic's wording.
    pub msg: Cow<'static, str>,
    /// The offending input (`null` when missing).
    pub input: Value,
    /// Error context such as `{"ge": 1}`; omitted when `None`.
    pub ctx: Option<ErrorContext>,
}

/// An error's context, as pydantic gives it: the values its message was made from
/// (`{"ge": 1}`, `{"pattern": "^a"}`), serialised as a JSON object.
///
/// Its entries are kept in order, as written, without the hashing a JSON map costs:
/// most errors have one entry, and a refused request can have many errors.
///
/// ```
/// use hasten::validation::{ErrorContext, ValidationError};
/// use serde_json::json;
///
/// let e = ValidationError::new("too_big", "Too big", json!(7))
///     .with_ctx(ErrorContext::new().with("limit", 5));
/// assert_eq!(e.ctx.as_ref().and_then(|c| c.get("limit")), Some(&json!(5)));
/// // Any JSON object converts too.
/// let same = ErrorContext::from(json!({ "limit": 5 }));
/// assert_eq!(e.ctx, Some(same));
/// assert_eq!(e.ctx.unwrap().to_value(), json!({ "limit": 5 }));
/// ```
#[derive(Debug, Clone, Default)]
pub struct ErrorContext {
    repr: CtxRepr,
}

#[derive(Debug, Clone)]
enum CtxRepr {
    /// Entries in order (keys unique: [`ErrorContext::with`] replaces).
    Entries(Vec<(Cow<'static, str>, Value)>),
    /// A JSON value that is not an object, kept as it was given (boxed: it is rare,
    /// and a JSON value is three times the size of the list).
    Other(Box<Value>),
}

impl Default for CtxRepr {
    fn default() -> Self {
        CtxRepr::Entries(Vec::new())
    }
}

impl ErrorContext {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// A context of one entry.
    pub fn one(key: impl Into<Cow<'static, str>>, value: impl Into<Value>) -> Self {
        Self::entries(vec![(key.into(), value.into())])
    }

    /// A context of these entries, in this order (keys unique).
    pub(crate) fn entries(entries: Vec<(Cow<'static, str>, Value)>) -> Self {
        ErrorContext {
            repr: CtxRepr::Entries(entries),
        }
    }

    /// The context with `key` set to `value` (replaced if it was there); a context
    /// made from a JSON value that was not an object becomes an object of this entry.
    pub fn with(mut self, key: impl Into<Cow<'static, str>>, value: impl Into<Value>) -> Self {
        let (key, value) = (key.into(), value.into());
        match &mut self.repr {
            CtxRepr::Entries(entries) => match entries.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = value,
                None => entries.push((key, value)),
            },
            CtxRepr::Other(_) => {
                self.repr = CtxRepr::Entries(vec![(key, value)]);
            }
        }
        self
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match &self.repr {
            CtxRepr::Entries(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            CtxRepr::Other(_) => None,
        }
    }

    /// The value of `key`, to change it.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        match &mut self.repr {
            CtxRepr::Entries(entries) => entries.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            CtxRepr::Other(_) => None,
        }
    }

    /// The entries, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        let entries = match &self.repr {
            CtxRepr::Entries(entries) => entries.as_slice(),
            CtxRepr::Other(_) => &[],
        };
        entries.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// As JSON: an object of the entries (or the value given, if it was not an object).
    pub fn to_value(&self) -> Value {
        Value::from(self.clone())
    }
}

impl From<Value> for ErrorContext {
    /// A JSON object's entries, in order; any other value is kept as it is (and
    /// serialised as given).
    fn from(value: Value) -> Self {
        let repr = match value {
            Value::Object(map) => {
                CtxRepr::Entries(map.into_iter().map(|(k, v)| (Cow::Owned(k), v)).collect())
            }
            other => CtxRepr::Other(Box::new(other)),
        };
        ErrorContext { repr }
    }
}

impl From<ErrorContext> for Value {
    fn from(ctx: ErrorContext) -> Value {
        match ctx.repr {
            CtxRepr::Entries(entries) => Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.into_owned(), v))
                    .collect(),
            ),
            CtxRepr::Other(v) => *v,
        }
    }
}

/// Equal when their JSON is: the same entries, in any order.
impl PartialEq for ErrorContext {
    fn eq(&self, other: &Self) -> bool {
        self.to_value() == other.to_value()
    }
}

impl Serialize for ErrorContext {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.repr {
            CtxRepr::Entries(entries) => {
                let mut m = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    m.serialize_entry(k.as_ref(), v)?;
                }
                m.end()
            }
            CtxRepr::Other(v) => v.serialize(s),
        }
    }
}

impl ValidationError {
    /// A new error with no location and no context.
    pub fn new(
        kind: impl Into<Cow<'static, str>>,
        msg: impl Into<Cow<'static, str>>,
        input: Value,
    ) -> Self {
        ValidationError {
            kind: kind.into(),
            loc: Vec::new(),
            msg: msg.into(),
            input,
            ctx: None,
        }
    }

    /// Set the context: an [`ErrorContext`], or a JSON object (`json!({"ge": 1})`).
    pub fn with_ctx(mut self, ctx: impl Into<ErrorContext>) -> Self {
        self.ctx = Some(ctx.into());
        self
    }

    /// Set the location.
    pub fn at(mut self, loc: Vec<LocItem>) -> Self {
        self.loc = loc;
        self
    }

    /// `missing` — "Field required".
    pub fn missing() -> Self {
        Self::new("missing", "Field required", Value::Null)
    }
}

/// Documented as FastAPI documents it: the `ValidationError` component.
impl schemars::JsonSchema for ValidationError {
    fn schema_name() -> Cow<'static, str> {
        "ValidationError".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "properties": {
                "loc": {
                    "items": { "anyOf": [{ "type": "string" }, { "type": "integer" }] },
                    "type": "array",
                    "title": "Location"
                },
                "msg": { "type": "string", "title": "Message" },
                "type": { "type": "string", "title": "Error Type" },
                "input": { "title": "Input" },
                "ctx": { "type": "object", "title": "Context" }
            },
            "type": "object",
            "required": ["loc", "msg", "type"],
            "title": "ValidationError"
        })
    }
}

impl Serialize for ValidationError {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(if self.ctx.is_some() { 5 } else { 4 }))?;
        m.serialize_entry("type", &self.kind)?;
        m.serialize_entry("loc", &self.loc)?;
        m.serialize_entry("msg", &self.msg)?;
        m.serialize_entry("input", &self.input)?;
        if let Some(ctx) = &self.ctx {
            m.serialize_entry("ctx", ctx)?;
        }
        m.end()
    }
}

/// How many errors one request reports by default.
pub const DEFAULT_MAX_ERRORS: usize = 100;

/// All the input errors of one request, up to a limit; rendered as FastAPI's 422 body.
///
/// An app can replace the rendering with
/// [`App::on_validation_error`](crate::App::on_validation_error).
#[derive(Debug, Clone, PartialEq)]
pub struct RequestValidationError {
    errors: Vec<ValidationError>,
    limit: usize,
    /// Where the first error past the limit was; `Some` once one was left out.
    overflow: Option<Vec<LocItem>>,
}

impl Default for RequestValidationError {
    fn default() -> Self {
        Self::with_limit(DEFAULT_MAX_ERRORS)
    }
}

impl RequestValidationError {
    /// An empty collection that keeps up to [`DEFAULT_MAX_ERRORS`] errors.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty collection that keeps up to `limit` errors (at least one).
    pub fn with_limit(limit: usize) -> Self {
        RequestValidationError {
            errors: Vec::new(),
            limit: limit.max(1),
            overflow: None,
        }
    }

    /// Add one error; past the limit it is left out, and the list marked truncated.
    pub fn push(&mut self, err: ValidationError) {
        if self.errors.len() < self.limit {
            self.errors.push(err);
        } else if self.overflow.is_none() {
            self.overflow = Some(err.loc);
        }
    }

    /// Add several errors.
    pub fn extend(&mut self, errs: impl IntoIterator<Item = ValidationError>) {
        for e in errs {
            self.push(e);
        }
    }

    /// Whether no error was collected.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The collected errors, in parameter order (at most the limit).
    pub fn errors(&self) -> &[ValidationError] {
        &self.errors
    }

    /// The collected errors, by value.
    pub fn into_errors(self) -> Vec<ValidationError> {
        self.errors
    }

    /// The most errors kept.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Whether errors were left out because there were more than the limit.
    pub fn is_truncated(&self) -> bool {
        self.overflow.is_some()
    }

    /// The errors kept, to put them in the order FastAPI lists them.
    pub(crate) fn errors_mut(&mut self) -> &mut Vec<ValidationError> {
        &mut self.errors
    }

    /// Rewrite the name after the source (`["header", "x_token"]` → `x-token`) of the
    /// errors from index `from` on.
    pub(crate) fn rename_locs(&mut self, from: usize, rename: impl Fn(&str) -> String) {
        for e in self.errors.iter_mut().skip(from) {
            if let Some(LocItem::Key(k)) = e.loc.get_mut(1) {
                *k = Cow::Owned(rename(k));
            }
        }
    }

    /// How many more errors are kept before the list is truncated.
    pub(crate) fn room(&self) -> usize {
        self.limit.saturating_sub(self.errors.len())
    }

    /// The entry that ends a truncated list.
    fn truncation(&self) -> Option<ValidationError> {
        let loc = self.overflow.clone()?;
        Some(
            ValidationError::new(
                "too_many_errors",
                format!("Too many errors: only the first {} are listed", self.limit),
                Value::Null,
            )
            .with_ctx(serde_json::json!({ "limit": self.limit }))
            .at(loc),
        )
    }

    /// The FastAPI body: `{"detail": [ … ]}`.
    pub fn to_json(&self) -> Value {
        let mut detail: Vec<&ValidationError> = self.errors.iter().collect();
        let end = self.truncation();
        detail.extend(end.as_ref());
        serde_json::json!({ "detail": detail })
    }

    /// The response hasten sends for these errors when no handler replaces it (`422`,
    /// FastAPI's body): for a validation handler that falls back on the default
    /// (FastAPI's `request_validation_exception_handler`).
    pub fn default_response(&self) -> crate::Response {
        let mut resp = crate::Response::new(crate::body::Body::full(self.to_json_bytes()));
        *resp.status_mut() = http::StatusCode::UNPROCESSABLE_ENTITY;
        resp.headers_mut().insert(
            http::header::CONTENT_TYPE,
            crate::response::content_type::JSON,
        );
        resp
    }

    /// The FastAPI body, serialised: the bytes of [`to_json`](Self::to_json), written
    /// straight into one buffer.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        let end = self.truncation();
        let all = || self.errors.iter().chain(end.as_ref());
        let mut out = Vec::with_capacity(16 + all().map(write::size_hint).sum::<usize>());
        out.extend_from_slice(b"{\"detail\":[");
        for (i, e) in all().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write::error(&mut out, e);
        }
        out.extend_from_slice(b"]}");
        out
    }
}

impl fmt::Display for RequestValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} validation error(s)", self.errors.len())?;
        if self.is_truncated() {
            f.write_str(" (and more, not listed)")?;
        }
        for e in &self.errors {
            let loc: Vec<String> = e
                .loc
                .iter()
                .map(|l| match l {
                    LocItem::Key(k) => k.to_string(),
                    LocItem::Index(i) => i.to_string(),
                })
                .collect();
            write!(f, "; {}: {} [{}]", loc.join("."), e.msg, e.kind)?;
        }
        Ok(())
    }
}

impl std::error::Error for RequestValidationError {}

/// JSON text written by hand for the 422 body, the same bytes serde_json writes for
/// these values: strings that need no escape are copied as they are, anything else
/// goes through serde_json.
mod write {
    use serde_json::Value;

    use super::{CtxRepr, ErrorContext, LocItem, ValidationError};

    /// About how many bytes [`error`] writes: enough, mostly, that the buffer is
    /// allocated once.
    pub(super) fn size_hint(e: &ValidationError) -> usize {
        let value = |v: &Value| match v {
            Value::String(s) => s.len() + 2,
            Value::Array(items) => 2 + 16 * items.len(),
            Value::Object(map) => 2 + 32 * map.len(),
            _ => 24,
        };
        48 + e.kind.len()
            + e.msg.len()
            + 12 * e.loc.len()
            + value(&e.input)
            + e.ctx.as_ref().map_or(0, |c| {
                10 + c.iter().map(|(k, v)| 4 + k.len() + value(v)).sum::<usize>()
            })
    }

    /// One error, its members in pydantic's order.
    pub(super) fn error(out: &mut Vec<u8>, e: &ValidationError) {
        out.extend_from_slice(b"{\"type\":");
        text(out, &e.kind);
        out.extend_from_slice(b",\"loc\":[");
        for (i, item) in e.loc.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            match item {
                LocItem::Key(k) => text(out, k),
                LocItem::Index(n) => {
                    let _ = serde_json::to_writer(&mut *out, n);
                }
            }
        }
        out.extend_from_slice(b"],\"msg\":");
        text(out, &e.msg);
        out.extend_from_slice(b",\"input\":");
        value(out, &e.input);
        if let Some(ctx) = &e.ctx {
            out.extend_from_slice(b",\"ctx\":");
            context(out, ctx);
        }
        out.push(b'}');
    }

    /// A JSON string.
    pub(super) fn text(out: &mut Vec<u8>, s: &str) {
        if !needs_escape(s.as_bytes()) {
            out.reserve(s.len() + 2);
            out.push(b'"');
            out.extend_from_slice(s.as_bytes());
            out.push(b'"');
        } else {
            // Writing into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut *out, s);
        }
    }

    /// Whether JSON must escape a byte of `bytes` (a control character, `"` or `\\`),
    /// sixteen bytes at a time in two words; the last bytes are read as one word that
    /// overlaps the ones before. The flags are gathered without a branch per word: the
    /// strings are short and almost never need an escape.
    pub(super) fn needs_escape(bytes: &[u8]) -> bool {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        // The high bit of each byte of `x` below `n` (n ≤ 128); a match borrows, so
        // bytes above it may be set too, but only when there is a match.
        let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGH;
        let quote = ONES * u64::from(b'"');
        let backslash = ONES * u64::from(b'\\');
        let bad = |x: u64| below(x, 0x20) | below(x ^ quote, 1) | below(x ^ backslash, 1);
        let n = bytes.len();
        if n < 8 {
            // Short strings (most of a 422's keys and inputs) as one word too: two
            // overlapping halves, or the first, middle and last bytes, padded with a
            // letter.
            let word = match n {
                0 => return false,
                1..=3 => [
                    bytes[0],
                    bytes[n / 2],
                    bytes[n - 1],
                    b'a',
                    b'a',
                    b'a',
                    b'a',
                    b'a',
                ],
                _ => {
                    let (a, b) = (&bytes[..4], &bytes[n - 4..]);
                    [a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]]
                }
            };
            return bad(u64::from_le_bytes(word)) != 0;
        }
        let word = |i: usize| {
            let c = &bytes[i..i + 8];
            u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])
        };
        let mut found = 0;
        let mut i = 0;
        while i + 16 <= n {
            found |= bad(word(i)) | bad(word(i + 8));
            i += 16;
        }
        if i + 8 <= n {
            found |= bad(word(i));
            i += 8;
        }
        if i < n {
            found |= bad(word(n - 8));
        }
        found != 0
    }

    /// An error's context: an object of its entries.
    fn context(out: &mut Vec<u8>, ctx: &ErrorContext) {
        match &ctx.repr {
            CtxRepr::Other(v) => value(out, v),
            CtxRepr::Entries(_) => object(out, ctx.iter()),
        }
    }

    /// A JSON object of these entries.
    fn object<'a>(out: &mut Vec<u8>, entries: impl Iterator<Item = (&'a str, &'a Value)>) {
        out.push(b'{');
        for (i, (k, item)) in entries.enumerate() {
            if i > 0 {
                out.push(b',');
            }
            text(out, k);
            out.push(b':');
            value(out, item);
        }
        out.push(b'}');
    }

    /// A JSON value.
    pub(super) fn value(out: &mut Vec<u8>, v: &Value) {
        match v {
            Value::String(s) => text(out, s),
            Value::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    value(out, item);
                }
                out.push(b']');
            }
            Value::Object(map) => object(out, map.iter().map(|(k, v)| (k.as_str(), v))),
            // null, booleans and numbers.
            other => {
                let _ = serde_json::to_writer(&mut *out, other);
            }
        }
    }
}

/// Pydantic's wording for the errors hasten reports, in one place.
pub mod messages {
    use serde_json::{json, Value};

    use super::{ErrorContext, ValidationError};

    /// `int_parsing` for a string that is not an integer.
    pub fn int_parsing(input: Value) -> ValidationError {
        ValidationError::new(
            "int_parsing",
            "Input should be a valid integer, unable to parse string as an integer",
            input,
        )
    }

    /// `int_type` for a value of the wrong JSON type.
    pub fn int_type(input: Value) -> ValidationError {
        ValidationError::new("int_type", "Input should be a valid integer", input)
    }

    /// `int_from_float` for a number with a fractional part.
    pub fn int_from_float(input: Value) -> ValidationError {
        ValidationError::new(
            "int_from_float",
            "Input should be a valid integer, got a number with a fractional part",
            input,
        )
    }

    /// `float_parsing` for a string that is not a number.
    pub fn float_parsing(input: Value) -> ValidationError {
        ValidationError::new(
            "float_parsing",
            "Input should be a valid number, unable to parse string as a number",
            input,
        )
    }

    /// `float_type` for a value of the wrong JSON type.
    pub fn float_type(input: Value) -> ValidationError {
        ValidationError::new("float_type", "Input should be a valid number", input)
    }

    /// `bool_parsing` for a string that is not one of FastAPI's boolean words.
    pub fn bool_parsing(input: Value) -> ValidationError {
        ValidationError::new(
            "bool_parsing",
            "Input should be a valid boolean, unable to interpret input",
            input,
        )
    }

    /// `bool_type` for a value of the wrong JSON type.
    pub fn bool_type(input: Value) -> ValidationError {
        ValidationError::new("bool_type", "Input should be a valid boolean", input)
    }

    /// `string_type` for a value that is not a string.
    pub fn string_type(input: Value) -> ValidationError {
        ValidationError::new("string_type", "Input should be a valid string", input)
    }

    /// `string_unicode` for bytes that are not UTF-8.
    pub fn string_unicode(input: Value) -> ValidationError {
        ValidationError::new(
            "string_unicode",
            "Input should be a valid string, unable to parse raw data as a unicode string",
            input,
        )
    }

    fn plural(n: u64) -> &'static str {
        if n == 1 {
            ""
        } else {
            "s"
        }
    }

    /// The pieces, joined: a message built without the formatting machinery, which
    /// costs more than the rest of an error on the 422 path.
    fn concat(parts: &[&str]) -> String {
        let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
        for p in parts {
            out.push_str(p);
        }
        out
    }

    /// A bound as a message shows it: its JSON text (`1`, `2.5`).
    enum Shown {
        Digits(Digits),
        Text(String),
    }

    impl Shown {
        fn as_str(&self) -> &str {
            match self {
                Shown::Digits(d) => d.as_str(),
                Shown::Text(t) => t,
            }
        }
    }

    fn shown(bound: &Value) -> Shown {
        match bound.as_u64() {
            Some(n) => Shown::Digits(Digits::of(n)),
            None => Shown::Text(bound.to_string()),
        }
    }

    /// The decimal digits of a `u64`, on the stack.
    struct Digits {
        buf: [u8; 20],
        start: usize,
    }

    impl Digits {
        fn of(mut n: u64) -> Self {
            let mut buf = [0u8; 20];
            let mut start = buf.len();
            loop {
                start -= 1;
                buf[start] = b'0' + (n % 10) as u8;
                n /= 10;
                if n == 0 {
                    break;
                }
            }
            Digits { buf, start }
        }

        fn as_str(&self) -> &str {
            // Only ASCII digits were written.
            std::str::from_utf8(&self.buf[self.start..]).unwrap_or("0")
        }
    }

    /// `string_too_short`.
    pub fn string_too_short(input: Value, min_length: u64) -> ValidationError {
        ValidationError::new(
            "string_too_short",
            concat(&[
                "String should have at least ",
                Digits::of(min_length).as_str(),
                " character",
                plural(min_length),
            ]),
            input,
        )
        .with_ctx(ErrorContext::one("min_length", min_length))
    }

    /// `string_too_long`.
    pub fn string_too_long(input: Value, max_length: u64) -> ValidationError {
        ValidationError::new(
            "string_too_long",
            concat(&[
                "String should have at most ",
                Digits::of(max_length).as_str(),
                " character",
                plural(max_length),
            ]),
            input,
        )
        .with_ctx(ErrorContext::one("max_length", max_length))
    }

    /// `too_short` for a list with too few items.
    pub fn too_short(input: Value, min_length: u64, actual: u64) -> ValidationError {
        too_short_of("List", input, min_length, actual)
    }

    /// `too_long` for a list with too many items.
    pub fn too_long(input: Value, max_length: u64, actual: u64) -> ValidationError {
        too_long_of("List", input, max_length, actual)
    }

    /// `too_short` for a `List`, `Set` or `Tuple` with too few items.
    pub fn too_short_of(
        field_type: &str,
        input: Value,
        min_length: u64,
        actual: u64,
    ) -> ValidationError {
        ValidationError::new(
            "too_short",
            concat(&[
                field_type,
                " should have at least ",
                Digits::of(min_length).as_str(),
                " item",
                plural(min_length),
                " after validation, not ",
                Digits::of(actual).as_str(),
            ]),
            input,
        )
        .with_ctx(ErrorContext::entries(vec![
            ("field_type".into(), field_type.into()),
            ("min_length".into(), min_length.into()),
            ("actual_length".into(), actual.into()),
        ]))
    }

    /// `too_long` for a `List`, `Set` or `Tuple` with too many items.
    pub fn too_long_of(
        field_type: &str,
        input: Value,
        max_length: u64,
        actual: u64,
    ) -> ValidationError {
        ValidationError::new(
            "too_long",
            concat(&[
                field_type,
                " should have at most ",
                Digits::of(max_length).as_str(),
                " item",
                plural(max_length),
                " after validation, not ",
                Digits::of(actual).as_str(),
            ]),
            input,
        )
        .with_ctx(ErrorContext::entries(vec![
            ("field_type".into(), field_type.into()),
            ("max_length".into(), max_length.into()),
            ("actual_length".into(), actual.into()),
        ]))
    }

    /// `string_pattern_mismatch`.
    pub fn string_pattern_mismatch(input: Value, pattern: &str) -> ValidationError {
        ValidationError::new(
            "string_pattern_mismatch",
            concat(&["String should match pattern '", pattern, "'"]),
            input,
        )
        .with_ctx(ErrorContext::one("pattern", pattern))
    }

    /// The four range errors: `kind` is one of `gt`, `ge`, `lt`, `le`; `bound` is the limit
    /// as a JSON number (kept as written: `1`, `0.5`).
    pub fn range(kind: &str, input: Value, bound: Value) -> ValidationError {
        let (key, ty, words) = match kind {
            "gt" => ("gt", "greater_than", "greater than"),
            "ge" => ("ge", "greater_than_equal", "greater than or equal to"),
            "lt" => ("lt", "less_than", "less than"),
            _ => ("le", "less_than_equal", "less than or equal to"),
        };
        let msg = concat(&["Input should be ", words, " ", shown(&bound).as_str()]);
        ValidationError::new(ty, msg, input).with_ctx(ErrorContext::one(key, bound))
    }

    /// `multiple_of`: "Input should be a multiple of 0.5".
    pub fn multiple_of(input: Value, step: Value) -> ValidationError {
        ValidationError::new(
            "multiple_of",
            concat(&["Input should be a multiple of ", shown(&step).as_str()]),
            input,
        )
        .with_ctx(ErrorContext::one("multiple_of", step))
    }

    /// Python's way of listing choices: `'a'`, `'a' or 'b'`, `'a', 'b' or 'c'`.
    pub fn expected_list<S: AsRef<str>>(choices: &[S]) -> String {
        let quoted: Vec<String> = choices
            .iter()
            .map(|c| format!("'{}'", c.as_ref()))
            .collect();
        match quoted.len() {
            0 => String::new(),
            1 => quoted[0].clone(),
            n => format!("{} or {}", quoted[..n - 1].join(", "), quoted[n - 1]),
        }
    }

    /// `enum` for a value that is not one of the choices.
    pub fn enumeration<S: AsRef<str>>(input: Value, choices: &[S]) -> ValidationError {
        let expected = expected_list(choices);
        ValidationError::new("enum", format!("Input should be {expected}"), input)
            .with_ctx(ErrorContext::one("expected", expected))
    }

    /// `model_attributes_type` for a body that is not an object.
    pub fn model_attributes_type(input: Value) -> ValidationError {
        ValidationError::new(
            "model_attributes_type",
            "Input should be a valid dictionary or object to extract fields from",
            input,
        )
    }

    /// `literal_error` for a value that is not one of a `Literal`'s (an enum that is not
    /// a named type).
    pub fn literal_error<S: AsRef<str>>(input: Value, choices: &[S]) -> ValidationError {
        let expected = expected_list(choices);
        ValidationError::new(
            "literal_error",
            format!("Input should be {expected}"),
            input,
        )
        .with_ctx(ErrorContext::one("expected", expected))
    }

    /// `set_type` for a value that is not a set (a list of unique items).
    pub fn set_type(input: Value) -> ValidationError {
        ValidationError::new("set_type", "Input should be a valid set", input)
    }

    /// `list_type` for a value that is not a list.
    pub fn list_type(input: Value) -> ValidationError {
        ValidationError::new("list_type", "Input should be a valid list", input)
    }

    /// `dict_type` for a value that is not an object.
    pub fn dict_type(input: Value) -> ValidationError {
        ValidationError::new("dict_type", "Input should be a valid dictionary", input)
    }

    /// `extra_forbidden` for a field the model does not allow.
    pub fn extra_forbidden(input: Value) -> ValidationError {
        ValidationError::new("extra_forbidden", "Extra inputs are not permitted", input)
    }

    /// `json_invalid`: `offset` is the character offset, `error` Python's `json` message.
    pub fn json_invalid(offset: usize, error: &str) -> ValidationError {
        ValidationError::new("json_invalid", "JSON decode error", json!({}))
            .with_ctx(ErrorContext::one("error", error))
            .at(vec!["body".into(), offset.into()])
    }
}

#[cfg(test)]
mod tests {
    use super::messages::*;
    use serde_json::json;

    #[test]
    fn serialises_in_pydantic_key_order_and_omits_empty_ctx() {
        let e = int_parsing(json!("abc")).at(vec!["query".into(), "n".into()]);
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"type":"int_parsing","loc":["query","n"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"abc"}"#
        );
    }

    #[test]
    fn lists_choices_like_python() {
        assert_eq!(expected_list(&["a"]), "'a'");
        assert_eq!(expected_list(&["a", "b"]), "'a' or 'b'");
        assert_eq!(
            expected_list(&["alexnet", "resnet", "lenet"]),
            "'alexnet', 'resnet' or 'lenet'"
        );
    }

    #[test]
    fn range_message_keeps_the_bound_as_written() {
        let e = range("ge", json!("0"), json!(1));
        assert_eq!(e.msg, "Input should be greater than or equal to 1");
        assert_eq!(e.ctx.map(|c| c.to_value()), Some(json!({"ge": 1})));
        let e = range("lt", json!("3"), json!(2.5));
        assert_eq!(e.msg, "Input should be less than 2.5");
    }

    #[test]
    fn the_422_body_is_written_as_serde_json_writes_it() {
        use super::{LocItem, RequestValidationError, ValidationError};
        let mut all = RequestValidationError::with_limit(3);
        all.push(int_parsing(json!("a\"b\\c\u{1}\n é ✓")).at(vec!["query".into(), "n".into()]));
        all.push(
            ValidationError::new("value_error", "Value error, \"quoted\"\ttab", json!(null))
                .with_ctx(json!({"error": {"nested": [1, -2, 2.5, 1e300, true, null, "ü"]}}))
                .at(vec!["body".into(), LocItem::Index(12), "k\"ey".into()]),
        );
        all.push(range("gt", json!([{"x": 0.1}]), json!(0)).at(vec![]));
        all.push(ValidationError::missing().at(vec!["body".into(), "late".into()]));
        assert!(all.is_truncated());
        let bytes = all.to_json_bytes();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            serde_json::to_string(&all.to_json()).unwrap()
        );
    }

    #[test]
    fn every_byte_that_json_escapes_is_found_at_every_position() {
        for b in 0..=255u8 {
            let escapes = b < 0x20 || b == b'"' || b == b'\\';
            for len in [1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 23, 32, 33] {
                for at in 0..len {
                    let mut bytes = vec![b'a'; len];
                    // Neighbours that sit just above and below the bounds.
                    if at > 0 {
                        bytes[at - 1] = 0xff;
                    }
                    bytes[at] = b;
                    assert_eq!(
                        super::write::needs_escape(&bytes),
                        escapes,
                        "byte {b:#04x} at {at} of {len}"
                    );
                }
            }
        }
        assert!(!super::write::needs_escape(
            "plain é ✓ text, long enough".as_bytes()
        ));
        assert!(!super::write::needs_escape(b""));
        assert!(!super::write::needs_escape("é✓".as_bytes()));
    }

    #[test]
    fn singular_character() {
        assert_eq!(
            string_too_short(json!(""), 1).msg,
            "String should have at least 1 character"
        );
    }
}
