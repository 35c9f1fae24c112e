//! The `respite` binary as a user runs it: flags, errors, and durability of
//! acknowledged inquiries across a crash.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use respite_store::{DatabaseUrl, PoolSettings, Store};

fn respite() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_respite"));
    command
        .env_remove("RESPITE_DB")
        .env_remove("RESPITE_BIND")
        .env("RESPITE_LOG", "warn");
    command
}

fn temp_sqlite(name: &str) -> (String, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("respite_cli_{}_{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    (format!("sqlite://{}", dir.join("db.sqlite").display()), dir)
}

/// Runs `respite args…` with `stdin`, returning (success, stdout, stderr).
fn run(args: &[&str], stdin: &str) -> (bool, String, String) {
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

#[test]
fn user_add_creates_users_and_names_every_bad_input() {
    let (db, dir) = temp_sqlite("users");
    let check = |args: &[&str], stdin: &str, ok: bool, expected: &str| {
        let mut all = vec!["user", "add"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--db", &db]);
        let (success, stdout, stderr) = run(&all, stdin);
        assert_eq!(success, ok, "{args:?}: {stdout} {stderr}");
        let text = format!("{stdout}{stderr}");
        assert!(
            text.contains(expected),
            "{args:?}: expected `{expected}` in: {text}"
        );
    };
    check(
        &["--email", "nurse@clinic.example", "--role", "nurse"],
        "a long enough password\n",
        true,
        "created nurse user nurse@clinic.example",
    );
    check(
        &["--email", "nurse@clinic.example", "--role", "nurse"],
        "a long enough password\n",
        false,
        "exists already",
    );
    check(
        &["--email", "x@clinic.example", "--role", "doctor"],
        "a long enough password\n",
        false,
        "valid roles are front-desk, nurse, clinician, admin",
    );
    check(
        &["--email", "not-an-email", "--role", "admin"],
        "a long enough password\n",
        false,
        "--email: must look like",
    );
    check(
        &["--email", "y@clinic.example", "--role", "admin"],
        "short\n",
        false,
        "password: must be at least 12 characters",
    );
    check(
        &["--email", "z@clinic.example", "--role", "admin"],
        "",
        false,
        "password: none given",
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_database_urls_and_addresses_name_the_flag() {
    let (ok, _, stderr) = run(&["migrate", "--db", "mysql://localhost/x"], "");
    assert!(!ok);
    assert!(
        stderr.contains("--db") && stderr.contains("`mysql` is not a supported scheme"),
        "{stderr}"
    );
    let (ok, _, stderr) = run(&["migrate", "--db", "sqlite://"], "");
    assert!(!ok);
    assert!(stderr.contains("sqlite:// needs a file path"), "{stderr}");
    let (ok, _, stderr) = run(&["serve", "--bind", "port eighty"], "");
    assert!(!ok);
    assert!(stderr.contains("--bind"), "{stderr}");
    let (ok, _, stderr) = run(
        &["migrate", "--db", "postgres://nobody@127.0.0.1:1/none"],
        "",
    );
    assert!(!ok);
    assert!(stderr.contains("cannot connect"), "{stderr}");
    let (ok, _, stderr) = run(&["user", "add", "--email", "a@b.org"], "");
    assert!(!ok);
    assert!(stderr.contains("--role"), "{stderr}");
}

#[test]
fn bad_messaging_settings_name_the_setting() {
    let (ok, _, stderr) = run(&["serve", "--public-url", "clinic.example.org"], "");
    assert!(!ok);
    assert!(
        stderr.contains("--public-url") && stderr.contains("http(s) URL"),
        "{stderr}"
    );
    let (ok, _, stderr) = run(&["serve", "--twilio-from", "call me"], "");
    assert!(!ok);
    assert!(stderr.contains("--twilio-from"), "{stderr}");
}

#[test]
fn bad_security_settings_name_the_setting_and_the_rule() {
    let (ok, _, stderr) = run(&["serve", "--trusted-proxy", "proxy.example.org"], "");
    assert!(!ok);
    assert!(
        stderr.contains("--trusted-proxy") && stderr.contains("is not an IPv4 or IPv6 address"),
        "{stderr}"
    );
    let (ok, _, stderr) = run(&["serve", "--header-timeout-seconds", "0"], "");
    assert!(!ok);
    assert!(stderr.contains("--header-timeout-seconds"), "{stderr}");
}

#[test]
fn bad_reminder_settings_name_the_setting_and_the_rule() {
    let (ok, _, stderr) = run(&["serve", "--reminders", "1d"], "");
    assert!(!ok);
    assert!(
        stderr.contains("--reminders") && stderr.contains("like 24h,1h"),
        "{stderr}"
    );
    let (ok, _, stderr) = run(&["serve", "--quiet-hours", "21:00-21:00"], "");
    assert!(!ok);
    assert!(
        stderr.contains("--quiet-hours") && stderr.contains("HH:MM-HH:MM"),
        "{stderr}"
    );
}

#[test]
fn bad_mail_settings_name_the_setting() {
    let (ok, _, stderr) = run(&["serve", "--imap-tls", "plain"], "");
    assert!(!ok);
    assert!(
        stderr.contains("--imap-tls") && stderr.contains("plain-loopback-only"),
        "{stderr}"
    );
    let (ok, _, stderr) = run(&["serve", "--smtp-from", "clinic"], "");
    assert!(!ok);
    assert!(stderr.contains("--smtp-from"), "{stderr}");
    let (ok, _, stderr) = run(&["serve", "--imap-host", "127.0.0.1"], "");
    assert!(!ok);
    assert!(stderr.contains("RESPITE_IMAP_USER"), "{stderr}");

    // A CA file that is missing, or holds no PEM certificate.
    let (_, dir) = temp_sqlite("ca");
    let not_pem = dir.join("not-a-ca.pem");
    std::fs::write(&not_pem, "this is not a certificate\n").unwrap();
    let not_pem = not_pem.to_str().unwrap();
    let check = |flag: &str, file: &str, setting: &str, rule: &str| {
        let (ok, _, stderr) = run(&["serve", flag, file], "");
        assert!(!ok);
        assert!(
            stderr.contains(&format!("{setting}: ")) && stderr.contains(rule),
            "{flag} {file}: {stderr}"
        );
    };
    check(
        "--imap-ca-file",
        "/no/such/ca.pem",
        "RESPITE_IMAP_CA_FILE",
        "cannot read /no/such/ca.pem",
    );
    check(
        "--smtp-ca-file",
        "/no/such/ca.pem",
        "RESPITE_SMTP_CA_FILE",
        "cannot read /no/such/ca.pem",
    );
    check(
        "--imap-ca-file",
        not_pem,
        "RESPITE_IMAP_CA_FILE",
        "holds no PEM certificate",
    );
    check(
        "--smtp-ca-file",
        not_pem,
        "RESPITE_SMTP_CA_FILE",
        "holds no PEM certificate",
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn migrate_creates_and_updates_a_sqlite_database() {
    let (db, dir) = temp_sqlite("migrate");
    let (ok, stdout, stderr) = run(&["migrate", "--db", &db], "");
    assert!(ok, "{stderr}");
    assert!(stdout.contains("is up to date"));
    let (ok, _, stderr) = run(&["migrate", "--db", &db], "");
    assert!(ok, "second migrate is a no-op: {stderr}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn pk_simulate_reads_the_issue_example_from_stdin() {
    let plan = r#"{"model": "domino", "patient": {"weight_kg": 70, "age_years": 45, "sex": "female", "height_cm": 165},
      "doses": [{"start_min": 0, "duration_min": 1, "amount_mg": 24.5},
                {"start_min": 1, "duration_min": 240, "rate_mg_per_h": 35}],
      "until_min": 300, "step_s": 60}"#;
    let (ok, stdout, stderr) = run(&["pk", "simulate", "--plan", "-"], plan);
    assert!(ok, "{stderr}");
    let output: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(output["model"], "domino");
    assert_eq!(output["t_min"].as_array().unwrap().len(), 301);
    assert_eq!(output["plasma_ng_ml"].as_array().unwrap().len(), 301);
    // shared/clinical/pk-models.md: domino 60 min = 207.7 ng/mL (opentiva,
    // PyTCI and an exact solver agreeing to 4 significant figures).
    let at_60 = output["plasma_ng_ml"][60].as_f64().unwrap();
    assert!((at_60 - 207.7).abs() / 207.7 < 0.005, "{at_60}");
    let (ok, _, stderr) = run(&["pk", "simulate", "--plan", "-"], "{\"model\": \"nope\"}");
    assert!(!ok);
    assert!(!stderr.is_empty());
    let (ok, _, stderr) = run(&["pk", "simulate", "--plan", "/no/such/plan.json"], "");
    assert!(!ok);
    assert!(
        stderr.contains("--plan /no/such/plan.json: cannot read"),
        "{stderr}"
    );
}

struct Server(Child, String);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server(db: &str) -> Server {
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

const CSRF: &str = "0123456789abcdef0123456789abcdef";

async fn post_inquiry(client: &reqwest::Client, base: &str, n: usize) -> u16 {
    // One number per person: forms from one number join one thread.
    let line = 3000 + n;
    let body = format!(
        "csrf={CSRF}&name=Crash+Test+{n}&phone=%28503%29+725-{line}&preferred_channel=phone\
         &window_days=weekdays&window_start=17%3A00&window_end=19%3A00&time_zone=America%2FChicago\
         &pain_area=back&pain_duration=1-5-years&message=&consent=yes"
    );
    client
        .post(format!("{base}/inquiries"))
        .header("cookie", format!("respite_csrf={CSRF}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

/// A server killed with SIGKILL in the middle of a stream of submissions
/// keeps every inquiry it acknowledged (303), on SQLite and PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_loses_no_acknowledged_inquiry() {
    let mut databases = vec![temp_sqlite("crash").0];
    if let Ok(admin) = std::env::var("RESPITE_TEST_POSTGRES") {
        let name = format!("respite_crash_{}", std::process::id());
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
        databases.push(format!("{base}/{name}"));
    }
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    for db in databases {
        let mut server = start_server(&db);
        let base = server.1.clone();
        let client2 = client.clone();
        // Submit in the background and kill the server while it runs.
        let submitter = tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for n in 0..400 {
                match post_inquiry(&client2, &base, n).await {
                    303 => acknowledged.push(n),
                    0 => break, // the server is gone
                    other => panic!("unexpected status {other}"),
                }
            }
            acknowledged
        });
        tokio::time::sleep(Duration::from_millis(700)).await;
        server.0.kill().unwrap(); // SIGKILL: no graceful shutdown
        server.0.wait().unwrap();
        let acknowledged = submitter.await.unwrap();
        assert!(
            !acknowledged.is_empty(),
            "{db}: nothing was submitted before the crash"
        );

        // Restart on the same database: everything acknowledged is there.
        let restarted = start_server(&db);
        drop(restarted);
        let url: DatabaseUrl = db.parse().unwrap();
        let store = Store::connect(&url, PoolSettings::default()).await.unwrap();
        let stored = store
            .inquiries_with_status(respite_store::InquiryStatus::New, 10_000)
            .await
            .unwrap();
        for n in &acknowledged {
            let name = format!("Crash Test {n}");
            assert!(
                stored.iter().any(|i| i.name == name),
                "{db}: acknowledged {name} lost"
            );
        }
        store.close().await;
    }
}

/// A database on another machine is reached over verified TLS: with the
/// clinic's CA, `sslmode=verify-full` migrates and the server reports the
/// session encrypted; without the CA the certificate is refused. scripts/test
/// starts PostgreSQL with TLS and sets RESPITE_TEST_POSTGRES_CA.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_is_reached_over_verified_tls() {
    let (Ok(admin), ca) = (
        std::env::var("RESPITE_TEST_POSTGRES"),
        std::env::var("RESPITE_TEST_POSTGRES_CA"),
    ) else {
        eprintln!("note: RESPITE_TEST_POSTGRES not set: TLS test skipped");
        return;
    };
    let ca = match ca {
        Ok(ca) => ca,
        Err(_) if std::env::var("RESPITE_REQUIRE_POSTGRES").is_ok() => {
            panic!("RESPITE_REQUIRE_POSTGRES is set but RESPITE_TEST_POSTGRES_CA is not")
        }
        Err(_) => {
            eprintln!("note: RESPITE_TEST_POSTGRES_CA not set: TLS test skipped");
            return;
        }
    };
    let name = format!("respite_tls_{}", std::process::id());
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
        .await
        .unwrap();
    for sql in [
        format!("DROP DATABASE IF EXISTS {name}"),
        format!("CREATE DATABASE {name}"),
    ] {
        sqlx::Executor::execute(&mut conn, sql.as_str())
            .await
            .unwrap();
    }
    // The certificate names localhost.
    let base = admin
        .rsplit_once('/')
        .unwrap()
        .0
        .replace("@127.0.0.1:", "@localhost:");
    let verified = format!("{base}/{name}?sslmode=verify-full&sslrootcert={ca}");
    let (ok, _, stderr) = run(&["migrate", "--db", &verified], "");
    assert!(ok, "{stderr}");
    let mut tls = <sqlx::PgConnection as sqlx::Connection>::connect(&verified)
        .await
        .unwrap();
    let (encrypted,): (bool,) =
        sqlx::query_as("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(&mut tls)
            .await
            .unwrap();
    assert!(encrypted);
    let (tables,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'inquiries'",
    )
    .fetch_one(&mut tls)
    .await
    .unwrap();
    assert_eq!(tables, 1, "the migration ran over that connection");

    // Only the public roots: the test CA is unknown, nothing connects.
    let unverified_ca = format!("{base}/{name}?sslmode=verify-full");
    let (ok, _, stderr) = run(&["migrate", "--db", &unverified_ca], "");
    assert!(!ok);
    assert!(
        stderr.to_lowercase().contains("certificate") || stderr.contains("UnknownIssuer"),
        "{stderr}"
    );
}
