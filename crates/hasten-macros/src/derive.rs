//! `#[derive(ParamValue)]` for unit-only enums.

use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, Expr, ExprLit, Fields, Lit, Meta};

use crate::errors::Errors;

/// Convert a variant name as serde's `rename_all` would.
pub(crate) fn rename(name: &str, rule: &str) -> Option<String> {
    let words = split_words(name);
    let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
    Some(match rule {
        "lowercase" => name.to_lowercase(),
        "UPPERCASE" => name.to_uppercase(),
        "snake_case" => lower.join("_"),
        "kebab-case" => lower.join("-"),
        "SCREAMING_SNAKE_CASE" => lower.join("_").to_uppercase(),
        "SCREAMING-KEBAB-CASE" => lower.join("-").to_uppercase(),
        "PascalCase" => name.to_owned(),
        "camelCase" => {
            let mut c = name.chars();
            match c.next() {
                Some(f) => f.to_lowercase().chain(c).collect(),
                None => String::new(),
            }
        }
        _ => return None,
    })
}

fn split_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    for (i, ch) in name.chars().enumerate() {
        if ch.is_uppercase() && i > 0 && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        if ch != '_' {
            cur.push(ch);
        } else if !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// `rename` / `rename_all` from `#[param(...)]` or `#[serde(...)]`; other serde keys are
/// ignored.
fn read_key(
    attrs: &[Attribute],
    key: &str,
    errors: &mut Errors,
) -> Option<(String, proc_macro2::Span)> {
    let mut found = None;
    for a in attrs {
        let is_param = a.path().is_ident("param");
        if !is_param && !a.path().is_ident("serde") {
            continue;
        }
        let Meta::List(list) = &a.meta else { continue };
        let parsed = list
            .parse_args_with(syn::punctuated::Punctuated::<Meta, syn::Token![,]>::parse_terminated);
        let Ok(metas) = parsed else {
            if is_param {
                errors.push(
                    a.span(),
                    "expected #[param(rename = \"…\")] or #[param(rename_all = \"…\")]",
                );
            }
            continue;
        };
        for m in metas {
            if let Meta::NameValue(nv) = &m {
                if nv.path.is_ident(key) {
                    if let Expr::Lit(ExprLit {
                        lit: Lit::Str(s), ..
                    }) = &nv.value
                    {
                        // #[param] wins over #[serde].
                        if is_param || found.is_none() {
                            found = Some((s.value(), s.span()));
                        }
                    }
                } else if is_param && !nv.path.is_ident("rename") && !nv.path.is_ident("rename_all")
                {
                    errors.push(
                        nv.path.span(),
                        "unknown key in #[param]; expected `rename` or `rename_all`",
                    );
                }
            } else if is_param {
                errors.push(
                    m.span(),
                    "unknown key in #[param]; expected `rename` or `rename_all`",
                );
            }
        }
    }
    found
}

/// Expand the derive.
pub(crate) fn expand(input: DeriveInput) -> TokenStream {
    let mut errors = Errors::default();
    let name = &input.ident;
    let Data::Enum(data) = &input.data else {
        return syn::Error::new(
            input.ident.span(),
            "#[derive(ParamValue)] works on enums with unit variants; for other types implement `hasten::ParamValue`",
        )
        .to_compile_error();
    };
    if !input.generics.params.is_empty() {
        errors.push(
            input.generics.span(),
            "#[derive(ParamValue)] does not support generic enums",
        );
    }
    let rule = read_key(&input.attrs, "rename_all", &mut errors);
    let mut arms = Vec::new();
    let mut wires = Vec::new();
    for v in &data.variants {
        if !matches!(v.fields, Fields::Unit) {
            errors.push(
                v.span(),
                format!(
                    "variant `{}` has fields; a parameter enum has only unit variants",
                    v.ident
                ),
            );
            continue;
        }
        let own = read_key(&v.attrs, "rename", &mut errors).map(|(s, _)| s);
        let wire = match (own, &rule) {
            (Some(w), _) => w,
            (None, Some((r, span))) => match rename(&v.ident.to_string(), r) {
                Some(w) => w,
                None => {
                    errors.push(*span, format!("unknown rename_all rule `{r}`"));
                    v.ident.to_string()
                }
            },
            (None, None) => v.ident.to_string(),
        };
        let ident = &v.ident;
        arms.push(quote!(#wire => ::core::result::Result::Ok(Self::#ident),));
        wires.push(wire);
    }
    if data.variants.is_empty() {
        errors.push(name.span(), "a parameter enum needs at least one variant");
    }
    if let Some(e) = errors.finish() {
        return e.to_compile_error();
    }
    let title = name.to_string();
    let description = match crate::doc::doc_text(&input.attrs) {
        Some(d) => quote!(::hasten::__private::Some(#d)),
        None => quote!(::hasten::__private::None),
    };
    quote! {
        impl ::hasten::__private::ParamValue for #name {
            fn parse(raw: &str) -> ::core::result::Result<Self, ::hasten::__private::ParseError> {
                match raw {
                    #(#arms)*
                    _ => ::core::result::Result::Err(::hasten::__private::enum_error(raw, &[#(#wires),*])),
                }
            }
            fn schema() -> ::hasten::__private::Value {
                ::hasten::__private::enum_schema(#title, #description, &[#(#wires),*])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rename_rules() {
        assert_eq!(rename("ResNet", "lowercase").unwrap(), "resnet");
        assert_eq!(rename("ResNet", "snake_case").unwrap(), "res_net");
        assert_eq!(rename("ResNet", "kebab-case").unwrap(), "res-net");
        assert_eq!(rename("ResNet", "SCREAMING_SNAKE_CASE").unwrap(), "RES_NET");
        assert_eq!(rename("ResNet", "camelCase").unwrap(), "resNet");
        assert!(rename("X", "Title").is_none());
    }

    #[test]
    fn non_unit_variants_are_refused() {
        let input: DeriveInput = syn::parse_quote! { enum E { A, B(u8) } };
        assert!(expand(input).to_string().contains("variant `B` has fields"));
    }
}
