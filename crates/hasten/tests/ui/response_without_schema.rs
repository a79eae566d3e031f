use hasten::prelude::*;

// Serialize, but no JsonSchema: the document could not say what the route returns.
#[derive(Serialize)]
struct Item {
    name: String,
}

#[get("/items/{id}")]
async fn read(id: u32) -> Result<Json<Item>, HttpError> {
    Ok(Json(Item {
        name: id.to_string(),
    }))
}

fn main() {}
