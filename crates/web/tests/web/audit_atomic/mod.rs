//! A write and its audit entry commit together (SPEC §1: health information
//! audited; nothing half-written): when the entry cannot be written the
//! change is not stored either, and a stored change has exactly one entry,
//! naming the record. Each on SQLite and PostgreSQL.

use jiff::Timestamp;
use respite_domain::inquiry::InquiryForm;
use respite_domain::Role;
use respite_store::{AuditFilter, AuditRecord, Engine};
use respite_web::{Clock, WebConfig};

use crate::booking::front_desk_takes_monday_mornings;
use crate::support::*;

/// Monday 23 November 2026, 08:00 PST at the clinic (Los Angeles); the
/// front desk takes consultations 09:00–12:00 PST (17:00Z–20:00Z).
const NOW: &str = "2026-11-23T16:00Z";

async fn count(app: &TestApp, sql: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql)
        .fetch_one(&mut app.raw().await)
        .await
        .unwrap();
    n
}

/// A trigger on the audit table that makes every insert of an entry for
/// one of the `refused` resource types (an SQL list) fail, as a full disk
/// or a lost connection would at the worst moment.
async fn refuse_audit_entries(app: &TestApp, engine: Engine, refused: &str) {
    let mut raw = app.raw().await;
    let statements = match engine {
        Engine::Sqlite => vec![format!(
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log \
             WHEN NEW.resource_type IN {refused} \
             BEGIN SELECT RAISE(ABORT, 'audit entry refused by test'); END"
        )],
        Engine::Postgres => vec![
            "CREATE OR REPLACE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN RAISE EXCEPTION 'audit entry refused by test'; END $$"
                .to_owned(),
            format!(
                "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW \
                 WHEN (NEW.resource_type IN {refused}) EXECUTE FUNCTION refuse_audit()"
            ),
        ],
    };
    for statement in statements {
        sqlx::query(&statement).execute(&mut raw).await.unwrap();
    }
}

async fn allow_audit_entries(app: &TestApp, engine: Engine) {
    let mut raw = app.raw().await;
    let statement = match engine {
        Engine::Sqlite => "DROP TRIGGER refuse_audit",
        Engine::Postgres => "DROP TRIGGER refuse_audit ON audit_log",
    };
    sqlx::query(statement).execute(&mut raw).await.unwrap();
}

async fn entries(app: &TestApp) -> Vec<AuditRecord> {
    app.store
        .audit_entries(&AuditFilter {
            limit: 100_000,
            ..AuditFilter::default()
        })
        .await
        .unwrap()
}

/// An inquiry stored directly (no request, so no entry) and its callback
/// task's id.
async fn callback_task(app: &TestApp) -> i64 {
    callback_task_of(app).await.1
}

/// An inquiry stored directly (no request, so no entry): its id and its
/// callback task's.
async fn callback_task_of(app: &TestApp) -> (i64, i64) {
    let form = InquiryForm {
        name: "Cal Lee".into(),
        phone: "(503) 725-3999".into(),
        preferred_channel: "phone".into(),
        window_days: "weekdays".into(),
        window_start: "09:00".into(),
        window_end: "17:00".into(),
        time_zone: "America/Los_Angeles".into(),
        pain_area: "back".into(),
        pain_duration: "1-5-years".into(),
        consent: true,
        ..InquiryForm::default()
    };
    let inquiry = form.validate("US").unwrap();
    let id = app
        .store
        .insert_inquiry(&inquiry, NOW.parse().unwrap())
        .await
        .unwrap();
    let task = app
        .store
        .open_callbacks(100)
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.inquiry_id == id)
        .unwrap()
        .task_id;
    (id, task)
}

fn booking(staff: i64, starts: &str, name: &str, phone: &str) -> Vec<(&'static str, String)> {
    let starts: Timestamp = starts.parse().unwrap();
    vec![
        ("name", name.to_owned()),
        ("phone", phone.to_owned()),
        ("email", String::new()),
        ("time_zone", "America/Chicago".to_owned()),
        ("slot", format!("{staff}@{}", starts.as_millisecond())),
        ("consent", "yes".to_owned()),
    ]
}

both_engines!(a_write_whose_audit_entry_fails_stores_nothing);
async fn a_write_whose_audit_entry_fails_stores_nothing(engine: Engine) {
    let config = WebConfig {
        clock: Clock::Fixed(NOW.parse().unwrap()),
        ..WebConfig::default()
    };
    let app = spawn_with(engine, config).await;
    let staff = front_desk_takes_monday_mornings(&app).await;
    let task = callback_task(&app).await;
    let front_desk = app.sign_in(Role::FrontDesk).await;
    let attempt_path = format!("/staff/callbacks/{task}/attempts");
    let attempt_fields = [("outcome", "reached"), ("note", "spoke about the form")];
    let attempt = || app.post_form(&attempt_path, Some(&front_desk), &attempt_fields);
    let before = entries(&app).await.len();

    // The inquiry form, the public booking and the callback attempt.
    let refused = "('Inquiry', 'Appointment', 'CallbackTask')";
    refuse_audit_entries(&app, engine, refused).await;

    // The inquiry form: refused with a server error, and no inquiry,
    // callback task or consent was stored.
    let fields = inquiry_fields("Ana López");
    let response = app.post_form("/inquiries", None, &as_refs(&fields)).await;
    assert!(
        response.status().is_server_error(),
        "{engine:?}: inquiry answered {}",
        response.status()
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM inquiries").await, 1);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM callback_tasks").await, 1);

    // The public booking: no consultation, and no thread opened for it.
    let fields = booking(staff, "2026-11-23T17:00Z", "Ben Okafor", "(503) 725-3001");
    let response = app
        .post_form("/consultations", None, &as_refs(&fields))
        .await;
    assert!(
        response.status().is_server_error(),
        "{engine:?}: booking answered {}",
        response.status()
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM consultations").await, 0);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM inquiries").await, 1);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM jobs").await, 0);

    // The front desk's callback attempt: not recorded, the task still open,
    // the inquiry still new.
    let response = attempt().await;
    assert!(
        response.status().is_server_error(),
        "{engine:?}: attempt answered {}",
        response.status()
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM contact_attempts").await,
        0
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM callback_tasks WHERE done_at IS NULL"
        )
        .await,
        1
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM inquiries WHERE status = 'new'").await,
        1
    );
    // And no entry claims any of them.
    assert_eq!(entries(&app).await.len(), before, "{engine:?}");

    allow_audit_entries(&app, engine).await;

    // The same three again: each stored, with exactly one entry naming it.
    let fields = inquiry_fields("Ana López");
    let response = app.post_form("/inquiries", None, &as_refs(&fields)).await;
    assert_eq!(response.status(), 303, "{engine:?}");
    let inquiry = count(&app, "SELECT MAX(id) FROM inquiries").await;
    assert_eq!(count(&app, "SELECT COUNT(*) FROM inquiries").await, 2);

    let fields = booking(staff, "2026-11-23T17:00Z", "Ben Okafor", "(503) 725-3001");
    let response = app
        .post_form("/consultations", None, &as_refs(&fields))
        .await;
    assert_eq!(response.status(), 303, "{engine:?}");
    let consultation = count(&app, "SELECT MAX(id) FROM consultations").await;

    let response = attempt().await;
    assert_eq!(response.status(), 303, "{engine:?}");
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM contact_attempts").await,
        1
    );

    let all = entries(&app).await;
    assert_eq!(all.len(), before + 3, "{engine:?}: {all:#?}");
    let one = |resource: &str, action: &str| {
        let matching: Vec<&AuditRecord> = all
            .iter()
            .filter(|e| e.resource_type == resource && e.action == action)
            .collect();
        assert_eq!(
            matching.len(),
            1,
            "{engine:?}: {resource} {action}: {all:#?}"
        );
        matching[0].clone()
    };
    let created = one("Inquiry", "create");
    assert_eq!(created.resource_id, inquiry.to_string());
    assert_eq!(
        (created.actor.as_str(), created.outcome.as_str()),
        ("public", "success")
    );
    let booked = one("Appointment", "create");
    assert_eq!(booked.resource_id, consultation.to_string());
    assert_eq!(booked.outcome, "success");
    let attempted = one("CallbackTask", "update");
    assert_eq!(attempted.resource_id, task.to_string());
    assert_eq!(
        (attempted.actor.as_str(), attempted.outcome.as_str()),
        ("front-desk@clinic.test", "success")
    );

    let status = app.store.verify_audit_chain().await.unwrap();
    assert!(status.is_intact(), "{engine:?}: {status}");
}

both_engines!(concurrent_writes_keep_one_chain_with_one_entry_each);
/// Writes racing each other (each holding its person's lock, then the
/// chain's) neither deadlock nor fork the chain: one entry per inquiry, and
/// the chain verifies.
async fn concurrent_writes_keep_one_chain_with_one_entry_each(engine: Engine) {
    let app = spawn(engine).await;
    let front_desk = app.sign_in(Role::FrontDesk).await;
    let before = entries(&app).await.len();
    let mut requests = Vec::new();
    for n in 0..12 {
        let app = &app;
        let front_desk = front_desk.clone();
        requests.push(async move {
            // Two people sharing each number, so that writes also wait on
            // each other's person lock.
            let mut fields = inquiry_fields(&format!("Person {n}"));
            fields[1].1 = format!("(503) 725-31{:02}", n / 2);
            let status = app
                .post_form("/inquiries", None, &as_refs(&fields))
                .await
                .status();
            // A read between the writes, audited by the guard.
            let read = app.get("/staff", Some(&front_desk)).await.status();
            (status, read)
        });
    }
    for (status, read) in futures::future::join_all(requests).await {
        assert_eq!(status, 303, "{engine:?}");
        assert_eq!(read, 200, "{engine:?}");
    }
    let all = entries(&app).await;
    let created = all
        .iter()
        .filter(|e| e.resource_type == "Inquiry" && e.action == "create")
        .count();
    assert_eq!(created, 12, "{engine:?}");
    assert_eq!(all.len(), before + 24, "{engine:?}");
    let status = app.store.verify_audit_chain().await.unwrap();
    assert!(status.is_intact(), "{engine:?}: {status}");
}

both_engines!(staff_writes_whose_audit_entry_fails_store_nothing);
/// The same for staff: a booking made by the front desk and the
/// administrator's schedule changes.
async fn staff_writes_whose_audit_entry_fails_store_nothing(engine: Engine) {
    let config = WebConfig {
        clock: Clock::Fixed(NOW.parse().unwrap()),
        ..WebConfig::default()
    };
    let app = spawn_with(engine, config).await;
    let staff = front_desk_takes_monday_mornings(&app).await;
    let (inquiry, _) = callback_task_of(&app).await;
    let front_desk = app.sign_in(Role::FrontDesk).await;
    let admin = app.sign_in(Role::Admin).await;
    let slot = format!(
        "{staff}@{}",
        "2026-11-23T17:00Z"
            .parse::<Timestamp>()
            .unwrap()
            .as_millisecond()
    );
    let book_path = format!("/staff/inquiries/{inquiry}/consultations");
    let book_fields = [("slot", slot.as_str())];
    let book = || app.post_form(&book_path, Some(&front_desk), &book_fields);
    let holiday_fields = [("day", "2026-11-24"), ("name", "Staff training")];
    let holiday = || app.post_form("/staff/schedule/holidays", Some(&admin), &holiday_fields);
    let staff_id = staff.to_string();
    let availability_fields = [
        ("staff_user_id", staff_id.as_str()),
        ("weekday", "tuesday"),
        ("starts", "09:00"),
        ("ends", "10:00"),
    ];
    let availability = || {
        app.post_form(
            "/staff/schedule/availability",
            Some(&admin),
            &availability_fields,
        )
    };
    let before = entries(&app).await.len();

    refuse_audit_entries(&app, engine, "('Appointment', 'Schedule')").await;
    for (what, response) in [
        ("staff booking", book().await),
        ("holiday", holiday().await),
        ("availability", availability().await),
    ] {
        assert!(
            response.status().is_server_error(),
            "{engine:?}: {what} answered {}",
            response.status()
        );
    }
    assert_eq!(count(&app, "SELECT COUNT(*) FROM consultations").await, 0);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM inquiries WHERE status = 'new'").await,
        1
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM jobs").await, 0);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM clinic_holidays").await, 0);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM staff_availability").await,
        1
    );
    assert_eq!(entries(&app).await.len(), before, "{engine:?}");

    allow_audit_entries(&app, engine).await;
    for (what, response) in [
        ("staff booking", book().await),
        ("holiday", holiday().await),
        ("availability", availability().await),
    ] {
        assert_eq!(response.status(), 303, "{engine:?}: {what}");
    }
    let consultation = count(&app, "SELECT MAX(id) FROM consultations").await;
    let interval = count(&app, "SELECT MAX(id) FROM staff_availability").await;
    let all = entries(&app).await;
    assert_eq!(all.len(), before + 3, "{engine:?}: {all:#?}");
    let named = |resource: &str, action: &str| -> Vec<String> {
        all.iter()
            .filter(|e| e.resource_type == resource && e.action == action)
            .map(|e| e.resource_id.clone())
            .collect()
    };
    assert_eq!(named("Appointment", "create"), [consultation.to_string()]);
    assert_eq!(
        named("Schedule", "create"),
        [interval.to_string(), "holiday-2026-11-24".to_owned()]
    );
    let status = app.store.verify_audit_chain().await.unwrap();
    assert!(status.is_intact(), "{engine:?}: {status}");
}

both_engines!(a_note_and_a_chart_whose_audit_entry_fails_store_nothing);
/// The clinical writes: the consultation note and the chart it becomes.
async fn a_note_and_a_chart_whose_audit_entry_fails_store_nothing(engine: Engine) {
    let app = spawn(engine).await;
    let (inquiry, _) = callback_task_of(&app).await;
    let clinician = app.sign_in(Role::Clinician).await;
    let note_path = format!("/staff/inquiries/{inquiry}/consultation");
    let note_fields = [
        ("pain_location", "Lower back and left leg"),
        ("pain_duration_amount", "2"),
        ("pain_duration_unit", "years"),
        ("diagnosis", "Lumbar radiculopathy"),
        ("diagnosed_by", "Dr Ruiz, neurologist"),
        ("diagnosed_on", "2025-03-14"),
        ("icd10cm_code", "m54.16"),
        ("treatments_tried", "Physiotherapy: no lasting relief"),
        ("hopes", "Walk the dog again"),
        ("red_flags", ""),
        ("next_step", "book-screening-visit"),
        ("not_candidate_reason", ""),
    ];
    let chart_path = format!("/staff/inquiries/{inquiry}/chart");
    let demographics = [
        ("given_name", "Cal"),
        ("family_name", "Lee"),
        ("birth_date", "1979-06-02"),
        ("sex", "female"),
    ];
    let before = entries(&app).await.len();

    refuse_audit_entries(&app, engine, "('ConsultationNote')").await;
    let response = app
        .post_form(&note_path, Some(&clinician), &note_fields)
        .await;
    assert!(response.status().is_server_error(), "{engine:?}: note");
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM consultation_notes").await,
        0
    );
    allow_audit_entries(&app, engine).await;
    let response = app
        .post_form(&note_path, Some(&clinician), &note_fields)
        .await;
    assert_eq!(response.status(), 303, "{engine:?}: note");

    refuse_audit_entries(&app, engine, "('Patient')").await;
    let response = app
        .post_form(&chart_path, Some(&clinician), &demographics)
        .await;
    assert!(response.status().is_server_error(), "{engine:?}: chart");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM patients").await, 0);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM conditions").await, 0);
    allow_audit_entries(&app, engine).await;
    let response = app
        .post_form(&chart_path, Some(&clinician), &demographics)
        .await;
    assert_eq!(response.status(), 303, "{engine:?}: chart");
    let patient = count(&app, "SELECT MAX(id) FROM patients").await;

    let all = entries(&app).await;
    assert_eq!(all.len(), before + 2, "{engine:?}: {all:#?}");
    let note = &all[1];
    assert_eq!(
        (note.resource_type.as_str(), note.action.as_str()),
        ("ConsultationNote", "create")
    );
    assert_eq!(note.resource_id, inquiry.to_string());
    let chart = &all[0];
    assert_eq!(
        (chart.resource_type.as_str(), chart.action.as_str()),
        ("Patient", "create")
    );
    assert_eq!(chart.resource_id, patient.to_string());
    let status = app.store.verify_audit_chain().await.unwrap();
    assert!(status.is_intact(), "{engine:?}: {status}");
}
