//! The route attribute: its path template and options.

use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Lit, LitStr, Meta, Token};

use crate::errors::Errors;

pub(crate) const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"];
pub(crate) const ROUTE_KEYS: &str = "status, tags, summary, operation_id, deprecated, include_in_schema, dependencies, response_model, response_model_exclude_unset, response_model_exclude_none, response_model_exclude_defaults, response_model_include, response_model_exclude, response_model_by_alias, response_description, responses, rate_limit, rate_limit_key (and methods for #[route])";

/// The route attribute: a path and `key = value` options.
pub(crate) struct RouteArgs {
    pub(crate) path: LitStr,
    pub(crate) options: Punctuated<Meta, Token![,]>,
}

impl Parse for RouteArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let path: LitStr = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected the path template first, e.g. #[get(\"/items/{item_id}\")]",
            )
        })?;
        let mut options = Punctuated::new();
        if !input.is_empty() {
            input.parse::<Token![,]>()?;
            options = Punctuated::parse_terminated(input)?;
        }
        Ok(RouteArgs { path, options })
    }
}

/// The `fixed_method` of `#[websocket]`: a GET that upgrades.
pub(crate) const WEBSOCKET: &str = "WEBSOCKET";

#[derive(Default)]
pub(crate) struct RouteOptions {
    /// A `#[websocket]` operation.
    pub(crate) websocket: bool,
    pub(crate) methods: Vec<String>,
    pub(crate) status: Option<u16>,
    pub(crate) tags: Vec<String>,
    pub(crate) summary: Option<String>,
    pub(crate) operation_id: Option<String>,
    pub(crate) deprecated: bool,
    pub(crate) include_in_schema: bool,
    /// `response_description = "…"`: the success response's description.
    pub(crate) response_description: Option<String>,
    pub(crate) dependencies: Vec<syn::Path>,
    /// `response_model = T`: the documented success body, whatever the return type;
    /// the body is sent through `T`.
    pub(crate) response_model: Option<syn::Path>,
    /// `response_model_exclude_unset`, `_exclude_none`, `_exclude_defaults`.
    pub(crate) model_exclude: [bool; 3],
    /// `response_model_include = [...]`.
    pub(crate) model_include: Option<Vec<String>>,
    /// `response_model_exclude = [...]`.
    pub(crate) model_exclude_fields: Vec<String>,
    /// `responses = [(404, "Item not found", Message), (409, "Conflict")]`.
    pub(crate) responses: Vec<(u16, String, Option<syn::Path>)>,
    /// `rate_limit = "100/minute"`.
    pub(crate) rate_limit: Option<String>,
    /// `rate_limit_key = "user"`, `"client"`, `"header:x-api-key"` or a function.
    pub(crate) rate_limit_key: Option<RateKey>,
}

/// What a route's rate limit counts by.
pub(crate) enum RateKey {
    Client,
    User,
    Header(String),
    Function(syn::Path),
}

/// Whether `spec` is a rate hasten reads (`rate_limit::RateLimit::new` parses it
/// the same way): a count, `/` or ` per `, and an optional multiple of a unit.
fn rate_spec_ok(spec: &str) -> bool {
    let Some((count, period)) = spec.split_once('/').or_else(|| spec.split_once(" per ")) else {
        return false;
    };
    let period = period.trim();
    let (times, unit) = period.split_once(' ').unwrap_or(("1", period));
    matches!(count.trim().parse::<u32>(), Ok(n) if n > 0)
        && matches!(times.trim().parse::<u32>(), Ok(n) if n > 0)
        && matches!(
            unit.trim().trim_end_matches('s'),
            "second" | "sec" | "minute" | "min" | "hour" | "day"
        )
}

/// One entry of `responses = [...]`: `(status, "description")` or
/// `(status, "description", Model)`.
pub(crate) fn extra_response(
    expr: &Expr,
    errors: &mut Errors,
) -> Option<(u16, String, Option<syn::Path>)> {
    const SHAPE: &str =
        "each response is (status, \"description\") or (status, \"description\", Model)";
    let Expr::Tuple(t) = expr else {
        errors.push(expr.span(), SHAPE);
        return None;
    };
    let items: Vec<&Expr> = t.elems.iter().collect();
    if !(2..=3).contains(&items.len()) {
        errors.push(expr.span(), SHAPE);
        return None;
    }
    let status = match items[0] {
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => match i.base10_parse::<u16>() {
            Ok(s) if (100..=599).contains(&s) => s,
            _ => {
                errors.push(i.span(), "a response status is between 100 and 599");
                return None;
            }
        },
        other => {
            errors.push(other.span(), SHAPE);
            return None;
        }
    };
    let description = lit_str(items[1], "the response description", errors)?;
    let model = match items.get(2) {
        None => None,
        Some(Expr::Path(p)) => Some(p.path.clone()),
        Some(other) => {
            errors.push(
                other.span(),
                "the third element names the body's model type",
            );
            return None;
        }
    };
    Some((status, description, model))
}

pub(crate) fn lit_str(expr: &Expr, what: &str, errors: &mut Errors) -> Option<String> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Some(s.value()),
        other => {
            errors.push(other.span(), format!("`{what}` takes a string literal"));
            None
        }
    }
}

pub(crate) fn lit_bool(expr: &Expr, what: &str, errors: &mut Errors) -> Option<bool> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Bool(b), ..
        }) => Some(b.value),
        other => {
            errors.push(other.span(), format!("`{what}` takes `true` or `false`"));
            None
        }
    }
}

pub(crate) fn str_list(expr: &Expr, what: &str, errors: &mut Errors) -> Vec<String> {
    match expr {
        Expr::Array(a) => a
            .elems
            .iter()
            .filter_map(|e| lit_str(e, what, errors))
            .collect(),
        other => {
            errors.push(
                other.span(),
                format!("`{what}` takes a list of strings, e.g. [\"a\", \"b\"]"),
            );
            Vec::new()
        }
    }
}

pub(crate) fn parse_route_options(
    args: &RouteArgs,
    fixed_method: Option<&str>,
    errors: &mut Errors,
) -> RouteOptions {
    let mut o = RouteOptions {
        include_in_schema: true,
        ..RouteOptions::default()
    };
    if let Some(m) = fixed_method {
        o.methods.push(m.to_owned());
    }
    let mut saw_methods = false;
    for meta in &args.options {
        let key = meta
            .path()
            .get_ident()
            .map(|i| i.to_string())
            .unwrap_or_default();
        match (key.as_str(), meta) {
            ("deprecated", Meta::Path(_)) => o.deprecated = true,
            ("deprecated", Meta::NameValue(nv)) => {
                o.deprecated = lit_bool(&nv.value, "deprecated", errors).unwrap_or(false)
            }
            ("include_in_schema", Meta::NameValue(nv)) => {
                o.include_in_schema =
                    lit_bool(&nv.value, "include_in_schema", errors).unwrap_or(true)
            }
            ("status", Meta::NameValue(nv)) => match &nv.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Int(i), ..
                }) => match i.base10_parse::<u16>() {
                    Ok(s) if (100..=599).contains(&s) => o.status = Some(s),
                    _ => errors.push(
                        i.span(),
                        "`status` must be an HTTP status between 100 and 599",
                    ),
                },
                other => errors.push(
                    other.span(),
                    "`status` takes an integer literal, e.g. status = 201",
                ),
            },
            ("tags", Meta::NameValue(nv)) => o.tags = str_list(&nv.value, "tags", errors),
            ("response_model", Meta::NameValue(nv)) => match &nv.value {
                Expr::Path(p) => o.response_model = Some(p.path.clone()),
                other => errors.push(
                    other.span(),
                    "`response_model` names a type, e.g. response_model = Item",
                ),
            },
            ("responses", Meta::NameValue(nv)) => match &nv.value {
                Expr::Array(a) => {
                    for e in &a.elems {
                        if let Some(r) = extra_response(e, errors) {
                            if o.responses.iter().any(|x| x.0 == r.0) {
                                errors.push(e.span(), format!("status {} is listed twice", r.0));
                            } else {
                                o.responses.push(r);
                            }
                        }
                    }
                }
                other => errors.push(
                    other.span(),
                    "`responses` takes a list, e.g. responses = [(404, \"Item not found\", Message)]",
                ),
            },
            ("summary", Meta::NameValue(nv)) => o.summary = lit_str(&nv.value, "summary", errors),
            (
                "response_model_exclude_unset"
                | "response_model_exclude_none"
                | "response_model_exclude_defaults",
                _,
            ) => {
                let on = match meta {
                    Meta::Path(_) => true,
                    Meta::NameValue(nv) => lit_bool(&nv.value, &key, errors).unwrap_or(false),
                    Meta::List(l) => {
                        errors.push(l.span(), format!("write `{key}` or `{key} = true`"));
                        false
                    }
                };
                let i = match key.as_str() {
                    "response_model_exclude_unset" => 0,
                    "response_model_exclude_none" => 1,
                    _ => 2,
                };
                o.model_exclude[i] = on;
            }
            ("response_model_by_alias", Meta::NameValue(nv)) => {
                // serde writes each field under its one serialised name: FastAPI's
                // default (`True`) is the only behaviour there is.
                if lit_bool(&nv.value, "response_model_by_alias", errors) == Some(false) {
                    errors.push(
                        nv.value.span(),
                        "response_model_by_alias = false is not supported: serde writes each \
                         field under its serialised name (`#[serde(rename)]`); for other names, \
                         use a response model without the renames",
                    );
                }
            }
            ("response_model_include", Meta::NameValue(nv)) => {
                o.model_include = Some(str_list(&nv.value, "response_model_include", errors))
            }
            ("response_model_exclude", Meta::NameValue(nv)) => {
                o.model_exclude_fields = str_list(&nv.value, "response_model_exclude", errors)
            }
            ("response_description", Meta::NameValue(nv)) => {
                o.response_description = lit_str(&nv.value, "response_description", errors)
            }
            ("operation_id", Meta::NameValue(nv)) => {
                o.operation_id = lit_str(&nv.value, "operation_id", errors)
            }
            ("dependencies", Meta::NameValue(nv)) => match &nv.value {
                Expr::Array(a) => {
                    for e in &a.elems {
                        match e {
                            Expr::Path(p) => o.dependencies.push(p.path.clone()),
                            other => errors.push(
                                other.span(),
                                "`dependencies` lists dependency names, e.g. dependencies = [verify_token]",
                            ),
                        }
                    }
                }
                other => errors.push(
                    other.span(),
                    "`dependencies` takes a list, e.g. dependencies = [verify_token]",
                ),
            },
            ("rate_limit", Meta::NameValue(nv)) => {
                if let Some(spec) = lit_str(&nv.value, "rate_limit", errors) {
                    if rate_spec_ok(&spec) {
                        o.rate_limit = Some(spec);
                    } else {
                        errors.push(
                            nv.value.span(),
                            format!(
                                "`{spec}` is not a rate limit: write a count and a period, e.g. \
                                 \"100/minute\", \"10/second\", \"5000/hour\" or \"100/5 minutes\""
                            ),
                        );
                    }
                }
            }
            ("rate_limit_key", Meta::NameValue(nv)) => match &nv.value {
                Expr::Path(p) => o.rate_limit_key = Some(RateKey::Function(p.path.clone())),
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) => {
                    let v = s.value();
                    o.rate_limit_key = match v.as_str() {
                        "client" => Some(RateKey::Client),
                        "user" => Some(RateKey::User),
                        h if h.starts_with("header:") && h.len() > 7 => {
                            Some(RateKey::Header(h[7..].trim().to_owned()))
                        }
                        _ => {
                            errors.push(
                                s.span(),
                                "`rate_limit_key` is \"client\", \"user\", \"header:<name>\" \
                                 or a function `fn(&http::request::Parts) -> Option<String>`",
                            );
                            None
                        }
                    }
                }
                other => errors.push(
                    other.span(),
                    "`rate_limit_key` is \"client\", \"user\", \"header:<name>\" or a function \
                     `fn(&http::request::Parts) -> Option<String>`",
                ),
            },
            ("methods", Meta::NameValue(nv)) if fixed_method.is_none() => {
                saw_methods = true;
                for (i, m) in str_list(&nv.value, "methods", errors)
                    .into_iter()
                    .enumerate()
                {
                    let upper = m.to_ascii_uppercase();
                    let span = match &nv.value {
                        Expr::Array(a) => a.elems.iter().nth(i).map_or(nv.span(), |e| e.span()),
                        _ => nv.span(),
                    };
                    if !METHODS.contains(&upper.as_str()) {
                        errors.push(
                            span,
                            format!(
                                "unknown method `{m}`; expected one of {}",
                                METHODS.join(", ")
                            ),
                        );
                    } else if o.methods.contains(&upper) {
                        errors.push(span, format!("method `{upper}` is listed twice"));
                    } else {
                        o.methods.push(upper);
                    }
                }
            }
            _ => errors.push(
                meta.span(),
                format!("unknown or malformed route option `{key}`; expected one of {ROUTE_KEYS}"),
            ),
        }
    }
    if fixed_method.is_none() && (!saw_methods || o.methods.is_empty()) && errors.is_empty() {
        errors.push(
            args.path.span(),
            "#[route] needs the methods: #[route(\"/path\", methods = [\"GET\", \"POST\"])]",
        );
    }
    if o.rate_limit_key.is_some() && o.rate_limit.is_none() {
        errors.push(
            args.path.span(),
            "`rate_limit_key` says what a rate limit counts by: add rate_limit = \"100/minute\"",
        );
    }
    let filters = o.model_exclude.iter().any(|b| *b)
        || o.model_include.is_some()
        || !o.model_exclude_fields.is_empty();
    if filters && o.response_model.is_none() {
        errors.push(
            args.path.span(),
            "the response_model_* options filter the body through a model: add response_model = T",
        );
    }
    o
}
