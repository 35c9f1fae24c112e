//! Harness: the `respite` binary, throw-away databases, `both_engines!`.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

pub use respite_store::Engine;

/// Declares a storage test once per engine, as two named tests
/// `NAME::sqlite` and `NAME::postgres`, so that a failure on one engine never
/// hides the other's result. `NAME` is an `async fn NAME(engine: Engine)`;
/// the runtime has two worker threads (servers run beside the test).
/// Without `RESPITE_TEST_POSTGRES` the PostgreSQL test says so and passes,
/// unless `RESPITE_REQUIRE_POSTGRES` is set (the test command sets both).
#[macro_export]
macro_rules! both_engines {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(respite_store::Engine::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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

/// A test's own database, removed when the test ends (also when it panics).
pub struct Scratch {
    _folder: Option<Folder>,
    _database: Option<DroppedAtEnd>,
}

/// A throw-away folder, removed on drop.
pub struct Folder(pub std::path::PathBuf);

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh, empty database on `engine` (its URL), named after `name`:
/// a SQLite file, or a PostgreSQL database on `RESPITE_TEST_POSTGRES`.
pub async fn fresh_database(engine: Engine, name: &str) -> (String, Scratch) {
    match engine {
        Engine::Sqlite => {
            let (url, dir) = temp_sqlite(name);
            let scratch = Scratch {
                _folder: Some(Folder(dir)),
                _database: None,
            };
            (url, scratch)
        }
        Engine::Postgres => {
            let admin = std::env::var("RESPITE_TEST_POSTGRES").unwrap();
            let name = format!("respite_{name}_{}", std::process::id());
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
                .await
                .unwrap();
            sqlx::Executor::execute(
                &mut conn,
                format!("DROP DATABASE IF EXISTS {name}").as_str(),
            )
            .await
            .unwrap();
            sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
                .await
                .unwrap();
            let base = admin.rsplit_once('/').unwrap().0;
            let url = format!("{base}/{name}");
            let scratch = Scratch {
                _folder: None,
                _database: Some(DroppedAtEnd { admin, name }),
            };
            (url, scratch)
        }
    }
}

pub fn respite() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_respite"));
    command
        .env_remove("RESPITE_DB")
        .env_remove("RESPITE_BIND")
        .env_remove("RESPITE_AUDIT_KEY")
        // The audit key and checkpoint go to a folder of this test run, not
        // the user's data directory; a test may name its own.
        .env(
            "RESPITE_DATA_DIR",
            std::env::temp_dir().join(format!("respite_cli_data_{}", std::process::id())),
        )
        .env("RESPITE_LOG", "warn");
    command
}

pub fn temp_sqlite(name: &str) -> (String, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("respite_cli_{}_{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    (format!("sqlite://{}", dir.join("db.sqlite").display()), dir)
}

/// Runs `respite args…` with `stdin`, returning (success, stdout, stderr).
pub fn run(args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = respite()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

pub struct Server(pub Child, pub String);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn start_server(db: &str) -> Server {
    let mut child = respite()
        .args(["serve", "--db", db, "--bind", "127.0.0.1:0"])
        // The crash test posts hundreds of forms from one address.
        .args(["--limit-inquiries-per-minute", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in: {line}"))
        .trim_end_matches('/')
        .to_owned();
    Server(child, url)
}

/// A test's PostgreSQL database, dropped when the test ends (also when it
/// panics), on a thread and runtime of its own since `Drop` cannot await.
pub struct DroppedAtEnd {
    pub admin: String,
    pub name: String,
}

impl Drop for DroppedAtEnd {
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
