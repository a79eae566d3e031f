//! The typed endpoint of the HTTP benchmarks, served in-process (no sockets, no
//! HTTP parsing): routing, parameter extraction and validation, a header dependency,
//! the JSON body, the JSON answer. Run under callgrind by `bench/instructions`,
//! which counts instructions per request — steady where wall-clock timing on a
//! shared machine is not — and compares them with the recorded baseline.
//!
//! `typed_instructions [valid|invalid] [requests]` serves `requests` requests (default
//! 1000) of one kind and checks every answer (200, or 422 listing all five errors).

use hasten::prelude::*;
use hasten::RequestBody;

/// The order in the body: six fields, all validated, not all used by the answer.
#[allow(dead_code)]
#[derive(Debug, Deserialize, JsonSchema)]
struct Order {
    item: String,
    quantity: u32,
    price: f64,
    email: String,
    tags: Vec<String>,
    note: Option<String>,
}

/// The answer.
#[derive(Debug, Serialize, JsonSchema)]
struct Receipt {
    id: u32,
    client: String,
    limit: u32,
    q: String,
    total: f64,
    item: String,
}

/// The calling client, from a header.
#[dependency]
async fn client(#[header] x_client: String) -> String {
    x_client
}

#[post("/typed/{id}")]
async fn typed(
    #[path(ge = 1)] id: u32,
    #[query(ge = 1, le = 100)] limit: u32,
    #[query(min_length = 1, max_length = 20)] q: String,
    order: Json<Order>,
    client: Depends<client>,
) -> Json<Receipt> {
    let order = order.0;
    Json(Receipt {
        id,
        client: (*client).clone(),
        limit,
        q,
        total: order.price * f64::from(order.quantity),
        item: order.item,
    })
}

const VALID: (&str, &str) = (
    "/typed/42?limit=10&q=widgets",
    r#"{"item": "widget", "quantity": 3, "price": 2.5, "email": "a@example.com", "tags": ["a", "b"], "note": null}"#,
);
const INVALID: (&str, &str) = (
    "/typed/0?limit=abc&q=",
    r#"{"item": "widget", "quantity": "many", "price": 2.5, "email": "a@b.c", "tags": "x"}"#,
);

fn request((uri, body): (&str, &str)) -> http::Request<RequestBody> {
    let mut req = http::Request::new(RequestBody::full(body.to_owned()));
    *req.method_mut() = http::Method::POST;
    *req.uri_mut() = uri.parse().expect("a valid URI");
    let headers = req.headers_mut();
    headers.insert("host", http::HeaderValue::from_static("bench"));
    headers.insert(
        "content-type",
        http::HeaderValue::from_static("application/json"),
    );
    headers.insert("content-length", http::HeaderValue::from(body.len()));
    headers.insert("x-client", http::HeaderValue::from_static("bench"));
    req
}

fn main() {
    let mut args = std::env::args().skip(1);
    let kind = args.next().unwrap_or_else(|| "valid".to_owned());
    let n: usize = args
        .next()
        .map(|a| a.parse().expect("the request count is a number"))
        .unwrap_or(1000);
    let (input, status, errors) = match kind.as_str() {
        "valid" => (VALID, StatusCode::OK, 0),
        "invalid" => (INVALID, StatusCode::UNPROCESSABLE_ENTITY, 5),
        other => panic!("unknown kind {other:?}: valid or invalid"),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let service = App::new()
            .route(typed)
            .start()
            .await
            .expect("the app builds");
        for _ in 0..n {
            let resp = service.handle(request(input)).await;
            assert_eq!(resp.status(), status);
            let body = http_body_util::BodyExt::collect(resp.into_body())
                .await
                .expect("a full body")
                .to_bytes();
            if errors > 0 {
                // Counted, not parsed: the check should not cost more than the work.
                let locs = body.windows(6).filter(|w| w == b"\"loc\":").count();
                assert_eq!(locs, errors, "{}", String::from_utf8_lossy(&body));
            } else {
                assert_eq!(&body[..8], b"{\"id\":42");
            }
        }
        service.shutdown().await;
    });
}
