//! `App::tracing`: the spans a traced request makes, and which requests are traced
//! (`App::tracing_ratio`, and the caller's `traceparent`).

use std::sync::{Arc, Mutex};

use hasten::background::BackgroundTasks;
use hasten::prelude::*;
use hasten::testing::TestClient;
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::Layer;

/// The names of the spans made, in order.
#[derive(Clone, Default)]
struct Made(Arc<Mutex<Vec<String>>>);

impl Made {
    fn count(&self, name: &str) -> usize {
        self.0.lock().unwrap().iter().filter(|n| *n == name).count()
    }
}

impl<S: tracing::Subscriber> Layer<S> for Made {
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        _id: &tracing::span::Id,
        _ctx: Context<'_, S>,
    ) {
        self.0
            .lock()
            .unwrap()
            .push(attrs.metadata().name().to_owned());
    }
}

struct Db;

#[dependency]
async fn db() -> Db {
    Db
}

#[get("/items/{item_id}")]
async fn item(item_id: u32, _db: Depends<db>, tasks: BackgroundTasks) -> String {
    tasks.spawn(async {});
    item_id.to_string()
}

/// Serve `n` requests (with `headers`) on `app` under a subscriber that records spans.
async fn spans_of(app: App, requests: &[Option<&str>]) -> Made {
    let made = Made::default();
    let subscriber = tracing_subscriber::registry().with(made.clone());
    // A current-thread runtime: the server's tasks run on this thread, under it.
    let _guard = tracing::subscriber::set_default(subscriber);
    let c = TestClient::new(app);
    for traceparent in requests {
        let mut req = c.get("/items/7");
        if let Some(tp) = traceparent {
            req = req.header("traceparent", tp);
        }
        assert_eq!(req.send().await.text(), "7");
    }
    made
}

#[tokio::test]
async fn a_traced_request_spans_validation_dependencies_handler_and_background_tasks() {
    let made = spans_of(App::new().route(item).tracing(), &[None, None]).await;
    for name in [
        "request",
        "validation",
        "dependency",
        "handler",
        "background",
    ] {
        assert_eq!(made.count(name), 2, "{name}: {:?}", made.0.lock().unwrap());
    }
    // Without `tracing`, none.
    let made = spans_of(App::new().route(item), &[None, None]).await;
    assert!(
        made.0.lock().unwrap().is_empty(),
        "{:?}",
        made.0.lock().unwrap()
    );
}

#[tokio::test]
async fn a_ratio_traces_a_share_and_the_callers_flag_wins() {
    // One in four of eight requests.
    let made = spans_of(App::new().route(item).tracing_ratio(0.25), &[None; 8]).await;
    assert_eq!(made.count("request"), 2);
    assert_eq!(made.count("handler"), 2);

    // Nothing by ratio; a caller that sampled its trace gets it continued, one that
    // did not, or sent a malformed header, does not.
    let sampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let unsampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
    let malformed = "00-00000000000000000000000000000000-00f067aa0ba902b7-01";
    let made = spans_of(
        App::new().route(item).tracing_ratio(0.0),
        &[Some(sampled), Some(unsampled), Some(malformed), None],
    )
    .await;
    assert_eq!(made.count("handler"), 1, "{:?}", made.0.lock().unwrap());

    // Everything by ratio, but the caller said no.
    let made = spans_of(App::new().route(item).tracing(), &[Some(unsampled), None]).await;
    assert_eq!(made.count("handler"), 1, "{:?}", made.0.lock().unwrap());
}
