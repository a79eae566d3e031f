//! Durable jobs on the app's own SQLite database: a sign-up is stored and its welcome
//! e-mail queued in one transaction, and a worker sends the e-mail (here: writes it to
//! an outbox table), retrying with backoff when the mail server fails.
//!
//! Run with: `cargo run --release --example jobs`, then:
//!
//! ```text
//! curl -X POST http://127.0.0.1:8000/signups -H 'content-type: application/json' \
//!      -d '{"email": "ann@example.com"}'
//! curl http://127.0.0.1:8000/outbox          # the welcome e-mail, a moment later
//! curl -X POST http://127.0.0.1:8000/signups -H 'content-type: application/json' \
//!      -d '{"email": "ann@example.com"}'     # 409: stored once, welcomed once
//! curl http://127.0.0.1:8000/jobs/dead       # jobs that ran out of attempts
//! ```
//!
//! The database defaults to `hasten-jobs-example.sqlite` in the system's temporary
//! directory; set `HASTEN_DB` to choose another. Stop the server while a job waits for
//! its retry and start it again: the job is still there.

use std::time::Duration;

use hasten::jobs::sqlx::{self, sqlite::SqliteConnectOptions, SqlitePool};
use hasten::jobs::{DeadJob, JobError, Jobs, Queue};
use hasten::prelude::*;

/// The app's database: sign-ups, the outbox, and the job queue's tables.
struct Db {
    pool: SqlitePool,
}

fn internal(e: impl std::fmt::Display) -> HttpError {
    tracing::error!(error = %e, "database error");
    HttpError::new(StatusCode::INTERNAL_SERVER_ERROR, "Database error")
}

/// A new user.
#[derive(Deserialize, JsonSchema)]
struct Signup {
    /// Where the welcome e-mail goes.
    #[schemars(length(min = 3, max = 254))]
    email: String,
}

/// A welcome e-mail to send.
#[derive(Serialize, Deserialize)]
struct Welcome {
    email: String,
}

/// An e-mail sent.
#[derive(Serialize, JsonSchema)]
struct Sent {
    email: String,
    body: String,
}

/// Send the welcome e-mail. Addresses at `flaky.example` fail their first attempt,
/// to show a retry.
#[job(max_attempts = 5, timeout = "30s", backoff = "1s")]
async fn send_welcome(welcome: Welcome, db: State<Db>) -> Result<(), JobError> {
    let attempts: i64 = sqlx::query_scalar("SELECT count(*) FROM attempts WHERE email = ?1")
        .bind(&welcome.email)
        .fetch_one(&db.pool)
        .await?;
    sqlx::query("INSERT INTO attempts (email) VALUES (?1)")
        .bind(&welcome.email)
        .execute(&db.pool)
        .await?;
    if welcome.email.ends_with("@flaky.example") && attempts == 0 {
        return Err(JobError::new("the mail server did not answer"));
    }
    sqlx::query("INSERT INTO outbox (email, body) VALUES (?1, ?2)")
        .bind(&welcome.email)
        .bind(format!("Welcome aboard, {}!", welcome.email))
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Sign up: the user is stored and the welcome e-mail queued in one transaction, so
/// a sign-up that fails sends nothing, and one that succeeds is always welcomed.
#[post("/signups", status = 201)]
async fn sign_up(
    signup: Json<Signup>,
    db: State<Db>,
    jobs: Jobs,
) -> Result<&'static str, HttpError> {
    let mut tx = db.pool.begin().await.map_err(internal)?;
    let stored = sqlx::query("INSERT OR IGNORE INTO signups (email) VALUES (?1)")
        .bind(&signup.email)
        .execute(&mut *tx)
        .await
        .map_err(internal)?;
    if stored.rows_affected() == 0 {
        return Err(HttpError::new(StatusCode::CONFLICT, "Already signed up"));
    }
    jobs.enqueue(
        send_welcome,
        Welcome {
            email: signup.email.clone(),
        },
    )
    .key(format!("welcome:{}", signup.email))
    .in_transaction(&mut tx)
    .await?;
    tx.commit().await.map_err(internal)?;
    Ok("signed up")
}

/// The e-mails sent so far.
#[get("/outbox")]
async fn outbox(db: State<Db>) -> Result<Json<Vec<Sent>>, HttpError> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT email, body FROM outbox ORDER BY rowid")
            .fetch_all(&db.pool)
            .await
            .map_err(internal)?;
    Ok(Json(
        rows.into_iter()
            .map(|(email, body)| Sent { email, body })
            .collect(),
    ))
}

/// A job that will not run again by itself.
#[derive(Serialize, JsonSchema)]
struct Dead {
    id: String,
    job: String,
    attempts: u32,
    error: String,
}

/// The jobs that ran out of attempts or failed for good, newest first.
#[get("/jobs/dead")]
async fn dead_jobs(jobs: Jobs) -> Result<Json<Vec<Dead>>, HttpError> {
    let dead = jobs.dead(50).await?;
    Ok(Json(
        dead.into_iter()
            .map(
                |DeadJob {
                     id,
                     name,
                     attempts,
                     error,
                     ..
                 }| Dead {
                    id,
                    job: name,
                    attempts,
                    error,
                },
            )
            .collect(),
    ))
}

fn app(database: &str) -> App {
    let options = database
        .parse::<SqliteConnectOptions>()
        .unwrap_or_else(|_| SqliteConnectOptions::new().filename(database))
        .create_if_missing(true)
        .busy_timeout(Duration::from_secs(10));
    let pool = sqlx::sqlite::SqlitePoolOptions::new().connect_lazy_with(options);
    App::new()
        .title("Sign-ups")
        .on_startup({
            let pool = pool.clone();
            move |_| async move {
                sqlx::raw_sql(
                    "PRAGMA journal_mode = WAL;
                     CREATE TABLE IF NOT EXISTS signups (email TEXT PRIMARY KEY);
                     CREATE TABLE IF NOT EXISTS attempts (email TEXT NOT NULL);
                     CREATE TABLE IF NOT EXISTS outbox (email TEXT NOT NULL, body TEXT NOT NULL);",
                )
                .execute(&pool)
                .await?;
                Ok::<_, sqlx::Error>(Db { pool })
            }
        })
        .jobs(Queue::sqlite_pool(pool))
        .job(send_welcome)
        .route(sign_up)
        .route(outbox)
        .route(dead_jobs)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let database = std::env::var("HASTEN_DB").unwrap_or_else(|_| {
        let path = std::env::temp_dir().join("hasten-jobs-example.sqlite");
        path.display().to_string()
    });
    hasten_examples::run(app(&database)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use hasten::testing::TestClient;
    use serde_json::{json, Value};

    async fn outbox_when(client: &TestClient, n: usize) -> Vec<Value> {
        for _ in 0..200 {
            let sent: Vec<Value> = serde_json::from_str(&client.get("/outbox").send().await.text())
                .expect("a JSON list");
            if sent.len() >= n {
                return sent;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the outbox never had {n} e-mails");
    }

    #[tokio::test]
    async fn a_sign_up_is_welcomed_once_even_when_the_mail_server_fails() {
        let file =
            std::env::temp_dir().join(format!("hasten-jobs-example-{}.sqlite", std::process::id()));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
        }
        let client = TestClient::start(app(&file.display().to_string())).await;
        let signup = |email: &str| client.post("/signups").json(&json!({ "email": email }));
        assert_eq!(signup("ann@example.com").send().await.status(), 201);
        assert_eq!(signup("bob@flaky.example").send().await.status(), 201);
        assert_eq!(signup("ann@example.com").send().await.status(), 409);
        assert_eq!(signup("").send().await.status(), 422);

        let sent = outbox_when(&client, 2).await;
        let mut emails: Vec<&str> = sent.iter().map(|s| s["email"].as_str().unwrap()).collect();
        emails.sort();
        assert_eq!(emails, ["ann@example.com", "bob@flaky.example"]);
        for s in &sent {
            let email = s["email"].as_str().unwrap();
            assert_eq!(s["body"], format!("Welcome aboard, {email}!"));
        }
        // The flaky one took two attempts; nobody is dead.
        assert_eq!(client.get("/jobs/dead").send().await.text(), "[]");
        client.shutdown().await;
    }
}
