//! The benchmark endpoints in hasten. The typed endpoint's body constraints are
//! [`Order`]'s schemars attributes.

use hasten::prelude::*;
use hasten::ws::WebSocket;

use crate::{Message, Order, Receipt, HELLO, WAIT};

#[get("/plaintext")]
async fn plaintext() -> &'static str {
    HELLO
}

#[get("/json")]
async fn json() -> Json<Message> {
    Json(Message { message: HELLO })
}

/// The calling client, from a header.
#[dependency]
async fn client(#[header] x_client: String) -> String {
    x_client
}

#[post("/typed/{id}")]
async fn typed(
    #[path(ge = 1)] id: u32,
    #[query(ge = 1, le = 100)] limit: u32,
    #[query(min_length = 1, max_length = 20)] q: String,
    order: Json<Order>,
    client: Depends<client>,
) -> Json<Receipt> {
    let order = order.0;
    Json(crate::receipt(
        id,
        (*client).clone(),
        crate::TypedQuery { limit, q },
        order,
    ))
}

#[get("/io")]
async fn io() -> &'static str {
    tokio::time::sleep(WAIT).await;
    "done"
}

#[get("/sync")]
fn sync() -> &'static str {
    std::thread::sleep(WAIT);
    "done"
}

#[websocket("/ws")]
async fn ws(mut socket: WebSocket) {
    if socket.accept().await.is_err() {
        return;
    }
    while let Ok(m) = socket.receive().await {
        if socket.send(m).await.is_err() {
            break;
        }
    }
}

/// Every endpoint.
pub fn app() -> App {
    App::new()
        .route(plaintext)
        .route(json)
        .route(typed)
        .route(io)
        .route(sync)
        .route(ws)
}
