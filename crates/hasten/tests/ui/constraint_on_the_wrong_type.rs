use hasten::prelude::*;

#[get("/search")]
async fn search(
    #[query(ge = 1)] q: String,
    #[query(min_length = 2)] limit: u32,
    #[query(pattern = "^a")] page: i64,
) -> String {
    format!("{q} {limit} {page}")
}

fn main() {}
