use hasten::prelude::*;
use hasten::uploads::UploadFile;

#[derive(Deserialize, JsonSchema)]
struct Meta {
    title: String,
}

#[post("/files")]
async fn upload(file: UploadFile, meta: Json<Meta>) -> String {
    format!("{} {}", file.size(), meta.title)
}

fn main() {}
