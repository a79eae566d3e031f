//! The PostgreSQL broker: `pg_notify` on one channel, numbered per room by a row that
//! the publishing statement increments (its lock orders a room's notifications), one
//! `LISTEN` connection per process, and presence in a table with expiry times.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};

use super::{reconnect_delay, Broker, ChannelError, Channels, Sink};
use crate::future::BoxFuture;

const CHANNEL: &str = "hasten_channels";

/// What `pg_notify` carries at most, with room for the envelope.
const MAX_PAYLOAD: usize = 7_000;

const SETUP: &str = "CREATE TABLE IF NOT EXISTS hasten_channel_rooms (
    room TEXT PRIMARY KEY,
    last BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS hasten_channel_presence (
    room TEXT NOT NULL,
    member TEXT NOT NULL,
    instance TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (room, member, instance)
);";

const PUBLISH: &str = "WITH n AS (
    INSERT INTO hasten_channel_rooms (room, last) VALUES ($1, 1)
    ON CONFLICT (room) DO UPDATE SET last = hasten_channel_rooms.last + 1
    RETURNING last
)
SELECT last, pg_notify('hasten_channels', json_build_object('r', $1::text, 'i', last, 'd', $2::text)::text)::text
FROM n";

struct PostgresBroker {
    pool: PgPool,
}

fn unavailable(e: sqlx::Error) -> ChannelError {
    ChannelError::Unavailable(e.to_string())
}

/// What a notification carries.
#[derive(serde::Deserialize)]
struct Notice {
    r: String,
    i: u64,
    d: String,
}

impl Channels {
    /// Channels through PostgreSQL `LISTEN/NOTIFY` (cargo feature `channels-postgres`),
    /// at a `postgres://` URL: every instance on the same database shares the rooms.
    /// Creates its two tables if missing. Fails if PostgreSQL cannot be reached now;
    /// later outages are survived. A message may be at most 7,000 bytes of JSON.
    pub async fn postgres(url: &str) -> Result<Channels, ChannelError> {
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await
            .map_err(unavailable)?;
        let mut tx = pool.begin().await.map_err(unavailable)?;
        sqlx::query("SELECT pg_advisory_xact_lock(7347147260417312)")
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        sqlx::raw_sql(SETUP)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)?;
        Ok(Channels::with_broker(Arc::new(PostgresBroker { pool })))
    }
}

impl Broker for PostgresBroker {
    fn publish(&self, room: &str, data: &str) -> BoxFuture<Result<u64, ChannelError>> {
        let pool = self.pool.clone();
        let (room, data) = (room.to_owned(), data.to_owned());
        Box::pin(async move {
            let size = room.len() + data.len();
            if size > MAX_PAYLOAD {
                return Err(ChannelError::TooLarge(size));
            }
            let (id, _): (i64, String) = sqlx::query_as(PUBLISH)
                .bind(&room)
                .bind(&data)
                .fetch_one(&pool)
                .await
                .map_err(unavailable)?;
            Ok(u64::try_from(id).unwrap_or(0))
        })
    }

    fn run(self: Arc<Self>, sink: Sink) -> BoxFuture<()> {
        Box::pin(async move {
            let mut failures = 0;
            while sink.is_open() {
                let listening = async {
                    let mut listener = PgListener::connect_with(&self.pool).await?;
                    listener.listen(CHANNEL).await?;
                    Ok::<_, sqlx::Error>(listener)
                };
                match listening.await {
                    Ok(mut listener) => {
                        if failures > 0 {
                            tracing::info!(target: "hasten::channels", "PostgreSQL is back");
                        }
                        failures = 0;
                        loop {
                            match listener.try_recv().await {
                                Ok(Some(notification)) => {
                                    let Ok(notice) =
                                        serde_json::from_str::<Notice>(notification.payload())
                                    else {
                                        continue;
                                    };
                                    if !sink.deliver(&notice.r, notice.i, &notice.d) {
                                        return;
                                    }
                                }
                                Ok(None) => {
                                    tracing::warn!(target: "hasten::channels", "the connection to PostgreSQL dropped; reconnecting");
                                    sink.interrupted();
                                }
                                Err(e) => {
                                    tracing::warn!(target: "hasten::channels", error = %e, "PostgreSQL is unreachable; retrying");
                                    sink.interrupted();
                                    break;
                                }
                            }
                        }
                    }
                    Err(e) => {
                        if failures == 0 {
                            tracing::warn!(target: "hasten::channels", error = %e, "PostgreSQL is unreachable; retrying");
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
        let pool = self.pool.clone();
        let (room, member, instance) = (room.to_owned(), member.to_owned(), instance.to_owned());
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO hasten_channel_presence (room, member, instance, expires_at)
                 VALUES ($1, $2, $3, now() + make_interval(secs => $4))
                 ON CONFLICT (room, member, instance) DO UPDATE SET expires_at = EXCLUDED.expires_at",
            )
            .bind(&room)
            .bind(&member)
            .bind(&instance)
            .bind(ttl.as_secs_f64())
            .execute(&pool)
            .await
            .map_err(unavailable)?;
            Ok(())
        })
    }

    fn mark_absent(
        &self,
        room: &str,
        member: &str,
        instance: &str,
    ) -> BoxFuture<Result<(), ChannelError>> {
        let pool = self.pool.clone();
        let (room, member, instance) = (room.to_owned(), member.to_owned(), instance.to_owned());
        Box::pin(async move {
            sqlx::query(
                "DELETE FROM hasten_channel_presence WHERE room = $1 AND member = $2 AND instance = $3",
            )
            .bind(&room)
            .bind(&member)
            .bind(&instance)
            .execute(&pool)
            .await
            .map_err(unavailable)?;
            Ok(())
        })
    }

    fn present(&self, room: &str) -> BoxFuture<Result<Vec<String>, ChannelError>> {
        let pool = self.pool.clone();
        let room = room.to_owned();
        Box::pin(async move {
            sqlx::query_scalar(
                "SELECT DISTINCT member FROM hasten_channel_presence
                 WHERE room = $1 AND expires_at > now() ORDER BY member",
            )
            .bind(&room)
            .fetch_all(&pool)
            .await
            .map_err(unavailable)
        })
    }
}
