//! A realistic dependency graph on a real SQLite database:
//! settings → connection pool (app-scoped: opened once, closed at shutdown) →
//! per-request session (a transaction: committed on success, rolled back otherwise) →
//! current user (from the `x-token` header, looked up in the database).
//!
//! The session commits *before* the response is sent: if the commit fails (a full
//! disk, say), the client gets a 500 instead of a 201 for a row that was never stored.
//!
//! Run with: `cargo run --release --example dependencies`, then:
//!
//! ```text
//! curl http://127.0.0.1:8000/me -H 'x-token: alice-token'
//! curl -X POST http://127.0.0.1:8000/items -H 'x-token: alice-token' \
//!      -H 'content-type: application/json' -d '{"name": "Hammer", "price": 9.5}'
//! curl -X POST http://127.0.0.1:8000/items -H 'x-token: alice-token' \
//!      -H 'content-type: application/json' -d '{"name": "Yacht", "price": 5000000}'   # 400, rolled back
//! curl http://127.0.0.1:8000/items
//! ```
//!
//! The database file defaults to `hasten-dependencies-example.sqlite` in the system's
//! temporary directory; set `HASTEN_DB` to choose another.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use hasten::depends::{Cleanup, Outcome};
use hasten::prelude::*;
use hasten::security::{ApiKey, ApiKeyHeader};
use rusqlite::Connection;
use serde_json::{json, Value};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Where the database is and how many connections to keep.
pub struct Settings {
    database_path: PathBuf,
    pool_size: usize,
}

/// Settings from the environment, with embedded defaults.
#[dependency(scope = "app")]
async fn settings() -> Settings {
    Settings {
        database_path: std::env::var_os("HASTEN_DB")
            .map(PathBuf::from)
            .unwrap_or_else(|| std::env::temp_dir().join("hasten-dependencies-example.sqlite")),
        pool_size: 4,
    }
}

/// A fixed set of SQLite connections.
pub struct Pool {
    connections: Mutex<Vec<Connection>>,
    available: Arc<Semaphore>,
}

fn internal(e: impl std::fmt::Display) -> HttpError {
    tracing::error!(error = %e, "database error");
    HttpError::new(StatusCode::INTERNAL_SERVER_ERROR, "Database error")
}

fn open(settings: &Settings) -> rusqlite::Result<Vec<Connection>> {
    let mut connections = Vec::with_capacity(settings.pool_size);
    for _ in 0..settings.pool_size {
        let conn = Connection::open(&settings.database_path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        connections.push(conn);
    }
    connections[0].execute_batch(
        "CREATE TABLE IF NOT EXISTS users (token TEXT PRIMARY KEY, name TEXT NOT NULL);
         CREATE TABLE IF NOT EXISTS items (
             id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL NOT NULL, owner TEXT NOT NULL);
         INSERT OR IGNORE INTO users VALUES ('alice-token', 'alice'), ('bob-token', 'bob');",
    )?;
    Ok(connections)
}

/// The pool: opened on first use, closed when the app shuts down.
#[dependency(scope = "app")]
async fn pool(settings: Depends<settings>) -> Result<Cleanup<Pool>, HttpError> {
    let settings = settings.into_inner();
    let size = settings.pool_size;
    let connections = tokio::task::spawn_blocking(move || open(&settings))
        .await
        .map_err(internal)?
        .map_err(internal)?;
    tracing::info!(size, "database pool opened");
    let pool = Pool {
        connections: Mutex::new(connections),
        available: Arc::new(Semaphore::new(size)),
    };
    Ok(Cleanup::new(pool, |pool, _outcome| async move {
        let closed = pool.connections.lock().map(|mut c| c.drain(..).count());
        tracing::info!(closed = closed.unwrap_or(0), "database pool closed");
    }))
}

/// One request's unit of work: a connection inside a transaction.
pub struct Session {
    connection: Mutex<Option<Connection>>,
    pool: Arc<Pool>,
    _slot: OwnedSemaphorePermit,
}

impl Session {
    /// Run `f` on the session's connection. Call it from plain `fn` handlers: SQLite
    /// blocks, and those run on the blocking pool.
    fn run<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, HttpError> {
        let guard = self.connection.lock().map_err(internal)?;
        let conn = guard
            .as_ref()
            .ok_or_else(|| internal("session already closed"))?;
        f(conn).map_err(internal)
    }

    /// Commit (or roll back), then give the connection back to the pool. A failed
    /// commit is rolled back and reported.
    fn finish(&self, commit: bool) -> rusqlite::Result<()> {
        let Ok(mut guard) = self.connection.lock() else {
            return Ok(());
        };
        let Some(conn) = guard.take() else {
            return Ok(());
        };
        let committed = if commit {
            conn.execute_batch("COMMIT")
        } else {
            Ok(())
        };
        if !commit || committed.is_err() {
            // After a failed COMMIT the transaction may still be open.
            if let Err(e) = conn.execute_batch("ROLLBACK") {
                if !conn.is_autocommit() {
                    tracing::error!(error = %e, "rollback failed");
                }
            }
        }
        if let Ok(mut pool) = self.pool.connections.lock() {
            pool.push(conn);
        }
        committed
    }
}

/// A transaction per request: committed if the handler succeeded, else rolled back —
/// before the response, so a failed commit is answered as the error it is.
#[dependency]
async fn session(pool: Depends<pool>) -> Result<Cleanup<Session>, HttpError> {
    let pool = pool.into_inner();
    let slot = pool
        .available
        .clone()
        .acquire_owned()
        .await
        .map_err(internal)?;
    let connection = pool
        .connections
        .lock()
        .map_err(internal)?
        .pop()
        .ok_or_else(|| internal("pool is empty"))?;
    // SQLite has one writer. IMMEDIATE takes the write lock now (waiting up to the
    // busy timeout), so a transaction never fails halfway when it first writes after
    // reading. Waiting blocks, so it happens on the blocking pool, not the reactor.
    let (connection, begun) = tokio::task::spawn_blocking(move || {
        let begun = connection.execute_batch("BEGIN IMMEDIATE");
        (connection, begun)
    })
    .await
    .map_err(internal)?;
    if let Err(e) = begun {
        // Keep the pool whole: the connection goes back before reporting the error.
        if let Ok(mut conns) = pool.connections.lock() {
            conns.push(connection);
        }
        return Err(internal(e));
    }
    let session = Session {
        connection: Mutex::new(Some(connection)),
        pool,
        _slot: slot,
    };
    Ok(
        Cleanup::new(session, |session, outcome: Outcome| async move {
            let commit = outcome.is_success();
            tokio::task::spawn_blocking(move || session.finish(commit))
                .await
                .map_err(internal)?
                .map_err(internal)
        })
        .before_response(),
    )
}

/// A signed-in user.
pub struct User {
    name: String,
}

/// The API key scheme: a token in the `x-token` header (documented as a security
/// scheme, so Swagger UI's "Authorize" button can set it).
pub struct TokenHeader;

impl ApiKey for TokenHeader {
    const NAME: &'static str = "x-token";
}

/// The user whose token is in `x-token` (a plain `fn`: it queries SQLite).
#[dependency]
fn current_user(
    x_token: ApiKeyHeader<TokenHeader>,
    session: Depends<session>,
) -> Result<User, HttpError> {
    let x_token = x_token.key().to_owned();
    let name = session.run(|c| {
        use rusqlite::OptionalExtension;
        c.query_row("SELECT name FROM users WHERE token = ?1", [&x_token], |r| {
            r.get(0)
        })
        .optional()
    })?;
    match name {
        Some(name) => Ok(User { name }),
        None => Err(HttpError::new(StatusCode::UNAUTHORIZED, "Invalid token")
            .with_header("www-authenticate", "APIKey")),
    }
}

/// A new item.
#[derive(Deserialize, JsonSchema)]
struct NewItem {
    name: String,
    price: f64,
}

/// Who am I.
#[get("/me")]
async fn me(user: Depends<current_user>) -> Json<Value> {
    Json(json!({ "name": user.name }))
}

/// Every item, oldest first.
#[get("/items")]
fn list_items(session: Depends<session>) -> Result<Json<Value>, HttpError> {
    let items = session.run(|c| {
        let mut stmt = c.prepare("SELECT id, name, price, owner FROM items ORDER BY id")?;
        let rows = stmt.query_map([], |r| {
            Ok(
                json!({ "id": r.get::<_, i64>(0)?, "name": r.get::<_, String>(1)?,
                       "price": r.get::<_, f64>(2)?, "owner": r.get::<_, String>(3)? }),
            )
        })?;
        rows.collect::<rusqlite::Result<Vec<Value>>>()
    })?;
    Ok(Json(Value::Array(items)))
}

/// Create an item. The insert happens before the price check, so a refused item shows
/// the rollback at work: it is never stored.
#[post("/items", status = 201)]
fn create_item(
    item: Json<NewItem>,
    user: Depends<current_user>,
    session: Depends<session>,
) -> Result<Json<Value>, HttpError> {
    let id = session.run(|c| {
        c.execute(
            "INSERT INTO items (name, price, owner) VALUES (?1, ?2, ?3)",
            rusqlite::params![item.name, item.price, user.name],
        )?;
        Ok(c.last_insert_rowid())
    })?;
    if item.price > 1_000_000.0 {
        return Err(HttpError::new(StatusCode::BAD_REQUEST, "Price too high"));
    }
    Ok(Json(
        json!({ "id": id, "name": item.name, "owner": user.name }),
    ))
}

fn app() -> App {
    App::new()
        .title("Items with a database")
        .route(me)
        .route(list_items)
        .include(
            Router::new()
                .response(StatusCode::BAD_REQUEST, "Price too high")
                .route(create_item),
        )
        // Open the pool at start: a database that cannot be opened stops the start
        // with the reason, instead of a 500 on the first request.
        .eager::<pool>()
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    hasten_examples::run(app()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use hasten::testing::TestClient;

    /// Each test gets its own database file, through the override API.
    #[dependency(scope = "app")]
    async fn test_settings() -> Settings {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!(
            "hasten-deps-test-{}-{n}.sqlite",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        Settings {
            database_path: path,
            pool_size: 2,
        }
    }

    async fn client() -> TestClient {
        TestClient::start(app().override_dependency::<settings, test_settings>()).await
    }

    #[tokio::test]
    async fn the_current_user_comes_from_the_token() {
        let c = client().await;
        let resp = c.get("/me").header("x-token", "alice-token").send().await;
        assert_eq!(resp.json::<Value>(), json!({"name": "alice"}));
        let resp = c.get("/me").header("x-token", "nope").send().await;
        assert_eq!(resp.status(), 401);
        assert_eq!(resp.header("www-authenticate"), Some("APIKey"));
        // No token: the scheme's own 401, as FastAPI's APIKeyHeader.
        let resp = c.get("/me").send().await;
        assert_eq!(resp.status(), 401);
        assert_eq!(resp.json::<Value>(), json!({"detail": "Not authenticated"}));
        c.shutdown().await;
    }

    #[tokio::test]
    async fn a_failed_request_rolls_its_transaction_back() {
        let c = client().await;
        let created = c
            .post("/items")
            .header("x-token", "bob-token")
            .json(&json!({"name": "Hammer", "price": 9.5}))
            .send()
            .await;
        assert_eq!(created.status(), 201, "{}", created.text());
        let refused = c
            .post("/items")
            .header("x-token", "bob-token")
            .json(&json!({"name": "Yacht", "price": 5_000_000.0}))
            .send()
            .await;
        assert_eq!(refused.status(), 400);
        // The transaction ends before the response: the next request sees it.
        let items = c.get("/items").send().await.json::<Value>();
        assert_eq!(
            items,
            json!([{"id": 1, "name": "Hammer", "price": 9.5, "owner": "bob"}])
        );
        c.shutdown().await;
    }
}
