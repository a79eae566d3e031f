//! The Redis broker: `PUBLISH` on one channel per room, numbered by a per-room counter
//! in the same Lua script (so numbers arrive in order), one `PSUBSCRIBE` connection per
//! process, and presence in a sorted set per room scored by expiry.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt as _;
use redis::aio::ConnectionManager;

use super::{reconnect_delay, Broker, ChannelError, Channels, Sink};
use crate::future::BoxFuture;

const MESSAGES: &str = "hasten:ch:msg:";
const NUMBERS: &str = "hasten:ch:seq:";
const PRESENCE: &str = "hasten:ch:presence:";

/// Number the message and publish it, atomically.
const PUBLISH: &str = "local id = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', KEYS[2], id .. ' ' .. ARGV[1])
return id";

struct RedisBroker {
    client: redis::Client,
    conn: ConnectionManager,
    publish: redis::Script,
}

fn unavailable(e: redis::RedisError) -> ChannelError {
    ChannelError::Unavailable(e.to_string())
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_millis() as f64)
}

impl Channels {
    /// Channels through Redis pub/sub (cargo feature `channels-redis`), at a
    /// `redis://` URL: every instance pointed at the same Redis shares the rooms. Fails
    /// if Redis cannot be reached now; later outages are survived.
    pub async fn redis(url: &str) -> Result<Channels, ChannelError> {
        let client = redis::Client::open(url)
            .map_err(|e| ChannelError::Unavailable(format!("`{url}` is not a Redis URL: {e}")))?;
        let conn = ConnectionManager::new(client.clone())
            .await
            .map_err(unavailable)?;
        Ok(Channels::with_broker(Arc::new(RedisBroker {
            client,
            conn,
            publish: redis::Script::new(PUBLISH),
        })))
    }
}

impl Broker for RedisBroker {
    fn publish(&self, room: &str, data: &str) -> BoxFuture<Result<u64, ChannelError>> {
        let mut conn = self.conn.clone();
        let script = self.publish.clone();
        let (numbers, messages) = (format!("{NUMBERS}{room}"), format!("{MESSAGES}{room}"));
        let data = data.to_owned();
        Box::pin(async move {
            script
                .key(numbers)
                .key(messages)
                .arg(data)
                .invoke_async(&mut conn)
                .await
                .map_err(unavailable)
        })
    }

    fn run(self: Arc<Self>, sink: Sink) -> BoxFuture<()> {
        Box::pin(async move {
            let mut failures = 0;
            let mut was_connected = false;
            while sink.is_open() {
                match self.client.get_async_pubsub().await {
                    Ok(mut pubsub) => match pubsub.psubscribe(format!("{MESSAGES}*")).await {
                        Ok(()) => {
                            if was_connected {
                                tracing::info!(target: "hasten::channels", "Redis is back");
                            }
                            was_connected = true;
                            failures = 0;
                            let mut messages = pubsub.into_on_message();
                            while let Some(msg) = messages.next().await {
                                let Some(room) = msg.get_channel_name().strip_prefix(MESSAGES)
                                else {
                                    continue;
                                };
                                let Ok(payload) = msg.get_payload::<String>() else {
                                    continue;
                                };
                                let Some((id, data)) = payload.split_once(' ') else {
                                    continue;
                                };
                                let Ok(id) = id.parse::<u64>() else { continue };
                                if !sink.deliver(room, id, data) {
                                    return;
                                }
                            }
                            tracing::warn!(target: "hasten::channels", "the connection to Redis dropped; reconnecting");
                            sink.interrupted();
                        }
                        Err(e) => {
                            tracing::warn!(target: "hasten::channels", error = %e, "Redis refused the subscription")
                        }
                    },
                    Err(e) => {
                        if failures == 0 {
                            tracing::warn!(target: "hasten::channels", error = %e, "Redis is unreachable; retrying");
                        }
                    }
                }
                tokio::time::sleep(reconnect_delay(failures)).await;
                failures += 1;
            }
        })
    }

    fn mark_present(
        &self,
        room: &str,
        member: &str,
        instance: &str,
        ttl: Duration,
    ) -> BoxFuture<Result<(), ChannelError>> {
        let mut conn = self.conn.clone();
        let key = format!("{PRESENCE}{room}");
        let entry = format!("{member}\u{1f}{instance}");
        let expiry = now_ms() + ttl.as_millis() as f64;
        Box::pin(async move {
            redis::pipe()
                .zadd(&key, entry, expiry)
                .ignore()
                .expire(&key, (ttl.as_secs() * 2).max(1) as i64)
                .ignore()
                .query_async::<()>(&mut conn)
                .await
                .map_err(unavailable)
        })
    }

    fn mark_absent(
        &self,
        room: &str,
        member: &str,
        instance: &str,
    ) -> BoxFuture<Result<(), ChannelError>> {
        let mut conn = self.conn.clone();
        let key = format!("{PRESENCE}{room}");
        let entry = format!("{member}\u{1f}{instance}");
        Box::pin(async move {
            redis::cmd("ZREM")
                .arg(key)
                .arg(entry)
                .query_async::<()>(&mut conn)
                .await
                .map_err(unavailable)
        })
    }

    fn present(&self, room: &str) -> BoxFuture<Result<Vec<String>, ChannelError>> {
        let mut conn = self.conn.clone();
        let key = format!("{PRESENCE}{room}");
        Box::pin(async move {
            let entries: Vec<String> = redis::cmd("ZRANGEBYSCORE")
                .arg(&key)
                .arg(now_ms())
                .arg("+inf")
                .query_async(&mut conn)
                .await
                .map_err(unavailable)?;
            let mut members: Vec<String> = entries
                .into_iter()
                .map(|e| e.split('\u{1f}').next().unwrap_or_default().to_owned())
                .collect();
            members.sort();
            members.dedup();
            Ok(members)
        })
    }
}
