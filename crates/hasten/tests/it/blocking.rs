//! Plain `fn` handlers run on the bounded blocking pool, never on the reactor.
//!
//! The test runs on a single-threaded runtime: if a blocking handler ran on the reactor,
//! nothing else could be answered and the bounded waits below would fail.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use hasten::prelude::*;
use hasten::testing::TestClient;
use tokio::time::timeout;

const BOUND: Duration = Duration::from_secs(20);

#[derive(Default)]
struct Gate {
    state: Mutex<GateState>,
    opened: Condvar,
}

#[derive(Default)]
struct GateState {
    open: bool,
    running: usize,
    max_running: usize,
    finished: usize,
}

#[get("/blocking")]
fn blocking(gate: State<Gate>) -> String {
    let mut s = gate.state.lock().unwrap();
    s.running += 1;
    s.max_running = s.max_running.max(s.running);
    while !s.open {
        s = gate.opened.wait(s).unwrap();
    }
    s.running -= 1;
    s.finished += 1;
    "done".to_owned()
}

#[get("/async")]
async fn quick(gate: State<Gate>) -> String {
    let s = gate.state.lock().unwrap();
    format!("running={} finished={}", s.running, s.finished)
}

#[tokio::test(flavor = "current_thread")]
async fn hundred_blocking_calls_do_not_stop_an_async_endpoint() {
    let gate = Arc::new(Gate::default());
    let client = TestClient::new(
        App::new()
            .route(blocking)
            .route(quick)
            .state_arc(gate.clone())
            .blocking_threads(40),
    );

    let calls: Vec<_> = (0..100)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.get("/blocking").send().await })
        })
        .collect();

    // Wait until the pool is full.
    timeout(BOUND, async {
        while gate.state.lock().unwrap().running < 40 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the pool never filled up");

    // The async endpoint answers while all 40 pool threads are blocked and 60 calls wait.
    let resp = timeout(BOUND, client.get("/async").send())
        .await
        .expect("the async endpoint was blocked");
    assert_eq!(resp.text(), "running=40 finished=0");

    {
        let mut s = gate.state.lock().unwrap();
        s.open = true;
        gate.opened.notify_all();
    }
    for call in calls {
        let resp = timeout(BOUND, call).await.unwrap().unwrap();
        assert_eq!(resp.text(), "done");
    }
    let s = gate.state.lock().unwrap();
    assert_eq!(s.finished, 100);
    assert_eq!(s.max_running, 40, "the pool bound was not respected");
}

#[get("/sync-panic")]
fn sync_panic() -> String {
    panic!("sync handler exploded")
}

#[tokio::test]
async fn a_panic_in_a_plain_handler_is_a_500() {
    let client = TestClient::new(
        App::new()
            .route(sync_panic)
            .route(quick)
            .state(Gate::default()),
    );
    let resp = client.get("/sync-panic").send().await;
    assert_eq!(resp.status(), 500);
    assert_eq!(resp.text(), "Internal Server Error");
    assert_eq!(client.get("/async").send().await.status(), 200);
}
