//! Slot hoarding: one open consultation per phone number and per e-mail
//! address, and a daily cap of public bookings per source address (a
//! `WebConfig` setting, default 3). Each on SQLite and PostgreSQL.

use jiff::Timestamp;
use respite_store::Engine;
use respite_web::{Clock, WebConfig};

use crate::support::*;

/// Monday 23 November 2026, 08:00 PST at the clinic (Los Angeles); the
/// front desk takes consultations 09:00–12:00 PST (17:00Z–20:00Z).
const NOW: &str = "2026-11-23T16:00Z";

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

async fn clinic(engine: Engine) -> (TestApp, i64) {
    let config = WebConfig {
        clock: Clock::Fixed(at(NOW)),
        ..WebConfig::default()
    };
    let app = spawn_with(engine, config).await;
    let staff = crate::booking::front_desk_takes_monday_mornings(&app).await;
    (app, staff)
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql)
        .fetch_one(&mut app.raw().await)
        .await
        .unwrap();
    n
}

/// Books `starts` as `name` with `phone` and `email`: the status and body.
async fn book(
    app: &TestApp,
    staff: i64,
    starts: &str,
    (name, phone, email): (&str, &str, &str),
) -> (u16, String) {
    let fields = [
        ("name", name.to_owned()),
        ("phone", phone.to_owned()),
        ("email", email.to_owned()),
        ("time_zone", "America/Chicago".to_owned()),
        ("slot", format!("{staff}@{}", at(starts).as_millisecond())),
        ("consent", "yes".to_owned()),
    ];
    let response = app
        .post_form("/consultations", None, &as_refs(&fields))
        .await;
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

both_engines!(one_person_holds_one_open_consultation);
async fn one_person_holds_one_open_consultation(engine: Engine) {
    let (app, staff) = clinic(engine).await;
    let ana = ("Ana López", "(503) 725-3000", "");
    assert_eq!(book(&app, staff, "2026-11-23T17:00Z", ana).await.0, 303);

    // The same number again, even under another name: refused, naming the
    // field and the booking she has (on her own clock, Chicago).
    let again = ("Someone Else", "+1 503 725 3000", "");
    let (status, body) = book(&app, staff, "2026-11-23T17:15Z", again).await;
    assert_eq!(status, 409, "{engine:?}: {body}");
    assert!(
        body.contains(
            "Phone</a>: already has a booked consultation on Monday 23 November, 11:00 AM CST; \
             change or cancel it with the link in the confirmation"
        ),
        "{engine:?}: {body}"
    );

    // By e-mail likewise: a new person, then their address with another
    // number.
    let ben = ("Ben Okafor", "(503) 725-3002", "ben@example.org");
    assert_eq!(book(&app, staff, "2026-11-23T17:30Z", ben).await.0, 303);
    let ben_again = ("Ben Okafor", "(503) 725-3001", "Ben@Example.org");
    let (status, body) = book(&app, staff, "2026-11-23T17:45Z", ben_again).await;
    assert_eq!(status, 409, "{engine:?}: {body}");
    assert!(
        body.contains("E-mail</a>: already has a booked consultation on"),
        "{body}"
    );
    // Nothing half-written.
    let sql = "SELECT COUNT(*) FROM consultations";
    assert_eq!(count(&app, sql).await, 2, "{engine:?}");
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM unverified_contacts").await,
        0
    );

    // Once her booking is cancelled she may book again.
    let ana_thread = count(&app, "SELECT MIN(id) FROM inquiries").await;
    let hers = app
        .store
        .consultations_of_inquiry(ana_thread)
        .await
        .unwrap();
    assert!(app
        .store
        .cancel_consultation(hers[0].id, respite_store::ChangedBy::Person, at(NOW), &[])
        .await
        .unwrap());
    assert_eq!(book(&app, staff, "2026-11-23T18:00Z", ana).await.0, 303);
}

both_engines!(one_source_makes_at_most_three_public_bookings_a_day);
async fn one_source_makes_at_most_three_public_bookings_a_day(engine: Engine) {
    let (app, staff) = clinic(engine).await;
    let people = [
        ("Ana López", "(503) 725-3000", "2026-11-23T17:00Z"),
        ("Ben Okafor", "(503) 725-3001", "2026-11-23T17:15Z"),
        ("Cleo Park", "(503) 725-3002", "2026-11-23T17:30Z"),
    ];
    for (name, phone, starts) in people {
        let (status, body) = book(&app, staff, starts, (name, phone, "")).await;
        assert_eq!(status, 303, "{engine:?}: {body}");
    }
    let fourth = ("Dan Ruiz", "(503) 725-3003", "");
    let (status, body) = book(&app, staff, "2026-11-23T17:45Z", fourth).await;
    assert_eq!(status, 429, "{engine:?}: {body}");
    assert!(
        body.contains(
            "Bookings from this connection</a>: this connection has made 3 bookings in the last 24 hours"
        ),
        "{body}"
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM consultations").await, 3);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM inquiries").await, 3);
    let sql = "SELECT COUNT(*) FROM consultations WHERE source_address = '127.0.0.1'";
    assert_eq!(count(&app, sql).await, 3, "{engine:?}");
}
