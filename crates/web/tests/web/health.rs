//! The health check and how the database is set up.

use respite_store::Engine;

use crate::support::*;

both_engines!(healthz_reports_the_database);
async fn healthz_reports_the_database(engine: Engine) {
    let app = spawn(engine).await;
    let response = app.get("/healthz", None).await;
    assert_eq!(response.status(), 200, "{engine:?}");
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"status":"ok","database":"ok"}"#
    );
    app.store.close().await;
    let response = app.get("/healthz", None).await;
    assert_eq!(
        response.status(),
        503,
        "{engine:?}: closed pool must report unavailable"
    );
}

#[tokio::test]
async fn sqlite_databases_are_in_wal_mode() {
    let app = spawn(Engine::Sqlite).await;
    let mut raw = app.raw().await;
    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(&mut raw)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
}
