//! Lifespan: startup hooks making typed state, shutdown hooks, app-scoped dependencies.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use hasten::depends::{Cleanup, Outcome};
use hasten::prelude::*;
use hasten::testing::TestClient;
use hasten::Server;
use serde_json::{json, Value};

struct Settings {
    database_url: String,
}

struct Pool {
    url: String,
}

#[derive(Default)]
struct Journal(Mutex<Vec<String>>);

impl Journal {
    fn push(&self, e: impl Into<String>) {
        self.0.lock().unwrap().push(e.into());
    }
    fn entries(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

#[get("/pool")]
async fn pool_url(pool: State<Pool>) -> String {
    pool.url.clone()
}

fn lifespan_app(journal: Arc<Journal>) -> App {
    let on_start = journal.clone();
    let on_stop = journal.clone();
    App::new()
        .route(pool_url)
        .state(Settings {
            database_url: "postgres://db/app".to_owned(),
        })
        .state_arc(journal)
        .on_startup(move |state| async move {
            let settings = state.get::<Settings>().ok_or("no settings")?;
            on_start.push("startup: pool");
            Ok::<_, &str>(Pool {
                url: settings.database_url.clone(),
            })
        })
        .on_shutdown(move |state| async move {
            let pool = state.get::<Pool>().expect("pool made at startup");
            on_stop.push(format!("shutdown: close {}", pool.url));
        })
}

#[tokio::test]
async fn startup_makes_state_and_shutdown_tears_it_down() {
    let journal = Arc::new(Journal::default());
    let c = TestClient::start(lifespan_app(journal.clone())).await;
    assert_eq!(c.get("/pool").send().await.text(), "postgres://db/app");
    assert_eq!(journal.entries(), vec!["startup: pool"]);
    c.shutdown().await;
    c.shutdown().await; // runs once
    assert_eq!(
        journal.entries(),
        vec!["startup: pool", "shutdown: close postgres://db/app"]
    );
}

#[test]
fn an_app_with_startup_hooks_must_be_started() {
    let err = TestClient::try_new(lifespan_app(Arc::default())).unwrap_err();
    assert!(err.to_string().contains("App::start().await"), "{err}");
}

#[tokio::test]
async fn a_failing_startup_hook_stops_the_server_from_starting() {
    let app = App::new()
        .route(pool_url)
        .on_startup(|_| async { Err::<Pool, _>("database unreachable") });
    let err = app.start().await.unwrap_err();
    assert!(err.to_string().contains("database unreachable"), "{err}");
    let server = Server::bind("127.0.0.1:0").await.unwrap();
    let app = App::new()
        .route(pool_url)
        .on_startup(|_| async { Err::<Pool, _>("database unreachable") });
    let err = server.serve(app).await.unwrap_err();
    assert!(err.to_string().contains("database unreachable"), "{err}");
}

// An app-scoped dependency: one pool for the app, made on first use, closed at shutdown.

#[derive(Default)]
struct Connects(AtomicU32);

#[dependency(scope = "app")]
async fn pool(connects: State<Connects>, journal: State<Journal>) -> Cleanup<Pool> {
    let Connects(n) = &*connects;
    let n = n.fetch_add(1, Ordering::SeqCst) + 1;
    tokio::task::yield_now().await;
    let journal = journal.0.clone();
    Cleanup::new(
        Pool {
            url: format!("pool #{n}"),
        },
        move |pool, outcome| async move {
            assert_eq!(outcome, Outcome::Shutdown);
            journal.push(format!("closed {}", pool.url));
        },
    )
}

#[dependency]
async fn session(pool: Depends<pool>) -> String {
    format!("session on {}", pool.url)
}

#[get("/session")]
async fn use_session(session: Depends<session>, pool: Depends<pool>) -> Json<Value> {
    Json(json!({ "session": *session, "pool": pool.url }))
}

#[tokio::test]
async fn an_app_scoped_dependency_is_made_once_and_closed_at_shutdown() {
    let journal = Arc::new(Journal::default());
    let connects = Arc::new(Connects::default());
    let c = TestClient::start(
        App::new()
            .route(use_session)
            .state_arc(journal.clone())
            .state_arc(connects.clone()),
    )
    .await;
    // Many first requests at once still make one pool.
    let calls: Vec<_> = (0..20)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.get("/session").send().await.json::<Value>() })
        })
        .collect();
    for call in calls {
        assert_eq!(
            call.await.unwrap(),
            json!({"session": "session on pool #1", "pool": "pool #1"})
        );
    }
    assert_eq!(connects.0.load(Ordering::SeqCst), 1);
    assert!(journal.entries().is_empty());
    c.shutdown().await;
    assert_eq!(journal.entries(), vec!["closed pool #1"]);
}

#[tokio::test]
async fn the_server_runs_shutdown_hooks_after_serving() {
    let journal = Arc::new(Journal::default());
    let server = Server::bind("127.0.0.1:0").await.unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(
        server
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .serve(lifespan_app(journal.clone())),
    );
    tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while journal.entries().is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("startup never ran");
    assert_eq!(journal.entries(), vec!["startup: pool"]);
    tx.send(()).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        journal.entries(),
        vec!["startup: pool", "shutdown: close postgres://db/app"]
    );
}

// Eager app-scoped dependencies: made when the app starts, so a bad configuration stops it.

#[tokio::test]
async fn an_eager_dependency_is_made_at_startup_and_reused_by_requests() {
    let journal = Arc::new(Journal::default());
    let connects = Arc::new(Connects::default());
    let c = TestClient::start(
        App::new()
            .route(use_session)
            .state_arc(journal.clone())
            .state_arc(connects.clone())
            .eager::<pool>(),
    )
    .await;
    // Made before any request …
    assert_eq!(connects.0.load(Ordering::SeqCst), 1);
    // … and the one requests get.
    assert_eq!(
        c.get("/session").send().await.json::<Value>(),
        json!({"session": "session on pool #1", "pool": "pool #1"})
    );
    assert_eq!(connects.0.load(Ordering::SeqCst), 1);
    c.shutdown().await;
    assert_eq!(journal.entries(), vec!["closed pool #1"]);
}

#[dependency(scope = "app")]
async fn unreachable_database() -> Result<Pool, HttpError> {
    Err(HttpError::new(
        hasten::StatusCode::SERVICE_UNAVAILABLE,
        "database unreachable at postgres://db/app",
    ))
}

#[dependency(scope = "app")]
async fn exploding() -> Pool {
    panic!("no settings file")
}

#[dependency(scope = "app")]
async fn reachable_database() -> Result<Pool, HttpError> {
    Ok(Pool {
        url: "sqlite://memory".to_owned(),
    })
}

#[get("/db")]
async fn db(pool: Depends<unreachable_database>) -> String {
    pool.url.clone()
}

#[dependency]
async fn per_request() -> u32 {
    1
}

#[tokio::test]
async fn a_failing_eager_dependency_stops_the_app_from_starting_with_every_reason() {
    let err = App::new()
        .route(db)
        .eager::<unreachable_database>()
        .eager::<exploding>()
        .start()
        .await
        .expect_err("the app started with a broken dependency");
    let problems = err.problems();
    assert_eq!(problems.len(), 2, "{err}");
    assert!(problems[0].contains("unreachable_database"), "{err}");
    assert!(problems[0].contains("503"), "{err}");
    assert!(
        problems[0].contains("database unreachable at postgres://db/app"),
        "{err}"
    );
    assert!(problems[1].contains("exploding"), "{err}");
    assert!(problems[1].contains("no settings file"), "{err}");

    // What was made before the failure is closed: the pool's cleanup runs.
    let journal = Arc::new(Journal::default());
    let err = App::new()
        .state_arc(journal.clone())
        .state_arc(Arc::new(Connects::default()))
        .eager::<pool>()
        .eager::<unreachable_database>()
        .start()
        .await
        .expect_err("the app started with a broken dependency");
    assert_eq!(err.problems().len(), 1, "{err}");
    assert_eq!(journal.entries(), vec!["closed pool #1"]);

    // The server does not start either: `serve` returns the same reasons.
    let server = Server::bind("127.0.0.1:0").await.unwrap();
    let err = server
        .serve(App::new().route(db).eager::<unreachable_database>())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("database unreachable"), "{err}");

    // Only an app-scoped dependency can be made at startup.
    let err = App::new()
        .eager::<per_request>()
        .start()
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("per_request"), "{err}");
    assert!(err.to_string().contains("app-scoped"), "{err}");
}

#[tokio::test]
async fn an_overridden_eager_dependency_makes_the_replacement() {
    let c = TestClient::start(
        App::new()
            .route(db)
            .eager::<unreachable_database>()
            .override_dependency::<unreachable_database, reachable_database>(),
    )
    .await;
    assert_eq!(c.get("/db").send().await.text(), "sqlite://memory");
}
