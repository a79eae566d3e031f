use hasten::prelude::*;

#[get("/files/{path:path}/meta")]
async fn meta(path: String) -> String {
    path
}

#[get("/items/{id:int}")]
async fn item(id: u32) -> String {
    id.to_string()
}

fn main() {}
