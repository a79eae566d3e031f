//! The app's settings, read from the environment (and `.env`) when it starts.

use hasten::prelude::*;
use hasten::settings::Settings;

/// Everything the app can be told, each from the environment variable of its name in
/// upper case (`DATABASE_URL`, `SECRET_KEY`, …) or from `.env`.
#[derive(Clone, Deserialize, JsonSchema)]
pub struct Config {
    /// Where the data and the job queue live: an SQLite file
    /// (`sqlite://notes.sqlite`, the default, created when missing) or PostgreSQL
    /// (`postgres://…`, with the `postgres` cargo feature).
    #[serde(default = "default_database_url")]
    pub database_url: String,
    /// The key access tokens are signed with (HS256), at least 32 characters. When it is
    /// not set, a random key is made at each start, so tokens do not outlive the process
    /// (allowed only for one instance on a loopback address). Checked by
    /// [`Config::problems`], which never repeats it.
    #[serde(default)]
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

fn is_loopback(addr: &str) -> bool {
    let host = addr.rsplit_once(':').map_or(addr, |(host, _)| host);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
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

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &redact(&self.database_url))
            .field("secret_key", &self.secret_key.as_ref().map(|_| "(hidden)"))
            .field(
                "access_token_expire_minutes",
                &self.access_token_expire_minutes,
            )
            .field("listen_addr", &self.listen_addr)
            .field("static_dir", &self.static_dir)
            .field("channels_url", &self.channels_url.as_deref().map(redact))
            .finish()
    }
}

/// `url` without its password (`postgres://app:secret@db/notes` →
/// `postgres://app:***@db/notes`), for logs and messages.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, _)) => format!("{scheme}://{name}:***@{host}{path}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

impl Config {
    /// Read the settings from the environment and `.env`; every problem at once.
    pub fn from_env() -> Result<Config, Vec<String>> {
        let config = Settings::from_env().load::<Config>()?;
        let problems = config.problems();
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(problems)
        }
    }

    /// What is wrong with these settings together, without repeating a secret.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        match &self.secret_key {
            Some(key) if key.len() < 32 => problems.push(format!(
                "SECRET_KEY: String should have at least 32 characters (it has {})",
                key.len()
            )),
            Some(_) => {}
            None if self.channels_url.is_some() => problems.push(
                "SECRET_KEY: required with CHANNELS_URL: instances sharing live updates must \
                 accept each other's tokens"
                    .to_owned(),
            ),
            None if !is_loopback(&self.listen_addr) => problems.push(format!(
                "SECRET_KEY: required when listening beyond this machine ({}): a random \
                 key would sign everyone out at each restart",
                self.listen_addr
            )),
            None => {}
        }
        problems
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
