//! Parameter and body field types: `UUID`, `datetime`, `date`, `time`, `timedelta`,
//! floats, `bool`, enums (of strings and of integers), `Literal`, nested lists, sets and
//! tuples, each read as pydantic reads it and refused with its 422. Its FastAPI twin is
//! `tests/twin/apps/datatypes.py`.

use std::collections::BTreeSet;

use hasten::extract::ParseError;
use hasten::prelude::*;
use hasten::validation::ValidationError;
use serde_json::{json, Value};

/// A paint colour.
#[derive(Clone, Copy, PartialEq, Deserialize, Serialize, JsonSchema, ParamValue)]
#[serde(rename_all = "lowercase")]
enum Color {
    Red,
    Green,
    Blue,
}

/// How urgent: 1 (low) to 3 (high).
#[derive(Clone, Copy)]
enum Priority {
    Low = 1,
    Normal = 2,
    High = 3,
}

/// Read as pydantic reads an `IntEnum`: its number, or the `enum` error.
impl hasten::extract::ParamValue for Priority {
    fn parse(raw: &str) -> Result<Self, ParseError> {
        // Read as an `int` parameter is (`" 2"`, `"2.0"`), then matched.
        match <i64 as hasten::extract::ParamValue>::parse(raw) {
            Ok(1) => Ok(Priority::Low),
            Ok(2) => Ok(Priority::Normal),
            Ok(3) => Ok(Priority::High),
            _ => Err(
                ValidationError::new("enum", "Input should be 1, 2 or 3", json!(raw))
                    .with_ctx(json!({ "expected": "1, 2 or 3" }))
                    .into(),
            ),
        }
    }

    fn schema() -> Value {
        json!({ "type": "integer", "enum": [1, 2, 3], "title": "Priority",
                "description": "How urgent: 1 (low) to 3 (high)." })
    }
}

/// Written as its number.
impl Serialize for Priority {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(*self as i64)
    }
}

/// An event, with the date and time types.
#[derive(Deserialize, Serialize, JsonSchema)]
struct Event {
    id: uuid::Uuid,
    starts_at: jiff::Timestamp,
    day: jiff::civil::Date,
    doors: jiff::civil::Time,
    duration: jiff::SignedDuration,
}

// The sort order: `Literal["asc", "desc"]` (a doc comment would become a description).
#[derive(Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(inline)]
enum Order {
    #[default]
    Asc,
    Desc,
}

/// A task.
#[derive(Deserialize, Serialize, JsonSchema)]
struct Task {
    title: String,
    color: Color,
    #[serde(default)]
    done: bool,
    #[serde(default)]
    order: Order,
}

/// Collections: a grid of integers, a set of labels, a point.
#[derive(Deserialize, JsonSchema)]
struct Shape {
    grid: Vec<Vec<i64>>,
    labels: BTreeSet<String>,
    point: (f64, f64),
}

/// A price in euros, and a discount between 0 and 1.
#[derive(Deserialize, JsonSchema)]
struct Price {
    #[schemars(extend("exclusiveMinimum" = 0))]
    amount: f64,
    #[serde(default)]
    #[schemars(range(min = 0, max = 1))]
    discount: f64,
}

/// A colour from the path: one of the enum's values.
#[get("/colors/{color}")]
async fn read_color(color: Color) -> Json<Value> {
    Json(json!({ "color": color, "warm": color == Color::Red }))
}

/// Tasks, filtered by an integer enum, a boolean and a float.
#[get("/tasks/")]
async fn list_tasks(
    #[query(default = Priority::Normal)] priority: Priority,
    done: Option<bool>,
    #[query(gt = 0, default = 10.0)] limit: f64,
) -> Json<Value> {
    Json(json!({ "priority": priority, "done": done, "limit": limit }))
}

#[post("/tasks/")]
async fn create_task(task: Json<Task>) -> Json<Task> {
    task
}

/// Create an event: echoed as pydantic writes each type.
#[post("/events/")]
async fn create_event(event: Json<Event>) -> Json<Event> {
    event
}

/// Events of one series, on one day.
#[get("/events/{event_id}")]
async fn find_events(
    event_id: uuid::Uuid,
    on: jiff::civil::Date,
    doors: Option<jiff::civil::Time>,
) -> Json<Value> {
    Json(json!({ "event_id": event_id, "on": on, "doors": doors }))
}

/// Rows, the sum of every cell, the labels in order and the point.
#[post("/shapes/")]
async fn create_shape(shape: Json<Shape>) -> Json<Value> {
    let sum: i64 = shape.grid.iter().flatten().sum();
    Json(json!({
        "rows": shape.grid.len(), "sum": sum, "labels": shape.labels, "point": shape.point,
    }))
}

/// What is paid.
#[post("/prices/")]
async fn price(price: Json<Price>) -> Json<Value> {
    Json(json!({ "pay": price.amount * (1.0 - price.discount) }))
}

/// The app.
pub(crate) fn app() -> App {
    App::new()
        .title("types")
        .version("1.0.0")
        .route(read_color)
        .route(list_tasks)
        .route(create_task)
        .route(create_event)
        .route(find_events)
        .route(create_shape)
        .route(price)
}
