//! The errors a FastAPI user relies on: `HTTPException` with a custom status and a
//! detail that is a string, a dict or a list, with headers (`WWW-Authenticate`); a detail
//! left to the status's reason phrase; a dependency that raises; an exception of the
//! app's own answered by its exception handler; one 422 listing the errors of every
//! parameter location at once; the 422 of a body that is not JSON or is missing; an
//! unhandled exception as a 500; 404 for an unknown path and 405 (with `Allow`)
//! for a wrong method.
//! Its FastAPI twin is `tests/twin/apps/errors.py`.

use hasten::prelude::*;
use serde_json::{json, Value};

/// An order for some of one item.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub(crate) struct Order {
    #[schemars(length(min = 1))]
    name: String,
    #[serde(default = "one")]
    #[schemars(extend("exclusiveMinimum" = 0))]
    quantity: i64,
}

/// The app's own error, answered by the handler `app` registers for it.
#[derive(Debug)]
pub(crate) struct UnicornError {
    name: String,
}

impl std::fmt::Display for UnicornError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} did something", self.name)
    }
}

impl std::error::Error for UnicornError {}

fn one() -> i64 {
    1
}

/// How many of each item are in stock.
fn stock(name: &str) -> Option<i64> {
    match name {
        "hammer" => Some(5),
        "saw" => Some(0),
        _ => None,
    }
}

/// An item, or a 404 with a string detail and a custom header.
#[get("/items/{item_id}")]
async fn read_item(item_id: String) -> Result<Json<Value>, HttpError> {
    let Some(count) = stock(&item_id) else {
        return Err(HttpError::new(StatusCode::NOT_FOUND, "Item not found")
            .with_header("x-error", "There goes my error"));
    };
    Ok(Json(json!({ "item": item_id, "stock": count })))
}

/// The caller, or a 401 that says how to authenticate.
#[get("/me")]
async fn read_me(#[header] authorization: Option<String>) -> Result<Json<Value>, HttpError> {
    if authorization.as_deref() != Some("Bearer letmein") {
        return Err(
            HttpError::new(StatusCode::UNAUTHORIZED, "Not authenticated")
                .with_header("www-authenticate", "Bearer"),
        );
    }
    Ok(Json(json!({ "user": "ann" })))
}

/// Place an order, or a 409 whose detail is an object.
#[post("/orders/", status = 201)]
async fn place_order(order: Json<Order>) -> Result<Json<Value>, HttpError> {
    let available = stock(&order.name).unwrap_or(0);
    if order.quantity > available {
        return Err(HttpError::new(
            StatusCode::CONFLICT,
            json!({ "code": "out_of_stock", "item": order.name, "available": available }),
        ));
    }
    Ok(Json(
        json!({ "ordered": order.quantity, "item": order.name }),
    ))
}

/// Check a list of names; a 400 whose detail lists the unknown ones.
#[post("/batch/")]
async fn check_batch(names: Json<Vec<String>>) -> Result<Json<Value>, HttpError> {
    let unknown: Vec<String> = names
        .iter()
        .filter(|name| stock(name).is_none())
        .map(|name| format!("unknown item: {name}"))
        .collect();
    if !unknown.is_empty() {
        return Err(HttpError::new(StatusCode::BAD_REQUEST, unknown));
    }
    Ok(Json(json!({ "checked": names.len() })))
}

#[dependency]
async fn verify_key(#[header] x_key: String) -> Result<(), HttpError> {
    if x_key != "fake-super-secret-key" {
        return Err(HttpError::from_status(StatusCode::FORBIDDEN));
    }
    Ok(())
}

/// Behind a dependency that raises 403 (detail: the reason phrase).
#[get("/admin/", dependencies = [verify_key])]
async fn admin() -> Json<Value> {
    Json(json!({ "admin": true }))
}

/// A custom status, its detail left to the reason phrase.
#[get("/teapot")]
async fn teapot() -> Result<Json<Value>, HttpError> {
    Err(HttpError::from_status(StatusCode::IM_A_TEAPOT))
}

/// Raises the app's own exception, which its handler answers.
#[get("/unicorns/{name}")]
async fn read_unicorn(name: String) -> Result<Json<Value>, hasten::Error> {
    if name == "yolo" {
        return Err(UnicornError { name }.into());
    }
    Ok(Json(json!({ "unicorn_name": name })))
}

/// A parameter in every location: their errors come in one 422.
#[put("/everything/{item_id}")]
async fn update_everything(
    #[path(ge = 1)] item_id: i64,
    #[query(le = 100)] q: i64,
    #[header(min_length = 3)] x_token: String,
    #[cookie] session: String,
    order: Json<Order>,
) -> Json<Value> {
    Json(
        json!({ "item_id": item_id, "q": q, "x_token": x_token, "session": session,
                 "order": order.0 }),
    )
}

/// An unhandled exception: a plain-text 500.
#[get("/crash")]
async fn crash() -> Result<Json<Value>, hasten::Error> {
    Err(std::io::Error::other("something broke").into())
}

/// The app.
pub(crate) fn app() -> App {
    App::new()
        .title("errors")
        .version("1.0.0")
        .on_error(|e: &UnicornError, _ctx| {
            let message = format!("Oops! {} did something. There goes a rainbow...", e.name);
            (StatusCode::IM_A_TEAPOT, Json(json!({ "message": message }))).into_response()
        })
        .route(read_item)
        .route(read_me)
        .route(place_order)
        .route(check_batch)
        .route(admin)
        .route(teapot)
        .route(read_unicorn)
        .route(update_everything)
        .route(crash)
}
