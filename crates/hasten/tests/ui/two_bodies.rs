use hasten::prelude::*;

#[derive(Deserialize, JsonSchema)]
struct Item {
    name: String,
}

#[post("/items")]
async fn create(item: Json<Item>, raw: Bytes) -> String {
    format!("{} {}", item.name, raw.len())
}

fn main() {}
