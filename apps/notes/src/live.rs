//! Live updates: every change to a note is published in one room; each open page
//! follows it over a WebSocket. The activity log is written by a durable job.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hasten::channels::{Channels, Delivery};
use hasten::jobs::JobError;
use hasten::prelude::*;
use hasten::security::SecurityScopes;
use hasten::ws::{Message, WebSocket};
use sqlx::Row;

use crate::auth::{user_of, Keys, Message as Detail};
use crate::db::{internal, time, Db};
use crate::notes::Note;

/// The room every change is published in.
pub const ROOM: &str = "notes";

/// What a live page is told.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Event {
    /// A note was written.
    #[serde(rename = "note.created")]
    Created {
        /// The note.
        note: Note,
    },
    /// A note changed.
    #[serde(rename = "note.updated")]
    Updated {
        /// The note, as it is now.
        note: Note,
    },
    /// A note was deleted.
    #[serde(rename = "note.deleted")]
    Deleted {
        /// Its ID.
        id: i64,
    },
    /// An entry joined the activity log.
    #[serde(rename = "activity")]
    Activity {
        /// The entry.
        entry: ActivityEntry,
    },
    /// Updates were lost (the page fell behind, or the broker was away): reload.
    #[serde(rename = "resync")]
    Resync,
}

/// An entry to write in the activity log: the job's arguments.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Activity {
    /// What makes it unique: queueing it twice writes it once.
    pub key: String,
    /// Who did it.
    pub username: String,
    /// What they did.
    pub summary: String,
    /// When.
    pub at: String,
}

impl Activity {
    /// An entry for what `username` did at `at` (a stored time).
    pub fn new(key: String, username: &str, summary: String, at: &str) -> Activity {
        Activity {
            key,
            username: username.to_owned(),
            summary,
            at: at.to_owned(),
        }
    }
}

/// An entry of the activity log.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ActivityEntry {
    /// Who did it.
    pub username: String,
    /// What they did.
    pub summary: String,
    /// When.
    pub at: jiff::Timestamp,
}

/// Write `activity` in the log (once, however often it runs) and tell the live pages.
#[job(max_attempts = 5, timeout = "30s", backoff = "1s")]
pub async fn record_activity(
    activity: Activity,
    db: State<Db>,
    channels: State<Channels>,
) -> Result<(), JobError> {
    let written = sqlx::query(
        "INSERT INTO activity (event_key, username, summary, at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (event_key) DO NOTHING",
    )
    .bind(&activity.key)
    .bind(&activity.username)
    .bind(&activity.summary)
    .bind(&activity.at)
    .execute(&db.pool)
    .await?;
    if written.rows_affected() == 1 {
        let entry = ActivityEntry {
            username: activity.username,
            summary: activity.summary,
            at: time(&activity.at),
        };
        if let Err(e) = channels.publish(ROOM, &Event::Activity { entry }).await {
            tracing::warn!(error = %e, "a live update was not sent");
        }
    }
    Ok(())
}

/// The activity log, newest first.
#[get("/activity/", tags = ["notes"], responses = [(401, "Not signed in", Detail)])]
pub async fn list_activity(
    #[security(scopes = ["notes:read"])] _user: Depends<crate::auth::current_user>,
    #[query(default = 20, ge = 1, le = 100)] limit: i64,
    db: State<Db>,
) -> Result<Json<Vec<ActivityEntry>>, HttpError> {
    let rows = sqlx::query("SELECT username, summary, at FROM activity ORDER BY id DESC LIMIT $1")
        .bind(limit)
        .fetch_all(&db.pool)
        .await
        .map_err(internal)?;
    rows.iter()
        .map(|row| {
            Ok(ActivityEntry {
                username: row.try_get("username")?,
                summary: row.try_get("summary")?,
                at: time(&row.try_get::<String, _>("at")?),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map(Json)
        .map_err(internal)
}

/// Follow every change live. Browsers cannot set headers on a WebSocket, so the access
/// token comes as the `token` query parameter; a missing, expired or insufficient
/// token is refused (403) before the connection opens, and the connection is closed
/// (1008, `Token expired`) when the token expires.
#[websocket("/ws")]
pub async fn follow(
    mut socket: WebSocket,
    #[query(min_length = 1)] token: String,
    keys: State<Keys>,
    db: State<Db>,
    channels: State<Channels>,
) {
    let scopes = SecurityScopes {
        scopes: vec!["notes:read".to_owned()],
    };
    let Ok((_, expires)) = user_of(&token, &scopes, &keys, &db).await else {
        return;
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let expiry = tokio::time::sleep(Duration::from_secs(expires.saturating_sub(now)));
    tokio::pin!(expiry);
    let mut heard = channels.subscribe(ROOM);
    if socket.accept().await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            () = &mut expiry => {
                let _ = socket.close(1008, "Token expired").await;
                break;
            }
            incoming = socket.receive() => match incoming {
                Ok(Message::Text(_) | Message::Binary(_)) => {}
                Err(_) => break,
            },
            delivery = heard.recv() => {
                let sent = match delivery {
                    Some(Delivery::Message(m)) => socket.send_text(m.data().to_owned()).await,
                    Some(Delivery::Missed(_) | Delivery::Interrupted) => {
                        socket.send_json(&Event::Resync).await
                    }
                    None => break,
                };
                if sent.is_err() {
                    break;
                }
            }
        }
    }
}
