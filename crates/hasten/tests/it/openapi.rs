//! The OpenAPI document and the documentation pages.
//!
//! `openapi_document_snapshot` compares a whole document with
//! `tests/snapshots/openapi.json`; after an intended change, rewrite the snapshot with
//! `UPDATE_SNAPSHOTS=1 cargo test -p hasten --test it openapi::` and review the diff.

use hasten::openapi::{Contact, License};
use hasten::prelude::*;
use hasten::security::{ApiKey, ApiKeyCookie, ApiKeyQuery, HttpBearer};
use hasten::testing::TestClient;
use serde_json::{json, Value};

mod catalog {
    use hasten::prelude::*;

    /// A catalog item.
    #[derive(Debug, Deserialize, Serialize, JsonSchema)]
    pub(crate) struct Item {
        /// The item's name.
        pub(crate) name: String,
        /// Its price, tax excluded.
        pub(crate) price: f64,
        pub(crate) tax: Option<f64>,
    }
}

mod warehouse {
    use hasten::prelude::*;

    /// A stocked item: a different type with the same name as `catalog::Item`.
    #[derive(Debug, Deserialize, Serialize, JsonSchema)]
    pub(crate) struct Item {
        pub(crate) sku: String,
        pub(crate) count: u32,
    }
}

/// An error body.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct Message {
    detail: String,
}

/// A side-effect dependency: its header becomes a parameter of every operation it guards.
#[dependency]
async fn verify_key(#[header] x_key: String) -> Result<(), HttpError> {
    if x_key != "fake-super-secret-key" {
        return Err(HttpError::new(
            StatusCode::BAD_REQUEST,
            "X-Key header invalid",
        ));
    }
    Ok(())
}

/// A dependency with a query parameter, used twice by one operation.
#[dependency]
async fn paging(
    #[query(default = 0, ge = 0)] skip: u32,
    #[query(default = 10, le = 100)] limit: u32,
) -> (u32, u32) {
    (skip, limit)
}

/// Read a catalog item.
///
/// Longer description, in **Markdown**.
#[get("/items/{item_id}", tags = ["catalog"])]
async fn read_item(
    #[path(ge = 1, description = "The item's id")] item_id: u32,
    #[query(
        min_length = 3,
        max_length = 50,
        pattern = "^[a-z ]+$",
        example = "hammer"
    )]
    q: Option<String>,
    #[query(deprecated)] old: Option<bool>,
    #[query(min_length = 1, max_length = 5)] tags: Vec<String>,
    #[cookie] session: Option<String>,
) -> Result<Json<catalog::Item>, HttpError> {
    let _ = (item_id, q, old, tags, session);
    Err(HttpError::new(StatusCode::NOT_FOUND, "Item not found"))
}

/// Store a catalog item.
#[post("/items/", tags = ["catalog"], status = 201)]
async fn create_item(item: Json<catalog::Item>) -> Json<catalog::Item> {
    item
}

/// Count stock.
#[put("/stock/{path:path}", tags = ["warehouse"], summary = "Put stock", operation_id = "put_stock")]
async fn put_stock(path: String, item: Json<warehouse::Item>) -> Json<warehouse::Item> {
    let _ = path;
    item
}

/// Page through items; the same dependency twice documents its parameters once.
#[get("/pages")]
async fn pages(a: Depends<paging>, b: Depends<paging>) -> Json<Value> {
    Json(json!([a.0, b.1]))
}

/// The owner: documents its own 404 over the router's, and a 409 without a body.
#[get(
    "/items/{item_id}/owner",
    tags = ["catalog"],
    response_model = Message,
    responses = [(404, "No owner", Message), (409, "Being moved")]
)]
async fn owner(item_id: u32) -> Response {
    Json(Message {
        detail: item_id.to_string(),
    })
    .into_response()
}

#[get("/text", deprecated)]
async fn text() -> String {
    "plain".to_owned()
}

#[get("/nothing")]
async fn nothing() {}

#[get("/redirect")]
async fn redirect() -> Redirect {
    Redirect::to("/text")
}

#[get("/secret", include_in_schema = false)]
async fn secret() -> &'static str {
    "hidden"
}

struct QueryKey;
impl ApiKey for QueryKey {
    const NAME: &'static str = "api_key";
}

struct CookieKey;
impl ApiKey for CookieKey {
    const NAME: &'static str = "session";
    const SCHEME_NAME: Option<&'static str> = Some("SessionCookie");
    const DESCRIPTION: Option<&'static str> = Some("The session cookie.");
}

/// Bearer, or an API key in the query, or no credentials at all.
#[get("/maybe")]
async fn maybe(bearer: Option<HttpBearer>, key: Option<ApiKeyQuery<QueryKey>>) -> Json<Value> {
    Json(json!({
        "bearer": bearer.map(|b| b.credentials),
        "key": key.map(|k| k.key().to_owned()),
    }))
}

#[get("/cookie")]
async fn cookie_key(key: ApiKeyCookie<CookieKey>) -> String {
    key.key().to_owned()
}

fn app() -> App {
    App::new()
        .title("Snapshot")
        .version("2.0.0")
        .summary("Every documented feature at once.")
        .description("The **whole** API.")
        .terms_of_service("https://example.com/terms")
        .contact(Contact {
            name: Some("API team".into()),
            url: None,
            email: Some("api@example.com".into()),
        })
        .license(License {
            name: "MIT".into(),
            identifier: Some("MIT".into()),
            url: None,
        })
        .server("/api/v2", "Production")
        .tag("catalog", "What is for sale.")
        .tag("warehouse", "")
        .include(
            Router::new()
                .dependency::<verify_key>()
                .response_model::<Message>(StatusCode::NOT_FOUND, "Not found")
                .route(read_item)
                .route(owner)
                .route(create_item),
        )
        .route(put_stock)
        .route(pages)
        .route(text)
        .route(nothing)
        .route(redirect)
        .route(secret)
        .route(maybe)
        .route(cookie_key)
}

#[test]
fn openapi_document_snapshot() {
    let doc = app().build().unwrap().openapi().clone();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots/openapi.json");
    let text = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        // Under CI the snapshot would be compared with itself: refuse.
        assert!(
            std::env::var_os("CI").is_none(),
            "UPDATE_SNAPSHOTS is set under CI: the snapshot would be compared with itself"
        );
        std::fs::write(path, &text).unwrap();
    }
    let want =
        std::fs::read_to_string(path).expect("snapshot missing: run with UPDATE_SNAPSHOTS=1");
    assert!(
        text == want,
        "the document changed; if intended, rerun with UPDATE_SNAPSHOTS=1 and review:\n{text}"
    );
}

#[test]
fn document_is_deterministic() {
    let a = serde_json::to_string(app().build().unwrap().openapi()).unwrap();
    for _ in 0..3 {
        assert_eq!(
            a,
            serde_json::to_string(app().build().unwrap().openapi()).unwrap()
        );
    }
}

#[test]
fn same_named_types_are_kept_apart() {
    let service = app().build().unwrap();
    let doc = service.openapi();
    let schemas = &doc["components"]["schemas"];
    // Two distinct definitions, first come first named.
    assert!(schemas["Item"]["properties"]["price"].is_object());
    assert!(schemas["Item2"]["properties"]["sku"].is_object());
    let body = |path: &str, method: &str| {
        doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            .clone()
    };
    assert_eq!(body("/items/", "post"), "#/components/schemas/Item");
    assert_eq!(body("/stock/{path}", "put"), "#/components/schemas/Item2");
}

#[test]
fn operations_follow_fastapi_conventions() {
    let service = app().build().unwrap();
    let doc = service.openapi();
    assert_eq!(doc["openapi"], "3.1.0");
    let op = &doc["paths"]["/items/{item_id}"]["get"];
    assert_eq!(op["operationId"], "read_item_items__item_id__get");
    assert_eq!(op["summary"], "Read Item");
    assert_eq!(
        op["description"],
        "Read a catalog item.\n\nLonger description, in **Markdown**."
    );
    assert_eq!(op["tags"], json!(["catalog"]));
    let names: Vec<(&str, &str)> = op["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["in"].as_str().unwrap()))
        .collect();
    // Path, query, header, then cookie parameters, as FastAPI lists them; within each,
    // the router's dependency first, then the operation's own, in declaration order.
    assert_eq!(
        names,
        vec![
            ("item_id", "path"),
            ("q", "query"),
            ("old", "query"),
            ("tags", "query"),
            ("x-key", "header"),
            ("session", "cookie")
        ]
    );
    let q = &op["parameters"][1];
    assert_eq!(q["required"], false);
    assert_eq!(
        q["schema"],
        json!({"anyOf": [{"type": "string", "minLength": 3, "maxLength": 50, "pattern": "^[a-z ]+$"}, {"type": "null"}],
               "title": "Q", "examples": ["hammer"]})
    );
    assert_eq!(op["parameters"][2]["deprecated"], true);
    // Deprecated in the schema too, as FastAPI writes it.
    assert_eq!(op["parameters"][2]["schema"]["deprecated"], true);
    // A list's length constraints are the list's.
    assert_eq!(
        op["parameters"][3]["schema"],
        json!({"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 5, "title": "Tags"})
    );
    assert_eq!(op["parameters"][0]["description"], "The item's id");
    assert_eq!(op["parameters"][0]["schema"]["minimum"], 1);
    assert_eq!(
        op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Item"
    );
    assert_eq!(op["responses"]["404"]["description"], "Not found");
    assert_eq!(
        op["responses"]["422"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/HTTPValidationError"
    );
    // Explicit summary and operationId; `{path:path}` documented as `{path}`.
    let put = &doc["paths"]["/stock/{path}"]["put"];
    assert_eq!(put["summary"], "Put stock");
    assert_eq!(put["operationId"], "put_stock");
    // Status from the attribute.
    assert!(doc["paths"]["/items/"]["post"]["responses"]["201"].is_object());
    // A dependency used twice documents its parameters once.
    let pages = doc["paths"]["/pages"]["get"]["parameters"]
        .as_array()
        .unwrap();
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[1]["schema"]["default"], 10);
    // Return types.
    let media = |path: &str| doc["paths"][path]["get"]["responses"].clone();
    assert_eq!(
        media("/text")["200"]["content"],
        json!({"text/plain": {"schema": {"type": "string"}}})
    );
    assert_eq!(doc["paths"]["/text"]["get"]["deprecated"], true);
    assert_eq!(
        media("/nothing")["200"]["content"]["application/json"]["schema"],
        json!({})
    );
    assert_eq!(
        media("/redirect")["307"]["description"],
        "Successful Response"
    );
    // No input, no 422; hidden operations are left out.
    assert!(media("/text").get("422").is_none());
    assert!(doc["paths"].get("/secret").is_none());
    // Info, servers, tags.
    assert_eq!(
        doc["info"]["contact"],
        json!({"name": "API team", "email": "api@example.com"})
    );
    assert_eq!(
        doc["servers"],
        json!([{"url": "/api/v2", "description": "Production"}])
    );
    assert_eq!(
        doc["tags"],
        json!([{"name": "catalog", "description": "What is for sale."}, {"name": "warehouse"}])
    );
    // Model fields carry pydantic-style titles and their doc comments.
    let item = &doc["components"]["schemas"]["Item"];
    assert_eq!(item["title"], "Item");
    assert_eq!(item["description"], "A catalog item.");
    assert_eq!(item["properties"]["price"]["title"], "Price");
    assert_eq!(
        item["properties"]["price"]["description"],
        "Its price, tax excluded."
    );
}

#[test]
fn route_attribute_documents_the_model_and_extra_responses() {
    let service = app().build().unwrap();
    let doc = service.openapi();
    let responses = &doc["paths"]["/items/{item_id}/owner"]["get"]["responses"];
    assert_eq!(
        responses["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Message"
    );
    assert_eq!(responses["404"]["description"], "No owner");
    assert_eq!(
        responses["404"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Message"
    );
    assert_eq!(responses["409"], json!({"description": "Being moved"}));
}

#[test]
fn security_schemes_are_documented() {
    let service = app().build().unwrap();
    let doc = service.openapi();
    assert_eq!(
        doc["paths"]["/maybe"]["get"]["security"],
        json!([{"HTTPBearer": []}, {"APIKeyQuery": []}])
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["SessionCookie"],
        json!({"type": "apiKey", "in": "cookie", "name": "session", "description": "The session cookie."})
    );
    // FastAPI does not document the 401 it answers without credentials; the complete
    // style does.
    assert_eq!(doc["paths"]["/cookie"]["get"]["responses"].get("401"), None);
    let complete = app()
        .openapi_style(hasten::openapi::DocStyle::complete())
        .build()
        .unwrap();
    assert_eq!(
        complete.openapi()["paths"]["/cookie"]["get"]["responses"]["401"]["description"],
        "Not authenticated"
    );
}

#[tokio::test]
async fn optional_schemes_give_none_and_required_ones_401() {
    let c = TestClient::new(app());
    let resp = c.get("/maybe").send().await;
    assert_eq!(resp.json::<Value>(), json!({"bearer": null, "key": null}));
    let resp = c
        .get("/maybe?api_key=k")
        .header("authorization", "Bearer t0ken")
        .send()
        .await;
    assert_eq!(resp.json::<Value>(), json!({"bearer": "t0ken", "key": "k"}));
    // A malformed header is no credential in optional mode.
    let resp = c
        .get("/maybe")
        .header("authorization", "Basic x")
        .send()
        .await;
    assert_eq!(resp.json::<Value>()["bearer"], Value::Null);
    let resp = c.get("/cookie").send().await;
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.header("www-authenticate"), Some("APIKey"));
    assert_eq!(resp.json::<Value>(), json!({"detail": "Not authenticated"}));
    let resp = c
        .get("/cookie")
        .header("cookie", "session=abc")
        .send()
        .await;
    assert_eq!(resp.text(), "abc");
}

#[tokio::test]
async fn docs_pages_are_served_from_memory() {
    let c = TestClient::new(app());
    let resp = c.get("/openapi.json").send().await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    assert_eq!(resp.json::<Value>()["info"]["title"], "Snapshot");

    let page = c.get("/docs").send().await;
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let html = page.text();
    assert!(
        html.contains("<title>Snapshot - Swagger UI</title>"),
        "{html}"
    );
    assert!(html.contains(r#"src="/docs/swagger-ui-bundle.js""#));
    assert!(html.contains(r#"url: "/openapi.json""#));
    assert!(html.contains("/docs/oauth2-redirect"));
    assert!(
        !html.contains("https://"),
        "no asset from another host: {html}"
    );
    for (path, kind) in [
        (
            "/docs/swagger-ui-bundle.js",
            "text/javascript; charset=utf-8",
        ),
        ("/docs/swagger-ui.css", "text/css; charset=utf-8"),
        (
            "/redoc/redoc.standalone.js",
            "text/javascript; charset=utf-8",
        ),
    ] {
        let resp = c.get(path).send().await;
        assert_eq!(resp.status(), 200, "{path}");
        assert_eq!(resp.header("content-type"), Some(kind), "{path}");
        assert!(resp.bytes().len() > 100_000, "{path} is the real asset");
    }
    let redoc = c.get("/redoc").send().await.text();
    assert!(redoc.contains(r#"<redoc spec-url="/openapi.json"></redoc>"#));
    let redirect = c.get("/docs/oauth2-redirect").send().await.text();
    assert!(redirect.contains("<script>"));
    // HEAD works, other methods do not.
    assert_eq!(c.head("/openapi.json").send().await.status(), 200);
    let resp = c.post("/openapi.json").send().await;
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.header("allow"), Some("GET, HEAD"));
}

#[tokio::test]
async fn docs_urls_are_configurable_and_can_be_turned_off() {
    let c = TestClient::new(
        app()
            .openapi_url(Some("/api/schema.json"))
            .docs_url(Some("/api/docs"))
            .redoc_url(None)
            .swagger_ui_parameters(json!({"docExpansion": "none"})),
    );
    assert_eq!(c.get("/openapi.json").send().await.status(), 404);
    assert_eq!(c.get("/api/schema.json").send().await.status(), 200);
    let html = c.get("/api/docs").send().await.text();
    assert!(html.contains(r#"url: "/api/schema.json""#));
    assert!(html.contains(r#""docExpansion":"none""#));
    assert!(html.contains(r#"src="/api/docs/swagger-ui-bundle.js""#));
    assert_eq!(c.get("/api/docs/swagger-ui.css").send().await.status(), 200);
    assert_eq!(c.get("/redoc").send().await.status(), 404);
    assert_eq!(c.get("/docs").send().await.status(), 404);

    // No document, no pages.
    let c = TestClient::new(app().openapi_url(None));
    for path in ["/openapi.json", "/docs", "/redoc", "/docs/oauth2-redirect"] {
        assert_eq!(c.get(path).send().await.status(), 404, "{path}");
    }
}

#[get("/docs")]
async fn own_docs() -> Html<&'static str> {
    Html("<p>our own docs</p>")
}

#[tokio::test]
async fn an_app_route_wins_over_the_docs() {
    let c = TestClient::new(App::new().route(own_docs));
    assert_eq!(c.get("/docs").send().await.text(), "<p>our own docs</p>");
    assert_eq!(c.get("/redoc").send().await.status(), 200);
}
