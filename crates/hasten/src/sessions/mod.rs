//! Server-side sessions with CSRF protection: [`App::sessions`](crate::App::sessions)
//! and the [`Session`] parameter.
//!
//! The browser holds only an opaque, random session ID in an `HttpOnly` cookie; what a
//! session holds stays on the server: in the process by default, or in Redis
//! (`Sessions::redis`, cargo feature `sessions-redis`) so that every instance behind a
//! load balancer sees the same sessions.
//!
//! ```
//! use hasten::prelude::*;
//! use hasten::sessions::{Session, Sessions};
//!
//! /// Count this browser's visits.
//! #[get("/visits")]
//! async fn visits(session: Session) -> String {
//!     let n: u32 = session.get("visits").unwrap_or(0) + 1;
//!     session.insert("visits", n);
//!     n.to_string()
//! }
//!
//! /// The token a page sends back with each form or `fetch` that changes something.
//! #[get("/csrf")]
//! async fn csrf(session: Session) -> String {
//!     session.csrf_token()
//! }
//!
//! let app = App::new().sessions(Sessions::in_process()).route(visits).route(csrf);
//! # let _ = app.build().unwrap();
//! ```
//!
//! **CSRF.** A request that can change something (any method but `GET`, `HEAD`,
//! `OPTIONS` and `TRACE`) and carries the session cookie must also carry the
//! session's CSRF token, in the `X-CSRF-Token` header or, for an HTML form
//! (`application/x-www-form-urlencoded`), in its `csrf_token` field; else it is refused
//! with 403 before any handler runs. A cross-site page can make the browser send the
//! cookie, but cannot read the token. Requests without the cookie are not checked: they
//! carry no session to abuse. [`Sessions::csrf`] turns the check off for APIs that
//! authenticate otherwise.
//!
//! **Lifetime.** A session is written when a handler changes it, and its cookie sent
//! then; it expires after [`Sessions::max_age`] without a change (two weeks unless set),
//! and a session used past half that age is renewed. [`Session::renew`] gives it a new
//! ID (do it at log-in, so an ID planted before cannot follow the user in);
//! [`Session::clear`] ends it (log-out).

#[cfg(feature = "sessions-redis")]
mod redis;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderValue, Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::extract::{Errors, Extracted, FromRequest, ParamSpec, RequestCtx};
use crate::middleware::{HttpRequest, Next};
use crate::openapi::model::OperationDoc;
use crate::operation::BoxFuture;
use crate::response::{IntoResponse, Response};
use crate::set_response::{SameSite, SetCookie};

/// The key of the CSRF token in the session.
const CSRF_KEY: &str = "_csrf";
/// The header that carries the CSRF token.
const CSRF_HEADER: &str = "x-csrf-token";
/// The form field that carries the CSRF token.
const CSRF_FIELD: &str = "csrf_token";
/// The largest form read for its CSRF token.
const CSRF_FORM_LIMIT: usize = 1 << 20;

/// A session as stored: its values and when it was written (Unix ms).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Record {
    pub(crate) values: Map<String, Value>,
    pub(crate) written_ms: u64,
}

/// Why a session store failed.
#[derive(Debug)]
pub(crate) struct StoreError(pub(crate) String);

/// Where sessions are kept.
pub(crate) trait Store: Send + Sync + 'static {
    fn load(&self, id: &str) -> BoxFuture<Result<Option<Record>, StoreError>>;
    fn save(&self, id: &str, record: &Record, ttl: Duration) -> BoxFuture<Result<(), StoreError>>;
    fn delete(&self, id: &str) -> BoxFuture<Result<(), StoreError>>;
}

/// The app's sessions: where they are kept and how their cookie is set, for
/// [`App::sessions`](crate::App::sessions).
#[derive(Clone)]
pub struct Sessions {
    store: Arc<dyn Store>,
    cookie: String,
    max_age: Duration,
    secure: bool,
    csrf: bool,
}

impl fmt::Debug for Sessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sessions")
            .field("cookie", &self.cookie)
            .field("max_age", &self.max_age)
            .field("secure", &self.secure)
            .field("csrf", &self.csrf)
            .finish_non_exhaustive()
    }
}

impl Sessions {
    fn with_store(store: Arc<dyn Store>) -> Self {
        Sessions {
            store,
            cookie: "session".to_owned(),
            max_age: Duration::from_secs(14 * 24 * 3600),
            secure: false,
            csrf: true,
        }
    }

    /// Sessions kept in this process's memory: lost when it restarts, and not shared
    /// with other instances. Expired sessions are swept as new ones are written.
    pub fn in_process() -> Self {
        Sessions::with_store(Arc::new(Memory::default()))
    }

    /// The cookie's name (`session` unless set).
    ///
    /// # Panics
    /// If `name` is empty or not a cookie name (a token: no spaces, `;`, `=` …).
    pub fn cookie_name(mut self, name: &str) -> Self {
        assert!(
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b)),
            "`{name}` is not a cookie name"
        );
        self.cookie = name.to_owned();
        self
    }

    /// How long a session lasts without being changed (two weeks unless set).
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age.max(Duration::from_secs(1));
        self
    }

    /// Send the cookie over HTTPS only (`Secure`): set it when the app is served over
    /// HTTPS, directly or behind a proxy. Off unless set, so that plain-HTTP
    /// development works.
    pub fn secure(mut self, on: bool) -> Self {
        self.secure = on;
        self
    }

    /// Check the CSRF token of requests that can change something (on unless set).
    pub fn csrf(mut self, on: bool) -> Self {
        self.csrf = on;
        self
    }

    fn cookie(&self, value: &str, max_age: i64) -> HeaderValue {
        let cookie = SetCookie::new(self.cookie.clone(), value.to_owned())
            .max_age(max_age)
            .http_only(true)
            .secure(self.secure)
            .same_site(Some(SameSite::Lax));
        HeaderValue::from_str(&cookie.to_string()).unwrap_or(HeaderValue::from_static(""))
    }

    /// Serve one request: find its session (if it has a cookie), check its CSRF token,
    /// run the rest, then write the session if it changed.
    pub(crate) async fn serve(self: Arc<Self>, mut req: HttpRequest, next: Next) -> Response {
        let id = crate::extract::cookie(req.headers(), &self.cookie).filter(|id| valid_id(id));
        let handle = Session {
            inner: Arc::new(Inner {
                sessions: self.clone(),
                cookie_id: id,
                loaded: tokio::sync::OnceCell::new(),
            }),
        };
        if self.csrf && handle.inner.cookie_id.is_some() && !is_safe(req.method()) {
            match handle.inner.load().await {
                Err(resp) => return resp,
                Ok(state) => {
                    let expected = lock(state).values.get(CSRF_KEY).cloned();
                    let (given, rebuilt) = csrf_token_of(req).await;
                    req = match rebuilt {
                        Ok(req) => req,
                        Err(resp) => return resp,
                    };
                    let matches = match (&expected, &given) {
                        (Some(Value::String(e)), Some(g)) => constant_time_eq(e, g),
                        _ => false,
                    };
                    if !matches {
                        return crate::HttpError::new(
                            StatusCode::FORBIDDEN,
                            "CSRF token missing or incorrect",
                        )
                        .into_response();
                    }
                }
            }
        }
        req.extensions_mut().insert(handle.clone());
        let mut resp = next.run(req).await;
        if let Some(cookie) = handle.inner.finish().await {
            resp.headers_mut().append(http::header::SET_COOKIE, cookie);
        }
        resp
    }
}

/// What a request's session holds, once loaded.
#[derive(Debug, Default)]
struct State {
    /// The ID it is stored under, if it is stored.
    id: Option<String>,
    values: Map<String, Value>,
    written_ms: u64,
    changed: bool,
    /// Store it under a new ID (and drop the old one).
    renew: bool,
    /// End it.
    cleared: bool,
}

struct Inner {
    sessions: Arc<Sessions>,
    /// The ID the request's cookie names.
    cookie_id: Option<String>,
    loaded: tokio::sync::OnceCell<Mutex<State>>,
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

impl Inner {
    /// The session, read from the store on first use.
    async fn load(&self) -> Result<&Mutex<State>, Response> {
        self.loaded
            .get_or_try_init(|| async {
                let Some(id) = &self.cookie_id else {
                    return Ok(Mutex::new(State::default()));
                };
                match self.sessions.store.load(id).await {
                    Ok(Some(record)) => Ok(Mutex::new(State {
                        id: Some(id.clone()),
                        values: record.values,
                        written_ms: record.written_ms,
                        ..State::default()
                    })),
                    // Expired or unknown: a new, empty session.
                    Ok(None) => Ok(Mutex::new(State::default())),
                    Err(e) => Err(unavailable(&e)),
                }
            })
            .await
    }

    /// Write what changed; the cookie to send, if any.
    async fn finish(&self) -> Option<HeaderValue> {
        let state = self.loaded.get()?;
        let sessions = &self.sessions;
        let (old, new, record) = {
            let mut s = lock(state);
            if s.cleared {
                let old = s.id.take().or_else(|| self.cookie_id.clone());
                (old, None, None)
            } else {
                let stale = now_ms().saturating_sub(s.written_ms)
                    > (sessions.max_age / 2).as_millis() as u64;
                let stored = s.id.is_some();
                if !(s.changed || s.renew || (stored && stale)) || (!stored && s.values.is_empty())
                {
                    return None;
                }
                let old = if s.renew { s.id.take() } else { None };
                let id = match s.id.clone() {
                    Some(id) => id,
                    None => crate::random::hex128().ok()?,
                };
                s.id = Some(id.clone());
                s.written_ms = now_ms();
                let record = Record {
                    values: s.values.clone(),
                    written_ms: s.written_ms,
                };
                (old, Some(id), Some(record))
            }
        };
        if let Some(old) = &old {
            if let Err(e) = sessions.store.delete(old).await {
                tracing::error!(target: "hasten::sessions", error = %e.0, "a session could not be deleted");
            }
        }
        match (new, record) {
            (Some(id), Some(record)) => {
                if let Err(e) = sessions.store.save(&id, &record, sessions.max_age).await {
                    tracing::error!(target: "hasten::sessions", error = %e.0, "a session could not be saved");
                    return None;
                }
                let secs = i64::try_from(sessions.max_age.as_secs()).unwrap_or(i64::MAX);
                Some(sessions.cookie(&id, secs))
            }
            // Ended: the browser forgets the cookie.
            _ if self.cookie_id.is_some() || old.is_some() => Some(sessions.cookie("", 0)),
            _ => None,
        }
    }
}

/// The request's session, as a handler or a dependency takes it. Needs
/// [`App::sessions`](crate::App::sessions). Clones share one session.
#[derive(Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session").finish_non_exhaustive()
    }
}

impl Session {
    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        // The extractor loaded it; a `Session` is only handed out after that.
        match self.inner.loaded.get() {
            Some(state) => f(&mut lock(state)),
            None => f(&mut State::default()),
        }
    }

    /// The value under `key`, if there is one of type `T`.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.with(|s| {
            s.values
                .get(key)
                .and_then(|v| T::deserialize(v.clone()).ok())
        })
    }

    /// Keep `value` under `key` (as JSON; a value that does not serialize is not kept,
    /// and the error says why).
    pub fn insert<T: Serialize>(&self, key: &str, value: T) -> Result<(), serde_json::Error> {
        let value = serde_json::to_value(value)?;
        self.with(|s| {
            s.values.insert(key.to_owned(), value);
            s.changed = true;
        });
        Ok(())
    }

    /// Remove the value under `key`, returning it as JSON.
    pub fn remove(&self, key: &str) -> Option<Value> {
        self.with(|s| {
            let old = s.values.remove(key);
            s.changed |= old.is_some();
            old
        })
    }

    /// Whether the session holds nothing.
    pub fn is_empty(&self) -> bool {
        self.with(|s| s.values.is_empty())
    }

    /// Keep the session under a new ID, its values kept: call it when the user logs
    /// in, so that an ID known before (planted by someone else) is worthless after.
    pub fn renew(&self) {
        self.with(|s| {
            s.renew = true;
            s.cleared = false;
        });
    }

    /// End the session: its values are dropped, its record deleted, its cookie
    /// expired (log-out).
    pub fn clear(&self) {
        self.with(|s| {
            s.values.clear();
            s.cleared = true;
        });
    }

    /// The session's CSRF token, made (and the session kept) on first use. Put it in
    /// forms as the `csrf_token` field, or send it as the `X-CSRF-Token` header.
    pub fn csrf_token(&self) -> String {
        self.with(|s| {
            if let Some(Value::String(t)) = s.values.get(CSRF_KEY) {
                return t.clone();
            }
            let token = crate::random::hex128().unwrap_or_default();
            s.values
                .insert(CSRF_KEY.to_owned(), Value::String(token.clone()));
            s.changed = true;
            s.cleared = false;
            token
        })
    }
}

impl FromRequest for Session {
    async fn from_request(
        ctx: &mut RequestCtx,
        _spec: &'static ParamSpec,
        errors: &mut Errors,
    ) -> Extracted<Self> {
        let Some(session) = ctx.parts.extensions.get::<Session>().cloned() else {
            errors.reject(crate::HttpError::plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal Server Error",
            ));
            tracing::error!(target: "hasten::sessions", "a `Session` was asked for, but the request did not pass through `App::sessions`");
            return None;
        };
        match session.inner.load().await {
            Ok(_) => Some(session),
            Err(_) => {
                errors.reject(crate::HttpError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The session store is unavailable",
                ));
                None
            }
        }
    }

    fn describe(_spec: &'static ParamSpec, doc: &mut OperationDoc) {
        doc.checks
            .required_state
            .push((std::any::TypeId::of::<Sessions>(), "Sessions"));
    }
}

/// The 503 of a session that cannot be read.
fn unavailable(e: &StoreError) -> Response {
    tracing::error!(target: "hasten::sessions", error = %e.0, "the session store is unavailable");
    crate::HttpError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "The session store is unavailable",
    )
    .into_response()
}

fn is_safe(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// Whether `id` looks like an ID hasten made (32 lowercase hex digits): anything else
/// is never looked up.
fn valid_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The CSRF token a request carries: its header, or the `csrf_token` field of its
/// form body (read, then put back for the handler).
async fn csrf_token_of(req: HttpRequest) -> (Option<String>, Result<HttpRequest, Response>) {
    if let Some(v) = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        return (Some(v.to_owned()), Ok(req));
    }
    let is_form = req
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.split(';').next().is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        });
    if !is_form {
        return (None, Ok(req));
    }
    let (parts, body) = req.into_parts();
    let limited = http_body_util::Limited::new(body, CSRF_FORM_LIMIT);
    let bytes = match http_body_util::BodyExt::collect(limited).await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            let err =
                crate::HttpError::new(StatusCode::FORBIDDEN, "CSRF token missing or incorrect");
            return (None, Err(err.into_response()));
        }
    };
    let token = form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == CSRF_FIELD)
        .map(|(_, v)| v.into_owned());
    let req = http::Request::from_parts(parts, crate::body::RequestBody::full(bytes));
    (token, Ok(req))
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Sessions in this process.
#[derive(Default)]
struct Memory {
    /// ID → record and when it expires (Unix ms).
    map: Mutex<HashMap<String, (Record, u64)>>,
    writes: std::sync::atomic::AtomicU32,
}

impl Store for Memory {
    fn load(&self, id: &str) -> BoxFuture<Result<Option<Record>, StoreError>> {
        let now = now_ms();
        let found = self
            .map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .filter(|(_, expires)| *expires > now)
            .map(|(r, _)| r.clone());
        Box::pin(async move { Ok(found) })
    }

    fn save(&self, id: &str, record: &Record, ttl: Duration) -> BoxFuture<Result<(), StoreError>> {
        let now = now_ms();
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        // Every 1024 writes, the expired sessions go.
        if self
            .writes
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .is_multiple_of(1024)
        {
            map.retain(|_, (_, expires)| *expires > now);
        }
        map.insert(
            id.to_owned(),
            (record.clone(), now + ttl.as_millis() as u64),
        );
        Box::pin(async { Ok(()) })
    }

    fn delete(&self, id: &str) -> BoxFuture<Result<(), StoreError>> {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
        Box::pin(async { Ok(()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ids_hasten_makes_are_looked_up() {
        assert!(valid_id(&crate::random::hex128().unwrap()));
        assert!(!valid_id("../../etc/passwd"));
        assert!(!valid_id("ABCDEF0123456789ABCDEF0123456789"));
        assert!(!valid_id(""));
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
    }
}
