//! Validators for rules that cross fields, as pydantic's `model_validator` and
//! `AfterValidator`: a hook that runs once a value has passed its field checks and adds
//! errors to the same 422, with the location, type and message it chooses.
//!
//! A model implements [`Validate`]; wherever it is read — `Json<T>`, `Form<T>`, an
//! embedded body parameter, `Query<T>`, `Header<T>`, `Cookie<T>` — its rule runs after
//! the fields are valid, and what it reports joins the other parameters' errors:
//!
//! ```
//! use hasten::prelude::*;
//! use hasten::validate::{Invalid, Validate, Validation};
//!
//! #[derive(Deserialize, JsonSchema)]
//! struct SignUp {
//!     username: String,
//!     password: String,
//!     repeat: String,
//! }
//!
//! impl Validate for SignUp {
//!     fn validate(&self, v: &mut Validation<'_>) {
//!         if self.password != self.repeat {
//!             // {"type": "value_error", "loc": ["body"],
//!             //  "msg": "Value error, passwords do not match", "input": {...}}
//!             v.fail(Invalid::value_error("passwords do not match"));
//!         }
//!     }
//! }
//!
//! #[post("/signup")]
//! async fn sign_up(form: Json<SignUp>) -> String {
//!     form.0.username
//! }
//! # let _ = App::new().route(sign_up).build().unwrap();
//! ```
//!
//! A nested model's rule runs when its parent's asks for it ([`Validation::nested`],
//! [`Validation::each`]), at the nested location, with the nested input — as pydantic
//! locates a nested model's validator errors. A rule runs only once its model has
//! passed every field check, as pydantic's `mode="after"` validators do. A single parameter takes a validator
//! function with `#[query(validate = even)]` (any parameter attribute): `fn even(n: i64)
//! -> Result<i64, Invalid>`, which may also transform the value, as `AfterValidator`.

use std::borrow::Cow;
use std::fmt::Display;

use serde_json::{json, Value};

use crate::validation::{ErrorContext, LocItem, ValidationError};

/// A rule a value must keep beyond its fields' own checks (pydantic's
/// `model_validator`): it runs once the value's fields are valid, wherever the value is
/// read (`Json<T>`, `Form<T>`, an embedded body parameter, `Query<T>`, `Header<T>`,
/// `Cookie<T>`), and what it reports through [`Validation`] joins the same 422.
pub trait Validate {
    /// Check `self`, reporting what breaks the rule through `v`.
    fn validate(&self, v: &mut Validation<'_>);
}

impl<T: Validate> Validate for Option<T> {
    fn validate(&self, v: &mut Validation<'_>) {
        if let Some(inner) = self {
            inner.validate(v);
        }
    }
}

impl<T: Validate> Validate for Vec<T> {
    fn validate(&self, v: &mut Validation<'_>) {
        for (i, item) in self.iter().enumerate() {
            item.validate(&mut v.index(i));
        }
    }
}

impl<T: Validate + ?Sized> Validate for Box<T> {
    fn validate(&self, v: &mut Validation<'_>) {
        (**self).validate(v);
    }
}

/// One broken rule: pydantic's error `type`, its message and its context.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    kind: Cow<'static, str>,
    msg: String,
    ctx: Option<ErrorContext>,
}

impl Invalid {
    /// A `value_error`, as a `ValueError` raised in a pydantic validator:
    /// the message reads `"Value error, {message}"`.
    pub fn value_error(message: impl Display) -> Self {
        Invalid {
            kind: Cow::Borrowed("value_error"),
            msg: format!("Value error, {message}"),
            // pydantic puts the exception in `ctx.error`; FastAPI shows it as `{}`.
            ctx: Some(ErrorContext::one("error", json!({}))),
        }
    }

    /// An error of a chosen type, message and context, as pydantic's
    /// `PydanticCustomError(kind, message, ctx)`; the message is used as given.
    pub fn custom(kind: impl Into<Cow<'static, str>>, message: impl Display) -> Self {
        Invalid {
            kind: kind.into(),
            msg: message.to_string(),
            ctx: None,
        }
    }

    /// Set the error's `ctx`: an [`ErrorContext`], or a JSON object
    /// (`json!({"limit": 5})`).
    pub fn with_ctx(mut self, ctx: impl Into<ErrorContext>) -> Self {
        self.ctx = Some(ctx.into());
        self
    }

    fn into_error(self, loc: Vec<LocItem>, input: Value) -> ValidationError {
        ValidationError {
            kind: self.kind,
            loc,
            msg: Cow::Owned(self.msg),
            input,
            ctx: self.ctx,
        }
    }
}

impl From<&str> for Invalid {
    /// A `value_error` with this message.
    fn from(message: &str) -> Self {
        Invalid::value_error(message)
    }
}

impl From<String> for Invalid {
    /// A `value_error` with this message.
    fn from(message: String) -> Self {
        Invalid::value_error(message)
    }
}

/// Where a rule reports: the location of the value under check, relative to the
/// model. Errors reported here join the request's 422, each located under the model's
/// location and showing its input as sent.
#[derive(Debug)]
pub struct Validation<'a> {
    path: Vec<LocItem>,
    found: &'a mut Vec<(Vec<LocItem>, Invalid)>,
}

impl Validation<'_> {
    /// Run `value`'s rule as if it were read at `loc` from `input`; the errors, located
    /// and with their inputs, as the 422 would list them.
    pub fn run<T: Validate + ?Sized>(
        value: &T,
        loc: &[LocItem],
        input: &Value,
    ) -> Vec<ValidationError> {
        let mut found = Vec::new();
        value.validate(&mut Validation {
            path: Vec::new(),
            found: &mut found,
        });
        locate(found, loc, input)
    }

    /// Report `error` at this value's location.
    pub fn fail(&mut self, error: Invalid) {
        self.found.push((self.path.clone(), error));
    }

    /// The field `name` of this value: report there.
    pub fn field(&mut self, name: &str) -> Validation<'_> {
        let mut path = self.path.clone();
        path.push(LocItem::Key(Cow::Owned(name.to_owned())));
        Validation {
            path,
            found: self.found,
        }
    }

    /// The item `i` of this list: report there.
    pub fn index(&mut self, i: usize) -> Validation<'_> {
        let mut path = self.path.clone();
        path.push(LocItem::Index(i));
        Validation {
            path,
            found: self.found,
        }
    }

    /// Run the rule of the nested model in field `name`, located there.
    pub fn nested<T: Validate + ?Sized>(&mut self, name: &str, value: &T) {
        value.validate(&mut self.field(name));
    }

    /// Run the rule of each item of the list in field `name`, each located at its index.
    pub fn each<T: Validate>(&mut self, name: &str, items: &[T]) {
        let mut field = self.field(name);
        for (i, item) in items.iter().enumerate() {
            item.validate(&mut field.index(i));
        }
    }

    /// Whether this rule has reported anything so far.
    pub fn has_errors(&self) -> bool {
        !self.found.is_empty()
    }
}

/// The reports of a rule as errors: each located under `loc`, with the input found
/// at its path in `input`.
pub(super) fn locate(
    found: Vec<(Vec<LocItem>, Invalid)>,
    loc: &[LocItem],
    input: &Value,
) -> Vec<ValidationError> {
    found
        .into_iter()
        .map(|(path, error)| {
            let mut at = input;
            for step in &path {
                at = match (step, at) {
                    (LocItem::Key(k), Value::Object(m)) => {
                        m.get(k.as_ref()).unwrap_or(&Value::Null)
                    }
                    (LocItem::Index(i), Value::Array(a)) => a.get(*i).unwrap_or(&Value::Null),
                    _ => &Value::Null,
                };
            }
            let input = at.clone();
            let mut full = loc.to_vec();
            full.extend(path);
            error.into_error(full, input)
        })
        .collect()
}

pub(crate) mod probe;
