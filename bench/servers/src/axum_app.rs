//! The benchmark endpoints in axum 0.8, with the same checks written by hand.

use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::{Message, Order, TypedQuery, HELLO, WAIT};

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
    if let Err(fields) = crate::check(id, &query, &order) {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(serde_json::json!({ "detail": fields })),
        )
            .into_response();
    }
    Json(crate::receipt(id, client, query, order)).into_response()
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

/// Every endpoint.
pub fn router() -> Router {
    Router::new()
        .route("/plaintext", get(plaintext))
        .route("/json", get(json))
        .route("/typed/{id}", post(typed))
        .route("/io", get(io))
        .route("/sync", get(sync))
        .route("/ws", get(ws))
}
