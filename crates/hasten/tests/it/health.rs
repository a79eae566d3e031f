//! Liveness and readiness probes: what they answer, the checks readiness runs, and
//! readiness turning 503 before the server drains.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hasten::prelude::*;
use hasten::testing::TestClient;
use hasten::Server;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::time::timeout;

const BOUND: Duration = Duration::from_secs(10);

/// Whether the database "answers".
#[derive(Default)]
struct Up(AtomicBool);

struct Pool {
    up: Arc<Up>,
}

#[dependency(scope = "app")]
async fn pool(up: State<Up>) -> Pool {
    Pool { up: up.0.clone() }
}

#[dependency(scope = "app")]
async fn cache() -> Result<u32, HttpError> {
    Err(HttpError::new(
        hasten::StatusCode::SERVICE_UNAVAILABLE,
        "redis://cache refused the connection",
    ))
}

#[dependency(scope = "app")]
async fn slow() -> u32 {
    1
}

#[dependency]
async fn per_request() -> u32 {
    1
}

#[get("/items")]
async fn items() -> &'static str {
    "items"
}

fn app(up: Arc<Up>) -> App {
    App::new()
        .route(items)
        .state_arc(up)
        .health("/health")
        .readiness("/ready")
        .ready_when::<pool, _, _, _>(|pool| async move {
            if pool.up.0.load(Ordering::SeqCst) {
                Ok(())
            } else {
                Err("the database does not answer")
            }
        })
}

#[tokio::test]
async fn liveness_answers_while_the_process_serves() {
    let c = TestClient::new(app(Arc::default()));
    let resp = c.get("/health").send().await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>(), json!({"status": "ok"}));
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    let resp = c.head("/health").send().await;
    assert_eq!(resp.status(), 200);
    assert!(resp.bytes().is_empty());
    assert_eq!(resp.header("content-length"), Some("15"));
    let resp = c.post("/health").send().await;
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.header("allow"), Some("GET, HEAD"));
    // The probes are not part of the API.
    let doc = c.get("/openapi.json").send().await.json::<Value>();
    assert_eq!(doc["paths"].as_object().unwrap().len(), 1, "{doc}");
}

#[tokio::test]
async fn readiness_follows_its_checks_and_names_what_failed() {
    let up = Arc::new(Up::default());
    let c = TestClient::new(app(up.clone()));
    let resp = c.get("/ready").send().await;
    assert_eq!(resp.status(), 503);
    assert_eq!(
        resp.json::<Value>(),
        json!({"status": "unavailable", "checks": {"pool": "the database does not answer"}})
    );
    up.0.store(true, Ordering::SeqCst);
    let resp = c.get("/ready").send().await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.json::<Value>(),
        json!({"status": "ready", "checks": {"pool": "ok"}})
    );

    // A dependency that cannot be made, and a check slower than the timeout, fail too.
    let c = TestClient::new(
        app(up)
            .ready_when::<cache, _, _, _>(|_| async { Ok::<_, String>(()) })
            .ready_when::<slow, _, _, _>(|_| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                Ok::<_, String>(())
            })
            .readiness_timeout(Duration::from_millis(100)),
    );
    let resp = timeout(BOUND, c.get("/ready").send()).await.unwrap();
    assert_eq!(resp.status(), 503);
    let body = resp.json::<Value>();
    assert_eq!(body["checks"]["pool"], "ok", "{body}");
    let cache = body["checks"]["cache"].as_str().unwrap();
    assert!(cache.contains("503"), "{body}");
    assert!(cache.contains("redis://cache refused"), "{body}");
    assert_eq!(body["checks"]["slow"], "timed out after 100ms", "{body}");
}

#[tokio::test]
async fn probes_that_cannot_work_are_build_errors() {
    let problems = |app: App| app.build().unwrap_err().to_string();
    let err = problems(App::new().route(items).health("/items"));
    assert!(
        err.contains("the health path `/items` is also an operation's"),
        "{err}"
    );
    let err = problems(App::new().readiness("ready"));
    assert!(err.contains("must start with `/`"), "{err}");
    let err = problems(App::new().ready_when::<slow, _, _, _>(|_| async { Ok::<_, String>(()) }));
    assert!(err.contains("no readiness probe"), "{err}");
    let err = problems(
        App::new()
            .readiness("/ready")
            .ready_when::<per_request, _, _, _>(|_| async { Ok::<_, String>(()) }),
    );
    assert!(err.contains("app-scoped"), "{err}");
}

/// `GET path` on a new connection; the whole answer.
async fn get(addr: std::net::SocketAddr, path: &str) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    crate::common::raw_exchange(addr, request.as_bytes()).await
}

#[tokio::test]
async fn readiness_turns_503_before_the_server_stops_accepting() {
    let up = Arc::new(Up(AtomicBool::new(true)));
    let server = Server::bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(
        server
            .drain_delay(Duration::from_millis(600))
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .serve(app(up)),
    );
    let resp = get(addr, "/ready").await;
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");

    stop.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Draining: readiness says so, and new connections are still served.
    let resp = get(addr, "/ready").await;
    assert!(resp.starts_with("HTTP/1.1 503"), "{resp}");
    assert!(resp.ends_with(r#"{"status":"draining"}"#), "{resp}");
    let resp = get(addr, "/items").await;
    assert!(resp.ends_with("items"), "{resp}");
    assert!(
        !task.is_finished(),
        "the server stopped before the drain delay"
    );

    // After the delay it stops.
    timeout(BOUND, task).await.unwrap().unwrap().unwrap();
    assert!(TcpStream::connect(addr).await.is_err(), "still accepting");
}
