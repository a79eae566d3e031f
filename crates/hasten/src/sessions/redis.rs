//! Sessions in Redis: one key per session, expiring with it.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::{Record, Sessions, Store, StoreError};
use crate::operation::BoxFuture;

const PREFIX: &str = "hasten:session:";

struct RedisStore {
    conn: ConnectionManager,
}

fn failed(e: redis::RedisError) -> StoreError {
    StoreError(format!("Redis: {e}"))
}

impl Sessions {
    /// Sessions kept in Redis (cargo feature `sessions-redis`), at a `redis://` URL:
    /// every instance pointed at the same Redis shares them, and they outlive restarts
    /// of the app. Fails if Redis cannot be reached now; later, a request whose session
    /// cannot be read is answered 503, and the connection is made again.
    pub async fn redis(url: &str) -> Result<Sessions, crate::body::BoxError> {
        let client =
            redis::Client::open(url).map_err(|e| format!("`{url}` is not a Redis URL: {e}"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|e| format!("Redis at `{url}` cannot be reached: {e}"))?;
        Ok(Sessions::with_store(Arc::new(RedisStore { conn })))
    }
}

impl Store for RedisStore {
    fn load(&self, id: &str) -> BoxFuture<Result<Option<Record>, StoreError>> {
        let mut conn = self.conn.clone();
        let key = format!("{PREFIX}{id}");
        Box::pin(async move {
            let found: Option<Vec<u8>> = redis::cmd("GET")
                .arg(key)
                .query_async(&mut conn)
                .await
                .map_err(failed)?;
            // A record that no longer reads is no session.
            Ok(found.and_then(|bytes| serde_json::from_slice(&bytes).ok()))
        })
    }

    fn save(&self, id: &str, record: &Record, ttl: Duration) -> BoxFuture<Result<(), StoreError>> {
        let mut conn = self.conn.clone();
        let key = format!("{PREFIX}{id}");
        let bytes = serde_json::to_vec(record);
        Box::pin(async move {
            let bytes = bytes.map_err(|e| StoreError(e.to_string()))?;
            redis::cmd("SET")
                .arg(key)
                .arg(bytes)
                .arg("PX")
                .arg(ttl.as_millis().max(1) as u64)
                .query_async::<()>(&mut conn)
                .await
                .map_err(failed)
        })
    }

    fn delete(&self, id: &str) -> BoxFuture<Result<(), StoreError>> {
        let mut conn = self.conn.clone();
        let key = format!("{PREFIX}{id}");
        Box::pin(async move {
            redis::cmd("DEL")
                .arg(key)
                .query_async::<()>(&mut conn)
                .await
                .map_err(failed)
        })
    }
}
