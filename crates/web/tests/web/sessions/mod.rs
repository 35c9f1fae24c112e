//! The infusion session (SPEC §1 step 5, §2): opened from a checked order;
//! the state machine refuses out-of-order actions; a stale version is a
//! 409 with words; vitals beyond the thresholds of dosing.md raise an alarm
//! that needs an acknowledgement with the action taken; rescue drugs only
//! from the protocol's list; discharge refused below Aldrete 9; a nurse
//! cannot sign off; the delivered total is what the register's
//! administration records; the delivered infusion is re-simulated.

use respite_domain::Role;

use crate::orders::{order, ready_patient, series_protocol};
use crate::support::*;

/// A clinician's order for a ready patient, checked by the nurse; returns
/// (order id, patient id, clinician session, nurse session).
pub(crate) async fn checked_order(app: &TestApp, mrn: &str) -> (i64, i64, String, String) {
    let clinician = app.sign_in(Role::Clinician).await;
    let patient = ready_patient(app, &clinician, mrn).await;
    let protocol = series_protocol(app).await.to_string();
    let (status, body) = order(app, &clinician, patient, &[("protocol", &protocol)]).await;
    assert_eq!(status, 303, "{body}");
    let id = app.store.infusion_orders_of(patient).await.unwrap()[0];
    let nurse = app.sign_in(Role::Nurse).await;
    let response = app
        .post_form(
            &format!("/staff/orders/{id}/check"),
            Some(&nurse),
            &[
                ("drug_confirmed", "yes"),
                ("concentration_mg_ml", "10"),
                ("weight_kg", "70"),
                ("pump_ml_h", "3.5"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    (id, patient, clinician, nurse)
}

/// Opens the order's session as `who`; returns its id.
pub(crate) async fn open(app: &TestApp, who: &str, order_id: i64) -> i64 {
    let response = app
        .post_form(&format!("/staff/orders/{order_id}/session"), Some(who), &[])
        .await;
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    location
        .trim_start_matches("/staff/sessions/")
        .parse()
        .unwrap()
}

async fn version(app: &TestApp, session: i64) -> String {
    app.store
        .infusion_session(session)
        .await
        .unwrap()
        .unwrap()
        .version
        .to_string()
}

/// Records one action at the session's current version: (status, body).
pub(crate) async fn act(
    app: &TestApp,
    who: &str,
    session: i64,
    fields: &[(&str, &str)],
) -> (u16, String) {
    let version = version(app, session).await;
    let mut all: Vec<(&str, &str)> = vec![("version", version.as_str())];
    all.extend_from_slice(fields);
    let response = app
        .post_form(
            &format!("/staff/sessions/{session}/entries"),
            Some(who),
            &all,
        )
        .await;
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

const NORMAL: [(&str, &str); 6] = [
    ("systolic", "128"),
    ("diastolic", "78"),
    ("heart_rate", "72"),
    ("oxygen_saturation", "98"),
    ("respiratory_rate", "14"),
    ("pain_nrs", "7"),
];

async fn vitals(app: &TestApp, who: &str, session: i64, values: &[(&str, &str)]) {
    let mut fields = vec![("action", "vitals")];
    fields.extend_from_slice(values);
    let (status, body) = act(app, who, session, &fields).await;
    assert_eq!(status, 303, "{body}");
}

/// Checklist complete and baseline taken.
pub(crate) async fn ready_to_start(app: &TestApp, nurse: &str, session: i64) {
    let (status, body) = act(
        app,
        nurse,
        session,
        &[
            ("action", "checklist"),
            ("consent", "yes"),
            ("iv_access", "yes"),
            ("escort_name", "Sam Rivera"),
            ("escort_phone", "(312) 555-0100"),
            ("escort_confirmed", "yes"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{body}");
    vitals(app, nurse, session, &NORMAL).await;
}

pub(crate) async fn start(app: &TestApp, nurse: &str, session: i64) {
    let (status, body) = act(
        app,
        nurse,
        session,
        &[
            ("action", "start"),
            ("pump_ml_h", "3.5"),
            ("bolus_mg", "14"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{body}");
}

fn aldrete(total: u32) -> Vec<(&'static str, String)> {
    let items = [
        "activity",
        "respiration",
        "circulation",
        "consciousness",
        "oxygen-saturation",
    ];
    let mut left = total;
    let mut fields = vec![("action", "aldrete".to_owned())];
    for item in items {
        let value = left.min(2);
        left -= value;
        fields.push((item, value.to_string()));
    }
    fields
}

both_engines!(a_session_opens_only_from_a_checked_order_and_refuses_out_of_order_actions);
async fn a_session_opens_only_from_a_checked_order_and_refuses_out_of_order_actions(
    engine: Engine,
) {
    let app = spawn(engine).await;
    let clinician = app.sign_in(Role::Clinician).await;
    let patient = ready_patient(&app, &clinician, "S-1").await;
    let protocol = series_protocol(&app).await.to_string();
    let (status, _) = order(&app, &clinician, patient, &[("protocol", &protocol)]).await;
    assert_eq!(status, 303);
    let unchecked = app.store.infusion_orders_of(patient).await.unwrap()[0];
    let nurse = app.sign_in(Role::Nurse).await;
    let response = app
        .post_form(
            &format!("/staff/orders/{unchecked}/session"),
            Some(&nurse),
            &[],
        )
        .await;
    assert_eq!(response.status(), 409, "{engine:?}");
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("second check is not recorded"));

    let (order_id, _, _, nurse) = checked_order(&app, "S-2").await;
    // The order page offers the session once checked.
    let page = app
        .get(&format!("/staff/orders/{order_id}"), Some(&nurse))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Start session"), "{page}");
    let session = open(&app, &nurse, order_id).await;
    // Opening again goes to the same session.
    assert_eq!(open(&app, &nurse, order_id).await, session);

    // Nothing but the checklist, vitals and notes before the start.
    let (status, body) = act(
        &app,
        &nurse,
        session,
        &[("action", "stop"), ("reason", "x")],
    )
    .await;
    assert_eq!(status, 409);
    assert!(body.contains("Not possible now: stopping"), "{body}");
    let (status, body) = act(
        &app,
        &nurse,
        session,
        &[
            ("action", "rate-change"),
            ("pump_ml_h", "3"),
            ("reason", "x"),
        ],
    )
    .await;
    assert_eq!(status, 409, "{body}");
    // The start waits for the checklist and names what is missing.
    let (status, body) = act(
        &app,
        &nurse,
        session,
        &[("action", "start"), ("pump_ml_h", "3.5")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(body.contains("Missing: consent"), "{body}");
    ready_to_start(&app, &nurse, session).await;
    start(&app, &nurse, session).await;
    let (status, _) = act(
        &app,
        &nurse,
        session,
        &[("action", "start"), ("pump_ml_h", "3.5")],
    )
    .await;
    assert_eq!(status, 409, "started once");
    // A rate above the order is refused: a hard stop.
    let (status, body) = act(
        &app,
        &nurse,
        session,
        &[
            ("action", "rate-change"),
            ("pump_ml_h", "9"),
            ("reason", "pain"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(body.contains("above the ordered maximum"), "{body}");
    // Discharge before the stop is out of order.
    let (status, _) = act(
        &app,
        &nurse,
        session,
        &[("action", "discharge"), ("escort_name", "Sam Rivera")],
    )
    .await;
    assert_eq!(status, 409);
}

both_engines!(a_stale_edit_is_refused_with_words_never_lost);
async fn a_stale_edit_is_refused_with_words_never_lost(engine: Engine) {
    let app = spawn(engine).await;
    let (order_id, _, _, nurse) = checked_order(&app, "S-3").await;
    let session = open(&app, &nurse, order_id).await;
    let stale = version(&app, session).await;
    // Another tablet records first.
    vitals(&app, &nurse, session, &NORMAL).await;
    let response = app
        .post_form(
            &format!("/staff/sessions/{session}/entries"),
            Some(&nurse),
            &[
                ("version", &stale),
                ("action", "note"),
                ("note", "IV sited left arm"),
            ],
        )
        .await;
    assert_eq!(response.status(), 409, "{engine:?}");
    let body = response.text().await.unwrap();
    assert!(
        body.contains("Someone recorded on this session since you opened the page"),
        "{body}"
    );
    let s = app.store.infusion_session(session).await.unwrap().unwrap();
    assert!(
        s.events.iter().all(|e| e.kind != "note"),
        "nothing half-written"
    );
    assert_eq!(s.events.iter().filter(|e| e.kind == "vitals").count(), 1);
}

both_engines!(an_alarm_needs_an_acknowledgement_with_the_action_taken);
async fn an_alarm_needs_an_acknowledgement_with_the_action_taken(engine: Engine) {
    let app = spawn(engine).await;
    let (order_id, _, _, nurse) = checked_order(&app, "S-4").await;
    let session = open(&app, &nurse, order_id).await;
    ready_to_start(&app, &nurse, session).await;
    start(&app, &nurse, session).await;
    // SpO₂ 90 % is below dosing.md's 92 %.
    let mut low = NORMAL;
    low[3] = ("oxygen_saturation", "90");
    vitals(&app, &nurse, session, &low).await;
    let s = app.store.infusion_session(session).await.unwrap().unwrap();
    assert_eq!(s.open_alarms().len(), 1, "{engine:?}");
    let alarm = s.alarms[0].id.to_string();
    let page = app
        .get(&format!("/staff/sessions/{session}"), Some(&nurse))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("SpO₂ 90 %: below the alarm limit of 92"),
        "{page}"
    );
    let (status, body) = act(
        &app,
        &nurse,
        session,
        &[
            ("action", "acknowledge"),
            ("alarm", &alarm),
            ("action_taken", " "),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(body.contains("Action taken is required"), "{body}");
    // The clinic's thresholds decide: 91 % raises none at a limit of 90.
    let admin = app.sign_in(Role::Admin).await;
    let response = app
        .post_form(
            "/staff/settings/alarms",
            Some(&admin),
            &[
                ("systolic_above", "180"),
                ("systolic_below", "90"),
                ("heart_rate_above", "120"),
                ("heart_rate_below", "50"),
                ("oxygen_saturation_below", "90"),
                ("respiratory_rate_below", "10"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    low[3] = ("oxygen_saturation", "91");
    vitals(&app, &nurse, session, &low).await;
    let s = app.store.infusion_session(session).await.unwrap().unwrap();
    assert_eq!(s.alarms.len(), 1);
    let (status, body) = act(
        &app,
        &nurse,
        session,
        &[
            ("action", "acknowledge"),
            ("alarm", &alarm),
            ("action_taken", "Sat up, deep breaths; SpO₂ back to 97 %"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{body}");
    let s = app.store.infusion_session(session).await.unwrap().unwrap();
    assert!(s.open_alarms().is_empty());
    let (status, _) = act(
        &app,
        &nurse,
        session,
        &[
            ("action", "acknowledge"),
            ("alarm", &alarm),
            ("action_taken", "again"),
        ],
    )
    .await;
    assert_eq!(status, 409, "acknowledged once");
}

both_engines!(rescue_drugs_only_from_the_protocols_list);
async fn rescue_drugs_only_from_the_protocols_list(engine: Engine) {
    let app = spawn(engine).await;
    let (order_id, _, _, nurse) = checked_order(&app, "S-5").await;
    let session = open(&app, &nurse, order_id).await;
    ready_to_start(&app, &nurse, session).await;
    start(&app, &nurse, session).await;
    let (status, body) = act(
        &app,
        &nurse,
        session,
        &[
            ("action", "rescue-drug"),
            ("drug", "propofol"),
            ("dose_mg", "20"),
            ("reason", "agitation"),
        ],
    )
    .await;
    assert_eq!(status, 422, "{engine:?}");
    assert!(body.contains("does not allow that rescue drug"), "{body}");
    let (status, body) = act(
        &app,
        &nurse,
        session,
        &[
            ("action", "adverse-event"),
            ("code", "dissociation"),
            ("description", "Frightening imagery at 40 min"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{body}");
    let (status, body) = act(
        &app,
        &nurse,
        session,
        &[
            ("action", "rescue-drug"),
            // Not controlled: no vial (midazolam's draw: tests/web/rescue).
            ("drug", "clonidine (α2-agonist)"),
            ("dose_mg", "0.1"),
            ("reason", "distressing dissociation"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{body}");
}

both_engines!(discharge_needs_aldrete_nine_and_only_a_clinician_signs_off);
async fn discharge_needs_aldrete_nine_and_only_a_clinician_signs_off(engine: Engine) {
    let app = spawn(engine).await;
    let (order_id, _, clinician, nurse) = checked_order(&app, "S-6").await;
    let session = open(&app, &nurse, order_id).await;
    ready_to_start(&app, &nurse, session).await;
    start(&app, &nurse, session).await;
    let (status, _) = act(
        &app,
        &nurse,
        session,
        &[("action", "stop"), ("reason", "end")],
    )
    .await;
    assert_eq!(status, 303);
    let (status, _) = act(&app, &nurse, session, &[("action", "recovery")]).await;
    assert_eq!(status, 303);
    let eight = aldrete(8);
    let (status, _) = act(&app, &nurse, session, &as_refs(&eight)).await;
    assert_eq!(status, 303);
    let discharge = [("action", "discharge"), ("escort_name", "Sam Rivera")];
    let (status, body) = act(&app, &nurse, session, &discharge).await;
    assert_eq!(status, 422, "{engine:?}");
    assert!(
        body.contains("The modified Aldrete score is 8 of 10: discharge needs 9 or more"),
        "{body}"
    );
    let nine = aldrete(9);
    let (status, _) = act(&app, &nurse, session, &as_refs(&nine)).await;
    assert_eq!(status, 303);
    let (status, body) = act(&app, &nurse, session, &discharge).await;
    assert_eq!(status, 303, "{body}");
    // A nurse cannot sign off (the route's permission).
    let v = version(&app, session).await;
    let path = format!("/staff/sessions/{session}/sign-off");
    let response = app
        .post_form(&path, Some(&nurse), &[("version", &v), ("note", "")])
        .await;
    assert_eq!(response.status(), 403);
    let response = app
        .post_form(
            &path,
            Some(&clinician),
            &[("version", &v), ("note", "Uneventful")],
        )
        .await;
    assert_eq!(response.status(), 303);
    let s = app.store.infusion_session(session).await.unwrap().unwrap();
    assert_eq!(s.state.code(), "signed-off");
    assert_eq!(s.signed_off_by.as_deref(), Some("Clinician"));
    // Afterwards the record shows planned against delivered.
    let page = app
        .get(&format!("/staff/sessions/{session}"), Some(&clinician))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Planned and delivered"), "{page}");
    let (status, _) = act(
        &app,
        &nurse,
        session,
        &[("action", "note"), ("note", "late")],
    )
    .await;
    assert_eq!(status, 409, "closed after sign-off");
}

both_engines!(the_delivered_total_is_the_registers_administration_and_re_simulates);
async fn the_delivered_total_is_the_registers_administration_and_re_simulates(engine: Engine) {
    let app = spawn(engine).await;
    let (order_id, _, _, nurse) = checked_order(&app, "S-7").await;
    let session = open(&app, &nurse, order_id).await;
    let response = app
        .post_form(
            "/staff/register/receipts",
            Some(&nurse),
            &[
                ("drug", "ketamine"),
                ("ndc", "0143-9508-10"),
                ("lot", "KX2291"),
                ("expiry", "2099-06-30"),
                ("concentration", "50"),
                ("volume_ml", "10"),
                ("vials", "1"),
                ("supplier", "Cascade Medical Supply"),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let vial = app.store.vials_on_hand().await.unwrap()[0].id.to_string();
    // 2 mL at 50 mg/mL: 100 mg drawn for the session.
    let response = app
        .post_form(
            &format!("/staff/sessions/{session}/draws"),
            Some(&nurse),
            &[("vial", &vial), ("amount_ml", "2")],
        )
        .await;
    assert_eq!(response.status(), 303, "{engine:?}");
    ready_to_start(&app, &nurse, session).await;
    start(&app, &nurse, session).await;
    let (status, _) = act(
        &app,
        &nurse,
        session,
        &[
            ("action", "rate-change"),
            ("pump_ml_h", "3"),
            ("reason", "nausea"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let (status, _) = act(
        &app,
        &nurse,
        session,
        &[("action", "stop"), ("reason", "end")],
    )
    .await;
    assert_eq!(status, 303);
    let s = app.store.infusion_session(session).await.unwrap().unwrap();
    let delivered = s.delivered(jiff::Timestamp::now()).unwrap();
    // The 14 mg bolus, plus seconds of infusion.
    assert!(
        14.0 <= delivered.total_mg && delivered.total_mg < 15.0,
        "{}",
        delivered.total_mg
    );
    assert!(
        (s.total_mg - delivered.total_mg).abs() < 0.001,
        "the row follows the timeline"
    );
    // The page offers the delivered amount for the administration.
    let page = app
        .get(&format!("/staff/sessions/{session}"), Some(&nurse))
        .await
        .text()
        .await
        .unwrap();
    let draw = app.store.session_register_entries(session).await.unwrap()[0].id;
    let offered = format!(
        "value=\"{}\"",
        respite_web::words::infusion::number(s.total_mg, 3)
    );
    assert!(page.contains(&offered), "{offered} in {page}");
    let given = respite_web::words::infusion::number(s.total_mg, 3);
    let response = app
        .post_form(
            &format!("/staff/sessions/{session}/administrations"),
            Some(&nurse),
            &[("draw", &draw.to_string()), ("amount_mg", &given)],
        )
        .await;
    assert_eq!(response.status(), 303);
    let entries = app.store.session_register_entries(session).await.unwrap();
    let administered: f64 = entries
        .iter()
        .filter(|e| e.kind == respite_store::RegisterEntryKind::Administration)
        .map(|e| e.amount.mg())
        .sum();
    assert!(
        (administered - s.total_mg).abs() < 0.001,
        "{administered} vs {}",
        s.total_mg
    );
    // The delivered infusion as respite-pk doses: the bolus and two rates.
    let plan = delivered.plan().unwrap();
    assert!(plan.doses().len() >= 2, "{:?}", plan.doses());
    let page = app
        .get(&format!("/staff/sessions/{session}"), Some(&nurse))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Planned and delivered"), "{page}");
    assert!(page.contains("re-simulated"), "{page}");
}

both_engines!(the_demos_latest_sessions_are_documented_and_match_the_register);
async fn the_demos_latest_sessions_are_documented_and_match_the_register(engine: Engine) {
    let app = spawn(engine).await;
    let consulting = vec![
        crate::orders::staff_id(&app, Role::FrontDesk).await,
        crate::orders::staff_id(&app, Role::Clinician).await,
    ];
    let size = respite_store::demo::DemoSize {
        patients: 24,
        inquiries: 4,
    };
    let summary = respite_store::demo::seed(&app.store, jiff::Timestamp::now(), size, &consulting)
        .await
        .unwrap();
    assert!(summary.documented_sessions > 0, "{engine:?}");
    let clinician = app.sign_in(Role::Clinician).await;
    let list = app
        .get("/staff/sessions", Some(&clinician))
        .await
        .text()
        .await
        .unwrap();
    assert!(list.contains("<h1>Infusion sessions"), "{list}");
    let mut raw = app.raw().await;
    let ids: Vec<(i64,)> =
        sqlx::query_as("SELECT id FROM infusion_sessions WHERE state IS NOT NULL ORDER BY id")
            .fetch_all(&mut raw)
            .await
            .unwrap();
    assert_eq!(ids.len(), summary.documented_sessions);
    let mut alarms = 0;
    for (id,) in ids {
        let s = app.store.infusion_session(id).await.unwrap().unwrap();
        assert_eq!(s.state.code(), "signed-off");
        assert!(s.open_alarms().is_empty());
        alarms += s.alarms.len();
        assert!(s.events.iter().filter(|e| e.kind == "vitals").count() >= 4);
        // What the pump delivered is the register's administration.
        let delivered = s.delivered(jiff::Timestamp::now()).unwrap().total_mg;
        let given: f64 = app
            .store
            .session_register_entries(id)
            .await
            .unwrap()
            .iter()
            .filter(|e| e.kind == respite_store::RegisterEntryKind::Administration)
            .map(|e| e.amount.mg())
            .sum();
        assert!((delivered - given).abs() < 0.01, "{delivered} vs {given}");
        let page = app
            .get(&format!("/staff/sessions/{id}"), Some(&clinician))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("Planned and delivered"), "{page}");
    }
    assert!(alarms > 0, "a few alarms, acknowledged");
}
