use hasten::prelude::*;

#[get("/items/{item_id}")]
async fn read_item(id: u32) -> String {
    id.to_string()
}

fn main() {}
