//! The path-operation macros: `#[get]` … `#[route]`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{
    Attribute, Expr, ExprLit, ExprUnary, FnArg, ItemFn, Lit, LitStr, Meta, Pat, ReturnType, Token,
    Type, UnOp,
};

use crate::errors::Errors;

const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"];
const ROUTE_KEYS: &str = "status, tags, summary, operation_id, deprecated, include_in_schema, dependencies, response_model, response_model_exclude_unset, response_model_exclude_none, response_model_exclude_defaults, response_model_include, response_model_exclude, response_model_by_alias, response_description, responses (and methods for #[route])";
const PARAM_ATTRS: [&str; 6] = ["path", "query", "header", "cookie", "form", "body"];
const PARAM_KEYS: &str = "gt, ge, lt, le, min_length, max_length, pattern, alias, default, \
                          deprecated, title, description, example, convert_underscores, embed, validate, \
                          include_in_schema, required";
const PASSTHROUGH: [&str; 6] = ["cfg", "allow", "warn", "deny", "expect", "doc"];

/// The route attribute: a path and `key = value` options.
pub(crate) struct RouteArgs {
    path: LitStr,
    options: Punctuated<Meta, Token![,]>,
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
struct RouteOptions {
    /// A `#[websocket]` operation.
    websocket: bool,
    methods: Vec<String>,
    status: Option<u16>,
    tags: Vec<String>,
    summary: Option<String>,
    operation_id: Option<String>,
    deprecated: bool,
    include_in_schema: bool,
    /// `response_description = "…"`: the success response's description.
    response_description: Option<String>,
    dependencies: Vec<syn::Path>,
    /// `response_model = T`: the documented success body, whatever the return type;
    /// the body is sent through `T`.
    response_model: Option<syn::Path>,
    /// `response_model_exclude_unset`, `_exclude_none`, `_exclude_defaults`.
    model_exclude: [bool; 3],
    /// `response_model_include = [...]`.
    model_include: Option<Vec<String>>,
    /// `response_model_exclude = [...]`.
    model_exclude_fields: Vec<String>,
    /// `responses = [(404, "Item not found", Message), (409, "Conflict")]`.
    responses: Vec<(u16, String, Option<syn::Path>)>,
}

/// One entry of `responses = [...]`: `(status, "description")` or
/// `(status, "description", Model)`.
fn extra_response(expr: &Expr, errors: &mut Errors) -> Option<(u16, String, Option<syn::Path>)> {
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

fn lit_str(expr: &Expr, what: &str, errors: &mut Errors) -> Option<String> {
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

fn lit_bool(expr: &Expr, what: &str, errors: &mut Errors) -> Option<bool> {
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

fn str_list(expr: &Expr, what: &str, errors: &mut Errors) -> Vec<String> {
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

fn parse_route_options(
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

/// One parameter attribute's settings.
#[derive(Default, Clone)]
struct ParamAttr {
    source: Option<&'static str>,
    source_span: Option<Span>,
    gt: Option<TokenStream>,
    ge: Option<TokenStream>,
    lt: Option<TokenStream>,
    le: Option<TokenStream>,
    min_length: Option<u64>,
    max_length: Option<u64>,
    pattern: Option<String>,
    alias: Option<String>,
    default: Option<Expr>,
    deprecated: bool,
    title: Option<String>,
    description: Option<String>,
    example: Option<String>,
    convert_underscores: Option<bool>,
    /// `#[security(scopes = [...])]` on a `Depends` parameter.
    scopes: Vec<String>,
    /// `#[body(embed)]`: the body is an object with this parameter under its name.
    embed: bool,
    /// `validate = f`: a function the extracted value passes through.
    validate: Option<Expr>,
    /// `include_in_schema = false`: read and validated, but not documented.
    hidden: bool,
    /// `required` on an `Option`: must be sent, documented nullable.
    required: bool,
}

fn number(expr: &Expr, key: &str, errors: &mut Errors) -> Option<TokenStream> {
    let (neg, lit) = match expr {
        Expr::Lit(ExprLit { lit, .. }) => (false, lit),
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr,
            ..
        }) => match &**expr {
            Expr::Lit(ExprLit { lit, .. }) => (true, lit),
            other => {
                errors.push(other.span(), format!("`{key}` takes a number literal"));
                return None;
            }
        },
        other => {
            errors.push(other.span(), format!("`{key}` takes a number literal"));
            return None;
        }
    };
    let sign = if neg { quote!(-) } else { quote!() };
    match lit {
        Lit::Int(i) => {
            let v: i128 = i.base10_parse().ok()?;
            Some(quote!(::hasten::__private::Number::Int(#sign #v)))
        }
        Lit::Float(f) => {
            let v: f64 = f.base10_parse().ok()?;
            Some(quote!(::hasten::__private::Number::Float(#sign #v)))
        }
        other => {
            errors.push(other.span(), format!("`{key}` takes a number literal"));
            None
        }
    }
}

fn example_json(expr: &Expr, errors: &mut Errors) -> Option<String> {
    match expr {
        Expr::Lit(ExprLit { lit, .. }) => match lit {
            Lit::Str(s) => Some(format!("{:?}", s.value())),
            Lit::Int(i) => Some(i.base10_digits().to_owned()),
            Lit::Float(f) => Some(f.base10_digits().to_owned()),
            Lit::Bool(b) => Some(b.value.to_string()),
            other => {
                errors.push(
                    other.span(),
                    "`example` takes a string, number or bool literal",
                );
                None
            }
        },
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr,
            ..
        }) => example_json(expr, errors).map(|s| format!("-{s}")),
        other => {
            errors.push(
                other.span(),
                "`example` takes a string, number or bool literal",
            );
            None
        }
    }
}

fn parse_param_attr(
    attr: &Attribute,
    kind: &'static str,
    out: &mut ParamAttr,
    errors: &mut Errors,
) {
    out.source = Some(kind);
    out.source_span = Some(attr.path().span());
    let Meta::List(_) = &attr.meta else {
        if let Meta::NameValue(nv) = &attr.meta {
            errors.push(
                nv.span(),
                format!("write #[{kind}] or #[{kind}(key = value, …)]"),
            );
        }
        return;
    };
    let result = attr.parse_nested_meta(|meta| {
        let key = meta
            .path
            .get_ident()
            .map(|i| i.to_string())
            .unwrap_or_default();
        if key == "deprecated" && (meta.input.is_empty() || meta.input.peek(Token![,])) {
            out.deprecated = true;
            return Ok(());
        }
        if key == "required" && (meta.input.is_empty() || meta.input.peek(Token![,])) {
            out.required = true;
            return Ok(());
        }
        if key == "embed" && (meta.input.is_empty() || meta.input.peek(Token![,])) {
            if kind == "body" {
                out.embed = true;
            } else {
                errors.push(meta.path.span(), "`embed` only applies to #[body]");
            }
            return Ok(());
        }
        let value: Expr = match meta.value() {
            Ok(v) => v.parse()?,
            Err(_) => {
                errors.push(
                    meta.path.span(),
                    format!("`{key}` needs a value: {key} = …; valid keys: {PARAM_KEYS}"),
                );
                return Ok(());
            }
        };
        match key.as_str() {
            "gt" => out.gt = number(&value, "gt", errors),
            "ge" => out.ge = number(&value, "ge", errors),
            "lt" => out.lt = number(&value, "lt", errors),
            "le" => out.le = number(&value, "le", errors),
            "min_length" | "max_length" => match &value {
                Expr::Lit(ExprLit {
                    lit: Lit::Int(i), ..
                }) => {
                    let v = i.base10_parse::<u64>().ok();
                    if key == "min_length" {
                        out.min_length = v
                    } else {
                        out.max_length = v
                    }
                }
                other => errors.push(
                    other.span(),
                    format!("`{key}` takes a non-negative integer"),
                ),
            },
            "pattern" => out.pattern = lit_str(&value, "pattern", errors),
            "alias" => out.alias = lit_str(&value, "alias", errors),
            "title" => out.title = lit_str(&value, "title", errors),
            "description" => out.description = lit_str(&value, "description", errors),
            "default" => out.default = Some(value),
            "validate" => match &value {
                Expr::Path(_) | Expr::Closure(_) => out.validate = Some(value),
                other => errors.push(
                    other.span(),
                    "`validate` takes a function: validate = my_check, where `fn my_check(v: T) -> Result<T, hasten::validate::Invalid>`",
                ),
            },
            "deprecated" => {
                out.deprecated = lit_bool(&value, "deprecated", errors).unwrap_or(false)
            }
            "example" => out.example = example_json(&value, errors),
            "include_in_schema" => {
                out.hidden = !lit_bool(&value, "include_in_schema", errors).unwrap_or(true)
            }
            "convert_underscores" if kind == "header" => {
                out.convert_underscores = lit_bool(&value, "convert_underscores", errors)
            }
            "convert_underscores" => errors.push(
                meta.path.span(),
                "`convert_underscores` only applies to #[header]",
            ),
            _ => errors.push(
                meta.path.span(),
                format!("unknown key `{key}` in #[{kind}]; expected one of {PARAM_KEYS}"),
            ),
        }
        Ok(())
    });
    if let Err(e) = result {
        errors.push_error(e);
    }
}

/// `#[security(scopes = ["items", "me"])]`: the OAuth2 scopes a `Depends` parameter
/// requires (FastAPI's `Security(dep, scopes=[...])`).
fn parse_security(attr: &Attribute, out: &mut Vec<String>, errors: &mut Errors) {
    let result = attr.parse_nested_meta(|meta| {
        if !meta.path.is_ident("scopes") {
            errors.push(
                meta.path.span(),
                "unknown key in #[security]; expected `scopes = [\"scope\", …]`",
            );
            return Ok(());
        }
        let value: Expr = meta.value()?.parse()?;
        match &value {
            Expr::Array(arr) => {
                for e in &arr.elems {
                    if let Some(s) = lit_str(e, "scopes", errors) {
                        out.push(s);
                    }
                }
            }
            other => errors.push(
                other.span(),
                "`scopes` takes a list of strings: [\"a\", \"b\"]",
            ),
        }
        Ok(())
    });
    if let Err(e) = result {
        errors.push_error(e);
    }
}

fn last_segment(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        Type::Group(g) => last_segment(&g.elem),
        Type::Paren(p) => last_segment(&p.elem),
        _ => None,
    }
}

fn check_type(ty: &Type, errors: &mut Errors) {
    let problem = match ty {
        Type::Path(_) => return,
        Type::Group(g) => return check_type(&g.elem, errors),
        Type::Paren(p) => return check_type(&p.elem, errors),
        Type::Reference(r) => {
            let hint = match &*r.elem {
                Type::Path(p) if p.path.is_ident("str") => "use `String`",
                Type::Slice(_) => "use `Vec<T>` or `Bytes`",
                _ => "take the value by ownership",
            };
            format!("a parameter cannot be a reference: {hint}")
        }
        Type::ImplTrait(_) => {
            "`impl Trait` cannot be a parameter type; name a concrete type".to_owned()
        }
        Type::TraitObject(_) => "a trait object cannot be a parameter type".to_owned(),
        Type::Tuple(_) => {
            "a tuple cannot be a parameter; declare one parameter per input".to_owned()
        }
        Type::Array(_) | Type::Slice(_) => {
            "an array cannot be a parameter; use `Vec<T>`".to_owned()
        }
        Type::Ptr(_) => "a raw pointer cannot be a parameter".to_owned(),
        Type::BareFn(_) => "a function pointer cannot be a parameter".to_owned(),
        Type::Infer(_) => "the parameter type must be written out".to_owned(),
        Type::Never(_) => "`!` cannot be a parameter type".to_owned(),
        _ => "this type cannot be a parameter".to_owned(),
    };
    errors.push(ty.span(), problem);
}

#[derive(Clone)]
pub(crate) struct Param {
    pub(crate) name: String,
    pub(crate) ty: Type,
    attr: ParamAttr,
    /// A local alias of `ty`, spanned at it: generated code names the type through it
    /// so that a type that is not a parameter is reported once, at the parameter.
    alias: Option<proc_macro2::Ident>,
}

impl Param {
    /// `X` when the parameter's type is written `Json<X>`. Generated code then reads and
    /// documents it through `X: JsonBody`, one bound with one impl, so that a body type
    /// missing `Deserialize` or `JsonSchema` gets one error naming the trait (through
    /// `FromRequest` it would get one that names neither).
    fn json_inner(&self) -> Option<&syn::Type> {
        let syn::Type::Path(tp) = &self.ty else {
            return None;
        };
        let last = tp.path.segments.last()?;
        if tp.qself.is_some() || last.ident != "Json" {
            return None;
        }
        let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
            return None;
        };
        match (args.args.len(), args.args.first()?) {
            (1, syn::GenericArgument::Type(inner)) => Some(inner),
            _ => None,
        }
    }

    /// The parameter's type as generated code names it.
    fn ty_tokens(&self) -> TokenStream {
        match &self.alias {
            Some(alias) => quote!(#alias),
            None => {
                let ty = &self.ty;
                quote!(#ty)
            }
        }
    }
}

/// Give each parameter a local type alias (`type __P0 = …;`, spanned at the type), and
/// return the aliases' definitions.
fn alias_types(params: &mut [Param]) -> Vec<TokenStream> {
    params
        .iter_mut()
        .enumerate()
        .map(|(i, p)| {
            let ty = &p.ty;
            let alias = format_ident!("__P{}", i, span = ty.span());
            let def = quote_spanned! {ty.span()=>
                #[allow(non_camel_case_types)]
                type #alias = #ty;
            };
            p.alias = Some(alias);
            def
        })
        .collect()
}

/// Expand one path operation.
pub(crate) fn expand(
    fixed_method: Option<&str>,
    attr: TokenStream,
    item: TokenStream,
) -> TokenStream {
    let mut errors = Errors::default();
    let args: RouteArgs = match syn::parse2(attr) {
        Ok(a) => a,
        Err(e) => return e.to_compile_error(),
    };
    let mut func: ItemFn = match syn::parse2(item) {
        Ok(f) => f,
        Err(e) => return e.to_compile_error(),
    };
    let websocket = fixed_method == Some(WEBSOCKET);
    let fixed_method = if websocket { Some("GET") } else { fixed_method };
    let mut options = parse_route_options(&args, fixed_method, &mut errors);
    if websocket {
        options.websocket = true;
        // FastAPI leaves WebSocket routes out of the document too.
        options.include_in_schema = false;
        if func.sig.asyncness.is_none() {
            errors.push(
                func.sig.fn_token.span(),
                "a WebSocket operation must be an `async fn`",
            );
        }
    }
    let template = args.path.value();
    let names = match template_names(&template) {
        Ok(n) => n,
        Err(e) => {
            errors.push(args.path.span(), e);
            Vec::new()
        }
    };

    let params = parse_signature(
        &mut func,
        &names,
        &template,
        "a path operation",
        &mut errors,
    );
    for n in &names {
        let found = params
            .iter()
            .any(|p| p.attr.alias.as_ref().unwrap_or(&p.name) == n);
        if !found {
            errors.push(
                args.path.span(),
                format!("the path has `{{{n}}}` but the function has no parameter `{n}`; add `{n}: String` (or another type)"),
            );
        }
    }
    if let Some(e) = errors.finish() {
        return e.to_compile_error();
    }
    generate(&func, &options, &template, &names, &params)
}

/// Check a handler's or dependency's signature and read its parameters, stripping
/// the parameter attributes from `func`. `names` are the path template's parameters.
pub(crate) fn parse_signature(
    func: &mut ItemFn,
    names: &[String],
    template: &str,
    what: &str,
    errors: &mut Errors,
) -> Vec<Param> {
    let sig = &func.sig;
    if let Some(c) = &sig.constness {
        errors.push(c.span(), format!("{what} cannot be a `const fn`"));
    }
    if let Some(u) = &sig.unsafety {
        errors.push(u.span(), format!("{what} cannot be `unsafe`"));
    }
    if let Some(a) = &sig.abi {
        errors.push(a.span(), format!("{what} cannot have an `extern` ABI"));
    }
    if !sig.generics.params.is_empty() {
        errors.push(sig.generics.span(), format!("{what} cannot be generic"));
    }
    if let Some(w) = &sig.generics.where_clause {
        errors.push(w.span(), format!("{what} cannot have a `where` clause"));
    }
    if let Some(v) = &sig.variadic {
        errors.push(v.span(), format!("{what} cannot be variadic"));
    }

    let mut params: Vec<Param> = Vec::new();
    for (i, input) in func.sig.inputs.iter_mut().enumerate() {
        let pt = match input {
            FnArg::Receiver(r) => {
                errors.push(r.span(), format!("{what} cannot take `self`"));
                continue;
            }
            FnArg::Typed(pt) => pt,
        };
        let mut attr = ParamAttr::default();
        let mut kept = Vec::new();
        for a in pt.attrs.drain(..) {
            let ident = a
                .path()
                .get_ident()
                .map(|i| i.to_string())
                .unwrap_or_default();
            if let Some(kind) = PARAM_ATTRS.iter().find(|k| **k == ident) {
                if attr.source.is_some() {
                    errors.push(a.path().span(), "only one of #[path], #[query], #[header], #[cookie], #[form], #[body] per parameter");
                }
                parse_param_attr(&a, kind, &mut attr, errors);
            } else if ident == "security" {
                if last_segment(&pt.ty).as_deref() != Some("Depends") {
                    errors.push(
                        a.path().span(),
                        "#[security(scopes = [...])] applies to a `Depends<…>` parameter",
                    );
                }
                parse_security(&a, &mut attr.scopes, errors);
            } else if PASSTHROUGH.contains(&ident.as_str()) {
                kept.push(a);
            } else {
                let shown = a
                    .path()
                    .segments
                    .iter()
                    .map(|s| s.ident.to_string())
                    .collect::<Vec<_>>()
                    .join("::");
                errors.push(
                    a.path().span(),
                    format!(
                        "unknown parameter attribute `{shown}`; expected one of {}, security",
                        PARAM_ATTRS.join(", ")
                    ),
                );
            }
        }
        pt.attrs = kept;
        check_type(&pt.ty, errors);
        let last = last_segment(&pt.ty);
        if attr.required && (last.as_deref() != Some("Option") || attr.default.is_some()) {
            errors.push(
                pt.ty.span(),
                "`required` applies to an `Option` parameter without a default: it must be \
                 sent and is documented as nullable (other parameters without a default are \
                 required already)",
            );
        }
        let name = match &*pt.pat {
            Pat::Ident(p) => p.ident.to_string().trim_start_matches("r#").to_owned(),
            Pat::TupleStruct(ts)
                if ts.path.segments.last().map(|s| s.ident.to_string()) == last
                    && last.is_some() =>
            {
                match ts.elems.first() {
                    Some(Pat::Ident(p)) if ts.elems.len() == 1 => p.ident.to_string(),
                    _ => "body".to_owned(),
                }
            }
            other => {
                errors.push(
                    other.span(),
                    "use a plain name for the parameter (or `Json(x): Json<T>`)",
                );
                format!("__p{i}")
            }
        };
        let wire = attr.alias.clone().unwrap_or_else(|| name.clone());
        let in_path =
            attr.source == Some("path") || (attr.source.is_none() && names.contains(&wire));
        if in_path && last == Some("Option".to_owned()) {
            errors.push(
                pt.ty.span(),
                format!("a path parameter is always present: `{name}` cannot be an `Option`; take the value (or make it a query parameter)"),
            );
        }
        // A #[path] parameter missing from this template may come from a router
        // prefix: that is checked when the app is built.
        if names.contains(&wire) && attr.source.is_some_and(|s| s != "path") {
            errors.push(
                attr.source_span.unwrap_or(pt.span()),
                format!("`{wire}` is a path parameter (it appears in \"{template}\"); remove this attribute or use #[path]"),
            );
        }
        params.push(Param {
            name,
            ty: (*pt.ty).clone(),
            attr,
            alias: None,
        });
    }
    params
}

fn opt_str(v: &Option<String>) -> TokenStream {
    match v {
        Some(s) => quote!(::hasten::__private::Some(#s)),
        None => quote!(::hasten::__private::None),
    }
}

fn opt_tokens(v: &Option<TokenStream>) -> TokenStream {
    match v {
        Some(t) => quote!(::hasten::__private::Some(#t)),
        None => quote!(::hasten::__private::None),
    }
}

/// The user's function, kept as the associated `__call` (without its doc comment,
/// which goes on the generated struct).
pub(crate) fn as_call(func: &ItemFn) -> ItemFn {
    let mut inner = func.clone();
    inner.attrs.retain(|a| !a.path().is_ident("doc"));
    inner.sig.ident = format_ident!("__call");
    inner.vis = syn::parse_quote!(pub);
    inner
}

/// `///` comments, cleaned like Python's `inspect.cleandoc`.
pub(crate) fn doc_text(attrs: &[Attribute]) -> Option<String> {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .flat_map(|s| {
            if s.is_empty() {
                vec![String::new()]
            } else {
                s.lines().map(str::to_owned).collect::<Vec<_>>()
            }
        })
        .collect();
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let text = lines
        .iter()
        .map(|l| {
            if l.len() >= indent {
                &l[indent..]
            } else {
                l.trim_start()
            }
        })
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n");
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// `const __BODY_USES`: how each of `params` uses the request body. Specs and checks
/// read it by index, so a type that is not a parameter is reported once.
pub(crate) fn body_uses_const(params: &[Param]) -> TokenStream {
    let count = params.len();
    let uses = body_uses(params);
    quote! {
        const __BODY_USES: [::hasten::__private::BodyUse; #count] = [#(#uses),*];
    }
}

/// The element `i` of `__BODY_USES`.
fn body_use(i: usize) -> TokenStream {
    quote!(__BODY_USES[#i])
}

/// How each of `params` uses the request body: a `BodyUse` constant expression.
fn body_uses(params: &[Param]) -> Vec<TokenStream> {
    params
        .iter()
        .map(|p| {
            let ty = p.ty_tokens();
            let ty = if p.attr.default.is_some() {
                quote!(::hasten::__private::Option<#ty>)
            } else {
                quote!(#ty)
            };
            // Spanned as the extraction is, so that a type that is not a parameter is
            // reported once.
            let span = p.ty.span();
            let own = match p.json_inner() {
                // A JSON value, whatever `X` is (an `X` that cannot be one is reported
                // where it is read, once).
                Some(_) => quote!(::hasten::__private::BodyUse::Json),
                None => quote_spanned!(span=> <#ty as ::hasten::__private::FromRequest>::BODY),
            };
            match p.attr.source {
                // A `#[body]` scalar is a JSON value of the body.
                Some("body") => quote!(#own.body_param()),
                Some("form") => quote_spanned!(span=> #own.form_param()),
                _ => own,
            }
        })
        .collect()
}

/// The `ParamSpec` initialisers of `params`.
pub(crate) fn spec_tokens(params: &[Param], names: &[String]) -> Vec<TokenStream> {
    let uses: Vec<TokenStream> = (0..params.len()).map(body_use).collect();
    // Several JSON body parameters share one object, each under its name (FastAPI's
    // embedding); so does one marked `#[body(embed)]`.
    let json_count = quote!((0usize #(+ #uses.is_json() as usize)*));
    params
        .iter()
        .zip(&uses)
        .map(|(p, body_use)| {
            let a = &p.attr;
            let name = &p.name;
            let source = match a.source {
                Some("path") => {
                    quote!(::hasten::__private::Some(::hasten::__private::Source::Path))
                }
                Some("query") => quote!(::hasten::__private::Some(
                    ::hasten::__private::Source::Query
                )),
                Some("header") => quote!(::hasten::__private::Some(
                    ::hasten::__private::Source::Header
                )),
                Some("cookie") => quote!(::hasten::__private::Some(
                    ::hasten::__private::Source::Cookie
                )),
                Some("form") => {
                    quote!(::hasten::__private::Some(::hasten::__private::Source::Form))
                }
                Some("body") => {
                    quote!(::hasten::__private::Some(::hasten::__private::Source::Body))
                }
                _ => quote!(::hasten::__private::None),
            };
            let wire = a.alias.clone().unwrap_or_else(|| p.name.clone());
            let in_path = names.contains(&wire);
            let convert = a.convert_underscores.unwrap_or(true);
            // A header's wire name (`user_agent` -> `user-agent`) is worked out here, once,
            // rather than on every request.
            let alias = match (&a.alias, a.source) {
                (None, Some("header")) if convert && p.name.contains('_') => {
                    opt_str(&Some(p.name.replace('_', "-")))
                }
                (alias, _) => opt_str(alias),
            };
            let (gt, ge, lt, le) = (
                opt_tokens(&a.gt),
                opt_tokens(&a.ge),
                opt_tokens(&a.lt),
                opt_tokens(&a.le),
            );
            let min_length = match a.min_length {
                Some(v) => quote!(::hasten::__private::Some(#v)),
                None => quote!(::hasten::__private::None),
            };
            let max_length = match a.max_length {
                Some(v) => quote!(::hasten::__private::Some(#v)),
                None => quote!(::hasten::__private::None),
            };
            let pattern = opt_str(&a.pattern);
            let deprecated = a.deprecated;
            let has_default = a.default.is_some();
            let title = opt_str(&a.title);
            let description = opt_str(&a.description);
            let example = opt_str(&a.example);
            let scopes = &a.scopes;
            let embed = a.embed;
            let literal_default = a.default.as_ref().and_then(|d| {
                let mut ignored = Errors::default();
                example_json(d, &mut ignored)
            });
            // A default written as an expression is documented by its value, computed
            // when the document is built (when its type serialises).
            let default_doc = match (&a.default, &literal_default) {
                (Some(expr), None) => {
                    let ty = p.ty_tokens();
                    quote!(::hasten::__private::Some(|| {
                        use ::hasten::__private::{DefaultViaSerialize as _, DefaultViaOpaque as _};
                        let value: #ty = #expr;
                        (&&::hasten::__private::DefaultProbe(&value)).default_json()
                    }))
                }
                _ => quote!(::hasten::__private::None),
            };
            let default_json = opt_str(&literal_default);
            let include_in_schema = !a.hidden;
            let required = a.required;
            quote! {
                ::hasten::__private::ParamSpec {
                    source: #source,
                    in_path: #in_path,
                    alias: #alias,
                    convert_underscores: #convert,
                    constraints: ::hasten::__private::Constraints {
                        gt: #gt, ge: #ge, lt: #lt, le: #le,
                        min_length: #min_length, max_length: #max_length, pattern: #pattern,
                    },
                    deprecated: #deprecated,
                    has_default: #has_default,
                    title: #title,
                    description: #description,
                    example: #example,
                    scopes: &[#(#scopes),*],
                    default_json: #default_json,
                    default_doc: #default_doc,
                    include_in_schema: #include_in_schema,
                    required: #required,
                    embed: #body_use.is_json() && (#embed || #json_count > 1),
                    ..::hasten::__private::ParamSpec::new(#name)
                }
            }
        })
        .collect()
}

/// Compile-time checks a signature's types must pass: no two parameters read the body
/// in ways that exclude each other, and constraints sit on types that can carry them.
/// Each is a `const` whose evaluation panics, with the message, at the parameter.
pub(crate) fn static_checks(params: &[Param]) -> Vec<TokenStream> {
    let uses: Vec<TokenStream> = (0..params.len()).map(body_use).collect();
    let mut checks = Vec::new();
    for (j, later) in params.iter().enumerate() {
        for (i, earlier) in params.iter().enumerate().take(j) {
            let (a, b) = (&uses[i], &uses[j]);
            let message = format!(
                "`{}` and `{}` both read the request body, which can be read once",
                earlier.name, later.name
            );
            let span = later.ty.span();
            checks.push(quote_spanned! {span=>
                const _: () = if #a.conflicts(#b) { ::core::panic!(#message) };
            });
        }
    }
    for p in params {
        let span = p.ty.span();
        let ty = p.ty_tokens();
        let a = &p.attr;
        let numeric: Vec<&str> = [("gt", &a.gt), ("ge", &a.ge), ("lt", &a.lt), ("le", &a.le)]
            .iter()
            .filter(|(_, v)| v.is_some())
            .map(|(k, _)| *k)
            .collect();
        if !numeric.is_empty() {
            let message = format!(
                "`{}` applies to numbers, and `{}` is not a number",
                numeric.join("`, `"),
                p.name
            );
            checks.push(quote_spanned! {span=>
                const _: () = if !<#ty as ::hasten::__private::ConstraintTarget>::NUMBER { ::core::panic!(#message) };
            });
        }
        if a.min_length.is_some() || a.max_length.is_some() {
            let message = format!(
                "`min_length`/`max_length` apply to text and lists, and `{}` is neither",
                p.name
            );
            checks.push(quote_spanned! {span=>
                const _: () = if !(<#ty as ::hasten::__private::ConstraintTarget>::TEXT
                    || <#ty as ::hasten::__private::ConstraintTarget>::LIST) { ::core::panic!(#message) };
            });
        }
        if a.pattern.is_some() {
            let message = format!("`pattern` applies to text, and `{}` is not text", p.name);
            checks.push(quote_spanned! {span=>
                const _: () = if !<#ty as ::hasten::__private::ConstraintTarget>::TEXT { ::core::panic!(#message) };
            });
        }
    }
    checks
}

/// The `FromRequest::describe` calls of `params`; `specs` names the spec array.
pub(crate) fn describe_tokens(params: &[Param], specs: &TokenStream) -> Vec<TokenStream> {
    params.iter().enumerate().map(|(i, p)| {
        let span = p.ty.span();
        let ty = p.ty_tokens();
        if p.attr.default.is_some() {
            quote_spanned!(span=> <::hasten::__private::Option<#ty> as ::hasten::__private::FromRequest>::describe(&#specs[#i], __doc);)
        } else if let Some(inner) = p.json_inner() {
            // Through a probe: a type that is not a JSON body is reported where the
            // parameter is read, not here too.
            quote_spanned! {inner.span()=> {
                #[allow(unused_imports)]
                use ::hasten::__private::{ViaJsonBody as _, ViaNoJsonBody as _};
                (&&&::hasten::__private::JsonProbe::<#inner>::new()).describe_json(&#specs[#i], __doc);
            }}
        } else {
            quote_spanned!(span=> <#ty as ::hasten::__private::FromRequest>::describe(&#specs[#i], __doc);)
        }
    }).collect()
}

/// One `let` per parameter extracting it; `ctx`, `errors` and `specs` are expressions.
pub(crate) fn extract_tokens(
    params: &[Param],
    vars: &[proc_macro2::Ident],
    ctx: &TokenStream,
    errors: &TokenStream,
    specs: &TokenStream,
) -> Vec<TokenStream> {
    params.iter().enumerate().map(|(i, p)| {
        let span = p.ty.span();
        let ty = p.ty_tokens();
        let var = &vars[i];
        let extract = match &p.attr.default {
            Some(default) => quote_spanned! {span=>
                let #var = ::hasten::__private::or_default(
                    <::hasten::__private::Option<#ty> as ::hasten::__private::FromRequest>::from_request(#ctx, &#specs[#i], #errors).await,
                    || -> #ty { #default },
                );
            },
            None => match p.json_inner() {
                Some(inner) => quote_spanned! {inner.span()=>
                    let #var = <#inner as ::hasten::__private::JsonBody>::extract(#ctx, &#specs[#i], #errors).await;
                },
                None => quote_spanned! {span=>
                    let #var = <#ty as ::hasten::__private::FromRequest>::from_request(#ctx, &#specs[#i], #errors).await;
                },
            },
        };
        // The model's `Validate` rule, when it has one, then the parameter's own
        // validator function.
        let rule = quote_spanned! {span=>
            let #var = {
                #[allow(unused_imports)]
                use ::hasten::__private::{ViaNoRule as _, ViaValidate as _};
                if (&&::hasten::__private::ValidateProbe::<#ty>::new()).run_rule(&#var, #ctx, &#specs[#i], #errors) {
                    #var
                } else {
                    ::hasten::__private::None
                }
            };
        };
        let validator = p.attr.validate.as_ref().map(|f| {
            let fspan = f.span();
            // On an `Option` parameter the function sees the value when there is one.
            if p.attr.default.is_none() && last_segment(&p.ty).as_deref() == Some("Option") {
                quote_spanned! {fspan=>
                    let #var = ::hasten::__private::run_optional_validator(#var, #f, #ctx, &#specs[#i], #errors);
                }
            } else {
                quote_spanned! {fspan=>
                    let #var = ::hasten::__private::run_param_validator::<#ty, _>(#var, #f, #ctx, &#specs[#i], #errors);
                }
            }
        });
        quote! { #extract #rule #validator }
    }).collect()
}

/// The documentation of the success response, from the return type: the type's own
/// `DescribeResponse` when it has one, else "JSON of any shape".
fn response_doc_tokens(output: &ReturnType) -> TokenStream {
    let ty = match output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => {
            if matches!(**ty, Type::ImplTrait(_)) {
                return quote!(::hasten::__private::ResponseDoc::any_json());
            }
            // `Sse<impl Stream<…>>`: the documentation does not depend on what is
            // inside, so the opaque part is replaced by `()` to name the type.
            let mut ty = (**ty).clone();
            syn::visit_mut::VisitMut::visit_type_mut(&mut OpaqueToUnit, &mut ty);
            quote!(#ty)
        }
    };
    let span = match output {
        ReturnType::Type(_, t) => t.span(),
        ReturnType::Default => proc_macro2::Span::call_site(),
    };
    quote_spanned! {span=> {
        #[allow(unused_imports)]
        use ::hasten::__private::{ViaDescribe as _, ViaFallback as _, ViaMissingSchema as _};
        (&&&::hasten::__private::Probe::<#ty>::new()).response_doc()
    }}
}

/// Replaces `impl Trait` types with `()`.
struct OpaqueToUnit;

impl syn::visit_mut::VisitMut for OpaqueToUnit {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if matches!(ty, Type::ImplTrait(_)) {
            *ty = syn::parse_quote!(());
        } else {
            syn::visit_mut::visit_type_mut(self, ty);
        }
    }
}

fn generate(
    func: &ItemFn,
    o: &RouteOptions,
    template: &str,
    names: &[String],
    params: &[Param],
) -> TokenStream {
    let vis = &func.vis;
    let ident = &func.sig.ident;
    let fn_name = ident.to_string().trim_start_matches("r#").to_owned();
    let is_async = func.sig.asyncness.is_some();
    let docs: Vec<&Attribute> = func
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .collect();
    let doc = opt_str(&doc_text(&func.attrs));
    let fallback_doc = if docs.is_empty() {
        let text = format!("Path operation `{} {template}`.", o.methods.join("|"));
        quote!(#[doc = #text])
    } else {
        quote!()
    };
    let methods = &o.methods;
    let status = match o.status {
        Some(s) => quote!(::hasten::__private::Some(#s)),
        None => quote!(::hasten::__private::None),
    };
    let tags = &o.tags;
    let summary = opt_str(&o.summary);
    let operation_id = opt_str(&o.operation_id);
    let deprecated = o.deprecated;
    let include = o.include_in_schema;
    let response_description = opt_str(&o.response_description);
    let blocking = !is_async;
    let op_deps = &o.dependencies;

    let mut params = params.to_vec();
    let aliases = alias_types(&mut params);
    let params = &params[..];
    let count = params.len();
    let specs = spec_tokens(params, names);
    let checks = static_checks(params);
    let body_uses = body_uses_const(params);
    let describes = describe_tokens(params, &quote!(__PARAMS));
    let vars: Vec<_> = (0..count).map(|i| format_ident!("__a{}", i)).collect();
    let extracts = extract_tokens(
        params,
        &vars,
        &quote!(&mut __ctx),
        &quote!(&mut __errors),
        &quote!(__PARAMS),
    );
    // `response_model = T`: the body goes through `T`, with the route's options.
    let through_model = match &o.response_model {
        Some(model) => {
            let [unset, none, defaults] = o.model_exclude;
            let include = match &o.model_include {
                Some(fields) => quote!(::hasten::__private::Some(&[#(#fields),*])),
                None => quote!(::hasten::__private::None),
            };
            let exclude = &o.model_exclude_fields;
            quote! {
                static __MODEL: ::hasten::__private::ModelOptions = ::hasten::__private::ModelOptions {
                    exclude_unset: #unset,
                    exclude_none: #none,
                    exclude_defaults: #defaults,
                    include: #include,
                    exclude: &[#(#exclude),*],
                    schema: ::std::sync::OnceLock::new(),
                };
                let __resp = ::hasten::__private::through_model::<#model>(__resp, &__MODEL).await;
            }
        }
        None => quote!(),
    };
    let call = if is_async {
        quote! {
            let __resp = ::hasten::__private::IntoResponse::into_response(#ident::__call(#(#vars),*).await);
            #through_model
            let __resp = ::hasten::__private::apply_set_response(&mut __ctx, __resp);
            return match ::hasten::__private::finish(&mut __ctx, __resp) {
                ::hasten::__private::Ok(__resp) => __resp,
                ::hasten::__private::Err(__rest) => __rest.await,
            };
        }
    } else {
        quote! {
            let __resp = ::hasten::__private::run_blocking(&__ctx, move || {
                ::hasten::__private::IntoResponse::into_response(#ident::__call(#(#vars),*))
            }).await;
            #through_model
            let __resp = ::hasten::__private::apply_set_response(&mut __ctx, __resp);
            return match ::hasten::__private::finish(&mut __ctx, __resp) {
                ::hasten::__private::Ok(__resp) => __resp,
                ::hasten::__private::Err(__rest) => __rest.await,
            };
        }
    };
    let guarded_call = if count == 0 {
        quote! {
            if __errors.is_empty() {
                #call
            }
        }
    } else {
        quote! {
            if let (#(::hasten::__private::Some(#vars),)*) = (#(#vars,)*) {
                if __errors.is_empty() {
                    #call
                }
            }
        }
    };
    let body = quote! {
        let mut __errors = ::hasten::__private::Errors::for_request(&__ctx);
        ::hasten::__private::run_attached_dependencies(&mut __ctx, &mut __errors).await;
        #(#extracts)*
        #guarded_call
        let __resp = ::hasten::__private::validation_failed(&mut __ctx, __errors);
        match ::hasten::__private::finish(&mut __ctx, __resp) {
            ::hasten::__private::Ok(__resp) => __resp,
            ::hasten::__private::Err(__rest) => __rest.await,
        }
    };

    let inner = as_call(func);
    let run = quote! {
        |mut __ctx: ::hasten::__private::Box<::hasten::__private::RequestCtx>| -> ::hasten::__private::BoxFuture<::hasten::__private::Response> {
            ::hasten::__private::Box::pin(async move {
                #body
            })
        }
    };
    let handler = if o.websocket {
        quote! {
            |__ctx: ::hasten::__private::Box<::hasten::__private::RequestCtx>| -> ::hasten::__private::BoxFuture<::hasten::__private::Response> {
                ::hasten::__private::serve_websocket(__ctx, #run)
            }
        }
    } else {
        run
    };
    let response_doc = match &o.response_model {
        Some(model) => quote!(::hasten::__private::ResponseDoc::json::<#model>()),
        None => response_doc_tokens(&func.sig.output),
    };
    let extra_responses = o.responses.iter().map(|(status, description, model)| {
        let status = quote!(::hasten::__private::status(#status));
        match model {
            Some(m) => quote!(.response_model::<#m>(#status, #description)),
            None => quote!(.response(#status, #description)),
        }
    });

    // The struct lives only in the type namespace (it is braced) and the function of
    // the same name only in the value namespace, so a variable or parameter may share
    // the handler's name: `async fn item(item: Json<Item>)` works.
    quote! {
        #(#docs)*
        #fallback_doc
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy, Debug)]
        #vis struct #ident {}

        impl #ident {
            #[doc(hidden)]
            #[allow(clippy::too_many_arguments)]
            #inner

            #[doc(hidden)]
            pub fn __operation() -> ::hasten::__private::Operation {
                #(#aliases)*
                #body_uses
                #(#checks)*
                static __META: ::hasten::__private::OperationMeta = ::hasten::__private::OperationMeta {
                    methods: &[#(#methods),*],
                    path: #template,
                    fn_name: #fn_name,
                    status: #status,
                    tags: &[#(#tags),*],
                    summary: #summary,
                    doc: #doc,
                    operation_id: #operation_id,
                    deprecated: #deprecated,
                    include_in_schema: #include,
                    response_description: #response_description,
                    blocking: #blocking,
                };
                static __PARAMS: [::hasten::__private::ParamSpec; #count] = [#(#specs),*];
                fn __describe(__doc: &mut ::hasten::__private::OperationDoc) {
                    let _ = &__doc;
                    #(#describes)*
                    __doc.response = ::hasten::__private::Some(#response_doc);
                }
                ::hasten::__private::operation(
                    &__META,
                    &__PARAMS,
                    #handler,
                    __describe,
                )
                #(.dependency::<#op_deps>())*
                #(#extra_responses)*
            }
        }

        #(#docs)*
        #fallback_doc
        #vis fn #ident() -> ::hasten::__private::Operation {
            #ident::__operation()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_names_and_errors() {
        assert_eq!(template_names("/items/{item_id}").unwrap(), vec!["item_id"]);
        assert_eq!(template_names("/f/{p:path}").unwrap(), vec!["p"]);
        assert!(template_names("items").unwrap_err().contains("start with"));
        assert!(template_names("/a/{x").unwrap_err().contains("unclosed"));
        assert!(template_names("/a/x}").unwrap_err().contains("unmatched"));
        assert!(template_names("/a/{x:int}")
            .unwrap_err()
            .contains("converter"));
        assert!(template_names("/a/{x:path}/b")
            .unwrap_err()
            .contains("last"));
        assert!(template_names("/a/{x}/{x}").unwrap_err().contains("twice"));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let out = expand(
            Some("GET"),
            quote!("/items/{item_id}/{missing}"),
            quote! {
                async fn f(#[qurey] a: String, #[query(minlength = 3)] b: String, c: &str, item_id: u32) {}
            },
        )
        .to_string();
        for needle in [
            "unknown parameter attribute `qurey`",
            "unknown key `minlength`",
            "cannot be a reference",
            "no parameter `missing`",
        ] {
            assert!(out.contains(needle), "{needle} not in {out}");
        }
    }

    #[test]
    fn two_bodies_are_refused_by_a_check_on_their_types() {
        let out = expand(
            Some("POST"),
            quote!("/x"),
            quote! { async fn f(a: Json<A>, b: Bytes) {} },
        )
        .to_string();
        assert!(out.contains("FromRequest > :: BODY"), "{out}");
        assert!(
            out.contains("`a` and `b` both read the request body, which can be read once"),
            "{out}"
        );
    }

    #[test]
    fn docs_are_cleaned() {
        let f: ItemFn = syn::parse_quote! {
            /// Read one item.
            ///
            ///     indented
            fn f() {}
        };
        assert_eq!(
            doc_text(&f.attrs).unwrap(),
            "Read one item.\n\n    indented"
        );
    }
}
