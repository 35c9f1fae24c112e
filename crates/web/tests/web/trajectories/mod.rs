//! Outcomes per patient: the staff page's trajectories with the baseline,
//! the IMMPACT lines, the responder class and durability worked out by hand
//! from outcomes.md's definitions; the table and its CSV; a PHQ-9 with item
//! 9 unanswered shown as "safety status unknown"; and the patient's own
//! progress in the portal, with two patients who never see each other's.

use jiff::{SignedDuration, Timestamp};
use respite_clinical::instruments::{Answers, Instrument};
use respite_domain::Role;
use respite_store::{AuditFilter, NewPatient};
use respite_web::auth;

use crate::support::*;

/// A questionnaire answered and submitted at `at` through the portal's own
/// Store functions, scored by respite-clinical.
pub async fn answered(
    app: &TestApp,
    patient: i64,
    instrument: Instrument,
    answers: &[(&str, i32)],
    at: Timestamp,
) -> i64 {
    let id = app
        .store
        .assign_questionnaire(patient, instrument.id(), "portal", "nurse@clinic.test", at)
        .await
        .unwrap();
    let mut given = Answers::new();
    let mut records = Vec::new();
    for (item, value) in answers {
        given.insert((*item).to_owned(), *value);
        records.push(respite_store::AnswerRecord {
            link_id: (*item).to_owned(),
            value: *value,
        });
    }
    let scored = instrument.score(&given).unwrap();
    app.store
        .submit_questionnaire(
            patient,
            id,
            &records,
            &respite_store::new_scores(&scored),
            None,
            at,
        )
        .await
        .unwrap()
        .expect("the questionnaire was open");
    id
}

pub async fn new_patient(app: &TestApp, mrn: &str, given: &str) -> i64 {
    app.store
        .insert_patient(
            &NewPatient {
                mrn,
                given_name: given,
                family_name: "Outcome",
                birth_date: jiff::civil::date(1975, 3, 9),
                sex: "female",
                phone_e164: None,
                email: None,
                time_zone: "America/Los_Angeles",
            },
            Timestamp::now(),
        )
        .await
        .unwrap()
}

fn day(n: i64) -> Timestamp {
    // Noon UTC today, `n` days from now: every report and session at the
    // same time of day, so that whole days are exact.
    let noon = Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .at(12, 0, 0, 0)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .unwrap()
        .timestamp();
    noon.saturating_add(SignedDuration::from_hours(24 * n))
        .unwrap()
}

async fn infusion(app: &TestApp, patient: i64, at: Timestamp) {
    let mut raw = app.raw().await;
    sqlx::query(
        "INSERT INTO infusion_sessions (patient_id, started_at, protocol, total_mg, minutes) \
         VALUES ($1, $2, 'Test protocol 0.5 mg/kg/h', 35.0, 40)",
    )
    .bind(patient)
    .bind(at.as_millisecond())
    .execute(&mut raw)
    .await
    .unwrap();
}

async fn pain(app: &TestApp, patient: i64, at: Timestamp, nrs: i32) {
    answered(
        app,
        patient,
        Instrument::PainNumericRating,
        &[("1", nrs)],
        at,
    )
    .await;
}

/// A responder: NRS 9 fifty days ago (outside the 14-day window), 8 and 7
/// in the window (baseline 7.5), six sessions from day −30 to day −19, then
/// 3, 4 and 3.
async fn responder(app: &TestApp, patient: i64) {
    pain(app, patient, day(-50), 9).await;
    pain(app, patient, day(-40), 8).await;
    pain(app, patient, day(-33), 7).await;
    for d in [-30, -28, -26, -23, -21, -19] {
        infusion(app, patient, day(d)).await;
    }
    pain(app, patient, day(-18), 3).await;
    pain(app, patient, day(-10), 4).await;
    pain(app, patient, day(-2), 3).await;
}

both_engines!(the_chart_shows_each_trajectory_with_baseline_responder_class_and_durability);
async fn the_chart_shows_each_trajectory_with_baseline_responder_class_and_durability(
    engine: Engine,
) {
    let app = spawn(engine).await;
    let id = new_patient(&app, "T-1", "Tess").await;
    responder(&app, id).await;
    // A PHQ-9 with item 9 left out: prorated total, safety status unknown.
    answered(
        &app,
        id,
        Instrument::Phq9,
        &[
            ("1", 1),
            ("2", 1),
            ("3", 1),
            ("4", 1),
            ("5", 1),
            ("6", 1),
            ("7", 1),
            ("8", 1),
        ],
        day(-5),
    )
    .await;
    let nurse = app.sign_in(Role::Nurse).await;
    let before = app.audit_count().await;
    let page = app
        .get(&format!("/staff/patients/{id}/outcomes"), Some(&nurse))
        .await;
    assert_eq!(page.status(), 200);
    let body = page.text().await.unwrap();
    // outcomes.md: baseline = mean of the scores in the 14 days before the
    // first infusion: (8 + 7) / 2 = 7.5; the 9 of day −50 is outside.
    assert!(
        body.contains("7.5 of 10: the mean of 2 scores in the 14 days before the first infusion"),
        "{body}"
    );
    // Latest 3: (3 − 7.5) / 7.5 = −60 %: substantial (IMMPACT ≥ 50 %).
    assert!(body.contains("60 % lower than baseline"), "{body}");
    assert!(body.contains("Responder: substantial (50 % or more)"));
    // The IMMPACT lines: 7.5 × 0.7 = 5.25, 7.5 × 0.5 = 3.75.
    assert!(body.contains("30 % below baseline (5.3)"), "{body}");
    assert!(body.contains("50 % below baseline (3.8)"), "{body}");
    // Durability: never two reports in a row above the 30 % line (5.25):
    // still relieved 17 days after the last session (day −19 to day −2).
    assert!(body.contains("still relieved after 17 days"), "{body}");
    assert!(body.contains("6 sessions in 1 series"), "{body}");
    // The PHQ-9's item 9: unknown, never zero; the prorated total shown.
    assert!(body.contains("Safety status unknown (item 9 not answered)"));
    assert!(body.contains("Prorated: item 9 missing"), "{body}");
    // PHQ-9 (prorated 8 × 9 / 8 = 9) has no baseline before the first
    // infusion: not judged, and said so.
    assert!(body.contains("No baseline: there is no score before the first infusion."));
    // Audited: one entry, the nurse reading the patient's observations.
    assert_eq!(app.audit_count().await, before + 1);
    let entry = app
        .store
        .audit_entries(&AuditFilter {
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .remove(0);
    assert_eq!(entry.actor, "nurse@clinic.test");
    assert_eq!(entry.resource_type, "Observation");
    assert_eq!(entry.resource_id, id.to_string());

    // The table behind it, as CSV.
    let csv = app
        .get(&format!("/staff/patients/{id}/outcomes.csv"), Some(&nurse))
        .await;
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = csv.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // Header, 6 pain scores, 1 PHQ-9 total, 6 infusions.
    assert_eq!(lines.len(), 1 + 6 + 1 + 6, "{text}");
    let latest_pain = lines
        .iter()
        .rfind(|l| l.starts_with("score,") && l.contains(",nrs-pain,"))
        .unwrap();
    assert!(latest_pain.contains(",72514-3,3,"), "{latest_pain}");
    assert!(latest_pain.ends_with(",7.5,-60.0,"), "{latest_pain}");
    let phq = lines.iter().find(|l| l.contains(",phq-9,")).unwrap();
    assert!(phq.contains(",unanswered,"), "{phq}");
    assert!(phq.contains(",true,9,"), "prorated, item 9 missing: {phq}");
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("infusion,")).count(),
        6
    );

    // A patient with no questionnaire yet: said so.
    let empty = new_patient(&app, "T-2", "Una").await;
    let page = app
        .get(&format!("/staff/patients/{empty}/outcomes"), Some(&nurse))
        .await;
    let body = page.text().await.unwrap();
    assert!(body.contains("No questionnaire has been answered yet."));
    assert!(body.contains("No infusion on record"));
    // No patient: 404.
    let missing = app
        .get("/staff/patients/999999/outcomes", Some(&nurse))
        .await;
    assert_eq!(missing.status(), 404);
}

both_engines!(relief_that_fades_ends_on_the_first_of_two_reports_above_the_line);
async fn relief_that_fades_ends_on_the_first_of_two_reports_above_the_line(engine: Engine) {
    let app = spawn(engine).await;
    let id = new_patient(&app, "T-3", "Fay").await;
    pain(&app, id, day(-80), 8).await;
    for d in [-70, -68, -66] {
        infusion(&app, id, day(d)).await;
    }
    // Baseline 8; the 30 % line is 5.6. 4 (relieved), 6 (above, once), 5
    // (below again), then 6 and 7: returned on the first of the two, day
    // −40, 26 days after the last session (day −66).
    for (d, nrs) in [(-60, 4), (-50, 6), (-45, 5), (-40, 6), (-35, 7)] {
        pain(&app, id, day(d), nrs).await;
    }
    let clinician = app.sign_in(Role::Clinician).await;
    let body = app
        .get(&format!("/staff/patients/{id}/outcomes"), Some(&clinician))
        .await
        .text()
        .await
        .unwrap();
    assert!(body.contains("relief lasted 26 days"), "{body}");
    // Latest 7 against 8: 12.5 % lower, a minimal reduction.
    assert!(
        body.contains("Not a responder: minimal (10 % to 30 %)"),
        "{body}"
    );
}

async fn portal_session(app: &TestApp, patient: i64) -> String {
    let session = auth::random_hex(32);
    app.store
        .create_portal_session(&auth::token_hash(&session), patient, Timestamp::now())
        .await
        .unwrap();
    session
}

async fn portal_page(app: &TestApp, path: &str, session: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .header("cookie", format!("respite_portal={session}"))
        .send()
        .await
        .unwrap()
}

both_engines!(each_patient_sees_only_their_own_progress_in_plain_words);
async fn each_patient_sees_only_their_own_progress_in_plain_words(engine: Engine) {
    let app = spawn(engine).await;
    let a = new_patient(&app, "T-A", "Ada").await;
    let b = new_patient(&app, "T-B", "Bea").await;
    responder(&app, a).await;
    // B: no infusion yet, one rating of 10.
    pain(&app, b, day(-3), 10).await;
    let a_session = portal_session(&app, a).await;
    let b_session = portal_session(&app, b).await;

    let home = portal_page(&app, "/portal/", &a_session).await;
    assert!(home
        .text()
        .await
        .unwrap()
        .contains("href=\"/portal/progress\""));

    let before = app.audit_count().await;
    let page = portal_page(&app, "/portal/progress", &a_session).await;
    assert_eq!(page.status(), 200);
    let body = page.text().await.unwrap();
    // (3 − 7.5) / 7.5 = −60 %.
    assert!(
        body.contains("Your pain is 60 % lower than before your first infusion."),
        "{body}"
    );
    assert!(!body.contains("10 of 10"), "B's score never reaches A");
    assert!(!body.contains("Bea"));
    assert_eq!(app.audit_count().await, before + 1);
    let entry = app
        .store
        .audit_entries(&AuditFilter {
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .remove(0);
    assert_eq!(entry.actor, format!("Patient/{a}"));
    assert_eq!(entry.resource_type, "Observation");
    assert_eq!(entry.resource_id, a.to_string());

    let page = portal_page(&app, "/portal/progress", &b_session).await;
    let body = page.text().await.unwrap();
    assert!(body.contains("once your treatment starts"), "{body}");
    assert!(body.contains("10 of 10"));
    assert!(!body.contains("60 % lower"));
    assert!(!body.contains("3 of 10"), "A's scores never reach B");

    // Without a portal session: to the portal's sign-in; a staff session
    // is not a portal session.
    let staff = app.sign_in(Role::Clinician).await;
    let refused = app.get("/portal/progress", Some(&staff)).await;
    assert_eq!(refused.status(), 303);
    assert_eq!(refused.headers()["location"], "/portal/sign-in");
}

both_engines!(the_demo_has_months_of_scored_questionnaires_with_every_kind_of_course);
/// The demo's questionnaires: each score is respite-clinical's scoring of
/// the stored answers; among the treated there are responders whose relief
/// holds, relief that fades (durability ends) and non-responders, judged
/// here by respite-clinical from the stored scores; exactly one safety
/// alert is open; one PHQ-9 leaves item 9 unanswered.
async fn the_demo_has_months_of_scored_questionnaires_with_every_kind_of_course(engine: Engine) {
    use respite_clinical::outcomes::{
        baseline, durability, infusion_series, BaselineSettings, Durability, ScoreReport,
        SeriesSettings,
    };
    let app = spawn(engine).await;
    let staff: Vec<i64> = app
        .store
        .staff_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.id)
        .collect();
    let now: Timestamp = "2026-11-27T18:00Z".parse().unwrap();
    let summary = respite_store::demo::seed(
        &app.store,
        now,
        respite_store::demo::DemoSize {
            patients: 60,
            inquiries: 0,
        },
        &staff,
    )
    .await
    .unwrap();
    assert!(summary.questionnaires > 60 * 10, "{summary:?}");
    assert_eq!(summary.open_safety_alerts, 1);
    assert_eq!(app.store.open_safety_alert_count().await.unwrap(), 1);

    let mut raw = app.raw().await;
    let patients: Vec<(i64,)> = sqlx::query_as("SELECT id FROM patients ORDER BY id")
        .fetch_all(&mut raw)
        .await
        .unwrap();
    let (mut holds, mut fades, mut no_relief, mut unknown_safety) = (0, 0, 0, 0);
    for (id,) in patients {
        // Every score is respite-clinical's scoring of the stored answers.
        for a in app.store.assignments_of(id).await.unwrap() {
            let Some(_) = a.submitted_at else { continue };
            let instrument = Instrument::from_id(&a.instrument).unwrap();
            let mut answers = Answers::new();
            for r in app.store.answers_of(id, a.id).await.unwrap() {
                answers.insert(r.link_id, r.value);
            }
            let scored = instrument.score(&answers).unwrap();
            let stored: Vec<_> = app
                .store
                .scores_of(id)
                .await
                .unwrap()
                .into_iter()
                .filter(|s| s.assignment_id == a.id)
                .collect();
            assert_eq!(stored.len(), scored.scales.len());
            for (s, expected) in stored.iter().zip(&scored.scales) {
                assert_eq!(s.value, expected.result.value(), "{}", a.instrument);
            }
            if instrument == Instrument::Phq9 && !answers.iter().any(|(k, _)| k == "9") {
                unknown_safety += 1;
            }
        }
        let outcomes = app.store.patient_outcomes(id).await.unwrap();
        let sessions: Vec<Timestamp> = outcomes.infusions.iter().map(|i| i.started_at).collect();
        let Some(series) = infusion_series(&sessions, &SeriesSettings::default())
            .first()
            .copied()
        else {
            continue;
        };
        let pain: Vec<ScoreReport> = outcomes
            .scores
            .iter()
            .filter(|s| s.record.instrument == "nrs-pain")
            .filter_map(|s| {
                s.record.value.map(|score| ScoreReport {
                    at: s.record.effective_at,
                    score,
                })
            })
            .collect();
        let base = baseline(&pain, series.first_session, &BaselineSettings::default()).unwrap();
        match durability(base.value, series.last_session, &pain).unwrap() {
            Durability::StillRelieved { .. } => holds += 1,
            Durability::Returned { .. } => fades += 1,
            Durability::NotAResponder { .. } => no_relief += 1,
        }
    }
    assert!(holds >= 3, "relief that holds: {holds}");
    assert!(fades >= 3, "relief that fades: {fades}");
    assert!(no_relief >= 3, "no relief: {no_relief}");
    assert_eq!(unknown_safety, 1, "one PHQ-9 without item 9");
}
