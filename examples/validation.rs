//! Field constraints, declared once on the model and enforced wherever the model is
//! read: a JSON body, a nested model, the items of a list, a form. What the OpenAPI
//! document shows is what the server checks, and every error comes in one 422.
//!
//! Run with: `cargo run --release --example validation`, then:
//!
//! ```text
//! curl -X POST http://127.0.0.1:8000/items/ -H 'content-type: application/json' \
//!      -d '{"title": "", "price": -3, "stock": 7, "currency": "EUR"}'
//! # 422: title too short, price not greater than 0
//! ```
//!
//! `tests/twin/validation_app.py` is the same app in FastAPI; CI replays the same
//! requests against both and compares the answers.

use hasten::prelude::*;

/// A size, in centimetres.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub struct Dimensions {
    /// Greater than zero.
    #[schemars(extend("exclusiveMinimum" = 0))]
    width: f64,
    /// At most 500.
    #[schemars(range(max = 500))]
    height: f64,
}

/// One part of an item.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub struct Part {
    /// A part code: two capital letters and digits.
    #[schemars(regex(pattern = r"^[A-Z]{2}\d+$"))]
    code: String,
    /// How many, 1 to 10.
    #[schemars(range(min = 1, max = 10))]
    count: i32,
}

/// An item for sale.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub struct Item {
    /// 1 to 20 characters.
    #[schemars(length(min = 1, max = 20))]
    title: String,
    /// Greater than zero.
    #[schemars(extend("exclusiveMinimum" = 0))]
    price: f64,
    /// 0 to 100.
    #[schemars(range(min = 0, max = 100))]
    stock: i64,
    /// Three capital letters.
    #[schemars(regex(pattern = r"^[A-Z]{3}$"))]
    currency: String,
    /// At most three tags.
    #[serde(default)]
    #[schemars(length(max = 3))]
    tags: Vec<String>,
    /// Sold in packs of a multiple of 5.
    #[serde(default = "five")]
    #[schemars(extend("multipleOf" = 5))]
    pack: i64,
    /// The size, if known.
    #[serde(default)]
    dimensions: Option<Dimensions>,
    /// Its parts.
    #[serde(default)]
    parts: Vec<Part>,
}

fn five() -> i64 {
    5
}

/// Create an item.
#[post("/items/", status = 201)]
async fn create_item(item: Json<Item>) -> Json<Item> {
    item
}

/// A sign-up form.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub struct SignUp {
    /// 3 to 12 letters, digits or underscores.
    #[schemars(length(min = 3, max = 12), regex(pattern = r"^\w+$"))]
    username: String,
    /// 18 or older.
    #[schemars(range(min = 18))]
    age: u8,
}

/// Sign up with a form.
#[post("/signup/")]
async fn sign_up(form: Form<SignUp>) -> Json<SignUp> {
    Json(form.0)
}

/// Search, with constrained query parameters.
#[get("/search/")]
async fn search(
    #[query(min_length = 2, max_length = 10)] q: String,
    #[query(ge = 1, le = 50)] limit: Option<i64>,
    #[query(gt = 0)] min_price: Option<f64>,
) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "q": q, "limit": limit.unwrap_or(10), "min_price": min_price }))
}

/// A contact, with formats checked as pydantic's `EmailStr`, `AnyUrl`, `IPv4Address`
/// and `IPvAnyAddress` check them.
#[derive(Debug, Deserialize, JsonSchema)]
#[allow(dead_code)] // validated, not used: the example is about the checks
pub struct Contact {
    /// An e-mail address.
    #[schemars(email)]
    email: String,
    /// A web site.
    #[serde(default)]
    #[schemars(url)]
    website: Option<String>,
    /// A server's IPv4 address.
    #[serde(default)]
    #[schemars(ipv4)]
    server: Option<String>,
    /// A client's address, IPv4 or IPv6.
    #[serde(default)]
    #[schemars(ip)]
    client: Option<String>,
}

/// Add a contact.
#[post("/contacts/")]
async fn add_contact(contact: Json<Contact>) -> Json<serde_json::Value> {
    let _ = contact;
    Json(serde_json::json!({ "ok": true }))
}

/// How to sort.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderBy {
    /// By creation.
    CreatedAt,
    /// By last update.
    UpdatedAt,
}

/// Query parameters as one model, as FastAPI's `Annotated[Filter, Query()]`; unknown
/// parameters are refused.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    /// What to look for, at least 2 characters.
    #[schemars(length(min = 2))]
    q: String,
    /// 1 to 100, 100 by default.
    #[serde(default = "hundred")]
    #[schemars(range(min = 1, max = 100))]
    limit: i64,
    /// 0 or more.
    #[serde(default)]
    #[schemars(range(min = 0))]
    offset: i64,
    /// The sort order.
    #[serde(default = "created_at")]
    order_by: OrderBy,
    /// Tags, repeated: `?tags=a&tags=b`.
    #[serde(default)]
    tags: Vec<String>,
}

fn hundred() -> i64 {
    100
}

fn created_at() -> OrderBy {
    OrderBy::CreatedAt
}

/// Items, filtered by a parameter model.
#[get("/filtered/")]
async fn filtered(filter: hasten::Query<Filter>) -> Json<Filter> {
    Json(filter.0)
}

/// Headers as one model.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub struct Client {
    /// The `x-token` header.
    x_token: String,
    /// The `x-request-count` header.
    #[serde(default)]
    #[schemars(range(min = 0))]
    x_request_count: Option<i64>,
}

/// The client, from a header model.
#[get("/client/")]
async fn client(headers: hasten::Header<Client>) -> Json<Client> {
    Json(headers.0)
}

/// Prices by integer code: keys are read as integers, as pydantic reads them.
#[post("/prices/")]
async fn prices(
    body: Json<std::collections::BTreeMap<i32, f64>>,
) -> Json<std::collections::BTreeMap<i32, f64>> {
    body
}

/// A user, beside an item in one body.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub struct User {
    /// Their login.
    username: String,
    /// Their name, if given.
    #[serde(default)]
    full_name: Option<String>,
}

/// Several body parameters: the body is one object with each under its name,
/// `{"item": {...}, "user": {...}, "importance": 5}`, each validated by its own rules.
#[put("/items/{item_id}")]
async fn update_item(
    item_id: i64,
    item: Json<Item>,
    user: Json<User>,
    #[body(gt = 0)] importance: i64,
) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "item_id": item_id, "item": item.0, "user": user.0, "importance": importance,
    }))
}

/// One body parameter, embedded: `{"item": {...}}`.
#[post("/embedded/")]
async fn embedded(#[body(embed)] item: Json<Item>) -> Json<Item> {
    item
}

/// An event: the types FastAPI users reach for (`UUID`, `datetime`, `date`, `time`,
/// `timedelta`), each read as pydantic reads it and refused with its errors.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Event {
    /// Its id: hyphenated, simple (32 hex digits), braced or `urn:uuid:`.
    id: uuid::Uuid,
    /// When it starts: RFC 3339 or ISO 8601 (`Z`, an offset, or none for UTC), a date
    /// alone (midnight), or a unix timestamp in seconds or milliseconds.
    starts_at: jiff::Timestamp,
    /// The day it is listed under: `YYYY-MM-DD`, or a datetime at midnight.
    day: jiff::civil::Date,
    /// When the doors open, wall-clock time: `HH:MM[:SS[.ffffff]]`.
    doors: jiff::civil::Time,
    /// How long it lasts: ISO 8601 (`PT1H30M`), `[D day[s], ]HH:MM[:SS]`, or seconds.
    duration: jiff::SignedDuration,
    /// When it ends, if known.
    #[serde(default)]
    ends_at: Option<jiff::Timestamp>,
}

/// What was read, in numbers both twins print alike: microseconds since the epoch and
/// since midnight, and the duration in seconds and microseconds.
fn event_summary(e: &Event) -> serde_json::Value {
    serde_json::json!({
        "id": e.id.to_string(),
        "starts_at_us": e.starts_at.as_microsecond(),
        "day": e.day.to_string(),
        "doors_us": since_midnight(e.doors),
        "duration": seconds_and_micros(e.duration),
        "ends_at_us": e.ends_at.map(|t| t.as_microsecond()),
    })
}

/// Microseconds since midnight.
fn since_midnight(t: jiff::civil::Time) -> i64 {
    (i64::from(t.hour()) * 3600 + i64::from(t.minute()) * 60 + i64::from(t.second())) * 1_000_000
        + i64::from(t.subsec_nanosecond()) / 1000
}

/// A duration as whole seconds (rounded down) and the microseconds after them, as
/// Python's `divmod(td, timedelta(seconds=1))` gives them: exact however long it is.
fn seconds_and_micros(d: jiff::SignedDuration) -> [i64; 2] {
    let (mut secs, mut micros) = (d.as_secs(), i64::from(d.subsec_micros()));
    if micros < 0 {
        secs -= 1;
        micros += 1_000_000;
    }
    [secs, micros]
}

/// Create an event from JSON.
#[post("/events/")]
async fn create_event(event: Json<Event>) -> Json<serde_json::Value> {
    Json(event_summary(&event))
}

/// Create an event from a form: every field is text, read the same way.
#[post("/events/form/")]
async fn create_event_from_form(event: Form<Event>) -> Json<serde_json::Value> {
    Json(event_summary(&event.0))
}

/// Look an event up: a UUID in the path, dates, times and durations in the query.
#[get("/events/{event_id}")]
async fn find_event(
    event_id: uuid::Uuid,
    on: jiff::civil::Date,
    after: Option<jiff::Timestamp>,
    doors: Option<jiff::civil::Time>,
    within: Option<jiff::SignedDuration>,
) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "event_id": event_id.to_string(),
        "on": on.to_string(),
        "after_us": after.map(|t| t.as_microsecond()),
        "doors_us": doors.map(since_midnight),
        "within": within.map(seconds_and_micros),
    }))
}

fn app() -> App {
    App::new()
        .title("Validation")
        .version("1.0.0")
        .route(create_item)
        .route(update_item)
        .route(embedded)
        .route(create_event)
        .route(create_event_from_form)
        .route(find_event)
        .route(add_contact)
        .route(filtered)
        .route(client)
        .route(prices)
        .route(sign_up)
        .route(search)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    hasten_examples::run(app()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use hasten::testing::TestClient;
    use serde_json::{json, Value};

    fn valid() -> Value {
        json!({"title": "Hammer", "price": 9.5, "stock": 7, "currency": "EUR"})
    }

    #[tokio::test]
    async fn a_valid_item_is_created() {
        let c = TestClient::new(app());
        let resp = c.post("/items/").json(&valid()).send().await;
        assert_eq!(resp.status(), 201, "{}", resp.text());
        assert_eq!(
            resp.json::<Value>(),
            json!({"title": "Hammer", "price": 9.5, "stock": 7, "currency": "EUR", "tags": [],
                   "pack": 5, "dimensions": null, "parts": []})
        );
    }

    /// The bypass that was: a body that serde parses fine but breaks a declared
    /// constraint was stored. Each constraint, alone on an otherwise valid body.
    #[tokio::test]
    async fn every_declared_constraint_is_enforced_on_an_otherwise_valid_body() {
        let c = TestClient::new(app());
        let cases = [
            (
                json!({"title": ""}),
                json!({"type": "string_too_short", "loc": ["body", "title"],
                       "msg": "String should have at least 1 character", "input": "",
                       "ctx": {"min_length": 1}}),
            ),
            (
                json!({"title": "x".repeat(21)}),
                json!({"type": "string_too_long", "loc": ["body", "title"],
                       "msg": "String should have at most 20 characters", "input": "x".repeat(21),
                       "ctx": {"max_length": 20}}),
            ),
            (
                json!({"price": -3.0}),
                json!({"type": "greater_than", "loc": ["body", "price"],
                       "msg": "Input should be greater than 0", "input": -3.0, "ctx": {"gt": 0.0}}),
            ),
            (
                json!({"price": 0}),
                json!({"type": "greater_than", "loc": ["body", "price"],
                       "msg": "Input should be greater than 0", "input": 0, "ctx": {"gt": 0.0}}),
            ),
            (
                json!({"stock": 101}),
                json!({"type": "less_than_equal", "loc": ["body", "stock"],
                       "msg": "Input should be less than or equal to 100", "input": 101,
                       "ctx": {"le": 100}}),
            ),
            (
                json!({"stock": -1}),
                json!({"type": "greater_than_equal", "loc": ["body", "stock"],
                       "msg": "Input should be greater than or equal to 0", "input": -1,
                       "ctx": {"ge": 0}}),
            ),
            (
                json!({"currency": "eur"}),
                json!({"type": "string_pattern_mismatch", "loc": ["body", "currency"],
                       "msg": "String should match pattern '^[A-Z]{3}$'", "input": "eur",
                       "ctx": {"pattern": "^[A-Z]{3}$"}}),
            ),
            (
                json!({"tags": ["a", "b", "c", "d"]}),
                json!({"type": "too_long", "loc": ["body", "tags"],
                       "msg": "List should have at most 3 items after validation, not 4",
                       "input": ["a", "b", "c", "d"], "ctx": {"field_type": "List", "max_length": 3, "actual_length": 4}}),
            ),
            (
                json!({"pack": 12}),
                json!({"type": "multiple_of", "loc": ["body", "pack"],
                       "msg": "Input should be a multiple of 5", "input": 12, "ctx": {"multiple_of": 5}}),
            ),
            (
                json!({"dimensions": {"width": 0, "height": 10}}),
                json!({"type": "greater_than", "loc": ["body", "dimensions", "width"],
                       "msg": "Input should be greater than 0", "input": 0, "ctx": {"gt": 0.0}}),
            ),
            (
                json!({"parts": [{"code": "AB1", "count": 1}, {"code": "ab", "count": 11}]}),
                json!({"type": "string_pattern_mismatch", "loc": ["body", "parts", 1, "code"],
                       "msg": "String should match pattern '^[A-Z]{2}\\d+$'", "input": "ab",
                       "ctx": {"pattern": "^[A-Z]{2}\\d+$"}}),
            ),
        ];
        for (change, error) in cases {
            let mut body = valid();
            for (k, v) in change.as_object().unwrap() {
                body[k] = v.clone();
            }
            let resp = c.post("/items/").json(&body).send().await;
            assert_eq!(resp.status(), 422, "{body} was accepted");
            assert_eq!(resp.json::<Value>()["detail"][0], error, "{body}");
        }
    }

    #[tokio::test]
    async fn every_error_is_reported_at_once() {
        let c = TestClient::new(app());
        let resp = c
            .post("/items/")
            .json(
                &json!({"title": "", "price": -3, "stock": 7, "currency": "EUR",
                          "parts": [{"code": "ab", "count": 11}]}),
            )
            .send()
            .await;
        assert_eq!(resp.status(), 422);
        assert_eq!(
            resp.json::<Value>(),
            json!({"detail": [
                {"type": "string_too_short", "loc": ["body", "title"],
                 "msg": "String should have at least 1 character", "input": "", "ctx": {"min_length": 1}},
                {"type": "greater_than", "loc": ["body", "price"],
                 "msg": "Input should be greater than 0", "input": -3, "ctx": {"gt": 0.0}},
                {"type": "string_pattern_mismatch", "loc": ["body", "parts", 0, "code"],
                 "msg": "String should match pattern '^[A-Z]{2}\\d+$'", "input": "ab",
                 "ctx": {"pattern": "^[A-Z]{2}\\d+$"}},
                {"type": "less_than_equal", "loc": ["body", "parts", 0, "count"],
                 "msg": "Input should be less than or equal to 10", "input": 11, "ctx": {"le": 10}}
            ]})
        );
    }

    #[tokio::test]
    async fn integer_keys_are_validated_like_pydantic() {
        let c = TestClient::new(app());
        let resp = c
            .post("/prices/")
            .json(&json!({"foo": "x", " 4 ": 1, "3.0": 2.5}))
            .send()
            .await;
        assert_eq!(resp.status(), 422);
        assert_eq!(
            resp.json::<Value>(),
            json!({"detail": [
                {"type": "int_parsing", "loc": ["body", "foo", "[key]"],
                 "msg": "Input should be a valid integer, unable to parse string as an integer", "input": "foo"},
                {"type": "float_parsing", "loc": ["body", "foo"],
                 "msg": "Input should be a valid number, unable to parse string as a number", "input": "x"}
            ]})
        );
        let resp = c
            .post("/prices/")
            .json(&json!({" 4 ": 1, "3.0": 2.5}))
            .send()
            .await;
        assert_eq!(resp.json::<Value>(), json!({"3": 2.5, "4": 1.0}));
    }

    #[tokio::test]
    async fn formats_are_checked_as_pydantic_checks_them() {
        let c = TestClient::new(app());
        let ok = c
            .post("/contacts/")
            .json(
                &json!({"email": "ann@example.com", "website": "https://example.com",
                          "server": "10.0.0.1", "client": "::1"}),
            )
            .send()
            .await;
        assert_eq!(ok.status(), 200, "{}", ok.text());
        let resp = c
            .post("/contacts/")
            .json(
                &json!({"email": "ann", "website": "example.com", "server": "10.0.0",
                          "client": "x"}),
            )
            .send()
            .await;
        assert_eq!(
            resp.json::<Value>(),
            json!({"detail": [
                {"type": "value_error", "loc": ["body", "email"],
                 "msg": "value is not a valid email address: An email address must have an @-sign.",
                 "input": "ann", "ctx": {"reason": "An email address must have an @-sign."}},
                {"type": "url_parsing", "loc": ["body", "website"],
                 "msg": "Input should be a valid URL, relative URL without a base",
                 "input": "example.com", "ctx": {"error": "relative URL without a base"}},
                {"type": "ip_v4_address", "loc": ["body", "server"],
                 "msg": "Input is not a valid IPv4 address", "input": "10.0.0"},
                {"type": "ip_any_address", "loc": ["body", "client"],
                 "msg": "value is not a valid IPv4 or IPv6 address", "input": "x"}
            ]})
        );
    }

    #[tokio::test]
    async fn parameter_models_validate_every_field_and_forbid_extras() {
        let c = TestClient::new(app());
        let resp = c.get("/filtered/?q=ab&limit=5&tags=a&tags=b").send().await;
        assert_eq!(
            resp.json::<Value>(),
            json!({"q": "ab", "limit": 5, "offset": 0, "order_by": "created_at", "tags": ["a", "b"]})
        );
        let resp = c
            .get("/filtered/?limit=0&offset=-1&order_by=x&tool=p")
            .send()
            .await;
        assert_eq!(resp.status(), 422);
        assert_eq!(
            resp.json::<Value>(),
            json!({"detail": [
                {"type": "missing", "loc": ["query", "q"], "msg": "Field required",
                 "input": {"limit": "0", "offset": "-1", "order_by": "x", "tool": "p"}},
                {"type": "greater_than_equal", "loc": ["query", "limit"],
                 "msg": "Input should be greater than or equal to 1", "input": "0", "ctx": {"ge": 1}},
                {"type": "greater_than_equal", "loc": ["query", "offset"],
                 "msg": "Input should be greater than or equal to 0", "input": "-1", "ctx": {"ge": 0}},
                {"type": "enum", "loc": ["query", "order_by"],
                 "msg": "Input should be 'created_at' or 'updated_at'", "input": "x",
                 "ctx": {"expected": "'created_at' or 'updated_at'"}},
                {"type": "extra_forbidden", "loc": ["query", "tool"],
                 "msg": "Extra inputs are not permitted", "input": "p"}
            ]})
        );
        let resp = c.get("/client/").header("x-token", "t").send().await;
        assert_eq!(
            resp.json::<Value>(),
            json!({"x_token": "t", "x_request_count": null})
        );
        let resp = c
            .get("/client/")
            .header("x-request-count", "-2")
            .send()
            .await;
        let detail = resp.json::<Value>()["detail"].clone();
        assert_eq!(detail[0]["loc"], json!(["header", "x-token"]));
        assert_eq!(
            detail[1],
            json!({"type": "greater_than_equal", "loc": ["header", "x-request-count"],
                   "msg": "Input should be greater than or equal to 0", "input": "-2", "ctx": {"ge": 0}})
        );
    }

    #[tokio::test]
    async fn form_fields_keep_their_constraints_too() {
        let c = TestClient::new(app());
        let resp = c
            .post("/signup/")
            .form(&[("username", "ann_1"), ("age", "30")])
            .send()
            .await;
        assert_eq!(
            resp.json::<Value>(),
            json!({"username": "ann_1", "age": 30})
        );
        let resp = c
            .post("/signup/")
            .form(&[("username", "a!"), ("age", "17")])
            .send()
            .await;
        assert_eq!(resp.status(), 422);
        assert_eq!(
            resp.json::<Value>(),
            json!({"detail": [
                {"type": "string_too_short", "loc": ["body", "username"],
                 "msg": "String should have at least 3 characters", "input": "a!", "ctx": {"min_length": 3}},
                {"type": "greater_than_equal", "loc": ["body", "age"],
                 "msg": "Input should be greater than or equal to 18", "input": "17", "ctx": {"ge": 18}}
            ]})
        );
    }

    #[tokio::test]
    async fn several_body_parameters_share_one_object() {
        let c = TestClient::new(app());
        let body = json!({"item": valid(), "user": {"username": "dave"}, "importance": "3"});
        let resp = c.put("/items/5").json(&body).send().await;
        assert_eq!(resp.status(), 200, "{}", resp.text());
        let out = resp.json::<Value>();
        assert_eq!(out["importance"], 3);
        assert_eq!(out["user"], json!({"username": "dave", "full_name": null}));
        assert_eq!(out["item"]["pack"], 5);

        // Each parameter is checked by its own rules, every error at once, each at
        // its name; the scalar's input is the JSON value sent.
        let body = json!({"item": dict_with(valid(), "stock", json!(101)),
                          "user": {"full_name": 3}, "importance": 0});
        let resp = c.put("/items/5").json(&body).send().await;
        assert_eq!(resp.status(), 422);
        let locs: Vec<Value> = resp.json::<Value>()["detail"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| json!([e["loc"], e["type"], e["input"]]))
            .collect();
        assert_eq!(
            locs,
            [
                json!([["body", "item", "stock"], "less_than_equal", 101]),
                json!([["body", "user", "username"], "missing", {"full_name": 3}]),
                json!([["body", "user", "full_name"], "string_type", 3]),
                json!([["body", "importance"], "greater_than", 0]),
            ]
        );
    }

    /// An absent body, an empty object, a list or a body that is not JSON: one
    /// `missing` per body parameter, as FastAPI reports them.
    #[tokio::test]
    async fn each_body_parameter_is_missing_on_its_own() {
        let c = TestClient::new(app());
        let missing = json!({"detail": [
            {"type": "missing", "loc": ["body", "item"], "msg": "Field required", "input": null},
            {"type": "missing", "loc": ["body", "user"], "msg": "Field required", "input": null},
            {"type": "missing", "loc": ["body", "importance"], "msg": "Field required", "input": null},
        ]});
        for (body, content_type) in [
            ("", "application/json"),
            ("{}", "application/json"),
            ("[]", "application/json"),
            ("{}", "text/plain"),
        ] {
            let resp = c
                .put("/items/5")
                .header("content-type", content_type)
                .body(body)
                .send()
                .await;
            assert_eq!(resp.status(), 422, "{body:?} as {content_type}");
            assert_eq!(resp.json::<Value>(), missing, "{body:?} as {content_type}");
        }
    }

    #[tokio::test]
    async fn an_embedded_body_parameter_is_read_under_its_name() {
        let c = TestClient::new(app());
        let resp = c
            .post("/embedded/")
            .json(&json!({"item": valid()}))
            .send()
            .await;
        assert_eq!(resp.status(), 200, "{}", resp.text());
        assert_eq!(resp.json::<Value>()["title"], "Hammer");
        // The bare model is not what the operation reads.
        let resp = c.post("/embedded/").json(&valid()).send().await;
        assert_eq!(resp.status(), 422);
        assert_eq!(
            resp.json::<Value>()["detail"][0]["loc"],
            json!(["body", "item"])
        );
    }

    #[tokio::test]
    async fn the_document_shows_one_body_object() {
        let c = TestClient::new(app());
        let doc = c.get("/openapi.json").send().await.json::<Value>();
        let op = &doc["paths"]["/items/{item_id}"]["put"];
        assert_eq!(
            op["requestBody"],
            json!({"content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/Body_update_item_items__item_id__put"}}},
                "required": true})
        );
        let body = &doc["components"]["schemas"]["Body_update_item_items__item_id__put"];
        assert_eq!(body["required"], json!(["item", "user", "importance"]));
        assert_eq!(
            body["properties"]["item"],
            json!({"$ref": "#/components/schemas/Item"})
        );
        assert_eq!(body["properties"]["importance"]["exclusiveMinimum"], 0);
        let embedded = &doc["components"]["schemas"]["Body_embedded_embedded__post"];
        assert_eq!(embedded["required"], json!(["item"]));
    }

    fn event() -> Value {
        json!({"id": "12345678-1234-1234-1234-1234567890ab", "starts_at": "2032-04-23T10:20:30Z",
               "day": "2032-04-23", "doors": "09:30", "duration": "PT2H"})
    }

    /// The forms pydantic accepts for `UUID`, `datetime`, `date`, `time` and `timedelta`
    /// are accepted, and read the same way (FastAPI's answers, from the twin).
    #[tokio::test]
    async fn uuids_and_datetimes_are_read_as_pydantic_reads_them() {
        let c = TestClient::new(app());
        let resp = c.post("/events/").json(&event()).send().await;
        assert_eq!(resp.status(), 200, "{}", resp.text());
        assert_eq!(
            resp.json::<Value>(),
            json!({"id": "12345678-1234-1234-1234-1234567890ab", "starts_at_us": 1966328430000000_i64,
                   "day": "2032-04-23", "doors_us": 34200000000_i64, "duration": [7200, 0],
                   "ends_at_us": null})
        );
        let lax = json!({"id": "urn:uuid:12345678-1234-1234-1234-1234567890AB",
                         "starts_at": 1700000000.5, "day": "2032-04-23T00:00:00+01:00",
                         "doors": "10:20:30.123456789-05:30", "duration": "1 day, 10:00",
                         "ends_at": "2032-04-23 10:20"});
        let resp = c.post("/events/").json(&lax).send().await;
        assert_eq!(resp.status(), 200, "{}", resp.text());
        assert_eq!(
            resp.json::<Value>(),
            json!({"id": "12345678-1234-1234-1234-1234567890ab", "starts_at_us": 1700000000500000_i64,
                   "day": "2032-04-23", "doors_us": 37230123456_i64, "duration": [122400, 0],
                   "ends_at_us": 1966328400000000_i64})
        );
        for (field, value, us) in [
            ("starts_at", json!("2032-04-23"), 1966291200000000_i64),
            ("starts_at", json!("1700000000123"), 1700000000123000),
            (
                "starts_at",
                json!("2032-04-23_10:20:30-05:30"),
                1966348230000000,
            ),
            ("doors", json!(3600), 3600000000),
        ] {
            let resp = c
                .post("/events/")
                .json(&dict_with(event(), field, value.clone()))
                .send()
                .await;
            assert_eq!(resp.status(), 200, "{field}: {value}: {}", resp.text());
            assert_eq!(
                resp.json::<Value>()[format!("{field}_us")],
                us,
                "{field}: {value}"
            );
        }
        for (value, read) in [
            (json!("P1DT2H3M4.5S"), json!([93784, 500000])),
            (json!(-1.5), json!([-2, 500000])),
            (json!("999999999 days"), json!([86399999913600_i64, 0])),
        ] {
            let resp = c
                .post("/events/")
                .json(&dict_with(event(), "duration", value.clone()))
                .send()
                .await;
            assert_eq!(resp.json::<Value>()["duration"], read, "{value}");
        }
    }

    /// Each kind of error, with pydantic's type, message and `ctx.error` (speedate's and
    /// the `uuid` crate's reasons), all at once.
    #[tokio::test]
    async fn bad_uuids_and_datetimes_get_pydantics_errors() {
        let c = TestClient::new(app());
        let bad = json!({"id": "12345678-1234-1234-1234-1234567890a", "starts_at": "2032-02-30T10:00:00",
                         "day": "2032-04-23T10:20:30", "doors": "25:00", "duration": "3600",
                         "ends_at": true});
        let resp = c.post("/events/").json(&bad).send().await;
        assert_eq!(resp.status(), 422);
        assert_eq!(
            resp.json::<Value>(),
            json!({"detail": [
                {"type": "uuid_parsing", "loc": ["body", "id"],
                 "msg": "Input should be a valid UUID, invalid group length in group 4: expected 12, found 11",
                 "input": "12345678-1234-1234-1234-1234567890a",
                 "ctx": {"error": "invalid group length in group 4: expected 12, found 11"}},
                {"type": "datetime_from_date_parsing", "loc": ["body", "starts_at"],
                 "msg": "Input should be a valid datetime or date, day value is outside expected range",
                 "input": "2032-02-30T10:00:00", "ctx": {"error": "day value is outside expected range"}},
                {"type": "date_from_datetime_inexact", "loc": ["body", "day"],
                 "msg": "Datetimes provided to dates should have zero time - e.g. be exact dates",
                 "input": "2032-04-23T10:20:30"},
                {"type": "time_parsing", "loc": ["body", "doors"],
                 "msg": "Input should be in a valid time format, hour value is outside expected range of 0-23",
                 "input": "25:00", "ctx": {"error": "hour value is outside expected range of 0-23"}},
                {"type": "time_delta_parsing", "loc": ["body", "duration"],
                 "msg": "Input should be a valid timedelta, \"day\" identifier in duration not correctly formatted",
                 "input": "3600", "ctx": {"error": "\"day\" identifier in duration not correctly formatted"}},
                {"type": "datetime_type", "loc": ["body", "ends_at"],
                 "msg": "Input should be a valid datetime", "input": true}
            ]})
        );
        for (field, value, error) in [
            (
                "id",
                json!(1),
                json!({"type": "uuid_type", "loc": ["body", "id"],
                "msg": "UUID input should be a string, bytes or UUID object", "input": 1}),
            ),
            (
                "starts_at",
                json!("0000-01-01T00:00:00"),
                json!({"type": "datetime_parsing",
                "loc": ["body", "starts_at"], "msg": "Input should be a valid datetime, year 0 is out of range",
                "input": "0000-01-01T00:00:00", "ctx": {"error": "year 0 is out of range"}}),
            ),
            (
                "starts_at",
                json!(1e20),
                json!({"type": "datetime_parsing", "loc": ["body", "starts_at"],
                "msg": "Input should be a valid datetime, dates after 9999 are not supported as unix timestamps",
                "input": 1e20, "ctx": {"error": "dates after 9999 are not supported as unix timestamps"}}),
            ),
            (
                "day",
                json!("0000-01-01"),
                json!({"type": "date_parsing", "loc": ["body", "day"],
                "msg": "Input should be a valid date in the format YYYY-MM-DD, year 0 is out of range",
                "input": "0000-01-01", "ctx": {"error": "year 0 is out of range"}}),
            ),
            (
                "day",
                json!("2032-13-01"),
                json!({"type": "date_from_datetime_parsing", "loc": ["body", "day"],
                "msg": "Input should be a valid date or datetime, month value is outside expected range of 1-12",
                "input": "2032-13-01", "ctx": {"error": "month value is outside expected range of 1-12"}}),
            ),
            (
                "day",
                json!(null),
                json!({"type": "date_type", "loc": ["body", "day"],
                "msg": "Input should be a valid date", "input": null}),
            ),
            (
                "doors",
                json!(86400),
                json!({"type": "time_parsing", "loc": ["body", "doors"],
                "msg": "Input should be in a valid time format, numeric times may not exceed 86,399 seconds",
                "input": 86400, "ctx": {"error": "numeric times may not exceed 86,399 seconds"}}),
            ),
            (
                "doors",
                json!(true),
                json!({"type": "time_type", "loc": ["body", "doors"],
                "msg": "Input should be a valid time", "input": true}),
            ),
            (
                "duration",
                json!(null),
                json!({"type": "time_delta_type", "loc": ["body", "duration"],
                "msg": "Input should be a valid timedelta", "input": null}),
            ),
        ] {
            let resp = c
                .post("/events/")
                .json(&dict_with(event(), field, value.clone()))
                .send()
                .await;
            assert_eq!(resp.status(), 422, "{field}: {value}");
            assert_eq!(
                resp.json::<Value>(),
                json!({"detail": [error]}),
                "{field}: {value}"
            );
        }
    }

    #[tokio::test]
    async fn forms_and_parameters_read_them_too() {
        let c = TestClient::new(app());
        let resp = c
            .post("/events/form/")
            .form(&[
                ("id", "{12345678-1234-1234-1234-1234567890ab}"),
                ("starts_at", "1700000000"),
                ("day", "2032-04-23"),
                ("doors", "10:20:30+01:00"),
                ("duration", "-10:00"),
            ])
            .send()
            .await;
        assert_eq!(resp.status(), 200, "{}", resp.text());
        let out = resp.json::<Value>();
        assert_eq!(out["starts_at_us"], 1700000000000000_i64);
        assert_eq!(out["doors_us"], 37230000000_i64);
        assert_eq!(out["duration"], json!([-36000, 0]));

        let resp = c
            .get("/events/123456781234123412341234567890ab?on=2032-04-23T00:00:00Z&after=2032-04-23+10:20&within=P1D")
            .send()
            .await;
        assert_eq!(
            resp.json::<Value>(),
            json!({"event_id": "12345678-1234-1234-1234-1234567890ab", "on": "2032-04-23",
                   "after_us": 1966328400000000_i64, "doors_us": null, "within": [86400, 0]})
        );
        let resp = c
            .get("/events/nope?on=2032-04-23T10:00:00&doors=25:00&within=x")
            .send()
            .await;
        assert_eq!(resp.status(), 422);
        assert_eq!(
            resp.json::<Value>(),
            json!({"detail": [
                {"type": "uuid_parsing", "loc": ["path", "event_id"],
                 "msg": "Input should be a valid UUID, invalid character: found `n` at 0", "input": "nope",
                 "ctx": {"error": "invalid character: found `n` at 0"}},
                {"type": "date_from_datetime_inexact", "loc": ["query", "on"],
                 "msg": "Datetimes provided to dates should have zero time - e.g. be exact dates",
                 "input": "2032-04-23T10:00:00"},
                {"type": "time_parsing", "loc": ["query", "doors"],
                 "msg": "Input should be in a valid time format, hour value is outside expected range of 0-23",
                 "input": "25:00", "ctx": {"error": "hour value is outside expected range of 0-23"}},
                {"type": "time_delta_parsing", "loc": ["query", "within"],
                 "msg": "Input should be a valid timedelta, invalid digit in duration", "input": "x",
                 "ctx": {"error": "invalid digit in duration"}}
            ]})
        );
    }

    /// The document shows FastAPI's formats (a body field's `time` is schemars'
    /// `partial-time`, renamed as pydantic names it).
    #[tokio::test]
    async fn the_document_shows_the_formats() {
        let c = TestClient::new(app());
        let doc = c.get("/openapi.json").send().await.json::<Value>();
        let props = &doc["components"]["schemas"]["Event"]["properties"];
        let formats: Vec<&Value> = ["id", "starts_at", "day", "doors", "duration"]
            .iter()
            .map(|f| &props[f]["format"])
            .collect();
        assert_eq!(formats, ["uuid", "date-time", "date", "time", "duration"]);
        let params = &doc["paths"]["/events/{event_id}"]["get"]["parameters"];
        assert_eq!(params[0]["schema"]["format"], "uuid");
        assert_eq!(params[1]["schema"]["format"], "date");
        assert_eq!(params[3]["schema"]["anyOf"][0]["format"], "time");
        assert_eq!(params[4]["schema"]["anyOf"][0]["format"], "duration");
    }

    fn dict_with(mut v: Value, key: &str, value: Value) -> Value {
        v[key] = value;
        v
    }
}
