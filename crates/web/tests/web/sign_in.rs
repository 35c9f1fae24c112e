//! Staff sign-in: lock-out, idle timeout, sign-out and the session cookie.

use std::time::Duration;

use respite_domain::Role;
use respite_store::Engine;
use respite_web::WebConfig;

use crate::support::*;

both_engines!(repeated_failed_sign_ins_lock_the_account_for_a_while);
async fn repeated_failed_sign_ins_lock_the_account_for_a_while(engine: Engine) {
    let app = spawn(engine).await;
    let email = "nurse@clinic.test";
    for attempt in 1..=5 {
        let response = app
            .post_form(
                "/staff/login",
                None,
                &[("email", email), ("password", "wrong password!")],
            )
            .await;
        assert_eq!(response.status(), 401, "{engine:?} attempt {attempt}");
        assert!(session_from(&response).is_none());
    }
    let response = app
        .post_form(
            "/staff/login",
            None,
            &[("email", email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        response.status(),
        429,
        "{engine:?}: the right password is refused while locked"
    );
    assert!(session_from(&response).is_none());
    // Another account is not affected.
    app.sign_in(Role::Clinician).await;
}

both_engines!(sessions_end_after_the_idle_timeout_and_at_sign_out);
async fn sessions_end_after_the_idle_timeout_and_at_sign_out(engine: Engine) {
    let config = WebConfig {
        idle_timeout: Duration::from_secs(1),
        ..WebConfig::default()
    };
    let app = spawn_with(engine, config).await;
    let token = app.sign_in(Role::FrontDesk).await;
    assert_eq!(app.get("/staff", Some(&token)).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let response = app.get("/staff", Some(&token)).await;
    assert_eq!(
        response.status(),
        303,
        "{engine:?}: idle session must be signed out"
    );

    let app = spawn(engine).await;
    let token = app.sign_in(Role::FrontDesk).await;
    let out = app.post_form("/staff/logout", Some(&token), &[]).await;
    assert_eq!(out.status(), 303);
    assert_eq!(
        app.get("/staff", Some(&token)).await.status(),
        303,
        "{engine:?}: signed out"
    );
}

#[tokio::test]
async fn session_cookies_are_http_only_and_same_site() {
    let app = spawn(Engine::Sqlite).await;
    let email = "admin@clinic.test";
    let response = app
        .post_form(
            "/staff/login",
            None,
            &[("email", email), ("password", PASSWORD)],
        )
        .await;
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("respite_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    // The stored session is the token's hash, never the token.
    let token = session_from(&response).unwrap();
    let mut raw = app.raw().await;
    let (stored,): (String,) = sqlx::query_as("SELECT token_hash FROM staff_sessions")
        .fetch_one(&mut raw)
        .await
        .unwrap();
    assert_ne!(stored, token);
    assert_eq!(stored, sha256_hex(&token));
}

/// SHA-256 in lower-case hex, computed here rather than by
/// `respite_web::auth::token_hash` (the code under test).
fn sha256_hex(text: &str) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The test's own hash agrees with the published vector: SHA-256("abc"),
/// FIPS 180-2 appendix B.1.
#[test]
fn the_tests_sha256_matches_the_published_vector() {
    assert_eq!(
        sha256_hex("abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}
