//! Chat rooms over WebSockets: everyone in a room sees every message sent to it, and
//! who is in it.
//!
//! Run with: `cargo run --release --example chat`, open http://127.0.0.1:8000/ in two
//! browser tabs, or connect with any client to
//! `ws://127.0.0.1:8000/ws/{room}?name=ann`.
//!
//! The rooms go through `hasten::channels::Channels`: in this process by default, or
//! through Redis or PostgreSQL when `HASTEN_CHANNELS` is a `redis://` or `postgres://`
//! URL, so that several instances share them. Each room is bounded, so a slow reader
//! misses old messages (and is told how many) instead of slowing everyone down.

use hasten::channels::{Channels, Delivery};
use hasten::prelude::*;
use hasten::ws::{Message, WebSocket};

/// What the room hears: who said what.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Said {
    name: String,
    text: String,
}

fn system(text: String) -> Said {
    Said {
        name: "system".to_owned(),
        text,
    }
}

/// Join `room` as `name`: what you send goes to the room, what the room hears comes
/// to you.
#[websocket("/ws/{room}")]
async fn chat(
    mut socket: WebSocket,
    #[path(min_length = 1, max_length = 40)] room: String,
    #[query(min_length = 1, max_length = 40)] name: String,
    channels: State<Channels>,
) {
    let mut heard = channels.subscribe(&room);
    if socket.accept().await.is_err() {
        return;
    }
    let present = match channels.enter(&room, &name).await {
        Ok(present) => present,
        Err(e) => {
            let _ = socket.close(1011, &e.to_string()).await;
            return;
        }
    };
    let _ = channels
        .publish(&room, &system(format!("{name} joined")))
        .await;
    loop {
        tokio::select! {
            incoming = socket.receive() => match incoming {
                Ok(Message::Text(text)) => {
                    let said = Said { name: name.clone(), text };
                    if let Err(e) = channels.publish(&room, &said).await {
                        if socket.send_json(&system(e.to_string())).await.is_err() {
                            break;
                        }
                    }
                }
                Ok(Message::Binary(_)) => {}
                Err(_) => break,
            },
            delivery = heard.recv() => {
                let sent = match delivery {
                    Some(Delivery::Message(m)) => match m.json::<Said>() {
                        Ok(said) => socket.send_json(&said).await,
                        Err(_) => continue,
                    },
                    Some(Delivery::Missed(n)) => {
                        socket.send_json(&system(format!("you missed {n} messages"))).await
                    }
                    Some(Delivery::Interrupted) => {
                        socket.send_json(&system("the room was interrupted; messages may be missing".to_owned())).await
                    }
                    None => break,
                };
                if sent.is_err() {
                    break;
                }
            }
        }
    }
    drop(heard);
    drop(present);
    let _ = channels
        .publish(&room, &system(format!("{name} left")))
        .await;
}

/// Who is in a room, on every instance.
#[get("/rooms/{room}")]
async fn room_size(
    room: String,
    channels: State<Channels>,
) -> Result<Json<serde_json::Value>, HttpError> {
    let members = channels
        .presence(&room)
        .await
        .map_err(|e| HttpError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?;
    Ok(Json(
        serde_json::json!({ "room": room, "members": members.len(), "names": members }),
    ))
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

fn app(channels: Channels) -> App {
    App::new()
        .title("Chat")
        .state(channels.capacity(256))
        .route(chat)
        .route(room_size)
        .route(page)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let channels = match std::env::var("HASTEN_CHANNELS") {
        Ok(url) => connect(&url).await,
        Err(_) => Channels::in_process(),
    };
    hasten_examples::run(app(channels)).await
}

/// Channels through the broker at `url` (with `--features postgres`).
#[cfg(feature = "postgres")]
async fn connect(url: &str) -> Channels {
    let made = if url.starts_with("redis") {
        Channels::redis(url).await
    } else {
        Channels::postgres(url).await
    };
    made.unwrap_or_else(|e| {
        eprintln!("error: HASTEN_CHANNELS: {e}");
        std::process::exit(2)
    })
}

#[cfg(not(feature = "postgres"))]
async fn connect(_url: &str) -> Channels {
    eprintln!("error: HASTEN_CHANNELS needs the example built with `--features postgres`");
    std::process::exit(2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hasten::testing::TestClient;
    use serde_json::{json, Value};

    #[tokio::test]
    async fn everyone_in_the_room_hears_it_and_other_rooms_do_not() {
        let c = TestClient::new(app(Channels::in_process()));
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
        assert_eq!(size["names"], json!(["ann"]));
    }

    #[tokio::test]
    async fn a_bad_name_closes_with_1008() {
        let c = TestClient::new(app(Channels::in_process()));
        let mut ws = c.websocket("/ws/blue").connect().await.unwrap();
        let closed = ws.receive().await.unwrap_err();
        assert_eq!(closed.code, 1008);
        assert!(closed.reason.contains("missing"), "{}", closed.reason);
    }
}
