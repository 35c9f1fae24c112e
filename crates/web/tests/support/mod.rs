//! Test harness: the real application on port 0, on a fresh SQLite file and,
//! when the test command provides one, a fresh PostgreSQL database.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use respite_domain::Role;
use respite_store::{DatabaseUrl, Engine, PoolSettings, Store};
use respite_web::{auth, AppState, WebConfig};

/// The engines every storage test runs on. PostgreSQL comes from
/// `RESPITE_TEST_POSTGRES` (a URL of a server where databases may be
/// created); the test command always sets it and `RESPITE_REQUIRE_POSTGRES`.
pub fn engines() -> Vec<Engine> {
    let mut engines = vec![Engine::Sqlite];
    if std::env::var("RESPITE_TEST_POSTGRES").is_ok() {
        engines.push(Engine::Postgres);
    } else if std::env::var("RESPITE_REQUIRE_POSTGRES").is_ok() {
        panic!("RESPITE_REQUIRE_POSTGRES is set but RESPITE_TEST_POSTGRES is not");
    } else {
        eprintln!("note: RESPITE_TEST_POSTGRES not set: PostgreSQL half of the test skipped");
    }
    engines
}

/// Declares a storage test once per engine, as two named tests
/// `NAME::sqlite` and `NAME::postgres`, so that a failure on one engine never
/// hides the other's result. `NAME` is an `async fn NAME(engine: Engine)`.
/// Without `RESPITE_TEST_POSTGRES` the PostgreSQL test says so and passes,
/// unless `RESPITE_REQUIRE_POSTGRES` is set (the test command sets both).
#[macro_export]
macro_rules! both_engines {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name(respite_store::Engine::Sqlite).await
            }
            #[tokio::test]
            async fn postgres() {
                if $crate::support::postgres_available() {
                    super::$name(respite_store::Engine::Postgres).await
                }
            }
        }
    )+};
}

/// Whether the PostgreSQL half of the storage tests can run; panics when the
/// test command requires it and it is missing.
pub fn postgres_available() -> bool {
    if std::env::var("RESPITE_TEST_POSTGRES").is_ok() {
        return true;
    }
    if std::env::var("RESPITE_REQUIRE_POSTGRES").is_ok() {
        panic!("RESPITE_REQUIRE_POSTGRES is set but RESPITE_TEST_POSTGRES is not");
    }
    eprintln!("note: RESPITE_TEST_POSTGRES not set: PostgreSQL test skipped");
    false
}

pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub base: String,
    pub store: Store,
    pub url: DatabaseUrl,
    pub client: reqwest::Client,
    /// User ids by role.
    pub users: Vec<(Role, String)>,
    _dir: Option<TempDir>,
}

/// A throw-away folder, removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        Timestamp::now().as_microsecond() % 1_000_000_000,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A fresh, migrated, empty database on `engine`.
pub async fn fresh_database(engine: Engine) -> (DatabaseUrl, Option<TempDir>) {
    match engine {
        Engine::Sqlite => {
            let dir = std::env::temp_dir().join(unique("respite_test"));
            std::fs::create_dir_all(&dir).unwrap();
            (
                DatabaseUrl::sqlite_file(&dir.join("test.sqlite")),
                Some(TempDir(dir)),
            )
        }
        Engine::Postgres => {
            let admin = std::env::var("RESPITE_TEST_POSTGRES").unwrap();
            let name = unique("respite_test");
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
                .await
                .expect("connect to RESPITE_TEST_POSTGRES");
            sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
                .await
                .unwrap();
            let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
            (format!("{base}/{name}").parse().unwrap(), None)
        }
    }
}

pub async fn spawn(engine: Engine) -> TestApp {
    spawn_with(engine, WebConfig::default()).await
}

/// The app with `config`, but no per-source rate limits: every test request
/// comes from 127.0.0.1 (the limits are tested in `hardening`).
pub async fn spawn_with(engine: Engine, config: WebConfig) -> TestApp {
    let config = WebConfig {
        rate_limits: respite_web::limits::RateLimits::off(),
        ..config
    };
    spawn_configured(engine, config).await
}

/// The app with `config` exactly as given.
pub async fn spawn_configured(engine: Engine, config: WebConfig) -> TestApp {
    let (url, dir) = fresh_database(engine).await;
    let store = Store::connect(&url, PoolSettings::default()).await.unwrap();
    store.migrate().await.unwrap();
    let hash = auth::hash_password(PASSWORD).unwrap();
    let mut users = Vec::new();
    for role in Role::ALL {
        let email = format!("{}@clinic.test", role.as_str());
        store
            .create_staff_user(&email, role.label(), role, &hash, Timestamp::now())
            .await
            .unwrap();
        users.push((role, email));
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address: SocketAddr = listener.local_addr().unwrap();
    let state = AppState::new(store.clone(), Arc::new(config));
    tokio::spawn(respite_web::serve(listener, state, std::future::pending()));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    TestApp {
        base: format!("http://{address}"),
        store,
        url,
        client,
        users,
        _dir: dir,
    }
}

/// The CSRF token the tests use: any 32 hex digits, sent as cookie and field
/// (double submit).
pub const CSRF: &str = "0123456789abcdef0123456789abcdef";

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str, session: Option<&str>) -> reqwest::Response {
        let mut request = self.client.get(self.url(path));
        request = request.header("cookie", cookies(session));
        request.send().await.unwrap()
    }

    /// Posts a form with a valid CSRF token.
    pub async fn post_form(
        &self,
        path: &str,
        session: Option<&str>,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut all: Vec<(&str, &str)> = vec![("csrf", CSRF)];
        all.extend_from_slice(fields);
        self.client
            .post(self.url(path))
            .header("cookie", cookies(session))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(encode(&all))
            .send()
            .await
            .unwrap()
    }

    /// Signs in as `role` and returns the session token.
    pub async fn sign_in(&self, role: Role) -> String {
        let email = &self.users.iter().find(|(r, _)| *r == role).unwrap().1;
        let response = self
            .post_form(
                "/staff/login",
                None,
                &[("email", email), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(response.status(), 303, "sign-in as {role}");
        session_from(&response).expect("session cookie")
    }

    pub async fn audit_count(&self) -> usize {
        self.store
            .audit_entries(&respite_store::AuditFilter {
                limit: 100_000,
                ..Default::default()
            })
            .await
            .unwrap()
            .len()
    }

    /// A raw connection for tests that act as an attacker with database
    /// access, or that inspect rows.
    pub async fn raw(&self) -> sqlx::AnyConnection {
        sqlx::any::install_default_drivers();
        <sqlx::AnyConnection as sqlx::Connection>::connect(self.url.connection_string())
            .await
            .unwrap()
    }
}

pub fn session_from(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("respite_session="))
        .map(|v| v.split(';').next().unwrap_or("").to_owned())
        .filter(|v| !v.is_empty())
}

fn cookies(session: Option<&str>) -> String {
    match session {
        Some(token) => format!("respite_csrf={CSRF}; respite_session={token}"),
        None => format!("respite_csrf={CSRF}"),
    }
}

pub fn encode(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", percent(k), percent(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// A complete, valid inquiry form.
pub fn inquiry_fields(name: &str) -> Vec<(&'static str, String)> {
    vec![
        ("name", name.to_owned()),
        ("phone", "(503) 725-3000".to_owned()),
        ("email", "".to_owned()),
        ("preferred_channel", "phone".to_owned()),
        ("window_days", "weekdays".to_owned()),
        ("window_start", "17:00".to_owned()),
        ("window_end", "19:00".to_owned()),
        ("time_zone", "America/Chicago".to_owned()),
        ("pain_area", "back".to_owned()),
        ("pain_duration", "1-5-years".to_owned()),
        ("message", "Back pain since a fall in 2022.".to_owned()),
        ("consent", "yes".to_owned()),
    ]
}

pub fn as_refs<'a>(fields: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}
