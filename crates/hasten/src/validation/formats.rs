//! The string formats a field can declare (`#[schemars(email)]`, `url`, `ip`, `ipv4`,
//! `ipv6`), checked as pydantic checks `EmailStr`, `AnyUrl`, `IPvAnyAddress`,
//! `IPv4Address` and `IPv6Address`, with its error types and messages; and the formats
//! of the types that stand for pydantic's `UUID` (feature `uuid`) and `datetime`,
//! `date`, `time` and `timedelta` (feature `datetime`, see `temporal.rs`).
//!
//! URLs are parsed by the `url` crate, as pydantic-core parses them, so the reasons
//! in `ctx.error` are the same; UUIDs by the `uuid` crate, likewise. E-mail addresses
//! follow the syntax rules of the `email-validator` package pydantic uses (ASCII and
//! internationalized addresses, no quoted local parts, no deliverability lookup) and
//! give its reasons. These string values are kept as sent: pydantic also normalises
//! them (lower-case domain, a `/` after a bare host), hasten does not. UUIDs and
//! temporal values are *read* instead: any JSON value may be given (a number is a unix
//! timestamp to pydantic), and what was read is written in the form serde reads.

use serde_json::Value;

use super::constraints::Check;
#[cfg(feature = "datetime")]
use super::temporal::Temporal;
use super::{ErrorContext, ValidationError};

/// A string format hasten enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Email,
    Uri,
    Ip,
    Ipv4,
    Ipv6,
    /// `uuid`: pydantic's `UUID`.
    #[cfg(feature = "uuid")]
    Uuid,
    /// `date-time`, `date`, `time`, `duration` …: pydantic's `datetime` and friends.
    #[cfg(feature = "datetime")]
    Temporal(Temporal),
}

impl Format {
    /// The format named in a schema; `None` for those this module does not check
    /// (`uuid` without the `uuid` feature, the temporal ones without `datetime`: serde
    /// alone judges those).
    pub(crate) fn of(name: &str) -> Option<Format> {
        Some(match name {
            "email" => Format::Email,
            "uri" => Format::Uri,
            "ip" => Format::Ip,
            "ipv4" => Format::Ipv4,
            "ipv6" => Format::Ipv6,
            #[cfg(feature = "uuid")]
            "uuid" => Format::Uuid,
            #[cfg(feature = "datetime")]
            other => return Temporal::of(other).map(Format::Temporal),
            #[cfg(not(feature = "datetime"))]
            _ => return None,
        })
    }

    /// Whether the format reads any JSON value, not only text, and rewrites what it
    /// read ([`read`](Self::read)): the types of pydantic's that parse their input.
    pub(crate) fn reads_values(self) -> bool {
        #[cfg(feature = "uuid")]
        if self == Format::Uuid {
            return true;
        }
        #[cfg(feature = "datetime")]
        if matches!(self, Format::Temporal(_)) {
            return true;
        }
        false
    }

    /// Read `value` as pydantic reads the type the format stands for: the value in the
    /// form serde reads, or pydantic's error. For a format that only checks text
    /// ([`reads_values`](Self::reads_values) is false): the text itself, checked.
    pub(crate) fn read(self, value: &Value) -> Result<Value, Box<ValidationError>> {
        #[cfg(feature = "uuid")]
        if self == Format::Uuid {
            return uuid(value).map(|u| Value::String(u.hyphenated().to_string()));
        }
        #[cfg(feature = "datetime")]
        if let Format::Temporal(t) = self {
            return t.read(value).map(Value::String);
        }
        match value {
            Value::String(text) => self.check(text, || value.clone()).map(|()| value.clone()),
            _ => Err(Box::new(super::messages::string_type(value.clone()))),
        }
    }

    /// Whether serde may take `text` as it is: it passes the check and, for a format
    /// that rewrites what it reads, serde's own reading of it is the same.
    pub(crate) fn passes(self, text: &str) -> bool {
        // The `uuid` crate's serde reads text with the parser pydantic-core uses.
        #[cfg(feature = "uuid")]
        if self == Format::Uuid {
            return ::uuid::Uuid::parse_str(text).is_ok();
        }
        #[cfg(feature = "datetime")]
        if let Format::Temporal(t) = self {
            return t.is_canonical(text);
        }
        self.check(text, || Value::Null).is_ok()
    }

    /// Check `text`; the error as pydantic words it.
    pub(crate) fn check(self, text: &str, input: impl FnOnce() -> Value) -> Check {
        let error = match self {
            #[cfg(feature = "uuid")]
            Format::Uuid => ::uuid::Uuid::parse_str(text)
                .err()
                .map(|e| uuid_parsing(&e, input())),
            #[cfg(feature = "datetime")]
            Format::Temporal(t) => t.read(&Value::String(text.to_owned())).err().map(|e| {
                let mut e = *e;
                e.input = input();
                e
            }),
            Format::Ipv4 => text.parse::<std::net::Ipv4Addr>().err().map(|_| {
                ValidationError::new(
                    "ip_v4_address",
                    "Input is not a valid IPv4 address",
                    input(),
                )
            }),
            Format::Ipv6 => text.parse::<std::net::Ipv6Addr>().err().map(|_| {
                ValidationError::new(
                    "ip_v6_address",
                    "Input is not a valid IPv6 address",
                    input(),
                )
            }),
            Format::Ip => text.parse::<std::net::IpAddr>().err().map(|_| {
                ValidationError::new(
                    "ip_any_address",
                    "value is not a valid IPv4 or IPv6 address",
                    input(),
                )
            }),
            Format::Uri => url_error(text).map(|reason| {
                ValidationError::new(
                    "url_parsing",
                    format!("Input should be a valid URL, {reason}"),
                    input(),
                )
                .with_ctx(ErrorContext::one("error", reason))
            }),
            Format::Email => email_error(text).map(|reason| {
                ValidationError::new(
                    "value_error",
                    format!("value is not a valid email address: {reason}"),
                    input(),
                )
                .with_ctx(ErrorContext::one("reason", reason))
            }),
        };
        match error {
            Some(e) => Err(Box::new(e)),
            None => Ok(()),
        }
    }
}

/// `uuid_parsing`: the `uuid` crate's reason, as pydantic-core reports it.
#[cfg(feature = "uuid")]
fn uuid_parsing(e: &::uuid::Error, input: Value) -> ValidationError {
    let reason = e.to_string();
    ValidationError::new(
        "uuid_parsing",
        format!("Input should be a valid UUID, {reason}"),
        input,
    )
    .with_ctx(ErrorContext::one("error", reason))
}

/// A UUID as pydantic reads one from JSON: text in any form the `uuid` crate parses
/// (hyphenated, simple, braced, `urn:uuid:`); any other value is `uuid_type`.
#[cfg(feature = "uuid")]
fn uuid(value: &Value) -> Result<::uuid::Uuid, Box<ValidationError>> {
    match value {
        Value::String(text) => {
            ::uuid::Uuid::parse_str(text).map_err(|e| Box::new(uuid_parsing(&e, value.clone())))
        }
        _ => Err(Box::new(ValidationError::new(
            "uuid_type",
            "UUID input should be a string, bytes or UUID object",
            value.clone(),
        ))),
    }
}

/// Why `text` is not an absolute URL.
fn url_error(text: &str) -> Option<String> {
    if text.is_empty() {
        return Some("input is empty".to_owned());
    }
    url::Url::parse(text).err().map(|e| e.to_string())
}

/// How `email-validator` shows a character in a message.
fn display(c: char) -> String {
    match c {
        ' ' => "SPACE".to_owned(),
        '\\' => "\"\\\"".to_owned(),
        '\'' => "\"'\"".to_owned(),
        c if c.is_control() => format!("U+{:04X}", c as u32),
        c => format!("'{c}'"),
    }
}

/// `": 'a', 'b'."` — the sorted, de-duplicated characters.
fn listed(chars: impl Iterator<Item = char>) -> String {
    let mut shown: Vec<String> = chars.map(display).collect();
    shown.sort();
    shown.dedup();
    shown.join(", ")
}

/// Characters allowed unquoted before the `@`, besides dots and non-ASCII letters.
fn atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_!#$%&'*+-/=?^`{|}~".contains(c) || !c.is_ascii()
}

fn length_reason(n: usize, limit: usize) -> String {
    let diff = n - limit;
    format!(
        "({diff} character{} too many)",
        if diff > 1 { "s" } else { "" }
    )
}

/// The dot (and, for host names, hyphen) rules of a part of the address.
fn dot_rules(part: &str, start: &str, end: &str, hostname: bool) -> Option<String> {
    if part.ends_with('.') {
        return Some(end.replace("{}", "period"));
    }
    if part.starts_with('.') {
        return Some(start.replace("{}", "period"));
    }
    if part.contains("..") {
        return Some("An email address cannot have two periods in a row.".to_owned());
    }
    if hostname {
        if part.ends_with('-') {
            return Some(end.replace("{}", "hyphen"));
        }
        if part.starts_with('-') {
            return Some(start.replace("{}", "hyphen"));
        }
        if part.contains(".-") || part.contains("-.") {
            return Some(
                "An email address cannot have a period and a hyphen next to each other.".to_owned(),
            );
        }
    }
    None
}

/// Why `text` is not an e-mail address, in `email-validator`'s words.
fn email_error(text: &str) -> Option<String> {
    let Some((local, domain)) = text.split_once('@') else {
        return Some("An email address must have an @-sign.".to_owned());
    };
    if local.is_empty() {
        return Some("There must be something before the @-sign.".to_owned());
    }
    let bad: Vec<char> = local.chars().filter(|c| *c != '.' && !atext(*c)).collect();
    if !bad.is_empty() {
        return Some(format!(
            "The email address contains invalid characters before the @-sign: {}.",
            listed(bad.into_iter())
        ));
    }
    if let Some(reason) = dot_rules(
        local,
        "An email address cannot start with a {}.",
        "An email address cannot have a {} immediately before the @-sign.",
        false,
    ) {
        return Some(reason);
    }
    if domain.is_empty() {
        return Some("There must be something after the @-sign.".to_owned());
    }
    let n = domain.chars().count();
    if n > 255 {
        return Some(format!(
            "The email address is too long after the @-sign {}.",
            length_reason(n, 255)
        ));
    }
    let bad: Vec<char> = domain
        .chars()
        .filter(|c| c.is_ascii() && !(c.is_ascii_alphanumeric() || *c == '-' || *c == '.'))
        .collect();
    if !bad.is_empty() {
        return Some(format!(
            "The part after the @-sign contains invalid characters: {}.",
            listed(bad.into_iter())
        ));
    }
    let domain = domain.to_lowercase();
    if let Some(reason) = dot_rules(
        &domain,
        "An email address cannot have a {} immediately after the @-sign.",
        "An email address cannot end with a {}.",
        true,
    ) {
        return Some(reason);
    }
    for label in domain.split('.') {
        let n = label.chars().count();
        if n > 63 {
            return Some(format!(
                "After the @-sign, periods cannot be separated by so many characters {}.",
                length_reason(n, 63)
            ));
        }
    }
    if !domain.contains('.') {
        return Some("The part after the @-sign is not valid. It should have a period.".to_owned());
    }
    if !domain.ends_with(|c: char| c.is_ascii_alphabetic() || !c.is_ascii()) {
        return Some(
            "The part after the @-sign is not valid. It is not within a valid top-level domain."
                .to_owned(),
        );
    }
    const SPECIAL_USE: [&str; 6] = ["arpa", "invalid", "local", "localhost", "onion", "test"];
    if SPECIAL_USE
        .iter()
        .any(|d| domain == *d || domain.ends_with(&format!(".{d}")))
    {
        return Some(
            "The part after the @-sign is a special-use or reserved name that cannot be used with email."
                .to_owned(),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `email-validator`'s reasons, as pydantic 2.14's `EmailStr` reports them.
    #[test]
    fn email_reasons_are_email_validators() {
        for (text, reason) in [
            ("foo", Some("An email address must have an @-sign.")),
            ("@x.com", Some("There must be something before the @-sign.")),
            ("a@", Some("There must be something after the @-sign.")),
            ("a@b", Some("The part after the @-sign is not valid. It should have a period.")),
            ("a@@b.com", Some("The part after the @-sign contains invalid characters: '@'.")),
            (
                "a b@c.com",
                Some("The email address contains invalid characters before the @-sign: SPACE."),
            ),
            (".a@b.com", Some("An email address cannot start with a period.")),
            ("a.@b.com", Some("An email address cannot have a period immediately before the @-sign.")),
            ("a..b@c.com", Some("An email address cannot have two periods in a row.")),
            ("a@b.com.", Some("An email address cannot end with a period.")),
            ("a@-b.com", Some("An email address cannot have a hyphen immediately after the @-sign.")),
            ("a@b.c1", Some("The part after the @-sign is not valid. It is not within a valid top-level domain.")),
            ("a@x.test", Some("The part after the @-sign is a special-use or reserved name that cannot be used with email.")),
            ("a@b.c", None),
            ("Ann.Lee+tag@Example.COM", None),
        ] {
            assert_eq!(email_error(text).as_deref(), reason, "{text}");
        }
    }

    #[test]
    fn urls_and_addresses() {
        assert_eq!(url_error("").as_deref(), Some("input is empty"));
        assert_eq!(
            url_error("foo").as_deref(),
            Some("relative URL without a base")
        );
        assert_eq!(url_error("http://").as_deref(), Some("empty host"));
        assert_eq!(
            url_error("http://x:99999").as_deref(),
            Some("invalid port number")
        );
        assert_eq!(url_error("http://example.com"), None);
        assert!(Format::Ipv4.check("1.2.3", || Value::Null).is_err());
        assert!(Format::Ipv4.check("01.2.3.4", || Value::Null).is_err());
        assert!(Format::Ipv6.check("1.2.3.4", || Value::Null).is_err());
        assert!(Format::Ip.check("::1", || Value::Null).is_ok());
    }

    /// The `uuid` crate's reasons, as pydantic 2.14's `UUID` reports them.
    #[cfg(feature = "uuid")]
    #[test]
    fn uuids_read_as_pydantic_reads_them() {
        let hyphenated = json!("12345678-1234-1234-1234-1234567890ab");
        for text in [
            "12345678-1234-1234-1234-1234567890ab",
            "{12345678-1234-1234-1234-1234567890ab}",
            "urn:uuid:12345678-1234-1234-1234-1234567890AB",
            "123456781234123412341234567890ab",
        ] {
            assert_eq!(
                Format::Uuid.read(&json!(text)).unwrap(),
                hyphenated,
                "{text}"
            );
            assert!(Format::Uuid.passes(text));
        }
        for (text, reason) in [
            ("x", "invalid character: found `x` at 0"),
            ("", "invalid length: found 0"),
            (
                "12345678-1234-1234-1234-1234567890a",
                "invalid group length in group 4: expected 12, found 11",
            ),
            (
                "12345678-1234-1234-12341234567890ab",
                "invalid group count: expected 5, found 4",
            ),
            (
                "12345678-1234-1234-1234-1234567890ag",
                "invalid character: found `g` at 35",
            ),
        ] {
            let e = Format::Uuid.read(&json!(text)).unwrap_err();
            assert_eq!(e.kind, "uuid_parsing");
            assert_eq!(e.msg, format!("Input should be a valid UUID, {reason}"));
            assert_eq!(
                e.ctx.map(|c| c.to_value()),
                Some(json!({ "error": reason }))
            );
        }
        for value in [json!(1), json!(null), json!(true), json!([])] {
            let e = Format::Uuid.read(&value).unwrap_err();
            assert_eq!(e.kind, "uuid_type");
            assert_eq!(e.msg, "UUID input should be a string, bytes or UUID object");
        }
    }
}
