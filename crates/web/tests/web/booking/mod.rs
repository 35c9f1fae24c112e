//! Booking the free 15-minute phone consultation (SPEC §1 step 2), each on
//! SQLite and PostgreSQL: no double booking under 50 concurrent requests,
//! the confirmation in both zones, the signed link, bad input, staff
//! booking and no-shows.

use jiff::civil::{Time, Weekday};
use jiff::Timestamp;
use respite_domain::booking::{NewBooking, StaffAvailability};
use respite_domain::Role;
use respite_store::Booker;
use respite_web::{booking_token, Clock, WebConfig};

use crate::support::*;

/// Monday 23 November 2026, 08:00 PST at the clinic (Los Angeles).
const NOW: &str = "2026-11-23T16:00Z";
/// 10:00 PST that Monday; 18:00 GMT in London.
const SLOT_AT: &str = "2026-11-23T18:00Z";

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// An app at [`NOW`] whose front desk takes consultations on Mondays
/// 09:00–12:00 (inside the default clinic hours 09:00–17:00). Returns the
/// app and the front desk's user id.
async fn clinic(engine: respite_store::Engine) -> (TestApp, i64) {
    let config = WebConfig {
        clock: Clock::Fixed(at(NOW)),
        ..WebConfig::default()
    };
    let app = spawn_with(engine, config).await;
    let staff = front_desk_takes_monday_mornings(&app).await;
    (app, staff)
}

/// The front desk takes consultations on Mondays 09:00–12:00 (inside the
/// default clinic hours 09:00–17:00); returns their user id.
pub(crate) async fn front_desk_takes_monday_mornings(app: &TestApp) -> i64 {
    let staff = app
        .store
        .staff_users()
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.email == "front-desk@clinic.test")
        .unwrap()
        .id;
    app.store
        .add_staff_availability(&StaffAvailability {
            staff_user_id: staff,
            weekday: Weekday::Monday,
            starts: Time::constant(9, 0, 0, 0),
            ends: Time::constant(12, 0, 0, 0),
        })
        .await
        .unwrap();
    staff
}

fn slot_key(staff: i64, starts: &str) -> String {
    format!("{staff}@{}", at(starts).as_millisecond())
}

fn booking_fields(name: &str, slot: &str, zone: &str) -> Vec<(&'static str, String)> {
    vec![
        ("name", name.to_owned()),
        ("phone", "(503) 725-3000".to_owned()),
        ("email", String::new()),
        ("time_zone", zone.to_owned()),
        ("slot", slot.to_owned()),
        ("consent", "yes".to_owned()),
    ]
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let mut raw = app.raw().await;
    let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&mut raw).await.unwrap();
    n
}

both_engines!(fifty_concurrent_bookings_of_one_slot_give_exactly_one);
async fn fifty_concurrent_bookings_of_one_slot_give_exactly_one(engine: Engine) {
    let (app, staff) = clinic(engine).await;
    let slot = slot_key(staff, SLOT_AT);
    let requests = (0..50).map(|n| {
        let app = &app;
        // Fifty different people: only the database's unique index
        // stands between them (one person's contacts are serialised).
        let mut fields = booking_fields(&format!("Person {n}"), &slot, "America/Chicago");
        fields[1].1 = format!("(503) 725-30{n:02}");
        async move {
            let response = app
                .post_form("/consultations", None, &as_refs(&fields))
                .await;
            let status = response.status().as_u16();
            (status, response.text().await.unwrap())
        }
    });
    let answers = futures::future::join_all(requests).await;
    let booked = answers.iter().filter(|(s, _)| *s == 303).count();
    let taken: Vec<_> = answers.iter().filter(|(s, _)| *s == 409).collect();
    assert_eq!(
        booked,
        1,
        "{engine:?}: {:?}",
        answers.iter().map(|a| a.0).collect::<Vec<_>>()
    );
    assert_eq!(taken.len(), 49, "{engine:?}");
    for (_, body) in taken {
        assert!(
            body.contains("this time was just taken"),
            "{engine:?}: {body}"
        );
    }
    // Nothing half-written: one consultation, one new thread.
    assert_eq!(count(&app, "SELECT COUNT(*) FROM consultations").await, 1);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM inquiries").await, 1);
}

/// Open callback tasks of inquiry `id`.
async fn open_tasks(app: &TestApp, id: i64) -> i64 {
    count(
        app,
        &format!("SELECT COUNT(*) FROM callback_tasks WHERE inquiry_id = {id} AND done_at IS NULL"),
    )
    .await
}

both_engines!(a_second_form_and_a_booking_join_the_persons_open_thread);
async fn a_second_form_and_a_booking_join_the_persons_open_thread(engine: Engine) {
    let (app, staff) = clinic(engine).await;
    let first = inquiry_fields("Ana López");
    assert_eq!(
        app.post_form("/inquiries", None, &as_refs(&first))
            .await
            .status(),
        303
    );
    let ids = count(&app, "SELECT COUNT(*) FROM inquiries").await;
    assert_eq!(ids, 1, "{engine:?}");
    let (id,): (i64,) = sqlx::query_as("SELECT id FROM inquiries")
        .fetch_one(&mut app.raw().await)
        .await
        .unwrap();
    assert_eq!(open_tasks(&app, id).await, 1);

    // The same number writes again, now with an e-mail address and
    // other best times: one thread, its details updated, the new text
    // kept, still one callback to make.
    let mut again = inquiry_fields("Ana López");
    for (name, value) in &mut again {
        match *name {
            "email" => *value = "ana@example.org".into(),
            "window_days" => *value = "weekends".into(),
            "window_start" => *value = "10:00".into(),
            "window_end" => *value = "12:00".into(),
            "message" => *value = "Worse since last week; mornings are best.".into(),
            _ => {}
        }
    }
    assert_eq!(
        app.post_form("/inquiries", None, &as_refs(&again))
            .await
            .status(),
        303
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM inquiries").await, 1);
    // The new address is kept unverified: a form cannot change where
    // the thread's messages go.
    let record = app.store.inquiry(id).await.unwrap().unwrap();
    assert_eq!(record.email, None, "{engine:?}");
    let unverified = app.store.unverified_contacts(id).await.unwrap();
    assert_eq!(unverified.len(), 1);
    assert_eq!(unverified[0].address, "ana@example.org");
    assert_eq!(record.phone_e164.as_deref(), Some("+15037253000"));
    assert!(
        record.contact_windows.contains("10:00"),
        "{engine:?}: {}",
        record.contact_windows
    );
    let thread = app.store.thread_messages(id).await.unwrap();
    assert_eq!(thread.len(), 1);
    assert_eq!(thread[0].channel, "web");
    assert!(
        thread[0].body.starts_with(
            "Contact form from Ana López; best times weekends, 10 am–noon (America/Chicago)"
        ) && thread[0]
            .body
            .ends_with("\n\nWorse since last week; mornings are best."),
        "{engine:?}: {}",
        thread[0].body
    );
    assert_eq!(open_tasks(&app, id).await, 1, "{engine:?}");

    // Another name with her number (a typo, or someone else on her
    // phone): kept in her thread for staff to see, but her details
    // are not rewritten.
    let mut stranger = inquiry_fields("Carl Doe");
    stranger[5].1 = "08:00".into();
    stranger[6].1 = "09:00".into();
    app.post_form("/inquiries", None, &as_refs(&stranger)).await;
    let record = app.store.inquiry(id).await.unwrap().unwrap();
    assert_eq!(record.name, "Ana López");
    assert!(record.contact_windows.contains("10:00"), "{engine:?}");
    let thread = app.store.thread_messages(id).await.unwrap();
    assert_eq!(thread.len(), 2);
    assert!(thread[1].body.starts_with("Contact form from Carl Doe;"));

    // Staff confirm her address with her on a call; she books from the
    // public page giving her number and that e-mail: the booking joins the
    // thread, and the callback is no longer needed.
    app.store
        .verify_contact(id, unverified[0].id, staff, at(NOW))
        .await
        .unwrap()
        .unwrap();
    let mut booking = booking_fields("Ana López", &slot_key(staff, SLOT_AT), "America/Chicago");
    booking[2].1 = "Ana@Example.org".into();
    let response = app
        .post_form("/consultations", None, &as_refs(&booking))
        .await;
    assert_eq!(response.status(), 303, "{engine:?}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM inquiries").await, 1);
    let record = app.store.inquiry(id).await.unwrap().unwrap();
    assert_eq!(record.status, "consultation-booked");
    assert_eq!(
        app.store.consultations_of_inquiry(id).await.unwrap().len(),
        1
    );
    let thread = app.store.thread_messages(id).await.unwrap();
    assert_eq!(thread.len(), 3);
    assert_eq!(
        thread[2].body,
        "Booked the free phone consultation for 2026-11-23 12:00 CST on the public page, \
         as Ana López.",
        "{engine:?}"
    );
    assert_eq!(open_tasks(&app, id).await, 0, "{engine:?}");

    // Someone else opens a thread of their own; and a closed thread is
    // never rejoined.
    let mut other = inquiry_fields("Ben Ode");
    other[1].1 = "(503) 725-3999".into();
    app.post_form("/inquiries", None, &as_refs(&other)).await;
    assert_eq!(count(&app, "SELECT COUNT(*) FROM inquiries").await, 2);
    app.store
        .set_inquiry_status(
            id,
            respite_store::InquiryStatus::Closed,
            Some(respite_store::ClosedReason::Booked),
        )
        .await
        .unwrap();
    app.post_form("/inquiries", None, &as_refs(&first)).await;
    assert_eq!(count(&app, "SELECT COUNT(*) FROM inquiries").await, 3);
}

both_engines!(concurrent_forms_from_one_new_person_open_one_thread);
async fn concurrent_forms_from_one_new_person_open_one_thread(engine: Engine) {
    let (app, _) = clinic(engine).await;
    let fields = inquiry_fields("Ana López");
    let answers = futures::future::join_all((0..10).map(|_| {
        let app = &app;
        let fields = &fields;
        async move {
            app.post_form("/inquiries", None, &as_refs(fields))
                .await
                .status()
                .as_u16()
        }
    }))
    .await;
    assert!(answers.iter().all(|&s| s == 303), "{engine:?}: {answers:?}");
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM inquiries").await,
        1,
        "{engine:?}"
    );
    // The first opened it; the nine others are its messages.
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM messages WHERE channel = 'web'").await,
        9
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM callback_tasks").await, 1);
}

both_engines!(the_page_lists_open_times_in_the_persons_zone);
async fn the_page_lists_open_times_in_the_persons_zone(engine: Engine) {
    let (app, staff) = clinic(engine).await;
    let body = app
        .get("/consultations?time_zone=Europe/London", None)
        .await
        .text()
        .await
        .unwrap();
    // 09:00–12:00 PST is 17:00–20:00 GMT: twelve slots from 5:00 PM.
    assert!(body.contains("Monday 23 November"), "{engine:?}");
    assert!(body.contains(&slot_key(staff, "2026-11-23T17:00Z")));
    assert!(body.contains("5:00 PM") && body.contains("7:45 PM"));
    assert!(!body.contains(&slot_key(staff, "2026-11-23T20:00Z")));
    // A booked slot is no longer offered.
    let fields = booking_fields("Ana López", &slot_key(staff, SLOT_AT), "Europe/London");
    let booked = app
        .post_form("/consultations", None, &as_refs(&fields))
        .await;
    assert_eq!(booked.status(), 303);
    let body = app
        .get("/consultations?time_zone=Europe/London", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(!body.contains(&slot_key(staff, SLOT_AT)), "{engine:?}");
}

both_engines!(the_confirmation_shows_both_zones_and_its_link_reschedules_and_cancels);
async fn the_confirmation_shows_both_zones_and_its_link_reschedules_and_cancels(engine: Engine) {
    let (app, staff) = clinic(engine).await;
    let fields = booking_fields("Ana López", &slot_key(staff, SLOT_AT), "Europe/London");
    let response = app
        .post_form("/consultations", None, &as_refs(&fields))
        .await;
    assert_eq!(response.status(), 303, "{engine:?}");
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/consultations/booking?token="));
    let token = location.split_once("token=").unwrap().1.to_owned();
    let page = app.get(&location, None).await;
    assert_eq!(page.status(), 200);
    let body = page.text().await.unwrap();
    assert!(
        body.contains("Monday 23 November 2026, 6:00 PM GMT"),
        "{body}"
    );
    assert!(
        body.contains("Monday 23 November 2026, 10:00 AM PST"),
        "{body}"
    );

    // Reschedule to 10:15 PST.
    let moved = app
        .post_form(
            "/consultations/booking/reschedule",
            None,
            &[
                ("token", &token),
                ("slot", &slot_key(staff, "2026-11-23T18:15Z")),
            ],
        )
        .await;
    assert_eq!(moved.status(), 303, "{engine:?}");
    let location = moved.headers()["location"].to_str().unwrap().to_owned();
    let body = app.get(&location, None).await.text().await.unwrap();
    assert!(
        body.contains("6:15 PM GMT") && body.contains("10:15 AM PST"),
        "{body}"
    );
    // The old slot is free again; only one consultation exists.
    assert_eq!(count(&app, "SELECT COUNT(*) FROM consultations").await, 1);

    let token = location.split_once("token=").unwrap().1.to_owned();
    let cancelled = app
        .post_form("/consultations/booking/cancel", None, &[("token", &token)])
        .await;
    assert_eq!(cancelled.status(), 200);
    let again = app
        .post_form("/consultations/booking/cancel", None, &[("token", &token)])
        .await;
    assert_eq!(again.status(), 422);
    assert!(again.text().await.unwrap().contains("no longer booked"));
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM consultations WHERE status = 'cancelled'"
        )
        .await,
        1
    );
}

both_engines!(forged_and_expired_links_are_refused);
async fn forged_and_expired_links_are_refused(engine: Engine) {
    let (app, staff) = clinic(engine).await;
    let fields = booking_fields("Ana López", &slot_key(staff, SLOT_AT), "America/Chicago");
    let response = app
        .post_form("/consultations", None, &as_refs(&fields))
        .await;
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let token = location.split_once("token=").unwrap().1.to_owned();
    let id: i64 = token.split('.').next().unwrap().parse().unwrap();

    let forged = token.replacen(&format!("{id}."), &format!("{}.", id + 1), 1);
    for bad in [forged.as_str(), "nonsense", ""] {
        let page = app
            .get(&format!("/consultations/booking?token={bad}"), None)
            .await;
        assert_eq!(page.status(), 403, "{engine:?} {bad}");
        assert!(page
            .text()
            .await
            .unwrap()
            .contains("This link is not valid"));
        let cancel = app
            .post_form("/consultations/booking/cancel", None, &[("token", bad)])
            .await;
        assert_eq!(cancel.status(), 403);
    }
    // Correctly signed with the server's secret, but expired.
    let secret = app
        .store
        .setting(booking_token::SECRET_SETTING)
        .await
        .unwrap()
        .unwrap();
    let expired = booking_token::sign(secret.as_bytes(), id, at("2026-11-23T15:00Z"));
    let page = app
        .get(&format!("/consultations/booking?token={expired}"), None)
        .await;
    assert_eq!(page.status(), 410, "{engine:?}");
    assert!(page.text().await.unwrap().contains("This link has expired"));
    let cancel = app
        .post_form(
            "/consultations/booking/cancel",
            None,
            &[("token", &expired)],
        )
        .await;
    assert_eq!(cancel.status(), 410);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM consultations WHERE status = 'booked'"
        )
        .await,
        1
    );
}

both_engines!(bad_bookings_name_the_field_and_store_nothing);
async fn bad_bookings_name_the_field_and_store_nothing(engine: Engine) {
    let (app, staff) = clinic(engine).await;
    let check = |field: &'static str, value: String, status: u16, expected: &'static str| {
        let app = &app;
        async move {
            let mut fields =
                booking_fields("Ana López", &slot_key(staff, SLOT_AT), "America/Chicago");
            fields.retain(|(k, _)| *k != field);
            fields.push((field, value));
            let response = app
                .post_form("/consultations", None, &as_refs(&fields))
                .await;
            assert_eq!(response.status().as_u16(), status, "{field}");
            let body = response.text().await.unwrap();
            assert!(body.contains(expected), "{field}: {body}");
        }
    };
    // Past: 07:45 PST, before NOW.
    check(
        "slot",
        slot_key(staff, "2026-11-23T15:45Z"),
        422,
        "Choose a time</a>: this time has already passed",
    )
    .await;
    // Not on the quarter hour; outside the staff member's hours; no one.
    check(
        "slot",
        slot_key(staff, "2026-11-23T18:07Z"),
        422,
        "Choose a time</a>: the clinic offers no consultation",
    )
    .await;
    check(
        "slot",
        slot_key(staff, "2026-11-23T21:00Z"),
        422,
        "Choose a time</a>: the clinic offers no consultation",
    )
    .await;
    check(
        "slot",
        slot_key(staff + 99, SLOT_AT),
        422,
        "Choose a time</a>: the clinic offers no consultation",
    )
    .await;
    check(
        "slot",
        "next tuesday".into(),
        422,
        "Choose a time</a>: choose one of the listed times",
    )
    .await;
    check(
        "consent",
        String::new(),
        422,
        "Permission to contact you</a>: please agree",
    )
    .await;
    check("phone", "12".into(), 422, "Phone</a>:").await;
    check(
        "time_zone",
        "Mars/Olympus".into(),
        422,
        "Time zone</a>: choose your time zone",
    )
    .await;
    check("name", String::new(), 422, "Your name</a>: is required").await;
    assert_eq!(count(&app, "SELECT COUNT(*) FROM consultations").await, 0);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM inquiries").await, 0);
}

both_engines!(staff_book_for_an_inquiry_and_mark_a_no_show);
async fn staff_book_for_an_inquiry_and_mark_a_no_show(engine: Engine) {
    let (app, staff) = clinic(engine).await;
    let fields = inquiry_fields("Ben Okafor");
    app.post_form("/inquiries", None, &as_refs(&fields)).await;
    let inquiry = app
        .store
        .inquiries_with_status(respite_store::InquiryStatus::New, 1)
        .await
        .unwrap()[0]
        .id;
    let desk = app.sign_in(Role::FrontDesk).await;
    let page = app
        .get(&format!("/staff/inquiries/{inquiry}"), Some(&desk))
        .await;
    let body = page.text().await.unwrap();
    assert!(body.contains(&slot_key(staff, SLOT_AT)), "{engine:?}");
    let booked = app
        .post_form(
            &format!("/staff/inquiries/{inquiry}/consultations"),
            Some(&desk),
            // Outside her best times: staff confirm it (the warning has
            // its own test in consultation_lifecycle).
            &[("slot", &slot_key(staff, SLOT_AT)), ("outside_ok", "yes")],
        )
        .await;
    assert_eq!(booked.status(), 303, "{engine:?}");
    let again = app
        .post_form(
            &format!("/staff/inquiries/{inquiry}/consultations"),
            Some(&desk),
            // Outside her best times: staff confirm it (the warning has
            // its own test in consultation_lifecycle).
            &[("slot", &slot_key(staff, SLOT_AT)), ("outside_ok", "yes")],
        )
        .await;
    assert_eq!(again.status(), 409);
    assert_eq!(
        app.store.inquiry(inquiry).await.unwrap().unwrap().status,
        "consultation-booked"
    );
    let future = app.store.consultations_of_inquiry(inquiry).await.unwrap()[0].id;
    // A consultation that has not begun cannot be a no-show.
    let early = app
        .post_form(
            &format!("/staff/consultations/{future}/no-show"),
            Some(&desk),
            &[],
        )
        .await;
    assert_eq!(early.status(), 422);
    // One that began at 07:00 PST (booked directly, as if earlier).
    let past = app
        .store
        .book_consultation(
            &NewBooking {
                name: "Ben Okafor".into(),
                phone: None,
                email: None,
                time_zone: "America/Chicago".into(),
                slot: respite_domain::booking::Slot {
                    starts_at: at("2026-11-23T15:00Z"),
                    staff_user_id: staff,
                },
            },
            Booker::Staff {
                inquiry_id: inquiry,
                staff_email: "front-desk@clinic.test",
            },
            at("2026-11-20T15:00Z"),
            |_| Vec::new(),
        )
        .await
        .unwrap();
    let list = app
        .get("/staff/consultations", Some(&desk))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        list.contains(&format!("/staff/consultations/{past}/no-show")),
        "{list}"
    );
    let marked = app
        .post_form(
            &format!("/staff/consultations/{past}/no-show"),
            Some(&desk),
            &[],
        )
        .await;
    assert_eq!(marked.status(), 303);
    let record = app.store.consultation(past).await.unwrap().unwrap();
    assert_eq!(record.status, "no-show");
}

/// The python of a venv with PyPI `icalendar` (scripts/test makes one), or
/// `None` with a note; `RESPITE_REQUIRE_ICAL` makes its absence a failure.
pub(crate) fn icalendar_python() -> Option<String> {
    match std::env::var("RESPITE_TEST_PYTHON") {
        Ok(python) => Some(python),
        Err(_) if std::env::var("RESPITE_REQUIRE_ICAL").is_ok() => {
            panic!("RESPITE_REQUIRE_ICAL is set but RESPITE_TEST_PYTHON is not")
        }
        Err(_) => {
            eprintln!("note: RESPITE_TEST_PYTHON not set: .ics check with PyPI icalendar skipped");
            None
        }
    }
}

both_engines!(ics_files_parse_with_icalendar_and_keep_their_times_across_daylight_saving);
/// Friday 30 October 2026 09:00 PDT. Los Angeles falls back to PST on
/// Sunday 1 November, so 17:00Z is 10:00 on Friday and 09:00 on Monday.
async fn ics_files_parse_with_icalendar_and_keep_their_times_across_daylight_saving(
    engine: Engine,
) {
    let Some(python) = icalendar_python() else {
        return;
    };
    let config = WebConfig {
        clock: Clock::Fixed(at("2026-10-30T16:00Z")),
        ..WebConfig::default()
    };
    let app = spawn_with(engine, config).await;
    let desk = app.sign_in(Role::FrontDesk).await;
    let staff = app
        .store
        .staff_users()
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.email == "front-desk@clinic.test")
        .unwrap()
        .id;
    for weekday in [Weekday::Friday, Weekday::Monday] {
        app.store
            .add_staff_availability(&StaffAvailability {
                staff_user_id: staff,
                weekday,
                starts: Time::constant(9, 0, 0, 0),
                ends: Time::constant(12, 0, 0, 0),
            })
            .await
            .unwrap();
    }
    let mut tokens = Vec::new();
    for (name, phone, slot) in [
        ("Ana López", "(503) 725-3000", "2026-10-30T17:00Z"),
        ("Ben, Okafor; Jr.", "(503) 725-3001", "2026-11-02T17:00Z"),
    ] {
        let mut fields = booking_fields(name, &slot_key(staff, slot), "Europe/London");
        fields[1].1 = phone.to_owned();
        let response = app
            .post_form("/consultations", None, &as_refs(&fields))
            .await;
        assert_eq!(response.status(), 303, "{engine:?} {slot}");
        let location = response.headers()["location"].to_str().unwrap();
        tokens.push(location.split_once("token=").unwrap().1.to_owned());
    }
    let dir = std::env::temp_dir().join(unique("respite_ics"));
    std::fs::create_dir_all(&dir).unwrap();
    let _cleanup = TempDir(dir.clone());
    let mut files = Vec::new();
    for (n, token) in tokens.iter().enumerate() {
        let response = app
            .get(&format!("/consultations/booking.ics?token={token}"), None)
            .await;
        assert_eq!(response.status(), 200);
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar"));
        let path = dir.join(format!("booking{n}.ics"));
        std::fs::write(&path, response.bytes().await.unwrap()).unwrap();
        files.push(path);
    }
    // The staff feed, from the address on the consultation list.
    let list = app
        .get("/staff/consultations", Some(&desk))
        .await
        .text()
        .await
        .unwrap();
    let feed = list
        .split("id=\"calendar-feed\" href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    assert!(
        feed.starts_with("/ical/") && feed.ends_with(".ics"),
        "{feed}"
    );
    let response = app.get(&feed, None).await;
    assert_eq!(response.status(), 200, "{engine:?} {feed}");
    let path = dir.join("feed.ics");
    std::fs::write(&path, response.bytes().await.unwrap()).unwrap();
    files.push(path);
    assert_eq!(app.get("/ical/not-a-secret.ics", None).await.status(), 404);

    let output = std::process::Command::new(&python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/web/booking/ical_check.py"
        ))
        .args(&files)
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let events: Vec<(String, String, String, String)> = stdout
        .lines()
        .map(|line| {
            let field = |name: &str| {
                let key = format!("\"{name}\": \"");
                line.split(&key)
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap()
                    .to_owned()
            };
            (
                field("file"),
                field("start"),
                field("end"),
                field("summary"),
            )
        })
        .collect();
    let expected = [
        (
            "booking0.ics",
            "2026-10-30 10:00 PDT",
            "2026-10-30 10:15 PDT",
        ),
        (
            "booking1.ics",
            "2026-11-02 09:00 PST",
            "2026-11-02 09:15 PST",
        ),
        ("feed.ics", "2026-10-30 10:00 PDT", "2026-10-30 10:15 PDT"),
        ("feed.ics", "2026-11-02 09:00 PST", "2026-11-02 09:15 PST"),
    ];
    assert_eq!(events.len(), expected.len(), "{engine:?}: {stdout}");
    for (event, (file, start, end)) in events.iter().zip(expected) {
        assert_eq!(
            (event.0.as_str(), event.1.as_str(), event.2.as_str()),
            (file, start, end)
        );
    }
    // Escaped text comes back as written.
    assert_eq!(events[3].3, "Phone consultation: Ben, Okafor; Jr.");
}

both_engines!(reminder_jobs_survive_a_restart_run_once_and_keep_out_of_the_night);
/// Sunday 22 November 2026, 18:00Z: 10:00 PST at the clinic, 23:30 IST in
/// Kolkata. The call is Monday 10:00 PST = 18:00Z = 23:30 IST.
async fn reminder_jobs_survive_a_restart_run_once_and_keep_out_of_the_night(engine: Engine) {
    let api = crate::messaging::TwilioApi::start().await;
    let config = |now: &str| WebConfig {
        clock: Clock::Fixed(at(now)),
        ..crate::messaging::config(Some(&api))
    };
    let app = spawn_with(engine, config("2026-11-22T18:00Z")).await;
    let staff = front_desk_takes_monday_mornings(&app).await;
    let fields = booking_fields("Priya Raman", &slot_key(staff, SLOT_AT), "Asia/Kolkata");
    let response = app
        .post_form("/consultations", None, &as_refs(&fields))
        .await;
    assert_eq!(response.status(), 303, "{engine:?}");
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let token = location.split_once("token=").unwrap().1.to_owned();
    // Nothing was sent inline.
    assert!(api.received().is_empty());
    // Enqueued: the confirmation and the 24-hour reminder fall in the
    // night in Kolkata (23:30 IST) and move to 08:00 IST Monday =
    // 02:30Z; the 1-hour reminder (22:30 IST) would move past the call,
    // so it is skipped.
    let jobs = app.store.jobs().await.unwrap();
    let planned: Vec<(&str, String)> = jobs
        .iter()
        .map(|j| (j.kind.as_str(), j.run_at.to_string()))
        .collect();
    assert_eq!(
        planned,
        [
            ("confirmation-sms", "2026-11-23T02:30:00Z".to_owned()),
            ("reminder-sms", "2026-11-23T02:30:00Z".to_owned()),
        ],
        "{engine:?}"
    );
    assert!(jobs[1].idempotency_key.contains(":reminder-sms-1440m:"));

    // "Restart": new servers on the same database, later in time.
    let restarted = |now: &str| {
        let config = std::sync::Arc::new(config(now));
        let url = app.url.clone();
        async move {
            let store = respite_store::Store::connect(&url, respite_store::PoolSettings::default())
                .await
                .unwrap();
            respite_web::AppState::new(store, config)
        }
    };
    // The clinic renames itself in its settings before the texts go: they
    // carry the settings' name, not the configured one.
    app.store
        .save_clinic_profile(
            &respite_domain::clinic::ClinicProfile {
                name: "Lakeside Pain Care".into(),
                phone: None,
                email: None,
                address: String::new(),
                hours: String::new(),
                privacy_notice: String::new(),
            },
            "Staff/1",
            at("2026-11-22T18:05Z"),
        )
        .await
        .unwrap();
    // Before 08:00 IST nothing is due.
    let early = restarted("2026-11-23T02:00Z").await;
    assert_eq!(respite_web::jobs::run_due(&early).await.unwrap(), 0);
    // Two servers run the queue at once: each text goes out once.
    let first = restarted("2026-11-23T02:31Z").await;
    let second = restarted("2026-11-23T02:31Z").await;
    let (a, b) = tokio::join!(
        respite_web::jobs::run_due(&first),
        respite_web::jobs::run_due(&second)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 2, "{engine:?}");
    let later = restarted("2026-11-23T17:30Z").await;
    assert_eq!(respite_web::jobs::run_due(&later).await.unwrap(), 0);
    let texts = api.received();
    assert_eq!(texts.len(), 2, "{engine:?}");
    for text in &texts {
        assert_eq!(text.field("To"), Some("+15037253000"));
        assert!(text
            .field("Body")
            .unwrap()
            .starts_with("Lakeside Pain Care: "));
        assert!(text
            .field("Body")
            .unwrap()
            .contains("Monday 23 November, 11:30 PM IST"));
    }
    assert!(app
        .store
        .jobs()
        .await
        .unwrap()
        .iter()
        .all(|j| j.done && j.last_error.is_none()));

    // She cancels (at 23:30 IST): the text that says so waits for the
    // morning, and goes once.
    let cancelled = app
        .post_form(
            "/consultations/booking/cancel",
            None,
            &[("token", token.as_str())],
        )
        .await;
    assert_eq!(cancelled.status(), 200, "{engine:?}");
    let night = restarted("2026-11-23T02:00Z").await;
    assert_eq!(respite_web::jobs::run_due(&night).await.unwrap(), 0);
    let morning = restarted("2026-11-23T02:31Z").await;
    assert_eq!(respite_web::jobs::run_due(&morning).await.unwrap(), 1);
    assert_eq!(respite_web::jobs::run_due(&morning).await.unwrap(), 0);
    let texts = api.received();
    assert_eq!(texts.len(), 3, "{engine:?}");
    assert!(texts[2]
        .field("Body")
        .unwrap()
        .contains("consultation on Monday 23 November, 11:30 PM IST is cancelled"));
}
