//! Every row of FastAPI's validation-error table: the same request gets FastAPI's body
//! (compared as JSON values, so key order and spacing do not matter).

use hasten::prelude::*;
use hasten::testing::TestClient;
use serde_json::{json, Value};

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
struct Item {
    name: String,
    description: Option<String>,
    price: f64,
    tax: Option<f64>,
}

#[derive(Debug, Clone, Copy, ParamValue, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum ModelName {
    Alexnet,
    Resnet,
    Lenet,
}

#[get("/items/{item_id}")]
async fn read_item(#[path(ge = 1)] item_id: i64) -> Json<Value> {
    Json(json!({ "item_id": item_id }))
}

#[get("/count")]
async fn count(n: i32) -> Json<i32> {
    Json(n)
}

#[get("/ratio")]
async fn ratio(x: f64) -> Json<f64> {
    Json(x)
}

#[get("/flag")]
async fn flag(b: bool) -> Json<bool> {
    Json(b)
}

#[get("/models/{model_name}")]
async fn get_model(model_name: ModelName) -> Json<ModelName> {
    Json(model_name)
}

#[get("/search")]
async fn search(
    #[query(min_length = 3, max_length = 5)] q: Option<String>,
    #[query(pattern = "^fixedquery$")] fixed: Option<String>,
) -> Json<Value> {
    Json(json!({ "q": q, "fixed": fixed }))
}

#[get("/list")]
async fn list(q: Option<Vec<i32>>) -> Json<Option<Vec<i32>>> {
    Json(q)
}

#[post("/items")]
async fn create_item(item: Json<Item>) -> Json<Item> {
    item
}

#[put("/items/{item_id}")]
async fn update_item(item_id: u32, limit: u8, item: Json<Item>) -> Json<Value> {
    Json(json!({ "item_id": item_id, "limit": limit, "name": item.name }))
}

fn client() -> TestClient {
    TestClient::new(
        App::new()
            .route(read_item)
            .route(count)
            .route(ratio)
            .route(flag)
            .route(get_model)
            .route(search)
            .route(list)
            .route(create_item)
            .route(update_item),
    )
}

async fn detail(resp: hasten::testing::TestResponse) -> Value {
    assert_eq!(resp.status(), 422, "body: {}", resp.text());
    assert_eq!(resp.header("content-type"), Some("application/json"));
    resp.json::<Value>()
}

#[tokio::test]
async fn path_ge_constraint() {
    let body = detail(client().get("/items/0").send().await).await;
    assert_eq!(
        body,
        json!({"detail":[{"type":"greater_than_equal","loc":["path","item_id"],"msg":"Input should be greater than or equal to 1","input":"0","ctx":{"ge":1}}]})
    );
}

#[tokio::test]
async fn missing_required_query() {
    let body = detail(client().get("/count").send().await).await;
    assert_eq!(
        body,
        json!({"detail":[{"type":"missing","loc":["query","n"],"msg":"Field required","input":null}]})
    );
}

#[tokio::test]
async fn int_parsing() {
    let body = detail(client().get("/count?n=abc").send().await).await;
    assert_eq!(
        body,
        json!({"detail":[{"type":"int_parsing","loc":["query","n"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"abc"}]})
    );
}

#[tokio::test]
async fn float_parsing() {
    let body = detail(client().get("/ratio?x=abc").send().await).await;
    assert_eq!(
        body,
        json!({"detail":[{"type":"float_parsing","loc":["query","x"],"msg":"Input should be a valid number, unable to parse string as a number","input":"abc"}]})
    );
    let ok = client().get("/ratio?x=2.5").send().await;
    assert_eq!(ok.json::<f64>(), 2.5);
}

#[tokio::test]
async fn bool_parsing_and_fastapi_words() {
    let c = client();
    let body = detail(c.get("/flag?b=maybe").send().await).await;
    assert_eq!(
        body,
        json!({"detail":[{"type":"bool_parsing","loc":["query","b"],"msg":"Input should be a valid boolean, unable to interpret input","input":"maybe"}]})
    );
    for (word, expected) in [
        ("1", true),
        ("true", true),
        ("on", true),
        ("yes", true),
        ("0", false),
        ("false", false),
        ("off", false),
        ("no", false),
    ] {
        let resp = c.get("/flag").query(&[("b", word)]).send().await;
        assert_eq!(resp.status(), 200, "{word}");
        assert_eq!(resp.json::<bool>(), expected, "{word}");
    }
}

#[tokio::test]
async fn enum_path_parameter() {
    let c = client();
    let body = detail(c.get("/models/foo").send().await).await;
    assert_eq!(
        body,
        json!({"detail":[{"type":"enum","loc":["path","model_name"],"msg":"Input should be 'alexnet', 'resnet' or 'lenet'","input":"foo","ctx":{"expected":"'alexnet', 'resnet' or 'lenet'"}}]})
    );
    let ok = c.get("/models/resnet").send().await;
    assert_eq!(ok.json::<Value>(), json!("resnet"));
}

#[tokio::test]
async fn string_length() {
    let c = client();
    let body = detail(c.get("/search?q=ab").send().await).await;
    assert_eq!(
        body,
        json!({"detail":[{"type":"string_too_short","loc":["query","q"],"msg":"String should have at least 3 characters","input":"ab","ctx":{"min_length":3}}]})
    );
    let body = detail(c.get("/search?q=abcdef").send().await).await;
    assert_eq!(
        body,
        json!({"detail":[{"type":"string_too_long","loc":["query","q"],"msg":"String should have at most 5 characters","input":"abcdef","ctx":{"max_length":5}}]})
    );
}

#[tokio::test]
async fn string_pattern() {
    let c = client();
    let body = detail(c.get("/search?fixed=nope").send().await).await;
    assert_eq!(
        body,
        json!({"detail":[{"type":"string_pattern_mismatch","loc":["query","fixed"],"msg":"String should match pattern '^fixedquery$'","input":"nope","ctx":{"pattern":"^fixedquery$"}}]})
    );
    let ok = c.get("/search?fixed=fixedquery").send().await;
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn list_query_error_has_the_index() {
    let c = client();
    let body = detail(c.get("/list?q=1&q=x").send().await).await;
    assert_eq!(
        body,
        json!({"detail":[{"type":"int_parsing","loc":["query","q",1],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"x"}]})
    );
    assert_eq!(
        c.get("/list?q=1&q=2").send().await.json::<Value>(),
        json!([1, 2])
    );
    assert_eq!(c.get("/list").send().await.json::<Value>(), json!(null));
}

#[tokio::test]
async fn no_body_where_one_is_required() {
    let body = detail(client().post("/items").send().await).await;
    assert_eq!(
        body,
        json!({"detail":[{"type":"missing","loc":["body"],"msg":"Field required","input":null}]})
    );
}

#[tokio::test]
async fn broken_json() {
    let resp = client()
        .post("/items")
        .header("content-type", "application/json")
        .body("{some broken json}")
        .send()
        .await;
    let body = detail(resp).await;
    assert_eq!(
        body,
        json!({"detail":[{"type":"json_invalid","loc":["body",1],"msg":"JSON decode error","input":{},"ctx":{"error":"Expecting property name enclosed in double quotes"}}]})
    );
}

#[tokio::test]
async fn non_json_content_types_are_model_attributes_type() {
    let c = client();
    let raw = "name=Foo&price=50.5";
    for content_type in [
        Some("application/x-www-form-urlencoded"),
        Some("text/plain"),
        None,
    ] {
        let mut req = c.post("/items").body(raw);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let body = detail(req.send().await).await;
        assert_eq!(
            body,
            json!({"detail":[{"type":"model_attributes_type","loc":["body"],"msg":"Input should be a valid dictionary or object to extract fields from","input":raw}]}),
            "{content_type:?}"
        );
    }
}

#[tokio::test]
async fn json_suffix_content_type_is_accepted() {
    let resp = client()
        .post("/items")
        .header("content-type", "application/vnd.api+json")
        .body(r#"{"name":"Foo","price":1.5}"#)
        .send()
        .await;
    assert_eq!(resp.status(), 200, "{}", resp.text());
}

#[tokio::test]
async fn missing_body_field_has_the_whole_object_as_input() {
    let body = detail(
        client()
            .post("/items")
            .json(&json!({"name": "Foo"}))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        body,
        json!({"detail":[{"type":"missing","loc":["body","price"],"msg":"Field required","input":{"name":"Foo"}}]})
    );
}

#[tokio::test]
async fn every_body_error_is_listed_in_field_order() {
    let body = detail(
        client()
            .post("/items")
            .json(&json!({"description": 5, "tax": "lots"}))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        body,
        json!({"detail":[
            {"type":"missing","loc":["body","name"],"msg":"Field required","input":{"description":5,"tax":"lots"}},
            {"type":"string_type","loc":["body","description"],"msg":"Input should be a valid string","input":5},
            {"type":"missing","loc":["body","price"],"msg":"Field required","input":{"description":5,"tax":"lots"}},
            {"type":"float_parsing","loc":["body","tax"],"msg":"Input should be a valid number, unable to parse string as a number","input":"lots"}
        ]})
    );
}

#[tokio::test]
async fn lax_numbers_in_json_bodies_are_accepted() {
    let resp = client()
        .post("/items")
        .json(&json!({"name": "Foo", "price": "50.5", "tax": 3}))
        .send()
        .await;
    assert_eq!(resp.status(), 200, "{}", resp.text());
    assert_eq!(
        resp.json::<Value>(),
        json!({"name": "Foo", "description": null, "price": 50.5, "tax": 3.0})
    );
}

#[tokio::test]
async fn path_query_and_two_body_errors_in_one_422() {
    let resp = client()
        .put("/items/abc")
        .query(&[("limit", "many")])
        .json(&json!({"name": 1, "price": "free"}))
        .send()
        .await;
    let body = detail(resp).await;
    assert_eq!(
        body,
        json!({"detail":[
            {"type":"int_parsing","loc":["path","item_id"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"abc"},
            {"type":"int_parsing","loc":["query","limit"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"many"},
            {"type":"string_type","loc":["body","name"],"msg":"Input should be a valid string","input":1},
            {"type":"float_parsing","loc":["body","price"],"msg":"Input should be a valid number, unable to parse string as a number","input":"free"}
        ]})
    );
}

#[tokio::test]
async fn the_422_body_can_be_replaced() {
    let app = App::new().route(count).on_validation_error(|err, ctx| {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({
                "path": ctx.uri.path(),
                "problems": err.errors().iter().map(|e| e.msg.to_string()).collect::<Vec<_>>(),
            })),
        )
            .into_response()
    });
    let resp = TestClient::new(app).get("/count?n=x").send().await;
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.json::<Value>(),
        json!({"path": "/count", "problems": ["Input should be a valid integer, unable to parse string as an integer"]})
    );
}

#[tokio::test]
async fn deeply_nested_json_is_a_422_not_a_stack_overflow() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let resp = client()
        .post("/items")
        .header("content-type", "application/json")
        .body(deep)
        .send()
        .await;
    // serde_json stops at its recursion limit (128 levels), as Python's parser stops at
    // its own: the position is where it gave up.
    let body = detail(resp).await;
    assert_eq!(
        body,
        json!({"detail":[{"type":"json_invalid","loc":["body",127],"msg":"JSON decode error","input":{},"ctx":{"error":"Expecting value"}}]})
    );
}

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct BadPattern {
    #[schemars(regex(pattern = "([unclosed"))]
    code: String,
}

#[post("/bad-pattern")]
async fn bad_pattern(body: Json<BadPattern>) -> &'static str {
    let _ = body;
    "never"
}

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Unenforced {
    #[schemars(extend("minProperties" = 1))]
    labels: std::collections::HashMap<String, String>,
}

#[post("/unenforced")]
async fn unenforced(body: Json<Unenforced>) -> &'static str {
    let _ = body;
    "never"
}

#[test]
fn a_body_constraint_that_cannot_be_enforced_is_a_build_error() {
    // An invalid pattern fails the build for a body field as for a parameter; so does a
    // keyword the document would show and nothing would check.
    let err = App::new()
        .route(bad_pattern)
        .route(unenforced)
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`bad_pattern`: the request body `")
            && err.contains("invalid pattern `([unclosed`"),
        "{err}"
    );
    assert!(
        err.contains("`unenforced`: the request body `")
            && err.contains("declares `minProperties`, which hasten does not enforce"),
        "{err}"
    );
}

#[tokio::test]
async fn a_float_that_json_cannot_carry_is_refused_at_its_field() {
    for text in ["inf", "-Infinity", "nan"] {
        let body = detail(
            client()
                .post("/items")
                .header("content-type", "application/json")
                .body(format!(r#"{{"name": "x", "price": "{text}"}}"#))
                .send()
                .await,
        )
        .await;
        assert_eq!(
            body,
            json!({"detail": [{"type": "finite_number", "loc": ["body", "price"],
                               "msg": "Input should be a finite number", "input": text}]})
        );
    }
}
