//! The patient portal: no patient reaches another's data by any portal
//! route, sign-in links work once and expire, guessing is slowed, answers
//! are saved one by one and resumed, scores are respite-clinical's, and a
//! PHQ-9 item 9 answer raises an alert that escalates exactly once.

use std::sync::{Arc, Mutex};

use jiff::{SignedDuration, Timestamp};
use respite_clinical::instruments::{Answers, Instrument};
use respite_domain::Role;
use respite_store::{AuditFilter, NewPatient, Store};
use respite_web::access::Access;
use respite_web::routes::route_specs;
use respite_web::{auth, AppState, Clock, WebConfig};

use crate::support::*;

/// A patient signed in to the portal: the session token and its CSRF token.
pub(crate) struct Patient {
    pub(crate) session: String,
    pub(crate) csrf: String,
}

async fn new_patient(app: &TestApp, mrn: &str, given: &str) -> i64 {
    app.store
        .insert_patient(
            &NewPatient {
                mrn,
                given_name: given,
                family_name: "Portal",
                birth_date: jiff::civil::date(1980, 5, 1),
                sex: "female",
                phone_e164: None,
                email: None,
                time_zone: "America/Chicago",
            },
            Timestamp::now(),
        )
        .await
        .unwrap()
}

/// A portal session for the patient `id`, as the sign-in link starts one.
pub(crate) async fn signed_in(app: &TestApp, id: i64) -> Patient {
    let session = auth::random_hex(32);
    app.store
        .create_portal_session(&auth::token_hash(&session), id, Timestamp::now())
        .await
        .unwrap();
    let response = portal_get(app, "/portal/", &session, None).await;
    assert_eq!(response.status(), 200);
    let csrf = csrf_from(&response).expect("the portal sets a CSRF token");
    Patient { session, csrf }
}

pub(crate) async fn portal_get(
    app: &TestApp,
    path: &str,
    session: &str,
    csrf: Option<&str>,
) -> reqwest::Response {
    let mut cookie = format!("respite_portal={session}");
    if let Some(csrf) = csrf {
        cookie.push_str(&format!("; respite_csrf={csrf}"));
    }
    app.client
        .get(app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
}

pub(crate) async fn portal_post(
    app: &TestApp,
    path: &str,
    patient: &Patient,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    portal_post_with_token(app, path, patient, &patient.csrf, fields).await
}

/// A portal form sent with `form_csrf` as its token (another than the
/// session's stands for a broken or forged request).
pub(crate) async fn portal_post_with_token(
    app: &TestApp,
    path: &str,
    patient: &Patient,
    form_csrf: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut all = vec![("csrf", form_csrf)];
    all.extend_from_slice(fields);
    app.client
        .post(app.url(path))
        .header(
            "cookie",
            format!(
                "respite_portal={}; respite_csrf={}",
                patient.session, patient.csrf
            ),
        )
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(&all))
        .send()
        .await
        .unwrap()
}

async fn assign(app: &TestApp, patient: i64) -> i64 {
    app.store
        .assign_questionnaire(
            patient,
            "phq-9",
            "portal",
            "nurse@clinic.test",
            Timestamp::now(),
        )
        .await
        .unwrap()
}

async fn latest_audit(app: &TestApp) -> respite_store::AuditRecord {
    app.store
        .audit_entries(&AuditFilter {
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .remove(0)
}

/// A form's fields, name and value.
type Fields = &'static [(&'static str, &'static str)];

/// The portal routes whose path takes an id, and what the id names: each
/// one a questionnaire (an assignment) of the signed-in patient's. The
/// enumeration below fails when the route table gains a portal route with an
/// id this list lacks (tests/browser/portal.test.js keeps the same list for
/// `respite routes`).
const PORTAL_ROUTES_WITH_IDS: &[(&str, &str, Fields)] = &[
    ("GET", "/portal/questionnaires/{id}", &[]),
    (
        "POST",
        "/portal/questionnaires/{id}/answers",
        &[("item", "1"), ("value", "1")],
    ),
    ("POST", "/portal/questionnaires/{id}/submit", &[]),
];

#[test]
fn every_portal_route_with_an_id_is_a_patients_route_and_enumerated() {
    let mut with_ids: Vec<(&str, &str)> = route_specs()
        .into_iter()
        .filter(|s| s.path.starts_with("/portal") && s.path.contains('{'))
        .map(|s| {
            assert_eq!(
                s.access,
                Access::Patient,
                "{} {}: a portal route with an id needs a portal session",
                s.method,
                s.path
            );
            (s.method, s.path)
        })
        .collect();
    with_ids.sort_unstable();
    let mut listed: Vec<(&str, &str)> = PORTAL_ROUTES_WITH_IDS
        .iter()
        .map(|(method, path, _)| (*method, *path))
        .collect();
    listed.sort_unstable();
    assert_eq!(
        with_ids, listed,
        "the portal routes with ids and PORTAL_ROUTES_WITH_IDS differ: add the new route there \
         (and to OWNED_BY_ID in tests/browser/portal.test.js), with what its id names"
    );
}

both_engines!(no_patient_reaches_another_patients_data_by_any_portal_route);
/// Every portal route of the table, asked by patient A with patient B's
/// ids: 404, nothing of B's in the page, and an audit entry with A as the
/// actor and the refusal as its outcome; with A's own ids the route works.
async fn no_patient_reaches_another_patients_data_by_any_portal_route(engine: Engine) {
    let app = spawn(engine).await;
    let a_id = new_patient(&app, "P-A", "Alice").await;
    let b_id = new_patient(&app, "P-B", "Bertha").await;
    let a_form = assign(&app, a_id).await;
    let b_form = assign(&app, b_id).await;
    let a = signed_in(&app, a_id).await;
    let staff = app.sign_in(Role::Clinician).await;

    let portal_routes: Vec<_> = route_specs()
        .into_iter()
        .filter(|s| s.access == Access::Patient)
        .collect();
    assert!(
        portal_routes.len() >= 6,
        "the portal's routes are in the table"
    );
    let mut checked_with_ids = 0;
    for spec in &portal_routes {
        let fields: &[(&str, &str)] = PORTAL_ROUTES_WITH_IDS
            .iter()
            .find(|(method, path, _)| *method == spec.method && *path == spec.path)
            .map_or(&[], |(_, _, fields)| fields);
        // Unsigned, or with a staff session only: sent to the portal's
        // sign-in (GET) or 401, never served.
        let unsigned = if spec.method == "GET" {
            app.get(
                &spec.path.replace("{id}", &a_form.to_string()),
                Some(&staff),
            )
            .await
        } else {
            app.post_form(
                &spec.path.replace("{id}", &a_form.to_string()),
                Some(&staff),
                fields,
            )
            .await
        };
        let status = unsigned.status().as_u16();
        if spec.method == "GET" {
            assert_eq!(status, 303, "{engine:?} staff session on {}", spec.path);
            assert_eq!(unsigned.headers()["location"], "/portal/sign-in");
        } else {
            assert_eq!(
                status, 401,
                "{engine:?} staff session on {} {}",
                spec.method, spec.path
            );
            // The way back is the portal's sign-in, not the staff's.
            let body = unsigned.text().await.unwrap();
            assert!(body.contains("href=\"/portal/sign-in\""), "{body}");
            assert!(!body.contains("href=\"/staff\""), "{body}");
        }

        if !spec.path.contains("{id}") {
            continue;
        }
        checked_with_ids += 1;
        let path = spec.path.replace("{id}", &b_form.to_string());
        let before = app.audit_count().await;
        let response = if spec.method == "GET" {
            portal_get(&app, &path, &a.session, Some(&a.csrf)).await
        } else {
            portal_post(&app, &path, &a, fields).await
        };
        assert_eq!(response.status(), 404, "{engine:?} {} {path}", spec.method);
        let body = response.text().await.unwrap();
        assert!(!body.contains("Bertha"), "{path} leaked B's data");
        // The way on is the patient's own page, not the staff application
        // (whose sign-in the clinic's footer names on every public page).
        let main = body
            .split("<main")
            .nth(1)
            .and_then(|rest| rest.split("</main>").next())
            .unwrap_or_default();
        assert!(main.contains("href=\"/portal/\""), "{path}: {body}");
        assert!(!main.contains("href=\"/staff"), "{path}: {body}");
        assert_eq!(
            app.audit_count().await,
            before + 1,
            "{path}: refusal not audited"
        );
        let entry = latest_audit(&app).await;
        assert_eq!(entry.actor, format!("Patient/{a_id}"), "{path}");
        assert_eq!(entry.actor_role, "patient");
        assert_eq!(entry.outcome, "invalid", "{path}");
        assert_eq!(entry.resource_id, b_form.to_string(), "{path}");
    }
    assert_eq!(
        checked_with_ids,
        PORTAL_ROUTES_WITH_IDS.len(),
        "every portal route with an id was asked"
    );
    // B's questionnaire is untouched.
    assert!(app.store.answers_of(b_id, b_form).await.unwrap().is_empty());
    assert!(app.store.answers_of(a_id, b_form).await.unwrap().is_empty());

    // Every portal page without an id (the home page, progress) is the
    // session's own: A's scores, never B's, audited as A reading A's.
    let at = Timestamp::now();
    crate::trajectories::answered(&app, a_id, Instrument::PainNumericRating, &[("1", 3)], at).await;
    crate::trajectories::answered(&app, b_id, Instrument::PainNumericRating, &[("1", 10)], at)
        .await;
    let mut own_pages = 0;
    for spec in portal_routes
        .iter()
        .filter(|s| s.method == "GET" && !s.path.contains("{id}"))
    {
        own_pages += 1;
        let response = portal_get(&app, spec.path, &a.session, Some(&a.csrf)).await;
        assert_eq!(response.status(), 200, "{engine:?} {}", spec.path);
        let body = response.text().await.unwrap();
        assert!(body.contains("3 of 10"), "{}: A's own score", spec.path);
        assert!(!body.contains("10 of 10"), "{} leaked B's score", spec.path);
        assert!(!body.contains("Bertha"), "{} leaked B's name", spec.path);
        let entry = latest_audit(&app).await;
        assert_eq!(entry.actor, format!("Patient/{a_id}"), "{}", spec.path);
        assert_eq!(entry.resource_id, a_id.to_string(), "{}", spec.path);
    }
    assert!(own_pages >= 2, "the home page and progress");

    // A's own: served and audited as A.
    let own = portal_get(
        &app,
        &format!("/portal/questionnaires/{a_form}"),
        &a.session,
        Some(&a.csrf),
    )
    .await;
    assert_eq!(own.status(), 200);
    let entry = latest_audit(&app).await;
    assert_eq!(entry.actor, format!("Patient/{a_id}"));
    assert_eq!(entry.outcome, "success");
    let home = portal_get(&app, "/portal/", &a.session, Some(&a.csrf)).await;
    let body = home.text().await.unwrap();
    assert!(body.contains("Hello, Alice"));
    assert!(!body.contains("Bertha"));
    assert!(body.contains(&format!("/portal/questionnaires/{a_form}")));
    assert!(!body.contains(&format!("/portal/questionnaires/{b_form}\"")));
    let saved = portal_post(
        &app,
        &format!("/portal/questionnaires/{a_form}/answers"),
        &a,
        &[("item", "1"), ("value", "2")],
    )
    .await;
    assert_eq!(saved.status(), 303);
    let entry = latest_audit(&app).await;
    assert_eq!(entry.actor, format!("Patient/{a_id}"));
    assert_eq!(entry.action, "update");
    assert_eq!(entry.outcome, "success");
}

/// Arms a link for `patient` as its job would; returns the token.
async fn armed_link(store: &Store, patient: i64, expires_in: SignedDuration) -> String {
    let id = store
        .invite_to_portal(
            patient,
            "email",
            "nurse@clinic.test",
            "portal-link",
            Timestamp::now(),
        )
        .await
        .unwrap();
    let token = auth::random_hex(32);
    let now = Timestamp::now();
    assert!(store
        .arm_portal_link(id, &auth::token_hash(&token), now, now + expires_in)
        .await
        .unwrap());
    token
}

both_engines!(a_sign_in_link_works_once_and_not_after_it_expires);
async fn a_sign_in_link_works_once_and_not_after_it_expires(engine: Engine) {
    let app = spawn(engine).await;
    let id = new_patient(&app, "P-L", "Lena").await;
    let token = armed_link(&app.store, id, SignedDuration::from_mins(30)).await;
    let page = app.get(&format!("/portal/link?token={token}"), None).await;
    assert_eq!(page.status(), 200, "opening the link does not spend it");
    let first = app
        .post_form("/portal/link", None, &[("token", &token)])
        .await;
    assert_eq!(first.status(), 303);
    assert_eq!(first.headers()["location"], "/portal/");
    let cookie = first
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("respite_portal="))
        .map(|v| v.split(';').next().unwrap().to_owned())
        .expect("a portal session cookie");
    let home = portal_get(&app, "/portal/", &cookie, None).await;
    assert_eq!(home.status(), 200);
    assert!(home.text().await.unwrap().contains("Hello, Lena"));
    let entry = app
        .store
        .audit_entries(&AuditFilter {
            limit: 5,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(entry
        .iter()
        .any(|e| e.actor == format!("Patient/{id}") && e.action == "login"));

    let again = app
        .post_form("/portal/link", None, &[("token", &token)])
        .await;
    assert_eq!(again.status(), 410, "a link signs in once");

    let expired = armed_link(&app.store, id, SignedDuration::from_secs(-1)).await;
    let late = app
        .post_form("/portal/link", None, &[("token", &expired)])
        .await;
    assert_eq!(late.status(), 410, "an expired link is refused");
    let stored: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM portal_links WHERE token_hash = $1")
        .bind(&token)
        .fetch_one(&mut app.raw().await)
        .await
        .unwrap();
    assert_eq!(stored.0, 0, "the token itself is never stored");
}

both_engines!(guessing_sign_in_links_is_locked_out);
async fn guessing_sign_in_links_is_locked_out(engine: Engine) {
    let app = spawn(engine).await;
    let id = new_patient(&app, "P-G", "Gina").await;
    let good = armed_link(&app.store, id, SignedDuration::from_mins(30)).await;
    let threshold = WebConfig::default().lockout_threshold;
    for n in 0..threshold {
        let guess = format!("{:064x}", n + 1);
        let response = app
            .post_form("/portal/link", None, &[("token", &guess)])
            .await;
        assert_eq!(response.status(), 410);
    }
    let locked = app
        .post_form("/portal/link", None, &[("token", &good)])
        .await;
    assert_eq!(
        locked.status(),
        429,
        "after {threshold} wrong links, even a good one waits"
    );
    assert!(locked.headers().contains_key("retry-after"));
}

both_engines!(answers_are_saved_as_they_are_given_and_resume_at_the_first_unanswered);
async fn answers_are_saved_as_they_are_given_and_resume_at_the_first_unanswered(engine: Engine) {
    let app = spawn(engine).await;
    let id = new_patient(&app, "P-R", "Rita").await;
    let form = assign(&app, id).await;
    let p = signed_in(&app, id).await;
    for item in ["1", "2", "3", "4"] {
        let saved = portal_post(
            &app,
            &format!("/portal/questionnaires/{form}/answers"),
            &p,
            &[("item", item), ("value", "1")],
        )
        .await;
        assert_eq!(saved.status(), 303);
    }
    // Leaving now and coming back: question 5 of 10.
    let back = portal_get(
        &app,
        &format!("/portal/questionnaires/{form}"),
        &p.session,
        Some(&p.csrf),
    )
    .await;
    let body = back.text().await.unwrap();
    assert!(body.contains("Question 5 of 10"), "{body}");
    assert!(
        body.contains("value=\"5\""),
        "the item field names question 5"
    );
    assert_eq!(app.store.answers_of(id, form).await.unwrap().len(), 4);
    // An answer off the scale is refused, naming the field.
    let bad = portal_post(
        &app,
        &format!("/portal/questionnaires/{form}/answers"),
        &p,
        &[("item", "5"), ("value", "7")],
    )
    .await;
    assert_eq!(bad.status(), 422);
    assert!(bad.text().await.unwrap().contains("Answer"));
}

both_engines!(scores_are_respite_clinicals_and_item_9_raises_an_alert_a_clinician_acknowledges);
async fn scores_are_respite_clinicals_and_item_9_raises_an_alert_a_clinician_acknowledges(
    engine: Engine,
) {
    let app = spawn(engine).await;
    let id = new_patient(&app, "P-S", "Sara").await;
    let form = assign(&app, id).await;
    let p = signed_in(&app, id).await;
    // Kroenke, Spitzer & Williams 2001: the PHQ-9 total is the sum of
    // items 1–9 (0–27); 1,1,2,2,1,0,1,0,1 sums to 9, "mild" (5–9).
    let values = [1, 1, 2, 2, 1, 0, 1, 0, 1];
    for (n, v) in values.iter().enumerate() {
        let item = (n + 1).to_string();
        let value = v.to_string();
        let saved = portal_post(
            &app,
            &format!("/portal/questionnaires/{form}/answers"),
            &p,
            &[("item", &item), ("value", &value)],
        )
        .await;
        assert_eq!(saved.status(), 303);
    }
    // Item 9 answered 1: the next screen shows crisis resources at once,
    // and the alert is raised before the questionnaire is submitted.
    let next = portal_get(
        &app,
        &format!("/portal/questionnaires/{form}"),
        &p.session,
        Some(&p.csrf),
    )
    .await;
    let body = next.text().await.unwrap();
    assert!(body.contains("tel:988"), "crisis resources at once");
    assert_eq!(app.store.open_safety_alert_count().await.unwrap(), 1);
    let submitted = portal_post(
        &app,
        &format!("/portal/questionnaires/{form}/submit"),
        &p,
        &[],
    )
    .await;
    assert_eq!(submitted.status(), 303);
    let scores = app.store.scores_of(id).await.unwrap();
    let mut answers = Answers::new();
    for (n, v) in values.iter().enumerate() {
        answers.insert((n + 1).to_string(), *v);
    }
    let expected = Instrument::Phq9.score(&answers).unwrap().value("total");
    assert_eq!(scores.len(), 1);
    assert_eq!(scores[0].value, Some(9.0));
    assert_eq!(scores[0].value, expected);
    assert_eq!(scores[0].band.as_deref(), Some("mild"));
    assert_eq!(scores[0].code_system, "http://loinc.org");
    assert_eq!(scores[0].code, "44261-6", "PHQ-9 total score (LOINC)");
    assert_eq!(
        app.store.open_safety_alert_count().await.unwrap(),
        1,
        "one alert, not two"
    );

    // The alerts page: a nurse sees, a clinician acknowledges with the action.
    let nurse = app.sign_in(Role::Nurse).await;
    let page = app.get("/staff/alerts", Some(&nurse)).await;
    let body = page.text().await.unwrap();
    assert!(body.contains("Portal, Sara"));
    assert!(
        !body.contains("Acknowledge</button>"),
        "the nurse cannot acknowledge"
    );
    let alert = app.store.safety_alerts().await.unwrap().remove(0);
    let clinician = app.sign_in(Role::Clinician).await;
    let empty = app
        .post_form(
            &format!("/staff/alerts/{}/acknowledge", alert.id),
            Some(&clinician),
            &[("action", " ")],
        )
        .await;
    assert_eq!(empty.status(), 422);
    let ack = app
        .post_form(
            &format!("/staff/alerts/{}/acknowledge", alert.id),
            Some(&clinician),
            &[("action", "Called her; safety plan reviewed")],
        )
        .await;
    assert_eq!(ack.status(), 303);
    let entry = latest_audit(&app).await;
    assert_eq!(entry.actor, "clinician@clinic.test");
    assert_eq!(entry.resource_type, "Flag");
    assert_eq!(entry.resource_id, alert.id.to_string());
    assert_eq!(app.store.open_safety_alert_count().await.unwrap(), 0);
    let twice = app
        .post_form(
            &format!("/staff/alerts/{}/acknowledge", alert.id),
            Some(&clinician),
            &[("action", "again")],
        )
        .await;
    assert_eq!(twice.status(), 409);
}

/// Texts handed to the "provider", for the escalation test.
#[derive(Default)]
struct RecordingSms(Mutex<Vec<String>>);

impl respite_web::sms::SmsSender for RecordingSms {
    fn send<'a>(
        &'a self,
        to: &'a respite_domain::PhoneNumber,
        body: &'a str,
    ) -> respite_web::sms::SendFuture<'a> {
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

both_engines!(an_unacknowledged_alert_escalates_exactly_once_with_two_job_runners);
async fn an_unacknowledged_alert_escalates_exactly_once_with_two_job_runners(engine: Engine) {
    let app = spawn(engine).await;
    let id = new_patient(&app, "P-E", "Erin").await;
    let acked = new_patient(&app, "P-F", "Fay").await;
    app.store
        .setting_or_insert("safety_on_call_phone", "+13125550199")
        .await
        .unwrap();
    let raised = Timestamp::now();
    let mut alerts = Vec::new();
    for patient in [id, acked] {
        let form = assign(&app, patient).await;
        app.store
            .save_answer(
                patient,
                form,
                "9",
                2,
                Some(&respite_store::NewSafetyAlert {
                    answer: 2,
                    due_at: raised + SignedDuration::from_mins(60),
                    escalation_job_kind: "safety-escalation".into(),
                }),
                raised,
            )
            .await
            .unwrap();
        alerts.push(
            app.store
                .safety_alerts_of(patient)
                .await
                .unwrap()
                .remove(0)
                .id,
        );
    }
    app.store
        .acknowledge_safety_alert(alerts[1], "clinician@clinic.test", "Seen in clinic", raised)
        .await
        .unwrap();

    // Two servers, each with its own pool, an hour and a minute later.
    let sent = Arc::new(RecordingSms::default());
    let runner = |store: Store| {
        let config = WebConfig {
            clock: Clock::Fixed(raised + SignedDuration::from_mins(61)),
            ..WebConfig::default()
        };
        let mut state = AppState::new(store, Arc::new(config));
        state.sms = sent.clone();
        state
    };
    let before = runner(app.store.clone());
    // Before its time nothing escalates.
    let early = AppState {
        config: Arc::new(WebConfig {
            clock: Clock::Fixed(raised + SignedDuration::from_mins(30)),
            ..WebConfig::default()
        }),
        ..before.clone()
    };
    respite_web::jobs::run_due(&early).await.unwrap();
    assert!(sent.0.lock().unwrap().is_empty());
    let other = Store::connect(&app.url, respite_store::PoolSettings::default())
        .await
        .unwrap();
    let (one, two) = (runner(app.store.clone()), runner(other));
    let (a, b) = tokio::join!(
        respite_web::jobs::run_due(&one),
        respite_web::jobs::run_due(&two)
    );
    a.unwrap();
    b.unwrap();
    // And once more, as a lease ran out: still once.
    respite_web::jobs::run_due(&one).await.unwrap();
    let texts = sent.0.lock().unwrap().clone();
    assert_eq!(
        texts.len(),
        1,
        "{engine:?}: escalated exactly once: {texts:?}"
    );
    assert!(texts[0].starts_with("+13125550199: "));
    assert!(!texts[0].contains("Erin"), "no name in the text");
    let escalated = app.store.safety_alert(alerts[0]).await.unwrap().unwrap();
    assert!(escalated.escalated_at.is_some());
    let quiet = app.store.safety_alert(alerts[1]).await.unwrap().unwrap();
    assert!(
        quiet.escalated_at.is_none(),
        "an acknowledged alert does not escalate"
    );
    // Shown to admins on the alerts page.
    let admin = app.sign_in(Role::Admin).await;
    let page = app
        .get("/staff/alerts", Some(&admin))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("escalated to the on-call contact"));
}

both_engines!(the_navigation_counts_open_alerts_and_admins_set_the_on_call_contact);
async fn the_navigation_counts_open_alerts_and_admins_set_the_on_call_contact(engine: Engine) {
    let app = spawn(engine).await;
    let id = new_patient(&app, "P-N", "Nora").await;
    let form = assign(&app, id).await;
    app.store
        .save_answer(
            id,
            form,
            "9",
            1,
            Some(&respite_store::NewSafetyAlert {
                answer: 1,
                due_at: Timestamp::now() + SignedDuration::from_mins(60),
                escalation_job_kind: "safety-escalation".into(),
            }),
            Timestamp::now(),
        )
        .await
        .unwrap();
    let clinician = app.sign_in(Role::Clinician).await;
    let home = app
        .get("/staff", Some(&clinician))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        home.contains("Safety alerts <span class=\"alert-count\" aria-label=\"1 open\">1</span>"),
        "{home}"
    );
    let front = app.sign_in(Role::FrontDesk).await;
    let home = app.get("/staff", Some(&front)).await.text().await.unwrap();
    assert!(
        !home.contains("Safety alerts"),
        "the front desk sees no clinical alerts"
    );

    let admin = app.sign_in(Role::Admin).await;
    let bad = app
        .post_form(
            "/staff/alerts/settings",
            Some(&admin),
            &[("ack_minutes", "2")],
        )
        .await;
    assert_eq!(bad.status(), 422);
    assert!(bad
        .text()
        .await
        .unwrap()
        .contains("Time to acknowledge an alert"));
    let saved = app
        .post_form(
            "/staff/alerts/settings",
            Some(&admin),
            &[("link_minutes", "15"), ("on_call_phone", "(312) 555-0199")],
        )
        .await;
    assert_eq!(saved.status(), 303);
    assert_eq!(
        app.store
            .setting("portal_link_minutes")
            .await
            .unwrap()
            .as_deref(),
        Some("15")
    );
    assert_eq!(
        app.store
            .setting("safety_on_call_phone")
            .await
            .unwrap()
            .as_deref(),
        Some("+13125550199")
    );
}

both_engines!(a_paper_questionnaire_is_scored_the_same_way_and_an_unanswered_item_9_is_unknown);
async fn a_paper_questionnaire_is_scored_the_same_way_and_an_unanswered_item_9_is_unknown(
    engine: Engine,
) {
    let app = spawn(engine).await;
    let id = new_patient(&app, "P-P", "Pia").await;
    let nurse = app.sign_in(Role::Nurse).await;
    let form = app
        .get(
            &format!("/staff/patients/{id}/questionnaires/paper?instrument=phq-9"),
            Some(&nurse),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(form.contains("name=\"item-9\""), "every item on one page");
    // Items 1–8 answered 2 each, item 9 left blank.
    let mut fields = vec![("instrument", "phq-9".to_owned())];
    for n in 1..=8 {
        fields.push((
            [
                "item-1", "item-2", "item-3", "item-4", "item-5", "item-6", "item-7", "item-8",
            ][n - 1],
            "2".to_owned(),
        ));
    }
    fields.push(("item-9", String::new()));
    let saved = app
        .post_form(
            &format!("/staff/patients/{id}/questionnaires/paper"),
            Some(&nurse),
            &as_refs(&fields),
        )
        .await;
    assert_eq!(saved.status(), 303);
    let mut answers = Answers::new();
    for n in 1..=8 {
        answers.insert(n.to_string(), 2);
    }
    let expected = Instrument::Phq9.score(&answers).unwrap();
    let scores = app.store.scores_of(id).await.unwrap();
    assert_eq!(scores[0].value, expected.value("total"));
    assert!(
        scores[0].prorated,
        "one item missing: the instrument's rule prorates"
    );
    assert_eq!(scores[0].missing_items, "9");
    assert_eq!(app.store.open_safety_alert_count().await.unwrap(), 0);
    let chart = app
        .get(&format!("/staff/patients/{id}"), Some(&nurse))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        chart.contains("Safety status unknown"),
        "never shown as zero"
    );
    assert!(chart.contains("prorated: item 9 not answered"));
    assert!(chart.contains("Paper form, entered by staff"));
    // An answer off the scale names the item.
    let bad = app
        .post_form(
            &format!("/staff/patients/{id}/questionnaires/paper"),
            Some(&nurse),
            &[("instrument", "phq-9"), ("item-1", "9")],
        )
        .await;
    assert_eq!(bad.status(), 422);
    assert!(bad
        .text()
        .await
        .unwrap()
        .contains("Item 1: choose one of its answers"));
}

both_engines!(a_patient_may_add_a_password_and_sign_in_with_it_and_guessing_is_locked_out);
async fn a_patient_may_add_a_password_and_sign_in_with_it_and_guessing_is_locked_out(
    engine: Engine,
) {
    let app = spawn(engine).await;
    let id = app
        .store
        .insert_patient(
            &NewPatient {
                mrn: "P-W",
                given_name: "Wren",
                family_name: "Portal",
                birth_date: jiff::civil::date(1975, 3, 1),
                sex: "female",
                phone_e164: None,
                email: Some("wren@example.org"),
                time_zone: "America/Chicago",
            },
            Timestamp::now(),
        )
        .await
        .unwrap();
    let p = signed_in(&app, id).await;
    let short = portal_post(&app, "/portal/password", &p, &[("password", "short")]).await;
    assert_eq!(short.status(), 422);
    // The rule is shown at the field, on the patient's own page.
    let body = short.text().await.unwrap();
    assert!(body.contains("id=\"password-error\""), "{body}");
    assert!(body.contains("Password: "), "{body}");
    let set = portal_post(
        &app,
        "/portal/password",
        &p,
        &[("password", "a long portal password")],
    )
    .await;
    assert_eq!(set.status(), 303);
    let entry = latest_audit(&app).await;
    assert_eq!(entry.actor, format!("Patient/{id}"));
    assert!(app.store.has_portal_password(id).await.unwrap());

    let good = app
        .post_form(
            "/portal/sign-in",
            None,
            &[
                ("email", "Wren@example.org"),
                ("password", "a long portal password"),
            ],
        )
        .await;
    assert_eq!(good.status(), 303);
    assert_eq!(good.headers()["location"], "/portal/");
    let threshold = WebConfig::default().lockout_threshold;
    for _ in 0..threshold {
        let wrong = app
            .post_form(
                "/portal/sign-in",
                None,
                &[
                    ("email", "wren@example.org"),
                    ("password", "not the password"),
                ],
            )
            .await;
        assert_eq!(wrong.status(), 401);
    }
    let locked = app
        .post_form(
            "/portal/sign-in",
            None,
            &[
                ("email", "wren@example.org"),
                ("password", "a long portal password"),
            ],
        )
        .await;
    assert_eq!(
        locked.status(),
        429,
        "locked out after {threshold} wrong passwords"
    );
}

both_engines!(an_invitation_by_text_goes_through_the_job_queue_and_its_link_signs_in);
async fn an_invitation_by_text_goes_through_the_job_queue_and_its_link_signs_in(engine: Engine) {
    let app = spawn(engine).await;
    let phone = respite_domain::PhoneNumber::from_e164("+13125550142").unwrap();
    let id = app
        .store
        .insert_patient(
            &NewPatient {
                mrn: "P-T",
                given_name: "Tess",
                family_name: "Portal",
                birth_date: jiff::civil::date(1971, 7, 1),
                sex: "female",
                phone_e164: Some(phone.as_e164()),
                email: None,
                time_zone: "America/Chicago",
            },
            Timestamp::now(),
        )
        .await
        .unwrap();
    let nurse = app.sign_in(Role::Nurse).await;
    let path = format!("/staff/patients/{id}/portal-invite");
    // No consent to texts yet: refused, nothing queued.
    let refused = app
        .post_form(&path, Some(&nurse), &[("channel", "sms")])
        .await;
    assert_eq!(refused.status(), 409);
    app.store
        .record_consent(
            None,
            &respite_store::ContactAddress::Phone(phone.clone()),
            respite_domain::messaging::MessageChannel::Sms,
            true,
            Timestamp::now(),
            "test",
        )
        .await
        .unwrap();
    let invited = app
        .post_form(&path, Some(&nurse), &[("channel", "sms")])
        .await;
    assert_eq!(invited.status(), 303);

    let sent = Arc::new(RecordingSms::default());
    let mut config = WebConfig::default();
    config.messaging.public_url = Some(app.base.clone());
    let mut state = AppState::new(app.store.clone(), Arc::new(config));
    state.sms = sent.clone();
    respite_web::jobs::run_due(&state).await.unwrap();
    respite_web::jobs::run_due(&state).await.unwrap();
    let texts = sent.0.lock().unwrap().clone();
    assert_eq!(texts.len(), 1, "{texts:?}");
    let link = texts[0]
        .split_whitespace()
        .find(|w| w.contains("/portal/link?token="))
        .unwrap();
    let token = link.rsplit('=').next().unwrap();
    let signed_in = app
        .post_form("/portal/link", None, &[("token", token)])
        .await;
    assert_eq!(signed_in.status(), 303);
    assert_eq!(signed_in.headers()["location"], "/portal/");
}
