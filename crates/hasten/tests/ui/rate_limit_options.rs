use hasten::prelude::*;

// A rate that does not parse, a key hasten does not know, and a key with no limit:
// each is a compile error at its own token.
#[get("/a", rate_limit = "100/fortnight")]
async fn a() -> &'static str {
    "a"
}

#[get("/b", rate_limit = "10/minute", rate_limit_key = "session")]
async fn b() -> &'static str {
    "b"
}

#[get("/c", rate_limit_key = "user")]
async fn c() -> &'static str {
    "c"
}

fn main() {}
