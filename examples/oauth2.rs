//! Security: an OAuth2 password flow with scopes, HTTP Basic and an API key — each a
//! parameter that checks the request *and* documents itself, so Swagger UI's
//! "Authorize" button works. Its FastAPI twin is `tests/twin/oauth2_app.py`.
//!
//! Run with: `cargo run --release --example oauth2`, open http://127.0.0.1:8000/docs,
//! press "Authorize" (johndoe / secret, tick the scopes), then try `/users/me/items/`.
//! Or from a shell:
//!
//! ```text
//! curl -X POST http://127.0.0.1:8000/token -d 'username=johndoe&password=secret&scope=me items'
//! curl http://127.0.0.1:8000/users/me/items/ -H 'authorization: Bearer <access_token>'
//! curl http://127.0.0.1:8000/users/me/                          # 401 Not authenticated
//! curl -u johndoe:secret http://127.0.0.1:8000/basic/
//! curl http://127.0.0.1:8000/key/ -H 'x-api-key: k3y'
//! ```
//!
//! `cargo run --example oauth2 -- --openapi` prints the OpenAPI document (so does every
//! example).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use hasten::prelude::*;
use hasten::security::{
    ApiKey, ApiKeyHeader, HttpBasic, OAuth2Password, OAuth2PasswordBearer,
    OAuth2PasswordRequestForm, SecurityScopes,
};

/// The OAuth2 password flow: where tokens come from, and the scopes there are.
struct Auth;

impl OAuth2Password for Auth {
    const TOKEN_URL: &'static str = "/token";
    const SCOPES: &'static [(&'static str, &'static str)] = &[
        ("me", "Read information about the current user."),
        ("items", "Read items."),
    ];
}

/// The API key header.
struct Key;

impl ApiKey for Key {
    const NAME: &'static str = "x-api-key";
}

/// The only user: johndoe, password "secret".
const USER: (&str, &str, &str) = ("johndoe", "John Doe", "secret");

/// Issued tokens: token → (user name, granted scopes).
#[derive(Default)]
struct Tokens {
    issued: Mutex<HashMap<String, (String, Vec<String>)>>,
    counter: AtomicU64,
}

/// A bearer token.
#[derive(Debug, Serialize, JsonSchema)]
struct Token {
    access_token: String,
    token_type: String,
}

/// A user.
#[derive(Debug, Clone, Serialize, JsonSchema)]
struct User {
    username: String,
    full_name: Option<String>,
}

/// An item.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
struct Item {
    name: String,
    price: f64,
    #[serde(default)]
    tags: Vec<String>,
}

/// A one-line answer.
#[derive(Debug, Serialize, JsonSchema)]
struct Message {
    detail: String,
}

/// Compare without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Trade a user name and password for a bearer token with the requested scopes.
#[post("/token")]
async fn login(
    form: OAuth2PasswordRequestForm,
    tokens: State<Tokens>,
) -> Result<Json<Token>, HttpError> {
    let (name, _, password) = USER;
    if form.username != name || !same(&form.password, password) {
        return Err(HttpError::new(
            StatusCode::BAD_REQUEST,
            "Incorrect username or password",
        ));
    }
    let n = tokens.counter.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let token = format!("{:016x}{n:08x}", nanos as u64 ^ 0x9e37_79b9_7f4a_7c15);
    let scopes = form.scopes().into_iter().map(str::to_owned).collect();
    if let Ok(mut issued) = tokens.issued.lock() {
        issued.insert(token.clone(), (name.to_owned(), scopes));
    }
    Ok(Json(Token {
        access_token: token,
        token_type: "bearer".to_owned(),
    }))
}

/// The user the bearer token belongs to, if the token grants every scope required on
/// the way here.
#[dependency]
async fn current_user(
    scopes: SecurityScopes,
    token: OAuth2PasswordBearer<Auth>,
    tokens: State<Tokens>,
) -> Result<User, HttpError> {
    let challenge = if scopes.scopes.is_empty() {
        "Bearer".to_owned()
    } else {
        format!("Bearer scope=\"{}\"", scopes.scope_str())
    };
    let refuse = |detail: &str| {
        HttpError::new(StatusCode::UNAUTHORIZED, detail)
            .with_header("www-authenticate", challenge.clone())
    };
    let found = tokens
        .issued
        .lock()
        .ok()
        .and_then(|t| t.get(token.token()).cloned());
    let Some((username, granted)) = found else {
        return Err(refuse("Could not validate credentials"));
    };
    if scopes.scopes.iter().any(|s| !granted.contains(s)) {
        return Err(refuse("Not enough permissions"));
    }
    Ok(User {
        username,
        full_name: Some(USER.1.to_owned()),
    })
}

/// The current user, with the `me` scope.
#[dependency]
async fn current_active_user(#[security(scopes = ["me"])] user: Depends<current_user>) -> User {
    (*user).clone()
}

/// The user the token belongs to.
#[get("/users/me/")]
async fn read_users_me(user: Depends<current_active_user>) -> Json<User> {
    Json((*user).clone())
}

/// The items of the user the token belongs to (needs the `items` scope).
#[get("/users/me/items/")]
async fn read_own_items(
    #[security(scopes = ["items"])] user: Depends<current_active_user>,
) -> Json<Vec<Item>> {
    Json(vec![Item {
        name: "Portal Gun".to_owned(),
        price: 42.0,
        tags: vec![user.username.clone()],
    }])
}

/// Any valid token will do.
#[get("/status/")]
async fn read_system_status(_user: Depends<current_user>) -> Json<Message> {
    Json(Message {
        detail: "ok".to_owned(),
    })
}

/// Read one item.
#[get(
    "/items/{item_id}",
    tags = ["items"],
    responses = [(404, "Item not found", Message)]
)]
async fn read_item(
    #[path(ge = 1)] item_id: i64,
    #[query(max_length = 50)] q: Option<String>,
) -> Result<Json<Item>, HttpError> {
    if item_id > 3 {
        return Err(HttpError::new(StatusCode::NOT_FOUND, "Item not found"));
    }
    Ok(Json(Item {
        name: q.unwrap_or_else(|| format!("item {item_id}")),
        price: 1.5 * item_id as f64,
        tags: Vec::new(),
    }))
}

/// Create an item.
#[post("/items/", tags = ["items"], status = 201)]
async fn create_item(item: Json<Item>) -> Json<Item> {
    item
}

/// The API key this example accepts.
const API_KEY: &str = "k3y";

/// HTTP Basic credentials.
#[get("/basic/")]
async fn read_basic(credentials: HttpBasic) -> Result<Json<Message>, HttpError> {
    let (name, _, password) = USER;
    if credentials.username != name || !same(&credentials.password, password) {
        return Err(
            HttpError::new(StatusCode::UNAUTHORIZED, "Incorrect username or password")
                .with_header("www-authenticate", "Basic"),
        );
    }
    Ok(Json(Message {
        detail: credentials.username,
    }))
}

/// An API key in the `x-api-key` header.
#[get("/key/")]
async fn read_key(key: ApiKeyHeader<Key>) -> Result<Json<Message>, HttpError> {
    if !same(key.key(), API_KEY) {
        return Err(HttpError::new(StatusCode::UNAUTHORIZED, "Invalid API key")
            .with_header("www-authenticate", "APIKey"));
    }
    Ok(Json(Message {
        detail: key.len().to_string(),
    }))
}

/// Kept for old clients.
#[get("/old/", deprecated)]
async fn read_old() -> Json<Message> {
    Json(Message {
        detail: "old".to_owned(),
    })
}

#[get("/hidden/", include_in_schema = false)]
async fn hidden() -> Json<Message> {
    Json(Message {
        detail: "hidden".to_owned(),
    })
}

/// The application.
fn app() -> App {
    App::new()
        .title("OAuth2 example")
        .version("1.0.0")
        .state(Tokens::default())
        .route(login)
        .route(read_users_me)
        .route(read_own_items)
        .route(read_system_status)
        .route(read_item)
        .route(create_item)
        .route(read_basic)
        .route(read_key)
        .route(read_old)
        .route(hidden)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    hasten_examples::run(app()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use hasten::testing::TestClient;
    use serde_json::json;

    async fn token(c: &TestClient, scope: &str) -> String {
        let resp = c
            .post("/token")
            .form(&[
                ("username", "johndoe"),
                ("password", "secret"),
                ("scope", scope),
            ])
            .send()
            .await;
        assert_eq!(resp.status(), 200, "{}", resp.text());
        resp.json::<serde_json::Value>()["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    #[tokio::test]
    async fn password_flow_with_scopes() {
        let c = TestClient::new(app());
        // No token: FastAPI's 401.
        let resp = c.get("/users/me/").send().await;
        assert_eq!(resp.status(), 401);
        assert_eq!(resp.header("www-authenticate"), Some("Bearer"));
        assert_eq!(
            resp.json::<serde_json::Value>(),
            json!({"detail": "Not authenticated"})
        );
        // Wrong password.
        let resp = c
            .post("/token")
            .form(&[("username", "johndoe"), ("password", "nope")])
            .send()
            .await;
        assert_eq!(resp.status(), 400);
        // A token with `me` only reads the user, not the items.
        let me = token(&c, "me").await;
        let resp = c
            .get("/users/me/")
            .header("authorization", &format!("Bearer {me}"))
            .send()
            .await;
        assert_eq!(resp.json::<serde_json::Value>()["username"], "johndoe");
        let resp = c
            .get("/users/me/items/")
            .header("authorization", &format!("Bearer {me}"))
            .send()
            .await;
        assert_eq!(resp.status(), 401);
        assert_eq!(
            resp.json::<serde_json::Value>(),
            json!({"detail": "Not enough permissions"})
        );
        // The challenge names every scope required on the way: outer first.
        assert_eq!(
            resp.header("www-authenticate"),
            Some("Bearer scope=\"items me\"")
        );
        // Both scopes: the items.
        let both = token(&c, "me items").await;
        let resp = c
            .get("/users/me/items/")
            .header("authorization", &format!("Bearer {both}"))
            .send()
            .await;
        assert_eq!(resp.status(), 200);
        assert_eq!(
            resp.json::<serde_json::Value>()[0]["tags"],
            json!(["johndoe"])
        );
        // A made-up token.
        let resp = c
            .get("/status/")
            .header("authorization", "Bearer made-up")
            .send()
            .await;
        assert_eq!(
            resp.json::<serde_json::Value>(),
            json!({"detail": "Could not validate credentials"})
        );
    }

    /// The form's fields are read one by one, as FastAPI reads `OAuth2PasswordRequestForm`:
    /// a missing one has input null, a bad `grant_type` its pattern error.
    #[tokio::test]
    async fn token_form_errors_are_fastapis() {
        let c = TestClient::new(app());
        let resp = c.post("/token").form(&[("password", "x")]).send().await;
        assert_eq!(resp.status(), 422);
        assert_eq!(
            resp.json::<serde_json::Value>(),
            json!({"detail": [{"type": "missing", "loc": ["body", "username"],
                               "msg": "Field required", "input": null}]})
        );
        let resp = c
            .post("/token")
            .form(&[("grant_type", "code"), ("username", "u"), ("password", "p")])
            .send()
            .await;
        assert_eq!(
            resp.json::<serde_json::Value>(),
            json!({"detail": [{"type": "string_pattern_mismatch", "loc": ["body", "grant_type"],
                               "msg": "String should match pattern '^password$'", "input": "code",
                               "ctx": {"pattern": "^password$"}}]})
        );
    }

    #[tokio::test]
    async fn basic_and_api_key() {
        let c = TestClient::new(app());
        let resp = c.get("/basic/").send().await;
        assert_eq!(resp.status(), 401);
        assert_eq!(resp.header("www-authenticate"), Some("Basic"));
        let resp = c
            .get("/basic/")
            .header("authorization", "Basic am9obmRvZTpzZWNyZXQ=")
            .send()
            .await;
        assert_eq!(
            resp.json::<serde_json::Value>(),
            json!({"detail": "johndoe"})
        );
        let resp = c
            .get("/basic/")
            .header("authorization", "Basic not base64!")
            .send()
            .await;
        assert_eq!(resp.status(), 401);
        assert_eq!(
            resp.json::<serde_json::Value>(),
            json!({"detail": "Not authenticated"})
        );
        let resp = c.get("/key/").send().await;
        assert_eq!(resp.status(), 401);
        assert_eq!(resp.header("www-authenticate"), Some("APIKey"));
        let resp = c.get("/key/").header("x-api-key", "k3y").send().await;
        assert_eq!(resp.json::<serde_json::Value>(), json!({"detail": "3"}));
        let resp = c.get("/key/").header("x-api-key", "wrong").send().await;
        assert_eq!(resp.status(), 401);
        let resp = c
            .get("/basic/")
            .header("authorization", "Basic am9obmRvZTpub3Bl")
            .send()
            .await;
        assert_eq!(resp.status(), 401);
    }

    #[test]
    fn document_lists_schemes_and_scopes() {
        let service = app().build().unwrap();
        let doc = service.openapi();
        let ops = &doc["paths"];
        assert_eq!(
            ops["/users/me/items/"]["get"]["security"],
            json!([{"OAuth2PasswordBearer": ["items", "me"]}])
        );
        assert_eq!(
            ops["/users/me/"]["get"]["security"],
            json!([{"OAuth2PasswordBearer": ["me"]}])
        );
        assert_eq!(
            ops["/status/"]["get"]["security"],
            json!([{"OAuth2PasswordBearer": []}])
        );
        assert_eq!(
            ops["/basic/"]["get"]["security"],
            json!([{"HTTPBasic": []}])
        );
        assert_eq!(
            ops["/key/"]["get"]["security"],
            json!([{"APIKeyHeader": []}])
        );
        let schemes = &doc["components"]["securitySchemes"];
        assert_eq!(
            schemes["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"],
            "/token"
        );
        assert_eq!(
            schemes["APIKeyHeader"],
            json!({"type": "apiKey", "in": "header", "name": "x-api-key"})
        );
        assert!(ops.get("/hidden/").is_none());
        assert_eq!(ops["/old/"]["get"]["deprecated"], true);
    }
}
