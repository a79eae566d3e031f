//! Typed settings: read from the environment and a `.env` file at start, every problem
//! reported at once, replaceable in tests.

use std::path::PathBuf;

use hasten::prelude::*;
use hasten::settings::Settings;
use hasten::testing::TestClient;

#[derive(Debug, Deserialize, JsonSchema)]
struct Config {
    database_url: String,
    #[schemars(range(min = 1, max = 65535))]
    port: u16,
    #[serde(default)]
    debug: bool,
    #[serde(default)]
    allowed_hosts: Vec<String>,
}

#[get("/config")]
async fn config(config: State<Config>) -> String {
    format!(
        "{} {} {} {:?}",
        config.database_url, config.port, config.debug, config.allowed_hosts
    )
}

/// A fresh directory under the target directory, with a `.env` holding `text`.
fn env_file(test: &str, text: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("settings-{test}"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(".env");
    std::fs::write(&path, text).unwrap();
    path
}

// Each test uses its own prefix: the environment is shared by the tests of this binary.

#[tokio::test]
async fn settings_come_from_the_environment_over_the_env_file() {
    let file = env_file(
        "read",
        "# the file\nSET1_DATABASE_URL=postgres://file/app\nexport SET1_PORT=\"8080\"\nSET1_DEBUG=yes\n",
    );
    std::env::set_var("SET1_PORT", "9000"); // the environment wins over the file
    std::env::set_var("SET1_ALLOWED_HOSTS", r#"["a.example", "b.example"]"#);
    let c = TestClient::start(
        App::new()
            .route(config)
            .settings::<Config>(Settings::from_env().prefix("SET1_").env_file(file)),
    )
    .await;
    assert_eq!(
        c.get("/config").send().await.text(),
        r#"postgres://file/app 9000 true ["a.example", "b.example"]"#
    );
}

#[tokio::test]
async fn every_settings_problem_is_reported_at_start_at_once() {
    std::env::set_var("SET2_PORT", "0");
    std::env::set_var("SET2_DEBUG", "perhaps");
    let err = App::new()
        .route(config)
        .settings::<Config>(Settings::from_env().prefix("SET2_").env_file(None))
        .start()
        .await
        .expect_err("the app started with broken settings");
    let text = err.to_string();
    assert!(text.contains("SET2_DATABASE_URL: Field required"), "{text}");
    assert!(
        text.contains("SET2_PORT: Input should be greater than or equal to 1"),
        "{text}"
    );
    assert!(
        text.contains("SET2_DEBUG: Input should be a valid boolean"),
        "{text}"
    );
    assert!(text.contains(r#"(got "perhaps")"#), "{text}");
}

#[tokio::test]
async fn a_test_replaces_the_settings_with_app_state() {
    let c = TestClient::start(
        App::new()
            .route(config)
            // Nothing in the environment for SET3_: the value given below is used.
            .settings::<Config>(Settings::from_env().prefix("SET3_").env_file(None))
            .state(Config {
                database_url: "sqlite://memory".to_owned(),
                port: 1,
                debug: false,
                allowed_hosts: vec![],
            }),
    )
    .await;
    assert_eq!(
        c.get("/config").send().await.text(),
        "sqlite://memory 1 false []"
    );
    // An app that reads settings must be started, not only built.
    let err = App::new()
        .settings::<Config>(Settings::from_env())
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("App::start"), "{err}");
}

#[tokio::test]
async fn a_missing_env_file_is_skipped() {
    std::env::set_var("SET4_DATABASE_URL", "postgres://env/app");
    std::env::set_var("SET4_PORT", "8000");
    let c = TestClient::start(
        App::new().route(config).settings::<Config>(
            Settings::from_env()
                .prefix("SET4_")
                .env_file(PathBuf::from("/nonexistent/hasten/.env")),
        ),
    )
    .await;
    assert_eq!(
        c.get("/config").send().await.text(),
        "postgres://env/app 8000 false []"
    );
}

#[derive(Debug, Deserialize, JsonSchema)]
struct Keyed {
    #[schemars(length(min = 32), extend("writeOnly" = true))]
    secret_key: String,
    #[schemars(length(min = 32), extend("format" = "password"))]
    api_token: Option<String>,
    #[schemars(length(min = 3))]
    name: String,
}

#[tokio::test]
async fn a_secret_setting_is_never_repeated_in_a_problem() {
    std::env::set_var("SET5_SECRET_KEY", "hunter2");
    std::env::set_var("SET5_API_TOKEN", "tok3n");
    std::env::set_var("SET5_NAME", "ab");
    let err = Settings::from_env()
        .prefix("SET5_")
        .env_file(None)
        .load::<Keyed>()
        .expect_err("short values");
    let text = err.join("\n");
    assert_eq!(
        err,
        [
            "SET5_SECRET_KEY: String should have at least 32 characters (the value is not shown: a secret)",
            "SET5_API_TOKEN: String should have at least 32 characters (the value is not shown: a secret)",
            r#"SET5_NAME: String should have at least 3 characters (got "ab")"#,
        ],
        "{text}"
    );
    assert!(
        !text.contains("hunter2") && !text.contains("tok3n"),
        "{text}"
    );

    // Right values are read as any others.
    std::env::set_var("SET5_SECRET_KEY", "k".repeat(32));
    std::env::remove_var("SET5_API_TOKEN");
    std::env::set_var("SET5_NAME", "abc");
    let keyed = Settings::from_env()
        .prefix("SET5_")
        .env_file(None)
        .load::<Keyed>()
        .expect("valid settings");
    assert_eq!(
        (keyed.secret_key.len(), keyed.api_token, keyed.name.as_str()),
        (32, None, "abc")
    );
}
