//! `SetResponse`: the status, headers and cookies a handler or its dependencies set,
//! merged into the handler's response, as FastAPI merges its `response: Response`.

use hasten::prelude::*;
use hasten::responses::{SameSite, SetCookie, SetResponse};
use hasten::testing::TestClient;
use serde_json::{json, Value};

/// Marks every response of the routes it guards, from a dependency: a header, and
/// the session cookie.
#[dependency]
async fn traced(response: SetResponse, #[header] x_trace: Option<String>) {
    response.append_header("x-trace", x_trace.unwrap_or_else(|| "none".into()));
    response.set_cookie(
        SetCookie::new("session", "abc123")
            .max_age(3600)
            .http_only(true)
            .secure(true)
            .same_site(Some(SameSite::Strict)),
    );
}

#[post("/login", status = 201)]
async fn login(response: SetResponse, _t: Depends<traced>) -> Json<Value> {
    response.append_header("x-login", "fresh");
    Json(json!({"ok": true}))
}

#[post("/accepted", status = 201)]
async fn accepted(response: SetResponse) -> Json<Value> {
    response.set_status(StatusCode::ACCEPTED);
    Json(json!({"queued": true}))
}

#[post("/logout")]
async fn logout(response: SetResponse) -> Json<Value> {
    response.delete_cookie("session");
    Json(json!({"bye": true}))
}

#[get("/fails")]
async fn fails(response: SetResponse, _t: Depends<traced>) -> Result<Json<Value>, HttpError> {
    response.append_header("x-half", "done");
    Err(HttpError::new(StatusCode::CONFLICT, "No"))
}

fn app() -> App {
    App::new()
        .route(login)
        .route(accepted)
        .route(logout)
        .route(fails)
}

#[tokio::test]
async fn a_cookie_from_a_dependency_and_a_header_from_the_handler_are_merged() {
    let c = TestClient::new(app());
    let resp = c.post("/login").header("x-trace", "t-1").send().await;
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.header("x-trace"), Some("t-1"));
    assert_eq!(resp.header("x-login"), Some("fresh"));
    assert_eq!(
        resp.header("set-cookie"),
        Some("session=abc123; HttpOnly; Max-Age=3600; Path=/; SameSite=strict; Secure")
    );
    assert_eq!(resp.json::<Value>(), json!({"ok": true}));
}

#[tokio::test]
async fn the_status_set_replaces_the_routes() {
    let c = TestClient::new(app());
    let resp = c.post("/accepted").send().await;
    assert_eq!(resp.status(), 202);
}

#[tokio::test]
async fn a_deleted_cookie_is_empty_and_expired() {
    let c = TestClient::new(app());
    let resp = c.post("/logout").send().await;
    let cookie = resp.header("set-cookie").unwrap().to_owned();
    assert!(cookie.starts_with("session=\"\"; expires="), "{cookie}");
    assert!(
        cookie.ends_with("GMT; Max-Age=0; Path=/; SameSite=lax"),
        "{cookie}"
    );
}

#[tokio::test]
async fn an_error_response_does_not_carry_them() {
    let c = TestClient::new(app());
    let resp = c.get("/fails").header("x-trace", "t-2").send().await;
    assert_eq!(resp.status(), 409);
    assert_eq!(resp.header("set-cookie"), None);
    assert_eq!(resp.header("x-trace"), None);
    assert_eq!(resp.json::<Value>(), json!({"detail": "No"}));
}
