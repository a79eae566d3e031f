//! pydantic's lax parsing of numbers and booleans from text — the one place it lives.
//! Parameters (always text) and body fields given as strings both parse here, so a
//! change to how `"1_000"` or `"3.0"` reads is one edit.

/// Underscores only between digits, as Python's `int()` allows: `1_000`, not `_1`,
/// `1_` or `1__0`.
fn underscores_ok(digits: &str) -> bool {
    !digits.starts_with('_') && !digits.ends_with('_') && !digits.contains("__")
}

/// An integer in text, as pydantic reads it: surrounding whitespace, a sign, `_`
/// between digits, and a fraction of zeros (`"3.0"`, `"1_000.00"`). Not `"1."`,
/// `"1.5"`, `"1e3"` or `"0x10"`.
pub(crate) fn int(text: &str) -> Option<i128> {
    // The usual case, a few plain digits, read directly (18 digits fit in a `u64`).
    let b = text.as_bytes();
    if !b.is_empty() && b.len() <= 18 && b.iter().all(u8::is_ascii_digit) {
        let n = b.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
        return Some(i128::from(n));
    }
    let t = text.trim();
    // The usual case, plain digits, parses without an allocation.
    if let Ok(i) = t.parse::<i128>() {
        return Some(i);
    }
    let whole = match t.split_once('.') {
        Some((w, f)) if !f.is_empty() && f.bytes().all(|b| b == b'0') => w,
        Some(_) => return None,
        None => t,
    };
    let unsigned = whole.strip_prefix(['+', '-']).unwrap_or(whole);
    if unsigned.is_empty()
        || !underscores_ok(unsigned)
        || !unsigned.bytes().all(|b| b.is_ascii_digit() || b == b'_')
    {
        return None;
    }
    whole.replace('_', "").parse::<i128>().ok()
}

/// A number in text: surrounding whitespace, `_` between digits, exponents,
/// `inf`/`infinity`/`nan` in any case.
pub(crate) fn float(text: &str) -> Option<f64> {
    let t = text.trim();
    if let Ok(f) = t.parse::<f64>() {
        if t.bytes().any(|b| b.is_ascii_digit()) {
            return Some(f);
        }
    }
    match t.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => return Some(f64::INFINITY),
        "-inf" | "-infinity" => return Some(f64::NEG_INFINITY),
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    if t.is_empty() || !underscores_ok(t) || !t.contains('_') {
        return None;
    }
    t.replace('_', "").parse::<f64>().ok()
}

/// A boolean in text: `1 true on yes t y` and `0 false off no f n`, in any case, not
/// trimmed (`" yes "` is refused, as by pydantic).
pub(crate) fn boolean(text: &str) -> Option<bool> {
    const TRUE: [&str; 6] = ["1", "true", "on", "yes", "t", "y"];
    const FALSE: [&str; 6] = ["0", "false", "off", "no", "f", "n"];
    if TRUE.iter().any(|w| w.eq_ignore_ascii_case(text)) {
        Some(true)
    } else if FALSE.iter().any(|w| w.eq_ignore_ascii_case(text)) {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// pydantic 2.14's verdicts (`TypeAdapter(int|float|bool).validate_python(text)`).
    #[test]
    fn text_parses_as_pydantic_parses_it() {
        let ints: &[(&str, Option<i128>)] = &[
            ("1_000", Some(1000)),
            ("1__0", None),
            ("_1", None),
            ("1_", None),
            ("3.0", Some(3)),
            ("3.00", Some(3)),
            ("-1.0", Some(-1)),
            ("+3", Some(3)),
            (" 7 ", Some(7)),
            ("3.5", None),
            ("1e3", None),
            ("0x10", None),
            ("00012", Some(12)),
            ("-0", Some(0)),
            ("1.", None),
            ("", None),
            (" ", None),
            ("1_000.0", Some(1000)),
            ("inf", None),
            (" -2_0 ", Some(-20)),
            ("+_1", None),
            ("٣", None),
        ];
        for (text, want) in ints {
            assert_eq!(int(text), *want, "int {text:?}");
        }
        let floats: &[(&str, Option<f64>)] = &[
            ("1_000", Some(1000.0)),
            ("1__0", None),
            ("_1", None),
            ("1_", None),
            ("3.5", Some(3.5)),
            ("1e3", Some(1000.0)),
            (" 7 ", Some(7.0)),
            ("1.", Some(1.0)),
            ("0x10", None),
            ("", None),
            ("1_000.0", Some(1000.0)),
            ("inf", Some(f64::INFINITY)),
            ("-Infinity", Some(f64::NEG_INFINITY)),
            ("1.5e1", Some(15.0)),
        ];
        for (text, want) in floats {
            assert_eq!(float(text), *want, "float {text:?}");
        }
        assert!(float("nan").is_some_and(f64::is_nan));
        for (text, want) in [
            ("yes", Some(true)),
            ("YES", Some(true)),
            ("on", Some(true)),
            ("t", Some(true)),
            ("0", Some(false)),
            ("2", None),
            ("1.0", None),
            (" true", None),
            ("TRUE", Some(true)),
        ] {
            assert_eq!(boolean(text), want, "bool {text:?}");
        }
    }
}
