//! Middleware: tower-http layers on the app, a router and an operation; function
//! middleware and its order; hasten's CORS, GZip, TrustedHost and HTTPS redirect
//! against FastAPI's behaviour.

use std::io::Read;
use std::time::Duration;

use hasten::middleware::{Cors, GZip, HttpRequest, HttpsRedirect, Next, TrustedHost};
use hasten::prelude::*;
use hasten::testing::TestClient;
use http::{HeaderValue, Method};
use tower_http::compression::CompressionLayer;
use tower_http::cors::{Any, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

#[get("/")]
async fn root() -> &'static str {
    "root"
}

#[get("/big")]
async fn big() -> String {
    "hasten ".repeat(200)
}

#[get("/slow")]
async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_secs(5)).await;
    "finally"
}

#[get("/admin/stats")]
async fn stats() -> &'static str {
    "stats"
}

fn gunzip(bytes: &[u8]) -> String {
    let mut out = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut out)
        .unwrap();
    out
}

#[tokio::test]
async fn tower_http_layers_on_the_app() {
    let app = App::new()
        .route(root)
        .route(big)
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(CorsLayer::new().allow_origin(Any));
    let c = TestClient::new(app);
    let resp = c
        .get("/big")
        .header("accept-encoding", "gzip")
        .header("origin", "https://a.example")
        .send()
        .await;
    assert_eq!(resp.header("content-encoding"), Some("gzip"));
    assert_eq!(gunzip(resp.bytes()), "hasten ".repeat(200));
    assert_eq!(resp.header("access-control-allow-origin"), Some("*"));
    let id = resp.header("x-request-id").expect("a request id");
    assert_eq!(id.len(), 36, "{id}");
    // A client's own id is kept.
    let resp = c.get("/").header("x-request-id", "abc-123").send().await;
    assert_eq!(resp.header("x-request-id"), Some("abc-123"));
    // Unknown paths still go through the app's layers.
    let resp = c.get("/nope").header("x-request-id", "x").send().await;
    assert_eq!(
        (resp.status().as_u16(), resp.header("x-request-id")),
        (404, Some("x"))
    );
}

#[tokio::test]
async fn a_timeout_on_one_operation_only() {
    let app = App::new()
        .route(root)
        .route(slow().layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_millis(100),
        )));
    let c = TestClient::new(app);
    let started = std::time::Instant::now();
    assert_eq!(c.get("/slow").send().await.status(), 503);
    assert!(started.elapsed() < Duration::from_secs(4));
    assert_eq!(c.get("/").send().await.text(), "root");
}

#[tokio::test]
async fn router_middleware_sees_only_its_operations() {
    let admin = Router::new()
        .middleware(|req: HttpRequest, next: Next| async move {
            if req.headers().get("x-admin") != Some(&HeaderValue::from_static("yes")) {
                return HttpError::new(StatusCode::FORBIDDEN, "admins only").into_response();
            }
            next.run(req).await
        })
        .route(stats);
    let c = TestClient::new(App::new().route(root).include(admin));
    assert_eq!(c.get("/admin/stats").send().await.status(), 403);
    assert_eq!(
        c.get("/admin/stats")
            .header("x-admin", "yes")
            .send()
            .await
            .text(),
        "stats"
    );
    assert_eq!(c.get("/").send().await.text(), "root");
}

#[tokio::test]
async fn function_middleware_order_last_added_is_outermost() {
    let tag = |name: &'static str| {
        move |req: HttpRequest, next: Next| async move {
            let mut resp = next.run(req).await;
            resp.headers_mut()
                .append("x-trail", HeaderValue::from_static(name));
            resp
        }
    };
    let app = App::new()
        .route(root)
        .middleware(tag("inner"))
        .middleware(tag("outer"));
    let resp = TestClient::new(app).get("/").send().await;
    let trail: Vec<&str> = resp
        .headers()
        .get_all("x-trail")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    // The inner one adds its header first, on the way out.
    assert_eq!(trail, ["inner", "outer"]);
}

#[tokio::test]
async fn cors_behaves_like_fastapi() {
    let app = App::new().route(root).layer(
        Cors::new()
            .allow_origins(["https://good.example"])
            .allow_methods(["GET", "POST"])
            .allow_headers(["x-token"])
            .allow_credentials(true)
            .expose_headers(["x-total"]),
    );
    let c = TestClient::new(app);
    // A preflight from an allowed origin.
    let resp = c
        .request(Method::OPTIONS, "/")
        .header("origin", "https://good.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "X-Token")
        .send()
        .await;
    assert_eq!(
        (resp.status().as_u16(), resp.text()),
        (200, "OK".to_owned())
    );
    assert_eq!(
        resp.header("access-control-allow-origin"),
        Some("https://good.example")
    );
    assert_eq!(
        resp.header("access-control-allow-methods"),
        Some("GET, POST")
    );
    assert_eq!(
        resp.header("access-control-allow-headers"),
        Some("Accept, Accept-Language, Content-Language, Content-Type, x-token")
    );
    assert_eq!(resp.header("access-control-max-age"), Some("600"));
    assert_eq!(
        resp.header("access-control-allow-credentials"),
        Some("true")
    );
    assert_eq!(resp.header("vary"), Some("Origin"));
    // From another origin: 400, as FastAPI.
    let resp = c
        .request(Method::OPTIONS, "/")
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "GET")
        .send()
        .await;
    assert_eq!(
        (resp.status().as_u16(), resp.text()),
        (400, "Disallowed CORS origin".to_owned())
    );
    // A simple request gets the allow-origin headers; others get none.
    let resp = c
        .get("/")
        .header("origin", "https://good.example")
        .send()
        .await;
    assert_eq!(
        resp.header("access-control-allow-origin"),
        Some("https://good.example")
    );
    assert_eq!(
        resp.header("access-control-expose-headers"),
        Some("x-total")
    );
    let resp = c
        .get("/")
        .header("origin", "https://evil.example")
        .send()
        .await;
    assert_eq!(resp.header("access-control-allow-origin"), None);
    assert_eq!(resp.text(), "root");
}

#[tokio::test]
async fn gzip_behaves_like_fastapi() {
    let c = TestClient::new(App::new().route(root).route(big).layer(GZip::new()));
    let resp = c.get("/big").header("accept-encoding", "gzip").send().await;
    assert_eq!(resp.header("content-encoding"), Some("gzip"));
    assert_eq!(resp.header("vary"), Some("Accept-Encoding"));
    assert_eq!(
        resp.header("content-length").unwrap(),
        resp.bytes().len().to_string()
    );
    assert_eq!(gunzip(resp.bytes()), "hasten ".repeat(200));
    // Under 500 bytes, or a client that does not ask: as is.
    let resp = c.get("/").header("accept-encoding", "gzip").send().await;
    assert_eq!(
        (resp.header("content-encoding"), resp.text()),
        (None, "root".to_owned())
    );
    let resp = c.get("/big").send().await;
    assert_eq!(resp.header("content-encoding"), None);
}

#[tokio::test]
async fn trusted_host_and_https_redirect() {
    let c = TestClient::new(
        App::new()
            .route(root)
            .layer(TrustedHost::new(["www.example.com", "*.api.example.com"])),
    );
    let ok = c
        .get("/")
        .header("host", "www.example.com:8000")
        .send()
        .await;
    assert_eq!(ok.text(), "root");
    let ok = c.get("/").header("host", "eu.api.example.com").send().await;
    assert_eq!(ok.text(), "root");
    let bad = c.get("/").header("host", "evil.com").send().await;
    assert_eq!(
        (bad.status().as_u16(), bad.text()),
        (400, "Invalid host header".to_owned())
    );
    let www = c.get("/?a=1").header("host", "example.com").send().await;
    assert_eq!(www.status(), 307);
    assert_eq!(www.header("location"), Some("http://www.example.com/?a=1"));

    let c = TestClient::new(App::new().route(root).layer(HttpsRedirect));
    let resp = c.get("/?q=1").header("host", "example.com").send().await;
    assert_eq!(resp.status(), 307);
    assert_eq!(resp.header("location"), Some("https://example.com/?q=1"));
    let resp = c
        .get("/")
        .header("host", "example.com")
        .header("x-forwarded-proto", "https")
        .send()
        .await;
    assert_eq!(resp.text(), "root");
}
