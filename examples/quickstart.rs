//! A first hasten app: two path operations, validated and documented.

use hasten::prelude::*;

#[derive(Deserialize, Serialize, JsonSchema)]
struct Item {
    name: String,
    price: f64,
    tax: Option<f64>,
}

/// Read one item.
#[get("/items/{item_id}")]
async fn read_item(
    // Named in the path: a path parameter, at least 1.
    #[path(ge = 1)] item_id: u32,
    // A plain scalar: a query parameter, optional.
    q: Option<String>,
    // A query parameter with a default and a maximum.
    #[query(default = 10, le = 100)] limit: u32,
) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "item_id": item_id, "q": q, "limit": limit }))
}

/// Create an item.
#[post("/items/", status = 201)]
async fn create_item(item: Json<Item>) -> Json<Item> {
    item
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let app = App::new().route(read_item).route(create_item);
    hasten::serve(app, "127.0.0.1:8000").await
}
