//! A body field's constraint holds wherever the field sits: in nested lists, map
//! values, optional lists, tuples, newtypes, flattened structs, generic wrappers, boxes
//! and a type that contains itself. Each case breaks one constraint in an otherwise
//! valid body and expects FastAPI's 422 for exactly that field.

use std::collections::HashMap;

use hasten::prelude::*;
use hasten::testing::TestClient;
use serde_json::json;

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Item {
    #[schemars(length(min = 1))]
    name: String,
    #[schemars(range(max = 5))]
    n: u32,
}

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Wrapper(Item);

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Flat {
    #[serde(flatten)]
    inner: Item,
    other: u8,
}

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Page<T> {
    items: Vec<T>,
    #[schemars(range(min = 1))]
    page: u32,
}

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Tree {
    #[schemars(length(min = 1))]
    name: String,
    children: Vec<Tree>,
}

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct All {
    nested: Vec<Vec<Item>>,
    map: HashMap<String, Item>,
    opt: Option<Vec<Item>>,
    tuple: (Item, u8),
    wrap: Wrapper,
    flat: Flat,
    page: Page<Item>,
    boxed: Box<Item>,
    tree: Tree,
}

#[post("/all")]
async fn all(b: Json<All>) -> &'static str {
    let _ = b;
    "ok"
}

#[tokio::test]
async fn a_constraint_holds_wherever_its_field_sits() {
    let c = TestClient::new(App::new().route(all));
    let good_item = json!({"name": "a", "n": 1});
    let bad_item = json!({"name": "", "n": 1});
    let base = json!({
        "nested": [[good_item]], "map": {"k": good_item}, "opt": [good_item],
        "tuple": [good_item, 1], "wrap": good_item, "flat": {"name": "a", "n": 1, "other": 1},
        "page": {"items": [good_item], "page": 1}, "boxed": good_item,
        "tree": {"name": "r", "children": [{"name": "c", "children": []}]}
    });
    let r = c.post("/all").json(&base).send().await;
    assert_eq!(r.status(), 200, "{}", r.text());
    let too_short = |loc: serde_json::Value| {
        json!({"type": "string_too_short", "loc": loc, "msg": "String should have at least 1 character",
               "input": "", "ctx": {"min_length": 1}})
    };
    let cases = [
        (
            "/nested/0/0",
            bad_item.clone(),
            too_short(json!(["body", "nested", 0, 0, "name"])),
        ),
        (
            "/map/k",
            bad_item.clone(),
            too_short(json!(["body", "map", "k", "name"])),
        ),
        (
            "/opt/0",
            bad_item.clone(),
            too_short(json!(["body", "opt", 0, "name"])),
        ),
        (
            "/tuple/0",
            bad_item.clone(),
            too_short(json!(["body", "tuple", 0, "name"])),
        ),
        (
            "/wrap",
            bad_item.clone(),
            too_short(json!(["body", "wrap", "name"])),
        ),
        (
            "/flat/name",
            json!(""),
            too_short(json!(["body", "flat", "name"])),
        ),
        (
            "/flat/n",
            json!(9),
            json!({"type": "less_than_equal", "loc": ["body", "flat", "n"],
                   "msg": "Input should be less than or equal to 5", "input": 9, "ctx": {"le": 5}}),
        ),
        (
            "/page/items/0",
            bad_item.clone(),
            too_short(json!(["body", "page", "items", 0, "name"])),
        ),
        (
            "/page/page",
            json!(0),
            json!({"type": "greater_than_equal", "loc": ["body", "page", "page"],
                   "msg": "Input should be greater than or equal to 1", "input": 0, "ctx": {"ge": 1}}),
        ),
        (
            "/boxed",
            bad_item.clone(),
            too_short(json!(["body", "boxed", "name"])),
        ),
        (
            "/tree/children/0/name",
            json!(""),
            too_short(json!(["body", "tree", "children", 0, "name"])),
        ),
    ];
    for (ptr, v, expected) in cases {
        let mut body = base.clone();
        *body.pointer_mut(ptr).unwrap() = v;
        let r = c.post("/all").json(&body).send().await;
        assert_eq!(r.status(), 422, "{ptr}: {}", r.text());
        assert_eq!(
            r.json::<serde_json::Value>(),
            json!({"detail": [expected]}),
            "{ptr}"
        );
    }
}
