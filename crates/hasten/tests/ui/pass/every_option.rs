//! Every route option and parameter key, so the whole expansion is type-checked.
use hasten::prelude::*;

#[derive(Debug, Clone, Copy, ParamValue)]
#[param(rename_all = "snake_case")]
enum Order {
    NewestFirst,
    #[param(rename = "old")]
    OldestFirst,
}

/// A documented body.
#[derive(Serialize, Deserialize, JsonSchema)]
struct Found {
    detail: String,
}

/// Search items.
///
/// A longer description.
#[get(
    "/items/{item_id}/{rest:path}",
    status = 200,
    tags = ["items", "search"],
    summary = "Search",
    operation_id = "search_items",
    deprecated,
    include_in_schema = false,
    response_model = Found,
    response_model_exclude_unset,
    response_model_exclude_none = true,
    response_model_exclude_defaults = false,
    response_model_include = ["a"],
    response_model_exclude = ["b"],
    response_model_by_alias = true,
    response_description = "Found it",
    responses = [(404, "Not found", Found), (409, "Conflict")]
)]
#[allow(clippy::too_many_arguments)]
async fn search(
    #[path(gt = 0, lt = 1000)] item_id: u32,
    rest: String,
    #[query(ge = -5, le = 5.5, default = 1.0, title = "Scale", description = "d", example = 2.5)]
    scale: f64,
    #[query(min_length = 1, max_length = 10, pattern = "^[a-z]+$", alias = "q-term", deprecated = true)]
    term: Option<String>,
    order: Option<Order>,
    #[header(convert_underscores = false, alias = "X-Thing")] thing: Option<String>,
    #[header] x_tags: Option<Vec<String>>,
    #[cookie(example = "abc")] session: Option<String>,
    #[query(include_in_schema = false, default = "x".to_owned())] hidden: String,
    #[query(required)] must: Option<i64>,
    ids: Option<Vec<i64>>,
) -> String {
    format!("{item_id}{rest}{scale}{term:?}{order:?}{thing:?}{x_tags:?}{session:?}{ids:?}{hidden}{must:?}")
}

#[route("/multi", methods = ["get", "POST"])]
fn multi(#[form] a: String, #[form(default = 3)] b: u8) -> String {
    format!("{a}{b}")
}

#[put("/raw")]
async fn raw(#[body] text: String) -> String {
    text
}

#[patch("/j")]
async fn j(Json(v): Json<serde_json::Value>) -> Json<serde_json::Value> {
    Json(v)
}

// Several JSON body parameters share one object; `embed` nests a single one.
#[put("/several")]
async fn several(
    a: Json<serde_json::Value>,
    b: Option<Json<Vec<i32>>>,
    #[body(ge = 1, le = 5)] rank: u8,
    #[body(min_length = 1)] tags: Vec<String>,
) -> String {
    format!("{:?} {:?} {rank} {tags:?}", a.0, b.map(|b| b.0))
}

#[post("/embedded")]
async fn embedded(#[body(embed, alias = "value")] v: Json<i64>) -> String {
    v.0.to_string()
}

#[delete("/d")]
async fn d() -> StatusCode {
    StatusCode::NO_CONTENT
}

#[options("/o")]
async fn o(headers: HeaderMap, req: Request) -> String {
    format!("{} {}", headers.len(), req.uri())
}

#[head("/h")]
async fn h() {}

fn main() {
    let _ = App::new()
        .route(search)
        .route(multi)
        .route(raw)
        .route(j)
        .route(several)
        .route(embedded)
        .route(d)
        .route(o)
        .route(h)
        .build();
}
