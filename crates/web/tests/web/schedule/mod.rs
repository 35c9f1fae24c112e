//! The administrator's consultation schedule (opening hours, holidays,
//! availability), each on SQLite and PostgreSQL: a change shows on the public
//! booking page as exactly the expected slots; bad input is refused by field
//! and stores nothing; only the administrator changes it; booked
//! consultations stay booked.

use jiff::Timestamp;
use respite_domain::Role;
use respite_store::Engine;
use respite_web::{Clock, WebConfig};

use crate::support::*;

/// Monday 23 November 2026, 08:00 PST at the clinic (Los Angeles, UTC−8
/// until March). The booking page offers 14 days: 23 Nov to 6 Dec.
const NOW: &str = "2026-11-23T16:00Z";

async fn clinic(engine: Engine) -> (TestApp, String) {
    let config = WebConfig {
        clock: Clock::Fixed(NOW.parse().unwrap()),
        ..WebConfig::default()
    };
    let app = spawn_with(engine, config).await;
    let admin = app.sign_in(Role::Admin).await;
    (app, admin)
}

async fn user_id(app: &TestApp, role: Role) -> String {
    let email = format!("{}@clinic.test", role.as_str());
    app.store
        .staff_users()
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.email == email)
        .unwrap()
        .id
        .to_string()
}

/// The slots the public booking page offers, as `STAFF@UTC-TIME`, sorted.
async fn offered(app: &TestApp) -> Vec<String> {
    let body = app
        .get("/consultations?time_zone=America/Los_Angeles", None)
        .await
        .text()
        .await
        .unwrap();
    let mut slots: Vec<String> = body
        .split("name=\"slot\" value=\"")
        .skip(1)
        .map(|rest| {
            let key = rest.split('"').next().unwrap();
            let (staff, millis) = key.split_once('@').unwrap();
            let at = Timestamp::from_millisecond(millis.parse().unwrap()).unwrap();
            format!("{staff}@{}", at.strftime("%Y-%m-%dT%H:%MZ"))
        })
        .collect();
    slots.sort();
    slots
}

/// `staff@` each of `times` (UTC, written out by hand from the clinic's
/// wall clock: PST is UTC−8).
fn slots(staff: &str, times: &[&str]) -> Vec<String> {
    let mut all: Vec<String> = times.iter().map(|t| format!("{staff}@{t}")).collect();
    all.sort();
    all
}

async fn post(app: &TestApp, session: &str, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let response = app.post_form(path, Some(session), fields).await;
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let mut raw = app.raw().await;
    let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&mut raw).await.unwrap();
    n
}

/// The id of the only availability interval that starts at `starts`.
async fn availability_id(app: &TestApp, starts: &str) -> i64 {
    app.store
        .staff_availability()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.availability.starts.strftime("%H:%M").to_string() == starts)
        .unwrap()
        .id
}

both_engines!(the_booking_page_offers_exactly_what_the_administrator_set);
async fn the_booking_page_offers_exactly_what_the_administrator_set(engine: Engine) {
    let (app, admin) = clinic(engine).await;
    let desk = user_id(&app, Role::FrontDesk).await;
    assert_eq!(offered(&app).await, Vec::<String>::new(), "{engine:?}");

    // The front desk takes calls on Tuesdays 09:00–10:00 (default hours
    // 09:00–17:00): both Tuesdays of the fortnight, four slots each.
    let (status, _) = post(
        &app,
        &admin,
        "/staff/schedule/availability",
        &[
            ("staff_user_id", &desk),
            ("weekday", "tuesday"),
            ("starts", "09:00"),
            ("ends", "10:00"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{engine:?}");
    let tuesday_24 = [
        "2026-11-24T17:00Z",
        "2026-11-24T17:15Z",
        "2026-11-24T17:30Z",
        "2026-11-24T17:45Z",
    ];
    let tuesday_1 = [
        "2026-12-01T17:00Z",
        "2026-12-01T17:15Z",
        "2026-12-01T17:30Z",
        "2026-12-01T17:45Z",
    ];
    assert_eq!(
        offered(&app).await,
        slots(&desk, &[&tuesday_24[..], &tuesday_1[..]].concat()),
        "{engine:?}"
    );

    // A holiday on Tuesday 24 November: nothing that day.
    let (status, _) = post(
        &app,
        &admin,
        "/staff/schedule/holidays",
        &[("day", "2026-11-24"), ("name", "Staff training")],
    )
    .await;
    assert_eq!(status, 303, "{engine:?}");
    assert_eq!(offered(&app).await, slots(&desk, &tuesday_1), "{engine:?}");

    // Tuesdays now open at 09:30, with a break 12:00–13:00: only the
    // overlap with the availability is offered.
    let (status, _) = post(
        &app,
        &admin,
        "/staff/schedule/hours",
        &[
            ("weekday", "tuesday"),
            ("opens_1", "13:00"),
            ("closes_1", "17:00"),
            ("opens_2", "09:30"),
            ("closes_2", "12:00"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{engine:?}");
    assert_eq!(
        offered(&app).await,
        slots(&desk, &["2026-12-01T17:30Z", "2026-12-01T17:45Z"]),
        "{engine:?}"
    );
    let page = app.get("/staff/schedule", Some(&admin)).await;
    assert_eq!(page.status(), 200);
    let body = page.text().await.unwrap();
    assert!(body.contains("09:30–12:00, 13:00–17:00"), "{engine:?}");
    // The 09:00 start now lies before the clinic opens: flagged, kept.
    assert!(
        body.contains("Outside the clinic&#x27;s current hours")
            || body.contains("Outside the clinic&#39;s current hours"),
        "{body}"
    );
    assert!(body.contains("Staff training"));

    // A second interval, 16:00–17:00 PST = 00:00–01:00Z the next day.
    let (status, _) = post(
        &app,
        &admin,
        "/staff/schedule/availability",
        &[
            ("staff_user_id", &desk),
            ("weekday", "tuesday"),
            ("starts", "16:00"),
            ("ends", "17:00"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{engine:?}");
    let late_1 = [
        "2026-12-02T00:00Z",
        "2026-12-02T00:15Z",
        "2026-12-02T00:30Z",
        "2026-12-02T00:45Z",
    ];
    let late_24 = [
        "2026-11-25T00:00Z",
        "2026-11-25T00:15Z",
        "2026-11-25T00:30Z",
        "2026-11-25T00:45Z",
    ];
    assert_eq!(
        offered(&app).await,
        slots(
            &desk,
            &[&["2026-12-01T17:30Z", "2026-12-01T17:45Z"][..], &late_1[..]].concat()
        ),
        "{engine:?}"
    );

    // The holiday removed, and the morning interval: Tuesday afternoons.
    let (status, _) = post(
        &app,
        &admin,
        "/staff/schedule/holidays/remove",
        &[("day", "2026-11-24")],
    )
    .await;
    assert_eq!(status, 303, "{engine:?}");
    let morning = availability_id(&app, "09:00").await;
    let (status, _) = post(
        &app,
        &admin,
        &format!("/staff/schedule/availability/{morning}/remove"),
        &[],
    )
    .await;
    assert_eq!(status, 303, "{engine:?}");
    assert_eq!(
        offered(&app).await,
        slots(&desk, &[&late_24[..], &late_1[..]].concat()),
        "{engine:?}"
    );

    // Sunday closed → open: nobody is available on Sundays, so no slot.
    let (status, _) = post(
        &app,
        &admin,
        "/staff/schedule/hours",
        &[
            ("weekday", "sunday"),
            ("opens_1", "10:00"),
            ("closes_1", "12:00"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    // Tuesday closed: every row empty.
    let (status, _) = post(
        &app,
        &admin,
        "/staff/schedule/hours",
        &[("weekday", "tuesday")],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(offered(&app).await, Vec::<String>::new(), "{engine:?}");
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM clinic_opening_hours WHERE weekday = 2"
        )
        .await,
        0
    );

    // Every change is in the audit trail, by the administrator.
    let entries = app
        .store
        .audit_entries(&respite_store::AuditFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    let changes: Vec<(String, String)> = entries
        .iter()
        .filter(|e| e.resource_type == "Schedule")
        .map(|e| (e.action.clone(), e.resource_id.clone()))
        .collect();
    assert_eq!(changes.len(), 8, "{engine:?} {changes:?}");
    assert!(changes.contains(&("create".to_owned(), "holiday-2026-11-24".to_owned())));
    assert!(changes.contains(&("delete".to_owned(), morning.to_string())));
    assert!(changes.contains(&("update".to_owned(), "hours-tuesday".to_owned())));
}

both_engines!(invalid_schedule_input_is_named_kept_and_nothing_is_stored);
async fn invalid_schedule_input_is_named_kept_and_nothing_is_stored(engine: Engine) {
    let (app, admin) = clinic(engine).await;
    let desk = user_id(&app, Role::FrontDesk).await;
    let nurse = user_id(&app, Role::Nurse).await;
    let hours_before = app.store.opening_hours().await.unwrap();
    let check = |path: &'static str,
                 fields: Vec<(&'static str, String)>,
                 field: &'static str,
                 rule: &'static str,
                 kept: Option<&'static str>| {
        let app = &app;
        let admin = &admin;
        async move {
            let (status, body) = post(app, admin, path, &as_refs(&fields)).await;
            assert_eq!(status, 422, "{engine:?} {path} {fields:?}");
            assert!(
                body.contains(&format!("data-field=\"{field}\"")),
                "{engine:?} {path}: no error beside {field}: {body}"
            );
            assert!(
                body.contains(rule),
                "{engine:?} {path}: rule `{rule}` not shown"
            );
            if let Some(kept) = kept {
                assert!(
                    body.contains(&format!("value=\"{kept}\"")),
                    "{engine:?} {path}: `{kept}` not kept"
                );
            }
        }
    };
    let owned = |fields: &[(&'static str, &str)]| -> Vec<(&'static str, String)> {
        fields.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
    };

    // Opening hours.
    check(
        "/staff/schedule/hours",
        owned(&[
            ("weekday", "monday"),
            ("opens_1", "9am"),
            ("closes_1", "17:00"),
        ]),
        "opens_1",
        "HH:MM",
        Some("9am"),
    )
    .await;
    check(
        "/staff/schedule/hours",
        owned(&[
            ("weekday", "monday"),
            ("opens_1", "17:00"),
            ("closes_1", "09:00"),
        ]),
        "closes_1",
        "must be after",
        Some("17:00"),
    )
    .await;
    check(
        "/staff/schedule/hours",
        owned(&[
            ("weekday", "monday"),
            ("opens_1", "09:00"),
            ("closes_1", "13:00"),
            ("opens_2", "12:30"),
            ("closes_2", "17:00"),
        ]),
        "opens_2",
        "must not overlap",
        Some("12:30"),
    )
    .await;
    check(
        "/staff/schedule/hours",
        owned(&[
            ("weekday", "caturday"),
            ("opens_1", "09:00"),
            ("closes_1", "17:00"),
        ]),
        "weekday",
        "day of the week",
        None,
    )
    .await;
    assert_eq!(app.store.opening_hours().await.unwrap(), hours_before);

    // Holidays.
    check(
        "/staff/schedule/holidays",
        owned(&[("day", "2026-11-22"), ("name", "Yesterday's party")]),
        "day",
        "must not be in the past",
        Some("2026-11-22"),
    )
    .await;
    check(
        "/staff/schedule/holidays",
        owned(&[("day", "2026-02-30"), ("name", "Nowhere")]),
        "day",
        "not a date",
        Some("Nowhere"),
    )
    .await;
    let long = "x".repeat(101);
    check(
        "/staff/schedule/holidays",
        vec![("day", "2026-12-24".to_owned()), ("name", long)],
        "name",
        "at most 100 characters",
        Some("2026-12-24"),
    )
    .await;
    check(
        "/staff/schedule/holidays",
        owned(&[("day", "2026-12-24"), ("name", " ")]),
        "name",
        "is required",
        None,
    )
    .await;
    assert_eq!(count(&app, "SELECT COUNT(*) FROM clinic_holidays").await, 0);
    // A second holiday on one day is a conflict, and keeps the first.
    let holiday = [("day", "2026-12-24"), ("name", "Christmas Eve")];
    assert_eq!(
        post(&app, &admin, "/staff/schedule/holidays", &holiday)
            .await
            .0,
        303
    );
    let (status, body) = post(
        &app,
        &admin,
        "/staff/schedule/holidays",
        &[("day", "2026-12-24"), ("name", "Again")],
    )
    .await;
    assert_eq!(status, 409, "{engine:?}");
    assert!(body.contains("is a holiday already") && body.contains("value=\"Again\""));
    assert_eq!(count(&app, "SELECT COUNT(*) FROM clinic_holidays").await, 1);

    // Availability.
    let fields = |staff: &str, weekday: &str, starts: &str, ends: &str| {
        vec![
            ("staff_user_id", staff.to_owned()),
            ("weekday", weekday.to_owned()),
            ("starts", starts.to_owned()),
            ("ends", ends.to_owned()),
        ]
    };
    let path = "/staff/schedule/availability";
    check(
        path,
        fields(&desk, "monday", "16:00", "18:00"),
        "ends",
        "after the clinic closes",
        Some("18:00"),
    )
    .await;
    check(
        path,
        fields(&desk, "saturday", "10:00", "12:00"),
        "weekday",
        "closed on Saturdays",
        Some("10:00"),
    )
    .await;
    check(
        path,
        fields(&nurse, "monday", "10:00", "12:00"),
        "staff_user_id",
        "takes consultations",
        Some("10:00"),
    )
    .await;
    check(
        path,
        fields(&desk, "monday", "10:00", "10:10"),
        "ends",
        "at least 15 minutes",
        Some("10:10"),
    )
    .await;
    check(
        path,
        fields(&desk, "monday", "25:00", "12:00"),
        "starts",
        "HH:MM",
        Some("25:00"),
    )
    .await;
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM staff_availability").await,
        0
    );
    let good = fields(&desk, "monday", "09:00", "12:00");
    assert_eq!(post(&app, &admin, path, &as_refs(&good)).await.0, 303);
    check(
        path,
        fields(&desk, "monday", "11:00", "13:00"),
        "starts",
        "must not overlap",
        Some("11:00"),
    )
    .await;
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM staff_availability").await,
        1
    );

    // Removing what is not there.
    let (status, _) = post(
        &app,
        &admin,
        "/staff/schedule/holidays/remove",
        &[("day", "2026-12-25")],
    )
    .await;
    assert_eq!(status, 422);
    let (status, _) = post(
        &app,
        &admin,
        "/staff/schedule/availability/999999/remove",
        &[],
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM clinic_holidays").await, 1);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM staff_availability").await,
        1
    );
}

both_engines!(only_the_administrator_changes_the_schedule_and_the_front_desk_may_look);
async fn only_the_administrator_changes_the_schedule_and_the_front_desk_may_look(engine: Engine) {
    let (app, admin) = clinic(engine).await;
    let desk_id = user_id(&app, Role::FrontDesk).await;
    let admin_page = app.get("/staff", Some(&admin)).await.text().await.unwrap();
    assert!(
        admin_page.contains("href=\"/staff/schedule\""),
        "admin nav links the schedule"
    );

    let desk = app.sign_in(Role::FrontDesk).await;
    let page = app.get("/staff/schedule", Some(&desk)).await;
    assert_eq!(page.status(), 200, "{engine:?}");
    let body = page.text().await.unwrap();
    assert!(body.contains("09:00–17:00") && body.contains("stay booked"));
    assert!(
        !body.contains("action=\"/staff/schedule/hours\""),
        "no forms for the front desk"
    );

    for role in [Role::FrontDesk, Role::Nurse, Role::Clinician] {
        let session = app.sign_in(role).await;
        let tries: [(&str, Vec<(&str, &str)>); 3] = [
            (
                "/staff/schedule/holidays",
                vec![("day", "2026-12-24"), ("name", "Sneaky")],
            ),
            (
                "/staff/schedule/hours",
                vec![
                    ("weekday", "monday"),
                    ("opens_1", "00:00"),
                    ("closes_1", "23:00"),
                ],
            ),
            (
                "/staff/schedule/availability",
                vec![
                    ("staff_user_id", desk_id.as_str()),
                    ("weekday", "monday"),
                    ("starts", "09:00"),
                    ("ends", "10:00"),
                ],
            ),
        ];
        for (path, fields) in tries {
            let (status, _) = post(&app, &session, path, &fields).await;
            assert_eq!(status, 403, "{engine:?} {role} {path}");
        }
    }
    for role in [Role::Nurse, Role::Clinician] {
        let session = app.sign_in(role).await;
        let page = app.get("/staff/schedule", Some(&session)).await;
        assert_eq!(page.status(), 403, "{engine:?} {role}");
    }
    assert_eq!(count(&app, "SELECT COUNT(*) FROM clinic_holidays").await, 0);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM staff_availability").await,
        0
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM clinic_opening_hours WHERE opens = '00:00'"
        )
        .await,
        0
    );
}

both_engines!(a_holiday_over_a_booked_consultation_leaves_it_booked_and_says_so);
async fn a_holiday_over_a_booked_consultation_leaves_it_booked_and_says_so(engine: Engine) {
    let (app, admin) = clinic(engine).await;
    let desk = user_id(&app, Role::FrontDesk).await;
    let availability = [
        ("staff_user_id", desk.as_str()),
        ("weekday", "tuesday"),
        ("starts", "09:00"),
        ("ends", "10:00"),
    ];
    assert_eq!(
        post(&app, &admin, "/staff/schedule/availability", &availability)
            .await
            .0,
        303
    );
    // 09:00 PST on Tuesday 24 November, booked from the public page.
    let slot = format!(
        "{desk}@{}",
        "2026-11-24T17:00Z"
            .parse::<Timestamp>()
            .unwrap()
            .as_millisecond()
    );
    let booking = [
        ("name", "Ana López"),
        ("phone", "(503) 725-3000"),
        ("email", ""),
        ("time_zone", "America/Chicago"),
        ("slot", slot.as_str()),
        ("consent", "yes"),
    ];
    let response = app.post_form("/consultations", None, &booking).await;
    assert_eq!(response.status(), 303, "{engine:?}");

    let holiday = [("day", "2026-11-24"), ("name", "Power cut")];
    assert_eq!(
        post(&app, &admin, "/staff/schedule/holidays", &holiday)
            .await
            .0,
        303
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM consultations WHERE status = 'booked'"
        )
        .await,
        1,
        "{engine:?}: the booked consultation stays booked"
    );
    let body = app
        .get("/staff/schedule", Some(&admin))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        body.contains("1 booked: they stay booked"),
        "{engine:?}: {body}"
    );
    assert!(!offered(&app).await.iter().any(|s| s.contains("2026-11-24")));
}
