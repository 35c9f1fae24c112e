//! The attacks of the security review, each performed against the real
//! server and now refused (docs/SECURITY.md names each control and the test
//! here that shows it).

use std::time::{Duration, Instant};

use respite_store::Engine;
use respite_web::connections::ConnectionLimits;
use respite_web::WebConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::both_engines;
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
    app.client
        .post(app.url("/staff/login"))
        .header("cookie", format!("respite_csrf={CSRF}"))
        .header("x-forwarded-for", client)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(&[
            ("csrf", CSRF),
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
        .contains("email: must be at most 254 characters"));
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
    let mut all: Vec<(&str, &str)> = vec![("csrf", CSRF)];
    all.extend_from_slice(fields);
    app.client
        .post(app.url(path))
        .header("cookie", format!("respite_csrf={CSRF}"))
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
    let config = WebConfig {
        clock: respite_web::Clock::Fixed("2026-11-23T16:00Z".parse().unwrap()),
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
