//! Questionnaires on schedule: the admins' settings page (instruments,
//! timepoints, licences, reminders), the sweep that assigns what is due
//! once even with two servers, and the reminder, which respects consent
//! and quiet hours and carries the portal's address, no health data.

use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use respite_domain::messaging::MessageChannel;
use respite_domain::{Email, PhoneNumber, Role};
use respite_store::{ContactAddress, NewPatient, Store};
use respite_web::{AppState, Clock, WebConfig};

use crate::portal::{portal_get, portal_post, portal_post_with_token, signed_in};
use crate::support::*;

/// Texts handed to the "provider".
#[derive(Default)]
struct RecordingSms(Mutex<Vec<String>>);

impl respite_web::sms::SmsSender for RecordingSms {
    fn send<'a>(&'a self, to: &'a PhoneNumber, body: &'a str) -> respite_web::sms::SendFuture<'a> {
        self.0
            .lock()
            .unwrap()
            .push(format!("{}: {body}", to.as_e164()));
        Box::pin(async {
            Ok(respite_web::sms::SentSms {
                provider_id: "SM1".into(),
                from: "+13125550100".into(),
            })
        })
    }
}

async fn raw(app: &TestApp) -> sqlx::AnyConnection {
    sqlx::any::install_default_drivers();
    <sqlx::AnyConnection as sqlx::Connection>::connect(app.url.connection_string())
        .await
        .unwrap()
}

/// A patient in Chicago with a treatment plan written at `planned`, the
/// diagnosis `code`, and `phone`/`email` when given.
async fn planned_patient(
    app: &TestApp,
    mrn: &str,
    code: &str,
    phone: Option<&str>,
    email: Option<&str>,
    planned: Timestamp,
) -> i64 {
    let id = app
        .store
        .insert_patient(
            &NewPatient {
                mrn,
                given_name: "Sched",
                family_name: "Patient",
                birth_date: jiff::civil::date(1975, 3, 1),
                sex: "female",
                phone_e164: phone,
                email,
                time_zone: "America/Chicago",
            },
            planned,
        )
        .await
        .unwrap();
    let mut conn = raw(app).await;
    let (author,): (i64,) = sqlx::query_as("SELECT MIN(id) FROM staff_users")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO treatment_plans (patient_id, version, title, addresses, note, review_on, \
         author_user_id, created_at) VALUES ($1, 1, 'Plan', 'pain', '', '2099-01-01', $2, $3)",
    )
    .bind(id)
    .bind(author)
    .bind(planned.as_millisecond())
    .execute(&mut conn)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO conditions (patient_id, icd10cm_code, display, onset_date, diagnosed_by, \
         diagnosed_on) VALUES ($1, $2, 'condition', '2020-01-01', 'Dr Test', '2020-02-01')",
    )
    .bind(id)
    .bind(code)
    .execute(&mut conn)
    .await
    .unwrap();
    id
}

async fn add_infusion(app: &TestApp, patient: i64, at: Timestamp) {
    let mut conn = raw(app).await;
    sqlx::query(
        "INSERT INTO infusion_sessions (patient_id, started_at, protocol, total_mg, minutes) \
         VALUES ($1, $2, 'test', 35.0, 40)",
    )
    .bind(patient)
    .bind(at.as_millisecond())
    .execute(&mut conn)
    .await
    .unwrap();
}

fn state_at(store: Store, at: Timestamp, sms: &Arc<RecordingSms>, base: &str) -> AppState {
    let mut config = WebConfig {
        clock: Clock::Fixed(at),
        ..WebConfig::default()
    };
    config.messaging.public_url = Some(base.to_owned());
    let mut state = AppState::new(store, Arc::new(config));
    state.sms = sms.clone();
    state
}

fn scheduled(rows: &[respite_store::ScheduledRecord]) -> Vec<(String, String)> {
    let mut got: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r.instrument.clone(), r.timepoint.clone()))
        .collect();
    got.sort();
    got
}

async fn allow_texts(app: &TestApp, phone: &str) {
    app.store
        .record_consent(
            None,
            &ContactAddress::Phone(PhoneNumber::from_e164(phone).unwrap()),
            MessageChannel::Sms,
            true,
            Timestamp::now(),
            "test",
        )
        .await
        .unwrap();
}

both_engines!(admins_choose_instruments_timepoints_licences_and_reminders);
async fn admins_choose_instruments_timepoints_licences_and_reminders(engine: Engine) {
    let app = spawn(engine).await;
    let admin = app.sign_in(Role::Admin).await;
    // Linked from the clinic settings.
    let settings = app
        .get("/staff/settings", Some(&admin))
        .await
        .text()
        .await
        .unwrap();
    assert!(settings.contains("href=\"/staff/settings/questionnaires\""));

    let page = app
        .get("/staff/settings/questionnaires", Some(&admin))
        .await
        .text()
        .await
        .unwrap();
    // The defaults: the four for everyone, the condition-specific ones, the
    // timepoints, and licensed ones not given without a licence.
    for id in [
        "nrs-pain", "peg", "phq-9", "gad-7", "odi", "hit-6", "fiqr", "bpi-sf",
    ] {
        assert!(
            page.contains(&format!("value=\"{id}\" id=\"instrument-{id}\" checked")),
            "{engine:?}: {id} chosen by default"
        );
    }
    assert!(!page.contains("modified-aldrete"));
    assert!(page.contains("the clinic has recorded no licence"));
    for key in [
        "baseline",
        "before-infusion",
        "after-series-1",
        "after-series-7",
        "after-series-14",
        "after-series-28",
        "monthly",
    ] {
        assert!(page.contains(&format!("value=\"{key}\" checked")), "{key}");
    }

    // Bad input names the field and the rule; nothing is saved.
    let refused = app
        .post_form(
            "/staff/settings/questionnaires",
            Some(&admin),
            &[
                ("instrument", "phq-9"),
                ("timepoint", "fortnightly"),
                ("channel", "email"),
                ("licence_holder_odi", "Respite Clinic"),
                ("licence_date_odi", "2999-01-01"),
            ],
        )
        .await;
    assert_eq!(refused.status(), 422, "{engine:?}");
    let body = refused.text().await.unwrap();
    assert!(body.contains("“fortnightly” is not a timepoint"), "{body}");
    assert!(body.contains("give the licence number or its terms"));
    assert!(body.contains("the date granted cannot be in the future"));
    assert!(app.store.questionnaire_licences().await.unwrap().is_empty());

    // Saved: fewer instruments, the ODI licence recorded, e-mail reminders.
    let saved = app
        .post_form(
            "/staff/settings/questionnaires",
            Some(&admin),
            &[
                ("instrument", "nrs-pain"),
                ("instrument", "phq-9"),
                ("instrument", "odi"),
                ("timepoint", "baseline"),
                ("timepoint", "after-series-7"),
                ("channel", "email"),
                ("licence_holder_odi", "Respite Clinic"),
                ("licence_terms_odi", "Mapi licence 12345, clinical use"),
                ("licence_date_odi", "2026-01-15"),
            ],
        )
        .await;
    assert_eq!(saved.status(), 303, "{engine:?}");
    assert_eq!(
        saved.headers()["location"],
        "/staff/settings/questionnaires?saved=1"
    );
    let settings = respite_web::questionnaire_schedule::settings(&app.store)
        .await
        .unwrap();
    let ids: Vec<&str> = settings.instruments.iter().map(|i| i.id()).collect();
    assert_eq!(ids, ["nrs-pain", "phq-9", "odi"]);
    assert_eq!(settings.timepoints.len(), 2);
    assert_eq!(settings.licences.len(), 1);
    let licences = app.store.questionnaire_licences().await.unwrap();
    assert_eq!(
        licences[0].licence.terms,
        "Mapi licence 12345, clinical use"
    );
    assert_eq!(
        respite_web::questionnaire_schedule::reminder_channel(&app.store)
            .await
            .unwrap(),
        "email"
    );
    let page = app
        .get("/staff/settings/questionnaires?saved=1", Some(&admin))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("value=\"Mapi licence 12345, clinical use\""));
    assert!(
        page.contains("the clinic&#x27;s licence is recorded below")
            || page.contains("the clinic's licence is recorded below")
    );
    // The save is audited as a clinic setting.
    let entries = app
        .store
        .audit_entries(&respite_store::AuditFilter {
            limit: 5,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(entries
        .iter()
        .any(|e| e.resource_type == "ClinicSetting" && e.action == "update"));
}

both_engines!(the_schedule_assigns_each_timepoint_once_even_with_two_servers);
async fn the_schedule_assigns_each_timepoint_once_even_with_two_servers(engine: Engine) {
    let app = spawn(engine).await;
    // Monday 2 March 2026, 10:00 in Chicago.
    let planned: Timestamp = "2026-03-02T16:00:00Z".parse().unwrap();
    let back = planned_patient(&app, "S-1", "M54.50", None, None, planned).await;
    let crps = planned_patient(&app, "S-2", "G90.511", None, None, planned).await;
    app.store
        .save_questionnaire_schedule(
            &[],
            &[respite_store::QuestionnaireLicence {
                instrument: "odi".into(),
                holder: "Respite Clinic".into(),
                terms: "licence 1".into(),
                licensed_on: "2026-01-01".into(),
            }],
            "admin@clinic.test",
            planned,
        )
        .await
        .unwrap();
    let sms = Arc::new(RecordingSms::default());
    let other = Store::connect(&app.url, respite_store::PoolSettings::default())
        .await
        .unwrap();
    let (one, two) = (
        state_at(app.store.clone(), planned, &sms, &app.base),
        state_at(other, planned, &sms, &app.base),
    );
    let (a, b) = tokio::join!(
        respite_web::jobs::run_due(&one),
        respite_web::jobs::run_due(&two)
    );
    a.unwrap();
    b.unwrap();
    // Both servers again, as a later sweep in the same hour would.
    respite_web::questionnaire_schedule::sweep(&two, planned)
        .await
        .unwrap();
    let rows = app.store.scheduled_questionnaires_of(back).await.unwrap();
    // Baseline: the four for everyone (PEG, PHQ-9, GAD-7, NRS), ODI for
    // back pain with its licence; not BPI, HIT-6 or FIQR (no licence).
    assert_eq!(
        scheduled(&rows),
        [
            ("gad-7".to_owned(), "baseline".to_owned()),
            ("nrs-pain".to_owned(), "baseline".to_owned()),
            ("odi".to_owned(), "baseline".to_owned()),
            ("peg".to_owned(), "baseline".to_owned()),
            ("phq-9".to_owned(), "baseline".to_owned()),
        ],
        "{engine:?}"
    );
    assert!(rows.iter().all(|r| r.due_on == "2026-03-02"));
    let crps_rows = app.store.scheduled_questionnaires_of(crps).await.unwrap();
    assert_eq!(crps_rows.len(), 4, "{engine:?}: no ODI without back pain");

    // Two infusions, on 9 and 11 March; on the 12th the series is over.
    for day in ["2026-03-09T15:00:00Z", "2026-03-11T15:00:00Z"] {
        add_infusion(&app, back, day.parse().unwrap()).await;
    }
    // The day before each infusion, its questionnaires.
    for day in ["2026-03-08T15:00:00Z", "2026-03-10T15:00:00Z"] {
        let assigned = respite_web::questionnaire_schedule::sweep(&one, day.parse().unwrap())
            .await
            .unwrap();
        assert_eq!(assigned, 5, "{engine:?}: {day}");
    }
    let after: Timestamp = "2026-03-12T15:00:00Z".parse().unwrap();
    let (a, b) = tokio::join!(
        respite_web::questionnaire_schedule::sweep(&one, after),
        respite_web::questionnaire_schedule::sweep(&two, after)
    );
    assert_eq!(
        a.unwrap() + b.unwrap(),
        5,
        "{engine:?}: day 1 after the series, once"
    );
    let rows = app.store.scheduled_questionnaires_of(back).await.unwrap();
    let keys: std::collections::BTreeSet<&str> =
        rows.iter().map(|r| r.timepoint.as_str()).collect();
    assert_eq!(
        keys.into_iter().collect::<Vec<_>>(),
        [
            "baseline",
            "infusion:2026-03-09",
            "infusion:2026-03-11",
            "series:2026-03-11:day:1"
        ],
        "{engine:?}"
    );
    assert_eq!(rows.len(), 20);
    // The sweeps are audited as the system.
    let entries = app
        .store
        .audit_entries(&respite_store::AuditFilter {
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(entries
        .iter()
        .any(|e| e.actor == "system" && e.resource_id == back.to_string()));
}

both_engines!(a_reminder_respects_consent_and_quiet_hours_and_carries_no_health_data);
async fn a_reminder_respects_consent_and_quiet_hours_and_carries_no_health_data(engine: Engine) {
    let app = spawn(engine).await;
    // 23:00 in Chicago (05:00Z next day): in the quiet hours.
    let night: Timestamp = "2026-03-03T05:00:00Z".parse().unwrap();
    let phone = "+13125550177";
    let id = planned_patient(&app, "S-3", "G43.709", Some(phone), None, night).await;
    let sms = Arc::new(RecordingSms::default());
    let at_night = state_at(app.store.clone(), night, &sms, &app.base);
    respite_web::jobs::run_due(&at_night).await.unwrap();
    assert_eq!(
        app.store
            .scheduled_questionnaires_of(id)
            .await
            .unwrap()
            .len(),
        4
    );
    assert!(
        sms.0.lock().unwrap().is_empty(),
        "{engine:?}: nothing at night"
    );
    let reminder = app
        .store
        .jobs()
        .await
        .unwrap()
        .into_iter()
        .find(|j| j.kind == "questionnaire-reminder")
        .expect("a reminder job");
    // 08:00 in Chicago, when the quiet hours end.
    assert_eq!(reminder.run_at.to_string(), "2026-03-03T14:00:00Z");

    // In the morning, without consent to texts: not sent, and says why.
    let morning: Timestamp = "2026-03-03T14:01:00Z".parse().unwrap();
    let state = state_at(app.store.clone(), morning, &sms, &app.base);
    respite_web::jobs::run_due(&state).await.unwrap();
    assert!(
        sms.0.lock().unwrap().is_empty(),
        "{engine:?}: no consent, no text"
    );
    let job = app
        .store
        .jobs()
        .await
        .unwrap()
        .into_iter()
        .find(|j| j.kind == "questionnaire-reminder")
        .unwrap();
    assert!(job.done);
    assert!(
        job.last_error
            .as_deref()
            .is_some_and(|e| e.contains("no consent to texts")),
        "{:?}",
        job.last_error
    );

    // The next day's timepoint, with consent: one text, with the portal's
    // address and nothing about the patient's health.
    allow_texts(&app, phone).await;
    add_infusion(&app, id, "2026-03-06T15:00:00Z".parse().unwrap()).await;
    let day_before: Timestamp = "2026-03-05T15:00:00Z".parse().unwrap();
    let state = state_at(app.store.clone(), day_before, &sms, &app.base);
    respite_web::jobs::run_due(&state).await.unwrap();
    respite_web::jobs::run_due(&state).await.unwrap();
    let texts = sms.0.lock().unwrap().clone();
    assert_eq!(texts.len(), 1, "{engine:?}: {texts:?}");
    assert!(texts[0].starts_with(&format!("{phone}: ")));
    assert!(texts[0].contains(&format!("{}/portal/sign-in", app.base)));
    for health in [
        "PHQ", "GAD", "migraine", "headache", "HIT", "infusion", "Sched",
    ] {
        assert!(!texts[0].contains(health), "no {health} in {}", texts[0]);
    }
}

both_engines!(a_reminder_by_e_mail_reaches_the_smtp_server_with_consent);
async fn a_reminder_by_e_mail_reaches_the_smtp_server_with_consent(engine: Engine) {
    let Some(python) = crate::email::tool("RESPITE_TEST_AIOSMTPD_PYTHON") else {
        return;
    };
    let smtp = crate::email::aiosmtpd(&python, crate::email::SmtpServerTls::Plain).await;
    let app = spawn(engine).await;
    let noon: Timestamp = "2026-03-03T18:00:00Z".parse().unwrap();
    let address = "sched.patient@example.org";
    let id = planned_patient(&app, "S-4", "M79.7", None, Some(address), noon).await;
    app.store
        .save_questionnaire_schedule(
            &[("questionnaire_reminder_channel", "email".to_owned())],
            &[],
            "admin@clinic.test",
            noon,
        )
        .await
        .unwrap();
    app.store
        .record_consent(
            None,
            &ContactAddress::Email(Email::parse(address).unwrap()),
            MessageChannel::Email,
            true,
            noon,
            "test",
        )
        .await
        .unwrap();
    let sms = Arc::new(RecordingSms::default());
    let mut config = WebConfig {
        clock: Clock::Fixed(noon),
        smtp: Some(crate::email::smtp_settings(smtp.port)),
        ..WebConfig::default()
    };
    config.messaging.public_url = Some(app.base.clone());
    let mut state = AppState::new(app.store.clone(), Arc::new(config));
    state.sms = sms.clone();
    respite_web::jobs::run_due(&state).await.unwrap();
    assert_eq!(
        app.store
            .scheduled_questionnaires_of(id)
            .await
            .unwrap()
            .len(),
        4
    );
    let mut mail = Vec::new();
    for _ in 0..50 {
        mail = crate::email::saved_mail(&smtp.dir.0);
        if !mail.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(mail.len(), 1, "{engine:?}");
    let text = std::fs::read_to_string(&mail[0]).unwrap();
    assert!(text.contains(address));
    assert!(text.contains("/portal/sign-in"));
    assert!(!text.contains("fibromyalgia") && !text.contains("FIQ") && !text.contains("PHQ"));
    assert!(sms.0.lock().unwrap().is_empty());
}

both_engines!(the_portal_lists_what_is_due_by_day_with_its_timepoint_and_own_appointments_links);
async fn the_portal_lists_what_is_due_by_day_with_its_timepoint_and_own_appointments_links(
    engine: Engine,
) {
    let app = spawn(engine).await;
    let now = Timestamp::now();
    let day = jiff::SignedDuration::from_hours(24);
    let id = planned_patient(&app, "S-5", "G89.4", None, None, now - day * 3).await;
    let other = planned_patient(&app, "S-6", "G89.4", None, None, now - day * 3).await;
    // An infusion the day after tomorrow: its questionnaires are due tomorrow.
    add_infusion(&app, id, now + day * 2).await;
    let sms = Arc::new(RecordingSms::default());
    let state = state_at(app.store.clone(), now, &sms, &app.base);
    respite_web::questionnaire_schedule::sweep(&state, now)
        .await
        .unwrap();
    respite_web::questionnaire_schedule::sweep(&state, now + day)
        .await
        .unwrap();
    let patient = signed_in(&app, id).await;
    let home = portal_get(&app, "/portal/", &patient.session, Some(&patient.csrf))
        .await
        .text()
        .await
        .unwrap();
    let baseline = home
        .find("Before you start treatment")
        .expect("baseline shown");
    let infusion = home
        .find("Before your infusion on")
        .expect("pre-infusion shown");
    assert!(baseline < infusion, "{engine:?}: by due day");
    assert!(home.contains("please answer by"));
    assert!(
        !home.contains("infusion:") && !home.contains("baseline<"),
        "no codes"
    );

    // Appointments: the patient's own booked one has its change-or-cancel
    // link; another patient's is not listed.
    let mut conn = raw(&app).await;
    let (staff,): (i64,) = sqlx::query_as("SELECT MIN(id) FROM staff_users")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let mut ids = Vec::new();
    for (patient_id, status, at) in [
        (id, "booked", now + day * 5),
        (id, "held", now - day * 20),
        (other, "booked", now + day * 6),
    ] {
        let (cid,): (i64,) = sqlx::query_as(
            "INSERT INTO consultations (patient_id, staff_user_id, starts_at, status, time_zone) \
             VALUES ($1, $2, $3, $4, 'America/Chicago') RETURNING id",
        )
        .bind(patient_id)
        .bind(staff)
        .bind(at.as_millisecond())
        .bind(status)
        .fetch_one(&mut conn)
        .await
        .unwrap();
        ids.push(cid);
    }
    let home = portal_get(&app, "/portal/", &patient.session, Some(&patient.csrf))
        .await
        .text()
        .await
        .unwrap();
    let links: Vec<&str> = home
        .match_indices("/consultations/booking?token=")
        .map(|(at, _)| {
            let rest = &home[at..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect();
    assert_eq!(links.len(), 1, "{engine:?}: one booked appointment to come");
    assert!(links[0].contains(&format!("token={}.", ids[0])));
    assert!(home.contains("Took place"));
    let booking = app.client.get(app.url(links[0])).send().await.unwrap();
    assert_eq!(
        booking.status(),
        200,
        "{engine:?}: the link opens the booking"
    );
}

both_engines!(a_failed_submit_or_a_reload_loses_no_answer);
async fn a_failed_submit_or_a_reload_loses_no_answer(engine: Engine) {
    let app = spawn(engine).await;
    let now = Timestamp::now();
    let id = planned_patient(&app, "S-7", "G89.4", None, None, now).await;
    let sms = Arc::new(RecordingSms::default());
    let state = state_at(app.store.clone(), now, &sms, &app.base);
    respite_web::questionnaire_schedule::sweep(&state, now)
        .await
        .unwrap();
    let phq9 = app
        .store
        .scheduled_questionnaires_of(id)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.instrument == "phq-9")
        .unwrap()
        .assignment_id;
    let patient = signed_in(&app, id).await;
    let answers = format!("/portal/questionnaires/{phq9}/answers");
    for (item, value) in [("1", "1"), ("2", "2"), ("3", "0"), ("4", "3")] {
        let saved = portal_post(
            &app,
            &answers,
            &patient,
            &[("item", item), ("value", value)],
        )
        .await;
        assert_eq!(saved.status(), 303, "{engine:?}: item {item}");
    }
    // The connection fails on the fifth: the request never arrives with a
    // valid form (a bad CSRF token stands for a broken request), or the
    // answer is garbled; nothing saved so far is lost.
    let broken = portal_post_with_token(
        &app,
        &answers,
        &patient,
        "not-the-token",
        &[("item", "5"), ("value", "1")],
    )
    .await;
    assert_eq!(broken.status(), 403, "{engine:?}");
    let garbled = portal_post(&app, &answers, &patient, &[("item", "5"), ("value", "")]).await;
    assert_eq!(garbled.status(), 422, "{engine:?}");
    let failed_submit = portal_post_with_token(
        &app,
        &format!("/portal/questionnaires/{phq9}/submit"),
        &patient,
        "not-the-token",
        &[],
    )
    .await;
    assert_eq!(failed_submit.status(), 403, "{engine:?}");
    assert_eq!(app.store.answers_of(id, phq9).await.unwrap().len(), 4);
    assert!(app
        .store
        .assignment_of(id, phq9)
        .await
        .unwrap()
        .unwrap()
        .submitted_at
        .is_none());

    // A reload resumes at question 5, and question 2 still shows its answer.
    let page = portal_get(
        &app,
        &format!("/portal/questionnaires/{phq9}"),
        &patient.session,
        Some(&patient.csrf),
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(page.contains("Question 5 of"), "{engine:?}");
    let back = portal_get(
        &app,
        &format!("/portal/questionnaires/{phq9}?item=2"),
        &patient.session,
        Some(&patient.csrf),
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(back.contains("value=\"2\" required checked"), "{engine:?}");

    // The rest, then the submit: scored from all nine answers.
    for item in ["5", "6", "7", "8", "9", "10"] {
        let value = if item == "9" { "0" } else { "1" };
        let saved = portal_post(
            &app,
            &answers,
            &patient,
            &[("item", item), ("value", value)],
        )
        .await;
        assert_eq!(saved.status(), 303, "{engine:?}: item {item}");
    }
    let submitted = portal_post(
        &app,
        &format!("/portal/questionnaires/{phq9}/submit"),
        &patient,
        &[],
    )
    .await;
    assert_eq!(submitted.status(), 303, "{engine:?}");
    let total = app
        .store
        .scores_of(id)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.assignment_id == phq9 && s.scale == "total")
        .and_then(|s| s.value);
    // 1 + 2 + 0 + 3 + 1 + 1 + 1 + 1 + 0 = 10 (Kroenke 2001: sum of items 1–9).
    assert_eq!(total, Some(10.0), "{engine:?}");
}

both_engines!(the_chart_shows_what_is_open_next_and_missed);
async fn the_chart_shows_what_is_open_next_and_missed(engine: Engine) {
    let app = spawn(engine).await;
    let now = Timestamp::now();
    let day = jiff::SignedDuration::from_hours(24);
    // Planned 40 days ago, one infusion 30 days ago: the baseline and the
    // pre-infusion questionnaires were never answered, the series' day 1,
    // 7 and 14 are past, day 28 is open, month 2 is next.
    let id = planned_patient(&app, "S-8", "M79.7", None, None, now - day * 40).await;
    add_infusion(&app, id, now - day * 30).await;
    let sms = Arc::new(RecordingSms::default());
    let state = state_at(app.store.clone(), now, &sms, &app.base);
    // Only a sweep 31 days ago (baseline and the infusion's) and today ran.
    respite_web::questionnaire_schedule::sweep(&state, now - day * 31)
        .await
        .unwrap();
    respite_web::questionnaire_schedule::sweep(&state, now)
        .await
        .unwrap();
    let nurse = app.sign_in(Role::Nurse).await;
    let chart = app
        .get(&format!("/staff/patients/{id}"), Some(&nurse))
        .await
        .text()
        .await
        .unwrap();
    let section = &chart[chart
        .find("id=\"questionnaire-schedule\"")
        .expect("schedule section")..];
    assert!(
        section.contains("Fibromyalgia Impact") || section.contains("FIQR"),
        "{engine:?}: FIQR left out without licence"
    );
    assert!(section.contains("the clinic has recorded no licence"));
    let missed = &section[section.find("id=\"schedule-missed\"").expect("missed list")..];
    assert!(missed.contains("Before the infusion of"), "{engine:?}");
    assert!(missed.contains("Day 1 after the series that ended"));
    assert!(missed.contains("not assigned in time"));
    let open = &section[section.find("id=\"schedule-open\"").expect("open list")..];
    assert!(
        open.contains("Day 28 after the series that ended"),
        "{engine:?}"
    );
    let next = &section[section.find("id=\"schedule-next\"").unwrap()..];
    assert!(next.contains("Month 2 after the series"), "{engine:?}");
    // The front desk sees no clinical entries: not the schedule either.
    let desk = app.sign_in(Role::FrontDesk).await;
    let refused = app.get(&format!("/staff/patients/{id}"), Some(&desk)).await;
    let body = refused.text().await.unwrap();
    assert!(!body.contains("questionnaire-schedule"), "{engine:?}");
}

both_engines!(a_reminder_claimed_late_in_the_quiet_hours_waits_for_the_morning);
async fn a_reminder_claimed_late_in_the_quiet_hours_waits_for_the_morning(engine: Engine) {
    let app = spawn(engine).await;
    let phone = "+13125550178";
    // 20:55 in Chicago: the reminder is due at once.
    let evening: Timestamp = "2026-03-04T02:55:00Z".parse().unwrap();
    let id = planned_patient(&app, "S-9", "G89.4", Some(phone), None, evening).await;
    allow_texts(&app, phone).await;
    let sms = Arc::new(RecordingSms::default());
    let sweep = state_at(app.store.clone(), evening, &sms, &app.base);
    respite_web::questionnaire_schedule::sweep(&sweep, evening)
        .await
        .unwrap();
    assert_eq!(
        app.store
            .scheduled_questionnaires_of(id)
            .await
            .unwrap()
            .len(),
        4
    );
    // The servers were down until 03:00: the claimed reminder waits.
    let night: Timestamp = "2026-03-04T09:00:00Z".parse().unwrap();
    respite_web::jobs::run_due(&state_at(app.store.clone(), night, &sms, &app.base))
        .await
        .unwrap();
    assert!(
        sms.0.lock().unwrap().is_empty(),
        "{engine:?}: nothing at 03:00"
    );
    // At 08:00 it goes, once.
    let morning: Timestamp = "2026-03-04T14:00:30Z".parse().unwrap();
    let state = state_at(app.store.clone(), morning, &sms, &app.base);
    respite_web::jobs::run_due(&state).await.unwrap();
    respite_web::jobs::run_due(&state).await.unwrap();
    assert_eq!(sms.0.lock().unwrap().len(), 1, "{engine:?}");
}

both_engines!(the_hourly_sweep_keeps_a_day_of_its_rows_not_one_a_year);
async fn the_hourly_sweep_keeps_a_day_of_its_rows_not_one_a_year(engine: Engine) {
    let app = spawn(engine).await;
    let start: Timestamp = "2026-03-02T16:00:00Z".parse().unwrap();
    let patient = planned_patient(&app, "S-1", "M54.50", None, None, start).await;
    let sms = Arc::new(RecordingSms::default());
    // Three days of a server's job worker, once an hour.
    let hour = jiff::SignedDuration::from_hours(1);
    let mut ran = 0;
    for n in 0..72 {
        let state = state_at(app.store.clone(), start + hour * n, &sms, &app.base);
        respite_web::jobs::run_due(&state).await.unwrap();
        ran += 1;
    }
    let sweeps: Vec<_> = app
        .store
        .jobs()
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.kind == respite_web::questionnaire_schedule::SWEEP_JOB)
        .collect();
    assert_eq!(ran, 72);
    // The last day's 24 finished sweeps (and the one of this hour) are kept;
    // the 47 before them are gone.
    assert!(
        (24..=25).contains(&sweeps.len()),
        "{engine:?}: {} sweep rows after 72 hours",
        sweeps.len()
    );
    assert!(sweeps.iter().all(|j| j.done), "{engine:?}");
    // What the sweeps assigned stays, once: the baseline's four (no ODI
    // without its licence), not one set an hour.
    let assigned = app
        .store
        .scheduled_questionnaires_of(patient)
        .await
        .unwrap();
    assert_eq!(assigned.len(), 4, "{engine:?}");
}
