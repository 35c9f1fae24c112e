//! CSRF tokens as an attacker meets them, each on SQLite and PostgreSQL: a
//! cookie and field the attacker chose, a token of another session, the
//! token from before sign-in, a valid token sent from another site (by
//! `Origin`, `Referer` or Fetch Metadata), and the same from the clinic's own
//! pages, which is accepted.

use respite_domain::Role;
use respite_store::{AuditFilter, Engine};
use respite_web::{MessagingConfig, WebConfig};

use crate::support::*;

/// Posts `fields` with `token` as CSRF cookie and field, the session cookie
/// `session`, and the extra `headers`; answers the status and the page.
async fn post(
    app: &TestApp,
    path: &str,
    session: Option<&str>,
    token: &str,
    headers: &[(&str, &str)],
    fields: &[(&str, &str)],
) -> (u16, String) {
    let mut all = vec![("csrf", token)];
    all.extend_from_slice(fields);
    let cookie = match session {
        Some(session) => format!("respite_csrf={token}; respite_session={session}"),
        None => format!("respite_csrf={token}"),
    };
    let mut request = app
        .client
        .post(app.url(path))
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(&all));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// An anonymous inquiry with `token` and `headers`.
async fn inquire(app: &TestApp, token: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let fields = inquiry_fields("Ana Attacked");
    post(app, "/inquiries", None, token, headers, &as_refs(&fields)).await
}

/// A staff text to an inquiry that does not exist: past the CSRF layer it is
/// 404, refused by it 403.
const STAFF_FORM: &str = "/staff/inquiries/999999/sms";

fn refused_by_csrf((status, page): &(u16, String)) -> bool {
    // The CSRF layer's three refusals, in words (error.rs).
    *status == 403
        && [
            "security token",
            "Forms sent from other sites are refused",
            "this one came from another site",
        ]
        .iter()
        .any(|words| page.contains(words))
}

both_engines!(a_cookie_and_field_chosen_by_the_attacker_are_refused);
async fn a_cookie_and_field_chosen_by_the_attacker_are_refused(engine: Engine) {
    let app = spawn(engine).await;
    let session = app.sign_in(Role::FrontDesk).await;
    let forged_mac = format!("{CSRF}.{}", "0".repeat(64));
    for token in [CSRF, forged_mac.as_str(), ""] {
        let answer = inquire(&app, token, &[]).await;
        assert!(refused_by_csrf(&answer), "{engine:?} {token:?}: {answer:?}");
        assert!(answer.1.contains("security token"), "{engine:?}");
        let answer = post(
            &app,
            STAFF_FORM,
            Some(&session),
            token,
            &[],
            &[("body", "Hi")],
        )
        .await;
        assert!(refused_by_csrf(&answer), "{engine:?} {token:?}: {answer:?}");
    }
    assert_eq!(app.store.count_inquiries().await.unwrap(), 0, "{engine:?}");
}

both_engines!(a_token_minted_for_another_session_is_refused);
async fn a_token_minted_for_another_session_is_refused(engine: Engine) {
    let app = spawn(engine).await;
    let mine = app.sign_in(Role::FrontDesk).await;
    let theirs = app.sign_in(Role::FrontDesk).await;
    let their_token = app.csrf_token(Some(&theirs)).await;
    let my_token = app.csrf_token(Some(&mine)).await;
    assert_ne!(my_token, their_token);

    let answer = post(
        &app,
        STAFF_FORM,
        Some(&mine),
        &their_token,
        &[],
        &[("body", "Hi")],
    )
    .await;
    assert!(refused_by_csrf(&answer), "{engine:?}: {answer:?}");
    // A signed-in session's token does not serve a visitor either.
    assert!(refused_by_csrf(&inquire(&app, &their_token, &[]).await));

    let answer = post(
        &app,
        STAFF_FORM,
        Some(&mine),
        &my_token,
        &[],
        &[("body", "Hi")],
    )
    .await;
    assert_eq!(answer.0, 404, "{engine:?}: past the CSRF layer: {answer:?}");
    assert_eq!(app.store.count_inquiries().await.unwrap(), 0, "{engine:?}");
}

both_engines!(sign_in_and_sign_out_replace_the_token);
async fn sign_in_and_sign_out_replace_the_token(engine: Engine) {
    let app = spawn(engine).await;
    let before = app.csrf_token(None).await;
    // Signing in with the visitor's token sets a new one for the session.
    let response = app
        .post_form(
            "/staff/login",
            None,
            &[("email", "front-desk@clinic.test"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), 303, "{engine:?}");
    let session = session_from(&response).unwrap();
    let rotated = csrf_from(&response).expect("sign-in sets a CSRF token");
    assert_ne!(rotated, before);

    let answer = post(
        &app,
        STAFF_FORM,
        Some(&session),
        &before,
        &[],
        &[("body", "Hi")],
    )
    .await;
    assert!(refused_by_csrf(&answer), "{engine:?}: {answer:?}");
    let answer = post(
        &app,
        STAFF_FORM,
        Some(&session),
        &rotated,
        &[],
        &[("body", "Hi")],
    )
    .await;
    assert_eq!(answer.0, 404, "{engine:?}: {answer:?}");

    // Signing out sets a visitor's token again; the session's is refused.
    let response = app
        .client
        .post(app.url("/staff/logout"))
        .header(
            "cookie",
            format!("respite_csrf={rotated}; respite_session={session}"),
        )
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(&[("csrf", &rotated)]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "{engine:?}");
    let signed_out = csrf_from(&response).expect("sign-out sets a CSRF token");
    assert_ne!(signed_out, rotated);
    assert!(refused_by_csrf(&inquire(&app, &rotated, &[]).await));
    assert_eq!(inquire(&app, &signed_out, &[]).await.0, 303, "{engine:?}");
    assert_eq!(app.store.count_inquiries().await.unwrap(), 1, "{engine:?}");
}

both_engines!(a_valid_token_from_another_site_is_refused_and_audited);
async fn a_valid_token_from_another_site_is_refused_and_audited(engine: Engine) {
    let app = spawn(engine).await;
    let token = app.csrf_token(None).await;
    let before = app.audit_count().await;
    let foreign: [&[(&str, &str)]; 5] = [
        &[("origin", "https://evil.example")],
        // Another name of the same server is another origin.
        &[("origin", &app.base.replace("127.0.0.1", "localhost"))],
        &[("referer", "https://evil.example/page")],
        &[("origin", "null"), ("referer", "https://evil.example/")],
        &[("sec-fetch-site", "cross-site")],
    ];
    for headers in foreign {
        let answer = inquire(&app, &token, headers).await;
        assert!(
            refused_by_csrf(&answer),
            "{engine:?} {headers:?}: {answer:?}"
        );
    }
    let answer = inquire(&app, &token, foreign[0]).await;
    assert!(
        answer.1.contains("this one came from another site"),
        "{engine:?}: names the rule"
    );
    assert_eq!(app.store.count_inquiries().await.unwrap(), 0, "{engine:?}");

    // Each refusal is audited as denied, like every refusal of the layer.
    let entries = app
        .store
        .audit_entries(&AuditFilter {
            limit: 100_000,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(entries.len(), before + foreign.len() + 1, "{engine:?}");
    let last = entries.iter().max_by_key(|entry| entry.seq).unwrap();
    assert_eq!(
        (
            last.outcome.as_str(),
            last.actor.as_str(),
            last.resource_type.as_str()
        ),
        ("denied", "public", "Inquiry")
    );
}

both_engines!(a_valid_token_from_the_clinics_own_pages_is_accepted);
async fn a_valid_token_from_the_clinics_own_pages_is_accepted(engine: Engine) {
    let app = spawn(engine).await;
    let token = app.csrf_token(None).await;
    let page = app.url("/inquiries");
    let own: [&[(&str, &str)]; 3] = [
        &[("origin", &app.base), ("sec-fetch-site", "same-origin")],
        &[("referer", &page)],
        // What a browser sends from a page whose referrer policy is
        // `no-referrer`: the token decides.
        &[("origin", "null")],
    ];
    for headers in own {
        let answer = inquire(&app, &token, headers).await;
        assert_eq!(answer.0, 303, "{engine:?} {headers:?}: {answer:?}");
    }
    // Forms from one number join one inquiry.
    assert_eq!(app.store.count_inquiries().await.unwrap(), 1, "{engine:?}");
}

both_engines!(with_a_public_url_only_its_origin_is_the_clinics);
async fn with_a_public_url_only_its_origin_is_the_clinics(engine: Engine) {
    let config = WebConfig {
        messaging: MessagingConfig {
            public_url: Some("https://clinic.example.org".into()),
            ..MessagingConfig::default()
        },
        ..WebConfig::default()
    };
    let app = spawn_with(engine, config).await;
    let token = app.csrf_token(None).await;
    let answer = inquire(&app, &token, &[("origin", &app.base)]).await;
    assert!(refused_by_csrf(&answer), "{engine:?}: {answer:?}");
    let answer = inquire(&app, &token, &[("origin", "https://clinic.example.org")]).await;
    assert_eq!(answer.0, 303, "{engine:?}: {answer:?}");
    assert_eq!(app.store.count_inquiries().await.unwrap(), 1, "{engine:?}");
}
