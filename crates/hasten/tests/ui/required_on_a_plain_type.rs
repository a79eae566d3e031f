use hasten::prelude::*;

// `required` on a parameter that is required already.
#[get("/items")]
async fn items(#[query(required)] limit: i64) -> String {
    limit.to_string()
}

fn main() {
    let _ = App::new().route(items);
}
