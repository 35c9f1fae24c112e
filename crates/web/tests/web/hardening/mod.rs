//! The attacks of the security review, each performed against the real
//! server and now refused (docs/SECURITY.md names each control and the test
//! here that shows it).

use std::time::{Duration, Instant};

use respite_store::Engine;
use respite_web::connections::ConnectionLimits;
use respite_web::WebConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::*;

fn address(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_owned()
}

/// Reads until the server closes the connection (or `limit` passes) and
/// says how long that took.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buffer = [0u8; 4096];
    loop {
        match tokio::time::timeout_at((started + limit).into(), stream.read(&mut buffer)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => continue,
        }
    }
}

#[tokio::test]
async fn slow_request_heads_are_closed_at_the_header_timeout_while_healthz_answers() {
    let config = WebConfig {
        connections: ConnectionLimits {
            header_read_timeout: Duration::from_secs(1),
            ..ConnectionLimits::default()
        },
        ..WebConfig::default()
    };
    let app = spawn_configured(Engine::Sqlite, config).await;
    let mut slow = Vec::new();
    for _ in 0..50 {
        let mut stream = TcpStream::connect(address(&app)).await.unwrap();
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: clinic\r\n")
            .await
            .unwrap();
        slow.push(stream);
    }
    let mut idle = TcpStream::connect(address(&app)).await.unwrap();
    assert_eq!(app.get("/healthz", None).await.status(), 200);
    for stream in slow.iter_mut().chain([&mut idle]) {
        let closed = closed_within(stream, Duration::from_secs(5)).await;
        assert!(
            closed.is_some_and(|after| after < Duration::from_secs(3)),
            "a slow head must be closed at the 1 s header timeout: {closed:?}"
        );
    }
    // A kept-alive connection that goes quiet after a response is closed
    // by the same timer.
    let mut kept = TcpStream::connect(address(&app)).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: clinic\r\n\r\n")
        .await
        .unwrap();
    let closed = closed_within(&mut kept, Duration::from_secs(5)).await;
    assert!(closed.is_some(), "an idle kept-alive connection is closed");
}

#[tokio::test]
async fn connections_beyond_the_cap_are_closed_at_once() {
    let config = WebConfig {
        connections: ConnectionLimits {
            max_connections: 3,
            header_read_timeout: Duration::from_secs(2),
            ..ConnectionLimits::default()
        },
        ..WebConfig::default()
    };
    let app = spawn_configured(Engine::Sqlite, config).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(TcpStream::connect(address(&app)).await.unwrap());
    }
    // Give the server a moment to accept the three.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut over = TcpStream::connect(address(&app)).await.unwrap();
    let _ = over
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: clinic\r\n\r\n")
        .await;
    let closed = closed_within(&mut over, Duration::from_secs(1)).await;
    assert!(closed.is_some(), "the fourth connection is shed at once");
    // When the held ones time out, the server takes new connections again.
    drop(held);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let fresh = reqwest::Client::new();
    let response = fresh.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_slow_request_body_is_answered_408_at_the_request_timeout() {
    let config = WebConfig {
        connections: ConnectionLimits {
            request_timeout: Duration::from_secs(1),
            ..ConnectionLimits::default()
        },
        ..WebConfig::default()
    };
    let app = spawn_configured(Engine::Sqlite, config).await;
    let mut stream = TcpStream::connect(address(&app)).await.unwrap();
    stream
        .write_all(
            format!(
                "POST /inquiries HTTP/1.1\r\nHost: clinic\r\nCookie: respite_csrf={CSRF}\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ncsrf="
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the connection must be answered and closed");
    assert!(started.elapsed() < Duration::from_secs(3));
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

/// A sign-in form posted as if from `client` through the trusted proxy
/// (the test server trusts 127.0.0.1 as its proxy).
async fn sign_in_from(
    app: &TestApp,
    client: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    // Before sign-in every visitor's token is bound to no session, so one
    // fetched once serves every address the test plays.
    let csrf = app.csrf_token(None).await;
    app.client
        .post(app.url("/staff/login"))
        .header("cookie", format!("respite_csrf={csrf}"))
        .header("x-forwarded-for", client)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(&[
            ("csrf", &csrf),
            ("email", email),
            ("password", password),
        ]))
        .send()
        .await
        .unwrap()
}

fn behind_proxy() -> WebConfig {
    WebConfig {
        trusted_proxies: "127.0.0.1".parse().unwrap(),
        ..WebConfig::default()
    }
}

both_engines!(an_attacker_slows_only_their_own_address_and_the_owner_signs_in_from_another);
async fn an_attacker_slows_only_their_own_address_and_the_owner_signs_in_from_another(
    engine: Engine,
) {
    let app = spawn_configured(engine, behind_proxy()).await;
    let email = "nurse@clinic.test";
    let attacker = "203.0.113.7";
    for attempt in 1..=5 {
        let response = sign_in_from(&app, attacker, email, "wrong password!").await;
        assert_eq!(response.status(), 401, "{engine:?} attempt {attempt}");
    }
    // The attacker's sixth try, even with the right password, waits.
    for password in ["wrong password!", PASSWORD] {
        let response = sign_in_from(&app, attacker, email, password).await;
        assert_eq!(response.status(), 429, "{engine:?}");
        let retry: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(0 < retry && retry <= 30, "first delay 30 s: {retry}");
        assert!(session_from(&response).is_none());
    }
    // The nurse, from the clinic's address, signs in at once.
    let response = sign_in_from(&app, "198.51.100.20", email, PASSWORD).await;
    assert_eq!(
        response.status(),
        303,
        "{engine:?}: the owner is not locked out"
    );
    assert!(session_from(&response).is_some());
    // The audit names each source: the proxy's header was believed.
    let entries = app
        .store
        .audit_entries(&respite_store::AuditFilter::default())
        .await
        .unwrap();
    let sources: Vec<&str> = entries.iter().map(|e| e.source_address.as_str()).collect();
    assert_eq!(
        sources.iter().filter(|s| **s == attacker).count(),
        7,
        "{sources:?}"
    );
    assert_eq!(sources[0], "198.51.100.20", "newest first");
}

both_engines!(x_forwarded_for_is_ignored_without_a_trusted_proxy);
async fn x_forwarded_for_is_ignored_without_a_trusted_proxy(engine: Engine) {
    let app = spawn_configured(engine, WebConfig::default()).await;
    let email = "admin@clinic.test";
    for attempt in 1..=5 {
        // A fresh "address" each time, written by the attacker.
        let forged = format!("192.0.2.{attempt}");
        let response = sign_in_from(&app, &forged, email, "wrong password!").await;
        assert_eq!(response.status(), 401, "{engine:?}");
    }
    let response = sign_in_from(&app, "192.0.2.99", email, "wrong password!").await;
    assert_eq!(
        response.status(),
        429,
        "{engine:?}: every try came from 127.0.0.1, whatever the header said"
    );
}

both_engines!(failed_sign_ins_store_a_capped_email_and_old_rows_are_pruned);
async fn failed_sign_ins_store_a_capped_email_and_old_rows_are_pruned(engine: Engine) {
    let app = spawn_configured(engine, WebConfig::default()).await;
    // A 10,000-character "e-mail" is refused by rule, before any hashing.
    let long = format!("{}@clinic.test", "a".repeat(10_000));
    let response = app
        .post_form(
            "/staff/login",
            None,
            &[("email", &long), ("password", "wrong password!")],
        )
        .await;
    assert_eq!(response.status(), 422, "{engine:?}");
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("E-mail: must be at most 254 characters"));
    // The store cuts what it is given, whoever calls it.
    let now = jiff::Timestamp::now();
    let hour = jiff::SignedDuration::from_hours(1);
    app.store
        .record_login_failure(&long, "192.0.2.1", now - hour * 2, now - hour * 3)
        .await
        .unwrap();
    assert_eq!(app.store.login_failure_rows().await.unwrap(), (1, 254));
    // A failure now prunes rows older than the window (15 minutes).
    let response = app
        .post_form(
            "/staff/login",
            None,
            &[
                ("email", "nobody@clinic.test"),
                ("password", "wrong password!"),
            ],
        )
        .await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        app.store.login_failure_rows().await.unwrap(),
        (1, "nobody@clinic.test".len() as i64),
        "{engine:?}: the two-hour-old row is gone"
    );
}

/// Posts a form as if from `client` through the trusted proxy.
async fn post_from(
    app: &TestApp,
    client: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let csrf = app.csrf_token(None).await;
    let mut all: Vec<(&str, &str)> = vec![("csrf", &csrf)];
    all.extend_from_slice(fields);
    app.client
        .post(app.url(path))
        .header("cookie", format!("respite_csrf={csrf}"))
        .header("x-forwarded-for", client)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(&all))
        .send()
        .await
        .unwrap()
}

fn retry_after(response: &reqwest::Response) -> u64 {
    response
        .headers()
        .get("retry-after")
        .expect("Retry-After on a 429")
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn an_inquiry_flood_is_answered_429_with_retry_after_after_ten() {
    // The default limits, as `respite serve` has them.
    let app = spawn_configured(Engine::Sqlite, behind_proxy()).await;
    let mut statuses = Vec::new();
    for n in 0..15 {
        let mut fields = inquiry_fields(&format!("Flood {n}"));
        fields[1].1 = format!("(503) 725-30{n:02}");
        let response = post_from(&app, "203.0.113.7", "/inquiries", &as_refs(&fields)).await;
        if response.status() == 429 {
            let wait = retry_after(&response);
            assert!((1..=6).contains(&wait), "one more every 6 s: {wait}");
        }
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses[..10], [303; 10], "{statuses:?}");
    assert_eq!(statuses[10..], [429; 5], "{statuses:?}");
    assert_eq!(app.store.count_inquiries().await.unwrap(), 10);
    // Someone else is not affected.
    let fields = inquiry_fields("Someone Else");
    let response = post_from(&app, "198.51.100.9", "/inquiries", &as_refs(&fields)).await;
    assert_eq!(response.status(), 303);
}

#[tokio::test]
async fn one_client_cannot_book_every_slot() {
    // Monday 23 November 2026, 08:00 PST; the front desk takes calls 09:00–12:00.
    // The hourly rate limit alone: the daily cap per address (a second,
    // stricter control) is tested in `booking_caps`.
    let config = WebConfig {
        clock: respite_web::Clock::Fixed("2026-11-23T16:00Z".parse().unwrap()),
        bookings_per_source_per_day: 100,
        ..behind_proxy()
    };
    let app = spawn_configured(Engine::Sqlite, config).await;
    let staff = crate::booking::front_desk_takes_monday_mornings(&app).await;
    let slot = |minutes: i64| {
        let at: jiff::Timestamp = "2026-11-23T17:00Z".parse().unwrap();
        format!(
            "{staff}@{}",
            (at + jiff::SignedDuration::from_mins(15 * minutes)).as_millisecond()
        )
    };
    let mut statuses = Vec::new();
    for n in 0..8 {
        let slot = slot(n);
        let phone = format!("(503) 725-31{n:02}");
        let name = format!("Hoarder {n}");
        let fields = [
            ("name", name.as_str()),
            ("phone", phone.as_str()),
            ("email", ""),
            ("time_zone", "America/Los_Angeles"),
            ("slot", slot.as_str()),
            ("consent", "yes"),
        ];
        let response = post_from(&app, "203.0.113.7", "/consultations", &fields).await;
        if response.status() == 429 {
            let wait = retry_after(&response);
            assert!(wait > 10 * 60, "one more every 12 minutes: {wait}");
        }
        statuses.push(response.status().as_u16());
    }
    assert!(
        statuses[..5].iter().all(|s| *s != 429),
        "five bookings an hour are allowed: {statuses:?}"
    );
    assert_eq!(statuses[5..], [429; 3], "{statuses:?}");
    // The slots left are someone else's to book.
    let fields = [
        ("name", "Someone Else"),
        ("phone", "(503) 725-3199"),
        ("email", ""),
        ("time_zone", "America/Los_Angeles"),
        ("slot", &slot(9)),
        ("consent", "yes"),
    ];
    let response = post_from(&app, "198.51.100.9", "/consultations", &fields).await;
    assert_eq!(response.status(), 303);
}

/// Every route's response, signed in or not, carries the security headers.
async fn check_headers_on_every_route(app: &TestApp, session: Option<&str>, https: bool) {
    use respite_web::headers::CONTENT_SECURITY_POLICY_VALUE;
    assert!(!CONTENT_SECURITY_POLICY_VALUE.contains("unsafe-inline"));
    assert!(CONTENT_SECURITY_POLICY_VALUE.contains("frame-ancestors 'none'"));
    let names = respite_web::headers::CookieNames::new(https);
    // Tokens are not checked here (some are refused, which is a response
    // too): a made-up one will do.
    let cookie = match session {
        Some(token) => format!("{}={CSRF}; {}={token}", names.csrf, names.session),
        None => format!("{}={CSRF}", names.csrf),
    };
    let mut checked = 0;
    for spec in respite_web::routes::route_specs() {
        let path = spec.path.replace("{id}", "1").replace("{file}", "none.ics");
        let request = match spec.method {
            "GET" => app.client.get(app.url(&path)),
            _ => app
                .client
                .post(app.url(&path))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("csrf={CSRF}")),
        };
        let response = request.header("cookie", &cookie).send().await.unwrap();
        let status = response.status();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let what = format!("{} {path} ({status})", spec.method);
        assert_eq!(
            header("content-security-policy").as_deref(),
            Some(CONTENT_SECURITY_POLICY_VALUE),
            "{what}"
        );
        assert_eq!(
            header("x-content-type-options").as_deref(),
            Some("nosniff"),
            "{what}"
        );
        assert_eq!(
            header("referrer-policy").as_deref(),
            Some("no-referrer"),
            "{what}"
        );
        assert_eq!(header("x-frame-options").as_deref(), Some("DENY"), "{what}");
        if !path.starts_with("/static/") {
            assert_eq!(
                header("cache-control").as_deref(),
                Some("no-store"),
                "{what}"
            );
        }
        assert_eq!(
            header("strict-transport-security").is_some(),
            https,
            "{what}: HSTS exactly when served over HTTPS"
        );
        for set_cookie in response.headers().get_all("set-cookie") {
            let set_cookie = set_cookie.to_str().unwrap();
            assert_eq!(
                set_cookie.starts_with("__Host-"),
                https,
                "{what}: {set_cookie}"
            );
            assert_eq!(
                set_cookie.contains("; Secure"),
                https,
                "{what}: {set_cookie}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 30, "too few routes walked: {checked}");
    // An address no route has: the fallback's 404 too.
    let response = app.get("/no/such/page", None).await;
    assert_eq!(response.status(), 404);
    assert!(response.headers().contains_key("content-security-policy"));
}

#[tokio::test]
async fn every_route_answers_with_the_security_headers() {
    let app = spawn(Engine::Sqlite).await;
    check_headers_on_every_route(&app, None, false).await;
    let session = app.sign_in(respite_domain::Role::Admin).await;
    check_headers_on_every_route(&app, Some(&session), false).await;

    let https = WebConfig {
        secure_cookies: true,
        rate_limits: respite_web::limits::RateLimits::off(),
        ..WebConfig::default()
    };
    let app = spawn_configured(Engine::Sqlite, https).await;
    check_headers_on_every_route(&app, None, true).await;
}

#[tokio::test]
async fn pages_have_no_inline_script_and_their_scripts_are_served() {
    let app = spawn(Engine::Sqlite).await;
    for (page, script) in [
        ("/", "/static/home.js"),
        ("/consultations", "/static/book.js"),
    ] {
        let body = app.get(page, None).await.text().await.unwrap();
        assert!(!body.contains("<script>"), "{page}: inline script");
        assert!(
            !body.contains(" onchange=") && !body.contains(" onclick="),
            "{page}"
        );
        assert!(!body.contains(" style="), "{page}: inline style");
        assert!(
            body.contains(&format!("<script src=\"{script}\">")),
            "{page}"
        );
        let response = app.get(script, None).await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"],
            "text/javascript; charset=utf-8"
        );
    }
}

#[tokio::test]
async fn over_https_cookies_are_secure_and_host_prefixed() {
    let config = WebConfig {
        secure_cookies: true,
        ..WebConfig::default()
    };
    let app = spawn_configured(Engine::Sqlite, config).await;
    let form = app.get("/staff/login", None).await;
    let csrf = form.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(csrf.starts_with("__Host-respite_csrf="), "{csrf}");
    assert!(csrf.contains("; Path=/") && csrf.contains("; Secure") && !csrf.contains("Domain"));
    let token = csrf
        .strip_prefix("__Host-respite_csrf=")
        .and_then(|rest| rest.split(';').next())
        .unwrap()
        .to_owned();
    let sign_in = |cookie_name: &'static str| {
        let app = &app;
        let token = token.clone();
        async move {
            app.client
                .post(app.url("/staff/login"))
                .header("cookie", format!("{cookie_name}={token}"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(encode(&[
                    ("csrf", token.as_str()),
                    ("email", "admin@clinic.test"),
                    ("password", PASSWORD),
                ]))
                .send()
                .await
                .unwrap()
        }
    };
    // The plain-HTTP name is not the CSRF cookie over HTTPS.
    assert_eq!(sign_in("respite_csrf").await.status(), 403);
    let response = sign_in("__Host-respite_csrf").await;
    assert_eq!(response.status(), 303);
    let session = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(session.starts_with("__Host-respite_session="), "{session}");
    assert!(session.contains("; Secure") && session.contains("HttpOnly"));
    let token = session
        .trim_start_matches("__Host-respite_session=")
        .split(';')
        .next()
        .unwrap();
    let staff = |cookie: String| {
        let app = &app;
        async move {
            app.client
                .get(app.url("/staff"))
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(staff(format!("__Host-respite_session={token}")).await, 200);
    assert_eq!(
        staff(format!("respite_session={token}")).await,
        303,
        "only the __Host- cookie is the session over HTTPS"
    );
}
