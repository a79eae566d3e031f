//! The path-operation macros: `#[get]` … `#[route]`: parse, check, generate.

use proc_macro2::TokenStream;
use syn::spanned::Spanned;
use syn::ItemFn;

use crate::args::{parse_route_options, RouteArgs, WEBSOCKET};
use crate::codegen::generate;
use crate::errors::Errors;
use crate::params::parse_signature;
use crate::template::template_names;

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

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;
    use crate::doc::doc_text;

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
