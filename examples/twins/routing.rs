//! Routers and what the document says about operations: prefixes and nested routers in
//! operationIds, tags with external docs, a `:path` converter, `response_description`, a
//! hidden parameter, defaults written as expressions, a deprecated parameter, a
//! redirect. Its FastAPI twin is `tests/twin/apps/routing.py`.

use hasten::openapi::Tag;
use hasten::prelude::*;
use serde_json::{json, Map, Value};

/// List items, filtered.
#[get("/")]
async fn list_items(
    #[query(default = "all".to_owned())] q: String,
    #[query(default = vec!["a".to_owned(), "b".to_owned()])] tags: Vec<String>,
    #[query(default = 10, deprecated)] limit: i64,
) -> Json<Value> {
    Json(json!({ "q": q, "tags": tags, "limit": limit }))
}

#[get("/files/{file_path:path}", response_description = "The file's path")]
async fn read_file(
    file_path: String,
    #[query(include_in_schema = false)] secret: Option<String>,
) -> Json<Value> {
    Json(json!({ "file_path": file_path, "secret": secret }))
}

#[get("/{user_id}")]
async fn read_user(user_id: i64) -> Json<Map<String, Value>> {
    let mut m = Map::new();
    m.insert("user_id".into(), json!(user_id));
    Json(m)
}

/// Search: `q` must be sent, and is documented as nullable.
#[get("/search")]
async fn search(#[query(required, max_length = 10)] q: Option<String>) -> Json<Value> {
    Json(json!({ "q": q }))
}

#[get("/old")]
async fn old() -> Redirect {
    Redirect::to("/items/")
}

/// The app.
pub(crate) fn app() -> App {
    App::new()
        .title("routing")
        .version("1.0.0")
        .openapi_tag(
            Tag::new("items")
                .description("Manage items.")
                .external_docs("https://example.com/items/", "Items external docs"),
        )
        .tag("users", "Users, and their admin.")
        .include(
            Router::new()
                .prefix("/items")
                .tag("items")
                .route(list_items)
                .route(read_file),
        )
        .include(
            Router::new()
                .prefix("/users")
                .tag("users")
                .include(Router::new().prefix("/admin").route(read_user)),
        )
        .route(search)
        .route(old)
}
