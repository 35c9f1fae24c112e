//! `respite audit verify` as an operator runs it: exit status 0 for an
//! intact chain with its checkpoint, 1 with a message naming the first bad
//! entry (or the missing checkpoint, or the missing key) otherwise, on
//! SQLite and, when the test command provides one, PostgreSQL.

use std::path::{Path, PathBuf};
use std::process::Command;

use respite_store::{
    audit_checkpoint_path, AuditEntry, AuditKeys, DatabaseUrl, Engine, Outcome, PoolSettings, Store,
};

const KEY: &str = "5e1f0a9b8c7d6e5f40312a1b0c9d8e7f6a5b4c3d2e1f00112233445566778899";
const OTHER_KEY: &str = "99887766554433221100ffeeddccbbaa99887766554433221100ffeeddccbbaa";

/// A throw-away folder, removed on drop.
struct Folder(PathBuf);

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn folder(name: &str) -> Folder {
    let dir = std::env::temp_dir().join(format!("respite_cli_audit_{}_{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Folder(dir)
}

/// `respite audit verify --db URL` with the data directory `data` and the
/// audit key `key` (None: from the key file); (exit code, stdout + stderr).
fn verify(db: &str, data: &Path, key: Option<&str>) -> (Option<i32>, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_respite"));
    command
        .args(["audit", "verify", "--db", db])
        .env_remove("RESPITE_DB")
        .env_remove("RESPITE_AUDIT_KEY")
        .env("RESPITE_DATA_DIR", data)
        .env("RESPITE_LOG", "warn");
    if let Some(key) = key {
        command.env("RESPITE_AUDIT_KEY", key);
    }
    let output = command.output().unwrap();
    (
        output.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

/// The databases to run on: a SQLite file, and a fresh PostgreSQL database
/// when `RESPITE_TEST_POSTGRES` names a server.
async fn databases(dir: &Path) -> Vec<(Engine, String)> {
    let mut databases = vec![(
        Engine::Sqlite,
        format!("sqlite://{}", dir.join("db.sqlite").display()),
    )];
    if let Ok(admin) = std::env::var("RESPITE_TEST_POSTGRES") {
        let name = format!("respite_cli_audit_{}", std::process::id());
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
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        databases.push((Engine::Postgres, format!("{base}/{name}")));
    } else if std::env::var("RESPITE_REQUIRE_POSTGRES").is_ok() {
        panic!("RESPITE_REQUIRE_POSTGRES is set but RESPITE_TEST_POSTGRES is not");
    }
    databases
}

fn entry(n: i64) -> AuditEntry {
    AuditEntry {
        at: jiff::Timestamp::from_second(1_790_000_000 + n).unwrap(),
        actor: "admin@clinic.test".into(),
        actor_role: "admin".into(),
        action: "read".into(),
        resource_type: "Patient".into(),
        resource_id: n.to_string(),
        source_address: "127.0.0.1".into(),
        outcome: Outcome::Success,
    }
}

#[tokio::test]
async fn audit_verify_exits_non_zero_naming_the_first_bad_entry() {
    let dir = folder("verify");
    let absent = format!("sqlite://{}", dir.0.join("absent.sqlite").display());
    let (code, text) = verify(&absent, &dir.0, Some(KEY));
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("absent.sqlite: no such database file"),
        "{text}"
    );
    assert!(!dir.0.join("absent.sqlite").exists());
    for (engine, db) in databases(&dir.0).await {
        let data = dir.0.join(format!("data-{engine:?}"));
        std::fs::create_dir_all(&data).unwrap();
        let url: DatabaseUrl = db.parse().unwrap();
        let store = Store::connect(&url, PoolSettings::default()).await.unwrap();
        store.migrate(jiff::Timestamp::now()).await.unwrap();
        let store = store
            .with_audit_key(AuditKeys::parse(KEY, "test").unwrap())
            .with_audit_checkpoint(audit_checkpoint_path(&data, &url));
        for n in 1..=5 {
            store.append_audit(&entry(n)).await.unwrap();
        }

        let (code, text) = verify(&db, &data, Some(KEY));
        assert_eq!(code, Some(0), "{engine:?}: {text}");
        assert!(text.contains("intact: all 5 entries verify"), "{text}");
        assert!(text.contains("checkpoint (entry 5, 5 entries"), "{text}");

        // Without the key: no fresh key is made up, the file is named.
        let (code, text) = verify(&db, &data, None);
        assert_eq!(code, Some(1), "{engine:?}: {text}");
        assert!(text.contains("audit.key: missing"), "{text}");

        // Under another key: the entries name a key that is not held.
        let (code, text) = verify(&db, &data, Some(OTHER_KEY));
        assert_eq!(code, Some(1), "{engine:?}: {text}");
        assert!(text.contains("broken at entry 1"), "{text}");

        // Checkpoint gone (another data directory): refused, not passed.
        let elsewhere = dir.0.join(format!("elsewhere-{engine:?}"));
        std::fs::create_dir_all(&elsewhere).unwrap();
        let (code, text) = verify(&db, &elsewhere, Some(KEY));
        assert_eq!(code, Some(1), "{engine:?}: {text}");
        assert!(text.contains("no checkpoint at"), "{text}");

        // An attacker with the database drops the guards, removes the
        // newest entry, then edits entry 2.
        sqlx::any::install_default_drivers();
        let mut raw = <sqlx::AnyConnection as sqlx::Connection>::connect(url.connection_string())
            .await
            .unwrap();
        let drop_guards: &[&str] = match engine {
            Engine::Sqlite => &[
                "DROP TRIGGER audit_log_no_update",
                "DROP TRIGGER audit_log_no_delete",
            ],
            Engine::Postgres => &["ALTER TABLE audit_log DISABLE TRIGGER USER"],
        };
        for statement in drop_guards {
            sqlx::query(statement).execute(&mut raw).await.unwrap();
        }
        sqlx::query("DELETE FROM audit_log WHERE seq = 5")
            .execute(&mut raw)
            .await
            .unwrap();
        let (code, text) = verify(&db, &data, Some(KEY));
        assert_eq!(code, Some(1), "{engine:?}: {text}");
        assert!(
            text.contains("truncated: the signed checkpoint names entry 5 (5 entries) but the chain ends at entry 4"),
            "{text}"
        );
        sqlx::query("UPDATE audit_log SET actor = 'someone else' WHERE seq = 2")
            .execute(&mut raw)
            .await
            .unwrap();
        let (code, text) = verify(&db, &data, Some(KEY));
        assert_eq!(code, Some(1), "{engine:?}: {text}");
        assert!(text.contains("audit trail: broken at entry 2"), "{text}");
        store.close().await;
    }
}
