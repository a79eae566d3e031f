//! The handler's signature: its parameters, their attributes and types, checked.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprLit, ExprUnary, FnArg, ItemFn, Lit, Meta, Pat, Token, Type, UnOp};

use crate::args::{lit_bool, lit_str};
use crate::errors::Errors;

/// Where a parameter's value comes from, as its attribute says: `#[path]`, `#[query]` …
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Source {
    Path,
    Query,
    Header,
    Cookie,
    Form,
    Body,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Source {
    pub(crate) const ALL: [Source; 6] = [
        Source::Path,
        Source::Query,
        Source::Header,
        Source::Cookie,
        Source::Form,
        Source::Body,
    ];

    /// The attribute's name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Source::Path => "path",
            Source::Query => "query",
            Source::Header => "header",
            Source::Cookie => "cookie",
            Source::Form => "form",
            Source::Body => "body",
        }
    }

    /// The library's `Source` of the same name, as generated code names it.
    pub(crate) fn tokens(self) -> TokenStream {
        let variant = match self {
            Source::Path => quote!(Path),
            Source::Query => quote!(Query),
            Source::Header => quote!(Header),
            Source::Cookie => quote!(Cookie),
            Source::Form => quote!(Form),
            Source::Body => quote!(Body),
        };
        quote!(::hasten::__private::Source::#variant)
    }
}
pub(crate) const PARAM_KEYS: &str = "gt, ge, lt, le, min_length, max_length, pattern, alias, default, \
                          deprecated, title, description, example, convert_underscores, embed, validate, \
                          include_in_schema, required";
pub(crate) const PASSTHROUGH: [&str; 6] = ["cfg", "allow", "warn", "deny", "expect", "doc"];

/// One parameter attribute's settings.
#[derive(Default, Clone)]
pub(crate) struct ParamAttr {
    pub(crate) source: Option<Source>,
    pub(crate) source_span: Option<Span>,
    pub(crate) gt: Option<TokenStream>,
    pub(crate) ge: Option<TokenStream>,
    pub(crate) lt: Option<TokenStream>,
    pub(crate) le: Option<TokenStream>,
    pub(crate) min_length: Option<u64>,
    pub(crate) max_length: Option<u64>,
    pub(crate) pattern: Option<String>,
    pub(crate) alias: Option<String>,
    pub(crate) default: Option<Expr>,
    pub(crate) deprecated: bool,
    pub(crate) title: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) example: Option<String>,
    pub(crate) convert_underscores: Option<bool>,
    /// `#[security(scopes = [...])]` on a `Depends` parameter.
    pub(crate) scopes: Vec<String>,
    /// `#[body(embed)]`: the body is an object with this parameter under its name.
    pub(crate) embed: bool,
    /// `validate = f`: a function the extracted value passes through.
    pub(crate) validate: Option<Expr>,
    /// `include_in_schema = false`: read and validated, but not documented.
    pub(crate) hidden: bool,
    /// `required` on an `Option`: must be sent, documented nullable.
    pub(crate) required: bool,
}

pub(crate) fn number(expr: &Expr, key: &str, errors: &mut Errors) -> Option<TokenStream> {
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

pub(crate) fn example_json(expr: &Expr, errors: &mut Errors) -> Option<String> {
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

pub(crate) fn parse_param_attr(
    attr: &Attribute,
    kind: Source,
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
            if kind == Source::Body {
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
            "convert_underscores" if kind == Source::Header => {
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
pub(crate) fn parse_security(attr: &Attribute, out: &mut Vec<String>, errors: &mut Errors) {
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

pub(crate) fn last_segment(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        Type::Group(g) => last_segment(&g.elem),
        Type::Paren(p) => last_segment(&p.elem),
        _ => None,
    }
}

pub(crate) fn check_type(ty: &Type, errors: &mut Errors) {
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
    pub(crate) attr: ParamAttr,
    /// A local alias of `ty`, spanned at it: generated code names the type through it
    /// so that a type that is not a parameter is reported once, at the parameter.
    pub(crate) alias: Option<proc_macro2::Ident>,
}

impl Param {
    /// `X` when the parameter's type is written `Json<X>`. Generated code then reads and
    /// documents it through `X: JsonBody`, one bound with one impl, so that a body type
    /// missing `Deserialize` or `JsonSchema` gets one error naming the trait (through
    /// `FromRequest` it would get one that names neither).
    pub(crate) fn json_inner(&self) -> Option<&syn::Type> {
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
    pub(crate) fn ty_tokens(&self) -> TokenStream {
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
pub(crate) fn alias_types(params: &mut [Param]) -> Vec<TokenStream> {
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
            if let Some(kind) = Source::ALL.into_iter().find(|k| k.name() == ident) {
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
                        Source::ALL.map(Source::name).join(", ")
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
            attr.source == Some(Source::Path) || (attr.source.is_none() && names.contains(&wire));
        if in_path && last == Some("Option".to_owned()) {
            errors.push(
                pt.ty.span(),
                format!("a path parameter is always present: `{name}` cannot be an `Option`; take the value (or make it a query parameter)"),
            );
        }
        // A #[path] parameter missing from this template may come from a router
        // prefix: that is checked when the app is built.
        if names.contains(&wire) && attr.source.is_some_and(|s| s != Source::Path) {
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
