//! Dependencies: shared query parameters, a chain (a dependency using another), header
//! checks that raise `HTTPException`, dependencies on a route and on a router (run for
//! their side effect, their parameters documented on each operation), a session
//! dependency with `yield` (committed or rolled back when the request is over), cached
//! once per request or resolved again with `use_cache=False`. Its FastAPI twin is
//! `tests/twin/apps/dependencies.py`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use hasten::depends::{Cleanup, Outcome};
use hasten::prelude::*;
use serde_json::{json, Value};

/// The paging parameters of a listing.
#[derive(Serialize)]
struct Commons {
    q: Option<String>,
    skip: i64,
    limit: i64,
}

/// The paging parameters every listing takes.
#[dependency]
async fn common_parameters(
    q: Option<String>,
    #[query(default = 0)] skip: i64,
    #[query(le = 100, default = 100)] limit: i64,
) -> Commons {
    Commons { q, skip, limit }
}

/// The `x-token` header must be the secret token.
#[dependency]
async fn verify_token(#[header] x_token: String) -> Result<(), HttpError> {
    if x_token != "fake-super-secret-token" {
        return Err(HttpError::new(
            StatusCode::BAD_REQUEST,
            "X-Token header invalid",
        ));
    }
    Ok(())
}

/// The `x-key` header must be the secret key.
#[dependency]
async fn verify_key(#[header] x_key: String) -> Result<String, HttpError> {
    if x_key != "fake-super-secret-key" {
        return Err(HttpError::new(
            StatusCode::BAD_REQUEST,
            "X-Key header invalid",
        ));
    }
    Ok(x_key)
}

#[dependency]
async fn query_extractor(q: Option<String>) -> Option<String> {
    q
}

/// The query, or the last one (from a cookie) when none is given.
#[dependency]
async fn query_or_cookie_extractor(
    q: Depends<query_extractor>,
    #[cookie] last_query: Option<String>,
) -> Option<String> {
    match q.as_deref() {
        None | Some("") => last_query,
        Some(q) => Some(q.to_owned()),
    }
}

/// What the sessions did, most recent last (the last ten events).
static EVENTS: Mutex<Vec<String>> = Mutex::new(Vec::new());
static SESSION_IDS: AtomicU64 = AtomicU64::new(1);

fn log(event: String) {
    if let Ok(mut events) = EVENTS.lock() {
        events.push(event);
        let extra = events.len().saturating_sub(10);
        events.drain(..extra);
    }
}

fn events_so_far() -> Vec<String> {
    EVENTS.lock().map(|e| e.clone()).unwrap_or_default()
}

/// A unit of work.
struct Session {
    id: u64,
}

/// A unit of work: committed if the request succeeds, rolled back otherwise.
#[dependency]
async fn get_session() -> Cleanup<Session> {
    let session = Session {
        id: SESSION_IDS.fetch_add(1, Ordering::SeqCst),
    };
    log(format!("open {}", session.id));
    Cleanup::new(session, |session, outcome: Outcome| async move {
        let what = if outcome.is_success() {
            "commit"
        } else {
            "rollback"
        };
        log(format!("{what} {}", session.id));
    })
}

/// Items: only with the right token and key.
#[get("/items/", dependencies = [verify_token, verify_key])]
async fn read_items(commons: Depends<common_parameters>) -> Json<Value> {
    Json(json!({
        "items": [{"item": "Foo"}, {"item": "Bar"}],
        "q": commons.q, "skip": commons.skip, "limit": commons.limit,
    }))
}

#[get("/users/")]
async fn read_users(commons: Depends<common_parameters>) -> Json<Value> {
    Json(json!({ "q": commons.q, "skip": commons.skip, "limit": commons.limit }))
}

#[get("/search/")]
async fn search(query_or_default: Depends<query_or_cookie_extractor>) -> Json<Value> {
    Json(json!({ "q_or_cookie": *query_or_default }))
}

/// Stats, for admins: the router checks the token, the operation the key.
#[get("/stats")]
async fn admin_stats(key: Depends<verify_key>) -> Json<Value> {
    Json(json!({ "key": *key, "events": events_so_far().len() }))
}

/// An order.
#[derive(Deserialize, JsonSchema)]
struct Order {
    item: String,
    quantity: i64,
}

/// Place an order; more than 10 is refused, and the session rolled back.
#[post("/orders/", status = 201)]
async fn create_order(
    order: Json<Order>,
    session: Depends<get_session>,
) -> Result<Json<Value>, HttpError> {
    if order.quantity > 10 {
        return Err(HttpError::new(StatusCode::BAD_REQUEST, "Too many"));
    }
    Ok(Json(json!({
        "session": session.id, "item": order.item, "quantity": order.quantity,
    })))
}

/// One session, however often it is asked for.
#[get("/sessions/same")]
async fn same_session(a: Depends<get_session>, b: Depends<get_session>) -> Json<Value> {
    let (a, b) = (a.into_inner(), b.into_inner());
    Json(json!({ "same": Arc::ptr_eq(&a, &b), "ids": [a.id, b.id] }))
}

/// A second session, asked for with `use_cache=False`.
#[get("/sessions/fresh")]
async fn fresh_session(a: Depends<get_session>, b: Depends<get_session, NoCache>) -> Json<Value> {
    let (a, b) = (a.into_inner(), b.into_inner());
    Json(json!({ "same": Arc::ptr_eq(&a, &b), "ids": [a.id, b.id] }))
}

/// What the sessions did.
#[get("/events")]
async fn events() -> Json<Value> {
    Json(json!(events_so_far()))
}

/// The app.
pub(crate) fn app() -> App {
    App::new()
        .title("dependencies")
        .version("1.0.0")
        .route(read_items)
        .route(read_users)
        .route(search)
        .include(
            Router::new()
                .prefix("/admin")
                .tag("admin")
                .dependency::<verify_token>()
                .route(admin_stats),
        )
        .route(create_order)
        .route(same_session)
        .route(fresh_session)
        .route(events)
}
