use hasten::prelude::*;

// The body's type derives JsonSchema but not Deserialize: one error, naming the trait,
// at the type.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct Item {
    name: String,
}

#[post("/items")]
async fn create(item: Json<Item>) -> &'static str {
    let _ = item;
    "ok"
}

fn main() {}
