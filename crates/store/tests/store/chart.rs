//! The chart entries round-trip on both engines, and gather into the screening
//! facts with the entry each fact came from.

use jiff::civil::date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use respite_clinical::screening::{
    screen, Contraindication, ContraindicationTier, Decision, FreshnessWindow, PreInfusionRisks,
    Qualification, RecordKind, TreatmentClass,
};
use respite_domain::access::Role;
use respite_store::chart::{
    ChartList, DocumentKind, MediaType, NewAllergy, NewContraindicationReview, NewDocument,
    NewMedication, NewPreInfusionRisks, NewProblem, NewVitals, ScreeningSettingsUpdate,
    StopReasonCode, VitalSign,
};
use respite_store::{DatabaseUrl, EntryKind, NewPatient, PoolSettings, Store, StoreError};

use crate::schema_parity::{postgres_admin, Folder, PostgresDatabase};

#[tokio::test]
async fn chart_entries_gather_into_screening_facts_on_both_engines() {
    let folder = Folder::new();
    let mut urls = vec![DatabaseUrl::sqlite_file(&folder.0.join("chart.sqlite"))];
    let database = match postgres_admin() {
        Some(admin) => Some(PostgresDatabase::create(&admin).await),
        None => None,
    };
    if let Some(database) = &database {
        urls.push(database.url().parse().unwrap());
    }
    for url in &urls {
        let store = Store::connect(url, PoolSettings::default()).await.unwrap();
        store.migrate(jiff::Timestamp::now()).await.unwrap();
        round_trip(&store).await;
        store.close().await;
    }
}

async fn round_trip(store: &Store) {
    let now: Timestamp = "2026-05-27T16:00:00Z".parse().unwrap();
    let today = date(2026, 5, 27);
    let zone = TimeZone::get("America/Los_Angeles").unwrap();
    let nurse = store
        .create_staff_user("nurse@example.org", "Nora Nurse", Role::Nurse, "x", now)
        .await
        .unwrap();
    let patient = store
        .insert_patient(
            &NewPatient {
                mrn: "RSP-T1",
                given_name: "Test",
                family_name: "Person",
                birth_date: date(1980, 1, 2),
                sex: "female",
                phone_e164: None,
                email: None,
                time_zone: "America/Los_Angeles",
            },
            now,
        )
        .await
        .unwrap();

    // A code outside the table is refused by name.
    let problem = NewProblem {
        icd10cm_code: "Z99.99",
        onset_date: date(2025, 1, 10),
        onset_estimated: false,
        diagnosed_by: "Dr. Ada Osei",
        qualification: Qualification::Physician,
        diagnosed_on: date(2025, 6, 1),
        recorded_on: today,
    };
    assert!(matches!(
        store.add_problem(patient, &problem, nurse.id, now).await,
        Err(StoreError::UnknownConditionCode(code)) if code == "Z99.99"
    ));
    let problem_id = store
        .add_problem(
            patient,
            &NewProblem {
                icd10cm_code: "g90.521",
                ..problem
            },
            nurse.id,
            now,
        )
        .await
        .unwrap();

    let gabapentin = store
        .add_medication(
            patient,
            &NewMedication {
                name: "Gabapentin 300 mg capsule",
                rxnorm_code: Some("25480"),
                dose: "300 mg three times daily",
                started_on: Some(date(2025, 2, 1)),
                stopped_on: Some(date(2025, 5, 2)),
                tried_for_days: None,
                treatment_class: Some(TreatmentClass::Gabapentinoid),
                stop_reason: Some(StopReasonCode::Ineffective),
                stop_reason_note: "",
                recorded_on: today,
            },
            nurse.id,
            now,
        )
        .await
        .unwrap();
    let lorazepam = store
        .add_medication(
            patient,
            &NewMedication {
                name: "Lorazepam 1 mg tablet",
                rxnorm_code: Some("6470"),
                dose: "1 mg at night",
                started_on: Some(date(2026, 1, 5)),
                stopped_on: None,
                tried_for_days: None,
                treatment_class: None,
                stop_reason: None,
                stop_reason_note: "",
                recorded_on: today,
            },
            nurse.id,
            now,
        )
        .await
        .unwrap();
    store
        .add_allergy(
            patient,
            &NewAllergy {
                substance: "Ketamine",
                rxnorm_code: Some("238082"),
                kind: "allergy",
                category: "medication",
                criticality: "high",
                reaction: "anaphylaxis",
                recorded_on: today,
            },
            nurse.id,
            now,
        )
        .await
        .unwrap();
    store
        .review_list(patient, ChartList::Problems, today, nurse.id, now)
        .await
        .unwrap();
    store
        .add_vitals(
            patient,
            &NewVitals {
                observed_at: now,
                values: vec![
                    (VitalSign::Systolic, 124.0),
                    (VitalSign::Diastolic, 78.0),
                    (VitalSign::BodyWeight, 70.5),
                ],
            },
            nurse.id,
            now,
        )
        .await
        .unwrap();
    store
        .add_contraindication_review(
            patient,
            &NewContraindicationReview {
                reviewed_on: today,
                present: vec![Contraindication::Pregnancy],
                note: "",
            },
            nurse.id,
            now,
        )
        .await
        .unwrap();
    store
        .add_pre_infusion_risks(
            patient,
            &NewPreInfusionRisks {
                assessed_on: today,
                risks: PreInfusionRisks::default(),
                note: "",
            },
            nurse.id,
            now,
        )
        .await
        .unwrap();
    let pdf = b"%PDF-1.4\n%test\n".to_vec();
    let document = store
        .add_document(
            patient,
            &NewDocument {
                kind: DocumentKind::ReferralLetter,
                document_date: date(2026, 5, 20),
                title: "Referral",
                author: "Dr. Ada Osei",
                file_name: "referral.pdf",
                media_type: MediaType::Pdf,
                content: &pdf,
            },
            nurse.id,
            now,
        )
        .await
        .unwrap();
    let stored = store
        .chart_document(patient, document)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.content, pdf);
    assert_eq!(stored.record.entered.by.as_deref(), Some("Nora Nurse"));
    assert!(store
        .chart_document(patient + 1, document)
        .await
        .unwrap()
        .is_none());

    let chart = store.screening_facts(patient, today, &zone).await.unwrap();
    let facts = &chart.facts;
    assert_eq!(facts.pain_onset, Some(date(2025, 1, 10)));
    assert_eq!(chart.evidence.pain_onset.map(|e| e.id), Some(problem_id));
    assert_eq!(facts.diagnoses.len(), 1);
    assert_eq!(facts.diagnoses[0].code, "G90.521");
    assert_eq!(facts.conventional_treatments.len(), 1);
    assert_eq!(facts.conventional_treatments[0].duration_days, Some(90));
    assert_eq!(chart.evidence.conventional_treatments[0].id, gabapentin);
    assert_eq!(facts.medications.len(), 1, "only the current one");
    assert_eq!(chart.evidence.medications[0].id, lorazepam);
    assert_eq!(
        facts.allergies[0].rxnorm_ingredient.as_deref(),
        Some("6130"),
        "a product code is mapped to its ingredient"
    );
    let (letter, from) = chart.record(RecordKind::DiagnosisLetter).unwrap();
    assert_eq!(letter.dated, date(2026, 5, 20));
    assert_eq!((from.kind, from.id), (EntryKind::Document, document));
    let (vitals, _) = chart.record(RecordKind::VitalSigns).unwrap();
    assert_eq!(
        vitals.dated, today,
        "16:00 UTC is the morning in Los Angeles"
    );
    assert!(chart.record(RecordKind::ProblemList).is_some());

    // The ketamine allergy is absolute, whatever else.
    let settings = store.screening_settings().await.unwrap();
    assert_eq!(settings.max_upload_bytes, 10 * 1024 * 1024);
    let result = screen(facts, &settings.screening, today);
    assert_eq!(result.decision, Decision::NotEligible);

    // Settings change and read back.
    store
        .update_screening_settings(
            &ScreeningSettingsUpdate {
                minimum_conventional_classes: 3,
                max_upload_bytes: 5 * 1024 * 1024,
                windows: vec![(RecordKind::VitalSigns, FreshnessWindow::Days(14))],
                tiers: vec![(
                    Contraindication::Pregnancy,
                    ContraindicationTier::ReferForClinicianReview,
                )],
            },
            nurse.id,
            now,
        )
        .await
        .unwrap();
    let settings = store.screening_settings().await.unwrap();
    assert_eq!(settings.screening.minimum_conventional_classes, 3);
    assert_eq!(
        settings.screening.record_windows.vital_signs,
        FreshnessWindow::Days(14)
    );
    assert_eq!(
        settings
            .screening
            .contraindication_tiers
            .tier(Contraindication::Pregnancy),
        ContraindicationTier::ReferForClinicianReview
    );
    assert_eq!(settings.updated_by.as_deref(), Some("Nora Nurse"));

    // The fingerprint moves when a medication stops.
    let before = chart.fingerprint();
    assert!(store
        .stop_medication(patient, lorazepam, today, None, "")
        .await
        .unwrap());
    let after = store.screening_facts(patient, today, &zone).await.unwrap();
    assert_ne!(after.fingerprint(), before);
}

/// The demo's screening spectrum shows what each chart says it shows.
#[tokio::test]
async fn the_demo_spectrum_screens_as_each_chart_says() {
    let folder = Folder::new();
    let mut urls = vec![DatabaseUrl::sqlite_file(&folder.0.join("demo.sqlite"))];
    let database = match postgres_admin() {
        Some(admin) => Some(PostgresDatabase::create(&admin).await),
        None => None,
    };
    if let Some(database) = &database {
        urls.push(database.url().parse().unwrap());
    }
    for url in &urls {
        let store = Store::connect(url, PoolSettings::default()).await.unwrap();
        store.migrate(jiff::Timestamp::now()).await.unwrap();
        let now: Timestamp = "2026-11-27T18:00:00Z".parse().unwrap();
        let mut staff = Vec::new();
        for (email, role) in [
            ("clinician@example.org", Role::Clinician),
            ("nurse@example.org", Role::Nurse),
        ] {
            staff.push(
                store
                    .create_staff_user(email, email, role, "x", now)
                    .await
                    .unwrap()
                    .id,
            );
        }
        let summary = respite_store::demo::seed(
            &store,
            now,
            respite_store::demo::DemoSize {
                patients: 2,
                inquiries: 2,
            },
            &staff[..1],
        )
        .await
        .unwrap();
        let zone = TimeZone::get(respite_store::demo::DEMO_CLINIC_TIME_ZONE).unwrap();
        let today = now.to_zoned(zone.clone()).date();
        let settings = store.screening_settings().await.unwrap();
        let expected = [
            ("Grace Okafor", Decision::Eligible),
            ("Daniel Brandt", Decision::NotEligible),
            ("Leah Marsh", Decision::NotEligibleUnlessOverridden),
            ("Walter Haines", Decision::NotEligibleUnlessOverridden),
            ("Ingrid Solberg", Decision::ReferForClinicianReview),
            ("Tomas Reyes", Decision::NeedsInformation),
            ("Helen Varga", Decision::NeedsInformation),
            ("Marcus Lindqvist", Decision::ReferForClinicianReview),
            ("Aisha Rahman", Decision::NotEligible),
        ];
        assert_eq!(summary.screening_spectrum.len(), expected.len());
        let patients = store.search_patients("", 1000).await.unwrap();
        for (name, decision) in expected {
            let spectrum = summary
                .screening_spectrum
                .iter()
                .find(|p| p.name == name)
                .unwrap();
            let patient = patients.iter().find(|p| p.mrn == spectrum.mrn).unwrap();
            let chart = store
                .screening_facts(patient.id, today, &zone)
                .await
                .unwrap();
            let result = screen(&chart.facts, &settings.screening, today);
            assert_eq!(
                result.decision,
                decision,
                "{name}: {}\n{}",
                spectrum.demonstrates,
                result.explanation()
            );
            if name == "Marcus Lindqvist" {
                assert_eq!(
                    result.interaction_flags.len(),
                    3,
                    "{}",
                    result.explanation()
                );
            }
            if name == "Helen Varga" {
                assert!(result.missing().iter().any(|m| matches!(
                    m,
                    respite_clinical::screening::MissingItem::StaleRecord {
                        kind: RecordKind::DiagnosisLetter,
                        ..
                    }
                )));
            }
        }
        store.close().await;
    }
}
