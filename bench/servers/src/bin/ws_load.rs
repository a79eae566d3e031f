//! WebSocket echo load: `ws_load URL CONNECTIONS SECONDS [SIZE]`.
//!
//! Opens CONNECTIONS connections; each sends a text message of SIZE bytes (default 32)
//! and waits for its echo, over and over, for SECONDS. Prints one JSON line: messages
//! echoed, rate, p50/p99 round trip in ms, errors. A failed connection or a wrong or
//! late echo (5 s) is an error, never a hang.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

const PATIENCE: Duration = Duration::from_secs(5);

struct Tally {
    messages: u64,
    errors: u64,
    /// Round trips in microseconds.
    rtts: Vec<u32>,
}

async fn client(url: String, until: Instant, size: usize, id: usize) -> Tally {
    let mut tally = Tally {
        messages: 0,
        errors: 0,
        rtts: Vec::new(),
    };
    let Ok(Ok((mut socket, _))) =
        tokio::time::timeout(PATIENCE, tokio_tungstenite::connect_async(url.as_str())).await
    else {
        tally.errors += 1;
        return tally;
    };
    let payload: String = format!("{id:08}")
        .chars()
        .chain(std::iter::repeat('x'))
        .take(size.max(8))
        .collect();
    while Instant::now() < until {
        let sent = Instant::now();
        if socket.send(Message::text(payload.clone())).await.is_err() {
            tally.errors += 1;
            return tally;
        }
        match tokio::time::timeout(PATIENCE, socket.next()).await {
            Ok(Some(Ok(Message::Text(t)))) if t.as_str() == payload => {
                tally.messages += 1;
                let us = sent.elapsed().as_micros();
                tally.rtts.push(u32::try_from(us).unwrap_or(u32::MAX));
            }
            _ => {
                tally.errors += 1;
                return tally;
            }
        }
    }
    let _ = tokio::time::timeout(PATIENCE, socket.close(None)).await;
    tally
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        eprintln!("usage: ws_load URL CONNECTIONS SECONDS [SIZE]");
        std::process::exit(2);
    }
    let url = args[0].clone();
    let connections: usize = args[1].parse().expect("CONNECTIONS is a number");
    let seconds: f64 = args[2].parse().expect("SECONDS is a number");
    let size: usize = args
        .get(3)
        .map_or(32, |s| s.parse().expect("SIZE is a number"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let start = Instant::now();
    let until = start + Duration::from_secs_f64(seconds);
    let tallies = runtime.block_on(async {
        let tasks: Vec<_> = (0..connections)
            .map(|id| tokio::spawn(client(url.clone(), until, size, id)))
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap_or(Tally {
                messages: 0,
                errors: 1,
                rtts: Vec::new(),
            }));
        }
        out
    });
    let elapsed = start.elapsed().as_secs_f64();
    let messages: u64 = tallies.iter().map(|t| t.messages).sum();
    let errors: u64 = tallies.iter().map(|t| t.errors).sum();
    let mut rtts: Vec<u32> = tallies.into_iter().flat_map(|t| t.rtts).collect();
    rtts.sort_unstable();
    println!(
        "{{\"messages\": {messages}, \"seconds\": {elapsed:.3}, \"rate\": {:.1}, \"p50_ms\": {:.3}, \"p99_ms\": {:.3}, \"errors\": {errors}}}",
        messages as f64 / elapsed,
        percentile(&rtts, 0.5),
        percentile(&rtts, 0.99)
    );
}
