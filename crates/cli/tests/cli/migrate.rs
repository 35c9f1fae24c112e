//! `respite migrate`: a SQLite file, and PostgreSQL over verified TLS.

use crate::support::*;

both_engines!(migrate_applies_every_migration_of_the_folder_and_then_does_nothing);
/// `respite migrate` on an empty database applies every migration in the
/// engine's folder (versions read here from the file names, not from the
/// store), leaves the tables and columns the store relies on, and a second
/// run changes nothing.
async fn migrate_applies_every_migration_of_the_folder_and_then_does_nothing(engine: Engine) {
    let (db, _scratch) = fresh_database(engine, "migrate").await;
    let (ok, stdout, stderr) = run(&["migrate", "--db", &db], "");
    assert!(ok, "{engine:?}: {stderr}");
    assert!(stdout.contains("is up to date"), "{stdout}");

    let folder = match engine {
        Engine::Sqlite => "sqlite",
        Engine::Postgres => "postgres",
    };
    let expected = migration_versions(folder);
    assert!(expected.len() >= 5, "{folder}: {expected:?}");
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&db)
        .await
        .unwrap();
    let applied = applied_versions(&mut conn).await;
    assert_eq!(applied, expected, "{engine:?}: applied migrations");

    for (table, columns) in EXPECTED_COLUMNS {
        let present = columns_of(&mut conn, engine, table).await;
        assert!(!present.is_empty(), "{engine:?}: no table {table}");
        for column in *columns {
            assert!(
                present.iter().any(|c| c == column),
                "{engine:?}: {table} has no column {column} (has {present:?})"
            );
        }
    }

    let (ok, _, stderr) = run(&["migrate", "--db", &db], "");
    assert!(ok, "{engine:?}: second migrate: {stderr}");
    assert_eq!(applied_versions(&mut conn).await, expected, "{engine:?}");
}

/// Tables and columns other code relies on, written from the migrations and
/// SPEC §3 by hand: inquiries as the public form stores them, staff and
/// their sessions (a token's hash, never the token), the hash-chained audit
/// trail, patients.
const EXPECTED_COLUMNS: &[(&str, &[&str])] = &[
    (
        "inquiries",
        &[
            "id",
            "received_at",
            "channel",
            "name",
            "phone_e164",
            "email",
            "preferred_channel",
            "contact_windows",
            "time_zone",
            "pain_area",
            "pain_duration",
            "message",
            "consent_at",
            "status",
            "closed_reason",
            "patient_id",
        ],
    ),
    (
        "staff_users",
        &[
            "id",
            "email",
            "display_name",
            "role",
            "password_hash",
            "active",
            "created_at",
        ],
    ),
    (
        "staff_sessions",
        &["token_hash", "user_id", "created_at", "last_seen_at"],
    ),
    (
        "audit_log",
        &[
            "seq",
            "at",
            "actor",
            "actor_role",
            "action",
            "resource_type",
            "resource_id",
            "source_address",
            "outcome",
            "prev_hash",
            "hash",
        ],
    ),
    (
        "patients",
        &[
            "id",
            "mrn",
            "given_name",
            "family_name",
            "birth_date",
            "sex",
            "phone_e164",
            "email",
            "time_zone",
            "created_at",
        ],
    ),
    (
        "messages",
        &[
            "id",
            "inquiry_id",
            "at",
            "direction",
            "channel",
            "from_address",
            "to_address",
            "body",
            "external_id",
        ],
    ),
    (
        "consultations",
        &[
            "id",
            "inquiry_id",
            "staff_user_id",
            "starts_at",
            "minutes",
            "status",
        ],
    ),
    (
        "callback_tasks",
        &["id", "inquiry_id", "created_at", "reason", "done_at"],
    ),
    (
        "contact_consents",
        &["id", "address", "channel", "granted", "at", "source"],
    ),
    (
        "jobs",
        &[
            "id",
            "kind",
            "idempotency_key",
            "run_at",
            "attempts",
            "done_at",
        ],
    ),
];

/// The versions of the migration files in `crates/store/migrations/{folder}`
/// (`0001_foundation.sql` is version 1), in order.
fn migration_versions(folder: &str) -> Vec<i64> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../store/migrations")
        .join(folder);
    let mut versions: Vec<i64> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".sql"))
        .map(|name| {
            let digits = name.split('_').next().unwrap();
            digits
                .parse()
                .unwrap_or_else(|_| panic!("{name}: no version"))
        })
        .collect();
    versions.sort_unstable();
    versions
}

/// The versions sqlx recorded as applied successfully.
async fn applied_versions(conn: &mut sqlx::AnyConnection) -> Vec<i64> {
    let rows: Vec<(i64,)> =
        sqlx::query_as("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(conn)
            .await
            .unwrap();
    rows.into_iter().map(|(v,)| v).collect()
}

/// The column names of `table` (empty when there is no such table).
async fn columns_of(conn: &mut sqlx::AnyConnection, engine: Engine, table: &str) -> Vec<String> {
    let sql = match engine {
        Engine::Sqlite => format!("SELECT name FROM pragma_table_info('{table}')"),
        Engine::Postgres => format!(
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = '{table}'"
        ),
    };
    let rows: Vec<(String,)> = sqlx::query_as(&sql).fetch_all(conn).await.unwrap();
    rows.into_iter().map(|(c,)| c).collect()
}

/// A database on another machine is reached over verified TLS: with the
/// clinic's CA, `sslmode=verify-full` migrates and the server reports the
/// session encrypted; without the CA the certificate is refused. scripts/test
/// starts PostgreSQL with TLS and sets RESPITE_TEST_POSTGRES_CA.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_is_reached_over_verified_tls() {
    // Panics when RESPITE_REQUIRE_POSTGRES is set and PostgreSQL is not.
    if !postgres_available() {
        return;
    }
    let admin = std::env::var("RESPITE_TEST_POSTGRES").unwrap();
    let ca = match std::env::var("RESPITE_TEST_POSTGRES_CA") {
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
