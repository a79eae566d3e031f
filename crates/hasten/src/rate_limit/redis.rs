//! Rate-limit counts in Redis, shared by every instance: the same cell-rate algorithm
//! as in process, run as one Lua script on Redis' clock.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::{Rate, RateLimits, Store, Verdict};

/// The key prefix of every count.
const PREFIX: &str = "hasten:rl:";

/// GCRA on Redis' clock, in microseconds. KEYS[1]: the count; ARGV[1]: the period
/// of one request; ARGV[2]: the burst. Returns {1, remaining, µs until whole} or
/// {0, 0, µs until a request is let through}.
const CHECK: &str = r"
local t = tonumber(ARGV[1])
local tau = t * tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local ahead = tat + t - now
if ahead > tau then
  return {0, 0, ahead - tau}
end
redis.call('SET', KEYS[1], tat + t, 'PX', math.ceil(ahead / 1000))
return {1, math.floor((tau - ahead) / t), ahead}
";

pub(super) struct RedisStore {
    conn: ConnectionManager,
    script: redis::Script,
}

/// How long a check may wait on Redis before the request goes through uncounted.
const PATIENCE: Duration = Duration::from_millis(250);

impl RateLimits {
    /// Counts kept in Redis (cargo feature `rate-limit-redis`), at a `redis://` URL:
    /// every instance pointed at the same Redis shares them. Fails if Redis cannot be
    /// reached now; later, a check that Redis does not answer within 250 ms lets the
    /// request through (and logs it), and the connection is made again in the
    /// background.
    pub async fn redis(url: &str) -> Result<RateLimits, crate::body::BoxError> {
        let client =
            redis::Client::open(url).map_err(|e| format!("`{url}` is not a Redis URL: {e}"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(PATIENCE))
            .set_response_timeout(Some(PATIENCE))
            .set_number_of_retries(1);
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|e| format!("Redis at `{url}` cannot be reached: {e}"))?;
        Ok(RateLimits {
            store: Store::Redis(std::sync::Arc::new(RedisStore {
                conn,
                script: redis::Script::new(CHECK),
            })),
            ..RateLimits::in_process()
        })
    }
}

impl RedisStore {
    pub(super) async fn check(&self, namespace: &str, key: u64, rate: Rate) -> Option<Verdict> {
        let mut conn = self.conn.clone();
        let period = rate.period().as_micros().max(1) as u64;
        let mut invocation = self.script.key(format!("{PREFIX}{namespace}:{key:016x}"));
        invocation.arg(period).arg(rate.count);
        let call = invocation.invoke_async::<(u8, u32, u64)>(&mut conn);
        match tokio::time::timeout(PATIENCE, call).await {
            Ok(Ok((1, remaining, us))) => Some(Verdict::Allowed {
                remaining,
                reset: Duration::from_micros(us),
            }),
            Ok(Ok((_, _, us))) => Some(Verdict::Denied {
                retry_after: Duration::from_micros(us),
            }),
            Ok(Err(e)) => {
                super::warn_unavailable(&e);
                None
            }
            Err(_) => {
                super::warn_unavailable(&"no answer within 250 ms");
                None
            }
        }
    }
}
