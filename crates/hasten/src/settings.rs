//! Typed settings, read as pydantic-settings reads them: a struct whose fields come from
//! environment variables (matched case-insensitively, after an optional prefix) and an
//! optional `.env` file, validated by the same rules as a request body (pydantic's lax
//! coercions, every declared constraint), with **every error reported at once** when the
//! app starts. The value is app state: a handler or a dependency takes
//! [`State<T>`](crate::State), and a test replaces it with [`App::state`](crate::App::state).
//!
//! ```
//! use hasten::prelude::*;
//! use hasten::settings::Settings;
//!
//! #[derive(Deserialize, JsonSchema)]
//! struct Config {
//!     database_url: String,
//!     #[schemars(range(min = 1, max = 65535))]
//!     port: u16,
//!     #[serde(default)]
//!     debug: bool,
//!     /// A list reads as JSON: `ALLOWED_HOSTS='["a.example", "b.example"]'`.
//!     #[serde(default)]
//!     allowed_hosts: Vec<String>,
//! }
//!
//! #[get("/where")]
//! async fn where_(config: State<Config>) -> String {
//!     config.database_url.clone()
//! }
//!
//! // Read from APP_DATABASE_URL, APP_PORT … (and `.env`, if there is one) at start.
//! let app = App::new()
//!     .route(where_)
//!     .settings::<Config>(Settings::from_env().prefix("APP_"));
//! # let _ = app;
//! ```
//!
//! A secret (`#[schemars(extend("writeOnly" = true))]`, or `format: password`, as pydantic
//! documents `SecretStr`) is never repeated in a problem: `APP_SECRET_KEY: String should
//! have at least 32 characters (the value is not shown: a secret)`.
//!
//! Values are read as a query string's are: text, coerced to the field's type as
//! pydantic does (`"8000"` is a number, `"yes"` a boolean), and a value that starts with
//! `[` or `{` is read as JSON (lists, maps and nested models). Environment variables win
//! over the file. The file holds `NAME=value` lines; `#` starts a comment, `export ` may
//! precede a name, and a value may be quoted (`"…"` or `'…'`).

use std::collections::HashMap;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::extract::Errors;
use crate::validation::compiled::Mode;

/// Where a settings struct is read from (see the [module](self)).
#[derive(Debug, Clone)]
pub struct Settings {
    prefix: String,
    env_file: Option<PathBuf>,
}

impl Settings {
    /// Environment variables named as the fields (any case), and `.env` in the working
    /// directory when there is one.
    pub fn from_env() -> Self {
        Settings {
            prefix: String::new(),
            env_file: Some(PathBuf::from(".env")),
        }
    }

    /// Variables are named `prefix` + the field's name (`APP_` → `APP_PORT`).
    pub fn prefix(mut self, prefix: &str) -> Self {
        self.prefix = prefix.to_owned();
        self
    }

    /// Read this file as well (skipped when it does not exist); `None` reads none.
    pub fn env_file(mut self, path: impl Into<Option<PathBuf>>) -> Self {
        self.env_file = path.into();
        self
    }

    /// Read a `T` now: the value, or every problem, one sentence each, naming the
    /// variable.
    pub fn load<T: DeserializeOwned + JsonSchema + 'static>(&self) -> Result<T, Vec<String>> {
        let mut found: HashMap<String, String> = HashMap::new();
        if let Some(path) = &self.env_file {
            match std::fs::read_to_string(path) {
                Ok(text) => {
                    for (name, value) in parse_env_file(&text) {
                        found.insert(name.to_lowercase(), value);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(vec![format!("{}: {e}", path.display())]),
            }
        }
        for (name, value) in std::env::vars_os() {
            if let (Some(name), Some(value)) = (name.to_str(), value.to_str()) {
                found.insert(name.to_lowercase(), value.to_owned());
            }
        }
        self.read(&found)
    }

    /// A `T` from `found` (lower-cased names to values).
    fn read<T: DeserializeOwned + JsonSchema + 'static>(
        &self,
        found: &HashMap<String, String>,
    ) -> Result<T, Vec<String>> {
        let schema = schemars::schema_for!(T);
        let fields: Vec<String> = schema
            .as_object()
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        let mut object = Map::new();
        for field in fields {
            let name = format!("{}{field}", self.prefix).to_lowercase();
            let Some(raw) = found.get(&name) else {
                continue;
            };
            let trimmed = raw.trim_start();
            let value = if trimmed.starts_with('[') || trimmed.starts_with('{') {
                serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.clone()))
            } else {
                Value::String(raw.clone())
            };
            object.insert(field, value);
        }
        let secrets: Vec<String> = schema
            .as_object()
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object)
            .map(|p| {
                p.iter()
                    .filter(|(_, field)| is_secret(field))
                    .map(|(name, _)| name.clone())
                    .collect()
            })
            .unwrap_or_default();
        let mut errors = Errors::default();
        match crate::validation::body::validate_body::<T>(
            Value::Object(object),
            Mode::Params,
            &[],
            &mut errors,
        ) {
            Some(value) => Ok(value),
            None => Err(self.problems(errors, &secrets)),
        }
    }

    /// Each error as `NAME: message (got input)`; the input of a field in `secrets` is
    /// never repeated.
    fn problems(&self, errors: Errors, secrets: &[String]) -> Vec<String> {
        if errors.rejection.is_some() {
            return vec!["the settings type's schema cannot be compiled".to_owned()];
        }
        let detail = errors.into_ordered().to_json();
        let items = detail["detail"].as_array().cloned().unwrap_or_default();
        items
            .iter()
            .map(|e| {
                let mut loc = e["loc"].as_array().cloned().unwrap_or_default().into_iter();
                let mut secret = false;
                let var = match loc.next() {
                    Some(Value::String(field)) => {
                        secret = secrets.contains(&field);
                        format!("{}{field}", self.prefix).to_uppercase()
                    }
                    _ => "settings".to_owned(),
                };
                let rest: Vec<String> = loc
                    .map(|l| match l {
                        Value::String(s) => s,
                        other => other.to_string(),
                    })
                    .collect();
                let place = if rest.is_empty() {
                    var
                } else {
                    format!("{var} → {}", rest.join("."))
                };
                let msg = e["msg"].as_str().unwrap_or("invalid");
                match &e["input"] {
                    Value::Null | Value::Object(_) => format!("{place}: {msg}"),
                    _ if secret => format!("{place}: {msg} (the value is not shown: a secret)"),
                    input => format!("{place}: {msg} (got {input})"),
                }
            })
            .collect()
    }
}

/// Whether a field's schema marks it secret: `writeOnly`, or `format: password` (how
/// pydantic documents `SecretStr`), on the field or on a branch of its `anyOf` (an
/// `Option`).
fn is_secret(field: &Value) -> bool {
    let marked = |s: &Value| {
        s.get("writeOnly") == Some(&Value::Bool(true))
            || s.get("format").and_then(Value::as_str) == Some("password")
    };
    marked(field)
        || ["anyOf", "oneOf", "allOf"].iter().any(|k| {
            field
                .get(*k)
                .and_then(Value::as_array)
                .is_some_and(|branches| branches.iter().any(marked))
        })
}

/// `NAME=value` lines: `#` comments, an optional `export `, optional quotes.
fn parse_env_file(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                return None;
            }
            let line = line.strip_prefix("export ").unwrap_or(line);
            let (name, value) = line.split_once('=')?;
            let value = value.trim();
            let value = match (value.chars().next(), value.chars().last()) {
                (Some(q @ ('"' | '\'')), Some(end)) if value.len() >= 2 && end == q => {
                    value[1..value.len() - 1].to_owned()
                }
                _ => value.split(" #").next().unwrap_or(value).trim().to_owned(),
            };
            Some((name.trim().to_owned(), value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_file_lines() {
        let parsed = parse_env_file(
            "# a comment\nexport A=1\nB = \"two words\"\nC='x # y'\nD=plain # note\n\nbroken\n",
        );
        assert_eq!(
            parsed,
            [
                ("A".to_owned(), "1".to_owned()),
                ("B".to_owned(), "two words".to_owned()),
                ("C".to_owned(), "x # y".to_owned()),
                ("D".to_owned(), "plain".to_owned()),
            ]
        );
    }
}
