//! The demo's decisions, records requests and plans (SPEC §1 steps 3–4), on
//! both engines: each demo patient shows what the start-up message says.

use jiff::tz::TimeZone;
use jiff::Timestamp;
use respite_clinical::screening::decision::ClinicianOutcome;
use respite_clinical::screening::Contraindication;
use respite_domain::access::Role;
use respite_store::{DatabaseUrl, PoolSettings, Store};

use crate::schema_parity::{postgres_admin, Folder, PostgresDatabase};

#[tokio::test]
async fn the_demo_decisions_requests_and_plans_show_what_they_say() {
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
                patients: 3,
                inquiries: 2,
            },
            &staff[..1],
        )
        .await
        .unwrap();
        let zone = TimeZone::get(respite_store::demo::DEMO_CLINIC_TIME_ZONE).unwrap();
        let today = now.to_zoned(zone.clone()).date();
        let id = |name: &str| {
            let mrn = summary
                .decisions
                .iter()
                .find(|p| p.name == name)
                .unwrap_or_else(|| panic!("{name} in {:?}", summary.decisions))
                .mrn
                .clone();
            let store = store.clone();
            async move { store.search_patients(&mrn, 1).await.unwrap()[0].id }
        };
        let decision = |patient: i64| {
            let store = store.clone();
            let zone = zone.clone();
            async move {
                store
                    .current_screening_decision(patient, today, &zone)
                    .await
                    .unwrap()
                    .unwrap()
            }
        };
        let brandt = decision(id("Daniel Brandt").await).await;
        assert_eq!(brandt.decision.outcome, ClinicianOutcome::NotEligible);
        assert!(brandt.current && !brandt.allows_treatment(), "{url:?}");
        let solberg_id = id("Ingrid Solberg").await;
        let solberg = decision(solberg_id).await;
        assert!(solberg.allows_treatment());
        assert_eq!(
            solberg.decision.overrides[0].contraindication,
            Contraindication::ElevatedIntraocularPressure
        );
        let lindqvist = decision(id("Marcus Lindqvist").await).await;
        assert_eq!(lindqvist.decision.outcome, ClinicianOutcome::Eligible);
        assert!(
            !lindqvist.current && !lindqvist.allows_treatment(),
            "out of date"
        );

        let reyes = store
            .records_requests(id("Tomas Reyes").await)
            .await
            .unwrap();
        assert!(!reyes[0].received);
        let varga = store
            .records_requests(id("Helen Varga").await)
            .await
            .unwrap();
        assert!(varga[0].received);
        assert_eq!(store.awaiting_records(25, 0).await.unwrap().total, 1);

        let versions = store.treatment_plan_versions(solberg_id).await.unwrap();
        assert_eq!(versions.len(), 2);
        let due = store.plans_due_for_review(today, 25, 0).await.unwrap();
        assert_eq!(due.total, 1, "{url:?}");
        let decided: Vec<i64> = store
            .patients_with_final_decisions()
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.patient_id)
            .collect();
        assert_eq!(decided.len(), 3, "Brandt, Solberg, Lindqvist");
        let awaiting = store.patients_awaiting_decision().await.unwrap();
        assert!(awaiting.iter().any(|e| e.family_name == "Okafor"));
        assert!(awaiting.iter().any(|e| e.family_name == "Varga"));
        assert!(!awaiting.iter().any(|e| e.family_name == "Reyes"));
        store.close().await;
    }
}
