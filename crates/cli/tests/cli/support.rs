//! Harness: the `respite` binary, throw-away databases, `both_engines!`.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

pub fn respite() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_respite"));
    command
        .env_remove("RESPITE_DB")
        .env_remove("RESPITE_BIND")
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
