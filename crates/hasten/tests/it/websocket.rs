//! WebSocket operations: parameters and dependencies, accept options, refusals, limits.

use hasten::prelude::*;
use hasten::testing::TestClient;
use hasten::ws::{Accept, Disconnect, Message, WebSocket};

/// The caller, from a header; refuses the connection without it.
#[dependency]
async fn user(#[header] x_user: Option<String>) -> Result<String, HttpError> {
    x_user.ok_or_else(|| HttpError::new(StatusCode::UNAUTHORIZED, "Who are you?"))
}

/// Greets the user in a room, with the subprotocol the client prefers.
#[websocket("/rooms/{room}")]
async fn room(mut socket: WebSocket, room: String, user: Depends<user>) {
    let protocol = socket.offered_subprotocols().first().cloned();
    let mut accept = Accept::new().header(
        http::HeaderName::from_static("x-room"),
        http::HeaderValue::from_str(&room).unwrap(),
    );
    if let Some(p) = protocol {
        accept = accept.subprotocol(p);
    }
    if socket.accept_with(accept).await.is_err() {
        return;
    }
    let _ = socket.send_text(format!("{} joined {room}", *user)).await;
    // Report how the client left.
    let gone = socket.receive().await;
    let _ = gone;
}

/// Never accepts.
#[websocket("/closed")]
async fn closed(socket: WebSocket) {
    drop(socket);
}

/// Reports the disconnect it sees through a channel.
#[websocket("/watch")]
async fn watch(mut socket: WebSocket, seen: State<tokio::sync::mpsc::Sender<Disconnect>>) {
    if socket.accept().await.is_err() {
        return;
    }
    loop {
        match socket.receive().await {
            Ok(Message::Text(t)) => {
                let _ = socket.send_text(t).await;
            }
            Ok(Message::Binary(_)) => {}
            Err(d) => {
                let _ = seen.send(d).await;
                return;
            }
        }
    }
}

fn app(tx: tokio::sync::mpsc::Sender<Disconnect>) -> App {
    App::new()
        .state(tx)
        .websocket_limits(1024, 1024)
        .route(room)
        .route(closed)
        .route(watch)
}

#[tokio::test]
async fn path_dependencies_subprotocol_and_headers() {
    let (tx, _rx) = tokio::sync::mpsc::channel(4);
    let c = TestClient::new(app(tx));
    let mut ws = c
        .websocket("/rooms/blue")
        .header("x-user", "ann")
        .header("sec-websocket-protocol", "chat.v2, chat.v1")
        .connect()
        .await
        .unwrap();
    assert_eq!(ws.subprotocol(), Some("chat.v2"));
    assert_eq!(ws.receive_text().await, "ann joined blue");
    ws.close(1000, "").await;
}

#[tokio::test]
async fn a_dependency_error_before_accept_closes_with_1008() {
    // FastAPI's `WebSocketException`: the handshake completes, then the socket closes
    // with 1008 (policy violation), the error's detail as the reason.
    let (tx, _rx) = tokio::sync::mpsc::channel(4);
    let c = TestClient::new(app(tx));
    let mut ws = c.websocket("/rooms/blue").connect().await.unwrap();
    let closed = ws.receive().await.unwrap_err();
    assert_eq!(closed.code, 1008);
    assert_eq!(closed.reason, "Who are you?");
}

/// Counts to `n`, which must be at least 1.
#[websocket("/count")]
async fn count(mut socket: WebSocket, #[query(ge = 1)] n: u32) {
    if socket.accept().await.is_ok() {
        let _ = socket.send_text(n.to_string()).await;
    }
}

#[tokio::test]
async fn invalid_input_closes_with_1008_whatever_the_validation_handler_renders() {
    // An app whose 422s are 400s over HTTP: a WebSocket's invalid input still closes
    // with 1008, the errors as the reason — decided by what failed, not by the status.
    let app = App::new()
        .on_validation_error(|_errors, _ctx| {
            HttpError::new(StatusCode::BAD_REQUEST, "bad input").into_response()
        })
        .route(count);
    let c = TestClient::new(app);
    let mut ws = c.websocket("/count?n=0").connect().await.unwrap();
    let closed = ws.receive().await.unwrap_err();
    assert_eq!(closed.code, 1008);
    assert!(
        closed.reason.contains("greater_than_equal"),
        "{}",
        closed.reason
    );
    let mut ws = c.websocket("/count?n=2").connect().await.unwrap();
    assert_eq!(ws.receive_text().await, "2");
}

#[tokio::test]
async fn a_handler_that_never_accepts_refuses_with_403() {
    let (tx, _rx) = tokio::sync::mpsc::channel(4);
    let c = TestClient::new(app(tx));
    let refused = c.websocket("/closed").connect().await.unwrap_err();
    assert_eq!(refused.status(), 403);
}

#[tokio::test]
async fn the_client_close_code_reaches_the_handler() {
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    let c = TestClient::new(app(tx));
    let mut ws = c.websocket("/watch").connect().await.unwrap();
    ws.send_text("ping").await;
    assert_eq!(ws.receive_text().await, "ping");
    ws.close(4001, "leaving").await;
    let seen = tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        seen,
        Disconnect {
            code: 4001,
            reason: "leaving".to_owned()
        }
    );
}

#[tokio::test]
async fn a_message_over_the_limit_closes_with_1009() {
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    let c = TestClient::new(app(tx));
    let mut ws = c.websocket("/watch").connect().await.unwrap();
    ws.send_text(&"x".repeat(4096)).await;
    let closed = ws.receive().await.unwrap_err();
    assert_eq!(closed.code, 1009);
    let seen = tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen.code, 1009);
}

#[tokio::test]
async fn a_bad_handshake_is_refused() {
    let (tx, _rx) = tokio::sync::mpsc::channel(4);
    let c = TestClient::new(app(tx));
    let refused = c
        .websocket("/watch")
        .header("sec-websocket-version", "8")
        .connect()
        .await
        .unwrap_err();
    assert_eq!(refused.status(), 426);
    assert_eq!(refused.header("sec-websocket-version"), Some("13"));
}

/// Echoes every message back as it came.
#[websocket("/echo")]
async fn echo(mut socket: WebSocket) {
    if socket.accept().await.is_err() {
        return;
    }
    while let Ok(m) = socket.receive().await {
        if socket.send(m).await.is_err() {
            return;
        }
    }
}

#[tokio::test]
async fn messages_much_larger_than_one_read_arrive_whole() {
    // The server reads the socket 8 KiB at a time; a 3 MiB message spans hundreds of
    // reads and must still arrive byte for byte, and so must the small one after it.
    let c = TestClient::new(App::new().route(echo));
    let mut ws = c.websocket("/echo").connect().await.unwrap();
    let big: Vec<u8> = (0..3 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    ws.send_bytes(big.clone()).await;
    match ws.receive().await.unwrap() {
        Message::Binary(b) => assert!(b == big, "the echo differs from what was sent"),
        Message::Text(_) => panic!("a binary message came back as text"),
    }
    let text = "é".repeat(40_000);
    ws.send_text(&text).await;
    assert_eq!(ws.receive_text().await, text);
    ws.send_text("small").await;
    assert_eq!(ws.receive_text().await, "small");
}

/// A session that is closed when the socket's handler ends.
#[dependency]
async fn session(
    log: State<tokio::sync::mpsc::UnboundedSender<String>>,
) -> hasten::depends::Cleanup<&'static str> {
    let log = log.clone();
    hasten::depends::Cleanup::new("s1", move |_, outcome| async move {
        let _ = log.send(format!("session closed: {outcome:?}"));
    })
}

/// Echoes once, then queues a task.
#[websocket("/session")]
async fn with_session(
    mut socket: WebSocket,
    session: Depends<session>,
    tasks: BackgroundTasks,
    log: State<tokio::sync::mpsc::UnboundedSender<String>>,
) {
    if socket.accept().await.is_err() {
        return;
    }
    let _ = socket.send_text(*session).await;
    let _ = socket.receive().await;
    let log = log.clone();
    tasks.spawn(async move {
        let _ = log.send("task ran".to_owned());
    });
}

#[tokio::test]
async fn a_websocket_handlers_cleanups_and_tasks_run_when_it_ends() {
    // FastAPI runs a dependency's teardown (and the tasks) once the WebSocket
    // endpoint returns.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let c = TestClient::new(App::new().state(tx).route(with_session));
    let mut ws = c.websocket("/session").connect().await.unwrap();
    assert_eq!(ws.receive_text().await, "s1");
    ws.close(1000, "").await;
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let next = tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv()).await;
        match next {
            Ok(Some(line)) => seen.push(line),
            _ => break,
        }
    }
    assert_eq!(seen, ["task ran", "session closed: Completed(200)"]);
}
