//! Routers: prefixes (with path parameters), tags, nesting, and build-time checks.

use hasten::prelude::*;
use hasten::testing::TestClient;
use serde_json::{json, Value};

#[get("/")]
async fn list_users() -> Json<Value> {
    Json(json!(["rick", "morty"]))
}

#[get("/{username}", tags = ["profiles"])]
async fn read_user(username: String) -> Json<Value> {
    Json(json!({ "username": username }))
}

#[get("/items/{item_id}")]
async fn read_user_item(user_id: u32, item_id: u32) -> Json<Value> {
    Json(json!({ "user_id": user_id, "item_id": item_id }))
}

#[get("/health")]
async fn health() -> &'static str {
    "ok"
}

fn users() -> Router {
    Router::new()
        .prefix("/users")
        .tag("users")
        .route(list_users)
        .route(read_user)
}

fn app() -> App {
    App::new()
        .route(health)
        .include(Router::new().prefix("/api/v1").tag("v1").include(users()))
        .include(
            Router::new()
                .prefix("/users/{user_id}")
                .route(read_user_item),
        )
}

#[tokio::test]
async fn prefixes_nest_and_carry_path_parameters() {
    let c = TestClient::new(app());
    assert_eq!(c.get("/health").send().await.text(), "ok");
    assert_eq!(
        c.get("/api/v1/users/").send().await.json::<Value>(),
        json!(["rick", "morty"])
    );
    assert_eq!(
        c.get("/api/v1/users/morty").send().await.json::<Value>(),
        json!({"username": "morty"})
    );
    assert_eq!(
        c.get("/users/7/items/9").send().await.json::<Value>(),
        json!({"user_id": 7, "item_id": 9})
    );
    let resp = c.get("/users/x/items/9").send().await;
    assert_eq!(resp.status(), 422);
    assert_eq!(
        resp.json::<Value>(),
        json!({"detail":[{"type":"int_parsing","loc":["path","user_id"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"x"}]})
    );
    // The un-prefixed paths do not exist.
    assert_eq!(c.get("/morty").send().await.status(), 404);
}

#[test]
fn paths_and_tags_are_those_of_the_routers_then_the_operation() {
    let service = app().build().unwrap();
    let mut seen: Vec<(String, Vec<String>)> = service
        .operations()
        .iter()
        .map(|op| (op.path().to_owned(), op.tags().map(str::to_owned).collect()))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            (
                "/api/v1/users/".to_owned(),
                vec!["v1".to_owned(), "users".to_owned()]
            ),
            (
                "/api/v1/users/{username}".to_owned(),
                vec!["v1".to_owned(), "users".to_owned(), "profiles".to_owned()]
            ),
            ("/health".to_owned(), vec![]),
            ("/users/{user_id}/items/{item_id}".to_owned(), vec![]),
        ]
    );
}

#[test]
fn bad_prefixes_and_cross_router_conflicts_are_build_errors() {
    let err = App::new()
        .include(Router::new().prefix("users/").route(list_users))
        .include(Router::new().prefix("/a").route(health))
        .include(Router::new().prefix("/a").route(health))
        .build()
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("router prefix `users/` must start with `/`"),
        "{text}"
    );
    assert!(text.contains("GET `/a/health` is declared twice"), "{text}");
}

#[get("/orders/{order_id}")]
async fn read_order(#[path(ge = 1)] shop_id: u32, order_id: u32) -> Json<Value> {
    Json(json!({ "shop_id": shop_id, "order_id": order_id }))
}

#[tokio::test]
async fn a_path_parameter_can_come_from_the_prefix() {
    let app = App::new().include(Router::new().prefix("/shops/{shop_id}").route(read_order));
    let service = app.build().unwrap();
    let op = service.operations()[0];
    let sources: Vec<(String, hasten::extract::Source)> = op
        .doc()
        .params
        .iter()
        .map(|p| (p.name.to_string(), p.source))
        .collect();
    assert_eq!(
        sources,
        vec![
            ("shop_id".to_owned(), hasten::extract::Source::Path),
            ("order_id".to_owned(), hasten::extract::Source::Path)
        ]
    );
    let c = TestClient::from_service(service);
    assert_eq!(
        c.get("/shops/2/orders/5").send().await.json::<Value>(),
        json!({"shop_id": 2, "order_id": 5})
    );
    let resp = c.get("/shops/0/orders/5").send().await;
    assert_eq!(resp.status(), 422);
    assert_eq!(
        resp.json::<Value>(),
        json!({"detail":[{"type":"greater_than_equal","loc":["path","shop_id"],"msg":"Input should be greater than or equal to 1","input":"0","ctx":{"ge":1}}]})
    );
}

#[test]
fn a_path_attribute_missing_from_the_served_path_is_a_build_error() {
    let err = App::new().route(read_order).build().unwrap_err();
    assert!(
        err.to_string().contains(
            "`shop_id` is marked #[path] but the path `/orders/{order_id}` has no `{shop_id}`"
        ),
        "{err}"
    );
}

// Mounting another app, or any tower Service, under a prefix.

#[get("/")]
async fn v2_root() -> &'static str {
    "v2 root"
}

#[get("/items")]
async fn v2_items(q: Option<String>) -> Json<Value> {
    Json(json!({ "version": 2, "q": q }))
}

#[get("/v2/health")]
async fn outer_health() -> &'static str {
    "outer"
}

/// A plain tower service that answers with the path it was given.
#[derive(Clone)]
struct EchoPath;

impl tower_service::Service<hasten::http::Request<hasten::body::RequestBody>> for EchoPath {
    type Response = hasten::Response;
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<hasten::Response, std::convert::Infallible>>;

    fn poll_ready(
        &mut self,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: hasten::http::Request<hasten::body::RequestBody>) -> Self::Future {
        let path = req
            .uri()
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default();
        std::future::ready(Ok(path.into_response()))
    }
}

fn mounted_app() -> App {
    let v2 = App::new().route(v2_root).route(v2_items).build().unwrap();
    App::new()
        .route(outer_health)
        .mount("/v2", v2)
        .mount("/echo", EchoPath)
        .mount("/echo/deeper", EchoPath)
}

#[tokio::test]
async fn a_mounted_app_sees_paths_below_its_prefix() {
    let c = TestClient::new(mounted_app());
    assert_eq!(
        c.get("/v2/items?q=x").send().await.json::<Value>(),
        json!({"version": 2, "q": "x"})
    );
    assert_eq!(c.get("/v2").send().await.text(), "v2 root");
    // The outer app's own routes win.
    assert_eq!(c.get("/v2/health").send().await.text(), "outer");
    // The mounted app answers its own 404s.
    let resp = c.get("/v2/nothing").send().await;
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.json::<Value>(), json!({"detail": "Not Found"}));
    // Only whole segments match the prefix.
    let resp = c.get("/v2x/items").send().await;
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.json::<Value>(), json!({"detail": "Not Found"}));
}

#[tokio::test]
async fn any_tower_service_can_be_mounted() {
    let c = TestClient::new(mounted_app());
    assert_eq!(c.get("/echo/a/b?c=d").send().await.text(), "/a/b?c=d");
    // The longest prefix wins.
    assert_eq!(c.get("/echo/deeper/x").send().await.text(), "/x");
    assert_eq!(c.get("/echo").send().await.text(), "/");
}

#[test]
fn bad_mount_prefixes_are_build_errors() {
    let err = App::new()
        .mount("v2/", EchoPath)
        .mount("/a", EchoPath)
        .mount("/a", EchoPath)
        .build()
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("mount prefix `v2/` must start with `/`"),
        "{text}"
    );
    assert!(text.contains("two services are mounted at `/a`"), "{text}");
}

// A router's default status and documented responses.

#[derive(Serialize, JsonSchema)]
struct NotFoundBody {
    detail: String,
}

#[post("/")]
async fn create_thing() -> &'static str {
    "created"
}

#[post("/accepted", status = 202)]
async fn accept_thing() -> &'static str {
    "accepted"
}

#[tokio::test]
async fn router_default_status_and_documented_responses() {
    let app = App::new().include(
        Router::new()
            .prefix("/things")
            .default_status(StatusCode::CREATED)
            .response_model::<NotFoundBody>(StatusCode::NOT_FOUND, "Thing not found")
            .response(StatusCode::CONFLICT, "Already exists")
            .route(create_thing)
            .route(accept_thing),
    );
    let service = app.build().unwrap();
    for op in service.operations() {
        let documented: Vec<u16> = op.responses().iter().map(|r| r.status).collect();
        assert_eq!(documented, vec![404, 409], "{}", op.path());
        let not_found = &op.responses()[0];
        assert_eq!(not_found.description, "Thing not found");
        assert!(
            not_found.schema.as_ref().unwrap().standalone()["properties"]["detail"].is_object()
        );
    }
    // The document shows them, the model by reference.
    let doc = service.openapi();
    let responses = &doc["paths"]["/things/"]["post"]["responses"];
    assert_eq!(responses["201"]["description"], "Successful Response");
    assert_eq!(responses["404"]["description"], "Thing not found");
    assert_eq!(
        responses["404"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/NotFoundBody"
    );
    assert_eq!(responses["409"]["description"], "Already exists");
    assert!(doc["components"]["schemas"]["NotFoundBody"]["properties"]["detail"].is_object());
    let c = TestClient::from_service(service);
    // The router's default applies where the operation sets none ...
    let resp = c.post("/things/").send().await;
    assert_eq!(
        (resp.status().as_u16(), resp.text()),
        (201, "created".to_owned())
    );
    // ... and the operation's own status wins.
    assert_eq!(c.post("/things/accepted").send().await.status(), 202);
}
