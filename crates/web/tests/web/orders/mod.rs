//! Infusion orders (SPEC §1 step 5, §2): refused unless the screening decision
//! is eligible and current, a plan exists and today's weight is recorded;
//! never above a ceiling without a clinician's override with a reason (a
//! nurse can never override: shared/clinical/dosing.md, "Exceeding any
//! ceiling requires a clinician override with a written reason"); a second
//! person who is not the orderer checks; protocol versions are never edited
//! in place.

use jiff::civil::Date;
use jiff::ToSpan;
use respite_clinical::dosing::units::{MgPerKg, MgPerKgPerHour, MgPerMl, Minutes};
use respite_clinical::dosing::{
    calculate_session, DosingError, DosingSettings, ProtocolStep, Vial,
};
use respite_clinical::screening::TreatmentClass;
use respite_domain::Role;
use respite_store::chart::{NewMedication, NewVitals, StopReasonCode, VitalSign};
use respite_store::{body_for, AuditFilter, NewInfusionOrder, OrderRefusal};

use crate::support::*;

fn zone() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get("America/Los_Angeles").unwrap()
}

fn today() -> Date {
    jiff::Timestamp::now().to_zoned(zone()).date()
}

pub(crate) async fn staff_id(app: &TestApp, role: Role) -> i64 {
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

async fn new_patient(app: &TestApp, mrn: &str) -> i64 {
    app.store
        .insert_patient(
            &respite_store::NewPatient {
                mrn,
                given_name: "Orla",
                family_name: "Ordered",
                birth_date: jiff::civil::date(1970, 3, 3),
                sex: "female",
                phone_e164: None,
                email: None,
                time_zone: "America/Los_Angeles",
            },
            jiff::Timestamp::now(),
        )
        .await
        .unwrap()
}

/// A chart that meets every criterion of screening.md, with no
/// contraindication: the decisions tests' own.
async fn complete_chart(app: &TestApp, patient: i64) {
    crate::decisions::complete_chart(app, patient, vec![]).await;
}

async fn weigh_today(app: &TestApp, patient: i64, kg: f64) {
    let nurse = staff_id(app, Role::Nurse).await;
    let at = jiff::Timestamp::now();
    app.store
        .add_vitals(
            patient,
            &NewVitals {
                observed_at: at,
                values: vec![(VitalSign::BodyWeight, kg)],
            },
            nurse,
            at,
        )
        .await
        .unwrap();
}

fn plan_fields() -> Vec<(&'static str, String)> {
    [
        ("title", "CRPS right leg: pain care plan"),
        ("addresses", "G90.521 CRPS I of right lower limb"),
        ("goal_1", "pain-at-most-4"),
        ("activity_1_kind", "ketamine-series"),
        ("activity_1_status", "scheduled"),
        ("activity_1_protocol", "crps-outpatient-10-day"),
        ("activity_1_sessions", "10"),
        ("activity_2_kind", "medication"),
        ("activity_2_status", "in-progress"),
        ("activity_2_description", "naproxen"),
        ("activity_2_duration", "4 weeks"),
        ("activity_3_kind", "physical"),
        ("activity_3_description", "physiotherapy"),
        ("activity_3_duration", "twice a week for 8 weeks"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_owned()))
    .chain([("review_on", (today() + 3.months()).to_string())])
    .collect()
}

async fn sign_eligible(app: &TestApp, clinician: &str, patient: i64) {
    let response = app
        .post_form(
            &format!("/staff/patients/{patient}/decision"),
            Some(clinician),
            &[("outcome", "eligible"), ("reason", "All criteria met.")],
        )
        .await;
    assert_eq!(response.status(), 303);
}

async fn write_plan(app: &TestApp, clinician: &str, patient: i64) {
    let fields = plan_fields();
    let response = app
        .post_form(
            &format!("/staff/patients/{patient}/plan"),
            Some(clinician),
            &as_refs(&fields),
        )
        .await;
    assert_eq!(response.status(), 303, "{}", response.text().await.unwrap());
}

/// A patient who may be ordered: eligible, current, planned, weighed today.
pub(crate) async fn ready_patient(app: &TestApp, clinician: &str, mrn: &str) -> i64 {
    let patient = new_patient(app, mrn).await;
    complete_chart(app, patient).await;
    sign_eligible(app, clinician, patient).await;
    write_plan(app, clinician, patient).await;
    weigh_today(app, patient, 70.0).await;
    patient
}

/// The id of the clinic's own series protocol (a bolus, then an infusion).
pub(crate) async fn series_protocol(app: &TestApp) -> i64 {
    app.store
        .current_protocols()
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.key == "clinic-outpatient-series")
        .unwrap()
        .id
}

pub(crate) async fn order(
    app: &TestApp,
    session: &str,
    patient: i64,
    fields: &[(&str, &str)],
) -> (u16, String) {
    let response = app
        .post_form(
            &format!("/staff/patients/{patient}/orders"),
            Some(session),
            fields,
        )
        .await;
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

both_engines!(an_order_is_refused_unless_eligible_current_planned_and_weighed);
async fn an_order_is_refused_unless_eligible_current_planned_and_weighed(engine: Engine) {
    let app = spawn(engine).await;
    let clinician = app.sign_in(Role::Clinician).await;
    let patient = new_patient(&app, "O-1").await;
    let protocol = series_protocol(&app).await.to_string();
    let fields = [("protocol", protocol.as_str())];

    let (status, body) = order(&app, &clinician, patient, &fields).await;
    assert_eq!(status, 422, "{engine:?}");
    assert!(
        body.contains("No screening decision has been signed"),
        "{body}"
    );

    complete_chart(&app, patient).await;
    sign_eligible(&app, &clinician, patient).await;
    let (status, body) = order(&app, &clinician, patient, &fields).await;
    assert_eq!(status, 422);
    assert!(body.contains("no treatment plan yet"), "{body}");

    write_plan(&app, &clinician, patient).await;
    let (status, body) = order(&app, &clinician, patient, &fields).await;
    assert_eq!(status, 422);
    assert!(body.contains("The latest weight is 2 days old"), "{body}");

    weigh_today(&app, patient, 70.0).await;
    // The page shows the calculation step by step and the preview.
    let page = app
        .get(
            &format!("/staff/patients/{patient}/orders/new?protocol={protocol}"),
            Some(&clinician),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("0.2 mg/kg × 70 kg = 14 mg ÷ 10 mg/mL = 1.4 mL"),
        "{page}"
    );
    assert!(
        page.contains("0.5 mg/kg/h × 70 kg = 35 mg/h ÷ 10 mg/mL = 3.5 mL/h"),
        "{page}"
    );
    assert!(page.contains("<svg"), "the PK preview is drawn");
    assert!(page.contains("Minutes in band"));
    let (status, _) = order(&app, &clinician, patient, &fields).await;
    assert_eq!(status, 303, "{engine:?}");

    // A medication recorded since puts the decision out of date.
    let nurse = staff_id(&app, Role::Nurse).await;
    app.store
        .add_medication(
            patient,
            &NewMedication {
                name: "duloxetine 60 mg",
                rxnorm_code: None,
                dose: "",
                started_on: Some(today() - 100.days()),
                stopped_on: Some(today() - 10.days()),
                tried_for_days: None,
                treatment_class: Some(TreatmentClass::Antidepressant),
                stop_reason: Some(StopReasonCode::Ineffective),
                stop_reason_note: "",
                recorded_on: today(),
            },
            nurse,
            jiff::Timestamp::now(),
        )
        .await
        .unwrap();
    let (status, body) = order(&app, &clinician, patient, &fields).await;
    assert_eq!(status, 422);
    assert!(
        body.contains("The screening decision is out of date"),
        "{body}"
    );
    assert_eq!(
        app.store.infusion_orders_of(patient).await.unwrap().len(),
        1
    );
}

both_engines!(above_a_ceiling_only_a_clinicians_override_with_a_reason_orders);
async fn above_a_ceiling_only_a_clinicians_override_with_a_reason_orders(engine: Engine) {
    let app = spawn(engine).await;
    let clinician = app.sign_in(Role::Clinician).await;
    let patient = ready_patient(&app, &clinician, "O-2").await;
    let protocol = series_protocol(&app).await.to_string();
    // 1.5 mg/kg/h is above the clinic's 1 mg/kg/h (dosing.md).
    let steps = "b:0.2:5;i:1.5:60";
    let (status, body) = order(
        &app,
        &clinician,
        patient,
        &[("protocol", &protocol), ("steps", steps)],
    )
    .await;
    assert_eq!(status, 422, "{engine:?}");
    assert!(body.contains("Above a ceiling"), "{body}");
    assert!(app
        .store
        .infusion_orders_of(patient)
        .await
        .unwrap()
        .is_empty());

    // A nurse cannot reach the order route…
    let nurse = app.sign_in(Role::Nurse).await;
    let (status, _) = order(
        &app,
        &nurse,
        patient,
        &[
            ("protocol", &protocol),
            ("steps", steps),
            ("override_reason", "I say so"),
        ],
    )
    .await;
    assert_eq!(status, 403);
    // …and the store refuses a nurse's override whatever path calls it.
    let refused = app
        .store
        .create_infusion_order(
            &NewInfusionOrder {
                patient_id: patient,
                protocol_version_id: protocol.parse().unwrap(),
                steps: vec![ProtocolStep::Infusion {
                    rate: MgPerKgPerHour::literal(1.5),
                    duration: Minutes::literal(60.0),
                }],
                concentration_mg_ml: 10.0,
                bag_ml: 250.0,
                target_ng_ml: None,
                override_reason: Some("nurse override"),
                orderer_id: staff_id(&app, Role::Nurse).await,
                orderer_role: Role::Nurse,
                at: jiff::Timestamp::now(),
            },
            today(),
            &zone(),
        )
        .await
        .unwrap();
    assert_eq!(refused, Err(OrderRefusal::NotAClinician));

    // The clinician's override with a reason: ordered, the override recorded and audited.
    let (status, _) = order(
        &app,
        &clinician,
        patient,
        &[
            ("protocol", &protocol),
            ("steps", steps),
            (
                "override_reason",
                "Tolerated 1.5 mg/kg/h last series without effects",
            ),
        ],
    )
    .await;
    assert_eq!(status, 303, "{engine:?}");
    let id = app.store.infusion_orders_of(patient).await.unwrap()[0];
    let stored = app.store.infusion_order(id).await.unwrap().unwrap();
    assert!(!stored.overrides.is_empty());
    assert!(stored
        .overrides
        .iter()
        .all(|o| o.clinician == "Clinician" && o.reason.starts_with("Tolerated")));
    let entry = &app
        .store
        .audit_entries(&AuditFilter {
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap()[0];
    assert_eq!(
        (
            entry.resource_type.as_str(),
            entry.action.as_str(),
            entry.outcome.as_str()
        ),
        ("MedicationRequest", "create", "success")
    );
    let page = app
        .get(&format!("/staff/orders/{id}"), Some(&clinician))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("overridden by Clinician"), "{page}");
}

/// A small deterministic generator (xorshift64*), fixed seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

both_engines!(no_random_order_is_stored_above_a_ceiling_without_a_clinicians_override);
async fn no_random_order_is_stored_above_a_ceiling_without_a_clinicians_override(engine: Engine) {
    let app = spawn(engine).await;
    let clinician = app.sign_in(Role::Clinician).await;
    let patient = ready_patient(&app, &clinician, "O-3").await;
    let protocols: Vec<_> = app
        .store
        .current_protocols()
        .await
        .unwrap()
        .into_iter()
        .filter(|p| p.active)
        .collect();
    let mut ids = Vec::new();
    for role in Role::ALL {
        ids.push((role, staff_id(&app, role).await));
    }
    let settings = DosingSettings::default();
    let mut rng = Rng(0x005E_ED0F_0DE5);
    let (mut accepted, mut refused) = (0, 0);
    for _ in 0..60 {
        let protocol = &protocols[rng.below(protocols.len() as u64) as usize];
        let mut steps = Vec::new();
        if rng.below(2) == 0 {
            steps.push(ProtocolStep::Bolus {
                dose: MgPerKg::literal(0.05 + rng.unit() * 0.5),
                over: Minutes::literal(5.0),
            });
        }
        steps.push(ProtocolStep::Infusion {
            rate: MgPerKgPerHour::literal(0.1 + rng.unit() * 2.2),
            duration: Minutes::literal(30.0 + rng.below(150) as f64),
        });
        let (role, orderer) = ids[rng.below(4) as usize];
        let reason = match rng.below(3) {
            0 => None,
            1 => Some("   "),
            _ => Some("clinical reason on file"),
        };
        let concentration = [1.0, 10.0, 50.0][rng.below(3) as usize];
        let result = app
            .store
            .create_infusion_order(
                &NewInfusionOrder {
                    patient_id: patient,
                    protocol_version_id: protocol.id,
                    steps: steps.clone(),
                    concentration_mg_ml: concentration,
                    bag_ml: 250.0,
                    target_ng_ml: None,
                    override_reason: reason,
                    orderer_id: orderer,
                    orderer_role: role,
                    at: jiff::Timestamp::now(),
                },
                today(),
                &zone(),
            )
            .await
            .unwrap();
        let Ok(id) = result else {
            refused += 1;
            continue;
        };
        accepted += 1;
        // Independently: would the order, as stored, pass without overrides?
        let stored = app.store.infusion_order(id).await.unwrap().unwrap();
        let body = body_for(stored.weight_kg, None, "female", &settings).unwrap();
        let ordered = respite_clinical::dosing::Protocol {
            steps: stored.steps.clone(),
            ..stored.protocol.protocol.clone()
        };
        let vial = Vial {
            drug: ordered.drug,
            concentration: MgPerMl::new(stored.concentration_mg_ml).unwrap(),
        };
        let plain = calculate_session(&ordered, &body, vial, &settings, &[]);
        if let Err(DosingError::CeilingsExceeded(_)) = plain {
            assert_eq!(
                role,
                Role::Clinician,
                "{engine:?}: only a clinician overrides"
            );
            assert!(reason.is_some_and(|r| !r.trim().is_empty()));
            assert!(!stored.overrides.is_empty(), "an override is recorded");
        } else {
            assert!(plain.is_ok(), "{plain:?}");
        }
        assert_eq!(stored.ordered_by_id, orderer);
        assert_eq!(role, Role::Clinician, "only clinicians order");
    }
    assert!(
        accepted > 0,
        "{engine:?}: accepted {accepted}, refused {refused}"
    );
    assert!(refused > 0);
}

both_engines!(the_second_check_is_another_persons_and_is_shown);
async fn the_second_check_is_another_persons_and_is_shown(engine: Engine) {
    let app = spawn(engine).await;
    let clinician = app.sign_in(Role::Clinician).await;
    let patient = ready_patient(&app, &clinician, "O-4").await;
    let protocol = series_protocol(&app).await.to_string();
    let (status, _) = order(&app, &clinician, patient, &[("protocol", &protocol)]).await;
    assert_eq!(status, 303);
    let id = app.store.infusion_orders_of(patient).await.unwrap()[0];
    let path = format!("/staff/orders/{id}/check");
    let right = [
        ("drug_confirmed", "yes"),
        ("concentration_mg_ml", "10"),
        ("weight_kg", "70"),
        ("pump_ml_h", "3.5"),
    ];
    // The orderer cannot check their own order.
    let response = app.post_form(&path, Some(&clinician), &right).await;
    assert_eq!(response.status(), 422, "{engine:?}");
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("not the one who ordered"));
    let nurse = app.sign_in(Role::Nurse).await;
    let mut wrong = right;
    wrong[3] = ("pump_ml_h", "35");
    let response = app.post_form(&path, Some(&nurse), &wrong).await;
    assert_eq!(response.status(), 422);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("Pump rate: what you read does not match"));
    let response = app.post_form(&path, Some(&nurse), &right).await;
    assert_eq!(response.status(), 303);
    let page = app
        .get(&format!("/staff/orders/{id}"), Some(&clinician))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Verified by Nurse"), "{page}");
    let list = app
        .get(&format!("/staff/patients/{patient}/orders"), Some(&nurse))
        .await
        .text()
        .await
        .unwrap();
    assert!(list.contains("verified by Nurse"), "{list}");
    let response = app.post_form(&path, Some(&nurse), &right).await;
    assert_eq!(response.status(), 422, "checked once");
}

both_engines!(protocol_versions_are_never_edited_in_place);
async fn protocol_versions_are_never_edited_in_place(engine: Engine) {
    let app = spawn(engine).await;
    let admin = app.sign_in(Role::Admin).await;
    let before = app.store.protocol_versions().await.unwrap();
    let first = before
        .iter()
        .find(|p| p.key == "crps-outpatient-10-day")
        .unwrap()
        .clone();
    assert!(first.active);
    let response = app
        .post_form(
            &format!("/staff/protocols/{}/active", first.id),
            Some(&admin),
            &[("active", "no")],
        )
        .await;
    assert_eq!(response.status(), 303, "{engine:?}");
    let after = app.store.protocol_versions().await.unwrap();
    assert_eq!(after.len(), before.len() + 1);
    let old = app.store.protocol_version(first.id).await.unwrap().unwrap();
    assert!(old.active, "the old version is as it was");
    assert_eq!(old.protocol, first.protocol);
    assert_eq!(old.version, 1);
    let current = app
        .store
        .current_protocols()
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.key == "crps-outpatient-10-day")
        .unwrap();
    assert_eq!((current.version, current.active), (2, false));
    // A retired protocol is not ordered.
    let clinician = app.sign_in(Role::Clinician).await;
    let patient = ready_patient(&app, &clinician, "O-5").await;
    let (status, body) = order(
        &app,
        &clinician,
        patient,
        &[("protocol", &first.id.to_string())],
    )
    .await;
    assert_eq!(status, 422, "{engine:?}");
    assert!(
        body.contains("protocol: must name an active protocol"),
        "{body}"
    );
    // Clinicians and nurses read the library; the page names the versions.
    let page = app
        .get("/staff/protocols", Some(&clinician))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Earlier versions (1)"), "{page}");
}

// A target-guided proposal is shown and, taken as the order, still checked.
both_engines!(a_target_guided_plan_is_proposed_and_can_be_ordered);
async fn a_target_guided_plan_is_proposed_and_can_be_ordered(engine: Engine) {
    let app = spawn(engine).await;
    let clinician = app.sign_in(Role::Clinician).await;
    let patient = ready_patient(&app, &clinician, "O-6").await;
    let protocol = series_protocol(&app).await;
    let page = app
        .get(
            &format!(
                "/staff/patients/{patient}/orders/new?protocol={protocol}&target=120&reach=10"
            ),
            Some(&clinician),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"proposal\""), "{page}");
    let steps = page
        .split("name=\"steps\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    // A schedule of rate steps, changed no more often than every 10 minutes.
    assert!(steps.split(';').count() > 1, "{steps}");
    assert!(page.contains("Reaches the target at"), "{page}");
    let (status, body) = order(
        &app,
        &clinician,
        patient,
        &[
            ("protocol", &protocol.to_string()),
            ("steps", &steps),
            ("target", "120"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{body}");
}

both_engines!(the_clinic_sets_how_old_todays_weight_may_be);
async fn the_clinic_sets_how_old_todays_weight_may_be(engine: Engine) {
    let app = spawn(engine).await;
    let clinician = app.sign_in(Role::Clinician).await;
    let patient = new_patient(&app, "O-7").await;
    complete_chart(&app, patient).await;
    sign_eligible(&app, &clinician, patient).await;
    write_plan(&app, &clinician, patient).await;
    let protocol = series_protocol(&app).await.to_string();
    let (status, body) = order(&app, &clinician, patient, &[("protocol", &protocol)]).await;
    assert_eq!(status, 422, "{engine:?}: the weight is two days old");
    assert!(body.contains("within 1 day"), "{body}");
    let admin = app.sign_in(Role::Admin).await;
    let response = app
        .post_form(
            "/staff/settings/infusion",
            Some(&admin),
            &[("weight_max_age_days", "31")],
        )
        .await;
    assert_eq!(response.status(), 422);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("from 0 (today) to 30"));
    let response = app
        .post_form(
            "/staff/settings/infusion",
            Some(&admin),
            &[("weight_max_age_days", "3")],
        )
        .await;
    assert_eq!(response.status(), 303);
    let (status, _) = order(&app, &clinician, patient, &[("protocol", &protocol)]).await;
    assert_eq!(status, 303, "{engine:?}: within the clinic's three days");
}

/// Fields for the route walk of `access.rs` (None for routes not of this area).
pub fn valid_fields_for(path: &str) -> Option<Vec<(&'static str, String)>> {
    let fields: &[(&'static str, &str)] = match path {
        "/staff/protocols/{id}/active" => &[("active", "no")],
        "/staff/settings/infusion" => &[("weight_max_age_days", "1")],
        "/staff/patients/{id}/orders" => &[("protocol", "")],
        "/staff/orders/{id}/check" => &[
            ("drug_confirmed", "yes"),
            ("concentration_mg_ml", "10"),
            ("weight_kg", "70"),
            ("pump_ml_h", "3.5"),
        ],
        _ => return None,
    };
    Some(fields.iter().map(|(k, v)| (*k, (*v).to_owned())).collect())
}
