//! The `json_invalid` error for a body that is not JSON, in Python's words and at
//! Python's character offsets, as FastAPI reports it.

use super::{messages, ValidationError};

/// The `json_invalid` error for a body that is not JSON, as FastAPI reports it:
/// `loc ["body", <character offset>]`, `msg "JSON decode error"`, `input {}`, and
/// Python's `json` message in `ctx.error`.
pub(crate) fn json_invalid(body: &[u8], err: &serde_json::Error) -> ValidationError {
    let text = String::from_utf8_lossy(body);
    let total_chars = text.chars().count();
    let message = err.to_string();
    let eof = err.classify() == serde_json::error::Category::Eof;
    let python = if message.starts_with("EOF while parsing a string") {
        "Unterminated string starting at"
    } else if eof {
        // At the end of the input Python says what it expected next.
        expected_at_end(&text)
    } else {
        python_message(&message)
    };
    // serde_json counts columns in bytes, 1-based, pointing just past the offending
    // byte; Python's position is the character index of the offending character. At
    // end of input Python points at the end.
    let offset = if python == "Unterminated string starting at" {
        unterminated_string_start(&text).unwrap_or(total_chars)
    } else if err.classify() == serde_json::error::Category::Eof {
        total_chars
    } else {
        let mut byte = 0usize;
        for (i, line) in text.split('\n').enumerate() {
            if i + 1 == err.line() {
                byte += err.column().saturating_sub(1);
                break;
            }
            byte += line.len() + 1;
        }
        let byte = byte.min(text.len());
        let mut boundary = byte;
        while !text.is_char_boundary(boundary) {
            boundary -= 1;
        }
        text[..boundary].chars().count()
    };
    // serde says "trailing comma" for both; Python's message depends on the container.
    let python = if message.starts_with("trailing comma") && text.chars().nth(offset) == Some('}') {
        "Expecting property name enclosed in double quotes"
    } else {
        python
    };
    messages::json_invalid(offset, python)
}

/// What Python's `json` expected when the input ended: a property name after `{` or a
/// `,` in an object, a `:` after a key, a `,` after a value inside a container, a value
/// anywhere else.
fn expected_at_end(text: &str) -> &'static str {
    #[derive(Clone, Copy, PartialEq)]
    enum Next {
        Value,
        Key,
        Colon,
        Comma,
    }
    let mut stack: Vec<bool> = Vec::new(); // true: an object
    let mut next = Next::Value;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' => {
                stack.push(true);
                next = Next::Key;
            }
            '[' => {
                stack.push(false);
                next = Next::Value;
            }
            '}' | ']' => {
                stack.pop();
                next = Next::Comma;
            }
            ':' => next = Next::Value,
            ',' => {
                next = if stack.last() == Some(&true) {
                    Next::Key
                } else {
                    Next::Value
                }
            }
            '"' => {
                let mut escaped = false;
                for c in chars.by_ref() {
                    match c {
                        _ if escaped => escaped = false,
                        '\\' => escaped = true,
                        '"' => break,
                        _ => {}
                    }
                }
                next = if next == Next::Key {
                    Next::Colon
                } else {
                    Next::Comma
                };
            }
            c if c.is_whitespace() => {}
            _ => {
                // A number or a literal: the rest of its token.
                while chars
                    .peek()
                    .is_some_and(|c| !matches!(c, ',' | ':' | '}' | ']') && !c.is_whitespace())
                {
                    chars.next();
                }
                next = Next::Comma;
            }
        }
    }
    match next {
        Next::Key => "Expecting property name enclosed in double quotes",
        Next::Colon => "Expecting ':' delimiter",
        Next::Comma if !stack.is_empty() => "Expecting ',' delimiter",
        _ => "Expecting value",
    }
}

/// The character index of the quote opening a string that never closes.
fn unterminated_string_start(text: &str) -> Option<usize> {
    let (mut start, mut escaped) = (None, false);
    for (i, c) in text.chars().enumerate() {
        match (start, c) {
            (Some(_), _) if escaped => escaped = false,
            (Some(_), '\\') => escaped = true,
            (Some(_), '"') => start = None,
            (None, '"') => start = Some(i),
            _ => {}
        }
    }
    start
}

/// Python's `json` module message for serde_json's error before the end of the input.
fn python_message(serde_message: &str) -> &'static str {
    let m = serde_message;
    if m.starts_with("key must be a string") {
        "Expecting property name enclosed in double quotes"
    } else if m.starts_with("expected `:`") {
        "Expecting ':' delimiter"
    } else if m.starts_with("expected `,` or") {
        "Expecting ',' delimiter"
    } else if m.starts_with("trailing characters") {
        "Extra data"
    } else if m.starts_with("control character") {
        "Invalid control character at"
    } else if m.starts_with("invalid escape") {
        "Invalid \\escape"
    } else if m.starts_with("invalid unicode code point") || m.contains("surrogate") {
        "Invalid \\uXXXX escape"
    } else {
        "Expecting value"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn invalid(body: &str) -> (Value, Value) {
        let err = serde_json::from_str::<Value>(body).unwrap_err();
        let e = json_invalid(body.as_bytes(), &err);
        (
            serde_json::to_value(&e.loc).unwrap(),
            e.ctx.unwrap().get("error").cloned().unwrap_or_default(),
        )
    }

    #[test]
    fn json_decode_errors_match_python() {
        // (body, character offset, message) as Python's json.loads reports them.
        let cases = [
            (
                "{some broken json}",
                1,
                "Expecting property name enclosed in double quotes",
            ),
            ("{\"a\": x}", 6, "Expecting value"),
            ("{\"a\" 1}", 5, "Expecting ':' delimiter"),
            ("{\"a\": 1 \"b\": 2}", 8, "Expecting ',' delimiter"),
            ("{} x", 3, "Extra data"),
            ("{\"a\": 1", 7, "Expecting ',' delimiter"),
            ("", 0, "Expecting value"),
            ("{\"é\": x}", 6, "Expecting value"),
            ("\"abc", 0, "Unterminated string starting at"),
            ("[1,]", 3, "Expecting value"),
            // At the end of the input: what was expected next.
            (
                "{\"name\": \"Saw\",",
                15,
                "Expecting property name enclosed in double quotes",
            ),
            ("{", 1, "Expecting property name enclosed in double quotes"),
            ("{\"a\"", 4, "Expecting ':' delimiter"),
            ("{\"a\": ", 6, "Expecting value"),
            ("[1", 2, "Expecting ',' delimiter"),
            ("[", 1, "Expecting value"),
            ("[1, ", 4, "Expecting value"),
            (
                "{\"a\":1,}",
                7,
                "Expecting property name enclosed in double quotes",
            ),
        ];
        for (body, offset, message) in cases {
            assert_eq!(
                invalid(body),
                (json!(["body", offset]), json!(message)),
                "{body:?}"
            );
        }
    }
}
