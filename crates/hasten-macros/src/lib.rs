//! Procedural macros for hasten: the path-operation attributes (`#[get]`, `#[post]` …,
//! `#[route]`) and `#[derive(ParamValue)]`. Use them through the `hasten` crate.
//!
//! A route macro turns the function into a (braced, empty) struct of the same name that
//! implements `hasten::operation::Endpoint`; the function itself is kept as `name::__call`. Every
//! problem in the signature is reported at once, each at the offending token.

use proc_macro::TokenStream;

mod dependency;
mod derive;
mod errors;
mod route;

macro_rules! method_macro {
    ($($name:ident => $method:literal),* $(,)?) => {$(
        #[doc = concat!("A `", $method, "` path operation: `#[", stringify!($name), "(\"/path/{param}\", status = 200, tags = [\"…\"], summary = \"…\", operation_id = \"…\", deprecated, include_in_schema = false)]`.")]
        ///
        /// Parameters named in the path template are path parameters; plain scalars are
        /// query parameters; `Json<T>`, `Form<T>`, `Bytes` read the body. Parameter
        /// attributes `#[path]`, `#[query]`, `#[header]`, `#[cookie]`, `#[form]`, `#[body]`
        /// set the source and take `gt ge lt le min_length max_length pattern alias default
        /// deprecated title description example` (and `convert_underscores` for headers).
        /// A plain (non-async) `fn` runs on the blocking pool.
        #[proc_macro_attribute]
        pub fn $name(attr: TokenStream, item: TokenStream) -> TokenStream {
            route::expand(Some($method), attr.into(), item.into()).into()
        }
    )*};
}

method_macro! {
    get => "GET",
    post => "POST",
    put => "PUT",
    patch => "PATCH",
    delete => "DELETE",
    options => "OPTIONS",
    head => "HEAD",
}

/// A WebSocket operation: `#[websocket("/ws/{room}")] async fn chat(socket: WebSocket, room: String)`.
///
/// Parameters are declared as for `#[get]` (path, query, header, cookie,
/// dependencies) plus one `hasten::ws::WebSocket`; an input error accepts and closes
/// the connection with code 1008, the errors as the reason. The handler must be
/// `async`. WebSocket operations are not part of the OpenAPI document.
#[proc_macro_attribute]
pub fn websocket(attr: TokenStream, item: TokenStream) -> TokenStream {
    route::expand(Some(route::WEBSOCKET), attr.into(), item.into()).into()
}

/// A path operation for several methods:
/// `#[route("/path", methods = ["GET", "POST"], …)]`, with the same options as `#[get]`.
#[proc_macro_attribute]
pub fn route(attr: TokenStream, item: TokenStream) -> TokenStream {
    route::expand(None, attr.into(), item.into()).into()
}

/// A dependency: `#[dependency] async fn current_user(#[header] x_token: String) -> Result<User, HttpError>`.
///
/// Its parameters are declared like an endpoint's and extracted the same way; their
/// errors join the endpoint's 422. Operations take it as `Depends<current_user>`; it
/// runs at most once per request unless taken as `Depends<current_user, NoCache>`.
/// A `Result` return's `Err` (anything implementing `IntoResponse`) becomes the
/// response. A plain (non-async) `fn` runs on the blocking pool.
#[proc_macro_attribute]
pub fn dependency(attr: TokenStream, item: TokenStream) -> TokenStream {
    dependency::expand(attr.into(), item.into()).into()
}

/// Derive `hasten::ParamValue` for an enum of unit variants, so it can be a path, query,
/// header or cookie parameter. Wire names follow `#[param(rename = "…")]` /
/// `#[param(rename_all = "…")]`, or the same keys of `#[serde(…)]`.
#[proc_macro_derive(ParamValue, attributes(param))]
pub fn derive_param_value(input: TokenStream) -> TokenStream {
    match syn::parse(input) {
        Ok(input) => derive::expand(input).into(),
        Err(e) => e.to_compile_error().into(),
    }
}
