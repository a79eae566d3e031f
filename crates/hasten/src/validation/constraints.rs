//! The constraint checks, one implementation for parameters and body fields alike:
//! the range ladder (pydantic's order: `multiple_of`, then `le`, `lt`, `ge`, `gt`)
//! with exact comparison between integers, string and list lengths, and patterns with
//! one cache and one failure rule (an invalid pattern is refused when the app is
//! built, wherever it is declared).

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

use super::{messages, ValidationError};

/// The result of one check: boxed, so that a check that passes moves one word.
pub(crate) type Check = Result<(), Box<ValidationError>>;

/// A bound as declared: an integer stays exact, anything else is a float.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Bound {
    Int(i128),
    Float(f64),
}

impl Bound {
    /// From a JSON number of a schema.
    pub(crate) fn of(v: &Value) -> Option<Bound> {
        let n = v.as_number()?;
        if let Some(i) = n.as_i64() {
            Some(Bound::Int(i.into()))
        } else if let Some(u) = n.as_u64() {
            Some(Bound::Int(u.into()))
        } else {
            n.as_f64().map(Bound::Float)
        }
    }

    /// As JSON, as written (`1` stays an integer).
    pub(crate) fn to_json(self) -> Value {
        match self {
            Bound::Int(i) => match (i64::try_from(i), u64::try_from(i)) {
                (Ok(v), _) => Value::from(v),
                (_, Ok(v)) => Value::from(v),
                _ => Value::from(i as f64),
            },
            Bound::Float(f) => Value::from(f),
        }
    }

    fn as_f64(self) -> f64 {
        match self {
            Bound::Int(i) => i as f64,
            Bound::Float(f) => f,
        }
    }
}

/// A number to check: an exact integer, or a float.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Num {
    /// The float, when `exact` is `None` (an integer's float is worked out only when a
    /// float bound or step needs it).
    float: f64,
    pub(crate) exact: Option<i128>,
}

impl Num {
    pub(crate) fn int(i: i128) -> Self {
        Num {
            float: 0.0,
            exact: Some(i),
        }
    }

    pub(crate) fn float(f: f64) -> Self {
        Num {
            float: f,
            exact: None,
        }
    }

    /// The number as a float.
    pub(crate) fn value(self) -> f64 {
        match self.exact {
            Some(i) => i as f64,
            None => self.float,
        }
    }

    fn cmp(self, bound: Bound) -> Ordering {
        match (self.exact, bound) {
            (Some(i), Bound::Int(b)) => i.cmp(&b),
            _ => self
                .value()
                .partial_cmp(&bound.as_f64())
                .unwrap_or(Ordering::Less),
        }
    }
}

/// The range and step of a number.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Bounds {
    pub(crate) gt: Option<Bound>,
    pub(crate) ge: Option<Bound>,
    pub(crate) lt: Option<Bound>,
    pub(crate) le: Option<Bound>,
    pub(crate) multiple_of: Option<Bound>,
}

impl Bounds {
    pub(crate) fn is_empty(&self) -> bool {
        *self == Bounds::default()
    }

    /// The first rule `n` breaks, in pydantic's order: `multiple_of`, then `le`, `lt`,
    /// `ge`, `gt`.
    fn broken(&self, n: Num) -> Option<(&'static str, Bound)> {
        if let Some(m) = self.multiple_of {
            let ok = match (n.exact, m) {
                (Some(i), Bound::Int(d)) if d != 0 => i % d == 0,
                _ => {
                    let q = n.value() / m.as_f64();
                    (q - q.round()).abs() < 1e-9
                }
            };
            if !ok {
                return Some(("multiple_of", m));
            }
        }
        if n.exact.is_none() && n.float.is_nan() {
            // NaN compares false with every bound: the first bound declared fails.
            return [
                ("le", self.le),
                ("lt", self.lt),
                ("ge", self.ge),
                ("gt", self.gt),
            ]
            .into_iter()
            .find_map(|(k, b)| b.map(|b| (k, b)));
        }
        if let Some(b) = self.le.filter(|b| n.cmp(*b) == Ordering::Greater) {
            return Some(("le", b));
        }
        if let Some(b) = self.lt.filter(|b| n.cmp(*b) != Ordering::Less) {
            return Some(("lt", b));
        }
        if let Some(b) = self.ge.filter(|b| n.cmp(*b) == Ordering::Less) {
            return Some(("ge", b));
        }
        self.gt
            .filter(|b| n.cmp(*b) != Ordering::Greater)
            .map(|b| ("gt", b))
    }

    /// Whether `n` keeps every rule: the check without building an error.
    pub(crate) fn admits(&self, n: Num) -> bool {
        self.broken(n).is_none()
    }

    /// The first error, in pydantic's order: `multiple_of`, then `le`, `lt`, `ge`, `gt`.
    /// On a float (`n` not an exact integer) the bound in `ctx` is a float, as pydantic
    /// gives it (`{"gt": 0.0}`); the message shows it as declared.
    pub(crate) fn check(&self, n: Num, input: impl FnOnce() -> Value) -> Check {
        let Some((kind, bound)) = self.broken(n) else {
            return Ok(());
        };
        let mut e = if kind == "multiple_of" {
            messages::multiple_of(input(), bound.to_json())
        } else {
            messages::range(kind, input(), bound.to_json())
        };
        if n.exact.is_none() {
            if let Some(v) = e.ctx.as_mut().and_then(|c| c.get_mut(kind)) {
                *v = Value::from(bound.as_f64());
            }
        }
        Err(Box::new(e))
    }
}

/// What a length is of: text (counted in characters) or a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Measured {
    Text,
    List,
}

/// Whether a length `n` is within `min` and `max`.
pub(crate) fn length_admits(n: u64, min: Option<u64>, max: Option<u64>) -> bool {
    min.is_none_or(|m| n >= m) && max.is_none_or(|m| n <= m)
}

/// The first length error: too short, then too long.
pub(crate) fn check_length(
    what: Measured,
    n: u64,
    min: Option<u64>,
    max: Option<u64>,
    input: impl FnOnce() -> Value,
) -> Check {
    if let Some(min) = min.filter(|m| n < *m) {
        return Err(Box::new(match what {
            Measured::Text => messages::string_too_short(input(), min),
            Measured::List => messages::too_short(input(), min, n),
        }));
    }
    if let Some(max) = max.filter(|m| n > *m) {
        return Err(Box::new(match what {
            Measured::Text => messages::string_too_long(input(), max),
            Measured::List => messages::too_long(input(), max, n),
        }));
    }
    Ok(())
}

/// A compiled pattern, shared by every place that declares it.
pub(crate) type Pattern = Arc<regex::Regex>;

/// Compile `pattern` once per process; the error says why it is invalid. Patterns
/// match anywhere in the text, like Python's `re.search`.
pub(crate) fn pattern(pattern: &str) -> Result<Pattern, String> {
    static CACHE: OnceLock<Mutex<HashMap<String, Pattern>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(re) = cache.lock().ok().and_then(|c| c.get(pattern).cloned()) {
        return Ok(re);
    }
    let re = Arc::new(regex::Regex::new(pattern).map_err(|e| e.to_string())?);
    if let Ok(mut c) = cache.lock() {
        c.insert(pattern.to_owned(), re.clone());
    }
    Ok(re)
}

/// Check `text` against a compiled pattern.
pub(crate) fn check_pattern(
    re: &regex::Regex,
    source: &str,
    text: &str,
    input: impl FnOnce() -> Value,
) -> Check {
    if re.is_match(text) {
        Ok(())
    } else {
        Err(Box::new(messages::string_pattern_mismatch(input(), source)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_compare_exactly_past_f64_precision() {
        let b = Bounds {
            le: Some(Bound::Int(9_007_199_254_740_993)),
            ..Bounds::default()
        };
        assert!(b
            .check(Num::int(9_007_199_254_740_993), || Value::Null)
            .is_ok());
        assert!(b
            .check(Num::int(9_007_199_254_740_994), || Value::Null)
            .is_err());
    }

    #[test]
    fn the_ladder_reports_in_pydantics_order() {
        let b = Bounds {
            gt: Some(Bound::Int(10)),
            le: Some(Bound::Int(5)),
            ..Bounds::default()
        };
        let e = b.check(Num::int(7), || Value::from(7)).unwrap_err();
        assert_eq!(e.kind, "less_than_equal");
        let m = Bounds {
            multiple_of: Some(Bound::Float(0.5)),
            ..Bounds::default()
        };
        assert!(m.check(Num::float(1.5), || Value::Null).is_ok());
        let e = m.check(Num::float(0.3), || Value::from(0.3)).unwrap_err();
        assert_eq!(e.msg, "Input should be a multiple of 0.5");
        // A step is checked before the range, and a float's bounds are floats in `ctx`.
        let both = Bounds {
            le: Some(Bound::Int(5)),
            multiple_of: Some(Bound::Int(2)),
            ..Bounds::default()
        };
        let e = both.check(Num::int(7), || Value::from(7)).unwrap_err();
        assert_eq!(e.kind, "multiple_of");
        assert_eq!(
            e.ctx.map(|c| c.to_value()),
            Some(serde_json::json!({"multiple_of": 2}))
        );
        let e = both.check(Num::float(7.0), || Value::from(7)).unwrap_err();
        assert_eq!(
            serde_json::to_string(&e.ctx).unwrap(),
            r#"{"multiple_of":2.0}"#
        );
        let e = both.check(Num::float(6.0), || Value::from(6)).unwrap_err();
        assert_eq!(e.msg, "Input should be less than or equal to 5");
        assert_eq!(serde_json::to_string(&e.ctx).unwrap(), r#"{"le":5.0}"#);
    }
}
