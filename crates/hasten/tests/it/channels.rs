//! Channels: rooms across instances. In process, over HTTP (SSE with `Last-Event-ID`);
//! with the brokers' features, two `Channels` on one real Redis or PostgreSQL stand
//! for two instances of an app.

use std::time::Duration;

use hasten::channels::{Channels, Delivery};
use hasten::prelude::*;
use hasten::ws::Rooms;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The room's events, resumed after `Last-Event-ID` when the client sends one.
#[get("/rooms/{room}/events")]
async fn events(
    room: String,
    #[header] last_event_id: Option<String>,
    channels: State<Channels>,
) -> impl IntoResponse {
    channels.sse(&room, last_event_id.as_deref())
}

/// The SSE frames of a body (comments left out).
fn frames(text: &str) -> Vec<String> {
    text.split("\n\n")
        .map(str::trim)
        .filter(|f| !f.is_empty() && !f.starts_with(':'))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn an_sse_client_resumes_after_its_last_event_id() {
    let channels = Channels::in_process().history(3);
    // Messages 1 to 5 published before the client (re)connects.
    let _keep = channels.subscribe("news");
    for i in 1..=5 {
        channels.publish("news", &format!("n{i}")).await.unwrap();
    }
    let server = hasten::Server::bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr().unwrap();
    tokio::spawn(server.serve(App::new().state(channels.clone()).route(events)));
    let publisher = channels.clone();
    let later = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        publisher.publish("news", &"n6").await.unwrap();
    });
    // HTTP/1.0: the body is not chunked, so what is read is the events as sent.
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    conn.write_all(b"GET /rooms/news/events HTTP/1.0\r\nLast-Event-ID: 1\r\n\r\n")
        .await
        .unwrap();
    let mut got = Vec::new();
    let text = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let mut buf = [0u8; 4096];
            let n = conn.read(&mut buf).await.unwrap();
            assert!(n > 0, "the stream ended: {}", String::from_utf8_lossy(&got));
            got.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&got).into_owned();
            if let Some((_, body)) = text.split_once("\r\n\r\n") {
                if frames(body).len() >= 5 {
                    return text;
                }
            }
        }
    })
    .await
    .expect("the events came");
    later.await.unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/event-stream"),
        "{head}"
    );
    // The client last saw message 1: message 2 is gone from the history of 3 (3, 4,
    // 5), so it is told it missed one, then gets 3 to 5, then 6 as it comes.
    assert_eq!(
        frames(body),
        [
            "event: missed\ndata: 1",
            "event: message\ndata: \"n3\"\nid: 3",
            "event: message\ndata: \"n4\"\nid: 4",
            "event: message\ndata: \"n5\"\nid: 5",
            "event: message\ndata: \"n6\"\nid: 6",
        ]
    );
}
#[tokio::test]
async fn a_slow_subscriber_skips_instead_of_holding_the_room_up() {
    let channels = Channels::in_process().capacity(4);
    let mut slow = channels.subscribe("r");
    let mut fast = channels.subscribe("r");
    for i in 0..10 {
        channels.publish("r", &i).await.unwrap();
        assert!(matches!(fast.recv().await, Some(Delivery::Message(m)) if m.id() == i + 1));
    }
    assert_eq!(slow.recv().await, Some(Delivery::Missed(6)));
    assert!(matches!(slow.recv().await, Some(Delivery::Message(m)) if m.id() == 7));
}

/// Two instances on one broker: each hears the other, presence is shared.
#[cfg(any(feature = "channels-redis", feature = "channels-postgres"))]
async fn two_instances_share_rooms_and_presence(a: Channels, b: Channels) {
    let room = "lobby";
    let mut on_a = a.subscribe(room);
    let mut on_b = b.subscribe(room);
    tokio::time::sleep(Duration::from_millis(300)).await; // both listening
    let first = a.publish(room, &"from a").await.unwrap();
    let second = b.publish(room, &"from b").await.unwrap();
    assert_eq!(second, first + 1, "one numbering for the room");
    for sub in [&mut on_a, &mut on_b] {
        for (id, text) in [(first, "\"from a\""), (second, "\"from b\"")] {
            match tokio::time::timeout(Duration::from_secs(5), sub.recv()).await {
                Ok(Some(Delivery::Message(m))) => assert_eq!((m.id(), m.data()), (id, text)),
                other => panic!("expected message {id}, got {other:?}"),
            }
        }
    }
    let ann = a.enter(room, "ann").await.unwrap();
    let _bob = b.enter(room, "bob").await.unwrap();
    let _ann_again = b.enter(room, "ann").await.unwrap();
    assert_eq!(a.presence(room).await.unwrap(), ["ann", "bob"]);
    assert_eq!(b.presence(room).await.unwrap(), ["ann", "bob"]);
    drop(ann); // still present through b
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(a.presence(room).await.unwrap(), ["ann", "bob"]);

    // `ws::Rooms` through the same brokers: typed messages reach the other instance.
    rooms_reach_across(a, b).await;
}

/// What a typed room carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Said {
    name: String,
    text: String,
}

/// `ws::Rooms` through two instances' channels: a member on one hears what is sent on
/// the other, and on its own.
async fn rooms_reach_across(a: Channels, b: Channels) {
    let (on_a, on_b) = (Rooms::<Said>::through(a), Rooms::<Said>::through(b));
    let mut ann = on_a.join("typed");
    let mut bob = on_b.join("typed");
    tokio::time::sleep(Duration::from_millis(300)).await; // both listening
    let said = |name: &str| Said {
        name: name.to_owned(),
        text: format!("hi from {name}"),
    };
    assert_eq!(on_b.send("typed", said("bob")), 1, "one member here");
    on_a.send("typed", said("ann"));
    for member in [&mut ann, &mut bob] {
        let mut heard = Vec::new();
        for _ in 0..2 {
            let m = tokio::time::timeout(Duration::from_secs(5), member.recv())
                .await
                .expect("a message in time")
                .unwrap();
            heard.push(m.name);
        }
        heard.sort();
        assert_eq!(heard, ["ann", "bob"]);
    }
    // Its last member gone, the room is forgotten once the next message comes.
    drop(ann);
    on_b.send("typed", said("bob"));
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while on_a.members("typed") > 0 || format!("{on_a:?}").contains("rooms: 1") {
        assert!(std::time::Instant::now() < deadline, "{on_a:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn typed_rooms_go_through_the_channels_broker() {
    // One in-process broker shared by two `Rooms`: as two instances on one Redis.
    let channels = Channels::in_process();
    rooms_reach_across(channels.clone(), channels).await;
}

#[cfg(feature = "channels-postgres")]
#[tokio::test]
async fn postgres_channels_reach_every_instance() {
    let url = std::env::var("HASTEN_TEST_POSTGRES").expect(
        "the channels tests with `channels-postgres` need a PostgreSQL: start one with \
         `tests/engines/postgres.sh start DIR PORT` and set HASTEN_TEST_POSTGRES to the URL it prints",
    );
    let a = Channels::postgres(&url).await.unwrap();
    let b = Channels::postgres(&url).await.unwrap();
    two_instances_share_rooms_and_presence(a.clone(), b).await;
    let err = a.publish("lobby", &"x".repeat(8_000)).await.unwrap_err();
    assert!(
        err.to_string().contains("more than the broker carries"),
        "{err}"
    );
}

#[cfg(feature = "channels-redis")]
use crate::common::{free_port, Redis};

#[cfg(feature = "channels-redis")]
#[tokio::test]
async fn redis_channels_reach_every_instance() {
    let redis = Redis::start(free_port());
    let a = Channels::redis(&redis.url()).await.unwrap();
    let b = Channels::redis(&redis.url()).await.unwrap();
    // Each has a connection for commands and one for its subscription.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while redis.clients() < 4 {
        assert!(
            std::time::Instant::now() < deadline,
            "{} connections",
            redis.clients()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    two_instances_share_rooms_and_presence(a, b).await;
    // The channels are gone (dropped above): so are their connections.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while redis.clients() > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "{} connections left",
            redis.clients()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[cfg(feature = "channels-redis")]
#[tokio::test]
async fn a_redis_outage_is_survived_and_subscribers_are_told() {
    let port = free_port();
    let redis = Redis::start(port);
    let a = Channels::redis(&redis.url()).await.unwrap();
    let b = Channels::redis(&redis.url()).await.unwrap();
    let mut on_b = b.subscribe("r");
    tokio::time::sleep(Duration::from_millis(300)).await;
    a.publish("r", &1).await.unwrap();
    assert!(matches!(on_b.recv().await, Some(Delivery::Message(m)) if m.id() == 1));

    drop(redis);
    match tokio::time::timeout(Duration::from_secs(5), on_b.recv()).await {
        Ok(Some(Delivery::Interrupted)) => {}
        other => panic!("expected an interruption, got {other:?}"),
    }
    let err = a.publish("r", &2).await.unwrap_err();
    assert!(
        err.to_string()
            .starts_with("the channel broker is unavailable"),
        "{err}"
    );

    // Redis comes back (empty: its numbering starts again) on the same port; both
    // instances reconnect by themselves and the room works again.
    let _redis = Redis::start(port);
    let delivered = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            if a.publish("r", &3).await.is_ok() {
                match tokio::time::timeout(Duration::from_millis(500), on_b.recv()).await {
                    Ok(Some(Delivery::Message(m))) => return m,
                    _ => continue,
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("the room works again after Redis came back");
    assert_eq!(delivered.data(), "3");
}
