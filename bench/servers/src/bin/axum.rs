//! The benchmark endpoints in axum 0.8, with the same checks written by hand.

use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bench_servers::{Message, Order, TypedQuery, HELLO, WAIT};

async fn plaintext() -> &'static str {
    HELLO
}

async fn json() -> Json<Message> {
    Json(Message { message: HELLO })
}

async fn typed(
    Path(id): Path<u32>,
    query: Result<Query<TypedQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    order: Result<Json<Order>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let client = headers
        .get("x-client")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (Ok(Query(query)), Ok(Json(order)), Some(client)) = (query, order, client) else {
        return (StatusCode::UNPROCESSABLE_ENTITY, "invalid input").into_response();
    };
    if let Err(fields) = bench_servers::check(id, &query) {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(serde_json::json!({ "detail": fields })),
        )
            .into_response();
    }
    Json(bench_servers::receipt(id, client, query, order)).into_response()
}

async fn io() -> &'static str {
    tokio::time::sleep(WAIT).await;
    "done"
}

async fn sync() -> &'static str {
    let _ = tokio::task::spawn_blocking(|| std::thread::sleep(WAIT)).await;
    "done"
}

async fn ws(upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(|mut socket: WebSocket| async move {
        while let Some(Ok(m)) = socket.recv().await {
            if socket.send(m).await.is_err() {
                break;
            }
        }
    })
}

fn main() -> std::io::Result<()> {
    let app = Router::new()
        .route("/plaintext", get(plaintext))
        .route("/json", get(json))
        .route("/typed/{id}", post(typed))
        .route("/io", get(io))
        .route("/sync", get(sync))
        .route("/ws", get(ws));
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?
        .block_on(async {
            let listener = tokio::net::TcpListener::bind(bench_servers::addr()).await?;
            axum::serve(listener, app).await
        })
}
