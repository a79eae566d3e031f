use hasten::prelude::*;

// Filtering options with no model to filter through.
#[get("/me", response_model_exclude_none)]
async fn me() -> Json<serde_json::Value> {
    Json(serde_json::json!({}))
}

fn main() {
    let _ = App::new().route(me);
}
