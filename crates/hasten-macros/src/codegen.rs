//! What the route macros generate: the statics that describe the operation, and
//! the handler that extracts its parameters and calls the function.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, ItemFn, ReturnType, Type};

use crate::args::RouteOptions;
use crate::doc::doc_text;
use crate::errors::Errors;
use crate::params::{alias_types, example_json, last_segment, Param, Source};

pub(crate) fn opt_str(v: &Option<String>) -> TokenStream {
    match v {
        Some(s) => quote!(::hasten::__private::Some(#s)),
        None => quote!(::hasten::__private::None),
    }
}

pub(crate) fn opt_tokens(v: &Option<TokenStream>) -> TokenStream {
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

/// The braced struct a macro turns a function into: the function's docs (or
/// `fallback_doc`), the function itself kept as `__call`, and `members` beside it.
///
/// The struct lives only in the type namespace (it is braced) and a function of the
/// same name only in the value namespace, so a variable or parameter may share the
/// handler's name: `async fn item(item: Json<Item>)` works.
pub(crate) fn item_struct(
    func: &ItemFn,
    fallback_doc: &TokenStream,
    members: TokenStream,
) -> TokenStream {
    let vis = &func.vis;
    let ident = &func.sig.ident;
    let docs = func.attrs.iter().filter(|a| a.path().is_ident("doc"));
    let inner = as_call(func);
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

            #members
        }
    }
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
pub(crate) fn body_use(i: usize) -> TokenStream {
    quote!(__BODY_USES[#i])
}

/// How each of `params` uses the request body: a `BodyUse` constant expression.
pub(crate) fn body_uses(params: &[Param]) -> Vec<TokenStream> {
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
                Some(Source::Body) => quote!(#own.body_param()),
                Some(Source::Form) => quote_spanned!(span=> #own.form_param()),
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
                Some(source) => {
                    let source = source.tokens();
                    quote!(::hasten::__private::Some(#source))
                }
                None => quote!(::hasten::__private::None),
            };
            let wire = a.alias.clone().unwrap_or_else(|| p.name.clone());
            let in_path = names.contains(&wire);
            let convert = a.convert_underscores.unwrap_or(true);
            // A header's wire name (`user_agent` -> `user-agent`) is worked out here, once,
            // rather than on every request.
            let header_wire = matches!(a.source, Some(Source::Header)).then(|| match &a.alias {
                Some(alias) => alias.clone(),
                None if convert => p.name.replace('_', "-"),
                None => p.name.clone(),
            });
            let alias = match (&a.alias, &header_wire) {
                (None, Some(wire)) if *wire != p.name => opt_str(&Some(wire.clone())),
                (alias, _) => opt_str(alias),
            };
            // The same name as `HeaderName` wants it (lower case), when it is a valid one;
            // otherwise it is parsed from the wire name when read.
            let header_name = match header_wire.map(|w| w.to_ascii_lowercase()) {
                Some(wire)
                    if !wire.is_empty()
                        && wire.bytes().all(|b| {
                            b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
                        }) =>
                {
                    quote!({
                        static NAME: ::hasten::__private::HeaderName =
                            ::hasten::__private::HeaderName::from_static(#wire);
                        ::hasten::__private::Some(&NAME)
                    })
                }
                _ => quote!(::hasten::__private::None),
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
                    header_name: #header_name,
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
        // One block per parameter: the steps' bindings end inside it, so the
        // handler's future keeps only the final value across later awaits.
        quote! { let #var = { #extract #rule #validator #var }; }
    }).collect()
}

/// The documentation of the success response, from the return type: the type's own
/// `DescribeResponse` when it has one, else "JSON of any shape".
pub(crate) fn response_doc_tokens(output: &ReturnType) -> TokenStream {
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
pub(crate) struct OpaqueToUnit;

impl syn::visit_mut::VisitMut for OpaqueToUnit {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if matches!(ty, Type::ImplTrait(_)) {
            *ty = syn::parse_quote!(());
        } else {
            syn::visit_mut::visit_type_mut(self, ty);
        }
    }
}

pub(crate) fn generate(
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
    // The handler's future: as it is, or on the blocking pool (answering a response).
    let make_call = if is_async {
        quote! {
            let __call = #ident::__call(#(#vars),*);
        }
    } else {
        quote! {
            let __call = ::hasten::__private::run_blocking(&__ctx, move || {
                ::hasten::__private::IntoResponse::into_response(#ident::__call(#(#vars),*))
            });
        }
    };
    let call = quote! {
        #make_call
        // An untraced request awaits the handler as it is.
        let __out = if __traced {
            ::hasten::__private::Instrument::instrument(
                __call,
                ::hasten::__private::handler_span(&__ctx, #fn_name),
            ).await
        } else {
            __call.await
        };
        let __resp = ::hasten::__private::IntoResponse::into_response(__out);
        #through_model
        return match ::hasten::__private::respond(&mut __ctx, __resp) {
            ::hasten::__private::Ok(__resp) => __resp,
            ::hasten::__private::Err(__rest) => __rest.await,
        };
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
        // The validation span times the input's reading: made here, closed below. It
        // is not entered (the dependencies' spans name the request's as their parent).
        let __traced = ::hasten::__private::traced(&__ctx);
        let __span = if __traced {
            ::hasten::__private::Some(::hasten::__private::validation_span(&__ctx))
        } else {
            ::hasten::__private::None
        };
        if ::hasten::__private::has_attached_dependencies(&__ctx) {
            ::hasten::__private::run_attached_dependencies(&mut __ctx, &mut __errors).await;
        }
        #(#extracts)*
        ::hasten::__private::drop(__span);
        #guarded_call
        match ::hasten::__private::refuse(&mut __ctx, __errors) {
            ::hasten::__private::Ok(__resp) => __resp,
            ::hasten::__private::Err(__rest) => __rest.await,
        }
    };

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
    let rate_limit = o.rate_limit.as_ref().map(|spec| {
        let key = match &o.rate_limit_key {
            None | Some(crate::args::RateKey::Client) => quote!(),
            Some(crate::args::RateKey::User) => quote!(.by_user()),
            Some(crate::args::RateKey::Header(h)) => quote!(.by_header(#h)),
            Some(crate::args::RateKey::Function(f)) => quote!(.by(#f)),
        };
        quote!(.rate_limit(::hasten::rate_limit::RateLimit::new(#spec) #key))
    });

    let item = item_struct(
        func,
        &fallback_doc,
        quote! {
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
                #rate_limit
            }
        },
    );
    quote! {
        #item

        #(#docs)*
        #fallback_doc
        #vis fn #ident() -> ::hasten::__private::Operation {
            #ident::__operation()
        }
    }
}
