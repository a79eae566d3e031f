//! The main example: path, query, header and body parameters with validation.
//!
//! Run with: `cargo run --release --example hello`, then from another shell:
//!
//! ```text
//! curl http://127.0.0.1:8000/
//! curl 'http://127.0.0.1:8000/items/42?q=books&limit=5'
//! curl 'http://127.0.0.1:8000/items/0?limit=abc'            # 422 listing both errors
//! curl -X POST http://127.0.0.1:8000/items/ -H 'content-type: application/json' \
//!      -d '{"name": "Hammer", "price": 9.5, "tags": ["tools"]}'
//! curl -X POST http://127.0.0.1:8000/items/ -H 'content-type: application/json' \
//!      -d '{"price": "free", "tags": "tools"}'              # every body error at once
//! curl 'http://127.0.0.1:8000/items/?skip=1&limit=2'
//! curl http://127.0.0.1:8000/models/resnet
//! curl http://127.0.0.1:8000/whoami -H 'x-token: secret'
//! curl http://127.0.0.1:8000/report                         # a plain fn, on the blocking pool
//! ```

use hasten::prelude::*;
use serde_json::{json, Value};

/// An item for sale.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
struct Item {
    name: String,
    description: Option<String>,
    price: f64,
    tax: Option<f64>,
    #[serde(default)]
    tags: Vec<String>,
}

/// A model family.
#[derive(Debug, Clone, Copy, Serialize, ParamValue)]
#[serde(rename_all = "lowercase")]
enum ModelName {
    Alexnet,
    Resnet,
    Lenet,
}

/// Say hello.
#[get("/")]
async fn root() -> Json<Value> {
    Json(json!({ "message": "Hello World" }))
}

/// Read one item.
///
/// `item_id` comes from the path, `q` and `limit` from the query string.
#[get("/items/{item_id}", tags = ["items"])]
async fn read_item(
    #[path(ge = 1)] item_id: u32,
    #[query(min_length = 3, max_length = 50)] q: Option<String>,
    #[query(default = 10, le = 100)] limit: u32,
) -> Json<Value> {
    Json(json!({ "item_id": item_id, "q": q, "limit": limit }))
}

/// List items, a page at a time.
#[get("/items/", tags = ["items"])]
async fn list_items(
    #[query(default = 0)] skip: usize,
    #[query(default = 10, le = 100)] limit: usize,
) -> Json<Value> {
    let names = ["Hammer", "Saw", "Drill", "Level"];
    let page: Vec<&str> = names.iter().skip(skip).take(limit).copied().collect();
    Json(json!({ "items": page, "skip": skip, "limit": limit }))
}

/// Create an item; answers 201 with the item and its price with tax.
#[post("/items/", status = 201, tags = ["items"])]
async fn create_item(item: Json<Item>) -> Json<Value> {
    let total = item.price + item.tax.unwrap_or(0.0);
    Json(json!({ "item": item.0, "price_with_tax": total }))
}

/// Look up a model by name: anything else is a 422 listing the choices.
#[get("/models/{model_name}")]
async fn get_model(model_name: ModelName) -> Json<Value> {
    let message = match model_name {
        ModelName::Alexnet => "Deep Learning FTW!",
        ModelName::Resnet => "Residual networks",
        ModelName::Lenet => "LeCNN all the images",
    };
    Json(json!({ "model_name": model_name, "message": message }))
}

/// Who is calling: reads two headers.
#[get("/whoami")]
async fn whoami(
    #[header] x_token: String,
    #[header] user_agent: Option<String>,
) -> Result<Json<Value>, HttpError> {
    if x_token != "secret" {
        return Err(HttpError::new(
            StatusCode::UNAUTHORIZED,
            "X-Token header invalid",
        ));
    }
    Ok(Json(json!({ "user_agent": user_agent })))
}

/// A CPU-bound report: a plain `fn`, so it runs on the blocking pool.
#[get("/report")]
fn report() -> String {
    let sum: u64 = (1..=2_000_000u64).map(|i| i % 7).sum();
    format!("report checksum {sum}\n")
}

fn app() -> App {
    App::new()
        .title("Hello")
        .version("1.0.0")
        .route(root)
        .route(read_item)
        .route(list_items)
        .route(create_item)
        .route(get_model)
        .include(
            Router::new()
                .response(StatusCode::UNAUTHORIZED, "X-Token header invalid")
                .route(whoami),
        )
        .route(report)
        // For a load balancer or an orchestrator (outside the API document).
        .health("/health")
        .readiness("/ready")
        .metrics("/metrics")
        .request_ids()
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    hasten_examples::run(app()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use hasten::testing::TestClient;

    #[tokio::test]
    async fn the_readme_requests_answer_as_documented() {
        let c = TestClient::new(app());
        assert_eq!(
            c.get("/").send().await.json::<Value>(),
            json!({"message": "Hello World"})
        );
        assert_eq!(
            c.get("/items/42?q=books&limit=5")
                .send()
                .await
                .json::<Value>(),
            json!({"item_id": 42, "q": "books", "limit": 5})
        );
        let resp = c.get("/items/0?limit=abc").send().await;
        assert_eq!(resp.status(), 422);
        assert_eq!(
            resp.json::<Value>(),
            json!({"detail": [
                {"type": "greater_than_equal", "loc": ["path", "item_id"],
                 "msg": "Input should be greater than or equal to 1", "input": "0", "ctx": {"ge": 1}},
                {"type": "int_parsing", "loc": ["query", "limit"],
                 "msg": "Input should be a valid integer, unable to parse string as an integer",
                 "input": "abc"}
            ]})
        );
        let resp = c
            .post("/items/")
            .json(&json!({"name": "Hammer", "price": 9.5, "tags": ["tools"]}))
            .send()
            .await;
        assert_eq!(resp.status(), 201);
        assert_eq!(
            resp.json::<Value>(),
            json!({"item": {"name": "Hammer", "description": null, "price": 9.5, "tax": null,
                            "tags": ["tools"]},
                   "price_with_tax": 9.5})
        );
        // The README: "422 listing body.name (missing), body.price (float_parsing) and
        // body.tags (list_type) at once".
        let resp = c
            .post("/items/")
            .json(&json!({"price": "free", "tags": "tools"}))
            .send()
            .await;
        assert_eq!(resp.status(), 422);
        assert_eq!(
            resp.json::<Value>(),
            json!({"detail": [
                {"type": "missing", "loc": ["body", "name"], "msg": "Field required",
                 "input": {"price": "free", "tags": "tools"}},
                {"type": "float_parsing", "loc": ["body", "price"],
                 "msg": "Input should be a valid number, unable to parse string as a number",
                 "input": "free"},
                {"type": "list_type", "loc": ["body", "tags"], "msg": "Input should be a valid list",
                 "input": "tools"}
            ]})
        );
        assert_eq!(
            c.get("/items/?skip=1&limit=2").send().await.json::<Value>(),
            json!({"items": ["Saw", "Drill"], "skip": 1, "limit": 2})
        );
        assert_eq!(
            c.get("/models/resnet").send().await.json::<Value>(),
            json!({"model_name": "resnet", "message": "Residual networks"})
        );
        let resp = c.get("/models/vgg").send().await;
        assert_eq!(resp.status(), 422);
        assert_eq!(
            resp.json::<Value>(),
            json!({"detail": [{"type": "enum", "loc": ["path", "model_name"],
                "msg": "Input should be 'alexnet', 'resnet' or 'lenet'", "input": "vgg",
                "ctx": {"expected": "'alexnet', 'resnet' or 'lenet'"}}]})
        );
        let resp = c
            .get("/whoami")
            .header("x-token", "secret")
            .header("user-agent", "tests/1")
            .send()
            .await;
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.json::<Value>(), json!({"user_agent": "tests/1"}));
        let resp = c.get("/whoami").header("x-token", "nope").send().await;
        assert_eq!(resp.status(), 401);
        assert_eq!(
            resp.json::<Value>(),
            json!({"detail": "X-Token header invalid"})
        );
        assert!(c
            .get("/report")
            .send()
            .await
            .text()
            .starts_with("report checksum"));
    }
}
