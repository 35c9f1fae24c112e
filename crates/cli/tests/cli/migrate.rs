//! `respite migrate`: a SQLite file, and PostgreSQL over verified TLS.

use crate::support::*;

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
    let _drop = DroppedAtEnd {
        admin: admin.clone(),
        name: name.clone(),
    };
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
