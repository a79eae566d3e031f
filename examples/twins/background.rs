//! Background tasks: work queued with `BackgroundTasks` runs after the response is sent,
//! and a later request sees what it did (an activity log kept in the app's state).
//! Tasks queued by a dependency and by the handler share one queue and run in the order
//! queued, sync and async alike; none runs when the request fails (a 422, or an HTTP
//! error returned after queuing). Settings, the log and the items are app state.
//! Its FastAPI twin is `tests/twin/apps/background.py`.

use std::collections::BTreeMap;
use std::sync::Mutex;

use hasten::http::Uri;
use hasten::prelude::*;
use serde_json::{json, Value};

/// What the app was started with.
#[derive(Debug, Clone, Serialize, JsonSchema)]
struct Settings {
    app_name: String,
    admin_email: String,
    items_per_user: i64,
}

/// An item in stock.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
struct Item {
    #[schemars(length(min = 1))]
    name: String,
    #[serde(default = "one")]
    #[schemars(range(min = 1))]
    quantity: i64,
}

fn one() -> i64 {
    1
}

/// The activity log.
#[derive(Debug, Default)]
struct Log(Mutex<Vec<String>>);

impl Log {
    fn push(&self, line: String) {
        if let Ok(mut lines) = self.0.lock() {
            lines.push(line);
        }
    }

    fn lines(&self) -> Vec<String> {
        self.0.lock().map(|l| l.clone()).unwrap_or_default()
    }

    fn clear(&self) {
        if let Ok(mut lines) = self.0.lock() {
            lines.clear();
        }
    }
}

/// The items in stock.
#[derive(Debug, Default)]
struct Items {
    stock: Mutex<BTreeMap<String, Item>>,
}

/// A sync task: one line to the log.
fn write_log(log: &Log, message: String) {
    log.push(message);
}

/// An async task, given a detail.
async fn record(log: State<Log>, event: &'static str, detail: String) {
    log.push(if detail.is_empty() {
        event.to_owned()
    } else {
        format!("{event}: {detail}")
    });
}

/// A dependency that queues a task of its own.
#[dependency]
async fn get_query(tasks: BackgroundTasks, log: State<Log>, q: Option<String>) -> Option<String> {
    if let Some(q) = q.as_deref().filter(|q| !q.is_empty()) {
        let line = format!("found query: {q}");
        tasks.spawn_blocking(move || write_log(&log, line));
    }
    q
}

/// Log every read of an item, after the response.
#[dependency]
async fn audit(uri: Uri, tasks: BackgroundTasks, log: State<Log>) {
    let line = format!("read {}", uri.path());
    tasks.spawn_blocking(move || write_log(&log, line));
}

/// Queue a notification; the answer does not wait for it.
#[post("/send-notification/{email}", status = 202)]
async fn send_notification(
    email: String,
    tasks: BackgroundTasks,
    log: State<Log>,
    q: Depends<get_query>,
    #[query(ge = 1, le = 5, default = 3)] priority: i64,
) -> Json<Value> {
    let _ = q;
    let line = format!("notification to {email} (priority {priority})");
    tasks.spawn_blocking(move || write_log(&log, line));
    Json(json!({ "message": "Notification sent in the background" }))
}

/// What the tasks did so far.
#[get("/log")]
async fn read_log(log: State<Log>) -> Json<Vec<String>> {
    Json(log.lines())
}

/// Empty the log.
#[delete("/log", status = 204)]
async fn clear_log(log: State<Log>) {
    log.clear();
}

/// Store an item, and record it afterwards.
#[post("/items/", status = 201)]
async fn create_item(
    item: Json<Item>,
    tasks: BackgroundTasks,
    log: State<Log>,
    items: State<Items>,
) -> Json<Item> {
    if let Ok(mut stock) = items.stock.lock() {
        stock.insert(item.name.clone(), item.0.clone());
    }
    tasks.spawn(record(log, "created", item.name.clone()));
    item
}

/// An item; every read is audited, but not a failed one.
#[get("/items/{name}", dependencies = [audit])]
async fn read_item(name: String, items: State<Items>) -> Result<Json<Item>, HttpError> {
    let found = items.stock.lock().ok().and_then(|s| s.get(&name).cloned());
    found
        .map(Json)
        .ok_or_else(|| HttpError::new(StatusCode::NOT_FOUND, "Item not found"))
}

/// Three tasks, sync and async, run one after the other in the order queued.
#[post("/reports/", status = 202)]
async fn start_report(tasks: BackgroundTasks, log: State<Log>, items: State<Items>) -> Json<Value> {
    let count = items.stock.lock().map(|s| s.len()).unwrap_or_default();
    let first = log.clone();
    tasks.spawn_blocking(move || write_log(&first, "report started".to_owned()));
    tasks.spawn(record(
        log.clone(),
        "report built",
        format!("{count} items"),
    ));
    tasks.spawn_blocking(move || write_log(&log, "report done".to_owned()));
    Json(json!({ "queued": 3 }))
}

/// The settings made at startup.
#[get("/settings")]
async fn read_settings(settings: State<Settings>) -> Json<Settings> {
    Json((*settings).clone())
}

/// The app.
pub(crate) fn app() -> App {
    App::new()
        .title("background")
        .version("1.0.0")
        // FastAPI makes these in its `lifespan`; `App::on_startup` would be hasten's
        // equivalent, but an app with startup hooks cannot be built without starting it
        // (`App::build` refuses), so neither `--openapi` nor the build test could take it.
        .state(Settings {
            app_name: "background".into(),
            admin_email: "admin@example.com".into(),
            items_per_user: 50,
        })
        .state(Log(Mutex::new(vec!["startup".into()])))
        .state(Items::default())
        .route(send_notification)
        .route(read_log)
        .route(clear_log)
        .route(create_item)
        .route(read_item)
        .route(start_report)
        .route(read_settings)
}
