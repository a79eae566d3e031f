//! Routing, parameters from every source, responses and errors, through the test client.

use hasten::prelude::*;
use hasten::testing::TestClient;
use serde_json::{json, Value};

#[get("/items/{item_id}")]
async fn read_item(item_id: u32) -> Json<Value> {
    Json(json!({ "item_id": item_id }))
}

#[delete("/items/{id}")]
async fn delete_item(id: u32) -> StatusCode {
    let _ = id;
    StatusCode::NO_CONTENT
}

#[get("/files/{file_path:path}")]
async fn read_file(file_path: String) -> String {
    file_path
}

#[route("/multi", methods = ["GET", "POST"])]
async fn multi(method: hasten::Method) -> String {
    method.to_string()
}

#[get("/slash/")]
async fn slash() -> &'static str {
    "slash"
}

#[get("/headers")]
async fn headers(
    #[header] user_agent: Option<String>,
    #[header] x_token: Vec<String>,
    #[header(alias = "X-Custom", convert_underscores = false)] custom: Option<String>,
    #[cookie] session: Option<String>,
) -> Json<Value> {
    Json(json!({ "ua": user_agent, "tokens": x_token, "custom": custom, "session": session }))
}

#[get("/defaults")]
async fn defaults(
    #[query(default = 10, le = 100)] limit: u32,
    #[query(alias = "item-query")] item_query: Option<String>,
) -> Json<Value> {
    Json(json!({ "limit": limit, "item_query": item_query }))
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
struct Login {
    username: String,
    remember: Option<bool>,
}

#[post("/login")]
async fn login(form: Form<Login>) -> Json<Value> {
    Json(json!({ "user": form.username, "remember": form.remember }))
}

#[post("/fields")]
async fn fields(#[form] username: String, #[form] age: u8) -> String {
    format!("{username}:{age}")
}

#[post("/raw")]
async fn raw(body: Bytes) -> String {
    format!("{} bytes", body.len())
}

#[post("/text")]
async fn text(#[body] text: String) -> String {
    text.to_uppercase()
}

#[post("/created", status = 201)]
async fn created() -> Json<Value> {
    Json(json!({"ok": true}))
}

#[get("/teapot")]
async fn teapot() -> Result<String, HttpError> {
    Err(HttpError::new(
        StatusCode::IM_A_TEAPOT,
        json!({"reason": "short and stout", "codes": [1, 2]}),
    )
    .with_header("x-kettle", "on"))
}

#[get("/html")]
async fn html() -> Html<&'static str> {
    Html("<h1>hi</h1>")
}

#[get("/go")]
async fn go() -> Redirect {
    Redirect::to("/html")
}

#[get("/tuple")]
async fn tuple() -> (StatusCode, [(&'static str, &'static str); 1], &'static str) {
    (StatusCode::ACCEPTED, [("x-extra", "1")], "accepted")
}

#[get("/nothing")]
async fn nothing() {}

struct Counter {
    start: u32,
}

#[get("/state")]
async fn state(counter: State<Counter>, request: Request) -> String {
    format!("{} {}", counter.start, request.uri().path())
}

#[get("/boom")]
async fn boom() -> String {
    panic!("handler exploded")
}

fn app() -> App {
    App::new()
        .route(read_item)
        .route(delete_item)
        .route(read_file)
        .route(multi)
        .route(slash)
        .route(headers)
        .route(defaults)
        .route(login)
        .route(fields)
        .route(raw)
        .route(text)
        .route(created)
        .route(teapot)
        .route(html)
        .route(go)
        .route(tuple)
        .route(nothing)
        .route(state)
        .route(boom)
        .state(Counter { start: 7 })
}

#[tokio::test]
async fn not_found_and_method_not_allowed_like_fastapi() {
    let c = TestClient::new(app());
    let resp = c.get("/nowhere").send().await;
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.json::<Value>(), json!({"detail": "Not Found"}));

    let resp = c.post("/items/1").send().await;
    assert_eq!(resp.status(), 405);
    assert_eq!(
        resp.json::<Value>(),
        json!({"detail": "Method Not Allowed"})
    );
    assert_eq!(resp.header("allow"), Some("GET, HEAD, DELETE"));
}

#[tokio::test]
async fn path_templates_and_methods() {
    let c = TestClient::new(app());
    assert_eq!(
        c.get("/items/3").send().await.json::<Value>(),
        json!({"item_id": 3})
    );
    assert_eq!(c.delete("/items/3").send().await.status(), 204);
    assert_eq!(c.get("/files/a/b/c.txt").send().await.text(), "a/b/c.txt");
    assert_eq!(
        c.get("/files/with%20space").send().await.text(),
        "with space"
    );
    assert_eq!(c.get("/multi").send().await.text(), "GET");
    assert_eq!(c.post("/multi").send().await.text(), "POST");
    let resp = c.put("/multi").send().await;
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.header("allow"), Some("GET, HEAD, POST"));
    assert_eq!(
        resp.json::<Value>(),
        json!({"detail": "Method Not Allowed"})
    );
}

#[tokio::test]
async fn head_is_answered_by_get_without_a_body() {
    let c = TestClient::new(app());
    let resp = c.head("/items/3").send().await;
    assert_eq!(resp.status(), 200);
    assert!(resp.bytes().is_empty());
    assert_eq!(resp.header("content-length"), Some("13"));
}

#[tokio::test]
async fn trailing_slash_redirects_with_307() {
    let c = TestClient::new(app());
    let resp = c.get("/slash?x=1").send().await;
    assert_eq!(resp.status(), 307);
    // Absolute, from the request's host, as Starlette writes it.
    let location = resp.header("location").unwrap();
    assert!(
        location.starts_with("http://") && location.ends_with("/slash/?x=1"),
        "{location}"
    );
    let resp = c
        .get("/slash")
        .header("host", "api.example.com")
        .send()
        .await;
    assert_eq!(
        resp.header("location"),
        Some("http://api.example.com/slash/")
    );
}

#[tokio::test]
async fn headers_cookies_aliases_and_defaults() {
    let c = TestClient::new(app());
    let resp = c
        .get("/headers")
        .header("user-agent", "probe/1")
        .header("x-token", "a")
        .header("x-token", "b")
        .header("X-Custom", "yes")
        .header("cookie", "session=abc; other=1")
        .send()
        .await;
    assert_eq!(
        resp.json::<Value>(),
        json!({"ua": "probe/1", "tokens": ["a", "b"], "custom": "yes", "session": "abc"})
    );
    // A required Vec header that is absent is missing, at its hyphenated name.
    let resp = c.get("/headers").send().await;
    assert_eq!(resp.status(), 422);
    assert_eq!(
        resp.json::<Value>(),
        json!({"detail":[{"type":"missing","loc":["header","x-token"],"msg":"Field required","input":null}]})
    );

    assert_eq!(
        c.get("/defaults").send().await.json::<Value>(),
        json!({"limit": 10, "item_query": null})
    );
    assert_eq!(
        c.get("/defaults?limit=5&item-query=x")
            .send()
            .await
            .json::<Value>(),
        json!({"limit": 5, "item_query": "x"})
    );
    let resp = c.get("/defaults?limit=101").send().await;
    assert_eq!(
        resp.json::<Value>(),
        json!({"detail":[{"type":"less_than_equal","loc":["query","limit"],"msg":"Input should be less than or equal to 100","input":"101","ctx":{"le":100}}]})
    );
}

#[tokio::test]
async fn form_bodies() {
    let c = TestClient::new(app());
    let resp = c
        .post("/login")
        .form(&[("username", "ann"), ("remember", "yes")])
        .send()
        .await;
    assert_eq!(
        resp.json::<Value>(),
        json!({"user": "ann", "remember": true})
    );

    let resp = c.post("/login").form(&[("remember", "maybe")]).send().await;
    assert_eq!(resp.status(), 422);
    assert_eq!(
        resp.json::<Value>(),
        json!({"detail":[{"type":"missing","loc":["body","username"],"msg":"Field required","input":{"remember":"maybe"}},{"type":"bool_parsing","loc":["body","remember"],"msg":"Input should be a valid boolean, unable to interpret input","input":"maybe"}]})
    );

    let resp = c
        .post("/fields")
        .form(&[("username", "bo"), ("age", "300")])
        .send()
        .await;
    assert_eq!(resp.status(), 422);
    assert_eq!(
        resp.json::<Value>(),
        json!({"detail":[{"type":"less_than_equal","loc":["body","age"],"msg":"Input should be less than or equal to 255","input":"300","ctx":{"le":255}}]})
    );
    let resp = c
        .post("/fields")
        .form(&[("username", "bo"), ("age", "30")])
        .send()
        .await;
    assert_eq!(resp.text(), "bo:30");
}

#[tokio::test]
async fn raw_and_text_bodies() {
    let c = TestClient::new(app());
    assert_eq!(
        c.post("/raw").body(vec![0u8; 100]).send().await.text(),
        "100 bytes"
    );
    assert_eq!(c.post("/text").body("shout").send().await.text(), "SHOUT");
    let resp = c.post("/text").body(vec![0xff, 0xfe]).send().await;
    assert_eq!(resp.status(), 422);
    assert_eq!(
        resp.json::<Value>(),
        json!({"detail":[{"type":"string_unicode","loc":["body"],"msg":"Input should be a valid string, unable to parse raw data as a unicode string","input":"\u{fffd}\u{fffd}"}]})
    );
}

#[tokio::test]
async fn response_types() {
    let c = TestClient::new(app());
    let resp = c.post("/created").send().await;
    assert_eq!(resp.status(), 201);

    let resp = c.get("/teapot").send().await;
    assert_eq!(resp.status(), 418);
    assert_eq!(resp.header("x-kettle"), Some("on"));
    assert_eq!(
        resp.json::<Value>(),
        json!({"detail": {"reason": "short and stout", "codes": [1, 2]}})
    );

    let resp = c.get("/html").send().await;
    assert_eq!(
        resp.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(resp.text(), "<h1>hi</h1>");

    let resp = c.get("/go").send().await;
    assert_eq!(resp.status(), 307);
    assert_eq!(resp.header("location"), Some("/html"));

    let resp = c.get("/tuple").send().await;
    assert_eq!(resp.status(), 202);
    assert_eq!(resp.header("x-extra"), Some("1"));
    assert_eq!(
        resp.header("content-type"),
        Some("text/plain; charset=utf-8")
    );

    let resp = c.get("/nothing").send().await;
    assert_eq!(resp.text(), "null");

    assert_eq!(c.get("/state").send().await.text(), "7 /state");
}

#[tokio::test]
async fn a_panic_is_a_500_and_the_app_keeps_serving() {
    let c = TestClient::new(app());
    let resp = c.get("/boom").send().await;
    assert_eq!(resp.status(), 500);
    assert_eq!(
        resp.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(resp.text(), "Internal Server Error");
    assert_eq!(c.get("/items/1").send().await.status(), 200);
}

#[tokio::test]
async fn http_errors_can_be_rendered_by_the_app() {
    let app = app().on_http_error(|err, ctx| {
        (
            err.status(),
            Json(json!({ "error": err.detail(), "path": ctx.uri.path() })),
        )
            .into_response()
    });
    let c = TestClient::new(app);
    let resp = c.get("/teapot").send().await;
    assert_eq!(resp.status(), 418);
    assert_eq!(
        resp.json::<Value>(),
        json!({"error": {"reason": "short and stout", "codes": [1, 2]}, "path": "/teapot"})
    );
    let resp = c.get("/nowhere").send().await;
    assert_eq!(
        resp.json::<Value>(),
        json!({"error": "Not Found", "path": "/nowhere"})
    );
}

#[tokio::test]
async fn http2_in_process() {
    let c = TestClient::new(app());
    let resp = c.get("/items/9").http2().send().await;
    assert_eq!(resp.version(), http::Version::HTTP_2);
    assert_eq!(resp.json::<Value>(), json!({"item_id": 9}));
}

#[test]
fn conflicts_and_missing_state_are_reported_together_at_build() {
    #[get("/items/{other}")]
    async fn clash(other: u32) -> String {
        other.to_string()
    }
    #[get("/state2")]
    async fn needs_state(s: State<String>) -> String {
        s.to_string()
    }
    let err = App::new()
        .route(read_item)
        .route(clash)
        .route(needs_state)
        .build()
        .unwrap_err();
    let text = err.to_string();
    assert_eq!(err.problems().len(), 2, "{text}");
    assert!(
        text.contains("GET `/items/{other}` is declared twice"),
        "{text}"
    );
    assert!(text.contains("State<alloc::string::String>"), "{text}");
}

#[test]
fn incompatible_shapes_are_a_build_error() {
    #[get("/a/{x:path}")]
    async fn wide(x: String) -> String {
        x
    }
    #[get("/a/{y}")]
    async fn narrow(y: String) -> String {
        y
    }
    let err = App::new().route(wide).route(narrow).build().unwrap_err();
    assert!(err.to_string().contains("conflicts"), "{err}");
}

/// Echoes a file name.
#[get("/files/{name}")]
async fn file_name(name: String) -> String {
    name
}

#[tokio::test]
async fn routes_match_the_decoded_path_as_starlettes_do() {
    let c = TestClient::new(App::new().route(file_name));
    // An encoded slash is a slash: two segments, no route.
    assert_eq!(c.get("/files/a%2Fb").send().await.status(), 404);
    // Other escapes are decoded once, in the value.
    assert_eq!(c.get("/files/a%20b%25").send().await.text(), "a b%");
    // And in the literal segments too.
    assert_eq!(c.get("/fil%65s/x").send().await.text(), "x");
}

/// Five path parameters: more than are kept inline.
#[get("/a/{a}/b/{b}/c/{c}/d/{d}/e/{e}")]
async fn five(a: String, b: u8, c: String, d: String, e: String) -> String {
    format!("{a} {b} {c} {d} {e}")
}

#[tokio::test]
async fn every_path_parameter_is_found_however_many_there_are() {
    let c = TestClient::new(App::new().route(five));
    let resp = c.get("/a/one/b/2/c/thr%20ee/d/four/e/five").send().await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text(), "one 2 thr ee four five");
}
