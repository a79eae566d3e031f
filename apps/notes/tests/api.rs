//! The notes app through its HTTP API: accounts and tokens, scopes, notes, pagination,
//! the durable activity job, live updates, probes and the OpenAPI document.
//!
//! Each test has a database of its own: an SQLite file by default; with
//! `NOTES_TEST_DATABASE_URL=postgres://…/postgres` (and `--features postgres`), a new
//! PostgreSQL database made on that server for the test.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use hasten::testing::TestClient;
use notes::Config;
use serde_json::{json, Value};

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A database URL for one test.
async fn database() -> String {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let name = format!("notes_test_{}_{n}", std::process::id());
    match std::env::var("NOTES_TEST_DATABASE_URL") {
        Ok(server) if !server.is_empty() => {
            use sqlx::Connection;
            sqlx::any::install_default_drivers();
            let mut admin = sqlx::AnyConnection::connect(&server)
                .await
                .expect("NOTES_TEST_DATABASE_URL answers");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut admin)
                .await
                .expect("a test database can be made");
            let (base, _) = server.rsplit_once('/').expect("a URL ending in /database");
            format!("{base}/{name}")
        }
        _ => {
            let file = std::env::temp_dir().join(format!("{name}.sqlite"));
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
            }
            format!("sqlite://{}", file.display())
        }
    }
}

async fn client() -> TestClient {
    let config = Config::with_database(&database().await);
    let channels = notes::channels(&config).await.expect("channels");
    TestClient::start(notes::app(config, channels).expect("the app builds")).await
}

async fn sign_up(c: &TestClient, username: &str) -> Value {
    let resp = c
        .post("/users/")
        .json(
            &json!({ "username": username, "password": "correct horse", "full_name": "A. Person" }),
        )
        .send()
        .await;
    assert_eq!(resp.status(), 201, "{}", resp.text());
    resp.json()
}

async fn token(c: &TestClient, username: &str, scope: &str) -> String {
    let resp = c
        .post("/token")
        .form(&[
            ("username", username),
            ("password", "correct horse"),
            ("scope", scope),
        ])
        .send()
        .await;
    assert_eq!(resp.status(), 200, "{}", resp.text());
    let body: Value = resp.json();
    assert_eq!(body["token_type"], "bearer");
    body["access_token"].as_str().unwrap().to_owned()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[tokio::test]
async fn accounts_hash_passwords_and_never_send_them() {
    let c = client().await;
    let user = sign_up(&c, "ann").await;
    assert_eq!(user["username"], "ann");
    assert_eq!(user["full_name"], "A. Person");
    assert!(user["id"].as_i64().unwrap() >= 1);
    assert!(user.get("password_hash").is_none(), "{user}");
    assert!(user.get("password").is_none(), "{user}");

    // The name is taken.
    let again = c
        .post("/users/")
        .json(&json!({ "username": "ann", "password": "another one" }))
        .send()
        .await;
    assert_eq!(again.status(), 409);
    assert_eq!(
        again.json::<Value>(),
        json!({ "detail": "This user name is taken" })
    );

    // Every broken rule at once, in FastAPI's shape.
    let bad = c
        .post("/users/")
        .json(&json!({ "username": "Ann!", "password": "short" }))
        .send()
        .await;
    assert_eq!(bad.status(), 422);
    let errors: Value = bad.json();
    let found: Vec<(&str, &str)> = errors["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["loc"][1].as_str().unwrap(), e["type"].as_str().unwrap()))
        .collect();
    assert_eq!(
        found,
        [
            ("username", "string_pattern_mismatch"),
            ("password", "string_too_short")
        ]
    );

    // The token works; /users/me shows the account without its hash.
    let t = token(&c, "ann", "me").await;
    let me = c
        .get("/users/me")
        .header("authorization", &bearer(&t))
        .send()
        .await;
    assert_eq!(me.status(), 200);
    assert_eq!(me.json::<Value>(), user);

    // A wrong password and an unknown user get the same answer.
    for (username, password) in [("ann", "wrong password"), ("nobody", "correct horse")] {
        let resp = c
            .post("/token")
            .form(&[("username", username), ("password", password)])
            .send()
            .await;
        assert_eq!(resp.status(), 400);
        assert_eq!(
            resp.json::<Value>(),
            json!({ "detail": "Incorrect username or password" })
        );
    }
    let unknown = c
        .post("/token")
        .form(&[
            ("username", "ann"),
            ("password", "correct horse"),
            ("scope", "admin"),
        ])
        .send()
        .await;
    assert_eq!(unknown.status(), 400);
    assert!(
        unknown.text().contains("Unknown scope `admin`"),
        "{}",
        unknown.text()
    );
    c.shutdown().await;
}

#[tokio::test]
async fn tokens_are_checked_signature_expiry_and_scopes() {
    let c = client().await;
    sign_up(&c, "ann").await;

    let none = c.get("/users/me").send().await;
    assert_eq!(none.status(), 401);
    assert_eq!(
        none.json::<Value>(),
        json!({ "detail": "Not authenticated" })
    );

    // A token signed with another key.
    let other = {
        let config = Config::with_database(&database().await);
        let channels = notes::channels(&config).await.unwrap();
        let other = TestClient::start(notes::app(config, channels).unwrap()).await;
        sign_up(&other, "ann").await;
        let t = token(&other, "ann", "me").await;
        other.shutdown().await;
        t
    };
    let forged = c
        .get("/users/me")
        .header("authorization", &bearer(&other))
        .send()
        .await;
    assert_eq!(forged.status(), 401);
    assert_eq!(
        forged.json::<Value>(),
        json!({ "detail": "Could not validate credentials" })
    );
    assert_eq!(
        forged.header("www-authenticate"),
        Some("Bearer scope=\"me\"")
    );

    // A token past its expiry, signed with the right key.
    let expired = {
        let mut config = Config::with_database(&database().await);
        config.secret_key = Some("k".repeat(32));
        let channels = notes::channels(&config).await.unwrap();
        let keyed = TestClient::start(notes::app(config, channels).unwrap()).await;
        sign_up(&keyed, "ann").await;
        let live = token(&keyed, "ann", "me").await;
        assert_eq!(
            keyed
                .get("/users/me")
                .header("authorization", &bearer(&live))
                .send()
                .await
                .status(),
            200
        );
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let key = jsonwebtoken::EncodingKey::from_secret("k".repeat(32).as_bytes());
        let sign = |header: jsonwebtoken::Header, claims: Value| {
            jsonwebtoken::encode(&header, &claims, &key).unwrap()
        };
        let hs256 = jsonwebtoken::Header::default;
        // base64url without padding, by hand: the test needs no other crate.
        let b64 = |v: Value| {
            const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let bytes = v.to_string().into_bytes();
            let mut out = String::new();
            for chunk in bytes.chunks(3) {
                let n = chunk
                    .iter()
                    .enumerate()
                    .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
                for i in 0..=chunk.len() {
                    out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
                }
            }
            out
        };
        let claims = |sub: &str, exp: u64| json!({ "sub": sub, "scope": "me", "iat": now - 120, "exp": exp });
        let forged = [
            // Expired five seconds ago: no leeway.
            sign(hs256(), claims("1", now - 5)),
            // Another algorithm, the same key.
            sign(
                jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512),
                claims("1", now + 600),
            ),
            // No signature at all.
            format!(
                "{}.{}.",
                b64(json!({ "alg": "none", "typ": "JWT" })),
                b64(claims("1", now + 600))
            ),
            // A subject that is not a user ID, and one no user has.
            sign(hs256(), claims("ann", now + 600)),
            sign(hs256(), claims("999", now + 600)),
        ];
        let mut answers = Vec::new();
        for token in &forged {
            let resp = keyed
                .get("/users/me")
                .header("authorization", &bearer(token))
                .send()
                .await;
            answers.push(resp);
        }
        // The same claims, rightly signed, pass: what is refused is what was forged.
        let right = sign(hs256(), claims("1", now + 600));
        let accepted = keyed
            .get("/users/me")
            .header("authorization", &bearer(&right))
            .send()
            .await;
        assert_eq!(accepted.status(), 200);
        keyed.shutdown().await;
        answers
    };
    for (i, refused) in expired.iter().enumerate() {
        assert_eq!(refused.status(), 401, "forged token {i}");
        assert_eq!(
            refused.json::<Value>(),
            json!({ "detail": "Could not validate credentials" }),
            "forged token {i}"
        );
    }

    // A token for reading cannot write.
    let reader = token(&c, "ann", "notes:read").await;
    let write = c
        .post("/notes/")
        .header("authorization", &bearer(&reader))
        .json(&json!({ "title": "x" }))
        .send()
        .await;
    assert_eq!(write.status(), 401);
    assert_eq!(
        write.json::<Value>(),
        json!({ "detail": "Not enough permissions" })
    );
    assert_eq!(
        write.header("www-authenticate"),
        Some("Bearer scope=\"notes:write\"")
    );
    let read = c
        .get("/notes/")
        .header("authorization", &bearer(&reader))
        .send()
        .await;
    assert_eq!(read.status(), 200);

    // No scope asked for: every scope granted.
    let all = c
        .post("/token")
        .form(&[("username", "ann"), ("password", "correct horse")])
        .send()
        .await
        .json::<Value>();
    assert_eq!(all["scope"], "me notes:read notes:write");
    c.shutdown().await;
}

#[tokio::test]
async fn notes_are_paged_filtered_and_changed_only_by_their_author() {
    let c = client().await;
    sign_up(&c, "ann").await;
    sign_up(&c, "bob").await;
    let ann = bearer(&token(&c, "ann", "notes:read notes:write").await);
    let bob = bearer(&token(&c, "bob", "notes:read notes:write").await);

    let mut ids = Vec::new();
    for title in ["Groceries", "Books to read", "Grocery list 2"] {
        let resp = c
            .post("/notes/")
            .header("authorization", &ann)
            .json(&json!({ "title": title, "body": "..." }))
            .send()
            .await;
        assert_eq!(resp.status(), 201, "{}", resp.text());
        let note: Value = resp.json();
        assert_eq!(note["owner"], "ann");
        assert!(note.get("owner_id").is_none(), "{note}");
        ids.push(note["id"].as_i64().unwrap());
    }

    let page = |query: &'static str| {
        c.get(&format!("/notes/{query}"))
            .header("authorization", &bob)
            .send()
    };
    let first: Value = page("?limit=2").await.json();
    assert_eq!(first["count"], 3);
    let titles: Vec<&str> = first["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Grocery list 2", "Books to read"]);
    let second: Value = page("?limit=2&offset=2").await.json();
    assert_eq!(second["data"][0]["title"], "Groceries");
    assert_eq!(second["data"].as_array().unwrap().len(), 1);
    let found: Value = page("?q=GROCER").await.json();
    assert_eq!(found["count"], 2);
    // `_` and `%` are letters to search for, not wildcards.
    assert_eq!(page("?q=_").await.json::<Value>()["count"], 0);
    assert_eq!(page("?q=%25").await.json::<Value>()["count"], 0);

    let bad = page("?limit=0&offset=-1").await;
    assert_eq!(bad.status(), 422);
    let locs: Vec<Value> = bad.json::<Value>()["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["loc"].clone())
        .collect();
    assert_eq!(
        locs,
        [json!(["query", "offset"]), json!(["query", "limit"])]
    );
    assert_eq!(page("?limit=101").await.status(), 422);

    // Empty title, body too long: both reported.
    let invalid = c
        .post("/notes/")
        .header("authorization", &ann)
        .json(&json!({ "title": "", "body": "x".repeat(10001) }))
        .send()
        .await;
    assert_eq!(invalid.status(), 422);
    assert_eq!(
        invalid.json::<Value>()["detail"].as_array().unwrap().len(),
        2
    );

    // Bob may read Ann's note, not change or delete it.
    let id = ids[0];
    let read = c
        .get(&format!("/notes/{id}"))
        .header("authorization", &bob)
        .send()
        .await;
    assert_eq!(read.json::<Value>()["title"], "Groceries");
    let change = c
        .patch(&format!("/notes/{id}"))
        .header("authorization", &bob)
        .json(&json!({ "title": "mine now" }))
        .send()
        .await;
    assert_eq!(change.status(), 403);
    let delete = c
        .delete(&format!("/notes/{id}"))
        .header("authorization", &bob)
        .send()
        .await;
    assert_eq!(delete.status(), 403);

    // Ann may; what she leaves out stays.
    let changed = c
        .patch(&format!("/notes/{id}"))
        .header("authorization", &ann)
        .json(&json!({ "title": "Groceries (done)" }))
        .send()
        .await;
    assert_eq!(changed.status(), 200);
    let changed: Value = changed.json();
    assert_eq!(changed["title"], "Groceries (done)");
    assert_eq!(changed["body"], "...");
    let deleted = c
        .delete(&format!("/notes/{id}"))
        .header("authorization", &ann)
        .send()
        .await;
    assert_eq!(deleted.status(), 204);
    assert_eq!(deleted.text(), "");
    for gone in [
        c.get(&format!("/notes/{id}"))
            .header("authorization", &ann)
            .send()
            .await,
        c.patch(&format!("/notes/{id}"))
            .header("authorization", &ann)
            .json(&json!({ "body": "again" }))
            .send()
            .await,
        c.delete(&format!("/notes/{id}"))
            .header("authorization", &ann)
            .send()
            .await,
    ] {
        assert_eq!(gone.status(), 404);
        assert_eq!(gone.json::<Value>(), json!({ "detail": "Note not found" }));
    }
    c.shutdown().await;
}

/// The next live event of `kind`, within 10 s.
async fn next_event(ws: &mut hasten::testing::TestWebSocket, kind: &str) -> Value {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let event: Value = ws.receive_json().await;
            if event["type"] == kind {
                return event;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no `{kind}` event within 10 s"))
}

#[tokio::test]
async fn changes_reach_followers_live_and_the_job_writes_the_activity_log() {
    let c = client().await;
    sign_up(&c, "ann").await;
    sign_up(&c, "bob").await;
    let ann = token(&c, "ann", "notes:read notes:write").await;
    let bob = token(&c, "bob", "notes:read").await;

    // No token: closed at once with 1008 and the 422's errors, as FastAPI does.
    let mut missing = c
        .websocket("/ws")
        .connect()
        .await
        .unwrap_or_else(|r| panic!("refused: {}", r.status()));
    let closed = missing.receive().await.expect_err("closed");
    assert_eq!(closed.code, 1008);
    assert!(closed.reason.contains("token"), "{}", closed.reason);
    // A bad token, or one without `notes:read`: refused before it opens.
    let me_only = token(&c, "bob", "me").await;
    for query in ["?token=nonsense".to_owned(), format!("?token={me_only}")] {
        let refused = c.websocket(&format!("/ws{query}")).connect().await;
        let status = refused.err().map(|r| r.status().as_u16());
        assert_eq!(status, Some(403), "{query}");
    }

    let mut follower = c
        .websocket(&format!("/ws?token={bob}"))
        .connect()
        .await
        .unwrap_or_else(|r| panic!("refused: {}", r.status()));
    let created: Value = c
        .post("/notes/")
        .header("authorization", &bearer(&ann))
        .json(&json!({ "title": "Live", "body": "hello" }))
        .send()
        .await
        .json();
    let event = next_event(&mut follower, "note.created").await;
    assert_eq!(event["note"], created);
    let entry = next_event(&mut follower, "activity").await;
    assert_eq!(entry["entry"]["username"], "ann");
    assert_eq!(entry["entry"]["summary"], "wrote “Live”");

    let id = created["id"].as_i64().unwrap();
    c.delete(&format!("/notes/{id}"))
        .header("authorization", &bearer(&ann))
        .send()
        .await;
    let deleted = next_event(&mut follower, "note.deleted").await;
    assert_eq!(deleted["id"], id);
    next_event(&mut follower, "activity").await;

    let log: Value = c
        .get("/activity/")
        .header("authorization", &bearer(&bob))
        .send()
        .await
        .json();
    let summaries: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["summary"].as_str().unwrap())
        .collect();
    assert_eq!(summaries, ["deleted “Live”", "wrote “Live”"]);
    // Both entries written: nothing waits, nothing died.
    let jobs = c.jobs().expect("the app has a queue");
    let name = notes::live::record_activity().name();
    for _ in 0..100 {
        if jobs.pending(name).await.unwrap() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(jobs.pending(name).await.unwrap(), 0);
    assert!(jobs.dead(10).await.unwrap().is_empty());
    c.shutdown().await;
}

#[tokio::test]
async fn probes_metrics_page_and_document() {
    let c = client().await;
    let ready = c.get("/readyz").send().await;
    assert_eq!(ready.status(), 200);
    assert_eq!(
        ready.json::<Value>(),
        json!({ "status": "ready", "checks": { "database": "ok" } })
    );
    assert_eq!(c.get("/healthz").send().await.status(), 200);
    sign_up(&c, "ann").await;
    let metrics = c.get("/metrics").send().await.text();
    assert!(metrics.contains("route=\"/users/\""), "{metrics}");

    let page = c.get("/").send().await;
    assert_eq!(page.status(), 200);
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert!(page.text().contains("/static/app.js"));
    let script = c.get("/static/app.js").send().await;
    assert_eq!(script.status(), 200);
    assert!(script
        .header("content-type")
        .unwrap()
        .contains("javascript"));

    let doc: Value = c.get("/openapi.json").send().await.json();
    let schemas = &doc["components"]["schemas"];
    let user = schemas["UserPublic"]["properties"].as_object().unwrap();
    assert!(!user.contains_key("password_hash"));
    assert_eq!(
        doc["paths"]["/users/me"]["get"]["responses"]["200"]["content"]["application/json"]
            ["schema"]["$ref"],
        "#/components/schemas/UserPublic"
    );
    let flow = &doc["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]["password"];
    assert_eq!(flow["tokenUrl"], "/token");
    let scopes: Vec<&String> = flow["scopes"].as_object().unwrap().keys().collect();
    assert_eq!(scopes, ["me", "notes:read", "notes:write"]);
    let limit = doc["paths"]["/notes/"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit")
        .unwrap();
    assert_eq!(limit["schema"]["maximum"], 100);
    assert!(doc["paths"]["/"].is_null());
    c.shutdown().await;
}

#[test]
fn a_wrong_database_url_is_refused_with_the_reason() {
    let config = Config::with_database("mysql://localhost/notes");
    let refused = notes::app(config, hasten::channels::Channels::in_process()).err();
    assert_eq!(
        refused.as_deref(),
        Some("DATABASE_URL must start with `sqlite:` or `postgres://`, not `mysql`")
    );
}

#[tokio::test]
async fn a_live_connection_ends_when_its_token_does() {
    let mut config = Config::with_database(&database().await);
    config.secret_key = Some("k".repeat(32));
    let channels = notes::channels(&config).await.unwrap();
    let c = TestClient::start(notes::app(config, channels).unwrap()).await;
    sign_up(&c, "ann").await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let key = jsonwebtoken::EncodingKey::from_secret("k".repeat(32).as_bytes());
    let claims = json!({ "sub": "1", "scope": "notes:read", "iat": now, "exp": now + 2 });
    let short = jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap();
    let mut ws = c
        .websocket(&format!("/ws?token={short}"))
        .connect()
        .await
        .unwrap_or_else(|r| panic!("refused: {}", r.status()));
    let closed = tokio::time::timeout(Duration::from_secs(10), ws.receive())
        .await
        .expect("closed within 10 s")
        .expect_err("a close, not a message");
    assert_eq!(
        (closed.code, closed.reason.as_str()),
        (1008, "Token expired")
    );
    c.shutdown().await;
}

#[tokio::test]
async fn sign_ups_from_one_client_are_rate_limited() {
    let c = client().await;
    for i in 0..10 {
        let resp = c
            .post("/users/")
            .json(&json!({ "username": format!("user{i}"), "password": "correct horse" }))
            .send()
            .await;
        assert_eq!(resp.status(), 201);
    }
    let eleventh = c
        .post("/users/")
        .json(&json!({ "username": "user10", "password": "correct horse" }))
        .send()
        .await;
    assert_eq!(eleventh.status(), 429);
    assert!(eleventh.header("retry-after").is_some());
    c.shutdown().await;
}

#[test]
fn settings_problems_never_repeat_a_secret() {
    let mut config = Config::with_database("sqlite://x.sqlite");
    config.secret_key = Some("hunter2".to_owned());
    assert_eq!(
        config.problems(),
        ["SECRET_KEY: String should have at least 32 characters (it has 7)"]
    );
    assert!(!format!("{config:?}").contains("hunter2"));

    // Without a key: fine on loopback alone, refused beyond it or with other instances.
    config.secret_key = None;
    assert!(config.problems().is_empty());
    config.listen_addr = "0.0.0.0:8000".to_owned();
    assert!(config.problems()[0].starts_with("SECRET_KEY: required when listening beyond"));
    config.listen_addr = "[::1]:8000".to_owned();
    config.channels_url = Some("redis://:pw@cache:6379".to_owned());
    assert!(config.problems()[0].starts_with("SECRET_KEY: required with CHANNELS_URL"));
    assert!(!format!("{config:?}").contains("pw@"));

    assert_eq!(
        notes::config::redact("postgres://app:s3cret@db:5432/notes"),
        "postgres://app:***@db:5432/notes"
    );
    assert_eq!(
        notes::config::redact("sqlite://notes.sqlite"),
        "sqlite://notes.sqlite"
    );
    let memory = notes::app(
        Config::with_database("sqlite::memory:"),
        hasten::channels::Channels::in_process(),
    );
    assert!(memory.err().unwrap().contains("in-memory SQLite"));
}
