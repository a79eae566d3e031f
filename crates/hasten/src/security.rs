//! Security schemes: extractors that read credentials and also document themselves in
//! the OpenAPI document (`components/securitySchemes` and each operation's `security`),
//! so Swagger UI's "Authorize" button works.
//!
//! | type | reads | without credentials |
//! |---|---|---|
//! | [`OAuth2PasswordBearer<C>`] | `Authorization: Bearer <token>` | 401, `WWW-Authenticate: Bearer` |
//! | [`HttpBearer`] | `Authorization: Bearer <token>` | 401, `WWW-Authenticate: Bearer` |
//! | [`HttpBasic`] | `Authorization: Basic <base64>` | 401, `WWW-Authenticate: Basic` |
//! | [`ApiKeyHeader<C>`], [`ApiKeyQuery<C>`], [`ApiKeyCookie<C>`] | the named header, query parameter or cookie | 401, `WWW-Authenticate: APIKey` |
//!
//! The 401 body is FastAPI's `{"detail":"Not authenticated"}`. Wrap a scheme in `Option`
//! for an optional mode (FastAPI's `auto_error=False`): missing or malformed credentials
//! give `None` instead of a 401.
//!
//! Scopes: `#[security(scopes = ["items"])]` on a `Depends<…>` parameter requires those
//! OAuth2 scopes; they accumulate through the dependency graph, show up in the
//! operation's `security` entry, and reach the dependencies below as [`SecurityScopes`].
//!
//! ```
//! use hasten::prelude::*;
//! use hasten::security::{OAuth2PasswordBearer, OAuth2Password, SecurityScopes};
//!
//! /// How clients get a token.
//! struct Auth;
//! impl OAuth2Password for Auth {
//!     const TOKEN_URL: &'static str = "/token";
//!     const SCOPES: &'static [(&'static str, &'static str)] = &[("items", "Read items.")];
//! }
//!
//! /// The caller, from the bearer token, if it grants every scope required.
//! #[dependency]
//! async fn current_user(scopes: SecurityScopes, token: OAuth2PasswordBearer<Auth>) -> Result<String, HttpError> {
//!     let granted: Vec<&str> = token.token().split(',').collect();
//!     if scopes.scopes.iter().any(|s| !granted.contains(&s.as_str())) {
//!         return Err(HttpError::new(StatusCode::UNAUTHORIZED, "Not enough permissions")
//!             .with_header("www-authenticate", format!("Bearer scope=\"{}\"", scopes.scope_str())));
//!     }
//!     Ok("ann".to_owned())
//! }
//!
//! #[get("/items")]
//! async fn items(#[security(scopes = ["items"])] user: Depends<current_user>) -> String {
//!     format!("items of {}", *user)
//! }
//! # let _ = App::new().route(items).build().unwrap();
//! ```

use std::marker::PhantomData;

use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::StatusCode;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::extract::{Errors, Extracted, FromRequest, ParamSpec, RequestCtx};
use crate::openapi::model::OperationDoc;
use crate::HttpError;

pub use crate::openapi::model::SecurityRequirement;

fn not_authenticated(challenge: &'static str) -> HttpError {
    HttpError::new(StatusCode::UNAUTHORIZED, "Not authenticated")
        .with_header(WWW_AUTHENTICATE, challenge)
}

/// `Authorization: <scheme> <credentials>`, split; `None` when absent or not UTF-8.
fn authorization(ctx: &RequestCtx) -> Option<(&str, &str)> {
    let value = ctx.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let value = value.trim();
    match value.split_once(' ') {
        Some((scheme, rest)) => Some((scheme, rest.trim())),
        None => Some((value, "")),
    }
}

/// Settings of an OAuth2 password flow, on a type of yours:
/// `impl OAuth2Password for Auth { const TOKEN_URL: &'static str = "/token"; }`.
pub trait OAuth2Password: Send + Sync + 'static {
    /// Where clients post `username` and `password` for a token.
    const TOKEN_URL: &'static str;
    /// The scopes the API knows, with their descriptions.
    const SCOPES: &'static [(&'static str, &'static str)] = &[];
    /// Where clients refresh a token, if anywhere.
    const REFRESH_URL: Option<&'static str> = None;
    /// The scheme's name in the document.
    const SCHEME_NAME: &'static str = "OAuth2PasswordBearer";
    /// A description for the document.
    const DESCRIPTION: Option<&'static str> = None;
}

/// A bearer token from an OAuth2 password flow (FastAPI's `OAuth2PasswordBearer`).
/// Dereferences to the token.
pub struct OAuth2PasswordBearer<C: OAuth2Password> {
    token: String,
    _config: PhantomData<fn() -> C>,
}

impl<C: OAuth2Password> OAuth2PasswordBearer<C> {
    /// The token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The token, owned.
    pub fn into_token(self) -> String {
        self.token
    }

    fn read(ctx: &RequestCtx) -> Option<Self> {
        // As FastAPI's: the scheme must be Bearer; the token may be empty (it is the
        // handler's to refuse, with its own answer).
        match authorization(ctx) {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
                Some(OAuth2PasswordBearer {
                    token: token.to_owned(),
                    _config: PhantomData,
                })
            }
            _ => None,
        }
    }

    fn describe(doc: &mut OperationDoc) {
        let scopes: serde_json::Map<String, Value> = C::SCOPES
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect();
        let mut flow = json!({ "scopes": scopes, "tokenUrl": C::TOKEN_URL });
        if let Some(r) = C::REFRESH_URL {
            flow["refreshUrl"] = json!(r);
        }
        let mut scheme = json!({ "type": "oauth2", "flows": { "password": flow } });
        if let Some(d) = C::DESCRIPTION {
            scheme["description"] = json!(d);
        }
        let scopes = doc
            .describer
            .scopes
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        doc.require(SecurityRequirement {
            name: C::SCHEME_NAME.into(),
            scheme,
            scopes,
        });
    }
}

impl<C: OAuth2Password> std::ops::Deref for OAuth2PasswordBearer<C> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.token
    }
}

impl<C: OAuth2Password> std::fmt::Debug for OAuth2PasswordBearer<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OAuth2PasswordBearer(..)")
    }
}

impl<C: OAuth2Password> FromRequest for OAuth2PasswordBearer<C> {
    async fn from_request(
        ctx: &mut RequestCtx,
        _spec: &'static ParamSpec,
        errors: &mut Errors,
    ) -> Extracted<Self> {
        let found = Self::read(ctx);
        if found.is_none() {
            errors.reject(not_authenticated("Bearer"));
        }
        found
    }

    fn describe(_spec: &'static ParamSpec, doc: &mut OperationDoc) {
        Self::describe(doc);
    }
}

impl<C: OAuth2Password> FromRequest for Option<OAuth2PasswordBearer<C>> {
    async fn from_request(
        ctx: &mut RequestCtx,
        _spec: &'static ParamSpec,
        _errors: &mut Errors,
    ) -> Extracted<Self> {
        Some(OAuth2PasswordBearer::read(ctx))
    }

    fn describe(_spec: &'static ParamSpec, doc: &mut OperationDoc) {
        OAuth2PasswordBearer::<C>::describe(doc);
    }
}

/// The form a client posts to the token URL of an OAuth2 password flow (FastAPI's
/// `OAuth2PasswordRequestForm`); take it as a parameter of the token operation.
///
/// As in FastAPI, its fields are read as separate form fields: a missing one is
/// reported with `"input": null`. (Taken as `Form<OAuth2PasswordRequestForm>` it is a
/// form model instead, and a missing field's input is the fields sent.)
///
/// ```
/// use hasten::prelude::*;
/// use hasten::security::OAuth2PasswordRequestForm;
///
/// #[post("/token")]
/// async fn token(form: OAuth2PasswordRequestForm) -> String {
///     form.username
/// }
/// # let _ = App::new().route(token);
/// ```
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct OAuth2PasswordRequestForm {
    /// Must be `password` when given.
    #[schemars(regex(pattern = "^password$"))]
    pub grant_type: Option<String>,
    /// The user name.
    pub username: String,
    /// The password.
    #[schemars(extend("format" = "password"))]
    pub password: String,
    /// Requested scopes, separated by spaces.
    #[serde(default)]
    pub scope: String,
    /// The client's id, if it sends one.
    pub client_id: Option<String>,
    /// The client's secret, if it sends one.
    #[schemars(extend("format" = "password"))]
    pub client_secret: Option<String>,
}

impl FromRequest for OAuth2PasswordRequestForm {
    const BODY: crate::extract::BodyUse = crate::extract::BodyUse::FormModel;

    async fn from_request(
        ctx: &mut RequestCtx,
        _spec: &'static ParamSpec,
        errors: &mut Errors,
    ) -> Extracted<Self> {
        crate::form::read_form(ctx, crate::validation::compiled::Mode::FormFields, errors).await
    }

    fn describe(_spec: &'static ParamSpec, doc: &mut OperationDoc) {
        // Documented as FastAPI documents its form of separate fields: a
        // `Body_<operationId>` component, the fields without descriptions.
        doc.body = Some(crate::openapi::model::BodyDoc {
            content_types: vec![crate::response::FORM_URLENCODED],
            required: true,
            schema: crate::openapi::model::SchemaDoc::Of(|generator| {
                let mut schema = <Self as JsonSchema>::json_schema(generator);
                schema.remove("description");
                if let Some(serde_json::Value::Object(props)) = schema.get_mut("properties") {
                    for prop in props.values_mut() {
                        if let serde_json::Value::Object(p) = prop {
                            p.remove("description");
                        }
                    }
                }
                schema
            }),
            check: crate::validation::body::check_schema::<Self>,
            name: None,
            per_operation: true,
        });
    }
}

impl OAuth2PasswordRequestForm {
    /// The requested scopes: `scope` split on whitespace.
    pub fn scopes(&self) -> Vec<&str> {
        self.scope.split_whitespace().collect()
    }
}

/// The scopes required on the way from the operation to the dependency taking this
/// (FastAPI's `SecurityScopes`), outermost first, each once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecurityScopes {
    /// The scopes.
    pub scopes: Vec<String>,
}

impl SecurityScopes {
    /// The scopes separated by spaces, as in a `WWW-Authenticate` header.
    pub fn scope_str(&self) -> String {
        self.scopes.join(" ")
    }
}

impl FromRequest for SecurityScopes {
    async fn from_request(
        ctx: &mut RequestCtx,
        _spec: &'static ParamSpec,
        _errors: &mut Errors,
    ) -> Extracted<Self> {
        let mut scopes: Vec<String> = Vec::new();
        for s in crate::depends::current_scopes(ctx) {
            if !scopes.iter().any(|x| x == s) {
                scopes.push((*s).to_owned());
            }
        }
        Some(SecurityScopes { scopes })
    }
}

/// The credentials of HTTP Basic authentication (FastAPI's `HTTPBasic`).
#[derive(Clone, PartialEq, Eq)]
pub struct HttpBasic {
    /// The user name.
    pub username: String,
    /// The password.
    pub password: String,
}

impl std::fmt::Debug for HttpBasic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpBasic")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl HttpBasic {
    /// `Ok(None)`: no Basic credentials; `Err`: malformed ones.
    fn read(ctx: &RequestCtx) -> Result<Option<Self>, ()> {
        let Some((scheme, param)) = authorization(ctx) else {
            return Ok(None);
        };
        if !scheme.eq_ignore_ascii_case("basic") {
            return Ok(None);
        }
        let decoded = base64_decode(param).ok_or(())?;
        let text = String::from_utf8(decoded).map_err(|_| ())?;
        let (user, pass) = text.split_once(':').ok_or(())?;
        Ok(Some(HttpBasic {
            username: user.to_owned(),
            password: pass.to_owned(),
        }))
    }

    fn describe(doc: &mut OperationDoc) {
        doc.require(SecurityRequirement {
            name: "HTTPBasic".into(),
            scheme: json!({ "type": "http", "scheme": "basic" }),
            scopes: Vec::new(),
        });
    }
}

/// A bearer token (FastAPI's `HTTPBearer`; the document says `scheme: bearer` rather
/// than an OAuth2 flow).
#[derive(Clone, PartialEq, Eq)]
pub struct HttpBearer {
    /// The token.
    pub credentials: String,
}

impl std::fmt::Debug for HttpBearer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HttpBearer(..)")
    }
}

impl HttpBearer {
    /// `Ok(None)`: no `Authorization` header; `Err`: another scheme or no token.
    fn read(ctx: &RequestCtx) -> Result<Option<Self>, ()> {
        match authorization(ctx) {
            None => Ok(None),
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() => {
                Ok(Some(HttpBearer {
                    credentials: token.to_owned(),
                }))
            }
            Some(_) => Err(()),
        }
    }

    fn describe(doc: &mut OperationDoc) {
        doc.require(SecurityRequirement {
            name: "HTTPBearer".into(),
            scheme: json!({ "type": "http", "scheme": "bearer" }),
            scopes: Vec::new(),
        });
    }
}

/// `FromRequest` for an `Authorization` scheme type with `read` and `describe`, and
/// for its `Option` (no or malformed credentials give `None`).
macro_rules! authorization_scheme {
    ($ty:ident, $challenge:literal) => {
        impl FromRequest for $ty {
            async fn from_request(
                ctx: &mut RequestCtx,
                _spec: &'static ParamSpec,
                errors: &mut Errors,
            ) -> Extracted<Self> {
                match Self::read(ctx) {
                    Ok(Some(c)) => Some(c),
                    Ok(None) => {
                        errors.reject(not_authenticated($challenge));
                        None
                    }
                    // Malformed credentials or another scheme: FastAPI 0.165 answers
                    // both like missing ones.
                    Err(()) => {
                        errors.reject(not_authenticated($challenge));
                        None
                    }
                }
            }

            fn describe(_spec: &'static ParamSpec, doc: &mut OperationDoc) {
                Self::describe(doc);
            }
        }

        impl FromRequest for Option<$ty> {
            async fn from_request(
                ctx: &mut RequestCtx,
                _spec: &'static ParamSpec,
                _errors: &mut Errors,
            ) -> Extracted<Self> {
                Some($ty::read(ctx).ok().flatten())
            }

            fn describe(_spec: &'static ParamSpec, doc: &mut OperationDoc) {
                $ty::describe(doc);
            }
        }
    };
}

authorization_scheme!(HttpBasic, "Basic");
authorization_scheme!(HttpBearer, "Bearer");

/// Settings of an API key scheme, on a type of yours:
/// `impl ApiKey for Key { const NAME: &'static str = "x-api-key"; }`.
pub trait ApiKey: Send + Sync + 'static {
    /// The header, query parameter or cookie that carries the key.
    const NAME: &'static str;
    /// The scheme's name in the document (FastAPI's default is the class name).
    const SCHEME_NAME: Option<&'static str> = None;
    /// A description for the document.
    const DESCRIPTION: Option<&'static str> = None;
}

macro_rules! api_key {
    ($(#[$doc:meta])* $name:ident, $location:literal, $default_name:literal, $read:expr) => {
        $(#[$doc])*
        pub struct $name<C: ApiKey> {
            key: String,
            _config: PhantomData<fn() -> C>,
        }

        impl<C: ApiKey> $name<C> {
            /// The key.
            pub fn key(&self) -> &str {
                &self.key
            }

            fn read(ctx: &mut RequestCtx) -> Option<Self> {
                let read: fn(&mut RequestCtx, &str) -> Option<String> = $read;
                read(ctx, C::NAME)
                    .filter(|k| !k.is_empty())
                    .map(|key| $name { key, _config: PhantomData })
            }

            fn describe(doc: &mut OperationDoc) {
                let mut scheme = json!({ "type": "apiKey", "in": $location, "name": C::NAME });
                if let Some(d) = C::DESCRIPTION {
                    scheme["description"] = json!(d);
                }
                doc.require(SecurityRequirement {
                    name: C::SCHEME_NAME.unwrap_or($default_name).into(),
                    scheme,
                    scopes: Vec::new(),
                });
            }
        }

        impl<C: ApiKey> std::ops::Deref for $name<C> {
            type Target = str;
            fn deref(&self) -> &str {
                &self.key
            }
        }

        impl<C: ApiKey> std::fmt::Debug for $name<C> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "(..)"))
            }
        }

        impl<C: ApiKey> FromRequest for $name<C> {
            async fn from_request(
                ctx: &mut RequestCtx,
                _spec: &'static ParamSpec,
                errors: &mut Errors,
            ) -> Extracted<Self> {
                let found = Self::read(ctx);
                if found.is_none() {
                    errors.reject(not_authenticated("APIKey"));
                }
                found
            }

            fn describe(_spec: &'static ParamSpec, doc: &mut OperationDoc) {
                Self::describe(doc);
            }
        }

        impl<C: ApiKey> FromRequest for Option<$name<C>> {
            async fn from_request(
                ctx: &mut RequestCtx,
                _spec: &'static ParamSpec,
                _errors: &mut Errors,
            ) -> Extracted<Self> {
                Some($name::read(ctx))
            }

            fn describe(_spec: &'static ParamSpec, doc: &mut OperationDoc) {
                $name::<C>::describe(doc);
            }
        }
    };
}

api_key!(
    /// An API key from a header (FastAPI's `APIKeyHeader`). Dereferences to the key.
    ApiKeyHeader, "header", "APIKeyHeader",
    |ctx, name| ctx.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
);
api_key!(
    /// An API key from a query parameter (FastAPI's `APIKeyQuery`). Dereferences to the key.
    ApiKeyQuery, "query", "APIKeyQuery",
    |ctx, name| ctx.query_pairs().iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone())
);
api_key!(
    /// An API key from a cookie (FastAPI's `APIKeyCookie`). Dereferences to the key.
    ApiKeyCookie, "cookie", "APIKeyCookie",
    |ctx, name| crate::extract::cookie(ctx.headers(), name)
);

/// Standard base64 (with or without padding); `None` when malformed.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let s = s.trim_end_matches('=').as_bytes();
    if s.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    for chunk in s.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= value(*c)? << (18 - 6 * i);
        }
        out.push((n >> 16) as u8);
        if chunk.len() > 2 {
            out.push((n >> 8) as u8);
        }
        if chunk.len() > 3 {
            out.push(n as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        assert_eq!(base64_decode("am9objpzZWNyZXQ=").unwrap(), b"john:secret");
        assert_eq!(base64_decode("am9objpzZWNyZXQ").unwrap(), b"john:secret");
        assert_eq!(base64_decode("YQ==").unwrap(), b"a");
        assert_eq!(base64_decode("YWI=").unwrap(), b"ab");
        assert!(base64_decode("a").is_none());
        assert!(base64_decode("!!!!").is_none());
    }
}
