use hasten::prelude::*;

// The body's type derives Deserialize but not JsonSchema: one error, naming the trait,
// at the type.
#[derive(Deserialize)]
struct Item {
    name: String,
}

#[post("/items")]
async fn create(item: Json<Item>) -> String {
    item.0.name
}

fn main() {}
