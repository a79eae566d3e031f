//! Dependencies: FastAPI's cache behaviour, errors joining the 422, rejections,
//! sync dependencies, hand-written dependencies, and background tasks from dependencies.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hasten::depends::Dependency;
use hasten::extract::{Errors, RequestCtx};
use hasten::prelude::*;
use hasten::testing::TestClient;
use serde_json::{json, Value};

#[derive(Default)]
struct Counter(AtomicU32);

#[dependency]
async fn dep_counter(counter: State<Counter>) -> u32 {
    let Counter(n) = &*counter;
    n.fetch_add(1, Ordering::SeqCst) + 1
}

#[dependency]
async fn super_dep(count: Depends<dep_counter>) -> u32 {
    *count
}

#[get("/counter/")]
async fn get_counter(count: Depends<dep_counter>) -> Json<Value> {
    Json(json!({ "counter": *count }))
}

#[get("/sub-counter/")]
async fn get_sub_counter(subcount: Depends<super_dep>, count: Depends<dep_counter>) -> Json<Value> {
    Json(json!({ "counter": *count, "subcounter": *subcount }))
}

#[get("/sub-counter-no-cache/")]
async fn get_sub_counter_no_cache(
    subcount: Depends<super_dep>,
    count: Depends<dep_counter, NoCache>,
) -> Json<Value> {
    Json(json!({ "counter": *count, "subcounter": *subcount }))
}

fn counter_client() -> TestClient {
    TestClient::new(
        App::new()
            .route(get_counter)
            .route(get_sub_counter)
            .route(get_sub_counter_no_cache)
            .state(Counter::default()),
    )
}

#[tokio::test]
async fn a_dependency_runs_once_per_request_like_fastapi() {
    assert_eq!(
        counter_client()
            .get("/counter/")
            .send()
            .await
            .json::<Value>(),
        json!({"counter": 1})
    );
    assert_eq!(
        counter_client()
            .get("/sub-counter/")
            .send()
            .await
            .json::<Value>(),
        json!({"counter": 1, "subcounter": 1})
    );
    assert_eq!(
        counter_client()
            .get("/sub-counter-no-cache/")
            .send()
            .await
            .json::<Value>(),
        json!({"counter": 2, "subcounter": 1})
    );
    // Each request gets its own cache.
    let c = counter_client();
    c.get("/counter/").send().await;
    assert_eq!(
        c.get("/counter/").send().await.json::<Value>(),
        json!({"counter": 2})
    );
}

struct User {
    name: String,
}

/// The caller, from the `x-token` header.
#[dependency]
async fn current_user(#[header] x_token: String) -> Result<User, HttpError> {
    if x_token != "fake-super-secret-token" {
        return Err(HttpError::new(
            StatusCode::BAD_REQUEST,
            "X-Token header invalid",
        ));
    }
    Ok(User {
        name: "ann".to_owned(),
    })
}

#[get("/items/")]
async fn read_items(user: Depends<current_user>, limit: u8) -> Json<Value> {
    Json(json!({ "user": user.name, "limit": limit }))
}

#[tokio::test]
async fn dependency_input_errors_join_the_endpoints_422() {
    let c = TestClient::new(App::new().route(read_items));
    let resp = c.get("/items/?limit=x").send().await;
    assert_eq!(resp.status(), 422);
    assert_eq!(
        resp.json::<Value>(),
        json!({"detail": [
            {"type":"missing","loc":["header","x-token"],"msg":"Field required","input":null},
            {"type":"int_parsing","loc":["query","limit"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"x"}
        ]})
    );
}

#[tokio::test]
async fn a_dependency_error_becomes_the_response() {
    let c = TestClient::new(App::new().route(read_items));
    let resp = c
        .get("/items/?limit=3")
        .header("x-token", "wrong")
        .send()
        .await;
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.json::<Value>(),
        json!({"detail": "X-Token header invalid"})
    );
    let resp = c
        .get("/items/?limit=3")
        .header("x-token", "fake-super-secret-token")
        .send()
        .await;
    assert_eq!(resp.json::<Value>(), json!({"user": "ann", "limit": 3}));
}

#[test]
fn dependency_parameters_are_documented_on_the_operation_once() {
    #[get("/twice")]
    async fn twice(a: Depends<current_user>, b: Depends<current_user>) -> String {
        format!("{}{}", a.name, b.name)
    }
    let service = App::new().route(twice).route(read_items).build().unwrap();
    for op in service.operations() {
        let names: Vec<String> = op.doc().params.iter().map(|p| p.name.to_string()).collect();
        match op.meta().fn_name {
            "twice" => assert_eq!(names, vec!["x-token"]),
            _ => assert_eq!(names, vec!["x-token", "limit"]),
        }
    }
}

/// A plain `fn` dependency runs on the blocking pool.
#[dependency]
fn settings() -> String {
    std::thread::sleep(Duration::from_millis(5));
    "sqlite://memory".to_owned()
}

/// A dependency implemented by hand (FastAPI's class dependency).
struct Pagination;

impl Dependency for Pagination {
    type Output = (u32, u32);

    async fn resolve(ctx: &mut RequestCtx, _errors: &mut Errors) -> Option<(u32, u32)> {
        let page = ctx
            .parts()
            .uri
            .query()
            .and_then(|q| q.strip_prefix("page="))
            .and_then(|p| p.parse().ok())
            .unwrap_or(1);
        Some((page, 20))
    }
}

#[get("/config")]
async fn config(url: Depends<settings>, page: Depends<Pagination>) -> Json<Value> {
    Json(json!({ "url": *url, "page": page.0, "size": page.1 }))
}

#[tokio::test]
async fn sync_and_hand_written_dependencies() {
    let c = TestClient::new(App::new().route(config));
    assert_eq!(
        c.get("/config?page=3").send().await.json::<Value>(),
        json!({"url": "sqlite://memory", "page": 3, "size": 20})
    );
}

#[derive(Default)]
struct Log(Mutex<Vec<&'static str>>);

#[dependency]
async fn audit(log: State<Log>, tasks: BackgroundTasks) {
    let log = log.0.clone();
    tasks.spawn(async move { log.0.lock().unwrap().push("dependency task") });
}

#[post("/audited")]
async fn audited(_audit: Depends<audit>, log: State<Log>, tasks: BackgroundTasks) -> &'static str {
    let log = log.0.clone();
    tasks.spawn(async move { log.0.lock().unwrap().push("endpoint task") });
    "ok"
}

#[tokio::test]
async fn background_tasks_from_dependencies_run_first() {
    let log = Arc::new(Log::default());
    let c = TestClient::new(App::new().route(audited).state_arc(log.clone()));
    assert_eq!(c.post("/audited").send().await.text(), "ok");
    let events = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let events = log.0.lock().unwrap().clone();
            if events.len() == 2 {
                return events;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("tasks did not run");
    assert_eq!(events, vec!["dependency task", "endpoint task"]);
}

// FastAPI's "bigger applications" layout: a token check on every route of one router.

#[dependency]
async fn get_token_header(#[header] x_token: String) -> Result<(), HttpError> {
    if x_token != "fake-super-secret-token" {
        return Err(HttpError::new(
            StatusCode::BAD_REQUEST,
            "X-Token header invalid",
        ));
    }
    Ok(())
}

#[get("/")]
async fn list_items() -> Json<Value> {
    Json(json!({"plumbus": {"name": "Plumbus"}, "gun": {"name": "Portal Gun"}}))
}

#[get("/{item_id}")]
async fn read_item(item_id: String) -> Json<Value> {
    Json(json!({ "name": item_id }))
}

#[get("/users/")]
async fn read_users() -> Json<Value> {
    Json(json!([{"username": "Rick"}, {"username": "Morty"}]))
}

fn bigger_app() -> App {
    App::new().route(read_users).include(
        Router::new()
            .prefix("/items")
            .tag("items")
            .dependency::<get_token_header>()
            .route(list_items)
            .route(read_item),
    )
}

#[tokio::test]
async fn a_router_dependency_guards_only_that_routers_routes() {
    let c = TestClient::new(bigger_app());
    let resp = c.get("/items/").send().await;
    assert_eq!(resp.status(), 422);
    assert_eq!(
        resp.json::<Value>(),
        json!({"detail":[{"type":"missing","loc":["header","x-token"],"msg":"Field required","input":null}]})
    );
    let resp = c
        .get("/items/plumbus")
        .header("x-token", "wrong")
        .send()
        .await;
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.json::<Value>(),
        json!({"detail": "X-Token header invalid"})
    );
    let resp = c
        .get("/items/plumbus")
        .header("x-token", "fake-super-secret-token")
        .send()
        .await;
    assert_eq!(resp.json::<Value>(), json!({"name": "plumbus"}));
    // Outside the router: no token needed.
    assert_eq!(c.get("/users/").send().await.status(), 200);
    // The header is documented on the router's operations only.
    let service = bigger_app().build().unwrap();
    for op in service.operations() {
        let has_token = op.doc().params.iter().any(|p| p.name == "x-token");
        assert_eq!(has_token, op.path().starts_with("/items"), "{}", op.path());
    }
}

#[dependency]
async fn get_query_token(token: String) -> Result<(), HttpError> {
    if token != "jessica" {
        return Err(HttpError::new(
            StatusCode::BAD_REQUEST,
            "No Jessica token provided",
        ));
    }
    Ok(())
}

#[tokio::test]
async fn an_app_dependency_runs_first_and_its_errors_join_the_422() {
    let c = TestClient::new(bigger_app().dependency::<get_query_token>());
    let resp = c.get("/items/x").send().await;
    assert_eq!(resp.status(), 422);
    assert_eq!(
        resp.json::<Value>(),
        json!({"detail":[{"type":"missing","loc":["query","token"],"msg":"Field required","input":null},{"type":"missing","loc":["header","x-token"],"msg":"Field required","input":null}]})
    );
    let resp = c.get("/users/?token=jessica").send().await;
    assert_eq!(resp.status(), 200);
    let resp = c.get("/users/?token=bob").send().await;
    assert_eq!(
        resp.json::<Value>(),
        json!({"detail": "No Jessica token provided"})
    );
}

// Overrides: swap the database for a fake, even inside another dependency.

struct Database {
    url: String,
}

#[dependency]
async fn database() -> Database {
    Database {
        url: "postgres://production".to_owned(),
    }
}

#[dependency]
async fn fake_database() -> Database {
    Database {
        url: "sqlite://memory".to_owned(),
    }
}

#[dependency]
async fn repository(db: Depends<database>) -> String {
    format!("repo on {}", db.url)
}

#[get("/db")]
async fn which_db(db: Depends<database>, repo: Depends<repository>) -> Json<Value> {
    Json(json!({ "db": db.url, "repo": *repo }))
}

#[tokio::test]
async fn a_test_overrides_the_database_everywhere() {
    let real = TestClient::new(App::new().route(which_db));
    assert_eq!(
        real.get("/db").send().await.json::<Value>(),
        json!({"db": "postgres://production", "repo": "repo on postgres://production"})
    );
    let fake = TestClient::new(
        App::new()
            .route(which_db)
            .override_dependency::<database, fake_database>(),
    );
    assert_eq!(
        fake.get("/db").send().await.json::<Value>(),
        json!({"db": "sqlite://memory", "repo": "repo on sqlite://memory"})
    );
}

#[get("/guarded", dependencies = [get_token_header, get_query_token])]
async fn guarded() -> &'static str {
    "in"
}

#[tokio::test]
async fn operation_dependencies_run_in_order_before_the_handler() {
    let c = TestClient::new(App::new().route(guarded));
    let resp = c.get("/guarded").send().await;
    assert_eq!(resp.status(), 422);
    assert_eq!(
        resp.json::<Value>(),
        json!({"detail":[{"type":"missing","loc":["header","x-token"],"msg":"Field required","input":null},{"type":"missing","loc":["query","token"],"msg":"Field required","input":null}]})
    );
    let resp = c
        .get("/guarded?token=jessica")
        .header("x-token", "fake-super-secret-token")
        .send()
        .await;
    assert_eq!(resp.text(), "in");
}
