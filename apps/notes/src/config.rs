//! The app's settings, read from the environment (and `.env`) when it starts.

use hasten::prelude::*;
use hasten::settings::Settings;

/// Everything the app can be told, each from the environment variable of its name in
/// upper case (`DATABASE_URL`, `SECRET_KEY`, …) or from `.env`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct Config {
    /// Where the data and the job queue live: an SQLite file
    /// (`sqlite://notes.sqlite`, the default, created when missing) or PostgreSQL
    /// (`postgres://…`, with the `postgres` cargo feature).
    #[serde(default = "default_database_url")]
    pub database_url: String,
    /// The key access tokens are signed with (HS256), at least 32 characters. When it is
    /// not set, a random key is made at each start, so tokens do not outlive the process.
    #[serde(default)]
    #[schemars(length(min = 32))]
    pub secret_key: Option<String>,
    /// How long an access token is valid, in minutes.
    #[serde(default = "default_expire_minutes")]
    #[schemars(range(min = 1, max = 10080))]
    pub access_token_expire_minutes: u32,
    /// The address to listen on.
    #[serde(default = "default_listen_addr")]
    pub listen_addr: String,
    /// The folder the web page is served from.
    #[serde(default = "default_static_dir")]
    pub static_dir: String,
    /// Live updates through Redis (`redis://…`) or PostgreSQL (`postgres://…`), so that
    /// several instances share them; in this process when unset.
    #[serde(default)]
    pub channels_url: Option<String>,
}

fn default_database_url() -> String {
    "sqlite://notes.sqlite".to_owned()
}

fn default_expire_minutes() -> u32 {
    60
}

fn default_listen_addr() -> String {
    "127.0.0.1:8000".to_owned()
}

fn default_static_dir() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/static").to_owned()
}

impl Config {
    /// Read the settings from the environment and `.env`; every problem at once.
    pub fn from_env() -> Result<Config, Vec<String>> {
        Settings::from_env().load::<Config>()
    }

    /// The defaults, with the data in `database_url`: what the tests start from.
    pub fn with_database(database_url: &str) -> Config {
        Config {
            database_url: database_url.to_owned(),
            secret_key: None,
            access_token_expire_minutes: default_expire_minutes(),
            listen_addr: default_listen_addr(),
            static_dir: default_static_dir(),
            channels_url: None,
        }
    }
}
