//! What every benchmark server shares: the address, the typed endpoint's input and
//! its checks (for the frameworks that do not validate by themselves).

use serde::{Deserialize, Serialize};

/// Where a server listens: `BENCH_ADDR`, default `127.0.0.1:8000`.
pub fn addr() -> String {
    std::env::var("BENCH_ADDR").unwrap_or_else(|_| "127.0.0.1:8000".to_owned())
}

/// The plaintext body.
pub const HELLO: &str = "Hello, World!";

/// The JSON body.
#[derive(Serialize)]
pub struct Message {
    /// Always "Hello, World!".
    pub message: &'static str,
}

/// The typed endpoint's JSON body: six fields.
#[derive(Debug, Deserialize, Serialize, schemars::JsonSchema)]
pub struct Order {
    /// What is ordered.
    pub item: String,
    /// How many.
    pub quantity: u32,
    /// Unit price.
    pub price: f64,
    /// Who to tell.
    pub email: String,
    /// Labels.
    pub tags: Vec<String>,
    /// A note.
    pub note: Option<String>,
}

/// The typed endpoint's answer.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Receipt {
    /// The path id.
    pub id: u32,
    /// The client (from the header dependency).
    pub client: String,
    /// `limit` from the query.
    pub limit: u32,
    /// `q` from the query.
    pub q: String,
    /// The order's total.
    pub total: f64,
    /// The item.
    pub item: String,
}

/// Query of the typed endpoint.
#[derive(Debug, Deserialize)]
pub struct TypedQuery {
    /// 1..=100.
    pub limit: u32,
    /// 1..=20 characters.
    pub q: String,
}

/// The checks hasten derives from the signature, written out for the peers:
/// `id >= 1`, `1 <= limit <= 100`, `1 <= len(q) <= 20`. `Err` lists what failed.
pub fn check(id: u32, query: &TypedQuery) -> Result<(), Vec<&'static str>> {
    let mut errors = Vec::new();
    if id < 1 {
        errors.push("id");
    }
    if !(1..=100).contains(&query.limit) {
        errors.push("limit");
    }
    let n = query.q.chars().count();
    if !(1..=20).contains(&n) {
        errors.push("q");
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The answer, from validated input.
pub fn receipt(id: u32, client: String, query: TypedQuery, order: Order) -> Receipt {
    Receipt {
        id,
        client,
        limit: query.limit,
        q: query.q,
        total: order.price * f64::from(order.quantity),
        item: order.item,
    }
}

/// The simulated I/O wait and the blocking work of the `io` and `sync` endpoints.
pub const WAIT: std::time::Duration = std::time::Duration::from_millis(50);
