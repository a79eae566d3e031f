//! The route table: matchit per path, then a method table per path.
//!
//! Templates use FastAPI's syntax: `/items/{item_id}` and a trailing catch-all
//! `/files/{file_path:path}`. Two operations on the same method and path shape, or
//! shapes matchit cannot tell apart, are an error when the app is built.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use http::{HeaderValue, Method};

use crate::operation::Operation;

/// The methods a route can be declared for, in the order `Allow` lists them.
const METHODS: [Method; 7] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
    Method::OPTIONS,
];

/// An operation as routed: the operation and its path parameter names, in template order.
#[derive(Debug)]
pub(crate) struct RouteOp {
    pub(crate) op: Operation,
    /// What its requests are handed.
    pub(crate) route: Arc<crate::extract::Route>,
}

#[derive(Debug)]
struct PathEntry {
    template: String,
    methods: Vec<(Method, Arc<RouteOp>)>,
    allow: HeaderValue,
}

/// The result of a lookup.
pub(crate) enum Match<'a> {
    /// An operation, and its path parameters as byte ranges of the path, in the order
    /// of `Route::path_names`.
    Found(&'a Arc<RouteOp>, crate::extract::PathSpans),
    /// The path exists for other methods.
    MethodNotAllowed(&'a HeaderValue),
    /// No such path.
    NotFound,
}

/// All routes of an app.
#[derive(Default)]
pub(crate) struct Routes {
    matcher: matchit::Router<usize>,
    /// Paths without parameters, looked up before the matcher: an exact static path is
    /// what matchit would pick too (static segments win over parameters), found for a
    /// fraction of the cost.
    statics: HashMap<Box<str>, usize, BuildHasherDefault<Fnv>>,
    entries: Vec<PathEntry>,
}

/// FNV-1a: a few instructions a byte for the short keys of the static-path table,
/// where SipHash's resistance to chosen keys buys nothing (the keys are the app's own
/// routes; a request's path is only looked up).
struct Fnv(u64);

impl Default for Fnv {
    /// FNV-1a's offset basis.
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

impl std::fmt::Debug for Routes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.entries.iter().map(|e| &e.template))
            .finish()
    }
}

/// Translate a FastAPI template into matchit's syntax with positional names, so that
/// `/items/{id}` and `/items/{item_id}` share one entry. Returns the shape and the names.
pub(crate) fn parse_template(template: &str) -> Result<(String, Vec<&str>), String> {
    if !template.starts_with('/') {
        return Err(format!("path `{template}` must start with `/`"));
    }
    let mut shape = String::with_capacity(template.len());
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        shape.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            return Err(format!("path `{template}` has an unclosed `{{`"));
        };
        let inner = &rest[open + 1..open + close];
        let (name, catch_all) = match inner.split_once(':') {
            Some((n, "path")) => (n, true),
            Some((_, conv)) => {
                return Err(format!(
                    "path `{template}`: converter `{conv}` is not supported (only `:path`)"
                ))
            }
            None => (inner, false),
        };
        if name.is_empty() {
            return Err(format!("path `{template}` has an empty `{{}}`"));
        }
        let after = &rest[open + close + 1..];
        if catch_all {
            if !after.is_empty() {
                return Err(format!(
                    "path `{template}`: `{{{name}:path}}` must be the last segment"
                ));
            }
            shape.push_str(&format!("{{*p{}}}", names.len()));
        } else {
            shape.push_str(&format!("{{p{}}}", names.len()));
        }
        names.push(name);
        rest = after;
    }
    if rest.contains('}') {
        return Err(format!("path `{template}` has an unmatched `}}`"));
    }
    shape.push_str(rest);
    Ok((shape, names))
}

impl Routes {
    /// Add an operation under each of its methods.
    pub(crate) fn add(&mut self, op: Operation) -> Result<(), String> {
        let meta = op.meta;
        let path = op.path().to_owned();
        let (shape, names) = parse_template(&path)?;
        let path_names: Arc<[Box<str>]> = names.into_iter().map(Box::from).collect();
        let route = Arc::new(crate::extract::Route {
            meta: op.meta,
            path_names,
            attached: op.attached.iter().copied().collect(),
            status: op.status,
            errors: op.error_handlers.clone(),
        });
        let route = Arc::new(RouteOp { op, route });
        let idx = match self.matcher.at(&shape) {
            Ok(m) if self.entries[*m.value].shape_eq(&shape) => *m.value,
            _ => {
                let idx = self.entries.len();
                self.matcher
                    .insert(shape.clone(), idx)
                    .map_err(|e| format!("route `{path}` conflicts with an existing route: {e}"))?;
                self.entries.push(PathEntry {
                    template: path.clone(),
                    methods: Vec::new(),
                    allow: HeaderValue::from_static(""),
                });
                if route.route.path_names.is_empty() {
                    self.statics.insert(shape.clone().into_boxed_str(), idx);
                }
                idx
            }
        };
        let entry = &mut self.entries[idx];
        for m in meta.methods {
            let method = Method::from_bytes(m.as_bytes())
                .ok()
                .filter(|m| METHODS.contains(m))
                .ok_or_else(|| format!("route `{path}`: unsupported method `{m}`"))?;
            if let Some((_, other)) = entry.methods.iter().find(|(x, _)| *x == method) {
                return Err(format!(
                    "{method} `{path}` is declared twice: by `{}` and by `{}`",
                    other.op.meta.fn_name, meta.fn_name
                ));
            }
            entry.methods.push((method, route.clone()));
        }
        entry.allow = allow_header(&entry.methods);
        Ok(())
    }

    /// Find the operation for a method and path.
    pub(crate) fn find(&self, method: &Method, path: &str) -> Match<'_> {
        if let Some(&idx) = self.statics.get(path) {
            return self.entries[idx].method(method, Default::default());
        }
        let Ok(m) = self.matcher.at(path) else {
            return Match::NotFound;
        };
        let base = path.as_ptr() as usize;
        let mut params = crate::extract::PathSpans::default();
        for (_, v) in m.params.iter() {
            let start = v.as_ptr() as usize - base;
            params.push(start, start + v.len());
        }
        self.entries[*m.value].method(method, params)
    }

    /// Whether any route matches this path (for the trailing-slash redirect).
    pub(crate) fn has_path(&self, path: &str) -> bool {
        self.matcher.at(path).is_ok()
    }

    /// Every routed operation, in the order added (one per operation, not per method).
    pub(crate) fn operations(&self) -> Vec<&Operation> {
        let mut seen: Vec<*const RouteOp> = Vec::new();
        let mut out = Vec::new();
        for e in &self.entries {
            for (_, r) in &e.methods {
                let p = Arc::as_ptr(r);
                if !seen.contains(&p) {
                    seen.push(p);
                    out.push(&r.op);
                }
            }
        }
        out
    }
}

impl PathEntry {
    /// The operation for `method` on this path (HEAD falls back on GET).
    fn method(&self, method: &Method, params: crate::extract::PathSpans) -> Match<'_> {
        let found = self.methods.iter().find(|(x, _)| x == method).or_else(|| {
            (*method == Method::HEAD)
                .then(|| self.methods.iter().find(|(x, _)| *x == Method::GET))
                .flatten()
        });
        match found {
            Some((_, route)) => Match::Found(route, params),
            None => Match::MethodNotAllowed(&self.allow),
        }
    }

    fn shape_eq(&self, shape: &str) -> bool {
        parse_template(&self.template).is_ok_and(|(s, _)| s == shape)
    }
}

fn allow_header(methods: &[(Method, Arc<RouteOp>)]) -> HeaderValue {
    let has = |m: &Method| {
        methods.iter().any(|(x, _)| x == m)
            || (*m == Method::HEAD && methods.iter().any(|(x, _)| *x == Method::GET))
    };
    let list: Vec<&str> = METHODS
        .iter()
        .filter(|m| has(m))
        .map(Method::as_str)
        .collect();
    HeaderValue::from_str(&list.join(", ")).unwrap_or_else(|_| HeaderValue::from_static("GET"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_translate_to_positional_shapes() {
        assert_eq!(
            parse_template("/items/{item_id}").unwrap(),
            ("/items/{p0}".to_owned(), vec!["item_id"])
        );
        assert_eq!(
            parse_template("/files/{file_path:path}").unwrap(),
            ("/files/{*p0}".to_owned(), vec!["file_path"])
        );
        assert!(parse_template("/a/{x:path}/b").is_err());
        assert!(parse_template("/a/{x:int}").is_err());
        assert!(parse_template("a").is_err());
        assert!(parse_template("/a/{x").is_err());
    }
}
