//! One way a body becomes a typed value, for [`Json`](crate::Json) and
//! [`Form`](crate::Form) alike: the compiled schema of its type checks it — types,
//! requiredness, pydantic's lax coercions and every declared constraint — and serde
//! builds the value from what passed.

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::compiled::{compiled_of, Compiled, Mode};
use super::{LocItem, ValidationError};
use crate::extract::Errors;

/// The compiled schema of a body type. A schema that cannot be compiled (an invalid
/// pattern) is refused when the app is built; should one get here all the same, the
/// request is answered 500 and the reason logged.
pub(crate) fn schema<T: JsonSchema + 'static>(errors: &mut Errors) -> Option<&'static Compiled> {
    match compiled_of::<T>() {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::error!(error = %e, "a body type's schema cannot be compiled");
            errors.reject(crate::HttpError::plain(
                http::StatusCode::INTERNAL_SERVER_ERROR,
                "Internal Server Error",
            ));
            None
        }
    }
}

/// Validate a parsed body as a `T` and build it. Every error is pushed, located under
/// `loc`.
pub(crate) fn validate_body<T: DeserializeOwned + JsonSchema + 'static>(
    value: Value,
    mode: Mode,
    loc: &[LocItem],
    errors: &mut Errors,
) -> Option<T> {
    let compiled = schema::<T>(errors)?;
    match compiled.validate(value, mode, loc, errors.room()) {
        Ok(coerced) => match T::deserialize(&coerced) {
            Ok(v) => Some(v),
            Err(e) => {
                errors.push(
                    ValidationError::new("value_error", format!("Value error, {e}"), coerced)
                        .at(loc.to_vec()),
                );
                None
            }
        },
        Err(errs) => {
            errors.push_all(errs);
            None
        }
    }
}

/// The build-time check of a body type: its schema compiles (every pattern is a valid
/// regular expression).
pub(crate) fn check_schema<T: JsonSchema + 'static>() -> Result<(), String> {
    compiled_of::<T>().map(|_| ())
}
