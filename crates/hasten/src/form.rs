//! [`Form<T>`]: an `application/x-www-form-urlencoded` body.

use http::header::CONTENT_TYPE;
use http::HeaderMap;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::extract::{Errors, Extracted, FromRequest, ParamSpec, RequestCtx};
use crate::openapi::model::{BodyDoc, OperationDoc};
use crate::validation::body;
use crate::validation::compiled::Mode;
use crate::validation::LocItem;

/// A form body (`application/x-www-form-urlencoded`), validated like [`Json`](crate::Json):
/// a valid form takes one typed parse; an invalid one reports every field's error at
/// `["body", field]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Form<T>(pub T);

impl<T> std::ops::Deref for Form<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

pub(crate) use crate::response::FORM_URLENCODED;

/// Whether the request declares an urlencoded form body.
pub(crate) fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case(FORM_URLENCODED))
}

/// The pairs of an urlencoded body, decoded strictly: a `%` not followed by two hex
/// digits, or a name or value that is not UTF-8 once decoded, is a 400 naming the
/// field — never silently replaced, so nothing the client sent is lost or changed.
pub(crate) fn parse_urlencoded(bytes: &[u8]) -> Result<Vec<(String, String)>, crate::HttpError> {
    let mut pairs = Vec::new();
    for part in bytes.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let (name, value) = match part.iter().position(|b| *b == b'=') {
            Some(i) => (&part[..i], &part[i + 1..]),
            None => (part, &b""[..]),
        };
        let name = decode_component(name).map_err(|why| {
            bad_form(format!(
                "a field name {why}: `{}`",
                String::from_utf8_lossy(name)
            ))
        })?;
        let value =
            decode_component(value).map_err(|why| bad_form(format!("field `{name}` {why}")))?;
        pairs.push((name, value));
    }
    Ok(pairs)
}

fn bad_form(why: String) -> crate::HttpError {
    crate::HttpError::new(
        http::StatusCode::BAD_REQUEST,
        format!("Invalid form data: {why}"),
    )
}

/// One `application/x-www-form-urlencoded` component: `+` is a space, `%XX` a byte.
fn decode_component(raw: &[u8]) -> Result<String, &'static str> {
    if !raw.iter().any(|b| *b == b'%' || *b == b'+') {
        return std::str::from_utf8(raw)
            .map(str::to_owned)
            .map_err(|_| "is not valid UTF-8");
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = |b: u8| (b as char).to_digit(16);
                match (
                    raw.get(i + 1).and_then(|b| hex(*b)),
                    raw.get(i + 2).and_then(|b| hex(*b)),
                ) {
                    (Some(h), Some(l)) => out.push((h * 16 + l) as u8),
                    _ => return Err("has a `%` that is not followed by two hex digits"),
                }
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| "is not valid UTF-8 once decoded")
}

/// The pairs of an urlencoded body, as an object: a repeated key becomes an array.
pub(crate) fn pairs_to_object(pairs: &[(String, String)]) -> Value {
    let mut map = Map::new();
    for (k, v) in pairs {
        match map.get_mut(k) {
            Some(Value::Array(a)) => a.push(Value::String(v.clone())),
            Some(prev) => {
                let first = prev.take();
                *prev = Value::Array(vec![first, Value::String(v.clone())]);
            }
            None => {
                map.insert(k.clone(), Value::String(v.clone()));
            }
        }
    }
    Value::Object(map)
}

impl<T> FromRequest for Form<T>
where
    T: DeserializeOwned + JsonSchema + Send + 'static,
{
    const BODY: crate::extract::BodyUse = crate::extract::BodyUse::FormModel;

    async fn from_request(
        ctx: &mut RequestCtx,
        _spec: &'static ParamSpec,
        errors: &mut Errors,
    ) -> Extracted<Self> {
        read_form(ctx, Mode::Form, errors).await.map(Form)
    }

    fn describe(_spec: &'static ParamSpec, doc: &mut OperationDoc) {
        describe_form::<T>(doc);
    }
}

/// Read the request's form (urlencoded, or the text fields of a multipart body) as a
/// `T`, validated in `mode`; every error at `["body", field]`.
pub(crate) async fn read_form<T: DeserializeOwned + JsonSchema + 'static>(
    ctx: &mut RequestCtx,
    mode: Mode,
    errors: &mut Errors,
) -> Extracted<T> {
    let loc = vec![LocItem::Key("body".into())];
    if crate::uploads::is_multipart(ctx.headers()) {
        // The text fields of a multipart form (its files go to `UploadFile`s).
        let pairs = ctx.form_pairs(errors).await?.to_vec();
        return from_pairs(&pairs, mode, loc, errors);
    }
    let form = is_form(ctx.headers());
    let bytes = match ctx.read_body().await {
        Ok(b) => b,
        Err(e) => {
            errors.reject(e.into_http_error());
            return None;
        }
    };
    // A body that is not a form is an empty form, as Starlette reads it: each field
    // is then missing.
    if !form {
        return from_pairs(&[], mode, loc, errors);
    }
    let pairs = match parse_urlencoded(&bytes) {
        Ok(p) => p,
        Err(e) => {
            errors.reject(e);
            return None;
        }
    };
    from_pairs(&pairs, mode, loc, errors)
}

/// Document a form body whose fields are those of `T`.
pub(crate) fn describe_form<T: JsonSchema + 'static>(doc: &mut OperationDoc) {
    doc.body = Some(BodyDoc {
        content_types: vec![FORM_URLENCODED],
        required: true,
        schema: crate::openapi::model::SchemaDoc::of::<T>(),
        check: crate::validation::body::check_schema::<T>,
        name: None,
        per_operation: false,
    });
}

impl<T> crate::validate::probe::ModelParam for Form<T> {
    type Model = T;

    fn model(&self) -> Option<&T> {
        Some(&self.0)
    }

    /// The form's fields as sent: those of a multipart body, or the urlencoded body
    /// parsed again.
    fn located_input(ctx: &mut RequestCtx, _spec: &ParamSpec) -> (Vec<LocItem>, Value) {
        let pairs = match (ctx.form_fields(), &ctx.raw_body) {
            (Some(pairs), _) => pairs.to_vec(),
            (None, Some(raw)) => parse_urlencoded(raw).unwrap_or_default(),
            (None, None) => Vec::new(),
        };
        (vec![LocItem::Key("body".into())], pairs_to_object(&pairs))
    }
}

/// Validate form pairs as a `T`, every error at `["body", field]`.
fn from_pairs<T: DeserializeOwned + JsonSchema + 'static>(
    pairs: &[(String, String)],
    mode: Mode,
    loc: Vec<LocItem>,
    errors: &mut Errors,
) -> Extracted<T> {
    body::validate_body::<T>(pairs_to_object(pairs), mode, &loc, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urlencoded_decoding_is_strict_and_lossless() {
        let ok = parse_urlencoded(b"a=1+2&b=%C3%A9%2B&c&=&d=x%3Dy").unwrap();
        assert_eq!(
            ok,
            vec![
                ("a".to_owned(), "1 2".to_owned()),
                ("b".to_owned(), "é+".to_owned()),
                ("c".to_owned(), String::new()),
                (String::new(), String::new()),
                ("d".to_owned(), "x=y".to_owned()),
            ]
        );
        let detail = |body: &[u8]| {
            let e = parse_urlencoded(body).unwrap_err();
            assert_eq!(e.status(), http::StatusCode::BAD_REQUEST);
            e.detail().as_str().unwrap().to_owned()
        };
        assert_eq!(
            detail(b"a=%zz"),
            "Invalid form data: field `a` has a `%` that is not followed by two hex digits"
        );
        assert_eq!(
            detail(b"a=ok&b=%4"),
            "Invalid form data: field `b` has a `%` that is not followed by two hex digits"
        );
        assert_eq!(
            detail(b"a=%ff%fe"),
            "Invalid form data: field `a` is not valid UTF-8 once decoded"
        );
        assert_eq!(
            detail(b"a=\xff"),
            "Invalid form data: field `a` is not valid UTF-8"
        );
        assert_eq!(
            detail(b"%zz=1"),
            "Invalid form data: a field name has a `%` that is not followed by two hex digits: `%zz`"
        );
    }

    #[test]
    fn repeated_keys_become_arrays() {
        let pairs = vec![
            ("a".to_owned(), "1".to_owned()),
            ("b".to_owned(), "x".to_owned()),
            ("a".to_owned(), "2".to_owned()),
        ];
        assert_eq!(
            pairs_to_object(&pairs),
            serde_json::json!({"a": ["1", "2"], "b": "x"})
        );
    }
}
