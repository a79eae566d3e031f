//! Accounts: sign-up with argon2 password hashes, the OAuth2 password flow issuing
//! signed JWTs with scopes, and the `current_user` dependency that checks them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use hasten::prelude::*;
use hasten::security::{
    OAuth2Password, OAuth2PasswordBearer, OAuth2PasswordRequestForm, SecurityScopes,
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use sqlx::Row;

use crate::db::{internal, now, time, Db};

/// The OAuth2 password flow: where tokens come from, and the scopes there are.
pub struct Auth;

impl OAuth2Password for Auth {
    const TOKEN_URL: &'static str = "/token";
    const SCOPES: &'static [(&'static str, &'static str)] = &[
        ("me", "Read your own account."),
        ("notes:read", "Read notes and follow them live."),
        ("notes:write", "Create, change and delete your notes."),
    ];
}

/// What access tokens are signed and checked with.
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    lifetime: Duration,
}

impl Keys {
    /// Keys from `secret`, or from 32 random bytes when there is none.
    pub fn new(secret: Option<&str>, lifetime: Duration) -> Keys {
        let secret = match secret {
            Some(secret) => secret.as_bytes().to_vec(),
            None => {
                let mut random = vec![0; 32];
                OsRng.fill_bytes(&mut random);
                random
            }
        };
        Keys {
            encoding: EncodingKey::from_secret(&secret),
            decoding: DecodingKey::from_secret(&secret),
            lifetime,
        }
    }
}

/// What a token says.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    /// The user's ID.
    sub: String,
    /// The granted scopes, separated by spaces.
    scope: String,
    /// Issued at, in seconds since the epoch.
    iat: u64,
    /// Expires at.
    exp: u64,
}

/// A new account.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct UserCreate {
    /// Lower-case letters, digits and `_`.
    #[schemars(length(min = 3, max = 32), regex(pattern = "^[a-z0-9_]+$"))]
    pub username: String,
    /// At least 8 characters.
    #[schemars(length(min = 8, max = 128))]
    pub password: String,
    /// The name shown beside the user's notes.
    #[schemars(length(max = 100))]
    pub full_name: Option<String>,
}

/// An account as stored, password hash included: never sent as it is.
#[derive(Debug, Clone, Serialize)]
pub struct UserRow {
    /// The user's ID.
    pub id: i64,
    /// The login name.
    pub username: String,
    /// The name shown.
    pub full_name: Option<String>,
    /// The argon2 hash of the password.
    pub password_hash: String,
    /// When the account was made.
    pub created_at: jiff::Timestamp,
}

/// An account, as others may see it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct UserPublic {
    /// The user's ID.
    pub id: i64,
    /// The login name.
    pub username: String,
    /// The name shown.
    pub full_name: Option<String>,
    /// When the account was made.
    pub created_at: jiff::Timestamp,
}

/// A bearer token.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Token {
    /// The JWT to send as `Authorization: Bearer …`.
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: &'static str,
    /// Seconds until it expires.
    pub expires_in: u64,
    /// The scopes granted, separated by spaces.
    pub scope: String,
}

/// A one-line answer.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Message {
    /// What happened.
    pub detail: String,
}

fn user_from(row: &sqlx::any::AnyRow) -> Result<UserRow, sqlx::Error> {
    Ok(UserRow {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        full_name: row.try_get("full_name")?,
        password_hash: row.try_get("password_hash")?,
        created_at: time(&row.try_get::<String, _>("created_at")?),
    })
}

/// The columns [`user_from`] reads, for `concat!`: sqlx takes only literal SQL.
macro_rules! user_columns {
    () => {
        "id, username, full_name, password_hash, created_at"
    };
}

/// At most one argon2 computation per core at a time: each takes 19 MiB and tens of
/// milliseconds, and sign-up and log-in are open to anyone, so a flood must queue
/// (without a thread each) instead of taking a thread and 19 MiB per request.
fn hashing() -> &'static tokio::sync::Semaphore {
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    PERMITS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        tokio::sync::Semaphore::new(cores)
    })
}

/// Run `work` (argon2) on a blocking thread, once a permit is free.
async fn argon2<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, HttpError> {
    let _permit = hashing().acquire().await.map_err(internal)?;
    tokio::task::spawn_blocking(work).await.map_err(internal)
}

/// Hash `password` with argon2id, off the event loop.
async fn hash(password: String) -> Result<String, HttpError> {
    argon2(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await?
    .map_err(internal)
}

/// Whether `password` matches `hash`, checked off the event loop.
async fn verify(password: String, hash: String) -> Result<bool, HttpError> {
    argon2(move || {
        PasswordHash::new(&hash).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    })
    .await
}

/// A hash no password matches, checked when the user does not exist so that a wrong
/// name takes as long as a wrong password.
const DECOY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Vj0kEgmjy3iUnpzu4TWqOTZ0gsD9KU4B/8nxWrIrdIc";

/// Create an account.
#[post(
    "/users/",
    status = 201,
    tags = ["users"],
    rate_limit = "10/minute",
    response_model = UserPublic,
    responses = [(409, "The user name is taken", Message)]
)]
pub async fn sign_up(user: Json<UserCreate>, db: State<Db>) -> Result<Json<UserRow>, HttpError> {
    let UserCreate {
        username,
        password,
        full_name,
    } = user.0;
    let password_hash = hash(password).await?;
    let created_at = now();
    let inserted = sqlx::query(
        "INSERT INTO users (username, full_name, password_hash, created_at) \
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(&username)
    .bind(&full_name)
    .bind(&password_hash)
    .bind(&created_at)
    .fetch_one(&db.pool)
    .await;
    let id: i64 = match inserted {
        Ok(row) => row.try_get("id").map_err(internal)?,
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(HttpError::new(
                StatusCode::CONFLICT,
                "This user name is taken",
            ))
        }
        Err(e) => return Err(internal(e)),
    };
    Ok(Json(UserRow {
        id,
        username,
        full_name,
        password_hash,
        created_at: time(&created_at),
    }))
}

/// Trade a user name and password for an access token with the requested scopes (all
/// of them when none is asked for).
#[post("/token", tags = ["users"], rate_limit = "20/minute")]
pub async fn login(
    form: OAuth2PasswordRequestForm,
    db: State<Db>,
    keys: State<Keys>,
) -> Result<Json<Token>, HttpError> {
    let found = sqlx::query(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE username = $1"
    ))
    .bind(&form.username)
    .fetch_optional(&db.pool)
    .await
    .map_err(internal)?;
    let user = found
        .as_ref()
        .map(user_from)
        .transpose()
        .map_err(internal)?;
    let hash = user
        .as_ref()
        .map_or(DECOY_HASH, |u| u.password_hash.as_str())
        .to_owned();
    let matches = verify(form.password.clone(), hash).await?;
    let Some(user) = user.filter(|_| matches) else {
        return Err(HttpError::new(
            StatusCode::BAD_REQUEST,
            "Incorrect username or password",
        ));
    };
    let known: Vec<&str> = Auth::SCOPES.iter().map(|(name, _)| *name).collect();
    let requested = form.scopes();
    if let Some(unknown) = requested.iter().find(|s| !known.contains(s)) {
        return Err(HttpError::new(
            StatusCode::BAD_REQUEST,
            format!("Unknown scope `{unknown}`; there are: {}", known.join(", ")),
        ));
    }
    let scope = if requested.is_empty() {
        known.join(" ")
    } else {
        requested.join(" ")
    };
    let iat = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let claims = Claims {
        sub: user.id.to_string(),
        scope: scope.clone(),
        iat,
        exp: iat + keys.lifetime.as_secs(),
    };
    let access_token =
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &keys.encoding)
            .map_err(internal)?;
    Ok(Json(Token {
        access_token,
        token_type: "bearer",
        expires_in: keys.lifetime.as_secs(),
        scope,
    }))
}

/// Why a token was refused.
pub fn refuse(scopes: &SecurityScopes, detail: &str) -> HttpError {
    let challenge = if scopes.scopes.is_empty() {
        "Bearer".to_owned()
    } else {
        format!("Bearer scope=\"{}\"", scopes.scope_str())
    };
    HttpError::new(StatusCode::UNAUTHORIZED, detail).with_header("www-authenticate", challenge)
}

/// The account a token belongs to, and when the token expires (seconds since the
/// epoch), if the token is valid, unexpired, and grants every scope in `scopes`.
pub async fn user_of(
    token: &str,
    scopes: &SecurityScopes,
    keys: &Keys,
    db: &Db,
) -> Result<(UserRow, u64), HttpError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    let claims = jsonwebtoken::decode::<Claims>(token, &keys.decoding, &validation)
        .map_err(|_| refuse(scopes, "Could not validate credentials"))?
        .claims;
    let granted: Vec<&str> = claims.scope.split_whitespace().collect();
    if scopes.scopes.iter().any(|s| !granted.contains(&s.as_str())) {
        return Err(refuse(scopes, "Not enough permissions"));
    }
    let id: i64 = claims
        .sub
        .parse()
        .map_err(|_| refuse(scopes, "Could not validate credentials"))?;
    let row = sqlx::query(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&db.pool)
    .await
    .map_err(internal)?
    .ok_or_else(|| refuse(scopes, "Could not validate credentials"))?;
    Ok((user_from(&row).map_err(internal)?, claims.exp))
}

/// The account the bearer token belongs to (401 when there is none, or it lacks a
/// scope required on the way here).
#[dependency]
pub async fn current_user(
    scopes: SecurityScopes,
    token: OAuth2PasswordBearer<Auth>,
    keys: State<Keys>,
    db: State<Db>,
) -> Result<UserRow, HttpError> {
    Ok(user_of(token.token(), &scopes, &keys, &db).await?.0)
}

/// Your own account.
#[get("/users/me", tags = ["users"], response_model = UserPublic)]
pub async fn read_me(#[security(scopes = ["me"])] user: Depends<current_user>) -> Json<UserRow> {
    Json((*user).clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The decoy is a real argon2id hash with today's parameters: checking it costs
    /// what checking a user's password costs, so a wrong name answers no faster.
    #[test]
    fn the_decoy_hash_costs_what_a_real_one_does() {
        let decoy = PasswordHash::new(DECOY_HASH).expect("the decoy parses");
        let params = argon2::Params::try_from(&decoy).expect("argon2 parameters");
        let today = Argon2::default();
        let cost = |p: &argon2::Params| (p.m_cost(), p.t_cost(), p.p_cost());
        assert_eq!(cost(&params), cost(today.params()));
        assert_eq!(decoy.algorithm, argon2::Algorithm::Argon2id.ident());
        assert!(today.verify_password(b"correct horse", &decoy).is_err());
    }
}
