//! Procedural macros for hasten: the path-operation attributes (`#[get]`, `#[post]` …,
//! `#[route]`) and `#[derive(ParamValue)]`. Use them through the `hasten` crate.
//!
//! A route macro turns the function into a (braced, empty) struct of the same name that
//! implements `hasten::operation::Endpoint`; the function itself is kept as `name::__call`. Every
//! problem in the signature is reported at once, each at the offending token.

use proc_macro::TokenStream;

mod args;
mod codegen;
mod dependency;
mod derive;
mod doc;
mod errors;
mod job;
mod params;
mod route;
mod template;

macro_rules! method_macro {
    ($($name:ident => $method:literal),* $(,)?) => {$(
        #[doc = concat!("A `", $method, "` path operation.")]
        ///
        /// ```
        /// use hasten::prelude::*;
        ///
        /// #[derive(Serialize, Deserialize, JsonSchema)]
        /// struct Item {
        ///     name: String,
        ///     price: f64,
        /// }
        ///
        /// /// The item, if the caller may see it.
        #[doc = concat!(" #[", stringify!($name), "(\"/items/{item_id}\", tags = [\"items\"], responses = [(404, \"No such item\")])]")]
        /// async fn item(
        ///     #[path(ge = 1)] item_id: u32,
        ///     #[query(max_length = 50)] q: Option<String>,
        ///     #[header] x_token: Option<String>,
        /// ) -> Result<Json<Item>, HttpError> {
        ///     let _ = (q, x_token);
        ///     match item_id {
        ///         1 => Ok(Json(Item { name: "Hammer".into(), price: 9.5 })),
        ///         _ => Err(HttpError::new(StatusCode::NOT_FOUND, "Item not found")),
        ///     }
        /// }
        ///
        /// let app = App::new().route(item);
        /// # let _ = app.build().unwrap();
        /// ```
        #[doc = include_str!("docs/options.md")]
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

/// A WebSocket operation.
///
/// Parameters are declared as for `#[get]` (path, query, header, cookie,
/// dependencies) plus one `hasten::ws::WebSocket`. Invalid input, or an `HttpError` from
/// a dependency, accepts and then closes the connection with code 1008 (policy
/// violation), the errors as the reason, as FastAPI does. The handler must be `async`;
/// its dependencies' cleanups and background tasks run when it returns. WebSocket
/// operations are not part of the OpenAPI document.
///
/// ```
/// use hasten::prelude::*;
///
/// /// Echo every text message, prefixed with the room's name.
/// #[websocket("/ws/{room}")]
/// async fn chat(mut socket: WebSocket, room: String, #[query(ge = 1)] limit: Option<u32>) {
///     if socket.accept().await.is_err() {
///         return;
///     }
///     let mut left = limit.unwrap_or(u32::MAX);
///     while left > 0 {
///         let Ok(text) = socket.receive_text().await else { return };
///         if socket.send_text(format!("{room}: {text}")).await.is_err() {
///             return;
///         }
///         left -= 1;
///     }
/// }
///
/// let app = App::new().route(chat);
/// # let _ = app.build().unwrap();
/// ```
#[proc_macro_attribute]
pub fn websocket(attr: TokenStream, item: TokenStream) -> TokenStream {
    route::expand(Some(args::WEBSOCKET), attr.into(), item.into()).into()
}

/// A path operation for several methods, with every option of `#[get]` and
/// `methods = [...]`.
///
/// ```
/// use hasten::prelude::*;
///
/// /// Read or replace the greeting.
/// #[route("/greeting", methods = ["GET", "PUT"], tags = ["greeting"])]
/// async fn greeting(method: hasten::Method) -> String {
///     format!("{method} /greeting")
/// }
///
/// let app = App::new().route(greeting);
/// # let _ = app.build().unwrap();
/// ```
#[doc = include_str!("docs/options.md")]
#[proc_macro_attribute]
pub fn route(attr: TokenStream, item: TokenStream) -> TokenStream {
    route::expand(None, attr.into(), item.into()).into()
}

/// A dependency, FastAPI's `Depends`.
///
/// Its parameters are declared like an endpoint's and extracted the same way; their
/// errors join the endpoint's 422. Operations take it as `Depends<current_user>`; it
/// runs at most once per request unless taken as `Depends<current_user, NoCache>`. A
/// `Result` return's `Err` (anything implementing `IntoResponse`) becomes the response;
/// a `Cleanup` return runs its cleanup after the response (FastAPI's `yield`). The
/// return type is read as written: `Result<T, E>`, `Cleanup<T>`,
/// `Result<Cleanup<T>, E>`, or any other type, provided as it is (an alias of `Result`
/// too). A plain (non-async) `fn` runs on the blocking pool.
///
/// Options: `scope = "app"` resolves it once for the whole app (its cleanup runs at
/// shutdown); `scope = "request"` is the default.
///
/// ```
/// use hasten::prelude::*;
///
/// struct User {
///     name: String,
/// }
///
/// /// The caller, from the `x-token` header.
/// #[dependency]
/// async fn current_user(#[header] x_token: String) -> Result<User, HttpError> {
///     match x_token.as_str() {
///         "secret" => Ok(User { name: "ann".into() }),
///         _ => Err(HttpError::new(StatusCode::UNAUTHORIZED, "Invalid token")),
///     }
/// }
///
/// /// A connection, returned to its pool after the response.
/// #[dependency]
/// async fn connection() -> Cleanup<String> {
///     Cleanup::new("conn-1".to_owned(), |conn, outcome: Outcome| async move {
///         let _ = (conn, outcome); // commit or roll back by the outcome
///     })
/// }
///
/// #[get("/me")]
/// async fn me(user: Depends<current_user>, conn: Depends<connection>) -> String {
///     format!("{} on {}", user.name, *conn)
/// }
///
/// let app = App::new().route(me);
/// # let _ = app.build().unwrap();
/// ```
#[proc_macro_attribute]
pub fn dependency(attr: TokenStream, item: TokenStream) -> TokenStream {
    dependency::expand(attr.into(), item.into()).into()
}

/// A durable job (hasten's cargo feature `jobs`): the function becomes a job that
/// `App::job` registers and `Jobs::enqueue` queues. Its one parameter that is not
/// `Depends<…>`, `State<…>` or `Jobs` is its arguments (a serde type, stored as
/// JSON); those three are made for each run, as for an endpoint.
///
/// Settings: `name = "…"` (the queue; the function's name unless set: keep it when
/// renaming the function, or queued jobs are orphaned), `max_attempts = 5`,
/// `timeout = "5m"` (per run) and `backoff = "1s"` (the first retry's delay, doubled
/// for each later one).
///
/// ```
/// use hasten::prelude::*;
/// use hasten::jobs::JobError;
///
/// #[derive(Serialize, Deserialize)]
/// pub struct Report {
///     day: String,
/// }
///
/// /// Build the day's report.
/// #[job(max_attempts = 3, timeout = "10m", backoff = "30s")]
/// pub async fn daily_report(report: Report, jobs: Jobs) -> Result<(), JobError> {
///     let _ = (report.day, jobs);
///     Ok(())
/// }
///
/// let app = App::new().job(daily_report);
/// # let _ = app;
/// ```
#[proc_macro_attribute]
pub fn job(attr: TokenStream, item: TokenStream) -> TokenStream {
    job::expand(attr.into(), item.into()).into()
}

/// Make an enum of unit variants a parameter type: a path, query, header or cookie
/// value, parsed by its wire name and documented as an `enum`.
///
/// Wire names follow `#[param(rename = "…")]` and `#[param(rename_all = "…")]`
/// (`lowercase`, `UPPERCASE`, `snake_case`, `kebab-case`, `camelCase` …), or the same
/// keys of `#[serde(…)]`, so one spelling serves the body and the parameters.
///
/// ```
/// use hasten::prelude::*;
///
/// /// A model family.
/// #[derive(ParamValue, Serialize, JsonSchema)]
/// #[serde(rename_all = "lowercase")]
/// enum ModelName {
///     Alexnet,
///     Resnet,
///     #[param(rename = "le-net")]
///     #[serde(rename = "le-net")]
///     Lenet,
/// }
///
/// #[get("/models/{model_name}")]
/// async fn model(model_name: ModelName) -> Json<ModelName> {
///     Json(model_name)
/// }
///
/// let app = App::new().route(model);
/// # let _ = app.build().unwrap();
/// ```
#[proc_macro_derive(ParamValue, attributes(param))]
pub fn derive_param_value(input: TokenStream) -> TokenStream {
    match syn::parse(input) {
        Ok(input) => derive::expand(input).into(),
        Err(e) => e.to_compile_error().into(),
    }
}
