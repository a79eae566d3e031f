//! What an operation answers and how the document says so: success statuses (201, 202,
//! 204 with no body), a response model other than what the handler returns (a password
//! kept out of the answer), extra documented responses with their own model, HTML and
//! plain-text responses, and return types that are a list of models, a `dict[str, int]`,
//! an `Optional` model, a bare string and a bare integer.
//! Its FastAPI twin is `tests/twin/apps/responses.py`.

use std::collections::BTreeMap;
use std::sync::Mutex;

use hasten::prelude::*;

/// An item in the shop.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
pub(crate) struct Item {
    name: String,
    price: f64,
    #[serde(default)]
    tax: Option<f64>,
}

/// An explanation.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Message {
    message: String,
}

/// A new user, with a password.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub(crate) struct UserIn {
    username: String,
    password: String,
    email: String,
    #[serde(default)]
    full_name: Option<String>,
}

/// A user as the API shows it: never the password.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub(crate) struct UserOut {
    username: String,
    email: String,
    #[serde(default)]
    full_name: Option<String>,
}

/// The shop's items, by id.
type Items = Mutex<BTreeMap<i64, Item>>;

/// The 404 both item routes answer.
fn not_found() -> (StatusCode, Json<Message>) {
    (
        StatusCode::NOT_FOUND,
        Json(Message {
            message: "Item not found".to_owned(),
        }),
    )
}

fn items(state: &Items) -> std::sync::MutexGuard<'_, BTreeMap<i64, Item>> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// Every item.
#[get("/items/", tags = ["items"])]
async fn list_items(state: State<Items>) -> Json<Vec<Item>> {
    Json(items(&state).values().cloned().collect())
}

/// How many items there are.
#[get("/items/count", tags = ["items"])]
async fn count_items(state: State<Items>) -> Json<i64> {
    Json(items(&state).len() as i64)
}

/// One item, or a 404 with a `Message`.
#[get("/items/{item_id}", tags = ["items"], responses = [(404, "The item does not exist", Message)])]
async fn read_item(
    item_id: i64,
    state: State<Items>,
) -> Result<Json<Item>, (StatusCode, Json<Message>)> {
    items(&state)
        .get(&item_id)
        .cloned()
        .map(Json)
        .ok_or_else(not_found)
}

/// Delete an item: 204 and no body.
#[delete("/items/{item_id}", tags = ["items"], status = 204, responses = [(404, "The item does not exist", Message)])]
async fn delete_item(item_id: i64, state: State<Items>) -> Result<(), (StatusCode, Json<Message>)> {
    match items(&state).remove(&item_id) {
        Some(_) => Ok(()),
        None => Err(not_found()),
    }
}

/// The item with this name, or `null`.
#[get("/search", tags = ["items"])]
async fn find_item(
    #[query(min_length = 1)] name: String,
    state: State<Items>,
) -> Json<Option<Item>> {
    let found = items(&state)
        .values()
        .find(|item| item.name.to_lowercase() == name.to_lowercase())
        .cloned();
    Json(found)
}

/// How many of each item are in stock.
#[get("/stock")]
async fn stock() -> Json<BTreeMap<String, i64>> {
    let counts = [("Hammer", 5), ("Saw", 0), ("Drill", 2)];
    Json(counts.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// Queue a monthly report: 202, with the report's id as a JSON string.
#[post("/reports/", status = 202)]
async fn queue_report(#[query(ge = 1, le = 12)] month: i64) -> Json<String> {
    Json(format!("report-{month:02}"))
}

/// Create a user; the answer is filtered through `UserOut`.
#[post("/users/", status = 201, response_model = UserOut)]
async fn create_user(user: Json<UserIn>) -> Json<UserIn> {
    user
}

/// A small HTML page.
#[get("/page")]
async fn page() -> Html<&'static str> {
    Html("<html><body><h1>Shop</h1></body></html>")
}

/// Plain text.
#[get("/health")]
async fn health() -> &'static str {
    "ok"
}

/// The app.
pub(crate) fn app() -> App {
    let shop: BTreeMap<i64, Item> = [
        (1, "Hammer", 9.5, Some(1.5)),
        (2, "Saw", 12.0, None),
        (3, "Drill", 40.25, Some(8.0)),
    ]
    .into_iter()
    .map(|(id, name, price, tax)| {
        let name = name.to_owned();
        (id, Item { name, price, tax })
    })
    .collect();
    App::new()
        .title("responses")
        .version("1.0.0")
        .state::<Items>(Mutex::new(shop))
        .route(list_items)
        .route(count_items)
        .route(read_item)
        .route(delete_item)
        .route(find_item)
        .route(stock)
        .route(queue_report)
        .route(create_user)
        .route(page)
        .route(health)
}
