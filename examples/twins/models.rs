//! Models that stress schema generation: deep nesting, one model read in the request and
//! written in the response, optional nested models, a list of optional models, a tree
//! that refers to itself, a generic page and maps of lists, field aliases, fields with a
//! title, a description and examples, and defaults that are a list or a dict.
//! Its FastAPI twin is `tests/twin/apps/models.py`.

use std::collections::BTreeMap;

use hasten::prelude::*;

/// A picture of an item.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
struct Image {
    url: String,
    name: String,
    #[serde(default)]
    width: Option<i64>,
}

/// Where someone lives.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
struct Address {
    street: String,
    city: String,
    #[serde(default)]
    postcode: Option<String>,
}

/// Who owns an item.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
struct Owner {
    /// The owner's full name.
    #[serde(rename = "fullName")]
    #[schemars(title = "Full name", example = &"Alice Smith")]
    full_name: String,
    #[serde(rename = "emailAddress", default)]
    email_address: Option<String>,
    #[serde(default)]
    address: Option<Address>,
}

/// An item for sale.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
struct Item {
    /// What the item is called.
    #[schemars(title = "Item name", example = &"Hammer", length(min = 1))]
    name: String,
    /// In euros.
    #[schemars(extend("exclusiveMinimum" = 0), example = 9.5, example = 12.0)]
    price: f64,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    owner: Option<Owner>,
    #[serde(default)]
    images: Vec<Option<Image>>,
}

/// One page of results.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "Page_{T}_")]
struct Page<T> {
    items: Vec<T>,
    total: i64,
    next: Option<String>,
}

/// A node of a tree.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
struct Node {
    name: String,
    #[serde(default)]
    children: Vec<Node>,
}

/// What a tree holds.
#[derive(Debug, Serialize, JsonSchema)]
struct TreeSummary {
    nodes: i64,
    depth: i64,
    leaves: Vec<String>,
}

/// One line of an order.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
struct OrderLine {
    item: Item,
    #[serde(default = "one")]
    #[schemars(range(min = 1))]
    quantity: i64,
}

fn one() -> i64 {
    1
}

/// An order: a customer, lines of items, maybe a shipping address.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
struct Order {
    customer: Owner,
    lines: Vec<OrderLine>,
    #[serde(default)]
    shipping: Option<Address>,
    #[serde(default)]
    notes: BTreeMap<String, Vec<String>>,
}

/// A user's preferences, with defaults that are containers.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
struct Preferences {
    #[serde(default = "light")]
    theme: String,
    #[serde(default = "shortcuts")]
    shortcuts: BTreeMap<String, String>,
    #[serde(default = "favourites")]
    favourites: Vec<i64>,
    #[serde(default)]
    layout: Option<BTreeMap<String, i64>>,
}

impl Default for Preferences {
    fn default() -> Self {
        Preferences {
            theme: light(),
            shortcuts: shortcuts(),
            favourites: favourites(),
            layout: None,
        }
    }
}

fn light() -> String {
    "light".to_owned()
}

fn shortcuts() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("save".to_owned(), "ctrl+s".to_owned()),
        ("quit".to_owned(), "ctrl+q".to_owned()),
    ])
}

fn favourites() -> Vec<i64> {
    vec![1, 2, 3]
}

/// A one-line answer.
#[derive(Debug, Serialize, JsonSchema)]
struct Message {
    detail: String,
}

/// The stored items, by id.
fn items() -> BTreeMap<i64, Item> {
    let hammer = Item {
        name: "Hammer".into(),
        price: 9.5,
        tags: vec!["tools".into()],
        owner: Some(Owner {
            full_name: "Alice Smith".into(),
            email_address: None,
            address: Some(Address {
                street: "1 Main St".into(),
                city: "Springfield".into(),
                postcode: None,
            }),
        }),
        images: vec![
            Some(Image {
                url: "https://example.com/h.png".into(),
                name: "hammer".into(),
                width: None,
            }),
            None,
        ],
    };
    let saw = Item {
        name: "Saw".into(),
        price: 12.0,
        tags: Vec::new(),
        owner: None,
        images: Vec::new(),
    };
    BTreeMap::from([(1, hammer), (2, saw)])
}

fn not_found() -> HttpError {
    HttpError::new(StatusCode::NOT_FOUND, "Item not found")
}

/// Create an item: the same model in and out.
#[post("/items/", status = 201)]
async fn create_item(item: Json<Item>) -> Json<Item> {
    item
}

/// A page of items.
#[get("/items/")]
async fn list_items(
    #[query(default = 0)] skip: i64,
    #[query(default = 10)] limit: i64,
) -> Json<Page<Item>> {
    let all = items();
    let total = all.len() as i64;
    let start = skip.clamp(0, total) as usize;
    let count = limit.clamp(0, total) as usize;
    let page = all.into_values().skip(start).take(count).collect();
    let next =
        (skip + limit < total).then(|| format!("/items/?skip={}&limit={limit}", skip + limit));
    Json(Page {
        items: page,
        total,
        next,
    })
}

/// One item, or 404.
#[get("/items/{item_id}", responses = [(404, "", Message)])]
async fn read_item(item_id: i64) -> Result<Json<Item>, HttpError> {
    items().remove(&item_id).map(Json).ok_or_else(not_found)
}

/// An item's images; a missing one is null.
#[get("/items/{item_id}/images")]
async fn read_images(item_id: i64) -> Result<Json<Vec<Option<Image>>>, HttpError> {
    let item = items().remove(&item_id).ok_or_else(not_found)?;
    Ok(Json(item.images))
}

/// Replace an owner: fields by their aliases, both ways.
#[put("/owners/{owner_id}")]
async fn update_owner(owner_id: i64, owner: Json<Owner>) -> Json<Owner> {
    let _ = owner_id;
    owner
}

/// Count a tree's nodes and depth, and list its leaves.
#[post("/trees/")]
async fn summarize_tree(root: Json<Node>) -> Json<TreeSummary> {
    let (mut nodes, mut depth, mut leaves) = (0, 0, Vec::new());
    let mut stack = vec![(&root.0, 1)];
    while let Some((node, level)) = stack.pop() {
        nodes += 1;
        depth = depth.max(level);
        if node.children.is_empty() {
            leaves.push(node.name.clone());
        }
        stack.extend(node.children.iter().rev().map(|c| (c, level + 1)));
    }
    Json(TreeSummary {
        nodes,
        depth,
        leaves,
    })
}

/// Items by category, counted.
#[post("/catalog/")]
async fn count_catalog(catalog: Json<BTreeMap<String, Vec<Item>>>) -> Json<BTreeMap<String, i64>> {
    Json(
        catalog
            .0
            .into_iter()
            .map(|(category, items)| (category, items.len() as i64))
            .collect(),
    )
}

/// Total an order.
#[post("/orders/", status = 201)]
async fn create_order(order: Json<Order>) -> Json<BTreeMap<String, f64>> {
    let total = order
        .lines
        .iter()
        .map(|line| line.item.price * line.quantity as f64)
        .sum();
    Json(BTreeMap::from([("total".to_owned(), total)]))
}

/// The default preferences.
#[get("/preferences/")]
async fn read_preferences() -> Json<Preferences> {
    Json(Preferences::default())
}

/// Replace the preferences; what is left out takes its default.
#[put("/preferences/")]
async fn update_preferences(preferences: Json<Preferences>) -> Json<Preferences> {
    preferences
}

/// The app.
pub(crate) fn app() -> App {
    App::new()
        .title("models")
        .version("1.0.0")
        .route(create_item)
        .route(list_items)
        .route(read_item)
        .route(read_images)
        .route(update_owner)
        .route(summarize_tree)
        .route(count_catalog)
        .route(create_order)
        .route(read_preferences)
        .route(update_preferences)
}
