//! Path, query, header and cookie parameters: their types (int, float, bool in every
//! spelling pydantic reads, str, an enum), constraints, aliases, titles, descriptions and
//! examples; lists of query and header values; required, optional and defaulted values;
//! header names with underscores converted or not. Its FastAPI twin is
//! `tests/twin/apps/params.py`.

use hasten::prelude::*;
use serde_json::{json, Value};

/// A color.
#[derive(Debug, Clone, Copy, Serialize, ParamValue)]
#[serde(rename_all = "lowercase")]
enum Color {
    Red,
    Green,
    Blue,
}

/// Read one item.
#[get("/items/{item_id}")]
async fn read_item(
    #[path(title = "The ID of the item", ge = 1, le = 1000)] item_id: i64,
    #[query(min_length = 3, max_length = 10, pattern = "^[a-z]+$")] q: Option<String>,
    #[query(default = false)] short: bool,
) -> Json<Value> {
    Json(json!({ "item_id": item_id, "q": q, "short": short }))
}

/// Search items by name and price.
#[get("/search/")]
async fn search(
    #[query(
        alias = "item-query",
        title = "Query string",
        description = "What to look for.",
        example = "hammer"
    )]
    q: String,
    #[query(gt = 0, default = 1.5)] min_price: f64,
    #[query(lt = 1000)] max_price: Option<f64>,
    #[query(ge = 1, default = 1, deprecated)] page: i64,
) -> Json<Value> {
    Json(json!({ "q": q, "min_price": min_price, "max_price": max_price, "page": page }))
}

/// Booleans, read as pydantic reads them.
#[get("/flags/")]
async fn read_flags(#[query] on: bool, #[query] off: Option<bool>) -> Json<Value> {
    Json(json!({ "on": on, "off": off }))
}

/// A color from the path, and more to mix from the query.
#[get("/colors/{color}")]
async fn read_color(color: Color, #[query(default = Vec::new())] mix: Vec<Color>) -> Json<Value> {
    Json(json!({ "color": color, "mix": mix }))
}

/// Repeated query parameters: `?tag=a&tag=b`.
#[get("/tags/")]
async fn read_tags(
    #[query(min_length = 1, max_length = 3)] tag: Vec<String>,
    #[query] n: Option<Vec<i64>>,
) -> Json<Value> {
    Json(json!({ "tag": tag, "n": n }))
}

/// A file at a version.
#[get("/files/{file_id}/v/{version}")]
async fn read_file(file_id: String, #[path(gt = 0, le = 10.5)] version: f64) -> Json<Value> {
    Json(json!({ "file_id": file_id, "version": version }))
}

/// Headers: `x_token` is read from `x-token`, `strange_header` as it is written.
#[get("/headers/")]
async fn read_headers(
    #[header] user_agent: Option<String>,
    #[header] x_token: Option<Vec<String>>,
    #[header(convert_underscores = false)] strange_header: Option<String>,
    #[header(ge = 0, le = 5, default = 0, description = "How many retries.")] x_retries: i64,
) -> Json<Value> {
    Json(json!({
        "user_agent": user_agent, "x_token": x_token, "strange_header": strange_header,
        "x_retries": x_retries,
    }))
}

/// Cookies: one required, one an enum with a default, one optional.
#[get("/cookies/")]
async fn read_cookies(
    #[cookie(min_length = 4)] session_id: String,
    #[cookie(default = Color::Red)] theme: Color,
    #[cookie] visits: Option<i64>,
) -> Json<Value> {
    Json(json!({ "session_id": session_id, "theme": theme, "visits": visits }))
}

/// The app.
pub(crate) fn app() -> App {
    App::new()
        .title("params")
        .version("1.0.0")
        .route(read_item)
        .route(search)
        .route(read_flags)
        .route(read_color)
        .route(read_tags)
        .route(read_file)
        .route(read_headers)
        .route(read_cookies)
}
