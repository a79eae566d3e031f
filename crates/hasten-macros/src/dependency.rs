//! `#[dependency]`: a function whose parameters are extracted like an endpoint's and
//! whose result other operations take as `Depends<name>`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::{GenericArgument, ItemFn, PathArguments, ReturnType, Type};

use crate::codegen::{body_uses_const, describe_tokens, extract_tokens, item_struct, spec_tokens};
use crate::doc::doc_text;
use crate::errors::Errors;
use crate::params::parse_signature;

/// `Result<T, E>` → `Some((T, E))`, by the last path segment's name.
fn result_parts(ty: &Type) -> Option<(&Type, &Type)> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let mut types = args.args.iter().filter_map(|a| match a {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    });
    match (types.next(), types.next(), types.next()) {
        (Some(t), Some(e), None) => Some((t, e)),
        _ => None,
    }
}

/// Whether the type is `Cleanup<…>`, by its last path segment.
fn is_cleanup(ty: &Type) -> Option<&Type> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != "Cleanup" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

/// Expand `#[dependency]`.
pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let mut app_scoped = false;
    if !attr.is_empty() {
        match syn::parse2::<syn::MetaNameValue>(attr.clone()) {
            Ok(nv) if nv.path.is_ident("scope") => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) if s.value() == "app" || s.value() == "request" => {
                    app_scoped = s.value() == "app";
                }
                other => errors.push(
                    other.span(),
                    "`scope` is \"request\" (the default: once per request) or \"app\" (once per app)",
                ),
            },
            _ => errors.push(
                attr.span(),
                "#[dependency] takes only `scope = \"app\"` or `scope = \"request\"`",
            ),
        }
    }
    let mut func: ItemFn = match syn::parse2(item) {
        Ok(f) => f,
        Err(e) => return e.to_compile_error(),
    };
    let params = parse_signature(&mut func, &[], "", "a dependency", &mut errors);
    if let Some(e) = errors.finish() {
        return e.to_compile_error();
    }

    let ident = &func.sig.ident;
    let is_async = func.sig.asyncness.is_some();
    let fallback_doc = if doc_text(&func.attrs).is_none() {
        let text = format!("Dependency `{ident}`.");
        quote!(#[doc = #text])
    } else {
        quote!()
    };

    // What the dependency provides, and how its return value becomes that.
    // A `Cleanup<T>` provides `T` and leaves its cleanup with the request.
    let register = |ty: &Type| -> (TokenStream, TokenStream) {
        match is_cleanup(ty) {
            Some(inner) => (quote!(#inner), quote!(v.register(__ctx))),
            None => (quote!(#ty), quote!(v)),
        }
    };
    let (output, convert) = match &func.sig.output {
        ReturnType::Default => (quote!(()), quote!(::hasten::__private::Some(__r))),
        ReturnType::Type(_, ty) => match result_parts(ty) {
            Some((ok, _err)) => {
                let (ok_out, take) = register(ok);
                (
                    quote!(#ok_out),
                    quote! {
                        match __r {
                            ::core::result::Result::Ok(v) => ::hasten::__private::Some(#take),
                            ::core::result::Result::Err(e) => {
                                __errors.reject_response(::hasten::__private::IntoResponse::into_response(e));
                                ::hasten::__private::None
                            }
                        }
                    },
                )
            }
            None => {
                let (out, take) = register(ty);
                (
                    quote!(#out),
                    quote!({ let v = __r; ::hasten::__private::Some(#take) }),
                )
            }
        },
    };

    let count = params.len();
    let specs = spec_tokens(&params, &[]);
    let body_uses = body_uses_const(&params);
    let specs_expr = quote!(#ident::__params());
    let describes = describe_tokens(&params, &specs_expr);
    let vars: Vec<_> = (0..count).map(|i| format_ident!("__a{}", i)).collect();
    let extracts = extract_tokens(
        &params,
        &vars,
        &quote!(__ctx),
        &quote!(__errors),
        &specs_expr,
    );
    let call = if is_async {
        quote!(let __r = #ident::__call(#(#vars),*).await;)
    } else {
        quote! {
            let __r = match ::hasten::__private::run_blocking_value(&*__ctx, move || #ident::__call(#(#vars),*)).await {
                ::core::result::Result::Ok(r) => r,
                ::core::result::Result::Err(resp) => {
                    __errors.reject_response(resp);
                    return ::hasten::__private::None;
                }
            };
        }
    };
    let unpack = if count == 0 {
        quote!()
    } else {
        quote! {
            let (#(::hasten::__private::Some(#vars),)*) = (#(#vars,)*) else {
                return ::hasten::__private::None;
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

        impl ::hasten::__private::Dependency for #ident {
            type Output = #output;
            const APP_SCOPED: bool = #app_scoped;

            #[allow(unused_variables)]
            fn resolve(
                __ctx: &mut ::hasten::__private::RequestCtx,
                __errors: &mut ::hasten::__private::Errors,
            ) -> impl ::core::future::Future<Output = ::hasten::__private::Option<Self::Output>> + ::core::marker::Send {
                async move {
                    let __outer = __errors.open_dependant();
                    #(#extracts)*
                    __errors.close_dependant(__outer);
                    #unpack
                    #call
                    #convert
                }
            }

            fn describe(__doc: &mut ::hasten::__private::OperationDoc) {
                let _ = &__doc;
                #(#describes)*
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_types_are_split() {
        let ty: Type = syn::parse_quote!(Result<User, HttpError>);
        let (ok, err) = result_parts(&ty).unwrap();
        assert_eq!(quote!(#ok).to_string(), "User");
        assert_eq!(quote!(#err).to_string(), "HttpError");
        let ty: Type = syn::parse_quote!(std::io::Result<User>);
        assert!(result_parts(&ty).is_none());
    }

    #[test]
    fn problems_are_reported() {
        let out = expand(quote!(x), quote! { async fn d(#[qurey] a: &str) {} }).to_string();
        assert!(out.contains("takes only `scope"), "{out}");
        assert!(out.contains("unknown parameter attribute"), "{out}");
        assert!(out.contains("cannot be a reference"), "{out}");
    }
}
