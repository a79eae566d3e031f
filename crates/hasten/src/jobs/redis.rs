//! The queue in Redis (feature `jobs-redis`): a few Lua scripts, each one atomic step
//! on Redis' clock, so that instances agree on time.
//!
//! Per kind of job, under `hasten:jobs:{name}:`:
//! - `ready`: a sorted set of job IDs by the time they may run (ms), delayed ones too;
//! - `running`: a sorted set of claimed IDs by the end of their lease (ms), renewed
//!   by the worker's heartbeat; a lease that ends (its instance died) puts the job back
//!   in `ready`;
//! - `dead`: a sorted set of dead IDs by the time they died;
//! - `job:{id}`: a hash of the job (`args`, `attempts`, `max`, `key`, `error`),
//!   deleted when it is done;
//! - `key:{key}`: the ID that holds an idempotency key, kept for 7 days after its
//!   job is done.
//!
//! Redis acknowledges a write once it is in memory; for jobs to outlive a restart of
//! Redis, run it with `appendonly yes` (and `appendfsync always` for no loss at all).

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::store::{DeadJob, Row};
use super::Enqueued;

/// How long an idempotency key outlives its job.
const KEY_TTL_SECS: u64 = 7 * 24 * 3600;

/// Queue a job: claim its key (if any), write it, make it ready at its time, and
/// wake the idle workers if it is due now. KEYS: ready, job hash, key marker (or "").
/// ARGV: id, args, max attempts, delay ms, key, wake-up channel. Returns 1, or 0 when
/// the key is taken.
const PUSH: &str = r"
if KEYS[3] ~= '' then
  if not redis.call('SET', KEYS[3], ARGV[1], 'NX') then return 0 end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[2], 'args', ARGV[2], 'attempts', 0, 'max', ARGV[3], 'key', ARGV[5])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[1])
if tonumber(ARGV[4]) == 0 then redis.call('PUBLISH', ARGV[6], '1') end
return 1
";

/// The channel on which a push of a job of that kind wakes the idle workers (polling
/// remains, for delayed jobs and retries, and if a wake-up is lost).
const WAKE: &str = "hasten:jobs:wake:";

/// Put the jobs of ended leases back, then claim up to N due jobs, each counted as an
/// attempt. KEYS: ready, running. ARGV: N, lease ms, job hash prefix. Returns a flat
/// list of id, args, attempts, max.
const CLAIM: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lost = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 100)
for _, id in ipairs(lost) do
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZADD', KEYS[1], now, id)
end
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
local out = {}
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  local h = ARGV[3] .. id
  if redis.call('EXISTS', h) == 1 then
    redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), id)
    local attempts = redis.call('HINCRBY', h, 'attempts', 1)
    local f = redis.call('HMGET', h, 'args', 'max')
    table.insert(out, id)
    table.insert(out, f[1])
    table.insert(out, attempts)
    table.insert(out, tonumber(f[2]))
  end
end
return out
";

/// Extend the leases of jobs still held. KEYS: running. ARGV: lease ms, ids…
const RENEW: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = 0
for i = 2, #ARGV do
  n = n + redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[1]), ARGV[i])
end
return n
";

/// A job done: forget it, keep its key a while. KEYS: running, job hash, key prefix.
/// ARGV: id, key TTL.
const DONE: &str = r"
redis.call('ZREM', KEYS[1], ARGV[1])
local key = redis.call('HGET', KEYS[2], 'key')
if key and key ~= '' then redis.call('EXPIRE', KEYS[3] .. key, ARGV[2]) end
redis.call('DEL', KEYS[2])
return 1
";

/// A job failed: ready again after the backoff, or dead. KEYS: running, ready or
/// dead, job hash. ARGV: id, delay ms, error.
const FAILED: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[3], 'error', ARGV[3])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
return 1
";

/// A dead job run again. KEYS: dead, ready, job hash. ARGV: id, wake-up channel.
const REVIVE: &str = r"
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[3], 'attempts', 0)
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('PUBLISH', ARGV[2], '1')
return 1
";

/// The queue's connection and scripts.
#[derive(Clone)]
pub(crate) struct RedisQueue {
    client: redis::Client,
    conn: ConnectionManager,
    push: redis::Script,
    claim: redis::Script,
    renew: redis::Script,
    done: redis::Script,
    failed: redis::Script,
    revive: redis::Script,
}

/// One claimed job.
pub(crate) struct Claimed {
    pub(crate) id: String,
    pub(crate) args: Vec<u8>,
    pub(crate) attempt: u32,
    pub(crate) max_attempts: u32,
}

/// A Redis error as the queue reports it.
pub(crate) fn error(e: redis::RedisError) -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::other(format!("Redis: {e}")))
}

fn prefix(name: &str) -> String {
    format!("hasten:jobs:{name}:")
}

impl RedisQueue {
    pub(crate) async fn connect(url: &str) -> Result<RedisQueue, String> {
        let client = redis::Client::open(url)
            .map_err(|e| format!("the job queue's URL `{url}` is not a Redis URL: {e}"))?;
        // While Redis is down, an enqueue fails within seconds rather than holding its
        // request: one reconnection try per command, short waits.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(5)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        let conn = ConnectionManager::new_with_config(client.clone(), config)
            .await
            .map_err(|e| format!("the job queue's Redis cannot be reached: {e}"))?;
        Ok(RedisQueue {
            client,
            conn,
            push: redis::Script::new(PUSH),
            claim: redis::Script::new(CLAIM),
            renew: redis::Script::new(RENEW),
            done: redis::Script::new(DONE),
            failed: redis::Script::new(FAILED),
            revive: redis::Script::new(REVIVE),
        })
    }

    pub(crate) async fn push(&self, row: &Row) -> Result<Enqueued, sqlx::Error> {
        let p = prefix(row.name);
        let marker = row
            .key
            .as_ref()
            .map_or_else(String::new, |k| format!("{p}key:{k}"));
        let delay_ms = (row.run_at - super::store::unix_now()).max(0) * 1000;
        let mut call = self.push.key(format!("{p}ready"));
        call.key(format!("{p}job:{}", row.id))
            .key(marker)
            .arg(&row.id)
            .arg(&row.args)
            .arg(row.max_attempts)
            .arg(delay_ms)
            .arg(row.key.as_deref().unwrap_or(""))
            .arg(format!("{WAKE}{}", row.name));
        let added: u8 = call
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(error)?;
        Ok(if added == 1 {
            Enqueued::Added(row.id.clone())
        } else {
            Enqueued::AlreadyQueued
        })
    }

    /// Claim up to `n` due jobs of `name` for `lease`.
    pub(crate) async fn claim(
        &self,
        name: &str,
        n: usize,
        lease: Duration,
    ) -> Result<Vec<Claimed>, redis::RedisError> {
        let p = prefix(name);
        let mut call = self.claim.key(format!("{p}ready"));
        call.key(format!("{p}running"))
            .arg(n)
            .arg(lease.as_millis() as u64)
            .arg(format!("{p}job:"));
        let flat: Vec<redis::Value> = call.invoke_async(&mut self.conn.clone()).await?;
        let mut out = Vec::with_capacity(flat.len() / 4);
        for c in flat.chunks_exact(4) {
            let text = |v: &redis::Value| -> Vec<u8> {
                match v {
                    redis::Value::BulkString(b) => b.clone(),
                    redis::Value::SimpleString(s) => s.clone().into_bytes(),
                    _ => Vec::new(),
                }
            };
            let int = |v: &redis::Value| match v {
                redis::Value::Int(i) => u32::try_from(*i).unwrap_or(u32::MAX),
                _ => 0,
            };
            out.push(Claimed {
                id: String::from_utf8_lossy(&text(&c[0])).into_owned(),
                args: text(&c[1]),
                attempt: int(&c[2]),
                max_attempts: int(&c[3]),
            });
        }
        Ok(out)
    }

    /// Extend the leases of the jobs of `name` this process runs.
    pub(crate) async fn renew(
        &self,
        name: &str,
        ids: &[String],
        lease: Duration,
    ) -> Result<(), redis::RedisError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut call = self.renew.key(format!("{}running", prefix(name)));
        call.arg(lease.as_millis() as u64);
        for id in ids {
            call.arg(id);
        }
        call.invoke_async::<u32>(&mut self.conn.clone())
            .await
            .map(drop)
    }

    pub(crate) async fn done(&self, name: &str, id: &str) -> Result<(), redis::RedisError> {
        let p = prefix(name);
        let mut call = self.done.key(format!("{p}running"));
        call.key(format!("{p}job:{id}"))
            .key(format!("{p}key:"))
            .arg(id)
            .arg(KEY_TTL_SECS);
        call.invoke_async::<u8>(&mut self.conn.clone())
            .await
            .map(drop)
    }

    /// A failed run: `Some(wait)` to run again after it, `None` for dead.
    pub(crate) async fn failed(
        &self,
        name: &str,
        id: &str,
        retry_in: Option<Duration>,
        error: &str,
    ) -> Result<(), redis::RedisError> {
        let p = prefix(name);
        let to = if retry_in.is_some() { "ready" } else { "dead" };
        let mut call = self.failed.key(format!("{p}running"));
        call.key(format!("{p}{to}"))
            .key(format!("{p}job:{id}"))
            .arg(id)
            .arg(retry_in.map_or(0, |d| d.as_millis() as u64))
            .arg(error);
        call.invoke_async::<u8>(&mut self.conn.clone())
            .await
            .map(drop)
    }

    pub(crate) async fn dead(
        &self,
        names: &[&'static str],
        limit: u32,
    ) -> Result<Vec<DeadJob>, sqlx::Error> {
        let mut conn = self.conn.clone();
        let mut found: Vec<(f64, DeadJob)> = Vec::new();
        for name in names {
            let p = prefix(name);
            let ids: Vec<(String, f64)> = redis::cmd("ZREVRANGE")
                .arg(format!("{p}dead"))
                .arg(0)
                .arg(i64::from(limit) - 1)
                .arg("WITHSCORES")
                .query_async(&mut conn)
                .await
                .map_err(error)?;
            for (id, died) in ids {
                let (args, attempts, err): (Option<Vec<u8>>, Option<u32>, Option<String>) =
                    redis::cmd("HMGET")
                        .arg(format!("{p}job:{id}"))
                        .arg("args")
                        .arg("attempts")
                        .arg("error")
                        .query_async(&mut conn)
                        .await
                        .map_err(error)?;
                found.push((
                    died,
                    DeadJob {
                        id,
                        name: (*name).to_owned(),
                        args: args
                            .and_then(|a| serde_json::from_slice(&a).ok())
                            .unwrap_or(serde_json::Value::Null),
                        attempts: attempts.unwrap_or(0),
                        error: err.unwrap_or_default(),
                    },
                ));
            }
        }
        found.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| b.1.id.cmp(&a.1.id)));
        found.truncate(limit as usize);
        Ok(found.into_iter().map(|(_, d)| d).collect())
    }

    pub(crate) async fn retry_dead(
        &self,
        names: &[&'static str],
        id: &str,
    ) -> Result<bool, sqlx::Error> {
        for name in names {
            let p = prefix(name);
            let mut call = self.revive.key(format!("{p}dead"));
            call.key(format!("{p}ready"))
                .key(format!("{p}job:{id}"))
                .arg(id)
                .arg(format!("{WAKE}{name}"));
            let revived: u8 = call
                .invoke_async(&mut self.conn.clone())
                .await
                .map_err(error)?;
            if revived == 1 {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Wake the worker of each kind of job when a job of that kind is pushed, until
    /// `stopped`; the subscription is made again (after a pause) when it drops.
    pub(crate) async fn wake_ups(
        &self,
        workers: std::collections::HashMap<&'static str, std::sync::Arc<tokio::sync::Notify>>,
        mut stopped: tokio::sync::watch::Receiver<bool>,
    ) {
        use futures_util::StreamExt as _;
        let mut pause = Duration::from_millis(100);
        while !*stopped.borrow() {
            let subscribed = async {
                let mut pubsub = self.client.get_async_pubsub().await?;
                pubsub.psubscribe(format!("{WAKE}*")).await?;
                Ok::<_, redis::RedisError>(pubsub)
            };
            match subscribed.await {
                Ok(pubsub) => {
                    pause = Duration::from_millis(100);
                    // Jobs pushed while not subscribed are found by the polls.
                    let mut messages = pubsub.into_on_message();
                    loop {
                        tokio::select! {
                            msg = messages.next() => match msg {
                                Some(msg) => {
                                    let name = msg.get_channel_name().strip_prefix(WAKE).unwrap_or("");
                                    if let Some(wake) = workers.get(name) {
                                        wake.notify_one();
                                    }
                                }
                                None => break,
                            },
                            _ = stopped.changed() => return,
                        }
                    }
                }
                Err(e) => {
                    tracing::debug!(target: "hasten::jobs", error = %e, "the job wake-ups' subscription failed; polling meanwhile");
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = stopped.changed() => return,
            }
            pause = (pause * 2).min(Duration::from_secs(5));
        }
    }

    pub(crate) async fn pending(&self, name: &str) -> Result<u64, sqlx::Error> {
        let p = prefix(name);
        let (ready, running): (u64, u64) = redis::pipe()
            .cmd("ZCARD")
            .arg(format!("{p}ready"))
            .cmd("ZCARD")
            .arg(format!("{p}running"))
            .query_async(&mut self.conn.clone())
            .await
            .map_err(error)?;
        Ok(ready + running)
    }
}
