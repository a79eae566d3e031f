//! The benchmark endpoints in hasten.

use bench_servers::{Message, Order, Receipt, HELLO, WAIT};
use hasten::prelude::*;
use hasten::ws::WebSocket;

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
    Json(bench_servers::receipt(
        id,
        (*client).clone(),
        bench_servers::TypedQuery { limit, q },
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

fn main() -> std::io::Result<()> {
    let workers: usize = std::env::var("BENCH_WORKERS")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or(1);
    let app = App::new()
        .route(plaintext)
        .route(json)
        .route(typed)
        .route(io)
        .route(sync)
        .route(ws);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()?
        .block_on(async {
            hasten::Server::bind(bench_servers::addr())
                .await?
                .max_connections(20_000)
                // Idle keep-alive connections stay open for the memory scenario.
                .keep_alive_timeout(std::time::Duration::from_secs(300))
                .header_read_timeout(std::time::Duration::from_secs(300))
                .serve(app)
                .await
        })
}
