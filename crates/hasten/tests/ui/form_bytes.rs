use hasten::prelude::*;

// A form field cannot be the whole body.
#[post("/files/")]
async fn create_file(#[form] file: hasten::Bytes) -> String {
    file.len().to_string()
}

fn main() {
    let _ = App::new().route(create_file);
}
