//! The shape of the web layer, each on SQLite and PostgreSQL: the staff
//! home at `/staff/` (SPEC §3 names it so), a request the CSRF layer refuses
//! is still audited, and a booking link from before a reschedule is refused.
//! Self-contained: its fixtures are its own.

use jiff::Timestamp;
use respite_domain::Role;
use respite_store::{AuditFilter, AuditRecord, Engine};
use respite_web::{Clock, WebConfig};

use crate::booking::front_desk_takes_monday_mornings;
use crate::support::*;

both_engines!(the_staff_home_answers_at_its_address_with_a_trailing_slash);
async fn the_staff_home_answers_at_its_address_with_a_trailing_slash(engine: Engine) {
    let app = spawn(engine).await;
    let session = app.sign_in(Role::FrontDesk).await;
    let response = app.get("/staff/", Some(&session)).await;
    assert_eq!(response.status(), 308, "{engine:?}");
    assert_eq!(response.headers()["location"], "/staff");
    let home = app.get("/staff", Some(&session)).await;
    assert_eq!(home.status(), 200, "{engine:?}");
    assert!(home.text().await.unwrap().contains("Inquiries"));

    // The query is kept; signed out, the home still asks for sign-in.
    let response = app.get("/staff/patients/?q=Ana", None).await;
    assert_eq!(response.status(), 308);
    assert_eq!(response.headers()["location"], "/staff/patients?q=Ana");
    let response = app.get("/staff/", None).await;
    assert_eq!(response.headers()["location"], "/staff");
    let response = app.get("/staff", None).await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/staff/login?next=/staff");

    // The rule never sends anyone off the site, and unknown addresses stay
    // unknown.
    for path in ["//evil.example/", "/\\evil.example/"] {
        let response = app.get(path, None).await;
        assert_eq!(response.status(), 404, "{engine:?} {path}");
    }
    let response = app.get("/nowhere/", None).await;
    assert_eq!(response.headers()["location"], "/nowhere");
    assert_eq!(app.get("/nowhere", None).await.status(), 404);
}

both_engines!(a_post_refused_by_the_csrf_layer_is_audited_as_denied);
async fn a_post_refused_by_the_csrf_layer_is_audited_as_denied(engine: Engine) {
    let app = spawn(engine).await;
    let session = app.sign_in(Role::FrontDesk).await;
    let before = app.audit_count().await;

    // A signed-in staff member's form with a token that is not the cookie's.
    let response = app
        .client
        .post(app.url("/staff/inquiries/7/sms"))
        .header(
            "cookie",
            format!("respite_csrf={CSRF}; respite_session={session}"),
        )
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(&[
            ("csrf", "ffffffffffffffffffffffffffffffff"),
            ("body", "Hello"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403, "{engine:?}");
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("security token is missing or out of date"));
    let entry = last_entry(&app).await;
    assert_eq!(app.audit_count().await, before + 1, "{engine:?}");
    assert_eq!(entry.outcome, "denied");
    assert_eq!(entry.actor, "front-desk@clinic.test");
    assert_eq!(entry.actor_role, "front-desk");
    assert_eq!(entry.resource_type, "Communication");
    assert_eq!(entry.action, "create");
    assert_eq!(entry.resource_id, "7");

    // An anonymous cross-site post to a public form: denied, by "public".
    let response = app
        .client
        .post(app.url("/inquiries"))
        .header("sec-fetch-site", "cross-site")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=Ana")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403, "{engine:?}");
    let entry = last_entry(&app).await;
    assert_eq!(app.audit_count().await, before + 2, "{engine:?}");
    assert_eq!(entry.outcome, "denied");
    assert_eq!(entry.actor, "public");
    assert_eq!(entry.resource_type, "Inquiry");
    assert_eq!(entry.resource_id, "*");

    // A route that touches no health data is refused and not audited.
    let response = app
        .client
        .post(app.url("/staff/logout"))
        .header("cookie", format!("respite_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(app.audit_count().await, before + 2, "{engine:?}");
}

both_engines!(the_account_page_says_what_each_role_may_open);
async fn the_account_page_says_what_each_role_may_open(engine: Engine) {
    let app = spawn(engine).await;
    // Expected from SPEC §2's table: the front desk has the queue, not the
    // charts; the administrator has the audit trail, not the charts.
    let cases = [
        (
            Role::FrontDesk,
            "Front desk",
            "See the inquiry queue",
            "Read charts",
        ),
        (
            Role::Nurse,
            "Nurse",
            "Read charts",
            "Review the audit trail",
        ),
        (
            Role::Admin,
            "Administrator",
            "Review the audit trail",
            "Read charts",
        ),
    ];
    for (role, label, may, may_not) in cases {
        let session = app.sign_in(role).await;
        let response = app.get("/staff/account", Some(&session)).await;
        assert_eq!(response.status(), 200, "{engine:?} {role}");
        let body = response.text().await.unwrap();
        let granted = body.split("id=\"granted\"").nth(1).unwrap();
        let (granted, others) = granted.split_once("</ul>").unwrap();
        assert!(
            body.contains(&format!("<dd id=\"role\">{label}</dd>")),
            "{role}"
        );
        assert!(granted.contains(may), "{role}: {granted}");
        assert!(
            !granted.contains(may_not) && others.contains(may_not),
            "{role}"
        );
    }
    let response = app.get("/staff/account", None).await;
    assert_eq!(
        response.headers()["location"],
        "/staff/login?next=/staff/account"
    );
}

/// Monday 23 November 2026, 08:00 PST at the clinic (Los Angeles).
const NOW: &str = "2026-11-23T16:00Z";

both_engines!(a_booking_link_from_before_a_reschedule_is_refused);
async fn a_booking_link_from_before_a_reschedule_is_refused(engine: Engine) {
    let config = WebConfig {
        clock: Clock::Fixed(NOW.parse().unwrap()),
        ..WebConfig::default()
    };
    let app = spawn_with(engine, config).await;
    let staff = front_desk_takes_monday_mornings(&app).await;
    let slot = |at: &str| {
        format!(
            "{staff}@{}",
            at.parse::<Timestamp>().unwrap().as_millisecond()
        )
    };
    let booked = app
        .post_form(
            "/consultations",
            None,
            &[
                ("name", "Ana López"),
                ("phone", "(503) 725-3000"),
                ("email", ""),
                ("time_zone", "America/Chicago"),
                ("slot", &slot("2026-11-23T18:00Z")),
                ("consent", "yes"),
            ],
        )
        .await;
    assert_eq!(booked.status(), 303, "{engine:?}");
    let old = token_of(&booked);
    let moved = app
        .post_form(
            "/consultations/booking/reschedule",
            None,
            &[("token", &old), ("slot", &slot("2026-11-23T18:15Z"))],
        )
        .await;
    assert_eq!(moved.status(), 303, "{engine:?}");
    let new = token_of(&moved);

    // The old link neither shows, nor moves, nor cancels the booking.
    let refused = "This link is from before your consultation was moved";
    let page = app
        .get(&format!("/consultations/booking?token={old}"), None)
        .await;
    assert_eq!(page.status(), 410, "{engine:?}");
    assert!(page.text().await.unwrap().contains(refused));
    let ics = app
        .get(&format!("/consultations/booking.ics?token={old}"), None)
        .await;
    assert_eq!(ics.status(), 410, "{engine:?}");
    let form = app
        .get(
            &format!("/consultations/booking/reschedule?token={old}"),
            None,
        )
        .await;
    assert_eq!(form.status(), 410, "{engine:?}");
    let again = app
        .post_form(
            "/consultations/booking/reschedule",
            None,
            &[("token", &old), ("slot", &slot("2026-11-23T18:30Z"))],
        )
        .await;
    assert_eq!(again.status(), 410, "{engine:?}");
    let cancel = app
        .post_form("/consultations/booking/cancel", None, &[("token", &old)])
        .await;
    assert_eq!(cancel.status(), 410, "{engine:?}");
    assert!(cancel.text().await.unwrap().contains(refused));

    // Still booked at the new time, which the new link shows.
    let record = app
        .store
        .consultation(booking_id(&new))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.status, "booked");
    assert_eq!(record.starts_at, "2026-11-23T18:15Z".parse().unwrap());
    let page = app
        .get(&format!("/consultations/booking?token={new}"), None)
        .await;
    assert_eq!(page.status(), 200, "{engine:?}");
    let cancel = app
        .post_form("/consultations/booking/cancel", None, &[("token", &new)])
        .await;
    assert_eq!(cancel.status(), 200, "{engine:?}");
}

/// The newest audit entry.
async fn last_entry(app: &TestApp) -> AuditRecord {
    app.store
        .audit_entries(&AuditFilter {
            limit: 100_000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .max_by_key(|entry| entry.seq)
        .unwrap()
}

/// The token of a redirect to a booking's confirmation.
fn token_of(response: &reqwest::Response) -> String {
    let location = response.headers()["location"].to_str().unwrap();
    location.split_once("token=").unwrap().1.to_owned()
}

fn booking_id(token: &str) -> i64 {
    token.split('.').next().unwrap().parse().unwrap()
}
