//! `response_model = T` filters and converts the success body, as FastAPI's does.

use hasten::prelude::*;
use hasten::testing::TestClient;
use serde_json::{json, Value};

/// A user as stored: with the hash that must never leave the server.
#[derive(Serialize)]
struct UserInDb {
    username: String,
    email: Option<String>,
    full_name: Option<String>,
    hashed_password: String,
    disabled: bool,
}

/// A user as sent.
#[derive(Serialize, Deserialize, JsonSchema)]
struct UserOut {
    username: String,
    email: Option<String>,
    full_name: Option<String>,
    #[serde(default)]
    disabled: bool,
}

fn stored() -> UserInDb {
    UserInDb {
        username: "ann".into(),
        email: Some("ann@example.com".into()),
        full_name: None,
        hashed_password: "secret-hash".into(),
        disabled: false,
    }
}

#[get("/users/me", response_model = UserOut)]
async fn me() -> Json<UserInDb> {
    Json(stored())
}

#[get("/users/me/none", response_model = UserOut, response_model_exclude_none)]
async fn me_no_nulls() -> Json<UserInDb> {
    Json(stored())
}

#[get("/users/me/defaults", response_model = UserOut, response_model_exclude_defaults)]
async fn me_no_defaults() -> Json<UserInDb> {
    Json(stored())
}

/// The handler's body leaves `disabled` out; the model would fill it in.
#[get("/users/me/unset", response_model = UserOut, response_model_exclude_unset)]
async fn me_unset() -> Json<Value> {
    Json(json!({"username": "ann", "email": null, "full_name": null}))
}

#[get(
    "/users/me/fields",
    response_model = UserOut,
    response_model_include = ["username", "email", "disabled"],
    response_model_exclude = ["disabled"]
)]
async fn me_fields() -> Json<UserInDb> {
    Json(stored())
}

/// A body that does not fit the model: the server's mistake.
#[get("/users/broken", response_model = UserOut)]
async fn broken() -> Json<Value> {
    Json(json!({"email": "no-name@example.com"}))
}

/// Errors are not filtered.
#[get("/users/missing", response_model = UserOut)]
async fn missing() -> Result<Json<UserInDb>, HttpError> {
    Err(HttpError::new(StatusCode::NOT_FOUND, "No such user"))
}

fn app() -> App {
    App::new()
        .route(me)
        .route(me_no_nulls)
        .route(me_no_defaults)
        .route(me_unset)
        .route(me_fields)
        .route(broken)
        .route(missing)
}

#[tokio::test]
async fn fields_the_model_lacks_are_never_sent() {
    let c = TestClient::new(app());
    let resp = c.get("/users/me").send().await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.json::<Value>(),
        json!({"username": "ann", "email": "ann@example.com", "full_name": null, "disabled": false})
    );
    assert!(!resp.text().contains("secret-hash"));
    // The document shows the model, not the handler's type.
    let service = app().build().unwrap();
    assert_eq!(
        service.openapi()["paths"]["/users/me"]["get"]["responses"]["200"]["content"]
            ["application/json"]["schema"]["$ref"],
        "#/components/schemas/UserOut"
    );
}

#[tokio::test]
async fn the_exclusions_drop_what_they_name() {
    let c = TestClient::new(app());
    let get = |path: &'static str| {
        let c = &c;
        async move { c.get(path).send().await.json::<Value>() }
    };
    assert_eq!(
        get("/users/me/none").await,
        json!({"username": "ann", "email": "ann@example.com", "disabled": false})
    );
    assert_eq!(
        get("/users/me/defaults").await,
        json!({"username": "ann", "email": "ann@example.com", "full_name": null})
    );
    assert_eq!(
        get("/users/me/unset").await,
        json!({"username": "ann", "email": null, "full_name": null})
    );
    assert_eq!(
        get("/users/me/fields").await,
        json!({"username": "ann", "email": "ann@example.com"})
    );
}

#[tokio::test]
async fn a_body_that_does_not_fit_is_a_500_and_errors_pass_unchanged() {
    let c = TestClient::new(app());
    let resp = c.get("/users/broken").send().await;
    assert_eq!(resp.status(), 500);
    assert!(!resp.text().contains("no-name"));
    let resp = c.get("/users/missing").send().await;
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.json::<Value>(), json!({"detail": "No such user"}));
}
