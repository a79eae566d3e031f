//! The typed endpoint served in-process (no sockets, no HTTP parsing) by hasten, raw
//! hyper or axum — the very services the benchmark servers run — for
//! `bench/instructions`, which counts instructions per request under callgrind.
//!
//! `instructions FRAMEWORK KIND [REQUESTS]` serves REQUESTS (default 1000) requests of
//! one KIND and checks every answer:
//!
//! - `plaintext`: `GET /plaintext`; 200 and `Hello, World!` from everyone (the cost of
//!   the framework itself: routing, the request and the response, nothing to extract);
//! - `valid`: the valid request of `typed.lua`; 200 and the same JSON from everyone;
//! - `invalid`: type errors and broken constraints (the first invalid request of
//!   `typed.lua`); 422 — hasten lists all six errors, the peers answer `invalid input`;
//! - `constraint`: a body of the right types breaking five constraints (the second
//!   invalid request of `typed.lua`); 422 — hasten lists all five errors, the peers the
//!   names of the fields.
//!
//! Only what happens inside [`Measured::poll`] is the framework's work per request —
//! serving the request and collecting the answer's body; building the request and
//! checking the answer are not. `bench/instructions` counts with
//! `--toggle-collect` on that function.
//!
//! `instructions requests` prints the three requests as JSON (the script checks that
//! `typed.lua` sends the same).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode};
use http_body_util::BodyExt;

const VALID: (&str, &str) = (
    "/typed/42?limit=10&q=widgets",
    r#"{"item": "widget", "quantity": 3, "price": 2.5, "email": "a@example.com", "tags": ["a", "b"], "note": null}"#,
);
const INVALID: (&str, &str) = (
    "/typed/0?limit=abc&q=",
    r#"{"item": "widget", "quantity": "many", "price": 2.5, "email": "a@b.c", "tags": "x"}"#,
);
const CONSTRAINT: (&str, &str) = (
    "/typed/42?limit=10&q=widgets",
    r#"{"item": "", "quantity": 0, "price": 0, "email": "a@b.c", "tags": ["a", "b", "c", "d", "e", "f"], "note": null}"#,
);

const RECEIPT: &[u8] =
    br#"{"id":42,"client":"bench","limit":10,"q":"widgets","total":7.5,"item":"widget"}"#;

/// The plaintext request: no body.
const PLAINTEXT: (&str, &str) = ("/plaintext", "");

/// One request as every framework gets it: the same method, target, headers and body.
fn request<B>((uri, body): (&str, &str), wrap: impl FnOnce(String) -> B) -> http::Request<B> {
    let mut req = http::Request::new(wrap(body.to_owned()));
    *req.uri_mut() = uri.parse().expect("a valid URI");
    let headers = req.headers_mut();
    headers.insert("host", HeaderValue::from_static("bench"));
    if (uri, body) == PLAINTEXT {
        return req; // a GET
    }
    *req.method_mut() = Method::POST;
    let headers = req.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert("content-length", HeaderValue::from(body.len()));
    headers.insert("x-client", HeaderValue::from_static("bench"));
    req
}

/// The measured work: callgrind collects only inside `poll` (and what it calls).
struct Measured<F>(Pin<Box<F>>);

impl<F: Future> Future for Measured<F> {
    type Output = F::Output;

    #[inline(never)]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.0.as_mut().poll(cx)
    }
}

/// Serve a response and collect its body, inside [`Measured`]. `respond` must not have
/// started its work before it is first polled (an `async` block).
async fn measured<B, E>(respond: impl Future<Output = http::Response<B>>) -> (StatusCode, Bytes)
where
    B: http_body::Body<Data = Bytes, Error = E>,
    E: std::fmt::Debug,
{
    Measured(Box::pin(async move {
        let resp = respond.await;
        let status = resp.status();
        let body = resp.into_body().collect().await.expect("a full body");
        (status, body.to_bytes())
    }))
    .await
}

fn main() {
    let mut args = std::env::args().skip(1);
    let framework = args.next().unwrap_or_else(|| "hasten".to_owned());
    if framework == "requests" {
        let show = |(path, body): (&str, &str)| serde_json::json!({"path": path, "body": body});
        let all = serde_json::json!({
            "valid": show(VALID), "invalid": show(INVALID), "constraint": show(CONSTRAINT),
        });
        println!("{all}");
        return;
    }
    let kind = args.next().unwrap_or_else(|| "valid".to_owned());
    let n: usize = args
        .next()
        .map(|a| a.parse().expect("the request count is a number"))
        .unwrap_or(1000);
    let input = match kind.as_str() {
        "valid" => VALID,
        "invalid" => INVALID,
        "constraint" => CONSTRAINT,
        "plaintext" => PLAINTEXT,
        other => panic!("unknown kind {other:?}: plaintext, valid, invalid or constraint"),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let hasten = match framework.as_str() {
            "hasten" => Some(
                bench_servers::hasten_app::app()
                    .start()
                    .await
                    .expect("the app builds"),
            ),
            "hyper" | "axum" => None,
            other => panic!("unknown framework {other:?}: hasten, hyper or axum"),
        };
        let router = bench_servers::axum_app::router();
        for _ in 0..n {
            let (status, body) = match &hasten {
                Some(service) => {
                    let req = request(input, hasten::body::RequestBody::full);
                    // In the block: `handle` routes and starts the handler right away.
                    measured(async { service.handle(req).await }).await
                }
                None if framework == "hyper" => {
                    let req = request(input, |b| http_body_util::Full::new(Bytes::from(b)));
                    measured(async move {
                        let Ok(resp) = bench_servers::hyper_app::handle(req).await;
                        resp
                    })
                    .await
                }
                None => {
                    let req = request(input, axum::body::Body::from);
                    measured(async {
                        let Ok(resp) = tower::ServiceExt::oneshot(router.clone(), req).await;
                        resp
                    })
                    .await
                }
            };
            check(&framework, &kind, status, &body);
        }
        if let Some(service) = hasten {
            service.shutdown().await;
        }
    });
}

/// The answer each framework gives to each kind of request.
fn check(framework: &str, kind: &str, status: StatusCode, body: &[u8]) {
    let text = || String::from_utf8_lossy(body).into_owned();
    if kind == "plaintext" {
        assert_eq!(status, StatusCode::OK, "{}", text());
        assert_eq!(body, bench_servers::HELLO.as_bytes(), "{}", text());
        return;
    }
    if kind == "valid" {
        assert_eq!(status, StatusCode::OK, "{}", text());
        assert_eq!(body, RECEIPT, "{}", text());
        return;
    }
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{}", text());
    match (framework, kind) {
        // Counted, not parsed: the check should not cost more than the work.
        ("hasten", "invalid") => assert_eq!(locs(body), 6, "{}", text()),
        ("hasten", _) => assert_eq!(locs(body), 5, "{}", text()),
        (_, "invalid") => assert_eq!(body, b"invalid input"),
        (_, _) => assert_eq!(
            body,
            br#"{"detail":["item","quantity","price","email","tags"]}"#,
            "{}",
            text()
        ),
    }
}

fn locs(body: &[u8]) -> usize {
    body.windows(6).filter(|w| w == b"\"loc\":").count()
}
