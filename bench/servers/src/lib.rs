//! What every benchmark server shares: the address, the typed endpoint's input and
//! its checks (for the frameworks that do not validate by themselves), and the
//! endpoints of hasten, axum and raw hyper as services — the servers in `src/bin` serve
//! them over TCP, `src/bin/instructions.rs` calls them in-process under callgrind.

use serde::{Deserialize, Serialize};

/// Where a server listens: `BENCH_ADDR`, default `127.0.0.1:8000`.
pub fn addr() -> String {
    std::env::var("BENCH_ADDR").unwrap_or_else(|_| "127.0.0.1:8000".to_owned())
}

/// The plaintext body.
pub const HELLO: &str = "Hello, World!";

/// The JSON body.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Message {
    /// Always "Hello, World!".
    pub message: &'static str,
}

/// The typed endpoint's JSON body: six fields, each with constraints — declared here
/// for hasten (schemars attributes; FastAPI's `Field(...)` in `fastapi_app.py`) and
/// checked by hand for the peers in [`check`].
#[derive(Debug, Deserialize, Serialize, schemars::JsonSchema)]
pub struct Order {
    /// What is ordered: 1 to 20 characters.
    #[schemars(length(min = 1, max = 20))]
    pub item: String,
    /// How many: 1 to 1000.
    #[schemars(range(min = 1, max = 1000))]
    pub quantity: u32,
    /// Unit price: greater than 0.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub price: f64,
    /// Who to tell: an address matching [`EMAIL_PATTERN`].
    #[schemars(regex(pattern = r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$"))]
    pub email: String,
    /// Labels: at most 5.
    #[schemars(length(max = 5))]
    pub tags: Vec<String>,
    /// A note: at most 200 characters.
    #[schemars(length(max = 200))]
    pub note: Option<String>,
}

/// The pattern of [`Order::email`] (the same string as its schemars attribute).
pub const EMAIL_PATTERN: &str = r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$";

fn email_regex() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| regex::Regex::new(EMAIL_PATTERN).expect("a valid pattern"))
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

/// The checks hasten derives from the signature and from [`Order`]'s schema, written
/// out for the peers: `id >= 1`, `1 <= limit <= 100`, `1 <= len(q) <= 20`, then the
/// body's: `1 <= len(item) <= 20`, `1 <= quantity <= 1000`, `price > 0`, `email`
/// matches [`EMAIL_PATTERN`], at most 5 `tags`, `len(note) <= 200`. Every check runs;
/// `Err` lists what failed.
pub fn check(id: u32, query: &TypedQuery, order: &Order) -> Result<(), Vec<&'static str>> {
    let mut errors = Vec::new();
    if id < 1 {
        errors.push("id");
    }
    if !(1..=100).contains(&query.limit) {
        errors.push("limit");
    }
    if !(1..=20).contains(&query.q.chars().count()) {
        errors.push("q");
    }
    if !(1..=20).contains(&order.item.chars().count()) {
        errors.push("item");
    }
    if !(1..=1000).contains(&order.quantity) {
        errors.push("quantity");
    }
    if order.price.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
        errors.push("price");
    }
    if !email_regex().is_match(&order.email) {
        errors.push("email");
    }
    if order.tags.len() > 5 {
        errors.push("tags");
    }
    if order.note.as_ref().is_some_and(|n| n.chars().count() > 200) {
        errors.push("note");
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

pub mod axum_app;
pub mod hasten_app;
pub mod hyper_app;
