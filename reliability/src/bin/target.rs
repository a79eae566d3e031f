//! The app under siege, on hasten's default limits: a JSON body endpoint, a large
//! static file, a plain endpoint for the normal load, and a WebSocket echo.
//!
//! usage: target ADDR FOLDER — serves until SIGINT/SIGTERM; FOLDER gets the files.

use hasten::files::StaticFiles;
use hasten::prelude::*;
use hasten::ws::WebSocket;

#[derive(Deserialize, Serialize, JsonSchema)]
struct Item {
    name: String,
    price: f64,
}

#[post("/items/", status = 201)]
async fn create_item(item: Json<Item>) -> Json<Item> {
    item
}

#[get("/plaintext")]
async fn plaintext() -> &'static str {
    "Hello, World!"
}

#[websocket("/ws")]
async fn echo(mut socket: WebSocket) {
    if socket.accept().await.is_err() {
        return;
    }
    while let Ok(m) = socket.receive().await {
        if socket.send(m).await.is_err() {
            break;
        }
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8700".to_owned());
    let folder = std::path::PathBuf::from(args.next().unwrap_or_else(|| "static".to_owned()));
    std::fs::create_dir_all(&folder)?;
    // 16 MiB: far more than a socket buffer, so a reader that stops holds a response.
    std::fs::write(folder.join("big.bin"), vec![b'b'; 16 << 20])?;
    let app = App::new()
        .route(create_item)
        .route(plaintext)
        .route(echo)
        .mount("/static", StaticFiles::new(folder));
    hasten::serve(app, addr).await
}
