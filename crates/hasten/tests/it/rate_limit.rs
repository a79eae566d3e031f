//! Rate limits over real TCP: the 429 and its headers, what a limit counts by, limits
//! from routers and shared scopes, the quota coming back, the OpenAPI document, and
//! (with `rate-limit-redis`) two instances sharing counts in one real Redis.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use hasten::prelude::*;
use hasten::rate_limit::{RateLimit, RateLimits};

use crate::common::raw_exchange;

#[get("/search", rate_limit = "3/minute")]
async fn search() -> &'static str {
    "found"
}

#[get("/mine", rate_limit = "2/minute", rate_limit_key = "user")]
async fn mine() -> &'static str {
    "yours"
}

#[get("/keyed", rate_limit = "1/minute", rate_limit_key = "header:x-api-key")]
async fn keyed() -> &'static str {
    "keyed"
}

/// The tenant from the path's first segment after `/tenants/`.
fn tenant(parts: &http::request::Parts) -> Option<String> {
    let rest = parts.uri.path().strip_prefix("/tenants/")?;
    Some(rest.split('/').next()?.to_owned())
}

#[get("/tenants/{name}", rate_limit = "1/minute", rate_limit_key = tenant)]
async fn per_tenant(name: String) -> String {
    name
}

#[get("/fast", rate_limit = "2/second")]
async fn fast() -> &'static str {
    "fast"
}

#[get("/free")]
async fn free() -> &'static str {
    "free"
}

#[get("/a")]
async fn a() -> &'static str {
    "a"
}

#[get("/b")]
async fn b() -> &'static str {
    "b"
}

struct Answer {
    status: u16,
    headers: HashMap<String, String>,
    body: String,
}

async fn serve(app: App) -> SocketAddr {
    let server = hasten::Server::bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr().unwrap();
    tokio::spawn(server.serve(app));
    addr
}

async fn get(addr: SocketAddr, target: &str, headers: &[(&str, &str)]) -> Answer {
    let mut req = format!("GET {target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let text = raw_exchange(addr, req.as_bytes()).await;
    let (head, body) = text.split_once("\r\n\r\n").expect("an answer");
    let mut lines = head.lines();
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
        .collect();
    Answer {
        status,
        headers,
        body: body.to_owned(),
    }
}

fn header<'a>(a: &'a Answer, name: &str) -> &'a str {
    a.headers.get(name).map_or("", |v| v.as_str())
}

#[tokio::test]
async fn a_spent_quota_is_a_429_with_retry_after_and_every_answer_has_the_headers() {
    let addr = serve(App::new().route(search).route(free)).await;
    for remaining in ["2", "1", "0"] {
        let ok = get(addr, "/search", &[]).await;
        assert_eq!(ok.status, 200, "{}", ok.body);
        assert_eq!(header(&ok, "ratelimit-limit"), "3");
        assert_eq!(header(&ok, "ratelimit-remaining"), remaining);
        assert_eq!(header(&ok, "ratelimit-policy"), "3;w=60");
        let reset: u64 = header(&ok, "ratelimit-reset").parse().unwrap();
        assert!((1..=60).contains(&reset), "reset {reset}");
    }
    let refused = get(addr, "/search", &[]).await;
    assert_eq!(refused.status, 429);
    assert_eq!(
        refused.body,
        r#"{"detail":"Rate limit exceeded: 3 per 1 minute"}"#
    );
    assert_eq!(header(&refused, "content-type"), "application/json");
    // One request's share comes back every 20 s.
    let retry: u64 = header(&refused, "retry-after").parse().unwrap();
    assert!((1..=20).contains(&retry), "retry-after {retry}");
    assert_eq!(header(&refused, "ratelimit-remaining"), "0");
    assert_eq!(header(&refused, "ratelimit-reset"), retry.to_string());
    // A route without a limit is neither counted nor labelled.
    let free = get(addr, "/free", &[]).await;
    assert_eq!(free.status, 200);
    assert!(!free.headers.contains_key("ratelimit-limit"));
}

#[tokio::test]
async fn clients_behind_a_trusted_proxy_are_counted_apart_and_others_cannot_pose_as_them() {
    // The test connects from 127.0.0.1, a trusted proxy by default (as uvicorn's
    // `--forwarded-allow-ips`): the client is the one X-Forwarded-For names.
    let addr = serve(App::new().route(keyed)).await;
    let from = |ip: &'static str| [("x-forwarded-for", ip)];
    assert_eq!(get(addr, "/keyed", &from("10.1.1.1")).await.status, 200);
    assert_eq!(get(addr, "/keyed", &from("10.1.1.1")).await.status, 429);
    assert_eq!(get(addr, "/keyed", &from("10.2.2.2")).await.status, 200);
    // A client cannot reset its count by prepending an address of its choice: the
    // proxy appends the address it saw last.
    let spoofed = get(addr, "/keyed", &[("x-forwarded-for", "10.9.9.9, 10.1.1.1")]).await;
    assert_eq!(spoofed.status, 429);

    // Trusting no proxy: every request is the peer's, 127.0.0.1.
    let app = App::new()
        .rate_limits(RateLimits::in_process().forwarded_allow_ips([]))
        .route(keyed);
    let addr = serve(app).await;
    assert_eq!(get(addr, "/keyed", &from("10.1.1.1")).await.status, 200);
    assert_eq!(get(addr, "/keyed", &from("10.2.2.2")).await.status, 429);
}

#[tokio::test]
async fn limits_count_per_user_per_header_or_per_a_key_of_the_apps() {
    let addr = serve(App::new().route(mine).route(keyed).route(per_tenant)).await;
    let alice = [("authorization", "Bearer alice-token")];
    let bob = [("authorization", "Bearer bob-token")];
    for _ in 0..2 {
        assert_eq!(get(addr, "/mine", &alice).await.status, 200);
    }
    assert_eq!(get(addr, "/mine", &alice).await.status, 429);
    assert_eq!(get(addr, "/mine", &bob).await.status, 200);
    // Without credentials: counted by address, apart from the users.
    assert_eq!(get(addr, "/mine", &[]).await.status, 200);

    let key = |k: &'static str| [("x-api-key", k)];
    assert_eq!(get(addr, "/keyed", &key("k1")).await.status, 200);
    assert_eq!(get(addr, "/keyed", &key("k1")).await.status, 429);
    assert_eq!(get(addr, "/keyed", &key("k2")).await.status, 200);

    assert_eq!(get(addr, "/tenants/acme", &[]).await.status, 200);
    assert_eq!(get(addr, "/tenants/acme", &[]).await.status, 429);
    assert_eq!(get(addr, "/tenants/globex", &[]).await.status, 200);
}

#[tokio::test]
async fn a_routers_limit_counts_per_operation_and_a_scope_shares_one_count() {
    let each = Router::new()
        .prefix("/each")
        .rate_limit(RateLimit::new("1/minute"))
        .route(a)
        .route(b);
    let shared = Router::new()
        .prefix("/shared")
        .rate_limit(RateLimit::new("1/minute").scope("shared"))
        .route(a)
        .route(b);
    let addr = serve(App::new().include(each).include(shared)).await;
    assert_eq!(get(addr, "/each/a", &[]).await.status, 200);
    assert_eq!(get(addr, "/each/b", &[]).await.status, 200);
    assert_eq!(get(addr, "/each/a", &[]).await.status, 429);
    assert_eq!(get(addr, "/shared/a", &[]).await.status, 200);
    assert_eq!(get(addr, "/shared/b", &[]).await.status, 429);
}

#[tokio::test]
async fn the_quota_comes_back_one_request_at_a_time() {
    let addr = serve(App::new().route(fast)).await;
    assert_eq!(get(addr, "/fast", &[]).await.status, 200);
    assert_eq!(get(addr, "/fast", &[]).await.status, 200);
    let refused = get(addr, "/fast", &[]).await;
    assert_eq!(refused.status, 429);
    assert_eq!(header(&refused, "retry-after"), "1");
    // 2/second: one request's share is back after 0.5 s, not the whole quota.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let back = get(addr, "/fast", &[]).await;
    assert_eq!(back.status, 200);
    assert_eq!(header(&back, "ratelimit-remaining"), "0");
    assert_eq!(get(addr, "/fast", &[]).await.status, 429);
}

#[tokio::test]
async fn the_apps_error_handler_renders_the_429_and_a_head_request_gets_no_body() {
    let app = App::new().route(keyed).on_http_error(
        |err: &HttpError, _ctx: &hasten::app::ErrorContext| {
            let mut resp = (err.status(), format!("custom: {}", err.detail())).into_response();
            for (k, v) in err.headers() {
                resp.headers_mut().insert(k, v.clone());
            }
            resp
        },
    );
    let addr = serve(app).await;
    assert_eq!(get(addr, "/keyed", &[]).await.status, 200);
    let refused = get(addr, "/keyed", &[]).await;
    assert_eq!(refused.status, 429);
    assert_eq!(
        refused.body,
        r#"custom: "Rate limit exceeded: 1 per 1 minute""#
    );
    assert!(refused.headers.contains_key("retry-after"));
    let head = raw_exchange(
        addr,
        b"HEAD /keyed HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
    )
    .await;
    let (status_line, rest) = head.split_once("\r\n").unwrap();
    assert!(status_line.contains(" 429 "), "{head}");
    assert!(
        rest.to_ascii_lowercase().contains("retry-after: "),
        "{head}"
    );
    assert!(head.ends_with("\r\n\r\n"), "a body after the head: {head}");
}

#[tokio::test]
async fn the_document_shows_the_429_and_the_headers_of_limited_operations_only() {
    let doc = App::new()
        .route(search)
        .route(free)
        .openapi_document()
        .unwrap();
    let limited = &doc["paths"]["/search"]["get"]["responses"];
    let too_many = &limited["429"];
    assert_eq!(too_many["description"], "Too Many Requests");
    assert_eq!(
        too_many["content"]["application/json"]["schema"]["properties"]["detail"]["type"],
        "string"
    );
    for h in [
        "Retry-After",
        "RateLimit-Limit",
        "RateLimit-Remaining",
        "RateLimit-Reset",
        "RateLimit-Policy",
    ] {
        assert!(too_many["headers"][h].is_object(), "429 lacks {h}");
    }
    assert!(limited["200"]["headers"]["RateLimit-Remaining"].is_object());
    assert!(limited["200"]["headers"]["Retry-After"].is_null());
    let unlimited = &doc["paths"]["/free"]["get"]["responses"];
    assert!(unlimited["429"].is_null());
    assert!(unlimited["200"]["headers"].is_null());
}

#[test]
fn a_bad_rate_or_a_scope_with_two_rates_stops_the_build() {
    let err = App::new()
        .include(Router::new().rate_limit(RateLimit::new("lots")).route(free))
        .build()
        .unwrap_err();
    assert!(
        err.problems()
            .iter()
            .any(|p| p.contains("`lots` is not a rate limit")),
        "{err}"
    );
    let err = App::new()
        .include(
            Router::new()
                .rate_limit(RateLimit::new("1/minute").scope("api"))
                .route(a),
        )
        .include(
            Router::new()
                .rate_limit(RateLimit::new("2/minute").scope("api"))
                .route(b),
        )
        .build()
        .unwrap_err();
    assert!(
        err.problems()
            .iter()
            .any(|p| p.contains("scope `api` is given two rates")),
        "{err}"
    );
}

#[cfg(feature = "rate-limit-redis")]
mod redis {
    use super::*;
    use crate::common::{free_port, Redis};

    #[tokio::test]
    async fn instances_on_one_redis_share_a_count_and_an_outage_lets_requests_through() {
        let port = free_port();
        let redis = Redis::start(port);
        let instance = |url: String| async move {
            let limits = RateLimits::redis(&url).await.unwrap();
            serve(App::new().rate_limits(limits).route(search)).await
        };
        let one = instance(redis.url()).await;
        let two = instance(redis.url()).await;
        assert_eq!(get(one, "/search", &[]).await.status, 200);
        let second = get(two, "/search", &[]).await;
        assert_eq!(second.status, 200);
        assert_eq!(header(&second, "ratelimit-remaining"), "1");
        assert_eq!(get(one, "/search", &[]).await.status, 200);
        let refused = get(two, "/search", &[]).await;
        assert_eq!(refused.status, 429, "{}", refused.body);
        let retry: u64 = header(&refused, "retry-after").parse().unwrap();
        assert!((1..=20).contains(&retry), "retry-after {retry}");

        // Redis gone: the service stays up, uncounted and without the headers.
        drop(redis);
        let started = std::time::Instant::now();
        let open = get(one, "/search", &[]).await;
        assert_eq!(open.status, 200, "{}", open.body);
        assert!(!open.headers.contains_key("ratelimit-limit"));
        assert!(started.elapsed() < Duration::from_secs(2));

        // Back (empty): counting again, once the connection is made anew.
        let _redis = Redis::start(port);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let a = get(one, "/search", &[]).await;
            if a.headers.contains_key("ratelimit-limit") {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "never counted again");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    #[tokio::test]
    async fn an_unreachable_redis_is_an_error_at_start() {
        let err = RateLimits::redis(&format!("redis://127.0.0.1:{}/", free_port()))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("cannot be reached"), "{err}");
        let err = RateLimits::redis("http://nope").await.unwrap_err();
        assert!(err.to_string().contains("not a Redis URL"), "{err}");
    }
}
