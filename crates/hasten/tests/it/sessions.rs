//! Server-side sessions: values kept between requests by the cookie alone, the cookie's
//! attributes, renewal and log-out, expiry, CSRF refusals (header and form field), and
//! (with `sessions-redis`) two instances sharing sessions in one real Redis.

use std::time::Duration;

use hasten::prelude::*;
use hasten::sessions::{Session, Sessions};
use hasten::testing::{TestClient, TestResponse};

#[get("/visits")]
async fn visits(session: Session) -> String {
    let n: u32 = session.get("visits").unwrap_or(0) + 1;
    session.insert("visits", n).unwrap();
    n.to_string()
}

#[get("/peek")]
async fn peek(session: Session) -> String {
    session.get::<u32>("visits").unwrap_or(0).to_string()
}

#[get("/plain")]
async fn plain() -> &'static str {
    "no session here"
}

#[get("/csrf")]
async fn csrf(session: Session) -> String {
    session.csrf_token()
}

#[post("/login")]
async fn login(session: Session, user: Json<String>) -> String {
    session.renew();
    session.insert("user", &user.0).unwrap();
    user.0.clone()
}

#[post("/logout")]
async fn logout(session: Session) -> &'static str {
    session.clear();
    "bye"
}

#[get("/me")]
async fn me(session: Session) -> String {
    session.get::<String>("user").unwrap_or_default()
}

#[derive(Deserialize, JsonSchema)]
struct Note {
    text: String,
}

#[post("/notes")]
async fn add_note(note: Form<Note>) -> String {
    note.text.clone()
}

fn app(sessions: Sessions) -> App {
    App::new()
        .sessions(sessions)
        .route(visits)
        .route(peek)
        .route(plain)
        .route(csrf)
        .route(login)
        .route(logout)
        .route(me)
        .route(add_note)
}

/// The `name=value` of the response's session cookie, and the whole header.
fn set_cookie(resp: &TestResponse) -> Option<(String, String)> {
    let header = resp.header("set-cookie")?.to_owned();
    let pair = header.split(';').next()?.trim().to_owned();
    Some((pair, header))
}

#[tokio::test]
async fn a_session_keeps_its_values_behind_an_opaque_http_only_cookie() {
    let client = TestClient::start(app(Sessions::in_process())).await;
    let first = client.get("/visits").send().await;
    assert_eq!(first.text(), "1");
    let (cookie, header) = set_cookie(&first).expect("a new session sets its cookie");
    let id = cookie.strip_prefix("session=").unwrap();
    assert_eq!(id.len(), 32, "{header}");
    assert!(
        !header.contains("visits"),
        "the values stay on the server: {header}"
    );
    for attribute in ["HttpOnly", "SameSite=lax", "Path=/", "Max-Age=1209600"] {
        assert!(
            header
                .to_ascii_lowercase()
                .contains(&attribute.to_ascii_lowercase()),
            "{attribute} missing: {header}"
        );
    }
    assert!(!header.contains("Secure"), "{header}");

    let second = client.get("/visits").header("cookie", &cookie).send().await;
    assert_eq!(second.text(), "2");
    // Reading alone writes nothing and sends no cookie; so does a route without one.
    let peeked = client.get("/peek").header("cookie", &cookie).send().await;
    assert_eq!(peeked.text(), "2");
    assert!(peeked.header("set-cookie").is_none());
    let none = client.get("/plain").header("cookie", &cookie).send().await;
    assert!(none.header("set-cookie").is_none());
    // A cookie hasten did not make, or no longer knows, is a new, empty session.
    for stranger in [
        "session=../../etc/passwd",
        "session=0123456789abcdef0123456789abcdef",
    ] {
        let fresh = client.get("/peek").header("cookie", stranger).send().await;
        assert_eq!(fresh.text(), "0", "{stranger}");
    }
    client.shutdown().await;
}

#[tokio::test]
async fn the_cookie_follows_the_settings() {
    let sessions = Sessions::in_process()
        .cookie_name("sid")
        .secure(true)
        .max_age(Duration::from_secs(600));
    let client = TestClient::start(app(sessions)).await;
    let resp = client.get("/visits").send().await;
    let (cookie, header) = set_cookie(&resp).unwrap();
    assert!(cookie.starts_with("sid="), "{header}");
    assert!(header.contains("Secure"), "{header}");
    assert!(header.contains("Max-Age=600"), "{header}");
    client.shutdown().await;
}

#[tokio::test]
async fn a_request_that_changes_something_needs_the_sessions_csrf_token() {
    let client = TestClient::start(app(Sessions::in_process())).await;
    let resp = client.get("/csrf").send().await;
    let token = resp.text();
    let (cookie, _) = set_cookie(&resp).unwrap();

    // With the cookie but without the token: refused before the handler.
    let refused = client
        .post("/login")
        .header("cookie", &cookie)
        .json(&"mallory")
        .send()
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        refused.text(),
        r#"{"detail":"CSRF token missing or incorrect"}"#
    );
    let wrong = client
        .post("/login")
        .header("cookie", &cookie)
        .header("x-csrf-token", "0123456789abcdef0123456789abcdef")
        .json(&"mallory")
        .send()
        .await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let me = client.get("/me").header("cookie", &cookie).send().await;
    assert_eq!(me.text(), "", "a refused request changed nothing");

    // The header, or a form's field (the handler still reads the whole form).
    let ok = client
        .post("/login")
        .header("cookie", &cookie)
        .header("x-csrf-token", &token)
        .json(&"alice")
        .send()
        .await;
    assert_eq!(ok.status(), StatusCode::OK, "{}", ok.text());
    let (cookie, _) = set_cookie(&ok).expect("logging in renews the ID");
    let form = client
        .post("/notes")
        .header("cookie", &cookie)
        .form(&[("text", "hello"), ("csrf_token", token.as_str())])
        .send()
        .await;
    assert_eq!(form.status(), StatusCode::OK, "{}", form.text());
    assert_eq!(form.text(), "hello");
    let bad_form = client
        .post("/notes")
        .header("cookie", &cookie)
        .form(&[("text", "hello"), ("csrf_token", "nope")])
        .send()
        .await;
    assert_eq!(bad_form.status(), StatusCode::FORBIDDEN);

    // Without the cookie there is no session to abuse: not checked.
    let anonymous = client.post("/notes").form(&[("text", "hi")]).send().await;
    assert_eq!(anonymous.status(), StatusCode::OK);
    client.shutdown().await;

    // Checks off: an API that authenticates otherwise.
    let client = TestClient::start(app(Sessions::in_process().csrf(false))).await;
    let (cookie, _) = set_cookie(&client.get("/visits").send().await).unwrap();
    let resp = client
        .post("/login")
        .header("cookie", &cookie)
        .json(&"bob")
        .send()
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    client.shutdown().await;
}

#[tokio::test]
async fn renewing_changes_the_id_and_clearing_ends_the_session() {
    let client = TestClient::start(app(Sessions::in_process().csrf(false))).await;
    let (before, _) = set_cookie(&client.get("/visits").send().await).unwrap();
    let resp = client
        .post("/login")
        .header("cookie", &before)
        .json(&"alice")
        .send()
        .await;
    let (after, _) = set_cookie(&resp).unwrap();
    assert_ne!(before, after, "a new ID at log-in");
    let me = client.get("/me").header("cookie", &after).send().await;
    assert_eq!(me.text(), "alice");
    let visits = client.get("/peek").header("cookie", &after).send().await;
    assert_eq!(visits.text(), "1", "the values came along");
    let old = client.get("/me").header("cookie", &before).send().await;
    assert_eq!(old.text(), "", "the old ID is worthless");

    let out = client.post("/logout").header("cookie", &after).send().await;
    let (_, header) = set_cookie(&out).expect("log-out expires the cookie");
    assert!(
        header.starts_with("session=;") || header.starts_with("session=\"\";"),
        "{header}"
    );
    assert!(header.contains("Max-Age=0"), "{header}");
    let gone = client.get("/me").header("cookie", &after).send().await;
    assert_eq!(gone.text(), "");
    client.shutdown().await;
}

#[tokio::test]
async fn a_session_expires_after_its_max_age() {
    let sessions = Sessions::in_process().max_age(Duration::from_secs(1));
    let client = TestClient::start(app(sessions)).await;
    let (cookie, _) = set_cookie(&client.get("/visits").send().await).unwrap();
    assert_eq!(
        client
            .get("/peek")
            .header("cookie", &cookie)
            .send()
            .await
            .text(),
        "1"
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        client
            .get("/peek")
            .header("cookie", &cookie)
            .send()
            .await
            .text(),
        "0"
    );
    client.shutdown().await;
}

#[tokio::test]
async fn a_session_used_past_half_its_age_is_renewed() {
    let sessions = Sessions::in_process().max_age(Duration::from_secs(2));
    let client = TestClient::start(app(sessions)).await;
    let (cookie, _) = set_cookie(&client.get("/visits").send().await).unwrap();
    // Read only, before half its age: nothing written, no cookie.
    let early = client.get("/peek").header("cookie", &cookie).send().await;
    assert!(early.header("set-cookie").is_none());
    // Read only, past half its age: written again, the cookie sent again.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let late = client.get("/peek").header("cookie", &cookie).send().await;
    let (again, _) = set_cookie(&late).expect("a renewed session resends its cookie");
    assert_eq!(again, cookie, "the same ID");
    // Past the first write's two seconds, the renewal keeps it alive.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        client
            .get("/peek")
            .header("cookie", &cookie)
            .send()
            .await
            .text(),
        "1"
    );
    client.shutdown().await;
}

#[test]
fn a_session_without_app_sessions_does_not_build() {
    let err = App::new().route(visits).build().unwrap_err().to_string();
    assert!(
        err.contains("`visits` takes a `Session` but the app keeps no sessions"),
        "{err}"
    );
}

#[cfg(feature = "sessions-redis")]
mod redis {
    use super::*;
    use crate::common::{free_port, Redis};

    #[tokio::test]
    async fn instances_on_one_redis_share_sessions_and_an_outage_is_a_503() {
        let redis = Redis::start(free_port());
        let one = TestClient::start(app(Sessions::redis(&redis.url()).await.unwrap())).await;
        let two = TestClient::start(app(Sessions::redis(&redis.url()).await.unwrap())).await;
        let (cookie, _) = set_cookie(&one.get("/visits").send().await).unwrap();
        assert_eq!(
            two.get("/visits")
                .header("cookie", &cookie)
                .send()
                .await
                .text(),
            "2"
        );
        assert_eq!(
            one.get("/peek")
                .header("cookie", &cookie)
                .send()
                .await
                .text(),
            "2"
        );
        let token = one
            .get("/csrf")
            .header("cookie", &cookie)
            .send()
            .await
            .text();
        let login = two
            .post("/login")
            .header("cookie", &cookie)
            .header("x-csrf-token", &token)
            .json(&"alice")
            .send()
            .await;
        assert_eq!(login.status(), StatusCode::OK, "{}", login.text());

        drop(redis);
        let down = one.get("/peek").header("cookie", &cookie).send().await;
        assert_eq!(down.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            down.text(),
            r#"{"detail":"The session store is unavailable"}"#
        );
        // Routes without a session are not held up.
        let plain = one.get("/plain").header("cookie", &cookie).send().await;
        assert_eq!(plain.status(), StatusCode::OK);
        one.shutdown().await;
        two.shutdown().await;
    }
}
