//! Durable jobs under load: enqueue no-op jobs into a hasten queue whose workers run in
//! this process, and log when each was sent and done.
//!
//! usage: jobs BACKEND URL MODE COUNT RATE POLL_MS LOG
//!   BACKEND  sqlite | postgres | redis;  URL  the queue's
//!   MODE     burst (COUNT at once, from 8 enqueuers) | paced (COUNT at RATE a second)
//!   LOG      where each job appends `sent_us done_us`
//! Prints one JSON line: enqueue time, and seconds from the first enqueue to the last
//! job done. The latencies are read from LOG by bench/scale/run.py, as for Celery and
//! arq, whose jobs append the same lines.

use std::io::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hasten::jobs::{Jobs, Queue};
use hasten::prelude::*;

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// Where the jobs write, and how many have.
struct Log {
    file: Mutex<std::fs::File>,
    done: AtomicUsize,
}

/// A no-op job: it notes when it was sent and when it ran.
#[job(max_attempts = 3)]
async fn noop(sent_us: u64, log: State<Log>) {
    let line = format!("{sent_us} {}\n", now_us());
    let _ = log.file.lock().unwrap().write_all(line.as_bytes());
    log.done.fetch_add(1, Ordering::Relaxed);
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, backend, url, mode, count, rate, poll_ms, log_path] = &args[..] else {
        eprintln!("usage: jobs BACKEND URL MODE COUNT RATE POLL_MS LOG");
        std::process::exit(2);
    };
    let count: usize = count.parse().expect("COUNT");
    let rate: f64 = rate.parse().expect("RATE");
    let poll = Duration::from_millis(poll_ms.parse().expect("POLL_MS"));
    let queue = match backend.as_str() {
        "sqlite" => Queue::sqlite(url.clone()),
        "postgres" => Queue::postgres(url.clone()),
        "redis" => Queue::redis(url.clone()),
        other => panic!("unknown backend {other}"),
    };
    let log = Arc::new(Log {
        file: Mutex::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log_path)
                .expect("the log"),
        ),
        done: AtomicUsize::new(0),
    });
    let app = App::new()
        .state_arc(log.clone())
        .jobs(queue.poll_interval(poll).concurrency(8))
        .job(noop);
    let service = app.start().await.expect("the app starts");
    let jobs: Jobs = service.jobs().expect("a queue");

    let started = Instant::now();
    match mode.as_str() {
        "burst" => {
            let enqueuers = 8;
            let mut tasks = Vec::new();
            for e in 0..enqueuers {
                let jobs = jobs.clone();
                let n = count / enqueuers + usize::from(e < count % enqueuers);
                tasks.push(tokio::spawn(async move {
                    for _ in 0..n {
                        jobs.enqueue(noop, now_us()).await.expect("enqueued");
                    }
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
        }
        "paced" => {
            let every = Duration::from_secs_f64(1.0 / rate);
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            for _ in 0..count {
                tick.tick().await;
                jobs.enqueue(noop, now_us()).await.expect("enqueued");
            }
        }
        other => panic!("unknown mode {other}"),
    }
    let enqueued = started.elapsed();
    let deadline = Instant::now() + Duration::from_secs(300);
    while log.done.load(Ordering::Relaxed) < count {
        assert!(Instant::now() < deadline, "the jobs did not all run");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let all_done = started.elapsed();
    println!(
        "{}",
        serde_json::json!({
            "enqueue_s": enqueued.as_secs_f64(),
            "total_s": all_done.as_secs_f64(),
        })
    );
    service.shutdown().await;
}
