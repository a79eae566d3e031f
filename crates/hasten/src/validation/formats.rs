//! The string formats a field can declare (`#[schemars(email)]`, `url`, `ip`, `ipv4`,
//! `ipv6`), checked as pydantic checks `EmailStr`, `AnyUrl`, `IPvAnyAddress`,
//! `IPv4Address` and `IPv6Address`, with its error types and messages.
//!
//! URLs are parsed by the `url` crate, as pydantic-core parses them, so the reasons
//! in `ctx.error` are the same. E-mail addresses follow the syntax rules of the
//! `email-validator` package pydantic uses (ASCII and internationalized addresses,
//! no quoted local parts, no deliverability lookup) and give its reasons. The value
//! itself is kept as sent: pydantic also normalises it (lower-case domain, a `/` after
//! a bare host), hasten does not.

use serde_json::{json, Value};

use super::constraints::Check;
use super::ValidationError;

/// A string format hasten enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Email,
    Uri,
    Ip,
    Ipv4,
    Ipv6,
}

impl Format {
    /// The format named in a schema; `None` for those this module does not check
    /// (formats of types that check themselves when deserialised: `uuid`, `date-time`).
    pub(crate) fn of(name: &str) -> Option<Format> {
        Some(match name {
            "email" => Format::Email,
            "uri" => Format::Uri,
            "ip" => Format::Ip,
            "ipv4" => Format::Ipv4,
            "ipv6" => Format::Ipv6,
            _ => return None,
        })
    }

    /// Check `text`; the error as pydantic words it.
    pub(crate) fn check(self, text: &str, input: impl FnOnce() -> Value) -> Check {
        let error = match self {
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
                .with_ctx(json!({ "error": reason }))
            }),
            Format::Email => email_error(text).map(|reason| {
                ValidationError::new(
                    "value_error",
                    format!("value is not a valid email address: {reason}"),
                    input(),
                )
                .with_ctx(json!({ "reason": reason }))
            }),
        };
        match error {
            Some(e) => Err(Box::new(e)),
            None => Ok(()),
        }
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
}
