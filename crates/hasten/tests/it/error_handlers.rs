//! Error handlers by error type, at app and router level, falling back on the defaults;
//! the validation handler reads the body.

use hasten::prelude::*;
use hasten::testing::TestClient;
use hasten::HeaderValue;
use serde_json::{json, Value};

#[derive(Debug)]
struct UnicornError {
    name: String,
}

impl std::fmt::Display for UnicornError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} did something", self.name)
    }
}

impl std::error::Error for UnicornError {}

#[derive(Debug)]
struct Unhandled;

impl std::fmt::Display for Unhandled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("nobody handles this")
    }
}

impl std::error::Error for Unhandled {}

#[get("/unicorns/{name}")]
async fn read_unicorn(name: String) -> Result<Json<Value>, hasten::Error> {
    if name == "yolo" {
        return Err(UnicornError { name }.into());
    }
    if name == "teapot" {
        // An HttpError through `hasten::Error` is answered as itself.
        return Err(HttpError::new(StatusCode::IM_A_TEAPOT, "short and stout").into());
    }
    Ok(Json(json!({ "unicorn_name": name })))
}

#[get("/broken")]
async fn broken() -> Result<String, hasten::Error> {
    Err(Unhandled.into())
}

/// A dependency that fails with the app's error type.
#[dependency]
async fn stable(#[query] horse: Option<String>) -> Result<String, hasten::Error> {
    match horse {
        Some(name) if name == "yolo" => Err(UnicornError { name }.into()),
        other => Ok(other.unwrap_or_default()),
    }
}

#[get("/stable")]
async fn visit(horse: Depends<stable>) -> String {
    format!("visited {}", *horse)
}

#[get("/admin/unicorns/{name}")]
async fn admin_unicorn(name: String) -> Result<String, hasten::Error> {
    Err(UnicornError { name }.into())
}

#[derive(Deserialize, JsonSchema)]
struct Item {
    #[allow(dead_code)]
    title: String,
    #[allow(dead_code)]
    size: i64,
}

#[post("/items/")]
async fn create_item(item: Json<Item>) -> &'static str {
    let _ = item;
    "ok"
}

fn app() -> App {
    App::new()
        .on_error(|e: &UnicornError, _ctx| {
            let body = json!({ "message": format!("Oops! {} did something. There goes a rainbow...", e.name) });
            (StatusCode::IM_A_TEAPOT, Json(body)).into_response()
        })
        // Every HttpError, rendered by the default, with a header added.
        .on_http_error(|e, _ctx| {
            let mut resp = e.default_response();
            resp.headers_mut()
                .insert("x-handled", HeaderValue::from_static("yes"));
            resp
        })
        // The body the client sent, beside the errors (FastAPI's `exc.body`).
        .on_validation_error(|errors, ctx| {
            let sent = ctx
                .body
                .as_deref()
                .and_then(|b| serde_json::from_slice::<Value>(b).ok())
                .unwrap_or(Value::Null);
            let mut resp = errors.default_response();
            if sent.is_object() {
                let body = json!({ "detail": errors.to_json()["detail"], "body": sent });
                resp = (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response();
            }
            resp
        })
        .route(read_unicorn)
        .route(broken)
        .route(visit)
        .route(create_item)
        .include(
            Router::new()
                .on_error(|e: &UnicornError, _ctx| {
                    HttpError::new(StatusCode::FORBIDDEN, format!("admins keep {} away", e.name))
                        .into_response()
                })
                .route(admin_unicorn),
        )
}

#[tokio::test]
async fn an_error_is_answered_by_the_handler_of_its_type() {
    let c = TestClient::new(app());
    let resp = c.get("/unicorns/yolo").send().await;
    assert_eq!(resp.status(), 418);
    assert_eq!(
        resp.json::<Value>(),
        json!({"message": "Oops! yolo did something. There goes a rainbow..."})
    );
    assert_eq!(
        c.get("/unicorns/ann").send().await.json::<Value>(),
        json!({"unicorn_name": "ann"})
    );
    // From a dependency too.
    let resp = c.get("/stable?horse=yolo").send().await;
    assert_eq!(resp.status(), 418);
    assert_eq!(
        c.get("/stable?horse=ann").send().await.text(),
        "visited ann"
    );
}

#[tokio::test]
async fn a_routers_handler_comes_before_the_apps() {
    let c = TestClient::new(app());
    let resp = c.get("/admin/unicorns/yolo").send().await;
    assert_eq!(resp.status(), 403);
    assert_eq!(
        resp.json::<Value>(),
        json!({"detail": "admins keep yolo away"})
    );
    // The router's answer is an HttpError: the app's HttpError handler still applies.
    assert_eq!(resp.header("x-handled"), Some("yes"));
}

#[tokio::test]
async fn an_error_no_handler_takes_is_a_500_and_http_errors_stay_themselves() {
    let c = TestClient::new(app());
    let resp = c.get("/broken").send().await;
    assert_eq!(resp.status(), 500);
    assert_eq!(resp.text(), "Internal Server Error");
    let resp = c.get("/unicorns/teapot").send().await;
    assert_eq!(resp.status(), 418);
    assert_eq!(resp.json::<Value>(), json!({"detail": "short and stout"}));
    assert_eq!(resp.header("x-handled"), Some("yes"));
}

#[tokio::test]
async fn the_validation_handler_reads_the_body() {
    let c = TestClient::new(app());
    let resp = c
        .post("/items/")
        .header("content-type", "application/json")
        .body(r#"{"title": "towel", "size": "XL"}"#)
        .send()
        .await;
    assert_eq!(resp.status(), 422);
    let body = resp.json::<Value>();
    assert_eq!(body["body"], json!({"title": "towel", "size": "XL"}));
    assert_eq!(body["detail"][0]["loc"], json!(["body", "size"]));
    // Without a body to show, the default rendering.
    let resp = c
        .post("/items/")
        .header("content-type", "application/json")
        .body("[]")
        .send()
        .await;
    assert_eq!(resp.status(), 422);
    assert!(resp.json::<Value>().get("body").is_none());
}

/// The body of an app's own answer to invalid input.
#[derive(Serialize, JsonSchema)]
struct BadInput {
    message: String,
    count: usize,
}

/// The app's answer to invalid input: a 400 with a `BadInput`.
fn bad_input(
    errors: &hasten::validation::RequestValidationError,
    _ctx: &hasten::app::ErrorContext,
) -> Response {
    let body = BadInput {
        message: "invalid input".into(),
        count: errors.errors().len(),
    };
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

#[tokio::test]
async fn a_replaced_validation_answer_is_documented() {
    let app = App::new()
        .on_validation_error_documented::<BadInput, _>(
            StatusCode::BAD_REQUEST,
            "The input is invalid",
            bad_input,
        )
        .route(create_item);
    let doc = app.openapi_document().unwrap();
    let responses = &doc["paths"]["/items/"]["post"]["responses"];
    assert!(responses.get("422").is_none(), "{responses}");
    assert_eq!(responses["400"]["description"], "The input is invalid");
    assert_eq!(
        responses["400"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/BadInput"
    );
    assert!(doc["components"]["schemas"]
        .get("HTTPValidationError")
        .is_none());
    let app = App::new()
        .on_validation_error_documented::<BadInput, _>(StatusCode::BAD_REQUEST, "", bad_input)
        .route(create_item);
    let c = TestClient::new(app);
    let resp = c
        .post("/items/")
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await;
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.json::<Value>(),
        json!({"message": "invalid input", "count": 2})
    );
}

#[tokio::test]
async fn problem_details_in_one_line() {
    let app = || {
        App::new()
            .problem_details()
            .route(create_item)
            .route(read_unicorn)
    };
    let c = TestClient::new(app());
    let resp = c
        .post("/items/")
        .header("content-type", "application/json")
        .body(r#"{"title": "towel"}"#)
        .send()
        .await;
    assert_eq!(resp.status(), 422);
    assert_eq!(
        resp.header("content-type"),
        Some("application/problem+json")
    );
    let body = resp.json::<Value>();
    assert_eq!(body["type"], "about:blank");
    assert_eq!(body["title"], "Unprocessable Entity");
    assert_eq!(body["status"], 422);
    assert_eq!(body["instance"], "/items/");
    assert_eq!(body["errors"][0]["loc"], json!(["body", "size"]));
    let resp = c.get("/unicorns/teapot").send().await;
    assert_eq!(
        resp.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(
        resp.json::<Value>(),
        json!({"type": "about:blank", "title": "I'm a Teapot", "status": 418,
               "detail": "short and stout", "instance": "/unicorns/teapot"})
    );
    let doc = app().openapi_document().unwrap();
    assert_eq!(
        doc["paths"]["/items/"]["post"]["responses"]["422"]["content"]["application/problem+json"]
            ["schema"]["$ref"],
        "#/components/schemas/ProblemDetails"
    );
    assert!(doc["components"]["schemas"]["ProblemDetails"]["properties"]["errors"].is_object());
}

#[tokio::test]
async fn a_replaced_error_body_is_documented_on_the_error_statuses() {
    // The complete style documents the 400 of a body that is not text: with problem
    // details, as the problem it is answered with.
    let doc = App::new()
        .problem_details()
        .openapi_style(hasten::openapi::DocStyle::complete())
        .route(create_item)
        .openapi_document()
        .unwrap();
    let bad = &doc["paths"]["/items/"]["post"]["responses"]["400"];
    assert_eq!(
        bad["content"]["application/problem+json"]["schema"]["$ref"],
        "#/components/schemas/ProblemDetails"
    );
    // An app's own HttpError body, declared with its handler.
    let doc = App::new()
        .on_http_error_documented::<BadInput, _>(|e, _ctx| {
            let body = BadInput {
                message: e.detail().to_string(),
                count: 0,
            };
            (e.status(), Json(body)).into_response()
        })
        .openapi_style(hasten::openapi::DocStyle::complete())
        .route(create_item)
        .openapi_document()
        .unwrap();
    let bad = &doc["paths"]["/items/"]["post"]["responses"]["400"];
    assert_eq!(
        bad["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/BadInput"
    );
}

#[tokio::test]
async fn the_innermost_routers_handler_wins() {
    // Both routers answer `UnicornError`: the one the operation sits in comes first,
    // then the one it is included in, then the app's.
    let inner = Router::new()
        .on_error(|_: &UnicornError, _ctx| (StatusCode::FORBIDDEN, "inner").into_response())
        .route(admin_unicorn);
    let outer = Router::new()
        .prefix("/v1")
        .on_error(|_: &UnicornError, _ctx| (StatusCode::GONE, "outer").into_response())
        .include(inner)
        .route(read_unicorn);
    let c = TestClient::new(app().include(outer));
    let resp = c.get("/v1/admin/unicorns/yolo").send().await;
    assert_eq!(resp.status(), 403);
    assert_eq!(resp.text(), "inner");
    let resp = c.get("/v1/unicorns/yolo").send().await;
    assert_eq!(resp.status(), 410);
    assert_eq!(resp.text(), "outer");
}
