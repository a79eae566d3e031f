//! Chat rooms over WebSockets: everyone in a room sees every message sent to it.
//!
//! Run with: `cargo run --release --example chat`, open http://127.0.0.1:8000/ in two
//! browser tabs, or connect with any client to
//! `ws://127.0.0.1:8000/ws/{room}?name=ann`.
//!
//! Broadcasting uses `hasten::ws::Rooms`: bounded per-room channels, so a slow reader
//! misses old messages (and is told how many) instead of slowing everyone down.

use hasten::prelude::*;
use hasten::ws::{Message, Rooms, WebSocket};
use tokio::sync::broadcast::error::RecvError;

/// What the room hears: who said what.
#[derive(Debug, Clone, Serialize)]
struct Said {
    name: String,
    text: String,
}

/// Join `room` as `name`: what you send goes to the room, what the room hears comes
/// to you.
#[websocket("/ws/{room}")]
async fn chat(
    mut socket: WebSocket,
    #[path(min_length = 1, max_length = 40)] room: String,
    #[query(min_length = 1, max_length = 40)] name: String,
    rooms: State<Rooms<Said>>,
) {
    let mut heard = rooms.join(&room);
    if socket.accept().await.is_err() {
        return;
    }
    let system = |text: String| Said {
        name: "system".to_owned(),
        text,
    };
    rooms.send(&room, system(format!("{name} joined")));
    loop {
        tokio::select! {
            incoming = socket.receive() => match incoming {
                Ok(Message::Text(text)) => {
                    rooms.send(&room, Said { name: name.clone(), text });
                }
                Ok(Message::Binary(_)) => {}
                Err(_) => break,
            },
            said = heard.recv() => {
                let sent = match said {
                    Ok(said) => socket.send_json(&said).await,
                    Err(RecvError::Lagged(missed)) => {
                        socket.send_json(&system(format!("you missed {missed} messages"))).await
                    }
                    Err(RecvError::Closed) => break,
                };
                if sent.is_err() {
                    break;
                }
            }
        }
    }
    drop(heard);
    rooms.send(&room, system(format!("{name} left")));
}

/// How many are in a room.
#[get("/rooms/{room}")]
async fn room_size(room: String, rooms: State<Rooms<Said>>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "room": room, "members": rooms.members(&room) }))
}

/// A small page to chat from.
#[get("/")]
async fn page() -> Html<&'static str> {
    Html(
        r#"<!doctype html><meta charset="utf-8"><title>chat</title>
<form id="join">room <input id="room" value="lobby"> name <input id="name" value="ann"> <button>join</button></form>
<form id="say"><input id="text" autocomplete="off"> <button>send</button></form>
<ul id="log"></ul>
<script>
let ws;
const log = (t) => { const li = document.createElement("li"); li.textContent = t; document.getElementById("log").prepend(li); };
document.getElementById("join").onsubmit = (e) => {
  e.preventDefault();
  if (ws) ws.close(1000);
  const room = encodeURIComponent(document.getElementById("room").value);
  const name = encodeURIComponent(document.getElementById("name").value);
  ws = new WebSocket(`ws://${location.host}/ws/${room}?name=${name}`);
  ws.onmessage = (m) => { const s = JSON.parse(m.data); log(`${s.name}: ${s.text}`); };
  ws.onclose = (c) => log(`closed (${c.code}) ${c.reason}`);
};
document.getElementById("say").onsubmit = (e) => {
  e.preventDefault();
  const t = document.getElementById("text");
  if (ws && ws.readyState === 1) { ws.send(t.value); t.value = ""; }
};
</script>"#,
    )
}

fn app() -> App {
    App::new()
        .title("Chat")
        .state(Rooms::<Said>::new(256))
        .route(chat)
        .route(room_size)
        .route(page)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    hasten_examples::run(app()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use hasten::testing::TestClient;
    use serde_json::{json, Value};

    #[tokio::test]
    async fn everyone_in_the_room_hears_it_and_other_rooms_do_not() {
        let c = TestClient::new(app());
        let mut ann = c.websocket("/ws/blue?name=ann").connect().await.unwrap();
        assert_eq!(
            ann.receive_json::<Value>().await,
            json!({"name": "system", "text": "ann joined"})
        );
        let mut bob = c.websocket("/ws/blue?name=bob").connect().await.unwrap();
        let mut eve = c.websocket("/ws/red?name=eve").connect().await.unwrap();
        assert_eq!(ann.receive_json::<Value>().await["text"], "bob joined");
        assert_eq!(bob.receive_json::<Value>().await["text"], "bob joined");
        assert_eq!(eve.receive_json::<Value>().await["text"], "eve joined");

        bob.send_text("hello blue").await;
        for ws in [&mut ann, &mut bob] {
            assert_eq!(
                ws.receive_json::<Value>().await,
                json!({"name": "bob", "text": "hello blue"})
            );
        }
        eve.send_text("hello red").await;
        assert_eq!(eve.receive_json::<Value>().await["text"], "hello red");

        bob.close(1000, "").await;
        assert_eq!(ann.receive_json::<Value>().await["text"], "bob left");
        let size = c.get("/rooms/blue").send().await.json::<Value>();
        assert_eq!(size["members"], 1);
    }

    #[tokio::test]
    async fn a_bad_name_closes_with_1008() {
        let c = TestClient::new(app());
        let mut ws = c.websocket("/ws/blue").connect().await.unwrap();
        let closed = ws.receive().await.unwrap_err();
        assert_eq!(closed.code, 1008);
        assert!(closed.reason.contains("missing"), "{}", closed.reason);
    }
}
