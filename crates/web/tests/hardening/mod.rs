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
