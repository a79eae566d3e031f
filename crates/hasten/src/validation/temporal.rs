//! Dates, times and durations, read as pydantic reads `datetime`, `date`, `time` and
//! `timedelta` in the lax (Python) mode FastAPI validates with.
//!
//! The parsing is speedate's, the crate pydantic-core parses these with, configured as
//! pydantic-core configures it (fractions past microseconds truncated, unix timestamps
//! in seconds or milliseconds by their size, UTC for a timestamp); the error types,
//! messages and the `ctx.error` reasons are pydantic's. The fallbacks pydantic makes in
//! lax mode are made too: a date is a datetime at midnight, a datetime at midnight is a
//! date, a number is a unix timestamp (seconds since midnight for a time, seconds for
//! a duration).
//!
//! An accepted value is rewritten in one form every serde implementation reads (RFC
//! 3339 and ISO 8601), so the typed value is built from what was checked:
//!
//! | format              | rewritten as                         | e.g. Rust types                               |
//! |---------------------|--------------------------------------|-----------------------------------------------|
//! | `date-time`         | `2032-04-23T10:20:30.5+01:00`        | `jiff::Timestamp`, `chrono::DateTime<Tz>`     |
//! | `partial-date-time` | `2032-04-23T10:20:30.5`              | `jiff::civil::DateTime`, `chrono::NaiveDateTime` |
//! | `date`              | `2032-04-23`                         | `jiff::civil::Date`, `chrono::NaiveDate`      |
//! | `time`, `partial-time` | `10:20:30.5`                      | `jiff::civil::Time`, `chrono::NaiveTime`      |
//! | `duration`          | `PT3600.5S`, `-PT1S`                 | `jiff::SignedDuration`                        |
//!
//! A `date-time` without an offset is taken as UTC (a Rust instant needs one; pydantic
//! keeps such a value naive). A type with no offset drops the one given: the wall-clock
//! time is kept as written.

use std::borrow::Cow;
use std::fmt::Write;

use serde_json::Value;
use speedate::{
    Date, DateConfig, DateTime, DateTimeConfig, Duration, MicrosecondsPrecisionOverflowBehavior,
    ParseError, Time, TimeConfig,
};
use strum::EnumMessage;

use super::{ErrorContext, ValidationError};

/// What a `format` reads: the pydantic type it stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Temporal {
    /// `date-time`: pydantic's `datetime`, kept with an offset (UTC when none is given).
    DateTime,
    /// `partial-date-time`: pydantic's `datetime`, kept as wall-clock time.
    LocalDateTime,
    /// `date`: pydantic's `date`.
    Date,
    /// `time` and `partial-time`: pydantic's `time`, kept as wall-clock time.
    Time,
    /// `duration`: pydantic's `timedelta`.
    Duration,
}

/// speedate's settings for text, as pydantic-core sets them.
fn time_config() -> TimeConfig {
    TimeConfig {
        microseconds_precision_overflow_behavior: MicrosecondsPrecisionOverflowBehavior::Truncate,
        unix_timestamp_offset: Some(0),
    }
}

/// speedate's settings for datetimes from text.
fn datetime_config() -> DateTimeConfig {
    DateTimeConfig {
        time_config: time_config(),
        ..Default::default()
    }
}

/// speedate's settings for datetimes from numbers (default precision handling).
fn timestamp_config() -> DateTimeConfig {
    DateTimeConfig {
        time_config: TimeConfig {
            unix_timestamp_offset: Some(0),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// speedate's reason, as pydantic shows it in `ctx.error`.
fn reason(e: &ParseError) -> Cow<'static, str> {
    Cow::Borrowed(e.get_documentation().unwrap_or_default())
}

/// An error whose message ends with a reason kept in `ctx.error`.
fn with_reason(
    kind: &'static str,
    prefix: &str,
    reason: Cow<'static, str>,
    input: &Value,
) -> Box<ValidationError> {
    Box::new(
        ValidationError::new(kind, format!("{prefix}, {reason}"), input.clone())
            .with_ctx(ErrorContext::one("error", reason)),
    )
}

/// An error with no reason: the input's type is wrong, or a datetime is not a date.
fn plain(kind: &'static str, msg: &'static str, input: &Value) -> Box<ValidationError> {
    Box::new(ValidationError::new(kind, msg, input.clone()))
}

fn datetime_parsing(reason: Cow<'static, str>, input: &Value) -> Box<ValidationError> {
    with_reason(
        "datetime_parsing",
        "Input should be a valid datetime",
        reason,
        input,
    )
}

fn date_parsing(reason: Cow<'static, str>, input: &Value) -> Box<ValidationError> {
    with_reason(
        "date_parsing",
        "Input should be a valid date in the format YYYY-MM-DD",
        reason,
        input,
    )
}

fn time_parsing(reason: Cow<'static, str>, input: &Value) -> Box<ValidationError> {
    with_reason(
        "time_parsing",
        "Input should be in a valid time format",
        reason,
        input,
    )
}

fn time_delta_parsing(reason: Cow<'static, str>, input: &Value) -> Box<ValidationError> {
    with_reason(
        "time_delta_parsing",
        "Input should be a valid timedelta",
        reason,
        input,
    )
}

/// How pydantic (in Python mode) sees a JSON number: an `int` when it fits 64 bits,
/// a `float` otherwise.
enum Number {
    Int(i64),
    Float(f64),
}

fn number(n: &serde_json::Number) -> Number {
    match n.as_i64() {
        Some(i) => Number::Int(i),
        None => Number::Float(n.as_f64().unwrap_or(f64::INFINITY)),
    }
}

/// Why reading a datetime failed: a type error, or speedate's reason.
enum DateTimeError {
    Type,
    Parsing(Cow<'static, str>),
}

/// pydantic's `validate_datetime` of one input (no date fallback).
fn read_datetime(value: &Value) -> Result<DateTime, DateTimeError> {
    match value {
        Value::String(s) => DateTime::parse_bytes_with_config(s.as_bytes(), &datetime_config())
            .map_err(|e| DateTimeError::Parsing(reason(&e))),
        Value::Number(n) => match number(n) {
            Number::Int(i) => DateTime::from_timestamp_with_config(i, 0, &timestamp_config()),
            Number::Float(f) => DateTime::from_float_with_config(f, &timestamp_config()),
        }
        .map_err(|e| DateTimeError::Parsing(reason(&e))),
        _ => Err(DateTimeError::Type),
    }
}

/// A datetime, as pydantic's `datetime` validator reads it.
fn datetime(value: &Value) -> Result<DateTime, Box<ValidationError>> {
    let dt = match read_datetime(value) {
        Ok(dt) => dt,
        Err(DateTimeError::Type) => {
            return Err(plain(
                "datetime_type",
                "Input should be a valid datetime",
                value,
            ))
        }
        // Lax mode: a date is a datetime at midnight; text that is neither is reported
        // with the date parser's reason.
        Err(DateTimeError::Parsing(why)) => match value {
            Value::String(s) => {
                match Date::parse_bytes_with_config(s.as_bytes(), &DateConfig::default()) {
                    Ok(date) => DateTime {
                        date,
                        time: Time {
                            hour: 0,
                            minute: 0,
                            second: 0,
                            microsecond: 0,
                            tz_offset: None,
                        },
                    },
                    Err(e) => {
                        return Err(with_reason(
                            "datetime_from_date_parsing",
                            "Input should be a valid datetime or date",
                            reason(&e),
                            value,
                        ))
                    }
                }
            }
            _ => return Err(datetime_parsing(why, value)),
        },
    };
    if dt.date.year == 0 {
        return Err(datetime_parsing("year 0 is out of range".into(), value));
    }
    Ok(dt)
}

/// `date_from_datetime_inexact`'s message.
const INEXACT: &str = "Datetimes provided to dates should have zero time - e.g. be exact dates";

/// A date, as pydantic's `date` validator reads it.
fn date(value: &Value) -> Result<Date, Box<ValidationError>> {
    let parsed = match value {
        Value::String(s) => {
            Date::parse_bytes_with_config(s.as_bytes(), &DateConfig::default()).ok()
        }
        _ => None,
    };
    let date = match parsed {
        Some(d) => d,
        // Lax mode: a datetime with no time of day is a date.
        None => match read_datetime(value) {
            Ok(dt) => {
                let t = &dt.time;
                if (t.hour, t.minute, t.second, t.microsecond) != (0, 0, 0, 0) {
                    return Err(plain("date_from_datetime_inexact", INEXACT, value));
                }
                dt.date
            }
            Err(DateTimeError::Parsing(why)) => {
                return Err(with_reason(
                    "date_from_datetime_parsing",
                    "Input should be a valid date or datetime",
                    why,
                    value,
                ))
            }
            Err(DateTimeError::Type) => {
                return Err(plain("date_type", "Input should be a valid date", value))
            }
        },
    };
    if date.year == 0 {
        return Err(date_parsing("year 0 is out of range".into(), value));
    }
    Ok(date)
}

/// A time as pydantic-core reads it from a number of seconds since midnight.
fn time_from_seconds(
    seconds: i64,
    microseconds: u32,
    value: &Value,
) -> Result<Time, Box<ValidationError>> {
    if seconds < 0 {
        return Err(time_parsing(
            "time in seconds should be positive".into(),
            value,
        ));
    }
    let seconds = u32::try_from(seconds).unwrap_or(u32::MAX);
    Time::from_timestamp_with_config(
        seconds,
        microseconds,
        &TimeConfig {
            unix_timestamp_offset: Some(0),
            ..Default::default()
        },
    )
    .map_err(|e| time_parsing(reason(&e), value))
}

/// A time, as pydantic's `time` validator reads it.
fn time(value: &Value) -> Result<Time, Box<ValidationError>> {
    match value {
        Value::String(s) => Time::parse_bytes_with_config(s.as_bytes(), &time_config())
            .map_err(|e| time_parsing(reason(&e), value)),
        Value::Number(n) => match number(n) {
            Number::Int(i) => time_from_seconds(i, 0, value),
            Number::Float(f) => {
                let micros = f.fract().abs() * 1_000_000.0;
                time_from_seconds(f.floor() as i64, micros.round() as u32, value)
            }
        },
        _ => Err(plain("time_type", "Input should be a valid time", value)),
    }
}

/// A duration from a number of seconds, as pydantic-core computes it.
fn duration_from_int(total: i64, value: &Value) -> Result<Duration, Box<ValidationError>> {
    let positive = total >= 0;
    let total = total.unsigned_abs();
    // More days than a `u32` holds is too many, as it is to pydantic.
    let days = u32::try_from(total / 86_400).unwrap_or(u32::MAX);
    Duration::new(positive, days, (total % 86_400) as u32, 0)
        .map_err(|e| time_delta_parsing(reason(&e), value))
}

fn duration_from_float(total: f64, value: &Value) -> Result<Duration, Box<ValidationError>> {
    let positive = total >= 0.0;
    let total = total.abs();
    let microsecond = total.fract() * 1_000_000.0;
    let days = (total / 86_400.0) as u32;
    let seconds = (total as u64 % 86_400) as u32;
    Duration::new(positive, days, seconds, microsecond.round() as u32)
        .map_err(|e| time_delta_parsing(reason(&e), value))
}

/// A duration, as pydantic's `timedelta` validator reads it (a bool is 0 or 1 second).
fn duration(value: &Value) -> Result<Duration, Box<ValidationError>> {
    match value {
        Value::String(s) => Duration::parse_bytes_with_config(s.as_bytes(), &time_config())
            .map_err(|e| time_delta_parsing(reason(&e), value)),
        Value::Number(n) => match number(n) {
            Number::Int(i) => duration_from_int(i, value),
            Number::Float(f) => duration_from_float(f, value),
        },
        Value::Bool(b) => duration_from_int(i64::from(*b), value),
        _ => Err(plain(
            "time_delta_type",
            "Input should be a valid timedelta",
            value,
        )),
    }
}

/// `.123`, `.5`, or nothing: the fraction of a second, trailing zeros left out.
fn push_fraction(out: &mut String, microsecond: u32) {
    if microsecond == 0 {
        return;
    }
    let digits = format!("{microsecond:06}");
    out.push('.');
    out.push_str(digits.trim_end_matches('0'));
}

fn push_date(out: &mut String, d: &Date) {
    let _ = write!(out, "{:04}-{:02}-{:02}", d.year, d.month, d.day);
}

fn push_time(out: &mut String, t: &Time) {
    let _ = write!(out, "{:02}:{:02}:{:02}", t.hour, t.minute, t.second);
    push_fraction(out, t.microsecond);
}

fn push_offset(out: &mut String, offset: i32) {
    if offset == 0 {
        out.push('Z');
        return;
    }
    let sign = if offset < 0 { '-' } else { '+' };
    let offset = offset.unsigned_abs();
    let _ = write!(out, "{sign}{:02}:{:02}", offset / 3600, offset / 60 % 60);
    if !offset.is_multiple_of(60) {
        let _ = write!(out, ":{:02}", offset % 60);
    }
}

impl Temporal {
    /// The format named in a schema, if it is one of these.
    pub(crate) fn of(format: &str) -> Option<Temporal> {
        Some(match format {
            "date-time" => Temporal::DateTime,
            "partial-date-time" => Temporal::LocalDateTime,
            "date" => Temporal::Date,
            "time" | "partial-time" => Temporal::Time,
            "duration" => Temporal::Duration,
            _ => return None,
        })
    }

    /// Read `value` as pydantic reads the type, and write it in the form the Rust
    /// type's serde reads; or pydantic's error.
    pub(crate) fn read(self, value: &Value) -> Result<String, Box<ValidationError>> {
        let mut out = String::with_capacity(32);
        match self {
            Temporal::DateTime | Temporal::LocalDateTime => {
                let dt = datetime(value)?;
                push_date(&mut out, &dt.date);
                out.push('T');
                push_time(&mut out, &dt.time);
                if self == Temporal::DateTime {
                    push_offset(&mut out, dt.time.tz_offset.unwrap_or(0));
                }
            }
            Temporal::Date => push_date(&mut out, &date(value)?),
            Temporal::Time => push_time(&mut out, &time(value)?),
            Temporal::Duration => {
                let d = duration(value)?;
                if !d.positive && (d.day, d.second, d.microsecond) != (0, 0, 0) {
                    out.push('-');
                }
                let seconds = u64::from(d.day) * 86_400 + u64::from(d.second);
                let _ = write!(out, "PT{seconds}");
                push_fraction(&mut out, d.microsecond);
                out.push('S');
            }
        }
        Ok(out)
    }

    /// Whether `text` is accepted and already in the form [`read`](Self::read) writes,
    /// so serde may read it as it is.
    pub(crate) fn is_canonical(self, text: &str) -> bool {
        // No form written is longer.
        if text.len() > 40 {
            return false;
        }
        // `read` takes a `Value`; the text is short, so the copy costs little.
        matches!(self.read(&Value::String(text.to_owned())), Ok(s) if s == text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(t: Temporal, v: Value) -> Result<String, Value> {
        t.read(&v).map_err(|e| serde_json::to_value(e).unwrap())
    }

    fn err(t: Temporal, v: Value) -> (String, String) {
        let e = t.read(&v).unwrap_err();
        (e.kind.into_owned(), e.msg.into_owned())
    }

    /// pydantic 2.14's verdicts (`TypeAdapter(datetime).validate_python`).
    #[test]
    fn datetimes_read_as_pydantic_reads_them() {
        use Temporal::DateTime as D;
        for (input, out) in [
            (json!("2032-04-23T10:20:30"), "2032-04-23T10:20:30Z"),
            (json!("2032-04-23T10:20:30Z"), "2032-04-23T10:20:30Z"),
            (
                json!("2032-04-23T10:20:30.123456789+01:00"),
                "2032-04-23T10:20:30.123456+01:00",
            ),
            (json!("2032-04-23 10:20"), "2032-04-23T10:20:00Z"),
            (json!("2032-04-23t10:20:30z"), "2032-04-23T10:20:30Z"),
            (
                json!("2032-04-23_10:20:30-05:30"),
                "2032-04-23T10:20:30-05:30",
            ),
            (
                json!("2032-04-23T10:20:30+0130"),
                "2032-04-23T10:20:30+01:30",
            ),
            (json!("2032-04-23"), "2032-04-23T00:00:00Z"),
            (json!("1700000000"), "2023-11-14T22:13:20Z"),
            (json!("1700000000123"), "2023-11-14T22:13:20.123Z"),
            (json!(1700000000), "2023-11-14T22:13:20Z"),
            (json!(1700000000.5), "2023-11-14T22:13:20.5Z"),
            (json!(-1), "1969-12-31T23:59:59Z"),
            (json!("2032"), "1970-01-01T00:33:52Z"),
        ] {
            assert_eq!(read(D, input.clone()).as_deref(), Ok(out), "{input}");
        }
        assert_eq!(
            read(
                Temporal::LocalDateTime,
                json!("2032-04-23T10:20:30.5+01:00")
            )
            .as_deref(),
            Ok("2032-04-23T10:20:30.5")
        );
        assert_eq!(
            read(D, json!("2032-02-30T10:00:00")).unwrap_err(),
            json!({"type": "datetime_from_date_parsing", "loc": [],
                   "msg": "Input should be a valid datetime or date, day value is outside expected range",
                   "input": "2032-02-30T10:00:00", "ctx": {"error": "day value is outside expected range"}})
        );
        for (input, kind, msg) in [
            (json!("2032-04-23T10"), "datetime_from_date_parsing",
             "Input should be a valid datetime or date, unexpected extra characters at the end of the input"),
            (json!(""), "datetime_from_date_parsing", "Input should be a valid datetime or date, input is too short"),
            (json!("  2032-04-23T10:20:30"), "datetime_from_date_parsing",
             "Input should be a valid datetime or date, invalid character in year"),
            (json!("0000-01-01T00:00:00"), "datetime_parsing", "Input should be a valid datetime, year 0 is out of range"),
            (json!(1e20), "datetime_parsing",
             "Input should be a valid datetime, dates after 9999 are not supported as unix timestamps"),
            (json!(true), "datetime_type", "Input should be a valid datetime"),
            (json!(null), "datetime_type", "Input should be a valid datetime"),
        ] {
            assert_eq!(err(D, input.clone()), (kind.to_owned(), msg.to_owned()), "{input}");
        }
    }

    #[test]
    fn dates_read_as_pydantic_reads_them() {
        use Temporal::Date as D;
        for (input, out) in [
            (json!("2032-04-23"), "2032-04-23"),
            (json!("2032-04-23T00:00:00+01:00"), "2032-04-23"),
            (json!("2032-04-23 00:00"), "2032-04-23"),
            (json!("1699920000"), "2023-11-14"),
            (json!(1699920000), "2023-11-14"),
            (json!(1699920000.0), "2023-11-14"),
            (json!(-86400), "1969-12-31"),
        ] {
            assert_eq!(read(D, input.clone()).as_deref(), Ok(out), "{input}");
        }
        for (input, kind, msg) in [
            (json!("2032-04-23T10:20:30"), "date_from_datetime_inexact",
             "Datetimes provided to dates should have zero time - e.g. be exact dates"),
            (json!(1700000000), "date_from_datetime_inexact",
             "Datetimes provided to dates should have zero time - e.g. be exact dates"),
            (json!("2032-02-30"), "date_from_datetime_parsing",
             "Input should be a valid date or datetime, day value is outside expected range"),
            (json!("2032-04-23X"), "date_from_datetime_parsing",
             "Input should be a valid date or datetime, invalid datetime separator, expected `T`, `t`, `_` or space"),
            (json!("0000-01-01"), "date_parsing",
             "Input should be a valid date in the format YYYY-MM-DD, year 0 is out of range"),
            (json!(true), "date_type", "Input should be a valid date"),
        ] {
            assert_eq!(err(D, input.clone()), (kind.to_owned(), msg.to_owned()), "{input}");
        }
    }

    #[test]
    fn times_read_as_pydantic_reads_them() {
        use Temporal::Time as T;
        for (input, out) in [
            (json!("10:20"), "10:20:00"),
            (json!("10:20:30.123456789"), "10:20:30.123456"),
            (json!("10:20:30-0530"), "10:20:30"),
            (json!(3600.5), "01:00:00.5"),
        ] {
            assert_eq!(read(T, input.clone()).as_deref(), Ok(out), "{input}");
        }
        for (input, kind, msg) in [
            (json!("102030"), "time_parsing",
             "Input should be in a valid time format, invalid time separator, expected `:`"),
            (json!("10:20:60"), "time_parsing",
             "Input should be in a valid time format, second value is outside expected range of 0-59"),
            (json!(-1), "time_parsing", "Input should be in a valid time format, time in seconds should be positive"),
            (json!(86400), "time_parsing",
             "Input should be in a valid time format, numeric times may not exceed 86,399 seconds"),
            (json!(true), "time_type", "Input should be a valid time"),
        ] {
            assert_eq!(err(T, input.clone()), (kind.to_owned(), msg.to_owned()), "{input}");
        }
    }

    #[test]
    fn durations_read_as_pydantic_reads_them() {
        use Temporal::Duration as D;
        for (input, out) in [
            (json!("P1DT2H3M4.5S"), "PT93784.5S"),
            (json!("-PT1S"), "-PT1S"),
            (json!("P1Y"), "PT31536000S"),
            (json!("1 day, 10:00"), "PT122400S"),
            (json!("-10:00"), "-PT36000S"),
            (json!("PT0.0000001S"), "PT0S"),
            (json!(3600.5), "PT3600.5S"),
            (json!(-1.5), "-PT1.5S"),
            (json!(true), "PT1S"),
        ] {
            assert_eq!(read(D, input.clone()).as_deref(), Ok(out), "{input}");
        }
        for (input, msg) in [
            (json!("x"), "Input should be a valid timedelta, invalid digit in duration"),
            (json!("3600"), "Input should be a valid timedelta, \"day\" identifier in duration not correctly formatted"),
            (json!("P1000000000D"), "Input should be a valid timedelta, durations may not exceed 999,999,999 days"),
            (json!(i64::MIN), "Input should be a valid timedelta, durations may not exceed 999,999,999 days"),
        ] {
            assert_eq!(err(D, input.clone()), ("time_delta_parsing".to_owned(), msg.to_owned()), "{input}");
        }
        assert_eq!(err(D, json!(null)).0, "time_delta_type");
    }

    #[test]
    fn canonical_text_skips_the_rewrite() {
        assert!(Temporal::DateTime.is_canonical("2032-04-23T10:20:30.5Z"));
        assert!(!Temporal::DateTime.is_canonical("2032-04-23T10:20:30"));
        assert!(!Temporal::DateTime.is_canonical("2032-04-23T10:20:30+00:00"));
        assert!(Temporal::Date.is_canonical("2032-04-23"));
        assert!(!Temporal::Date.is_canonical("2032-04-23T00:00:00"));
        assert!(Temporal::Duration.is_canonical("PT90S"));
        assert!(!Temporal::Duration.is_canonical("P1D"));
    }
}
