//! Consultations that can be moved, cancelled and held, and nobody lost
//! after a cancellation or a no-show (SPEC §1 step 2), each on SQLite and
//! PostgreSQL: the person cancels by link and books again; staff move,
//! cancel (with a reason and a notice) and mark held, each an event of the
//! thread; a no-show leads to a callback with the clinic's number of tries;
//! the public page offers the days ahead; no phone consultation without a
//! phone number; a booking invents no answers; the staff list by day, week
//! and page.

use jiff::civil::{Time, Weekday};
use jiff::Timestamp;
use respite_domain::booking::{NewBooking, Slot, StaffAvailability};
use respite_domain::{PhoneNumber, Role};
use respite_store::{Booker, CallbackReason, Engine, InquiryStatus};
use respite_web::{booking_token, Clock, WebConfig};

use crate::support::*;

/// Monday 23 November 2026, 08:00 PST at the clinic (Los Angeles).
const NOW: &str = "2026-11-23T16:00Z";

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn slot_key(staff: i64, starts: &str) -> String {
    format!("{staff}@{}", at(starts).as_millisecond())
}

/// An app at [`NOW`] whose front desk takes consultations every weekday
/// 09:00–17:00 (the default clinic hours). Returns the app and the front
/// desk's user id.
async fn clinic_with(engine: Engine, config: WebConfig) -> (TestApp, i64) {
    let app = spawn_with(
        engine,
        WebConfig {
            clock: Clock::Fixed(at(NOW)),
            ..config
        },
    )
    .await;
    let staff = app
        .store
        .staff_users()
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.email == "front-desk@clinic.test")
        .unwrap()
        .id;
    for weekday in [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
    ] {
        app.store
            .add_staff_availability(&StaffAvailability {
                staff_user_id: staff,
                weekday,
                starts: Time::constant(9, 0, 0, 0),
                ends: Time::constant(17, 0, 0, 0),
            })
            .await
            .unwrap();
    }
    (app, staff)
}

async fn clinic(engine: Engine) -> (TestApp, i64) {
    clinic_with(engine, WebConfig::default()).await
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql)
        .fetch_one(&mut app.raw().await)
        .await
        .unwrap();
    n
}

/// Books `starts` from the public page as Ana (phone, Chicago): the token
/// of the confirmation.
async fn public_booking(app: &TestApp, staff: i64, starts: &str) -> String {
    let fields = [
        ("name", "Ana López".to_owned()),
        ("phone", "(503) 725-3000".to_owned()),
        ("email", "ana@example.org".to_owned()),
        ("time_zone", "America/Chicago".to_owned()),
        ("slot", slot_key(staff, starts)),
        ("consent", "yes".to_owned()),
    ];
    let response = app
        .post_form("/consultations", None, &as_refs(&fields))
        .await;
    assert_eq!(response.status(), 303);
    token_of(&response)
}

fn token_of(response: &reqwest::Response) -> String {
    let location = response.headers()["location"].to_str().unwrap();
    location.split_once("token=").unwrap().1.to_owned()
}

/// The only inquiry's id.
async fn only_inquiry(app: &TestApp) -> i64 {
    count(app, "SELECT MIN(id) FROM inquiries").await
}

/// The reasons of the thread's open callback tasks.
async fn open_reasons(app: &TestApp, inquiry: i64) -> Vec<String> {
    let rows: Vec<(String,)> = sqlx::query_as(&format!(
        "SELECT reason FROM callback_tasks WHERE inquiry_id = {inquiry} AND done_at IS NULL"
    ))
    .fetch_all(&mut app.raw().await)
    .await
    .unwrap();
    rows.into_iter().map(|(r,)| r).collect()
}

/// A web inquiry from Ana (best times weekdays 17:00–19:00 Chicago, which
/// is 15:00–17:00 at the clinic): its id.
async fn web_inquiry(app: &TestApp) -> i64 {
    let response = app
        .post_form("/inquiries", None, &as_refs(&inquiry_fields("Ana López")))
        .await;
    assert_eq!(response.status(), 303);
    only_inquiry(app).await
}

/// A consultation of `inquiry` booked directly at `starts` (for one that
/// has begun by [`NOW`]).
async fn booked_directly(app: &TestApp, inquiry: i64, staff: i64, starts: &str) -> i64 {
    app.store
        .book_consultation(
            &NewBooking {
                name: "Ana López".into(),
                phone: Some(PhoneNumber::from_e164("+15037253000").unwrap()),
                email: None,
                time_zone: "America/Chicago".into(),
                slot: Slot {
                    starts_at: at(starts),
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
        .unwrap()
}

both_engines!(a_person_who_cancels_by_link_is_called_back_and_can_book_again);
async fn a_person_who_cancels_by_link_is_called_back_and_can_book_again(engine: Engine) {
    let (app, staff) = clinic(engine).await;
    let token = public_booking(&app, staff, "2026-11-24T18:00Z").await;
    let inquiry = only_inquiry(&app).await;

    let cancelled = app
        .post_form("/consultations/booking/cancel", None, &[("token", &token)])
        .await;
    assert_eq!(cancelled.status(), 200, "{engine:?}");
    let page = cancelled.text().await.unwrap();
    // The clinic's own frame and calm words, not an error page.
    assert!(page.contains("<header class=\"site\">"), "{page}");
    assert!(page.contains("<h1>Your consultation is cancelled</h1>"));
    assert!(!page.contains("error-message"), "{page}");
    assert!(page.contains(&format!(
        "href=\"/consultations/booking/again?token={token}\""
    )));

    // Nobody lost: in contact, with a callback to find a new time; the
    // thread says who cancelled.
    let record = app.store.inquiry(inquiry).await.unwrap().unwrap();
    assert_eq!(record.status, InquiryStatus::Contacted, "{engine:?}");
    assert_eq!(
        open_reasons(&app, inquiry).await,
        ["cancelled-consultation"]
    );
    let desk = app.sign_in(Role::FrontDesk).await;
    let thread = app
        .get(&format!("/staff/inquiries/{inquiry}"), Some(&desk))
        .await
        .text()
        .await
        .unwrap();
    assert!(thread.contains("data-event=\"cancelled\""), "{thread}");
    assert!(thread.contains("cancelled by the person, with the link of their confirmation"));
    assert!(thread.contains("id=\"callback-due\""));
    let callbacks = app
        .get("/staff/callbacks", Some(&desk))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        callbacks.contains("Consultation cancelled: find a new time"),
        "{callbacks}"
    );

    // The cancelled link offers the times; booking one keeps the thread.
    let again = app
        .get(&format!("/consultations/booking/again?token={token}"), None)
        .await;
    assert_eq!(again.status(), 200);
    let form = again.text().await.unwrap();
    assert!(form.contains("<h1>Book a new time</h1>"), "{form}");
    assert!(form.contains(&slot_key(staff, "2026-11-25T18:00Z")));
    let booked = app
        .post_form(
            "/consultations/booking/again",
            None,
            &[
                ("token", &token),
                ("slot", &slot_key(staff, "2026-11-25T18:00Z")),
            ],
        )
        .await;
    assert_eq!(booked.status(), 303, "{engine:?}");
    let new_token = token_of(&booked);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM inquiries").await, 1);
    let all = app.store.consultations_of_inquiry(inquiry).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[1].status, "booked");
    let record = app.store.inquiry(inquiry).await.unwrap().unwrap();
    assert_eq!(record.status, InquiryStatus::ConsultationBooked);
    assert!(open_reasons(&app, inquiry).await.is_empty(), "{engine:?}");
    let confirmation = app
        .get(&format!("/consultations/booking?token={new_token}"), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(confirmation.contains("Your free phone consultation is booked"));

    // The cancelled link cannot book a second one.
    let twice = app
        .post_form(
            "/consultations/booking/again",
            None,
            &[
                ("token", &token),
                ("slot", &slot_key(staff, "2026-11-26T18:00Z")),
            ],
        )
        .await;
    assert_eq!(twice.status(), 409, "{engine:?}");
    assert!(twice
        .text()
        .await
        .unwrap()
        .contains("booked a new time already"));
    // A booked consultation's link offers no second booking either.
    let not_cancelled = app
        .get(
            &format!("/consultations/booking/again?token={new_token}"),
            None,
        )
        .await;
    assert_eq!(not_cancelled.status(), 422);
    assert!(not_cancelled
        .text()
        .await
        .unwrap()
        .contains("this consultation is not cancelled"));
}

both_engines!(staff_move_cancel_and_hold_and_each_is_a_thread_event);
async fn staff_move_cancel_and_hold_and_each_is_a_thread_event(engine: Engine) {
    let (app, staff) = clinic(engine).await;
    let inquiry = web_inquiry(&app).await;
    let desk = app.sign_in(Role::FrontDesk).await;

    // The picker marks the times inside her best times (15:00–17:00 at the
    // clinic): 15:00 PST Monday is 17:00 CST.
    let page = app
        .get(&format!("/staff/inquiries/{inquiry}"), Some(&desk))
        .await
        .text()
        .await
        .unwrap();
    let inside = slot_key(staff, "2026-11-23T23:00Z");
    let outside = slot_key(staff, "2026-11-23T18:00Z");
    assert!(
        page.contains(&format!("value=\"{inside}\" data-in-window=\"yes\"")),
        "{page}"
    );
    assert!(page.contains(&format!("value=\"{outside}\">")));

    // A time outside them is not booked without staff confirming it.
    let warned = app
        .post_form(
            &format!("/staff/inquiries/{inquiry}/consultations"),
            Some(&desk),
            &[("slot", &outside)],
        )
        .await;
    assert_eq!(warned.status(), 409);
    let body = warned.text().await.unwrap();
    assert!(body.contains("outside Ana López's best times"), "{body}");
    assert!(body.contains("weekdays, 5–7 pm"), "{body}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM consultations").await, 0);
    let booked = app
        .post_form(
            &format!("/staff/inquiries/{inquiry}/consultations"),
            Some(&desk),
            &[("slot", &inside)],
        )
        .await;
    assert_eq!(booked.status(), 303, "{engine:?}");
    let id = app.store.consultations_of_inquiry(inquiry).await.unwrap()[0].id;
    assert!(open_reasons(&app, inquiry).await.is_empty());

    // Move: to a free slot; a held one is refused by the unique index.
    let other = booked_directly(
        &app,
        web_inquiry_of(&app, "Ben Okafor").await,
        staff,
        "2026-11-24T23:00Z",
    )
    .await;
    let taken = app
        .post_form(
            &format!("/staff/consultations/{id}/move"),
            Some(&desk),
            &[("slot", &slot_key(staff, "2026-11-24T23:00Z"))],
        )
        .await;
    assert_eq!(taken.status(), 409, "{engine:?}");
    let moved = app
        .post_form(
            &format!("/staff/consultations/{id}/move"),
            Some(&desk),
            &[("slot", &slot_key(staff, "2026-11-24T23:15Z"))],
        )
        .await;
    assert_eq!(moved.status(), 303, "{engine:?}");
    let record = app.store.consultation(id).await.unwrap().unwrap();
    assert_eq!(record.starts_at, at("2026-11-24T23:15Z"));
    assert_eq!(record.sequence, 1);
    assert_ne!(other, id);

    // Cancel: a reason is required; then the person is told, and a
    // callback follows.
    let no_reason = app
        .post_form(
            &format!("/staff/consultations/{id}/cancel"),
            Some(&desk),
            &[("reason", " ")],
        )
        .await;
    assert_eq!(no_reason.status(), 422);
    assert!(no_reason
        .text()
        .await
        .unwrap()
        .contains("say why the consultation is cancelled"));
    let cancelled = app
        .post_form(
            &format!("/staff/consultations/{id}/cancel"),
            Some(&desk),
            &[("reason", "Staff member ill")],
        )
        .await;
    assert_eq!(cancelled.status(), 303, "{engine:?}");
    let record = app.store.consultation(id).await.unwrap().unwrap();
    assert_eq!(record.status, "cancelled");
    assert_eq!(record.sequence, 2);
    let kinds: Vec<String> = app
        .store
        .jobs()
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.kind)
        .collect();
    assert!(
        kinds.contains(&"clinic-cancellation-sms".to_owned()),
        "{kinds:?}"
    );
    let record = app.store.inquiry(inquiry).await.unwrap().unwrap();
    assert_eq!(record.status, InquiryStatus::Contacted);
    assert_eq!(
        open_reasons(&app, inquiry).await,
        ["cancelled-consultation"]
    );

    // Held: a consultation that has begun; it leads to the note.
    let past = booked_directly(&app, inquiry, staff, "2026-11-23T15:45Z").await;
    let held = app
        .post_form(
            &format!("/staff/consultations/{past}/held"),
            Some(&desk),
            &[],
        )
        .await;
    assert_eq!(held.status(), 303, "{engine:?}");
    assert_eq!(
        held.headers()["location"],
        format!("/staff/inquiries/{inquiry}/consultation").as_str()
    );
    assert_eq!(
        app.store.consultation(past).await.unwrap().unwrap().status,
        "held"
    );
    let record = app.store.inquiry(inquiry).await.unwrap().unwrap();
    assert_eq!(record.status, InquiryStatus::Contacted);
    // Not twice, and not one far ahead.
    let again = app
        .post_form(
            &format!("/staff/consultations/{past}/held"),
            Some(&desk),
            &[],
        )
        .await;
    assert_eq!(again.status(), 422);
    let ahead = app
        .post_form(
            &format!("/staff/consultations/{other}/held"),
            Some(&desk),
            &[],
        )
        .await;
    assert_eq!(ahead.status(), 422);

    // Every step is an event of her thread, in order, with its words.
    let thread = app
        .get(&format!("/staff/inquiries/{inquiry}"), Some(&desk))
        .await
        .text()
        .await
        .unwrap();
    let order: Vec<usize> = [
        "data-event=\"booked\"",
        "data-event=\"moved\"",
        "data-event=\"cancelled\"",
        "data-event=\"held\"",
    ]
    .iter()
    .map(|e| thread.find(e).unwrap_or_else(|| panic!("{e}: {thread}")))
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    assert!(
        thread.contains("Consultation moved from 2026-11-23 15:00 to 2026-11-24 15:15"),
        "{thread}"
    );
    assert!(thread.contains("Reason: Staff member ill"));
    // Each change was audited with the consultation as its record.
    let entries = app.audit_count().await;
    assert!(entries > 0);
    let mut raw = app.raw().await;
    let (updates,): (i64,) = sqlx::query_as(&format!(
        "SELECT COUNT(*) FROM audit_log WHERE resource_type = 'Appointment' \
         AND action = 'update' AND outcome = 'success' AND resource_id = '{id}'"
    ))
    .fetch_one(&mut raw)
    .await
    .unwrap();
    assert_eq!(updates, 2, "{engine:?}: the move and the cancellation");

    // The consultation's own page: status in words, its events.
    let page = app
        .get(&format!("/staff/consultations/{id}"), Some(&desk))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("data-status=\"cancelled\">Cancelled</dd>"),
        "{page}"
    );
    assert!(page.contains("id=\"consultation-events\""));
}

/// A second person's web inquiry (another number): its id.
async fn web_inquiry_of(app: &TestApp, name: &str) -> i64 {
    let mut fields = inquiry_fields(name);
    fields[1].1 = "(503) 725-3999".into();
    let response = app.post_form("/inquiries", None, &as_refs(&fields)).await;
    assert_eq!(response.status(), 303);
    count(app, "SELECT MAX(id) FROM inquiries").await
}

both_engines!(a_no_show_leads_to_a_callback_with_the_clinics_number_of_tries);
async fn a_no_show_leads_to_a_callback_with_the_clinics_number_of_tries(engine: Engine) {
    let config = WebConfig {
        unanswered_attempts_before_closing: 2,
        ..WebConfig::default()
    };
    let (app, staff) = clinic_with(engine, config).await;
    let inquiry = web_inquiry(&app).await;
    let desk = app.sign_in(Role::FrontDesk).await;
    let attempt = |task: i64| {
        let (app, desk) = (&app, desk.clone());
        async move {
            let response = app
                .post_form(
                    &format!("/staff/callbacks/{task}/attempts"),
                    Some(&desk),
                    &[("outcome", "no-answer"), ("note", "")],
                )
                .await;
            assert_eq!(response.status(), 303);
        }
    };
    // One unanswered call before she booked.
    let first = app.store.open_callbacks(10).await.unwrap()[0].task_id;
    attempt(first).await;
    let past = booked_directly(&app, inquiry, staff, "2026-11-23T15:30Z").await;
    assert!(open_reasons(&app, inquiry).await.is_empty());

    let missed = app
        .post_form(
            &format!("/staff/consultations/{past}/no-show"),
            Some(&desk),
            &[],
        )
        .await;
    assert_eq!(missed.status(), 303, "{engine:?}");
    let record = app.store.inquiry(inquiry).await.unwrap().unwrap();
    assert_eq!(record.status, InquiryStatus::Contacted, "{engine:?}");
    let open = app.store.open_callbacks(10).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].reason, CallbackReason::MissedConsultation);
    assert_eq!(open[0].phone_e164.as_deref(), Some("+15037253000"));
    let callbacks = app
        .get("/staff/callbacks", Some(&desk))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        callbacks.contains("Consultation missed: call to rebook"),
        "{callbacks}"
    );
    let thread = app
        .get(&format!("/staff/inquiries/{inquiry}"), Some(&desk))
        .await
        .text()
        .await
        .unwrap();
    assert!(thread.contains("data-event=\"no-show\""), "{thread}");

    // The follow-up gets the full number of tries: the call before the
    // booking does not count.
    attempt(open[0].task_id).await;
    let record = app.store.inquiry(inquiry).await.unwrap().unwrap();
    assert_eq!(record.status, InquiryStatus::Contacted, "{engine:?}");
    attempt(open[0].task_id).await;
    let record = app.store.inquiry(inquiry).await.unwrap().unwrap();
    assert_eq!(record.status, InquiryStatus::Closed, "{engine:?}");
}

both_engines!(the_public_page_offers_the_days_ahead_page_by_page);
async fn the_public_page_offers_the_days_ahead_page_by_page(engine: Engine) {
    let (app, _) = clinic(engine).await;
    let mut days = Vec::new();
    let mut next = Some("/consultations?time_zone=America%2FLos_Angeles".to_owned());
    let mut pages = 0;
    while let Some(path) = next.take() {
        pages += 1;
        let response = app.get(&path.replace("&#38;", "&"), None).await;
        assert_eq!(response.status(), 200, "{path}");
        let body = response.text().await.unwrap();
        for part in body.split("<h2 class=\"slot-day\">").skip(1) {
            days.push(part.split('<').next().unwrap().to_owned());
        }
        if pages > 1 {
            assert!(body.contains("id=\"earlier-dates\""), "{body}");
        }
        next = body
            .split("id=\"later-dates\" href=\"")
            .nth(1)
            .map(|rest| rest.split('"').next().unwrap().to_owned());
        assert!(pages < 10);
    }
    // Two weeks of weekdays from Monday 23 November, a page at a time.
    assert!(pages >= 3, "{pages}");
    assert_eq!(days.first().map(String::as_str), Some("Monday 23 November"));
    assert!(days.contains(&"Friday 4 December".to_owned()), "{days:?}");
    let mut unique = days.clone();
    unique.dedup();
    assert_eq!(unique, days, "no day twice");
    assert!(days.len() >= 10, "{days:?}");
}

both_engines!(a_phone_consultation_needs_a_phone_number);
async fn a_phone_consultation_needs_a_phone_number(engine: Engine) {
    let (app, staff) = clinic(engine).await;
    let fields = [
        ("name", "Ana López"),
        ("phone", ""),
        ("email", "ana@example.org"),
        ("time_zone", "America/Chicago"),
        ("slot", &slot_key(staff, "2026-11-24T18:00Z")),
        ("consent", "yes"),
    ];
    let response = app.post_form("/consultations", None, &fields).await;
    assert_eq!(response.status(), 422, "{engine:?}");
    let body = response.text().await.unwrap();
    assert!(
        body.contains("data-field=\"phone\"")
            && body.contains(
                "please give the number we should call you on, as the consultation is a phone call"
            ),
        "{body}"
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM consultations").await, 0);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM inquiries").await, 0);

    // Staff cannot book one for a thread with no number either.
    let mut fields = inquiry_fields("Ben Okafor");
    fields[1].1 = String::new();
    fields[2].1 = "ben@example.org".into();
    fields[3].1 = "email".into();
    assert_eq!(
        app.post_form("/inquiries", None, &as_refs(&fields))
            .await
            .status(),
        303
    );
    let inquiry = only_inquiry(&app).await;
    let desk = app.sign_in(Role::FrontDesk).await;
    let refused = app
        .post_form(
            &format!("/staff/inquiries/{inquiry}/consultations"),
            Some(&desk),
            &[("slot", &slot_key(staff, "2026-11-23T23:00Z"))],
        )
        .await;
    assert_eq!(refused.status(), 422);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("this person has no phone number on file"));
    assert_eq!(count(&app, "SELECT COUNT(*) FROM consultations").await, 0);
}

both_engines!(a_booking_that_opens_a_thread_invents_no_answers);
async fn a_booking_that_opens_a_thread_invents_no_answers(engine: Engine) {
    let (app, staff) = clinic(engine).await;
    public_booking(&app, staff, "2026-11-24T18:00Z").await;
    let inquiry = only_inquiry(&app).await;
    let record = app.store.inquiry(inquiry).await.unwrap().unwrap();
    assert_eq!(record.pain_area, None, "{engine:?}");
    assert_eq!(record.pain_duration, None);
    let desk = app.sign_in(Role::FrontDesk).await;
    let page = app
        .get(&format!("/staff/inquiries/{inquiry}"), Some(&desk))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<dd id=\"inquiry-pain\">not given, not given</dd>"),
        "{page}"
    );
    assert!(!page.contains("not-sure"));
}

both_engines!(the_staff_list_shows_a_day_a_week_one_person_and_pages);
async fn the_staff_list_shows_a_day_a_week_one_person_and_pages(engine: Engine) {
    let (app, staff) = clinic(engine).await;
    let inquiry = web_inquiry(&app).await;
    // 55 consultations: Monday to Thursday, every quarter hour from 09:00.
    let mut starts: Vec<Timestamp> = Vec::new();
    for day in 0..4 {
        for quarter in 0..14 {
            starts.push(
                at("2026-11-23T17:00Z")
                    + jiff::SignedDuration::from_mins(day * 24 * 60 + quarter * 15),
            );
        }
    }
    starts.truncate(55);
    for start in &starts {
        booked_directly(&app, inquiry, staff, &start.to_string()).await;
    }
    let desk = app.sign_in(Role::FrontDesk).await;
    let rows = |body: &str| body.matches("<tr data-consultation=").count();

    let today = app
        .get("/staff/consultations?view=today", Some(&desk))
        .await;
    assert_eq!(today.status(), 200);
    let body = today.text().await.unwrap();
    assert_eq!(rows(&body), 14, "{engine:?}");
    assert!(body.contains("Today, Monday 23 November"));
    assert!(body.contains("id=\"next-dates\""));

    let tuesday = app
        .get(
            &format!("/staff/consultations?view=day&date=2026-11-24&staff={staff}"),
            Some(&desk),
        )
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(rows(&tuesday), 14);
    let week = app
        .get(
            "/staff/consultations?view=week&date=2026-11-25",
            Some(&desk),
        )
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(rows(&week), 55);
    assert!(week.contains("Week of Monday 23 November 2026"));
    let nobody = app
        .get(
            &format!(
                "/staff/consultations?view=week&date=2026-11-25&staff={}",
                staff + 99
            ),
            Some(&desk),
        )
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(rows(&nobody), 0);

    // Everything from yesterday on, 50 a page, no row twice.
    let first = app
        .get("/staff/consultations", Some(&desk))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(rows(&first), 50);
    let next = first
        .split("id=\"next-page\" href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&#38;", "&");
    // A booking made meanwhile, earlier than the page's end, does not
    // shift the next page.
    booked_directly(&app, inquiry, staff, "2026-11-24T21:00Z").await;
    let second = app.get(&next, Some(&desk)).await.text().await.unwrap();
    assert_eq!(rows(&second), 5, "{engine:?}");
    assert!(!second.contains("id=\"next-page\""));
    let ids = |body: &str| -> Vec<String> {
        body.split("<tr data-consultation=\"")
            .skip(1)
            .map(|s| s.split('"').next().unwrap().to_owned())
            .collect()
    };
    let mut all = ids(&first);
    all.extend(ids(&second));
    let count_all = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), count_all);
    let bad = app
        .get("/staff/consultations?view=day&date=tomorrow", Some(&desk))
        .await;
    assert_eq!(bad.status(), 422);
    assert!(bad.text().await.unwrap().contains("date"));
}

both_engines!(the_cancelled_ics_is_the_same_event_with_a_higher_sequence);
async fn the_cancelled_ics_is_the_same_event_with_a_higher_sequence(engine: Engine) {
    let (app, staff) = clinic(engine).await;
    let token = public_booking(&app, staff, "2026-11-24T18:00Z").await;
    let before = app
        .get(&format!("/consultations/booking.ics?token={token}"), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(before.contains("SEQUENCE:0\r\n") && before.contains("STATUS:CONFIRMED"));
    app.post_form("/consultations/booking/cancel", None, &[("token", &token)])
        .await;
    let after = app
        .get(&format!("/consultations/booking.ics?token={token}"), None)
        .await
        .text()
        .await
        .unwrap();
    let uid = |ics: &str| {
        ics.lines()
            .find(|l| l.starts_with("UID:"))
            .unwrap()
            .to_owned()
    };
    assert_eq!(uid(&before), uid(&after));
    assert!(
        after.contains("SEQUENCE:1\r\n") && after.contains("STATUS:CANCELLED"),
        "{after}"
    );
    // The link's token is what the server signed.
    let secret = app
        .store
        .setting(booking_token::SECRET_SETTING)
        .await
        .unwrap()
        .unwrap();
    let id = app
        .store
        .consultations_of_inquiry(only_inquiry(&app).await)
        .await
        .unwrap()[0]
        .id;
    assert!(booking_token::verify(secret.as_bytes(), &token, at(NOW)).is_ok_and(|v| v == id));
}

both_engines!(a_move_by_the_link_is_an_event_of_the_thread);
async fn a_move_by_the_link_is_an_event_of_the_thread(engine: Engine) {
    let (app, staff) = clinic(engine).await;
    let token = public_booking(&app, staff, "2026-11-24T18:00Z").await;
    let moved = app
        .post_form(
            "/consultations/booking/reschedule",
            None,
            &[
                ("token", &token),
                ("slot", &slot_key(staff, "2026-11-24T19:00Z")),
            ],
        )
        .await;
    assert_eq!(moved.status(), 303, "{engine:?}");
    let inquiry = only_inquiry(&app).await;
    let record = &app.store.consultations_of_inquiry(inquiry).await.unwrap()[0];
    assert_eq!(record.sequence, 1);
    // Still booked: nobody needs to call.
    let status = app.store.inquiry(inquiry).await.unwrap().unwrap().status;
    assert_eq!(status, InquiryStatus::ConsultationBooked);
    assert!(open_reasons(&app, inquiry).await.is_empty());
    let desk = app.sign_in(Role::FrontDesk).await;
    let thread = app
        .get(&format!("/staff/inquiries/{inquiry}"), Some(&desk))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        thread.contains(
            "Consultation moved from 2026-11-24 10:00 to 2026-11-24 11:00 by the person, \
             with the link of their confirmation"
        ),
        "{thread}"
    );
}

both_engines!(the_person_is_told_of_a_staff_move_and_a_staff_cancellation_by_text);
/// At 08:00 PST (10:00 CST) the person's texts may go at once.
async fn the_person_is_told_of_a_staff_move_and_a_staff_cancellation_by_text(engine: Engine) {
    let api = crate::messaging::TwilioApi::start().await;
    let (app, staff) = clinic_with(engine, crate::messaging::config(Some(&api))).await;
    let run_jobs = || {
        let state = respite_web::AppState::new(
            app.store.clone(),
            std::sync::Arc::new(WebConfig {
                clock: Clock::Fixed(at(NOW)),
                ..crate::messaging::config(Some(&api))
            }),
        );
        async move { respite_web::jobs::run_due(&state).await.unwrap() }
    };
    public_booking(&app, staff, "2026-11-24T18:00Z").await;
    assert_eq!(run_jobs().await, 1, "{engine:?}: the confirmation");
    let inquiry = only_inquiry(&app).await;
    let id = app.store.consultations_of_inquiry(inquiry).await.unwrap()[0].id;
    let desk = app.sign_in(Role::FrontDesk).await;
    let moved = app
        .post_form(
            &format!("/staff/consultations/{id}/move"),
            Some(&desk),
            &[("slot", &slot_key(staff, "2026-11-24T19:00Z"))],
        )
        .await;
    assert_eq!(moved.status(), 303);
    assert_eq!(run_jobs().await, 1, "{engine:?}: the new time");
    let cancelled = app
        .post_form(
            &format!("/staff/consultations/{id}/cancel"),
            Some(&desk),
            &[("reason", "Fran is off sick")],
        )
        .await;
    assert_eq!(cancelled.status(), 303);
    assert_eq!(run_jobs().await, 1, "{engine:?}: the cancellation");
    let texts: Vec<String> = api
        .received()
        .iter()
        .map(|t| t.field("Body").unwrap().to_owned())
        .collect();
    assert_eq!(texts.len(), 3, "{texts:?}");
    assert!(
        texts[1].contains("has moved to Tuesday 24 November, 1:00 PM CST"),
        "{}",
        texts[1]
    );
    assert!(
        texts[2].contains("we are sorry, we had to cancel your free phone consultation on Tuesday 24 November, 1:00 PM CST"),
        "{}",
        texts[2]
    );
    // The reason stays in the thread; the person's text does not carry it.
    assert!(!texts[2].contains("sick"));
    assert!(
        texts[2].contains("/consultations/booking?token="),
        "{}",
        texts[2]
    );
}

both_engines!(a_refused_booking_shows_the_chosen_time_again_on_its_page_of_days);
async fn a_refused_booking_shows_the_chosen_time_again_on_its_page_of_days(engine: Engine) {
    let (app, staff) = clinic(engine).await;
    // Friday 4 December is beyond the first page of days.
    let chosen = slot_key(staff, "2026-12-04T18:00Z");
    let first_page = app
        .get("/consultations?time_zone=America/Chicago", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(!first_page.contains(&chosen));
    let fields = [
        ("name", "Ana López"),
        ("phone", "(503) 725-3000"),
        ("email", ""),
        ("time_zone", "America/Chicago"),
        ("slot", &chosen),
    ];
    let refused = app.post_form("/consultations", None, &fields).await;
    assert_eq!(refused.status(), 422, "{engine:?}");
    let body = refused.text().await.unwrap();
    assert!(
        body.contains("please agree that we may contact you"),
        "{body}"
    );
    assert!(
        body.contains(&format!("value=\"{chosen}\" checked")),
        "{engine:?}: {body}"
    );
    assert!(body.contains("id=\"earlier-dates\""));
}
