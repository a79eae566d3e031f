//! A WebSocket echo: every text and binary message comes back as it was sent.
//!
//! Run with: `cargo run --release --example ws_echo`, then connect to
//! `ws://127.0.0.1:8000/ws`, e.g. with Python's `websockets`:
//!
//! ```text
//! python -m websockets ws://127.0.0.1:8000/ws
//! ```
//!
//! `/ws/json` answers each JSON message `{"n": <int>}` with `{"double": 2n}`, and
//! reports a message that is not such JSON without closing the connection.

use hasten::prelude::*;
use hasten::ws::{Message, WebSocket, WsError};

/// Echo text and binary messages until the client closes.
#[websocket("/ws")]
async fn echo(mut socket: WebSocket) {
    if socket.accept().await.is_err() {
        return;
    }
    while let Ok(message) = socket.receive().await {
        if socket.send(message).await.is_err() {
            break;
        }
    }
}

/// A number to double.
#[derive(Deserialize)]
struct Number {
    n: i64,
}

/// Typed JSON messages; the `scale` query parameter is validated like an HTTP one.
#[websocket("/ws/json")]
async fn doubler(mut socket: WebSocket, #[query(default = 2, ge = 1)] scale: i64) {
    if socket.accept().await.is_err() {
        return;
    }
    loop {
        match socket.receive_json::<Number>().await {
            Ok(Number { n }) => {
                let reply = serde_json::json!({ "double": n.saturating_mul(scale) });
                if socket.send_json(&reply).await.is_err() {
                    break;
                }
            }
            Err(WsError::Decode(why)) => {
                let reply = serde_json::json!({ "error": why });
                if socket.send_json(&reply).await.is_err() {
                    break;
                }
            }
            Err(_) => break,
        }
    }
}

/// Say goodbye with a close code of our own.
#[websocket("/ws/bye")]
async fn bye(mut socket: WebSocket) {
    if socket.accept().await.is_ok() {
        let _ = socket.send(Message::Text("bye".to_owned())).await;
        let _ = socket.close(4000, "done").await;
    }
}

fn app() -> App {
    App::new()
        .title("WebSocket echo")
        .route(echo)
        .route(doubler)
        .route(bye)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    hasten_examples::run(app()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use hasten::testing::TestClient;
    use hasten::ws::Disconnect;
    use serde_json::{json, Value};

    #[tokio::test]
    async fn echoes_text_and_binary() {
        let c = TestClient::new(app());
        let mut ws = c.websocket("/ws").connect().await.unwrap();
        ws.send_text("héllo").await;
        assert_eq!(ws.receive_text().await, "héllo");
        ws.send_bytes(vec![0u8, 1, 255]).await;
        assert_eq!(
            ws.receive().await,
            Ok(Message::Binary(vec![0u8, 1, 255].into()))
        );
        ws.close(1000, "bye").await;
    }

    #[tokio::test]
    async fn typed_json_and_decode_errors() {
        let c = TestClient::new(app());
        let mut ws = c.websocket("/ws/json?scale=3").connect().await.unwrap();
        ws.send_json(&json!({"n": 7})).await;
        assert_eq!(ws.receive_json::<Value>().await, json!({"double": 21}));
        ws.send_text("not json").await;
        let err: Value = ws.receive_json().await;
        assert!(err["error"].as_str().unwrap().contains("expected"), "{err}");
        // Still open after a decode error.
        ws.send_json(&json!({"n": 1})).await;
        assert_eq!(ws.receive_json::<Value>().await, json!({"double": 3}));
    }

    #[tokio::test]
    async fn invalid_input_closes_with_1008_and_the_errors() {
        let c = TestClient::new(app());
        let mut ws = c.websocket("/ws/json?scale=0").connect().await.unwrap();
        let Err(Disconnect { code, reason }) = ws.receive().await else {
            panic!("expected a close");
        };
        assert_eq!(code, 1008);
        assert!(reason.contains("greater_than_equal"), "{reason}");
    }

    #[tokio::test]
    async fn server_close_code_reaches_the_client() {
        let c = TestClient::new(app());
        let mut ws = c.websocket("/ws/bye").connect().await.unwrap();
        assert_eq!(ws.receive_text().await, "bye");
        assert_eq!(
            ws.receive().await,
            Err(Disconnect {
                code: 4000,
                reason: "done".to_owned()
            })
        );
    }

    #[tokio::test]
    async fn unknown_route_is_403_and_plain_http_is_404() {
        let c = TestClient::new(app());
        let refused = c.websocket("/nope").connect().await.unwrap_err();
        assert_eq!(refused.status(), 403);
        assert_eq!(c.get("/ws").send().await.status(), 404);
    }
}
