//! Notes: everyone signed in reads them all and sees changes live; only the author
//! changes or deletes one.

use hasten::channels::Channels;
use hasten::jobs::Jobs;
use hasten::prelude::*;
use sqlx::Row;

use crate::auth::{current_user, Message};
use crate::db::{internal, now, time, Db};
use crate::live::{record_activity, Activity, Event, ROOM};

/// A new note.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct NoteCreate {
    /// One line, up to 200 characters.
    #[schemars(length(min = 1, max = 200))]
    pub title: String,
    /// Free text.
    #[serde(default)]
    #[schemars(length(max = 10000))]
    pub body: String,
}

/// What to change in a note; what is left out stays as it is.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct NoteUpdate {
    /// A new title.
    #[schemars(length(min = 1, max = 200))]
    pub title: Option<String>,
    /// A new text.
    #[schemars(length(max = 10000))]
    pub body: Option<String>,
}

/// A note, as every reader sees it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Note {
    /// The note's ID.
    pub id: i64,
    /// Its title.
    pub title: String,
    /// Its text.
    pub body: String,
    /// Who wrote it (their user name).
    pub owner: String,
    /// When it was written.
    pub created_at: jiff::Timestamp,
    /// When it last changed.
    pub updated_at: jiff::Timestamp,
}

/// One page of notes, newest first.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct NotesPage {
    /// The notes on this page.
    pub data: Vec<Note>,
    /// How many notes match, on all pages.
    pub count: i64,
}

/// The columns [`note_from`] reads and their tables, for `concat!`: sqlx takes only
/// literal SQL.
macro_rules! note_columns {
    () => {
        "n.id, n.title, n.body, u.username, n.created_at, n.updated_at \
         FROM notes n JOIN users u ON u.id = n.owner_id"
    };
}

fn note_from(row: &sqlx::any::AnyRow) -> Result<Note, sqlx::Error> {
    Ok(Note {
        id: row.try_get("id")?,
        title: row.try_get("title")?,
        body: row.try_get("body")?,
        owner: row.try_get("username")?,
        created_at: time(&row.try_get::<String, _>("created_at")?),
        updated_at: time(&row.try_get::<String, _>("updated_at")?),
    })
}

async fn find(db: &Db, id: i64) -> Result<Note, HttpError> {
    let row = sqlx::query(concat!("SELECT ", note_columns!(), " WHERE n.id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await
        .map_err(internal)?
        .ok_or_else(|| HttpError::new(StatusCode::NOT_FOUND, "Note not found"))?;
    note_from(&row).map_err(internal)
}

/// Tell the readers, then queue the activity entry: the event is best effort (a reader
/// that misses it reloads), the entry durable once queued. The change is already
/// committed, so a queue that cannot take the entry is logged rather than answered
/// with an error: a client that retried would write the note twice.
async fn announce(channels: &Channels, jobs: &Jobs, event: Event, activity: Activity) {
    if let Err(e) = channels.publish(ROOM, &event).await {
        tracing::warn!(error = %e, "a live update was not sent");
    }
    let key = activity.key.clone();
    if let Err(e) = jobs
        .enqueue(record_activity, activity)
        .key(key.clone())
        .await
    {
        tracing::error!(error = %e, %key, "an activity entry was not queued");
    }
}

/// `q` as a `LIKE` pattern matching titles that contain it: its `%`, `_` and `\\` taken
/// literally.
fn contains_pattern(q: &str) -> String {
    let mut pattern = String::with_capacity(q.len() + 2);
    pattern.push('%');
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The notes, newest first, a page at a time; `q` keeps those whose title contains it
/// (ignoring case: every letter on PostgreSQL, ASCII letters on SQLite).
#[get(
    "/notes/",
    tags = ["notes"],
    responses = [(401, "Not signed in, or without `notes:read`", Message)]
)]
pub async fn list_notes(
    #[security(scopes = ["notes:read"])] _user: Depends<current_user>,
    #[query(default = 0, ge = 0)] offset: i64,
    #[query(default = 20, ge = 1, le = 100)] limit: i64,
    #[query(min_length = 1, max_length = 100)] q: Option<String>,
    db: State<Db>,
) -> Result<Json<NotesPage>, HttpError> {
    let pattern = q.as_deref().map(contains_pattern);
    let count: i64 = sqlx::query(
        "SELECT count(*) AS n FROM notes \
         WHERE $1 IS NULL OR lower(title) LIKE lower($1) ESCAPE '\\'",
    )
    .bind(&pattern)
    .fetch_one(&db.pool)
    .await
    .and_then(|row| row.try_get("n"))
    .map_err(internal)?;
    let rows = sqlx::query(concat!(
        "SELECT ",
        note_columns!(),
        " WHERE $1 IS NULL OR lower(n.title) LIKE lower($1) ESCAPE '\\' \
         ORDER BY n.id DESC LIMIT $2 OFFSET $3"
    ))
    .bind(&pattern)
    .bind(limit)
    .bind(offset)
    .fetch_all(&db.pool)
    .await
    .map_err(internal)?;
    let data = rows
        .iter()
        .map(note_from)
        .collect::<Result<_, _>>()
        .map_err(internal)?;
    Ok(Json(NotesPage { data, count }))
}

/// Write a note.
#[post("/notes/", status = 201, tags = ["notes"])]
pub async fn create_note(
    #[security(scopes = ["notes:write"])] user: Depends<current_user>,
    note: Json<NoteCreate>,
    db: State<Db>,
    channels: State<Channels>,
    jobs: Jobs,
) -> Result<Json<Note>, HttpError> {
    let at = now();
    let id: i64 = sqlx::query(
        "INSERT INTO notes (owner_id, title, body, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $4) RETURNING id",
    )
    .bind(user.id)
    .bind(&note.title)
    .bind(&note.body)
    .bind(&at)
    .fetch_one(&db.pool)
    .await
    .and_then(|row| row.try_get("id"))
    .map_err(internal)?;
    let note = Note {
        id,
        title: note.0.title,
        body: note.0.body,
        owner: user.username.clone(),
        created_at: time(&at),
        updated_at: time(&at),
    };
    let activity = Activity::new(
        format!("note:{id}:created"),
        &user.username,
        format!("wrote “{}”", note.title),
        &at,
    );
    announce(
        &channels,
        &jobs,
        Event::Created { note: note.clone() },
        activity,
    )
    .await;
    Ok(Json(note))
}

/// Read one note.
#[get(
    "/notes/{note_id}",
    tags = ["notes"],
    responses = [(404, "No such note", Message)]
)]
pub async fn read_note(
    #[security(scopes = ["notes:read"])] _user: Depends<current_user>,
    #[path(ge = 1)] note_id: i64,
    db: State<Db>,
) -> Result<Json<Note>, HttpError> {
    Ok(Json(find(&db, note_id).await?))
}

/// Change your note.
#[patch(
    "/notes/{note_id}",
    tags = ["notes"],
    responses = [(403, "Not your note", Message), (404, "No such note", Message)]
)]
pub async fn update_note(
    #[security(scopes = ["notes:write"])] user: Depends<current_user>,
    #[path(ge = 1)] note_id: i64,
    change: Json<NoteUpdate>,
    db: State<Db>,
    channels: State<Channels>,
    jobs: Jobs,
) -> Result<Json<Note>, HttpError> {
    let NoteUpdate { title, body } = change.0;
    let at = now();
    // One statement: the author check and the change cannot be split by another
    // request, and a field left out keeps whatever a concurrent change wrote.
    let changed = sqlx::query(
        "UPDATE notes SET title = COALESCE($1, title), body = COALESCE($2, body), \
         updated_at = $3, revision = revision + 1 WHERE id = $4 AND owner_id = $5 \
         RETURNING title, body, created_at, updated_at, revision",
    )
    .bind(&title)
    .bind(&body)
    .bind(&at)
    .bind(note_id)
    .bind(user.id)
    .fetch_optional(&db.pool)
    .await
    .map_err(internal)?;
    let Some(row) = changed else {
        return Err(missing_or_not_yours(&db, note_id).await);
    };
    let read = || -> Result<(Note, i64), sqlx::Error> {
        let note = Note {
            id: note_id,
            title: row.try_get("title")?,
            body: row.try_get("body")?,
            owner: user.username.clone(),
            created_at: time(&row.try_get::<String, _>("created_at")?),
            updated_at: time(&row.try_get::<String, _>("updated_at")?),
        };
        Ok((note, row.try_get("revision")?))
    };
    let (note, revision) = read().map_err(internal)?;
    let activity = Activity::new(
        format!("note:{note_id}:r{revision}"),
        &user.username,
        format!("changed “{}”", note.title),
        &at,
    );
    announce(
        &channels,
        &jobs,
        Event::Updated { note: note.clone() },
        activity,
    )
    .await;
    Ok(Json(note))
}

/// Why `note_id` could not be changed by its author: it is not there (404) or it is
/// someone else's (403).
async fn missing_or_not_yours(db: &Db, note_id: i64) -> HttpError {
    match find(db, note_id).await {
        Ok(_) => HttpError::new(StatusCode::FORBIDDEN, "Only the author can change a note"),
        Err(e) => e,
    }
}

/// Delete your note.
#[delete(
    "/notes/{note_id}",
    status = 204,
    tags = ["notes"],
    responses = [(403, "Not your note", Message), (404, "No such note", Message)]
)]
pub async fn delete_note(
    #[security(scopes = ["notes:write"])] user: Depends<current_user>,
    #[path(ge = 1)] note_id: i64,
    db: State<Db>,
    channels: State<Channels>,
    jobs: Jobs,
) -> Result<(), HttpError> {
    let deleted = sqlx::query("DELETE FROM notes WHERE id = $1 AND owner_id = $2 RETURNING title")
        .bind(note_id)
        .bind(user.id)
        .fetch_optional(&db.pool)
        .await
        .map_err(internal)?;
    let Some(row) = deleted else {
        return Err(missing_or_not_yours(&db, note_id).await);
    };
    let title: String = row.try_get("title").map_err(internal)?;
    let activity = Activity::new(
        format!("note:{note_id}:deleted"),
        &user.username,
        format!("deleted “{title}”"),
        &now(),
    );
    announce(&channels, &jobs, Event::Deleted { id: note_id }, activity).await;
    Ok(())
}
