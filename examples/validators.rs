//! Rules that cross fields, as pydantic's `model_validator` and `AfterValidator`: a
//! model implements `Validate`, and wherever it is read (a JSON body, a form, an
//! embedded body parameter, a query model) its rule runs once its fields are valid;
//! a parameter takes a validator function with `validate = …`. What they report joins
//! the other errors in the one 422, located and worded as pydantic's.
//!
//! Run with: `cargo run --release --example validators`, then:
//!
//! ```text
//! curl -X POST http://127.0.0.1:8000/signup -H 'content-type: application/json' \
//!      -d '{"username": "ada", "password": "x", "repeat": "y"}'
//! # 422: "Value error, passwords do not match" at ["body"]
//! ```
//!
//! `tests/twin/validators_app.py` is the same app in FastAPI; CI replays the same
//! requests against both and compares the answers.

use hasten::prelude::*;
use hasten::validate::{Invalid, Validate, Validation};

/// A new account; the password is typed twice.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub struct SignUp {
    username: String,
    password: String,
    repeat: String,
}

impl Validate for SignUp {
    fn validate(&self, v: &mut Validation<'_>) {
        if self.password != self.repeat {
            v.fail(Invalid::value_error("passwords do not match"));
        }
    }
}

/// A range of numbers: `lo` must not exceed `hi`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub struct Range {
    lo: i64,
    hi: i64,
}

impl Validate for Range {
    fn validate(&self, v: &mut Validation<'_>) {
        if self.lo > self.hi {
            v.fail(
                Invalid::custom(
                    "range_order",
                    format!("lo ({}) must not exceed hi ({})", self.lo, self.hi),
                )
                .with_ctx(serde_json::json!({"lo": self.lo, "hi": self.hi})),
            );
        }
    }
}

/// Ranges inside a model: each is checked where it is.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub struct Schedule {
    main: Range,
    #[serde(default)]
    extra: Vec<Range>,
}

impl Validate for Schedule {
    fn validate(&self, v: &mut Validation<'_>) {
        v.nested("main", &self.main);
        v.each("extra", &self.extra);
    }
}

/// A booking: its rule reports at a field.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub struct Booking {
    nights: u32,
    guests: u32,
}

impl Validate for Booking {
    fn validate(&self, v: &mut Validation<'_>) {
        if self.guests > 2 * self.nights.max(1) {
            v.field("guests")
                .fail(Invalid::value_error("too many guests for the stay"));
        }
    }
}

fn even(n: i64) -> Result<i64, Invalid> {
    if n % 2 == 0 {
        Ok(n)
    } else {
        Err(Invalid::value_error("must be even"))
    }
}

fn trimmed(s: String) -> Result<String, Invalid> {
    // A validator may also change the value, as an `AfterValidator` returning it.
    Ok(s.trim().to_owned())
}

/// Sign up: the passwords must match.
#[post("/signup")]
async fn sign_up(account: Json<SignUp>) -> Json<SignUp> {
    account
}

/// Sign up with a form.
#[post("/signup/form")]
async fn sign_up_form(account: Form<SignUp>) -> Json<SignUp> {
    Json(account.0)
}

/// A range in the body, a number in the query: both errors in one 422.
#[post("/ranges")]
async fn ranges(range: Json<Range>, q: i64) -> Json<Range> {
    let _ = q;
    range
}

/// A range from the query string.
#[get("/ranges/query")]
async fn range_query(range: hasten::Query<Range>) -> Json<Range> {
    Json(range.0)
}

/// Nested ranges.
#[post("/schedules")]
async fn schedules(schedule: Json<Schedule>) -> Json<Schedule> {
    schedule
}

/// A booking.
#[post("/bookings")]
async fn bookings(booking: Json<Booking>) -> Json<Booking> {
    booking
}

/// Two body parameters, each with its rule.
#[post("/both")]
async fn both(account: Json<SignUp>, range: Json<Range>) -> Json<serde_json::Value> {
    Json(serde_json::json!({"account": account.0, "range": range.0}))
}

/// An even number, and a trimmed name.
#[get("/even")]
async fn even_number(
    #[query(validate = even)] n: i64,
    #[query(validate = trimmed)] name: Option<String>,
) -> Json<serde_json::Value> {
    Json(serde_json::json!({"n": n, "name": name}))
}

/// Paging, as a dependency: its errors come before the operation's own.
#[dependency]
fn paging(#[query(ge = 1)] page: i64, #[header] x_page_size: Option<i64>) -> (i64, i64) {
    (page, x_page_size.unwrap_or(20))
}

/// Errors from everywhere at once, listed as FastAPI lists them: the dependency's,
/// then path, query, header and cookie parameters, then the body.
#[post("/ordered/{item_id}")]
async fn ordered(
    range: Json<Range>,
    #[cookie] session: i64,
    #[header] x_count: i64,
    q: i64,
    item_id: i64,
    paging: Depends<paging>,
) -> Json<serde_json::Value> {
    Json(
        serde_json::json!({"range": range.0, "session": session, "count": x_count,
                            "q": q, "item_id": item_id, "paging": *paging}),
    )
}

fn app() -> App {
    App::new()
        .title("Validators")
        .version("1.0.0")
        .route(sign_up)
        .route(sign_up_form)
        .route(ranges)
        .route(range_query)
        .route(schedules)
        .route(bookings)
        .route(both)
        .route(even_number)
        .route(ordered)
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

    #[tokio::test]
    async fn a_model_rule_reports_at_the_model_with_its_input() {
        let c = TestClient::new(app());
        let body = json!({"username": "ada", "password": "x", "repeat": "y", "extra": 1});
        let resp = c.post("/signup").json(&body).send().await;
        assert_eq!(resp.status(), 422);
        assert_eq!(
            resp.json::<Value>(),
            json!({"detail": [{"type": "value_error", "loc": ["body"],
                   "msg": "Value error, passwords do not match", "input": body,
                   "ctx": {"error": {}}}]})
        );
        let ok = json!({"username": "ada", "password": "x", "repeat": "x"});
        let resp = c.post("/signup").json(&ok).send().await;
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.json::<Value>(), ok);
    }

    #[tokio::test]
    async fn the_rule_runs_only_once_the_fields_are_valid() {
        let c = TestClient::new(app());
        let resp = c
            .post("/signup")
            .json(&json!({"username": "ada", "password": 1, "repeat": "y"}))
            .send()
            .await;
        assert_eq!(resp.status(), 422);
        let detail = resp.json::<Value>()["detail"].clone();
        assert_eq!(detail.as_array().unwrap().len(), 1, "{detail}");
        assert_eq!(detail[0]["type"], "string_type");
    }

    #[tokio::test]
    async fn rule_errors_join_the_other_parameters_errors() {
        let c = TestClient::new(app());
        let resp = c
            .post("/ranges?q=x")
            .json(&json!({"lo": 5, "hi": 1}))
            .send()
            .await;
        assert_eq!(resp.status(), 422);
        let detail = resp.json::<Value>()["detail"].clone();
        let kinds: Vec<&str> = detail
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["type"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["int_parsing", "range_order"]);
        assert_eq!(
            detail[1],
            json!({"type": "range_order", "loc": ["body"], "msg": "lo (5) must not exceed hi (1)",
                   "input": {"lo": 5, "hi": 1}, "ctx": {"lo": 5, "hi": 1}})
        );
    }

    #[tokio::test]
    async fn nested_rules_report_where_the_nested_value_is() {
        let c = TestClient::new(app());
        let body = json!({"main": {"lo": 5, "hi": 1},
                          "extra": [{"lo": 1, "hi": 2}, {"lo": 3, "hi": 2}]});
        let resp = c.post("/schedules").json(&body).send().await;
        assert_eq!(resp.status(), 422);
        let detail = resp.json::<Value>()["detail"].clone();
        assert_eq!(detail[0]["loc"], json!(["body", "main"]));
        assert_eq!(detail[0]["input"], json!({"lo": 5, "hi": 1}));
        assert_eq!(detail[1]["loc"], json!(["body", "extra", 1]));
        assert_eq!(detail[1]["input"], json!({"lo": 3, "hi": 2}));
    }

    #[tokio::test]
    async fn a_parameter_validator_checks_and_may_change_the_value() {
        let c = TestClient::new(app());
        let resp = c.get("/even?n=3").send().await;
        assert_eq!(resp.status(), 422);
        assert_eq!(
            resp.json::<Value>(),
            json!({"detail": [{"type": "value_error", "loc": ["query", "n"],
                   "msg": "Value error, must be even", "input": "3", "ctx": {"error": {}}}]})
        );
        let resp = c.get("/even?n=4&name=%20ada%20").send().await;
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.json::<Value>(), json!({"n": 4, "name": "ada"}));
    }
}
