//! What the route macros generate to run validators: the probe that picks a model's
//! [`Validate`] rule when it has one, and the parameter validators' runners.

use serde_json::Value;

use super::{locate, Invalid, Validate, Validation};
use crate::extract::{Errors, ParamSpec, RequestCtx};
use crate::validation::LocItem;

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
