//! Streaming: Server-Sent Events and JSON Lines.
//!
//! Run with: `cargo run --release --example sse`, then:
//!
//! ```text
//! curl -N http://127.0.0.1:8000/clock            # an event a second, `: ping` when quiet
//! curl -N 'http://127.0.0.1:8000/clock?count=3'
//! curl -N http://127.0.0.1:8000/items.jsonl      # one JSON document per line
//! ```
//!
//! Or open http://127.0.0.1:8000/ in a browser: the page subscribes with `EventSource`.

use std::time::Duration;

use hasten::prelude::*;
use hasten::streaming::{stream, AnyStream, Event, JsonLines, Sse, StreamExt};

/// A tick of the clock.
#[derive(Serialize)]
struct Tick {
    n: u64,
    unix_ms: u128,
}

/// One event a second (`count` of them, or forever); the browser can resume from
/// `Last-Event-ID`.
#[get("/clock")]
async fn clock(
    #[query(ge = 1, le = 3600)] count: Option<u64>,
    #[header] last_event_id: Option<u64>,
) -> Sse<impl AnyStream<Item = Event> + Send> {
    let start = last_event_id.map_or(1, |id| id + 1);
    let ticks = stream::unfold(start, |n| async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let unix_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default();
        let event = Event::json(&Tick { n, unix_ms })
            .event("tick")
            .id(n.to_string());
        Some((event, n + 1))
    });
    let limit = count.map_or(usize::MAX, |c| c as usize);
    Sse::new(ticks.take(limit))
}

/// An item.
#[derive(Serialize)]
struct Item {
    id: u32,
    name: String,
}

/// Items as JSON Lines, produced one at a time as the client reads them.
#[get("/items.jsonl")]
async fn items() -> JsonLines<impl AnyStream<Item = Item> + Send> {
    JsonLines::new(stream::iter(1..=5).map(|id| Item {
        id,
        name: format!("item {id}"),
    }))
}

/// A page that listens to the clock.
#[get("/")]
async fn page() -> Html<&'static str> {
    Html(
        r#"<!doctype html><meta charset="utf-8"><title>clock</title>
<ul id="log"></ul>
<script>
const log = document.getElementById("log");
const source = new EventSource("/clock");
source.addEventListener("tick", (e) => {
  const li = document.createElement("li");
  li.textContent = `#${e.lastEventId}: ${e.data}`;
  log.prepend(li);
});
</script>"#,
    )
}

fn app() -> App {
    App::new()
        .title("Streaming")
        .route(clock)
        .route(items)
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

    #[tokio::test(start_paused = true)]
    async fn clock_counts_and_resumes() {
        let c = TestClient::new(app());
        let resp = c
            .get("/clock?count=2")
            .header("last-event-id", "41")
            .send()
            .await;
        let text = resp.text();
        let ids: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("id: "))
            .collect();
        assert_eq!(ids, ["42", "43"]);
        assert!(text.starts_with("event: tick\ndata: {\"n\":42,"), "{text}");
    }

    #[tokio::test]
    async fn items_are_json_lines() {
        let resp = TestClient::new(app()).get("/items.jsonl").send().await;
        let lines: Vec<serde_json::Value> = resp
            .text()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[4], serde_json::json!({"id": 5, "name": "item 5"}));
    }
}
