//! `#[job]`: a function run by the app's workers from a durable queue. Its one
//! parameter that is not injected is its arguments; `Depends<…>`, `State<…>` and
//! `Jobs` parameters are made for each run, as for an endpoint.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, FnArg, ItemFn, Lit, MetaNameValue, Token, Type};

use crate::codegen::{body_uses_const, extract_tokens, item_struct, spec_tokens};
use crate::doc::doc_text;
use crate::errors::Errors;
use crate::params::{last_segment, parse_signature};

/// The types a job's run makes, rather than reads from its arguments.
const INJECTED: [&str; 3] = ["Depends", "State", "Jobs"];

/// `#[job(…)]`'s settings.
struct Settings {
    name: Option<String>,
    max_attempts: u32,
    timeout_ms: u64,
    backoff_ms: u64,
}

/// `"250ms"`, `"30s"`, `"5m"`, `"1h"` in milliseconds.
fn duration_ms(text: &str) -> Option<u64> {
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits.parse().ok()?;
    let factor = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return None,
    };
    n.checked_mul(factor).filter(|ms| *ms > 0)
}

fn parse_settings(attr: TokenStream, errors: &mut Errors) -> Settings {
    let mut settings = Settings {
        name: None,
        max_attempts: 5,
        timeout_ms: 300_000,
        backoff_ms: 1_000,
    };
    if attr.is_empty() {
        return settings;
    }
    let parser = Punctuated::<MetaNameValue, Token![,]>::parse_terminated;
    let pairs = match syn::parse::Parser::parse2(parser, attr) {
        Ok(p) => p,
        Err(e) => {
            errors.push_error(e);
            return settings;
        }
    };
    for nv in pairs {
        let key = nv
            .path
            .get_ident()
            .map(|i| i.to_string())
            .unwrap_or_default();
        let lit = match &nv.value {
            Expr::Lit(l) => Some(&l.lit),
            _ => None,
        };
        match (key.as_str(), lit) {
            ("name", Some(Lit::Str(s))) => {
                let name = s.value();
                if name.is_empty() || name.chars().any(char::is_whitespace) {
                    errors.push(
                        s.span(),
                        "a job's `name` is a non-empty word (its queue's name)",
                    );
                }
                settings.name = Some(name);
            }
            ("max_attempts", Some(Lit::Int(i))) => match i.base10_parse::<u32>() {
                Ok(n) if n >= 1 => settings.max_attempts = n,
                _ => errors.push(
                    i.span(),
                    "`max_attempts` is at least 1 (the first run counts)",
                ),
            },
            ("timeout" | "backoff", Some(Lit::Str(s))) => match duration_ms(&s.value()) {
                Some(ms) if key == "timeout" => settings.timeout_ms = ms,
                Some(ms) => settings.backoff_ms = ms,
                None => errors.push(
                    s.span(),
                    format!("`{key}` is a duration such as \"500ms\", \"30s\", \"5m\" or \"1h\""),
                ),
            },
            ("name" | "timeout" | "backoff", _) => {
                errors.push(nv.value.span(), format!("`{key}` takes a string"));
            }
            ("max_attempts", _) => errors.push(nv.value.span(), "`max_attempts` takes an integer"),
            _ => errors.push(
                nv.path.span(),
                "#[job] takes `name = \"…\"`, `max_attempts = N`, `timeout = \"30s\"` and \
                 `backoff = \"1s\"`",
            ),
        }
    }
    settings
}

/// Expand `#[job]`.
pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let settings = parse_settings(attr, &mut errors);
    let func: ItemFn = match syn::parse2(item) {
        Ok(f) => f,
        Err(e) => return e.to_compile_error(),
    };

    // Which parameter is the arguments; the others are made for each run.
    let mut args: Option<(usize, Type)> = None;
    let mut injected = func.clone();
    injected.sig.inputs = Punctuated::new();
    for (i, input) in func.sig.inputs.iter().enumerate() {
        let FnArg::Typed(pt) = input else {
            injected.sig.inputs.push(input.clone());
            continue;
        };
        let kind = last_segment(&pt.ty);
        if kind.as_deref().is_some_and(|k| INJECTED.contains(&k)) {
            injected.sig.inputs.push(input.clone());
            continue;
        }
        if let Some(a) = pt.attrs.first() {
            errors.push(
                a.span(),
                "a job's arguments take no attribute: there is no request to read them from",
            );
        }
        if args.is_some() {
            errors.push(
                pt.ty.span(),
                "a job takes one arguments parameter (put several values in a struct); its \
                 other parameters are `Depends<…>`, `State<…>` or `Jobs`",
            );
        } else {
            args = Some((i, (*pt.ty).clone()));
        }
    }
    let params = parse_signature(&mut injected, &[], "", "a job", &mut errors);
    for p in &params {
        if p.attr.source.is_some() {
            errors.push(
                p.ty.span(),
                "a job has no request: its parameters are its arguments, `Depends<…>`, \
                 `State<…>` and `Jobs`",
            );
        }
    }
    if let Some(e) = errors.finish() {
        return e.to_compile_error();
    }

    let ident = &func.sig.ident;
    let vis = &func.vis;
    let name = settings.name.unwrap_or_else(|| ident.to_string());
    let (max_attempts, timeout_ms, backoff_ms) = (
        settings.max_attempts,
        settings.timeout_ms,
        settings.backoff_ms,
    );
    let docs: Vec<_> = func
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .collect();
    let fallback_doc = if doc_text(&func.attrs).is_none() {
        let text = format!("Job `{name}`.");
        quote!(#[doc = #text])
    } else {
        quote!()
    };
    let args_ty = match &args {
        Some((_, ty)) => quote!(#ty),
        None => quote!(()),
    };

    let count = params.len();
    let specs = spec_tokens(&params, &[]);
    let body_uses = body_uses_const(&params);
    let specs_expr = quote!(#ident::__params());
    let vars: Vec<_> = (0..count).map(|i| format_ident!("__a{}", i)).collect();
    let extracts = extract_tokens(
        &params,
        &vars,
        &quote!(__ctx),
        &quote!(__errors),
        &specs_expr,
    );
    // The call, with every parameter in its place.
    let mut made = vars.iter();
    let call_args: Vec<TokenStream> = (0..func.sig.inputs.len())
        .map(|i| match &args {
            Some((at, _)) if *at == i => quote!(__args),
            _ => {
                let v = made.next();
                quote!(#v)
            }
        })
        .collect();
    let unpack = if count == 0 {
        quote!(let _ = __errs;)
    } else {
        quote! {
            let (#(::hasten::__private::Some(#vars),)*) = (#(#vars,)*) else {
                return ::hasten::__private::Err(::hasten::__private::job_inputs_failed(__errs).await);
            };
        }
    };
    let ignore_args = if args.is_none() {
        quote!(let () = __args;)
    } else {
        quote!()
    };
    let call = if func.sig.asyncness.is_some() {
        quote!(let __r = #ident::__call(#(#call_args),*).await;)
    } else {
        quote! {
            let __r = match ::hasten::__private::run_blocking_value(&*__ctx, move || #ident::__call(#(#call_args),*)).await {
                ::hasten::__private::Ok(r) => r,
                ::hasten::__private::Err(resp) => {
                    return ::hasten::__private::Err(::hasten::__private::job_blocking_failed(resp));
                }
            };
        }
    };

    let item = item_struct(
        &func,
        &fallback_doc,
        quote! {
            #[doc(hidden)]
            pub fn __params() -> &'static [::hasten::__private::ParamSpec] {
                #body_uses
                static __PARAMS: [::hasten::__private::ParamSpec; #count] = [#(#specs),*];
                &__PARAMS
            }
        },
    );

    quote! {
        #item

        #(#docs)*
        #fallback_doc
        #vis fn #ident() -> ::hasten::__private::Job<#args_ty> {
            static __META: ::hasten::__private::JobMeta = ::hasten::__private::JobMeta {
                name: #name,
                max_attempts: #max_attempts,
                timeout_ms: #timeout_ms,
                backoff_ms: #backoff_ms,
            };
            #[allow(unused_variables, unused_mut)]
            fn __run<'__a>(
                __ctx: &'__a mut ::hasten::__private::RequestCtx,
                __args: #args_ty,
            ) -> ::hasten::__private::JobFuture<'__a> {
                ::hasten::__private::Box::pin(async move {
                    #ignore_args
                    let mut __errs = ::hasten::__private::Errors::for_request(&*__ctx);
                    let __errors = &mut __errs;
                    #(#extracts)*
                    let _ = __errors;
                    #unpack
                    #call
                    ::hasten::__private::JobOutput::into_outcome(__r)
                })
            }
            ::hasten::__private::Job::__new(&__META, __run)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_read_with_their_unit() {
        assert_eq!(duration_ms("250ms"), Some(250));
        assert_eq!(duration_ms("30s"), Some(30_000));
        assert_eq!(duration_ms("5m"), Some(300_000));
        assert_eq!(duration_ms("1h"), Some(3_600_000));
        assert_eq!(duration_ms("0s"), None);
        assert_eq!(duration_ms("30"), None);
        assert_eq!(duration_ms("3d"), None);
    }

    #[test]
    fn problems_are_reported() {
        let out = expand(
            quote!(retries = 3),
            quote! { async fn j(a: u32, b: u32, #[header] c: String) {} },
        )
        .to_string();
        assert!(out.contains("#[job] takes"), "{out}");
        assert!(out.contains("one arguments parameter"), "{out}");
        assert!(out.contains("take no attribute"), "{out}");
    }
}
