//! Request IDs: taken from the client or made, sent back, handed to handlers, and on
//! every log line of the request.

use std::sync::{Arc, Mutex};

use hasten::prelude::*;
use hasten::request_id::RequestId;
use hasten::testing::TestClient;

#[get("/items/{item_id}")]
async fn item(item_id: u32, id: RequestId) -> String {
    let _ = item_id;
    id.to_string()
}

/// Only the log test calls it: tracing caches each call site's interest, and a call
/// site first reached under no subscriber (another test, on another thread) may
/// stay silent.
#[get("/traced/{item_id}")]
async fn traced(item_id: u32) -> &'static str {
    tracing::info!(item_id, "reading the item");
    "traced"
}

fn app() -> App {
    App::new().route(item).request_ids()
}

#[tokio::test]
async fn each_request_gets_an_id_the_clients_when_it_is_sane() {
    let c = TestClient::new(app());
    // None sent: a new one, the same the handler saw.
    let resp = c.get("/items/1").send().await;
    let sent_back = resp.header("x-request-id").unwrap().to_owned();
    assert_eq!(sent_back.len(), 32, "{sent_back}");
    assert!(
        sent_back.bytes().all(|b| b.is_ascii_hexdigit()),
        "{sent_back}"
    );
    assert_eq!(resp.text(), sent_back);
    // Two requests, two IDs.
    let other = c.get("/items/1").send().await;
    assert_ne!(other.header("x-request-id").unwrap(), sent_back);

    // The client's, kept.
    let resp = c
        .get("/items/1")
        .header("x-request-id", "req-7f3a")
        .send()
        .await;
    assert_eq!(resp.header("x-request-id"), Some("req-7f3a"));
    assert_eq!(resp.text(), "req-7f3a");

    // Not sane (a space, too long): replaced.
    for bad in ["two words".to_owned(), "x".repeat(129)] {
        let resp = c.get("/items/1").header("x-request-id", &bad).send().await;
        let id = resp.header("x-request-id").unwrap();
        assert_ne!(id, bad);
        assert_eq!(id.len(), 32);
    }

    // The framework's own answers carry it too.
    let resp = c
        .get("/nowhere")
        .header("x-request-id", "lost-1")
        .send()
        .await;
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.header("x-request-id"), Some("lost-1"));
    let resp = c
        .get("/items/abc")
        .header("x-request-id", "bad-1")
        .send()
        .await;
    assert_eq!(resp.status(), 422);
    assert_eq!(resp.header("x-request-id"), Some("bad-1"));

    // Without `request_ids`, no header.
    let plain = TestClient::new(App::new().route(item));
    assert!(plain
        .get("/items/1")
        .send()
        .await
        .header("x-request-id")
        .is_none());
}

/// Log lines written to a buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_handlers_log_lines_carry_the_request_id_route_and_method() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .finish();
    // A current-thread runtime: the server's tasks run on this thread, under it.
    let _guard = tracing::subscriber::set_default(subscriber);
    let c = TestClient::new(App::new().route(traced).request_ids());
    c.get("/traced/5")
        .header("x-request-id", "trace-me-42")
        .send()
        .await;
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let line = logs
        .lines()
        .find(|l| l.contains("reading the item"))
        .unwrap_or_else(|| panic!("no handler log line in:\n{logs}"));
    assert!(line.contains("request_id=trace-me-42"), "{line}");
    assert!(line.contains("method=GET"), "{line}");
    assert!(line.contains(r#"route="/traced/{item_id}""#), "{line}");
    assert!(line.contains("item_id=5"), "{line}");
    // The span, when it closes, has the response's status too.
    let closed = logs
        .lines()
        .find(|l| l.contains("request_id=trace-me-42") && l.contains(": close "))
        .unwrap_or_else(|| panic!("no closed request span in:\n{logs}"));
    assert!(closed.contains("status=200"), "{closed}");
}
