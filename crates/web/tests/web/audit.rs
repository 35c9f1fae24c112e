//! The audit trail: append-only and tamper-evident.

use respite_domain::Role;
use respite_store::{AuditChainStatus, Engine};

use crate::support::*;

both_engines!(the_audit_trail_is_append_only_and_tamper_evident);
async fn the_audit_trail_is_append_only_and_tamper_evident(engine: Engine) {
    let app = spawn(engine).await;
    let token = app.sign_in(Role::Admin).await;
    app.get("/staff/patients", Some(&token)).await;
    app.get("/staff/audit", Some(&token)).await;
    let entries = app.audit_count().await;
    assert!(entries >= 3);
    assert_eq!(
        app.store.verify_audit_chain().await.unwrap(),
        AuditChainStatus::Intact {
            entries: entries as i64
        }
    );

    let mut raw = app.raw().await;
    let update = sqlx::query("UPDATE audit_log SET actor = 'someone else' WHERE seq = 2")
        .execute(&mut raw)
        .await;
    assert!(update.is_err(), "{engine:?}: UPDATE must be refused");
    let delete = sqlx::query("DELETE FROM audit_log").execute(&mut raw).await;
    assert!(delete.is_err(), "{engine:?}: DELETE must be refused");
    assert_eq!(app.audit_count().await, entries);

    // Someone with the database owner's rights removes the guard and
    // edits a row: the chain shows where.
    let disable = match engine {
        Engine::Sqlite => "DROP TRIGGER audit_log_no_update",
        Engine::Postgres => "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete",
    };
    sqlx::query(disable).execute(&mut raw).await.unwrap();
    sqlx::query("UPDATE audit_log SET actor = 'someone else' WHERE seq = 2")
        .execute(&mut raw)
        .await
        .unwrap();
    assert_eq!(
        app.store.verify_audit_chain().await.unwrap(),
        AuditChainStatus::BrokenAt { seq: 2 },
        "{engine:?}"
    );
    let page = app
        .get("/staff/audit", Some(&token))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("BROKEN at entry 2"),
        "{engine:?}: the admin page must show the break"
    );
}
