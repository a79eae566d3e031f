use hasten::prelude::*;

#[derive(Serialize, Deserialize, JsonSchema)]
struct User {
    #[serde(rename = "userName")]
    user_name: String,
}

// Field names instead of the serialised ones: not something serde can do.
#[get("/me", response_model = User, response_model_by_alias = false)]
async fn me() -> Json<User> {
    Json(User { user_name: "ann".into() })
}

fn main() {
    let _ = App::new().route(me);
}
