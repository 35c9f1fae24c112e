//! The clinician's screening decision, records requests, treatment plans and the work
//! list, through the pages (SPEC §1 steps 3–4, §2): only clinicians sign; the absolute
//! tier is never overridden and the others only with a reason (shared/clinical/
//! screening.md); a changed medication puts a decision out of date; a plan change is a
//! new version and the old stays readable.

use jiff::civil::Date;
use jiff::ToSpan;
use respite_clinical::screening::{Contraindication, Qualification, TreatmentClass};
use respite_domain::Role;
use respite_store::chart::{
    ChartList, DocumentKind, MediaType, NewContraindicationReview, NewDocument, NewMedication,
    NewProblem, NewVitals, StopReasonCode, VitalSign,
};
use respite_store::AuditFilter;

use crate::support::*;

/// Today at the clinic (America/Los_Angeles, the default).
fn today() -> Date {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::get("America/Los_Angeles").unwrap())
        .date()
}

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

async fn new_patient(app: &TestApp, mrn: &str) -> i64 {
    app.store
        .insert_patient(
            &respite_store::NewPatient {
                mrn,
                given_name: "Dana",
                family_name: "Decided",
                birth_date: jiff::civil::date(1975, 5, 5),
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

/// A chart that meets every criterion of screening.md, with the contraindications
/// `present` in its review: CRPS diagnosed by a physician long ago, two conventional
/// classes failed, lists reviewed, vitals and the referral letter of two days ago.
pub(crate) async fn complete_chart(app: &TestApp, patient: i64, present: Vec<Contraindication>) {
    let nurse = staff_id(app, Role::Nurse).await;
    let on = today() - 2.days();
    let at = jiff::Timestamp::now();
    let store = &app.store;
    store
        .add_problem(
            patient,
            &NewProblem {
                icd10cm_code: "G90.521",
                onset_date: today() - 2.years(),
                onset_estimated: false,
                diagnosed_by: "Dr. Helen Park",
                qualification: Qualification::Physician,
                diagnosed_on: today() - 1.years(),
                recorded_on: on,
            },
            nurse,
            at,
        )
        .await
        .unwrap();
    for (name, class, stop) in [
        (
            "ibuprofen 400 mg",
            TreatmentClass::Nsaid,
            StopReasonCode::Ineffective,
        ),
        (
            "gabapentin 300 mg",
            TreatmentClass::Gabapentinoid,
            StopReasonCode::NotTolerated,
        ),
    ] {
        store
            .add_medication(
                patient,
                &NewMedication {
                    name,
                    rxnorm_code: None,
                    dose: "",
                    started_on: Some(today() - 300.days()),
                    stopped_on: Some(today() - 200.days()),
                    tried_for_days: None,
                    treatment_class: Some(class),
                    stop_reason: Some(stop),
                    stop_reason_note: "",
                    recorded_on: on,
                },
                nurse,
                at,
            )
            .await
            .unwrap();
    }
    for list in [
        ChartList::Medications,
        ChartList::Allergies,
        ChartList::Problems,
    ] {
        store
            .review_list(patient, list, on, nurse, at)
            .await
            .unwrap();
    }
    store
        .add_vitals(
            patient,
            &NewVitals {
                observed_at: at - 48.hours(),
                values: vec![
                    (VitalSign::BodyWeight, 70.0),
                    (VitalSign::Systolic, 122.0),
                    (VitalSign::Diastolic, 78.0),
                ],
            },
            nurse,
            at,
        )
        .await
        .unwrap();
    store
        .add_document(
            patient,
            &NewDocument {
                kind: DocumentKind::ReferralLetter,
                document_date: on,
                title: "Referral",
                author: "Dr. Helen Park",
                file_name: "referral.pdf",
                media_type: MediaType::Pdf,
                content: b"%PDF-1.4\n%test\n",
            },
            nurse,
            at,
        )
        .await
        .unwrap();
    store
        .add_contraindication_review(
            patient,
            &NewContraindicationReview {
                reviewed_on: on,
                present,
                note: "",
            },
            nurse,
            at,
        )
        .await
        .unwrap();
}

async fn decide(
    app: &TestApp,
    session: &str,
    patient: i64,
    fields: &[(&str, &str)],
) -> (u16, String) {
    let response = app
        .post_form(
            &format!("/staff/patients/{patient}/decision"),
            Some(session),
            fields,
        )
        .await;
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

both_engines!(only_clinicians_sign_a_decision_and_it_is_audited);
async fn only_clinicians_sign_a_decision_and_it_is_audited(engine: Engine) {
    let app = spawn(engine).await;
    let patient = new_patient(&app, "D-1").await;
    complete_chart(&app, patient, vec![]).await;
    let eligible = [
        ("outcome", "eligible"),
        ("reason", "All criteria met; agreed."),
    ];
    for role in [Role::FrontDesk, Role::Nurse, Role::Admin] {
        let session = app.sign_in(role).await;
        let (status, _) = decide(&app, &session, patient, &eligible).await;
        assert_eq!(status, 403, "{engine:?} {role}");
        let entry = &app
            .store
            .audit_entries(&AuditFilter {
                limit: 1,
                ..Default::default()
            })
            .await
            .unwrap()[0];
        assert_eq!(entry.outcome, "denied", "{role}");
        assert_eq!(entry.resource_type, "ScreeningDecision");
    }
    assert!(app
        .store
        .screening_decisions(patient)
        .await
        .unwrap()
        .is_empty());

    let nurse = app.sign_in(Role::Nurse).await;
    let page = app
        .get(&format!("/staff/patients/{patient}/decision"), Some(&nurse))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Eligible — clinician decision needed"),
        "{page}"
    );
    assert!(
        !page.contains("id=\"decision-form\""),
        "a nurse sees no form"
    );

    let clinician = app.sign_in(Role::Clinician).await;
    let (status, _) = decide(&app, &clinician, patient, &eligible).await;
    assert_eq!(status, 303, "{engine:?}");
    let decisions = app.store.screening_decisions(patient).await.unwrap();
    assert_eq!(decisions.len(), 1);
    assert_eq!(decisions[0].engine_verdict, "eligible");
    assert_eq!(decisions[0].signed_by, "Clinician");
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
            entry.actor.as_str(),
            entry.resource_type.as_str(),
            entry.action.as_str(),
            entry.resource_id.as_str(),
            entry.outcome.as_str()
        ),
        (
            "clinician@clinic.test",
            "ScreeningDecision",
            "create",
            patient.to_string().as_str(),
            "success"
        )
    );
    let page = app
        .get(&format!("/staff/patients/{patient}/decision"), Some(&nurse))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Decided: eligible"), "{page}");
    assert!(page.contains("All criteria met; agreed."));

    // A decision needs a reason, and an outcome from the list.
    let (status, body) = decide(&app, &clinician, patient, &[("outcome", "deferred")]).await;
    assert_eq!(status, 422);
    assert!(body.contains("is required: say why"), "{body}");
    let (status, body) = decide(&app, &clinician, patient, &[("outcome", "maybe")]).await;
    assert_eq!(status, 422);
    assert!(body.contains("choose eligible, not eligible or deferred"));
    assert_eq!(
        app.store.screening_decisions(patient).await.unwrap().len(),
        1
    );
}

both_engines!(the_absolute_tier_is_never_overridden_and_the_others_only_with_a_reason);
async fn the_absolute_tier_is_never_overridden_and_the_others_only_with_a_reason(engine: Engine) {
    let app = spawn(engine).await;
    let clinician = app.sign_in(Role::Clinician).await;

    // Not eligible unless overridden (pregnancy, Cohen 2018) and refer for review
    // (active substance abuse): eligible only with a named override and a reason.
    for (mrn, c, code) in [
        ("D-2", Contraindication::Pregnancy, "pregnancy"),
        (
            "D-3",
            Contraindication::ActiveSubstanceAbuse,
            "active-substance-abuse",
        ),
    ] {
        let patient = new_patient(&app, mrn).await;
        complete_chart(&app, patient, vec![c]).await;
        let ticked = format!("override_{code}");
        let reason_field = format!("override_{code}_reason");
        let (status, body) = decide(
            &app,
            &clinician,
            patient,
            &[
                ("outcome", "eligible"),
                ("reason", "benefit outweighs risk"),
            ],
        )
        .await;
        assert_eq!(status, 422, "{engine:?} {code}");
        assert!(body.contains("override it with a reason"), "{body}");
        let (status, body) = decide(
            &app,
            &clinician,
            patient,
            &[
                ("outcome", "eligible"),
                ("reason", "benefit outweighs risk"),
                (&ticked, "on"),
                (&reason_field, "  "),
            ],
        )
        .await;
        assert_eq!(status, 422, "{code}");
        assert!(body.contains("the reason for overriding"), "{body}");
        assert!(app
            .store
            .screening_decisions(patient)
            .await
            .unwrap()
            .is_empty());
        let (status, _) = decide(
            &app,
            &clinician,
            patient,
            &[
                ("outcome", "eligible"),
                ("reason", "benefit outweighs risk"),
                (&ticked, "on"),
                (&reason_field, "discussed with the specialist; monitored"),
            ],
        )
        .await;
        assert_eq!(status, 303, "{code}");
        let decision = &app.store.screening_decisions(patient).await.unwrap()[0];
        assert_eq!(decision.overrides.len(), 1);
        assert_eq!(decision.overrides[0].contraindication, c);
        assert_eq!(
            decision.overrides[0].reason,
            "discussed with the specialist; monitored"
        );
    }

    // Absolute (known hypersensitivity to ketamine, product label §4): no
    // checkbox on the page, and a forged override is refused by the engine.
    let patient = new_patient(&app, "D-4").await;
    complete_chart(
        &app,
        patient,
        vec![Contraindication::KetamineHypersensitivity],
    )
    .await;
    let page = app
        .get(
            &format!("/staff/patients/{patient}/decision"),
            Some(&clinician),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("absolute: can never be overridden"), "{page}");
    assert!(!page.contains("name=\"override_ketamine-hypersensitivity\""));
    let (status, body) = decide(
        &app,
        &clinician,
        patient,
        &[
            ("outcome", "eligible"),
            ("reason", "mild reaction only"),
            ("override_ketamine-hypersensitivity", "on"),
            (
                "override_ketamine-hypersensitivity_reason",
                "mild rash in 1998",
            ),
        ],
    )
    .await;
    assert_eq!(status, 422, "{engine:?}");
    assert!(body.contains("can never be overridden"), "{body}");
    assert!(body.contains("the patient cannot be eligible"), "{body}");
    assert!(app
        .store
        .screening_decisions(patient)
        .await
        .unwrap()
        .is_empty());
    let (status, _) = decide(
        &app,
        &clinician,
        patient,
        &[("outcome", "not-eligible"), ("reason", "ketamine allergy")],
    )
    .await;
    assert_eq!(status, 303);
}

both_engines!(a_changed_medication_puts_the_decision_out_of_date);
async fn a_changed_medication_puts_the_decision_out_of_date(engine: Engine) {
    let app = spawn(engine).await;
    let clinician = app.sign_in(Role::Clinician).await;
    let patient = new_patient(&app, "D-5").await;
    complete_chart(&app, patient, vec![]).await;
    let zone = jiff::tz::TimeZone::get("America/Los_Angeles").unwrap();
    assert!(app
        .store
        .current_screening_decision(patient, today(), &zone)
        .await
        .unwrap()
        .is_none());
    let (status, _) = decide(
        &app,
        &clinician,
        patient,
        &[("outcome", "eligible"), ("reason", "criteria met")],
    )
    .await;
    assert_eq!(status, 303, "{engine:?}");
    let current = app
        .store
        .current_screening_decision(patient, today(), &zone)
        .await
        .unwrap()
        .unwrap();
    assert!(current.current && current.allows_treatment());

    // A nurse adds a benzodiazepine: the facts the decision read have changed.
    app.store
        .add_medication(
            patient,
            &NewMedication {
                name: "lorazepam 1 mg",
                rxnorm_code: Some("6470"),
                dose: "1 mg at night",
                started_on: Some(today() - 1.days()),
                stopped_on: None,
                tried_for_days: None,
                treatment_class: None,
                stop_reason: None,
                stop_reason_note: "",
                recorded_on: today(),
            },
            staff_id(&app, Role::Nurse).await,
            jiff::Timestamp::now(),
        )
        .await
        .unwrap();
    let current = app
        .store
        .current_screening_decision(patient, today(), &zone)
        .await
        .unwrap()
        .unwrap();
    assert!(
        !current.current && !current.allows_treatment(),
        "{engine:?}"
    );
    let page = app
        .get(
            &format!("/staff/patients/{patient}/decision"),
            Some(&clinician),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("out of date"), "{page}");
    assert!(page.contains("lorazepam 1 mg: benzodiazepines"), "{page}");
    let list = app
        .get("/staff/worklist?list=outdated", Some(&clinician))
        .await
        .text()
        .await
        .unwrap();
    assert!(list.contains("D-5"), "{list}");
    assert!(list.contains(&format!("/staff/patients/{patient}/decision")));

    // Decided again on the new facts: current.
    let (status, _) = decide(
        &app,
        &clinician,
        patient,
        &[
            ("outcome", "eligible"),
            ("reason", "lorazepam reviewed: taper before infusions"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    assert!(
        app.store
            .current_screening_decision(patient, today(), &zone)
            .await
            .unwrap()
            .unwrap()
            .current
    );
    let list = app
        .get("/staff/worklist?list=outdated", Some(&clinician))
        .await
        .text()
        .await
        .unwrap();
    assert!(!list.contains("D-5"), "{list}");
}

fn plan_fields(review_on: &str, sessions: &str, medication: &str) -> Vec<(&'static str, String)> {
    [
        ("title", "CRPS right leg: pain care plan"),
        ("addresses", "G90.521 CRPS I of right lower limb"),
        ("goal_1", "pain-at-most-4"),
        ("goal_2", "custom"),
        ("goal_2_description", "walk to the shop and back"),
        ("activity_1_kind", "ketamine-series"),
        ("activity_1_status", "scheduled"),
        ("activity_1_protocol", "crps-outpatient-10-day"),
        ("activity_1_sessions", sessions),
        ("activity_2_kind", "medication"),
        ("activity_2_status", "in-progress"),
        ("activity_2_description", medication),
        ("activity_2_duration", "4 weeks"),
        ("activity_3_kind", "physical"),
        (
            "activity_3_description",
            "physiotherapy, graded motor imagery",
        ),
        ("activity_3_duration", "twice a week for 8 weeks"),
        ("review_on", review_on),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_owned()))
    .collect()
}

both_engines!(a_changed_plan_is_a_new_version_and_the_old_stays_readable);
async fn a_changed_plan_is_a_new_version_and_the_old_stays_readable(engine: Engine) {
    let app = spawn(engine).await;
    let clinician = app.sign_in(Role::Clinician).await;
    let nurse = app.sign_in(Role::Nurse).await;
    let patient = new_patient(&app, "D-6").await;
    let review = (today() + 3.months()).to_string();
    let path = format!("/staff/patients/{patient}/plan");

    let v1 = plan_fields(
        &review,
        "10",
        "ibuprofen 400 mg three times a day with food",
    );
    let response = app.post_form(&path, Some(&nurse), &as_refs(&v1)).await;
    assert_eq!(
        response.status(),
        403,
        "{engine:?}: nurses read plans, never write"
    );
    let response = app.post_form(&path, Some(&clinician), &as_refs(&v1)).await;
    assert_eq!(response.status(), 303, "{engine:?}");

    // Eleven sessions exceed the protocol's series (Schwartzman 2009: 10).
    let bad = plan_fields(&review, "11", "naproxen");
    let response = app.post_form(&path, Some(&clinician), &as_refs(&bad)).await;
    assert_eq!(response.status(), 422);
    let body = response.text().await.unwrap();
    assert!(
        body.contains("must be a whole number from 1 to 10"),
        "{body}"
    );

    let v2 = plan_fields(&review, "6", "naproxen 250 mg twice a day");
    let response = app.post_form(&path, Some(&clinician), &as_refs(&v2)).await;
    assert_eq!(response.status(), 303);

    let versions = app.store.treatment_plan_versions(patient).await.unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        vec![2, 1]
    );
    let page = app.get(&path, Some(&nurse)).await.text().await.unwrap();
    assert!(page.contains("version 2"), "{page}");
    assert!(page.contains("naproxen 250 mg twice a day"));
    assert!(page.contains("What the patient will read"));
    assert!(page.contains("Your pain at 4 or lower"), "{page}");
    assert!(
        page.contains("Serlin RC et al. Pain 1995"),
        "the goal's source"
    );
    let old = app
        .get(&format!("/staff/plans/{}", versions[1].id), Some(&nurse))
        .await
        .text()
        .await
        .unwrap();
    assert!(old.contains("This is an earlier version"), "{old}");
    assert!(old.contains("ibuprofen 400 mg three times a day with food"));
    assert!(!old.contains("naproxen"));

    // An earlier version can be restored: the form starts from it.
    let restore = app
        .get(
            &format!("{path}/edit?from={}", versions[1].id),
            Some(&clinician),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(restore.contains("from version 1"), "{restore}");
    assert!(restore.contains("value=\"ibuprofen 400 mg three times a day with food\""));

    let letter = app
        .get(
            &format!("/staff/plans/{}/letter", versions[0].id),
            Some(&nurse),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(letter.contains("Respite Pain Clinic"), "letterhead");
    assert!(letter.contains("class=\"letter\""));
    assert!(letter.contains("6 sessions"), "{letter}");
}

both_engines!(a_records_request_asks_for_what_is_missing_and_is_tracked);
async fn a_records_request_asks_for_what_is_missing_and_is_tracked(engine: Engine) {
    let app = spawn(engine).await;
    let nurse = app.sign_in(Role::Nurse).await;
    let patient = new_patient(&app, "D-7").await;
    let path = format!("/staff/patients/{patient}/records-requests");
    let page = app.get(&path, Some(&nurse)).await.text().await.unwrap();
    // Referral letters stay current 12 months (screening.md default).
    let since = today() - 12.months();
    let line = format!(
        "The diagnosis letter / referral, dated {} or later.",
        since.strftime("%-d %B %Y")
    );
    assert!(page.contains(&line), "{page}");

    let response = app
        .post_form(
            &path,
            Some(&nurse),
            &[
                ("physician_name", "Dr. Helen Park"),
                ("physician_address", "12 Main St, Portland OR"),
                ("shown", &line),
                ("item", &line),
                ("other_items", "Your last clinic note"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303, "{engine:?}");
    let letter_path = response.headers()["location"].to_str().unwrap().to_owned();
    let letter = app
        .get(&letter_path, Some(&nurse))
        .await
        .text()
        .await
        .unwrap();
    assert!(letter.contains(&line) && letter.contains("Your last clinic note"));
    assert!(letter.contains("To Dr. Helen Park"));
    let list = app
        .get("/staff/worklist?list=records", Some(&nurse))
        .await
        .text()
        .await
        .unwrap();
    assert!(list.contains("D-7"), "{list}");

    let received = format!("{letter_path}/received");
    let response = app.post_form(&received, Some(&nurse), &[]).await;
    assert_eq!(response.status(), 303);
    let response = app.post_form(&received, Some(&nurse), &[]).await;
    assert_eq!(response.status(), 409);
    let request = &app.store.records_requests(patient).await.unwrap()[0];
    assert!(request.received && request.received_by.as_deref() == Some("Nurse"));
    let list = app
        .get("/staff/worklist?list=records", Some(&nurse))
        .await
        .text()
        .await
        .unwrap();
    assert!(!list.contains("D-7"));

    // Nothing ticked and nothing written: refused, naming the field.
    let response = app
        .post_form(&path, Some(&nurse), &[("physician_name", "Dr. Park")])
        .await;
    assert_eq!(response.status(), 422);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("tick at least one item or write what is needed"));
}

/// Fields for the route walk of `access.rs` (None for routes not of this area).
pub fn valid_fields_for(path: &str) -> Option<Vec<(&'static str, String)>> {
    let fields = match path {
        "/staff/patients/{id}/decision" => vec![
            ("outcome", "deferred".to_owned()),
            ("reason", "Route test: waiting for records".to_owned()),
        ],
        "/staff/patients/{id}/records-requests" => vec![
            ("physician_name", "Dr. Route Test".to_owned()),
            ("other_items", "The referral letter".to_owned()),
        ],
        "/staff/patients/{id}/plan" => {
            plan_fields(&(today() + 3.months()).to_string(), "1", "ibuprofen")
        }
        _ => return None,
    };
    Some(fields)
}

both_engines!(the_work_list_is_paged_and_links_each_chart);
async fn the_work_list_is_paged_and_links_each_chart(engine: Engine) {
    let app = spawn(engine).await;
    let nurse_id = staff_id(&app, Role::Nurse).await;
    let items = vec!["The referral letter".to_owned()];
    let mut patients = Vec::new();
    for n in 0..27 {
        let patient = new_patient(&app, &format!("W-{n:02}")).await;
        app.store
            .insert_records_request(
                patient,
                nurse_id,
                &respite_store::NewRecordsRequest {
                    physician_name: "Dr. Park",
                    physician_address: "",
                    items: &items,
                    note: "",
                },
                jiff::Timestamp::now() - (100 - n).hours(),
            )
            .await
            .unwrap();
        patients.push(patient);
    }
    let nurse = app.sign_in(Role::Nurse).await;
    let first = app
        .get("/staff/worklist?list=records", Some(&nurse))
        .await
        .text()
        .await
        .unwrap();
    assert!(first.contains("Page 1 of 2"), "{engine:?}");
    // Longest waiting first: W-00 on page 1, W-26 on page 2.
    assert!(first.contains(&format!("href=\"/staff/patients/{}\"", patients[0])));
    assert!(!first.contains("W-26"));
    assert_eq!(first.matches("<tr><td data-label=\"Patient\">").count(), 25);
    let second = app
        .get("/staff/worklist?list=records&page=2", Some(&nurse))
        .await
        .text()
        .await
        .unwrap();
    assert!(second.contains("Page 2 of 2") && second.contains("W-26"));
    assert_eq!(second.matches("<tr><td data-label=\"Patient\">").count(), 2);
    // A page number that is not one shows the first page.
    let odd = app
        .get("/staff/worklist?list=records&page=x", Some(&nurse))
        .await;
    assert_eq!(odd.status(), 200);
    // The front desk sees no work list (SPEC §2: no clinical notes).
    let front = app.sign_in(Role::FrontDesk).await;
    assert_eq!(app.get("/staff/worklist", Some(&front)).await.status(), 403);
}
