use hasten::prelude::*;

// Missing #[dependency]: `pagination` is a plain function, not a dependency.
fn pagination(page: u32) -> u32 {
    page
}

#[get("/items")]
async fn list(page: Depends<pagination>) -> String {
    page.to_string()
}

fn main() {}
