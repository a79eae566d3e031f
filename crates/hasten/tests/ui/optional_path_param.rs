use hasten::prelude::*;

#[get("/items/{item_id}")]
async fn read(item_id: Option<u32>) -> String {
    format!("{item_id:?}")
}

fn main() {}
