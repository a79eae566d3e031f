use hasten::prelude::*;

struct Database;

#[get("/items")]
async fn list(db: Database) -> String {
    let _ = db;
    String::new()
}

fn main() {}
