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
//! use hasten::{Invalid, Validate, Validation};
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

use crate::extract::{Errors, ParamSpec, RequestCtx};
use crate::validation::{LocItem, ValidationError};

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
    ctx: Option<Value>,
}

impl Invalid {
    /// A `value_error`, as a `ValueError` raised in a pydantic validator:
    /// the message reads `"Value error, {message}"`.
    pub fn value_error(message: impl Display) -> Self {
        Invalid {
            kind: Cow::Borrowed("value_error"),
            msg: format!("Value error, {message}"),
            // pydantic puts the exception in `ctx.error`; FastAPI shows it as `{}`.
            ctx: Some(json!({ "error": {} })),
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

    /// Set the error's `ctx` object.
    pub fn with_ctx(mut self, ctx: Value) -> Self {
        self.ctx = Some(ctx);
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
fn locate(
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

/// A parameter type that carries a model a [`Validate`] rule can check: `Json<T>`,
/// `Form<T>`, the parameter models. Used by the generated code.
#[doc(hidden)]
pub trait ModelParam: Sized {
    /// The model.
    type Model;
    /// The model, if the parameter holds one (`Option<Json<T>>` may not).
    fn model(&self) -> Option<&Self::Model>;
    /// The model's location and its input as sent, read again from the request
    /// (only when a rule failed).
    fn located_input(ctx: &mut RequestCtx, spec: &ParamSpec) -> (Vec<LocItem>, Value);
}

/// Run `model`'s rule; what it reports joins `errors`, located and with its input.
fn run_rule<P: ModelParam>(
    param: &Option<P>,
    ctx: &mut RequestCtx,
    spec: &ParamSpec,
    errors: &mut Errors,
) -> bool
where
    P::Model: Validate,
{
    let Some(model) = param.as_ref().and_then(ModelParam::model) else {
        return true;
    };
    let mut found = Vec::new();
    model.validate(&mut Validation {
        path: Vec::new(),
        found: &mut found,
    });
    if found.is_empty() {
        return true;
    }
    // Only now is the input read again, to show it.
    let (loc, input) = P::located_input(ctx, spec);
    for error in locate(found, &loc, &input) {
        errors.push(error);
    }
    false
}

/// Picks the [`Validate`] rule of a parameter's model when it has one (the generated
/// code calls `(&&ValidateProbe::<P>::new()).run_rule(...)` after extracting `P`).
#[doc(hidden)]
pub struct ValidateProbe<P>(std::marker::PhantomData<P>);

impl<P> ValidateProbe<P> {
    /// A probe for `P`.
    pub const fn new() -> Self {
        ValidateProbe(std::marker::PhantomData)
    }
}

impl<P> Default for ValidateProbe<P> {
    fn default() -> Self {
        Self::new()
    }
}

/// The path taken when the parameter's model implements [`Validate`].
#[doc(hidden)]
pub trait ViaValidate<P> {
    /// Run the rule; `false` when it reported errors (the parameter is then dropped).
    fn run_rule(
        &self,
        param: &Option<P>,
        ctx: &mut RequestCtx,
        spec: &ParamSpec,
        errors: &mut Errors,
    ) -> bool;
}

impl<P: ModelParam> ViaValidate<P> for &ValidateProbe<P>
where
    P::Model: Validate,
{
    fn run_rule(
        &self,
        param: &Option<P>,
        ctx: &mut RequestCtx,
        spec: &ParamSpec,
        errors: &mut Errors,
    ) -> bool {
        run_rule(param, ctx, spec, errors)
    }
}

/// The path taken otherwise: nothing to run.
#[doc(hidden)]
pub trait ViaNoRule<P> {
    /// Nothing to run: always `true`.
    fn run_rule(
        &self,
        param: &Option<P>,
        ctx: &mut RequestCtx,
        spec: &ParamSpec,
        errors: &mut Errors,
    ) -> bool;
}

impl<P> ViaNoRule<P> for ValidateProbe<P> {
    fn run_rule(&self, _: &Option<P>, _: &mut RequestCtx, _: &ParamSpec, _: &mut Errors) -> bool {
        true
    }
}

/// Run a parameter's validator function (`#[query(validate = f)]`): `f` may replace
/// the value; an error it returns is located at the parameter, with its raw input.
#[doc(hidden)]
pub fn run_param_validator<T, E: Into<Invalid>>(
    value: Option<T>,
    validator: impl FnOnce(T) -> Result<T, E>,
    ctx: &mut RequestCtx,
    spec: &ParamSpec,
    errors: &mut Errors,
) -> Option<T> {
    match validator(value?) {
        Ok(v) => Some(v),
        Err(e) => {
            let (loc, input) = ctx.param_input(spec);
            errors.push(e.into().into_error(loc, input));
            None
        }
    }
}

/// [`run_param_validator`] for an `Option` parameter: the function sees the value
/// when one was given.
#[doc(hidden)]
pub fn run_optional_validator<T, E: Into<Invalid>>(
    value: Option<Option<T>>,
    validator: impl FnOnce(T) -> Result<T, E>,
    ctx: &mut RequestCtx,
    spec: &ParamSpec,
    errors: &mut Errors,
) -> Option<Option<T>> {
    match value? {
        None => Some(None),
        Some(v) => run_param_validator(Some(v), validator, ctx, spec, errors).map(Some),
    }
}
