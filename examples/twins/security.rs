//! Security schemes as parameters and dependencies: HTTP bearer tokens (required, and
//! optional with `auto_error=False`), API keys in a header, a query parameter and a
//! cookie, an OAuth2 bearer token read without scopes, dependencies that check a
//! credential and answer 401 or 403 with a `WWW-Authenticate` challenge, and a router
//! whose every operation needs an admin. Its FastAPI twin is
//! `tests/twin/apps/security.py`.
//!
//! The OAuth2 password flow with scopes and HTTP Basic are in `examples/oauth2.rs`.

use hasten::prelude::*;
use hasten::security::{
    ApiKey, ApiKeyCookie, ApiKeyHeader, ApiKeyQuery, HttpBearer, OAuth2Password,
    OAuth2PasswordBearer,
};
use serde_json::{json, Value};

/// The OAuth2 password flow: clients get tokens at `token`.
struct Auth;

impl OAuth2Password for Auth {
    const TOKEN_URL: &'static str = "token";
}

/// The API key of the `x-api-key` header.
struct HeaderKey;

impl ApiKey for HeaderKey {
    const NAME: &'static str = "x-api-key";
}

/// The API key of the `api_key` query parameter.
struct QueryKey;

impl ApiKey for QueryKey {
    const NAME: &'static str = "api_key";
}

/// The `session` cookie.
struct SessionCookie;

impl ApiKey for SessionCookie {
    const NAME: &'static str = "session";
}

/// The users, by bearer token.
const TOKENS: &[(&str, &str)] = &[("alice-token", "alice"), ("bob-token", "bob")];

/// The API keys, with what each gives access to.
const API_KEYS: &[(&str, &str)] = &[("k3y", "reports")];

/// The user a token belongs to.
fn user_of(token: &str) -> Option<&'static str> {
    TOKENS.iter().find(|(t, _)| *t == token).map(|(_, u)| *u)
}

/// The user the bearer token belongs to; 401 with a challenge for an unknown one.
#[dependency]
async fn current_user(credentials: HttpBearer) -> Result<String, HttpError> {
    match user_of(&credentials.credentials) {
        Some(user) => Ok(user.to_owned()),
        None => Err(HttpError::new(StatusCode::UNAUTHORIZED, "Invalid token")
            .with_header("www-authenticate", "Bearer error=\"invalid_token\"")),
    }
}

/// The current user, if an admin; 403 otherwise.
#[dependency]
async fn admin_user(user: Depends<current_user>) -> Result<String, HttpError> {
    if *user != "alice" {
        return Err(HttpError::new(StatusCode::FORBIDDEN, "Not an admin"));
    }
    Ok((*user).clone())
}

/// The API key of the `x-api-key` header, if it is known; 403 otherwise.
#[dependency]
async fn verify_api_key(key: ApiKeyHeader<HeaderKey>) -> Result<String, HttpError> {
    match API_KEYS.iter().find(|(k, _)| *k == key.key()) {
        Some((_, scope)) => Ok((*scope).to_owned()),
        None => Err(HttpError::new(StatusCode::FORBIDDEN, "Invalid API key")),
    }
}

/// The user the bearer token belongs to.
#[get("/me")]
async fn read_me(user: Depends<current_user>) -> Json<Value> {
    Json(json!({ "user": *user }))
}

/// A greeting: personal with a known bearer token, for a guest otherwise.
#[get("/greeting")]
async fn greeting(credentials: Option<HttpBearer>) -> Json<Value> {
    let name = credentials
        .and_then(|c| user_of(&c.credentials))
        .unwrap_or("guest");
    Json(json!({ "greeting": format!("Hello, {name}") }))
}

/// What the OAuth2 bearer token says.
#[get("/token-info")]
async fn token_info(token: OAuth2PasswordBearer<Auth>) -> Result<Json<Value>, HttpError> {
    let Some(user) = user_of(token.token()) else {
        return Err(
            HttpError::new(StatusCode::UNAUTHORIZED, "Could not validate credentials")
                .with_header("www-authenticate", "Bearer"),
        );
    };
    Ok(Json(json!({ "token": token.token(), "user": user })))
}

/// Reports, for a known API key.
#[get("/reports")]
async fn read_reports(scope: Depends<verify_api_key>) -> Json<Value> {
    Json(json!({ "scope": *scope, "reports": ["daily", "weekly"] }))
}

/// An export, with the API key in the query string.
#[get("/export")]
async fn export(key: ApiKeyQuery<QueryKey>) -> Json<Value> {
    Json(json!({ "key_length": key.key().chars().count() }))
}

/// Preferences: the session cookie's, or the defaults.
#[get("/prefs")]
async fn read_prefs(session: Option<ApiKeyCookie<SessionCookie>>) -> Json<Value> {
    let session = session.map(|s| s.key().to_owned());
    let theme = if session.is_some() { "dark" } else { "light" };
    Json(json!({ "session": session, "theme": theme }))
}

/// Statistics, for admins.
#[get("/stats")]
async fn read_stats() -> Json<Value> {
    Json(json!({ "users": TOKENS.len() }))
}

/// Delete a user, as an admin.
#[delete("/users/{user_id}", status = 204)]
async fn delete_user(user_id: i64) {
    let _ = user_id;
}

/// The app.
pub(crate) fn app() -> App {
    App::new()
        .title("security")
        .version("1.0.0")
        .route(read_me)
        .route(greeting)
        .route(token_info)
        .route(read_reports)
        .route(export)
        .route(read_prefs)
        .include(
            Router::new()
                .prefix("/admin")
                .tag("admin")
                .dependency::<admin_user>()
                .route(read_stats)
                .route(delete_user),
        )
}
