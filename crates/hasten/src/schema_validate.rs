//! Placeholder until the validator lands.
use crate::validation::{LocItem, ValidationError};
use serde_json::Value;
use std::sync::Arc;
/// Validation mode.
pub(crate) enum Mode {
    Json,
    Form,
}
pub(crate) fn validate(
    _root: &Value,
    value: Value,
    _mode: Mode,
    _loc: &[LocItem],
) -> Result<Value, Vec<ValidationError>> {
    let _ = (Mode::Json, Mode::Form);
    Ok(value)
}
pub(crate) fn json_invalid(_body: &[u8], err: &serde_json::Error) -> ValidationError {
    crate::validation::messages::json_invalid(err.column(), "Expecting value")
}
pub(crate) fn schema_of<T: schemars::JsonSchema + 'static>() -> Arc<Value> {
    Arc::new(serde_json::to_value(schemars::schema_for!(T)).unwrap_or_default())
}
