//! What a return type says about its response, for the document: [`DescribeResponse`],
//! and the probe generated code uses to pick it.

use std::borrow::Cow;

use schemars::JsonSchema;
use serde_json::{json, Value};

use super::model::{ResponseDoc, SchemaDoc};

/// A return type that can say what its response looks like. Implemented for the
/// response types of this crate; a type that does not implement it is documented as a
/// JSON body of unknown shape.
pub trait DescribeResponse {
    /// The documentation of the response.
    fn describe_response() -> ResponseDoc;
}

impl<T: JsonSchema> DescribeResponse for crate::Json<T> {
    fn describe_response() -> ResponseDoc {
        ResponseDoc::json::<T>()
    }
}

impl DescribeResponse for Value {
    fn describe_response() -> ResponseDoc {
        ResponseDoc::any_json()
    }
}

/// `null`, documented as FastAPI documents a handler returning `None`: any JSON.
impl DescribeResponse for () {
    fn describe_response() -> ResponseDoc {
        ResponseDoc::any_json()
    }
}

macro_rules! text_response {
    ($($t:ty),*) => {$(
        impl DescribeResponse for $t {
            fn describe_response() -> ResponseDoc {
                ResponseDoc::typed(crate::response::TEXT_PLAIN, json!({ "type": "string" }))
            }
        }
    )*};
}
text_response!(String, &'static str, Cow<'static, str>);

impl<T> DescribeResponse for crate::Html<T> {
    fn describe_response() -> ResponseDoc {
        ResponseDoc::typed("text/html; charset=utf-8", json!({ "type": "string" }))
    }
}

impl DescribeResponse for bytes::Bytes {
    fn describe_response() -> ResponseDoc {
        ResponseDoc::typed(
            "application/octet-stream",
            json!({ "type": "string", "format": "binary" }),
        )
    }
}

impl DescribeResponse for Vec<u8> {
    fn describe_response() -> ResponseDoc {
        bytes::Bytes::describe_response()
    }
}

impl DescribeResponse for crate::Redirect {
    fn describe_response() -> ResponseDoc {
        ResponseDoc {
            content_type: None,
            schema: SchemaDoc::Inline(json!({})),
            status: Some(307),
        }
    }
}

impl DescribeResponse for http::StatusCode {
    fn describe_response() -> ResponseDoc {
        ResponseDoc {
            content_type: None,
            schema: SchemaDoc::Inline(json!({})),
            status: None,
        }
    }
}

impl<T: DescribeResponse> DescribeResponse for (http::StatusCode, T) {
    fn describe_response() -> ResponseDoc {
        T::describe_response()
    }
}

impl<T: DescribeResponse, const N: usize, K, V> DescribeResponse for ([(K, V); N], T) {
    fn describe_response() -> ResponseDoc {
        T::describe_response()
    }
}

impl<T: DescribeResponse, const N: usize, K, V> DescribeResponse
    for (http::StatusCode, [(K, V); N], T)
{
    fn describe_response() -> ResponseDoc {
        T::describe_response()
    }
}

impl<T: DescribeResponse, E> DescribeResponse for Result<T, E> {
    fn describe_response() -> ResponseDoc {
        T::describe_response()
    }
}

/// Picks [`DescribeResponse`] when the return type implements it, a compile error when
/// it is a JSON body whose type has no schema, and the generic fallback otherwise (the
/// generated code calls `(&&&Probe::<T>::new()).response_doc()`).
#[doc(hidden)]
pub struct Probe<T: ?Sized>(std::marker::PhantomData<T>);

impl<T: ?Sized> Probe<T> {
    /// A probe for `T`.
    pub const fn new() -> Self {
        Probe(std::marker::PhantomData)
    }
}

impl<T: ?Sized> Default for Probe<T> {
    fn default() -> Self {
        Probe::new()
    }
}

/// The chosen path when `T: DescribeResponse`.
#[doc(hidden)]
pub trait ViaDescribe {
    /// The response documentation.
    fn response_doc(&self) -> ResponseDoc;
}

impl<T: DescribeResponse> ViaDescribe for &&Probe<T> {
    fn response_doc(&self) -> ResponseDoc {
        T::describe_response()
    }
}

/// A return type that answers with a JSON body of type `Body` (`Json<T>`, or one
/// wrapped in a `Result`, or beside a status or headers).
#[doc(hidden)]
pub trait JsonReturn {
    /// The body's type.
    type Body;
}

impl<T> JsonReturn for crate::Json<T> {
    type Body = T;
}

impl<T: JsonReturn, E> JsonReturn for Result<T, E> {
    type Body = T::Body;
}

impl<T: JsonReturn> JsonReturn for (http::StatusCode, T) {
    type Body = T::Body;
}

impl<T: JsonReturn, const N: usize, K, V> JsonReturn for ([(K, V); N], T) {
    type Body = T::Body;
}

impl<T: JsonReturn, const N: usize, K, V> JsonReturn for (http::StatusCode, [(K, V); N], T) {
    type Body = T::Body;
}

/// A response body's type the document can describe.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is returned as JSON but has no schema: it does not implement `JsonSchema`",
    label = "the document could not say what this returns",
    note = "derive `JsonSchema` for it (beside `Serialize`), or return `Json<serde_json::Value>` for JSON of any shape"
)]
pub trait ResponseSchema {}

impl<T: JsonSchema> ResponseSchema for T {}

/// The path chosen for a JSON body whose type has no schema: a compile error at the
/// return type, rather than a document that silently shows any JSON.
#[doc(hidden)]
pub trait ViaMissingSchema {
    /// The body's type.
    type Body;

    /// Never compiles: `Self::Body` has no schema, or [`ViaDescribe`] would be chosen.
    fn response_doc(&self) -> ResponseDoc
    where
        Self::Body: ResponseSchema,
    {
        ResponseDoc::any_json()
    }
}

impl<T: JsonReturn> ViaMissingSchema for &Probe<T> {
    type Body = T::Body;
}

/// The fallback: a JSON body of unknown shape.
#[doc(hidden)]
pub trait ViaFallback {
    /// The response documentation.
    fn response_doc(&self) -> ResponseDoc;
}

impl<T: ?Sized> ViaFallback for Probe<T> {
    fn response_doc(&self) -> ResponseDoc {
        ResponseDoc::any_json()
    }
}

/// Python's `str.title()` followed by `_` → space: `item_id` → "Item Id",
/// `x-token` → "X-Token" (pydantic's default field title).
pub(crate) fn title_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut prev_letter = false;
    for c in name.chars() {
        if c.is_alphabetic() {
            if prev_letter {
                out.extend(c.to_lowercase());
            } else {
                out.extend(c.to_uppercase());
            }
            prev_letter = true;
        } else {
            out.push(if c == '_' { ' ' } else { c });
            prev_letter = false;
        }
    }
    out
}
