use hasten::prelude::*;

// Four problems in one signature: all four are reported, each at its own token.
#[get("/items/{item_id}", status = 999)]
async fn read_item(
    item_id: u32,
    #[qurey] q: Option<String>,
    #[query(minlength = 3)] name: String,
    tag: &str,
) -> String {
    format!("{item_id} {q:?} {name} {tag}")
}

fn main() {}
