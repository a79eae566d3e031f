//! JSON bodies: a model with nested models and lists of models, optional fields and
//! defaults, a list of models as the body, a dict body, an optional body, several body
//! parameters with a scalar `Body()` beside them, `Body(embed=True)`, and what comes of
//! malformed JSON, a wrong content type, an empty body and an array where an object is
//! expected. Its FastAPI twin is `tests/twin/apps/bodies.py`.

use std::collections::HashMap;

use hasten::prelude::*;
use serde_json::{json, Value};

/// A picture of an item.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
struct Image {
    url: String,
    name: String,
}

/// An item for sale.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
struct Item {
    name: String,
    #[serde(default)]
    description: Option<String>,
    price: f64,
    #[serde(default)]
    tax: Option<f64>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    images: Option<Vec<Image>>,
}

/// Several items sold together.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
struct Offer {
    name: String,
    #[serde(default)]
    description: Option<String>,
    price: f64,
    items: Vec<Item>,
}

/// Who changed an item.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
struct User {
    username: String,
    #[serde(default)]
    full_name: Option<String>,
}

/// Create an item.
#[post("/items/")]
async fn create_item(item: Json<Item>) -> Json<Item> {
    item
}

/// Several body parameters: each under its name in one object.
#[put("/items/{item_id}")]
async fn update_item(
    item_id: i64,
    item: Json<Item>,
    user: Json<User>,
    #[body(gt = 0)] importance: i64,
) -> Json<Value> {
    Json(json!({ "item_id": item_id, "item": item.0, "user": user.0, "importance": importance }))
}

/// One body parameter, embedded: `{"item": {...}}`.
#[put("/items/{item_id}/embedded")]
async fn replace_item(item_id: i64, #[body(embed)] item: Json<Item>) -> Json<Value> {
    Json(json!({ "item_id": item_id, "item": item.0 }))
}

/// Create an offer: a model holding a list of models.
#[post("/offers/")]
async fn create_offer(offer: Json<Offer>) -> Json<Offer> {
    offer
}

/// A list of models as the body.
#[post("/images/multiple/")]
async fn create_images(images: Json<Vec<Image>>) -> Json<Vec<Image>> {
    images
}

/// A dict as the body: any keys, integer values.
#[post("/index-weights/")]
async fn create_index_weights(weights: Json<HashMap<String, i64>>) -> Json<HashMap<String, i64>> {
    weights
}

/// An optional body: nothing sent is no draft.
#[post("/drafts/")]
async fn save_draft(item: Option<Json<Item>>) -> Json<Value> {
    Json(json!({ "draft": item.map(|i| i.0) }))
}

/// The app.
pub(crate) fn app() -> App {
    App::new()
        .title("bodies")
        .version("1.0.0")
        .route(create_item)
        .route(update_item)
        .route(replace_item)
        .route(create_offer)
        .route(create_images)
        .route(create_index_weights)
        .route(save_draft)
}
