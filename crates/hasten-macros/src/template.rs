//! The path template: the names of its parameters, checked.

/// The names in a FastAPI path template, checking its syntax.
pub(crate) fn template_names(template: &str) -> Result<Vec<String>, String> {
    if !template.starts_with('/') {
        return Err(format!(
            "the path must start with `/`: \"/{}\"",
            template.trim_start_matches('/')
        ));
    }
    let mut names: Vec<String> = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        if rest.as_bytes()[open] == b'}' {
            return Err("unmatched `}` in the path".to_owned());
        }
        let Some(close) = rest[open..].find('}') else {
            return Err("unclosed `{` in the path".to_owned());
        };
        let inner = &rest[open + 1..open + close];
        if inner.contains('{') {
            return Err("nested `{` in the path".to_owned());
        }
        let after = &rest[open + close + 1..];
        let name = match inner.split_once(':') {
            Some((n, "path")) => {
                if !after.is_empty() {
                    return Err(format!("`{{{n}:path}}` must be the last part of the path"));
                }
                n
            }
            Some((_, conv)) => {
                return Err(format!(
                    "the `:{conv}` converter is not supported; declare a typed parameter instead (only `:path` is)"
                ))
            }
            None => inner,
        };
        if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
            return Err(format!("`{{{name}}}` is not a valid parameter name"));
        }
        if names.iter().any(|n| n == name) {
            return Err(format!("`{{{name}}}` appears twice in the path"));
        }
        names.push(name.to_owned());
        rest = after;
    }
    Ok(names)
}
