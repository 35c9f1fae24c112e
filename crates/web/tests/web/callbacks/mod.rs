//! Best-time callbacks, contact attempts, the consultation note and the
//! conversion of an inquiry to a chart (SPEC §1 steps 2 and 3), each on
//! SQLite and PostgreSQL.

use jiff::Timestamp;
use respite_domain::inquiry::InquiryForm;
use respite_domain::Role;
use respite_store::{InquiryStatus, Store};
use respite_web::{Clock, WebConfig};

use crate::support::*;

/// Stores an inquiry as the web form would, received at `received`, and
/// returns its id and its callback task's id.
async fn inquiry(
    store: &Store,
    name: &str,
    windows: (&str, &str, &str),
    zone: &str,
    received: &str,
) -> (i64, i64) {
    let (days, start, end) = windows;
    let form = InquiryForm {
        name: name.into(),
        phone: "(503) 725-3000".into(),
        preferred_channel: "phone".into(),
        window_days: days.into(),
        window_start: start.into(),
        window_end: end.into(),
        time_zone: zone.into(),
        pain_area: "back".into(),
        pain_duration: "1-5-years".into(),
        consent: true,
        ..InquiryForm::default()
    };
    let new = form.validate("US").unwrap();
    let id = store
        .insert_inquiry(&new, received.parse().unwrap())
        .await
        .unwrap();
    let task = store
        .open_callbacks(1000)
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.inquiry_id == id)
        .unwrap()
        .task_id;
    (id, task)
}

async fn status_of(app: &TestApp, id: i64) -> (String, Option<String>) {
    let mut raw = app.raw().await;
    sqlx::query_as("SELECT status, closed_reason FROM inquiries WHERE id = $1")
        .bind(id)
        .fetch_one(&mut raw)
        .await
        .unwrap()
}

both_engines!(the_queue_is_in_window_order_in_both_clocks_and_flags_overdue);
/// The queue at a fixed instant: Friday 27 November 2026 23:30Z, which is
/// 18:30 EST in New York, 17:30 CST in Chicago, 23:30 GMT in London,
/// Saturday 05:00 IST in Kolkata and 15:30 PST at the clinic (Los Angeles).
async fn the_queue_is_in_window_order_in_both_clocks_and_flags_overdue(engine: Engine) {
    let config = WebConfig {
        clock: Clock::Fixed("2026-11-27T23:30Z".parse().unwrap()),
        ..WebConfig::default()
    };
    let app = spawn_with(engine, config).await;
    let s = &app.store;
    // Created in an order unlike the expected one.
    // Kolkata weekdays 10-12: the weekend first, Monday 30th 10:00 IST = 04:30Z.
    inquiry(
        s,
        "Dev Kolkata",
        ("weekdays", "10:00", "12:00"),
        "Asia/Kolkata",
        "2026-11-27T20:00Z",
    )
    .await;
    // Chicago weekends 9-12: Saturday 09:00 CST = 15:00Z = 07:00 PST.
    inquiry(
        s,
        "Bo Chicago",
        ("weekends", "09:00", "12:00"),
        "America/Chicago",
        "2026-11-27T21:00Z",
    )
    .await;
    // London every day 8-9: Saturday 08:00 GMT = 08:00Z = 00:00 PST.
    inquiry(
        s,
        "Cy London",
        ("every-day", "08:00", "09:00"),
        "Europe/London",
        "2026-11-27T22:00Z",
    )
    .await;
    // New York weekday evenings, open now (18:30 EST) until 19:00 EST.
    inquiry(
        s,
        "Al New York",
        ("weekdays", "17:00", "19:00"),
        "America/New_York",
        "2026-11-27T23:00Z",
    )
    .await;
    // The same window, created Thursday 12:00Z: Thursday's window
    // (22:00Z-00:00Z) opened and closed without an attempt: overdue. It
    // is open now too, and older than Al's, so it comes first.
    inquiry(
        s,
        "Ed Overdue",
        ("weekdays", "17:00", "19:00"),
        "America/New_York",
        "2026-11-26T12:00Z",
    )
    .await;

    let token = app.sign_in(Role::FrontDesk).await;
    let response = app.get("/staff/callbacks", Some(&token)).await;
    assert_eq!(response.status(), 200, "{engine:?}");
    let page = response.text().await.unwrap();
    let order: Vec<_> = [
        "Ed Overdue",
        "Al New York",
        "Cy London",
        "Bo Chicago",
        "Dev Kolkata",
    ]
    .iter()
    .map(|name| (page.find(name).unwrap_or(usize::MAX), *name))
    .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(sorted, order, "{engine:?}: queue order by next opening");

    let row = |name: &str| -> String {
        let start = page.find(name).unwrap();
        let begin = page[..start].rfind("<li").unwrap();
        let end = start + page[start..].find("</li>").unwrap();
        page[begin..end].to_owned()
    };
    let expect = |name: &str, person: &str, clinic: &str| {
        let row = row(name);
        assert!(
            row.contains(person),
            "{engine:?} {name}: {person} not in {row}"
        );
        assert!(
            row.contains(clinic),
            "{engine:?} {name}: {clinic} not in {row}"
        );
    };
    expect(
        "Al New York",
        "now, until 19:00 EST",
        "now, until 16:00 PST",
    );
    expect(
        "Cy London",
        "Sat 28 Nov 08:00–09:00 GMT",
        "Sat 28 Nov 00:00–01:00 PST",
    );
    expect(
        "Bo Chicago",
        "Sat 28 Nov 09:00–12:00 CST",
        "Sat 28 Nov 07:00–10:00 PST",
    );
    expect(
        "Dev Kolkata",
        "Mon 30 Nov 10:00–12:00 IST",
        "Sun 29 Nov 20:30–22:30 PST",
    );
    assert!(row("Ed Overdue").contains("class=\"callback overdue open-now\""));
    for name in ["Al New York", "Cy London", "Bo Chicago", "Dev Kolkata"] {
        assert!(
            !row(name).contains("Overdue</span>"),
            "{engine:?} {name} is not overdue"
        );
    }
    // The front desk may log attempts; an administrator only reads.
    assert!(page.contains("form method=\"post\" action=\"/staff/callbacks/"));
    let admin = app.sign_in(Role::Admin).await;
    let page = app
        .get("/staff/callbacks", Some(&admin))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Dev Kolkata") && !page.contains("class=\"attempt\""));
}

both_engines!(attempts_move_the_thread_on_and_the_third_unanswered_closes_it);
async fn attempts_move_the_thread_on_and_the_third_unanswered_closes_it(engine: Engine) {
    let app = spawn(engine).await;
    let s = &app.store;
    let window = ("every-day", "09:00", "17:00");
    let (reached, reached_task) = inquiry(
        s,
        "Reached Person",
        window,
        "America/Chicago",
        "2026-11-01T12:00Z",
    )
    .await;
    let (stop, stop_task) = inquiry(
        s,
        "Stop Person",
        window,
        "America/Chicago",
        "2026-11-01T12:00Z",
    )
    .await;
    let (silent, silent_task) = inquiry(
        s,
        "Silent Person",
        window,
        "America/Chicago",
        "2026-11-01T12:00Z",
    )
    .await;
    let token = app.sign_in(Role::FrontDesk).await;
    let attempt = |task: i64, outcome: &'static str| {
        let app = &app;
        let token = token.clone();
        async move {
            app.post_form(
                &format!("/staff/callbacks/{task}/attempts"),
                Some(&token),
                &[("outcome", outcome), ("note", "rang twice")],
            )
            .await
        }
    };

    let response = attempt(reached_task, "reached").await;
    assert_eq!(response.status(), 303, "{engine:?}");
    assert_eq!(response.headers()["location"], "/staff/callbacks?logged=1");
    assert_eq!(status_of(&app, reached).await, ("contacted".into(), None));
    // Reached: the task is done, and a second attempt on it is refused.
    let again = attempt(reached_task, "no-answer").await;
    assert_eq!(again.status(), 409, "{engine:?}");
    assert!(again
        .text()
        .await
        .unwrap()
        .contains("Callback: is already done"));

    attempt(stop_task, "asked-to-stop").await;
    assert_eq!(
        status_of(&app, stop).await,
        ("closed".into(), Some("asked-to-stop".into()))
    );

    for (n, outcome) in ["no-answer", "left-voicemail"].iter().enumerate() {
        assert_eq!(attempt(silent_task, outcome).await.status(), 303);
        assert_eq!(
            status_of(&app, silent).await.0,
            "new",
            "{engine:?} after {} unanswered",
            n + 1
        );
    }
    assert_eq!(attempt(silent_task, "no-answer").await.status(), 303);
    assert_eq!(
        status_of(&app, silent).await,
        ("closed".into(), Some("no-answer".into())),
        "{engine:?}: the third unanswered attempt closes the thread"
    );
    assert!(
        s.open_callbacks(100).await.unwrap().is_empty(),
        "{engine:?}: queue empty"
    );
    let attempts = s.contact_attempts(silent).await.unwrap();
    assert_eq!(
        attempts
            .iter()
            .map(|a| a.outcome.as_str())
            .collect::<Vec<_>>(),
        ["no-answer", "left-voicemail", "no-answer"]
    );
    assert_eq!(attempts[0].staff_email, "front-desk@clinic.test");
    // The inquiry's thread lists them, in order, with the note.
    let page = app
        .get(&format!("/staff/inquiries/{silent}"), Some(&token))
        .await
        .text()
        .await
        .unwrap();
    let thread = page
        .split("id=\"thread\"")
        .nth(1)
        .unwrap_or_else(|| panic!("{page}"));
    let listed: Vec<&str> = thread
        .split("call attempt by front-desk@clinic.test: ")
        .skip(1)
        .map(|rest| rest.split('<').next().unwrap())
        .collect();
    assert_eq!(
        listed,
        ["No answer", "Left voicemail", "No answer"],
        "{engine:?}"
    );
    assert!(thread.contains("rang twice"));

    // Bad input: named, nothing stored.
    let (_, task) = inquiry(
        s,
        "Another Person",
        window,
        "America/Chicago",
        "2026-11-01T12:00Z",
    )
    .await;
    let bad = attempt(task, "hung-up").await;
    assert_eq!(bad.status(), 422);
    assert!(bad
        .text()
        .await
        .unwrap()
        .contains("Outcome: choose reached"));
    assert_eq!(attempt(999_999, "reached").await.status(), 404);
    assert_eq!(
        s.open_callbacks(100).await.unwrap()[0].attempts,
        0,
        "{engine:?}"
    );
}

both_engines!(the_number_of_unanswered_attempts_is_a_setting);
async fn the_number_of_unanswered_attempts_is_a_setting(engine: Engine) {
    let config = WebConfig {
        unanswered_attempts_before_closing: 1,
        ..WebConfig::default()
    };
    let app = spawn_with(engine, config).await;
    let (id, task) = inquiry(
        &app.store,
        "Once Only",
        ("weekdays", "09:00", "10:00"),
        "America/Denver",
        "2026-11-02T12:00Z",
    )
    .await;
    let token = app.sign_in(Role::Clinician).await;
    app.post_form(
        &format!("/staff/callbacks/{task}/attempts"),
        Some(&token),
        &[("outcome", "no-answer")],
    )
    .await;
    assert_eq!(
        status_of(&app, id).await,
        ("closed".into(), Some("no-answer".into())),
        "{engine:?}"
    );
}

fn note_fields() -> Vec<(&'static str, String)> {
    [
        ("pain_location", "Lower back and left leg"),
        ("pain_duration_amount", "2"),
        ("pain_duration_unit", "years"),
        ("diagnosis", "Lumbar radiculopathy"),
        ("diagnosed_by", "Dr Ruiz, neurologist"),
        ("diagnosed_on", "2025-03-14"),
        ("icd10cm_code", "m54.16"),
        (
            "treatments_tried",
            "Physiotherapy: no lasting relief\nGabapentin: dizziness",
        ),
        ("hopes", "Walk the dog again"),
        ("red_flags", ""),
        ("next_step", "book-screening-visit"),
        ("not_candidate_reason", ""),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_owned()))
    .collect()
}

fn with(
    fields: &[(&'static str, String)],
    changes: &[(&'static str, &str)],
) -> Vec<(&'static str, String)> {
    let mut fields = fields.to_vec();
    for (key, value) in changes {
        for field in fields.iter_mut().filter(|(k, _)| k == key) {
            field.1 = (*value).to_owned();
        }
    }
    fields
}

async fn count(app: &TestApp, table: &str) -> i64 {
    let mut raw = app.raw().await;
    let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(&mut raw)
        .await
        .unwrap();
    n
}

both_engines!(note_errors_name_each_field_keep_the_values_and_store_nothing);
async fn note_errors_name_each_field_keep_the_values_and_store_nothing(engine: Engine) {
    let app = spawn(engine).await;
    let (id, _) = inquiry(
        &app.store,
        "Note Person",
        ("weekdays", "09:00", "12:00"),
        "America/New_York",
        "2026-11-02T12:00Z",
    )
    .await;
    // The clinical note is a nurse's or clinician's (SPEC §2).
    let token = app.sign_in(Role::Clinician).await;
    let path = format!("/staff/inquiries/{id}/consultation");
    let base = note_fields();
    let check = |changes: Vec<(&'static str, &'static str)>,
                 errors: Vec<(&'static str, &'static str)>| {
        let app = &app;
        let token = token.clone();
        let path = path.clone();
        let fields = with(&base, &changes);
        async move {
            let response = app.post_form(&path, Some(&token), &as_refs(&fields)).await;
            assert_eq!(response.status(), 422, "{engine:?} {changes:?}");
            let page = response.text().await.unwrap();
            for (field, message) in &errors {
                let marker = format!("id=\"{field}-error\">");
                let at = page
                    .find(&marker)
                    .unwrap_or_else(|| panic!("{field}: no error beside it"));
                assert!(
                    page[at..].starts_with(&format!("{marker}{message}")),
                    "{field}: {message}"
                );
            }
            assert_eq!(
                page.matches("class=\"field-error\"").count(),
                errors.len(),
                "{changes:?}"
            );
            assert!(
                page.contains("Lower back and left leg")
                    || changes.iter().any(|(k, _)| *k == "pain_location")
            );
        }
    };
    check(
        vec![("pain_location", "")],
        vec![("pain_location", "is required")],
    )
    .await;
    check(
        vec![("pain_duration_amount", "two")],
        vec![("pain_duration_amount", "must be a whole number")],
    )
    .await;
    check(
        vec![("pain_duration_unit", "days")],
        vec![("pain_duration_unit", "choose weeks, months or years")],
    )
    .await;
    check(
        vec![("diagnosed_by", "")],
        vec![("diagnosed_by", "is required with a diagnosis")],
    )
    .await;
    check(
        vec![("diagnosed_on", "3000-01-01")],
        vec![("diagnosed_on", "cannot be in the future")],
    )
    .await;
    check(
        vec![("icd10cm_code", "sore back")],
        vec![("icd10cm_code", "must look like an ICD-10-CM code")],
    )
    .await;
    check(
        vec![("treatments_tried", "Physiotherapy")],
        vec![("treatments_tried", "line 1: write the treatment")],
    )
    .await;
    check(vec![("next_step", "")], vec![("next_step", "choose")]).await;
    check(
        vec![("next_step", "not-a-candidate")],
        vec![("not_candidate_reason", "is required")],
    )
    .await;
    check(
        vec![("pain_location", ""), ("next_step", "maybe")],
        vec![("pain_location", "is required"), ("next_step", "choose")],
    )
    .await;
    assert_eq!(
        count(&app, "consultation_notes").await,
        0,
        "{engine:?}: nothing stored"
    );

    // A valid note is stored and shown; "not a candidate" closes the thread.
    let response = app.post_form(&path, Some(&token), &as_refs(&base)).await;
    assert_eq!(response.status(), 303, "{engine:?}");
    let page = app.get(&path, Some(&token)).await.text().await.unwrap();
    assert!(page.contains("Lumbar radiculopathy, by Dr Ruiz, neurologist on 2025-03-14 (M54.16)"));
    assert!(page.contains("Gabapentin: dizziness"));
    let not_candidate = with(
        &base,
        &[
            ("next_step", "not-a-candidate"),
            ("not_candidate_reason", "Pain for 6 weeks only"),
        ],
    );
    app.post_form(&path, Some(&token), &as_refs(&not_candidate))
        .await;
    assert_eq!(
        status_of(&app, id).await,
        ("closed".into(), Some("not-a-candidate".into())),
        "{engine:?}"
    );
    assert!(app.store.open_callbacks(10).await.unwrap().is_empty());
}

both_engines!(conversion_creates_one_chart_with_the_stated_diagnosis_and_refuses_a_second);
async fn conversion_creates_one_chart_with_the_stated_diagnosis_and_refuses_a_second(
    engine: Engine,
) {
    let app = spawn(engine).await;
    let (id, _) = inquiry(
        &app.store,
        "Maria Elena Ruiz",
        ("weekdays", "09:00", "12:00"),
        "America/New_York",
        "2026-11-02T12:00Z",
    )
    .await;
    let clinician = app.sign_in(Role::Clinician).await;
    let chart_path = format!("/staff/inquiries/{id}/chart");
    let demographics = [
        ("given_name", "Maria Elena"),
        ("family_name", "Ruiz"),
        ("birth_date", "1979-06-02"),
        ("sex", "female"),
    ];

    // Without a consultation note: refused, nothing stored.
    let refused = app
        .post_form(&chart_path, Some(&clinician), &demographics)
        .await;
    assert_eq!(refused.status(), 409, "{engine:?}");
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("Consultation note: record the consultation"));

    let note = app
        .post_form(
            &format!("/staff/inquiries/{id}/consultation"),
            Some(&clinician),
            &as_refs(&note_fields()),
        )
        .await;
    assert_eq!(note.status(), 303);

    // The form proposes the name's split; bad demographics are named.
    let form = app
        .get(&chart_path, Some(&clinician))
        .await
        .text()
        .await
        .unwrap();
    assert!(form.contains("value=\"Maria Elena\"") && form.contains("value=\"Ruiz\""));
    let bad = app
        .post_form(
            &chart_path,
            Some(&clinician),
            &[
                ("given_name", "Maria"),
                ("family_name", ""),
                ("birth_date", "02/06/1979"),
                ("sex", "f"),
            ],
        )
        .await;
    assert_eq!(bad.status(), 422);
    let page = bad.text().await.unwrap();
    for field in ["family_name", "birth_date", "sex"] {
        assert!(page.contains(&format!("id=\"{field}-error\"")), "{field}");
    }
    assert!(page.contains("value=\"Maria\""), "typed value kept");
    assert_eq!(count(&app, "patients").await, 0, "{engine:?}");

    // Concurrent conversions: exactly one chart.
    let attempts = (0..4).map(|_| {
        let app = &app;
        let clinician = clinician.clone();
        let chart_path = chart_path.clone();
        async move {
            app.post_form(&chart_path, Some(&clinician), &demographics)
                .await
        }
    });
    let responses = futures::future::join_all(attempts).await;
    let statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 303).count(),
        1,
        "{engine:?}: {statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 303 || *s == 409),
        "{engine:?}: {statuses:?}"
    );
    let created = responses.iter().find(|r| r.status() == 303).unwrap();
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let patient_id: i64 = location
        .strip_prefix("/staff/patients/")
        .unwrap()
        .parse()
        .unwrap();

    let again = app
        .post_form(&chart_path, Some(&clinician), &demographics)
        .await;
    assert_eq!(again.status(), 409);
    assert!(again
        .text()
        .await
        .unwrap()
        .contains("Inquiry: has already been converted to a patient chart"));
    assert_eq!(count(&app, "patients").await, 1, "{engine:?}");
    assert_eq!(count(&app, "conditions").await, 1, "{engine:?}");

    let patient = app.store.patient(patient_id).await.unwrap().unwrap();
    assert_eq!(
        (patient.given_name.as_str(), patient.family_name.as_str()),
        ("Maria Elena", "Ruiz")
    );
    assert_eq!(patient.phone_e164.as_deref(), Some("+15037253000"));
    assert_eq!(patient.time_zone, "America/New_York");
    assert_eq!(
        patient.mrn,
        respite_store::medical_record_number(patient_id)
    );
    let chart = app.store.inquiry_chart(id).await.unwrap().unwrap();
    assert_eq!(chart.patient_id, patient_id);

    let conditions = app.store.conditions(patient_id).await.unwrap();
    let condition = &conditions[0];
    assert_eq!(condition.icd10cm_code, "M54.16");
    assert_eq!(condition.display, "Lumbar radiculopathy");
    assert_eq!(condition.diagnosed_by, "Dr Ruiz, neurologist");
    assert_eq!(condition.diagnosed_on, "2025-03-14");
    assert!(condition.onset_estimated);
    // "2 years" stated today (New York calendar): onset two years back.
    let today = Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::get("America/New_York").unwrap())
        .date();
    // (29 February two years back does not exist: the 28th.)
    let expected = jiff::civil::Date::new(today.year() - 2, today.month(), today.day())
        .unwrap_or(jiff::civil::date(today.year() - 2, 2, 28));
    assert_eq!(condition.onset_date, expected.to_string(), "{engine:?}");
    let page = app
        .get(&format!("/staff/patients/{patient_id}"), Some(&clinician))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("(estimated from stated duration)"),
        "{engine:?}"
    );
    // The inquiry page links the chart.
    let inquiry_page = app
        .get(&format!("/staff/inquiries/{id}"), Some(&clinician))
        .await
        .text()
        .await
        .unwrap();
    assert!(inquiry_page.contains(&patient.mrn));
    assert_eq!(
        app.store
            .inquiries_with_status(InquiryStatus::New, 10)
            .await
            .unwrap()
            .len(),
        1,
        "converting does not change the thread's status"
    );
}
