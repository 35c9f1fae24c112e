//! Course summaries (docs/outcomes.md, "Scale"): after random writes — pain
//! scores through the store, pain observations, sessions added, moved and
//! removed, diagnoses added and entered in error — the summaries the
//! results page reads equal a from-scratch judgement of every course
//! (`Store::assessed_courses_from_scratch`, the old path), for the whole
//! clinic and for a period, and with another baseline window. Writes that
//! no course reads (vital signs, another instrument's score) mark no one.
//! The cases are counted so that a run that compared nothing fails.

use jiff::{SignedDuration, Timestamp};
use respite_clinical::outcomes::{AssessedCourse, BaselineSettings, CourseOutcome, Durability};
use respite_clinical::screening::Qualification;
use respite_domain::Role;
use respite_store::chart::{CorrectableEntry, NewProblem, NewVitals, VitalSign};
use respite_store::{NewScore, ResultsPeriod};

use crate::support::*;

/// T0: Monday 2026-01-05 12:00 UTC.
fn t0() -> Timestamp {
    "2026-01-05T12:00:00Z".parse().unwrap()
}

fn at(day: i64, hour: i64) -> Timestamp {
    t0().saturating_add(SignedDuration::from_hours(24 * day + hour))
        .unwrap()
}

/// A fixed-seed xorshift: the same writes on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }

    fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }
}

const CODES: [&str; 5] = ["M54.50", "G44.221", "M16.9", "G90.521", "M41.9"];
const PROTOCOLS: [&str; 3] = ["Alpha", "Beta", "Gamma"];

async fn staff_id(app: &TestApp, role: Role) -> i64 {
    let email = format!("{}@clinic.test", role.as_str());
    app.store
        .staff_users()
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.email == email)
        .unwrap()
        .id
}

async fn exec(conn: &mut sqlx::AnyConnection, sql: &str) {
    sqlx::query(sql).execute(&mut *conn).await.unwrap();
}

fn pain_score(value: Option<f64>) -> NewScore {
    NewScore {
        scale: "score".into(),
        code_system: "http://loinc.org".into(),
        code: "72514-3".into(),
        value,
        band: None,
        prorated: false,
        missing_items: String::new(),
        rule: String::new(),
    }
}

/// The conditions in one order (the summaries keep a set), the courses in
/// one order (the summaries come in any).
fn normalised(mut courses: Vec<AssessedCourse>) -> Vec<AssessedCourse> {
    for course in &mut courses {
        course.conditions.sort();
        course.conditions.dedup();
    }
    courses.sort_by_key(|course| format!("{course:?}"));
    courses
}

#[derive(Default, Debug)]
struct Seen {
    compared: usize,
    no_baseline: usize,
    awaiting: usize,
    not_a_responder: usize,
    returned: usize,
    still_relieved: usize,
}

impl Seen {
    fn count(&mut self, courses: &[AssessedCourse]) {
        for course in courses {
            self.compared += 1;
            match course.outcome {
                CourseOutcome::NoBaseline => self.no_baseline += 1,
                CourseOutcome::NoReportAfterSeries { .. } => self.awaiting += 1,
                CourseOutcome::Assessed { durability, .. } => match durability {
                    Durability::NotAResponder { .. } => self.not_a_responder += 1,
                    Durability::Returned { .. } => self.returned += 1,
                    Durability::StillRelieved { .. } => self.still_relieved += 1,
                },
            }
        }
    }
}

/// The summaries against the old path, for the clinic and a period.
async fn check(app: &TestApp, settings: &BaselineSettings, now: Timestamp, seen: &mut Seen) {
    let periods = [
        ResultsPeriod::default(),
        ResultsPeriod {
            from: Some(at(-1, 0)),
            until: Some(at(3, 0)),
        },
    ];
    for period in periods {
        let summaries = app
            .store
            .assessed_courses(period, settings, now)
            .await
            .unwrap();
        let scratch = app
            .store
            .assessed_courses_from_scratch(period, settings)
            .await
            .unwrap();
        let (summaries, scratch) = (normalised(summaries), normalised(scratch));
        assert_eq!(summaries, scratch, "period {period:?}");
        seen.count(&summaries);
    }
    assert_eq!(app.store.stale_course_count().await.unwrap(), 0);
}

async fn summaries_equal_recomputation(engine: Engine) {
    let app = spawn(engine).await;
    let nurse = staff_id(&app, Role::Nurse).await;
    let store = &app.store;
    let mut conn = app.raw().await;
    let conn = &mut conn;
    let mut rng = Rng(0x5eed_c0de_2026_1127);
    let settings = BaselineSettings::default();
    let now = at(200, 0);

    let mut patients = Vec::new();
    for n in 0..20 {
        let id = store
            .insert_patient(
                &respite_store::NewPatient {
                    mrn: &format!("C-{n}"),
                    given_name: "Cora",
                    family_name: "Course",
                    birth_date: jiff::civil::date(1971, 4, 4),
                    sex: "female",
                    phone_e164: None,
                    email: None,
                    time_zone: "America/Los_Angeles",
                },
                t0(),
            )
            .await
            .unwrap();
        patients.push(id);
    }
    let mut seen = Seen::default();
    check(&app, &settings, now, &mut seen).await;
    assert_eq!(seen.compared, 0, "no one is treated yet");

    let mut writes = 0;
    for round in 0..8 {
        for _ in 0..30 {
            let which = rng.below(patients.len() as u64) as usize;
            let patient = patients[which];
            // One patient in five reports only before day 0 (awaiting a
            // report after the series).
            let day = if which.is_multiple_of(5) {
                rng.between(-40, -1)
            } else {
                rng.between(-40, 120)
            };
            let hour = rng.between(0, 23);
            // Pain mostly high before day 0, lower after and returning from
            // day 30, so that every
            // kind of outcome occurs; 0 now and then (no usable baseline).
            let score = if rng.below(12) == 0 {
                0.0
            } else if day < 0 {
                rng.between(6, 10) as f64
            } else if day < 30 {
                rng.between(1, 7) as f64
            } else {
                rng.between(4, 10) as f64
            };
            match rng.below(10) {
                0..=2 => {
                    // A pain score through the store (a paper NRS).
                    store
                        .enter_paper_questionnaire(
                            patient,
                            "nrs-pain",
                            "nurse",
                            &[],
                            &[pain_score(Some(score))],
                            None,
                            at(day, hour),
                        )
                        .await
                        .unwrap();
                }
                3..=4 => {
                    exec(
                        conn,
                        &format!(
                        "INSERT INTO observations (patient_id, observed_at, code_system, code, \
                         display, value, unit) VALUES ({patient}, {}, 'http://loinc.org', \
                         '72514-3', 'Pain', {score}, '{{score}}')",
                        at(day, hour).as_millisecond()
                    ),
                    )
                    .await
                }
                5..=6 => {
                    // Sessions: the store has no write path for them yet;
                    // the triggers mark whatever writes the table.
                    let protocol = PROTOCOLS[rng.below(3) as usize];
                    exec(
                        conn,
                        &format!(
                            "INSERT INTO infusion_sessions (patient_id, started_at, protocol, \
                             total_mg, minutes) VALUES ({patient}, {}, '{protocol}', 100.0, 240)",
                            at(rng.between(-3, 12), 9).as_millisecond()
                        ),
                    )
                    .await
                }
                7 => {
                    exec(
                        conn,
                        &format!(
                            "DELETE FROM infusion_sessions WHERE id = (SELECT MIN(id) FROM \
                         infusion_sessions WHERE patient_id = {patient})"
                        ),
                    )
                    .await
                }
                8 => {
                    if rng.below(2) == 0 {
                        exec(
                            conn,
                            &format!(
                                "UPDATE observations SET value = {score} WHERE id = (SELECT \
                                 MAX(id) FROM observations WHERE patient_id = {patient})"
                            ),
                        )
                        .await
                    } else {
                        exec(
                            conn,
                            &format!(
                                "UPDATE infusion_sessions SET started_at = started_at + 86400000 \
                                 WHERE id = (SELECT MAX(id) FROM infusion_sessions WHERE \
                                 patient_id = {patient})"
                            ),
                        )
                        .await
                    }
                }
                _ => {
                    let open: Vec<(i64,)> = sqlx::query_as(&format!(
                        "SELECT id FROM conditions WHERE patient_id = {patient} \
                         AND entered_in_error_at IS NULL ORDER BY id"
                    ))
                    .fetch_all(&mut *conn)
                    .await
                    .unwrap();
                    if open.len() > 1 || (!open.is_empty() && rng.below(2) == 0) {
                        assert!(store
                            .mark_entered_in_error(
                                patient,
                                CorrectableEntry::Problem,
                                open[0].0,
                                "wrong patient",
                                nurse,
                                at(day, hour),
                            )
                            .await
                            .unwrap());
                    } else {
                        store
                            .add_problem(
                                patient,
                                &NewProblem {
                                    icd10cm_code: CODES[rng.below(CODES.len() as u64) as usize],
                                    onset_date: jiff::civil::date(2024, 1, 1),
                                    onset_estimated: false,
                                    diagnosed_by: "Dr. Helen Park",
                                    qualification: Qualification::Physician,
                                    diagnosed_on: jiff::civil::date(2025, 1, 1),
                                    recorded_on: jiff::civil::date(2025, 12, 1),
                                },
                                nurse,
                                at(day, hour),
                            )
                            .await
                            .unwrap();
                    }
                }
            }
            writes += 1;
        }
        assert!(
            store.stale_course_count().await.unwrap() > 0,
            "round {round}: the writes marked patients"
        );
        check(&app, &settings, now, &mut seen).await;
    }

    // Writes no course reads mark no one: vital signs, another
    // instrument's score, a pain score that could not be computed.
    let patient = patients[0];
    store
        .add_vitals(
            patient,
            &NewVitals {
                observed_at: at(50, 0),
                values: vec![(VitalSign::Systolic, 120.0)],
            },
            nurse,
            at(50, 0),
        )
        .await
        .unwrap();
    let mut other = pain_score(Some(12.0));
    other.code = "44261-6".into();
    store
        .enter_paper_questionnaire(patient, "phq-9", "nurse", &[], &[other], None, at(50, 1))
        .await
        .unwrap();
    assert_eq!(store.stale_course_count().await.unwrap(), 0);
    store
        .enter_paper_questionnaire(
            patient,
            "nrs-pain",
            "nurse",
            &[],
            &[pain_score(None)],
            None,
            at(50, 2),
        )
        .await
        .unwrap();
    check(&app, &settings, now, &mut seen).await;

    // The hourly job refreshes what a write marked, before anyone reads.
    store
        .enter_paper_questionnaire(
            patient,
            "nrs-pain",
            "nurse",
            &[],
            &[pain_score(Some(3.0))],
            None,
            at(50, 3),
        )
        .await
        .unwrap();
    assert_eq!(store.stale_course_count().await.unwrap(), 1);
    let worker = respite_web::AppState::new(
        store.clone(),
        std::sync::Arc::new(respite_web::WebConfig {
            clock: respite_web::Clock::Fixed(now),
            ..respite_web::WebConfig::default()
        }),
    );
    respite_web::jobs::run_due(&worker).await.unwrap();
    assert_eq!(store.stale_course_count().await.unwrap(), 0);
    check(&app, &settings, now, &mut seen).await;

    // Another baseline window: every summary is taken again.
    let three_days = BaselineSettings { window_days: 3 };
    check(&app, &three_days, now, &mut seen).await;
    check(&app, &settings, now, &mut seen).await;

    assert_eq!(writes, 240);
    assert!(seen.compared >= 150, "{seen:?}");
    for (kind, n) in [
        ("no baseline", seen.no_baseline),
        ("awaiting a report", seen.awaiting),
        ("not a responder", seen.not_a_responder),
        ("pain returned", seen.returned),
        ("still relieved", seen.still_relieved),
    ] {
        assert!(n > 0, "no course was {kind}: {seen:?}");
    }
}

both_engines!(summaries_equal_recomputation);
