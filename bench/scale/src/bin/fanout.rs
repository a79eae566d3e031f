//! Cross-instance fan-out: two hasten instances in this process, each with its own
//! channels and its own connection to the broker; WebSocket clients in a room on
//! instance B, a publisher on instance A. Each message carries its send time; each
//! client notes how long it took to arrive.
//!
//! usage: fanout BROKER URL CLIENTS MESSAGES RATE
//!   BROKER  memory (one instance: the baseline) | redis | postgres
//! Prints one JSON line: deliveries expected and made, and latency percentiles (µs).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use hasten::channels::{Channels, Delivery};
use hasten::prelude::*;
use hasten::ws::{Message, WebSocket};
use tokio_tungstenite::tungstenite;

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// Join the room: what the room hears is sent to the socket; what the socket says is
/// published to the room.
#[websocket("/ws/{room}")]
async fn room_socket(mut socket: WebSocket, room: String, channels: State<Channels>) {
    let mut heard = channels.subscribe(&room);
    if socket.accept().await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            incoming = socket.receive() => match incoming {
                Ok(Message::Text(text)) => {
                    let _ = channels.publish(&room, &text).await;
                }
                Ok(_) => {}
                Err(_) => break,
            },
            delivery = heard.recv() => match delivery {
                Some(Delivery::Message(m)) => {
                    if socket.send_text(m.data()).await.is_err() {
                        break;
                    }
                }
                Some(_) => {}
                None => break,
            },
        }
    }
}

async fn instance(channels: Channels) -> std::net::SocketAddr {
    let server = hasten::Server::bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr().unwrap();
    tokio::spawn(server.serve(App::new().state(channels).route(room_socket)));
    addr
}

async fn channels(broker: &str, url: &str) -> Channels {
    match broker {
        "redis" => Channels::redis(url).await.expect("Redis"),
        "postgres" => Channels::postgres(url).await.expect("PostgreSQL"),
        _ => Channels::in_process(),
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, broker, url, clients, messages, rate] = &args[..] else {
        eprintln!("usage: fanout BROKER URL CLIENTS MESSAGES RATE");
        std::process::exit(2);
    };
    let clients: usize = clients.parse().unwrap();
    let messages: usize = messages.parse().unwrap();
    let rate: f64 = rate.parse().unwrap();
    let a = instance(channels(broker, url).await).await;
    let b = if broker == "memory" {
        a
    } else {
        instance(channels(broker, url).await).await
    };

    let mut receivers = Vec::new();
    for _ in 0..clients {
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{b}/ws/bench"))
            .await
            .expect("a client");
        receivers.push(ws);
    }
    // Let the subscriptions settle before the first message.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (mut publisher, _) = tokio_tungstenite::connect_async(format!("ws://{a}/ws/bench"))
        .await
        .expect("the publisher");

    let expected = messages;
    let collectors: Vec<_> = receivers
        .into_iter()
        .map(|mut ws| {
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(expected);
                let deadline = Instant::now() + Duration::from_secs(120);
                while latencies.len() < expected {
                    let left = deadline.saturating_duration_since(Instant::now());
                    match tokio::time::timeout(left, ws.next()).await {
                        Ok(Some(Ok(tungstenite::Message::Text(t)))) => {
                            // The payload is the JSON string of the send time.
                            let sent: u64 = serde_json::from_str::<String>(&t)
                                .ok()
                                .and_then(|s| s.parse().ok())
                                .unwrap_or(0);
                            latencies.push(now_us().saturating_sub(sent));
                        }
                        Ok(Some(Ok(_))) => {}
                        _ => break,
                    }
                }
                latencies
            })
        })
        .collect();

    let every = Duration::from_secs_f64(1.0 / rate);
    let mut tick = tokio::time::interval(every);
    for _ in 0..messages {
        tick.tick().await;
        publisher
            .send(tungstenite::Message::Text(now_us().to_string().into()))
            .await
            .expect("sent");
    }
    let mut all = Vec::new();
    for c in collectors {
        all.extend(c.await.unwrap());
    }
    all.sort_unstable();
    let pct = |p: f64| -> u64 {
        if all.is_empty() {
            return 0;
        }
        all[((all.len() as f64 * p).ceil() as usize).clamp(1, all.len()) - 1]
    };
    println!(
        "{}",
        serde_json::json!({
            "expected": clients * messages,
            "delivered": all.len(),
            "p50_us": pct(0.50),
            "p99_us": pct(0.99),
            "max_us": all.last().copied().unwrap_or(0),
        })
    );
}
