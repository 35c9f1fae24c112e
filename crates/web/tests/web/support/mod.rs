//! Test harness: the real application on port 0, on a fresh SQLite file and,
//! when the test command provides one, a fresh PostgreSQL database.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use respite_domain::Role;
pub use respite_store::Engine;
use respite_store::{DatabaseUrl, PoolSettings, Store};
use respite_web::{auth, AppState, WebConfig};

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
    /// The CSRF token the server gave each session ("" before sign-in).
    csrf_tokens: Mutex<HashMap<String, String>>,
    /// Declared last: dropped after the store.
    _scratch: Scratch,
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

/// A test's own database, removed when the test ends (also when it panics):
/// the SQLite file's folder, or the PostgreSQL database.
pub struct Scratch {
    _folder: Option<TempDir>,
    _database: Option<PostgresDatabase>,
}

/// A PostgreSQL database created for one test on `RESPITE_TEST_POSTGRES`,
/// dropped on drop.
pub struct PostgresDatabase {
    pub admin: String,
    pub name: String,
}

impl Drop for PostgresDatabase {
    /// `WITH (FORCE)` ends the connections the test's pools still hold. The
    /// drop runs on a thread of its own with its own runtime, since `Drop`
    /// cannot await and the test's runtime may be ending.
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
                    .await
                    .ok()?;
                sqlx::Executor::execute(&mut conn, sql.as_str()).await.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            eprintln!("note: test database {} was not dropped", self.name);
        }
    }
}

/// A fresh, empty database on `engine`, removed when the returned guard drops.
pub async fn fresh_database(engine: Engine) -> (DatabaseUrl, Scratch) {
    match engine {
        Engine::Sqlite => {
            let dir = std::env::temp_dir().join(unique("respite_test"));
            std::fs::create_dir_all(&dir).unwrap();
            (
                DatabaseUrl::sqlite_file(&dir.join("test.sqlite")),
                Scratch {
                    _folder: Some(TempDir(dir)),
                    _database: None,
                },
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
            let url = format!("{base}/{name}").parse().unwrap();
            let database = PostgresDatabase { admin, name };
            (
                url,
                Scratch {
                    _folder: None,
                    _database: Some(database),
                },
            )
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
    let (url, scratch) = fresh_database(engine).await;
    let store = Store::connect(&url, PoolSettings::default()).await.unwrap();
    store.migrate(jiff::Timestamp::now()).await.unwrap();
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
        csrf_tokens: Mutex::default(),
        _scratch: scratch,
    }
}

/// A CSRF token an attacker could choose: the 32 hex digits of the old,
/// unsigned token. The server refuses it as cookie and field alike.
pub const CSRF: &str = "0123456789abcdef0123456789abcdef";

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str, session: Option<&str>) -> reqwest::Response {
        let token = self.cached_csrf(session);
        let mut request = self.client.get(self.url(path));
        let cookies = cookies(session, token.as_deref());
        if !cookies.is_empty() {
            request = request.header("cookie", cookies);
        }
        request.send().await.unwrap()
    }

    /// Posts a form with a valid CSRF token for `session`.
    pub async fn post_form(
        &self,
        path: &str,
        session: Option<&str>,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let token = self.csrf_token(session).await;
        let mut all: Vec<(&str, &str)> = vec![("csrf", &token)];
        all.extend_from_slice(fields);
        self.client
            .post(self.url(path))
            .header("cookie", cookies(session, Some(&token)))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(encode(&all))
            .send()
            .await
            .unwrap()
    }

    /// The CSRF token the server gives `session` (`None`: a visitor who is
    /// not signed in), as a browser gets it: from the cookie a page sets.
    /// Asked once per session.
    pub async fn csrf_token(&self, session: Option<&str>) -> String {
        if let Some(token) = self.cached_csrf(session) {
            return token;
        }
        let mut request = self.client.get(self.url("/"));
        if let Some(session) = session {
            request = request.header("cookie", cookies(Some(session), None));
        }
        let response = request.send().await.unwrap();
        let token = csrf_from(&response).expect("a page sets the CSRF cookie");
        self.keep_csrf(session, &token);
        token
    }

    fn cached_csrf(&self, session: Option<&str>) -> Option<String> {
        let tokens = self.csrf_tokens.lock().unwrap();
        tokens.get(session.unwrap_or("")).cloned()
    }

    fn keep_csrf(&self, session: Option<&str>, token: &str) {
        let mut tokens = self.csrf_tokens.lock().unwrap();
        tokens.insert(session.unwrap_or("").to_owned(), token.to_owned());
    }

    /// Signs in as `role` and returns the session token; keeps the CSRF
    /// token the sign-in set for the new session.
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
        let session = session_from(&response).expect("session cookie");
        let token = csrf_from(&response).expect("sign-in sets a new CSRF token");
        self.keep_csrf(Some(&session), &token);
        session
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
    set_cookie(response, "respite_session")
}

/// The CSRF token a response sets.
pub fn csrf_from(response: &reqwest::Response) -> Option<String> {
    set_cookie(response, "respite_csrf")
}

fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    let prefix = format!("{name}=");
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(prefix.as_str()))
        .map(|v| v.split(';').next().unwrap_or("").to_owned())
        .filter(|v| !v.is_empty())
}

fn cookies(session: Option<&str>, csrf: Option<&str>) -> String {
    let csrf = csrf.map(|token| format!("respite_csrf={token}"));
    let session = session.map(|token| format!("respite_session={token}"));
    [csrf, session]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("; ")
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
