//! What the document says about each operation: summaries, multi-paragraph Markdown
//! descriptions from docstrings, custom operationIds, deprecated operations, several tags,
//! a hidden operation, several methods on one path, the status on the decorator,
//! `response_description`, and one function serving several methods (`api_route`).
//! Its FastAPI twin is `tests/twin/apps/operations.py`.

use hasten::prelude::*;
use serde_json::{json, Value};

/// An item in the catalogue.
#[derive(Deserialize, Serialize, JsonSchema)]
struct Item {
    name: String,
    price: f64,
    #[serde(default)]
    description: Option<String>,
}

/// The one stored item: `(id, name, price)`.
const ITEMS: [(i64, &str, f64); 1] = [(1, "Hammer", 9.5)];

fn stored(id: i64, name: &str, price: f64) -> Value {
    json!({ "id": id, "name": name, "price": price, "description": null })
}

/// Every item, a page at a time.
///
/// Pages are counted in items:
///
/// - `skip`: how many to leave out first
/// - `limit`: how many to return at most
///
/// ```
/// GET /items/?skip=10&limit=5
/// ```
#[get("/items/", tags = ["items"], summary = "List the catalogue")]
async fn list_items(
    #[query(default = 0)] skip: i64,
    #[query(default = 10)] limit: i64,
) -> Json<Value> {
    let items: Vec<Value> = ITEMS
        .iter()
        .skip(usize::try_from(skip).unwrap_or(0))
        .take(usize::try_from(limit).unwrap_or(0))
        .map(|&(id, name, price)| stored(id, name, price))
        .collect();
    Json(Value::Array(items))
}

/// Create an item.
///
/// The price is **in euros**.
#[post(
    "/items/",
    tags = ["items"],
    status = 201,
    response_description = "The item, as stored"
)]
async fn create_item(item: Json<Item>) -> Json<Item> {
    item
}

/// One item, by id.
#[get("/items/{item_id}", tags = ["items", "catalogue"], operation_id = "getItem")]
async fn read_item(item_id: i64) -> Result<Json<Value>, HttpError> {
    ITEMS
        .iter()
        .find(|(id, _, _)| *id == item_id)
        .map(|&(id, name, price)| Json(stored(id, name, price)))
        .ok_or_else(|| HttpError::new(StatusCode::NOT_FOUND, "Item not found"))
}

#[put("/items/{item_id}", tags = ["items"], summary = "Replace an item")]
async fn replace_item(item_id: i64, item: Json<Item>) -> Json<Value> {
    Json(json!({
        "id": item_id, "name": item.name, "price": item.price, "description": item.description,
    }))
}

/// Delete an item; nothing is returned.
#[delete("/items/{item_id}", tags = ["items"], status = 204)]
async fn delete_item(item_id: i64) {
    let _ = item_id;
}

/// The old listing: use `GET /items/`.
#[get("/legacy/items/", tags = ["items"], deprecated)]
async fn legacy_items() -> Json<Value> {
    Json(json!([]))
}

#[get("/internal/stats", include_in_schema = false)]
async fn stats() -> Json<Value> {
    Json(json!({ "items": ITEMS.len() }))
}

/// Answer, whatever the method.
#[route("/ping", methods = ["GET", "POST"], tags = ["health"])]
async fn ping() -> Json<Value> {
    Json(json!({ "ping": "pong" }))
}

/// The app.
pub(crate) fn app() -> App {
    App::new()
        .title("operations")
        .version("1.0.0")
        .route(list_items)
        .route(create_item)
        .route(read_item)
        .route(replace_item)
        .route(delete_item)
        .route(legacy_items)
        .route(stats)
        .route(ping)
}
