//! The patient directory's search.

use respite_domain::Role;

use crate::support::*;

both_engines!(patient_search_finds_by_name_mrn_and_phone_on_both_engines);
async fn patient_search_finds_by_name_mrn_and_phone_on_both_engines(engine: Engine) {
    let app = spawn(engine).await;
    for (mrn, given, family, phone) in [
        ("A-1", "Ana", "López", "+15037253000"),
        ("A-2", "Ben", "Okafor", "+15415550100"),
        ("A-3", "Cleo", "Lopez-Smith", "+12065550101"),
    ] {
        app.store
            .insert_patient(
                &respite_store::NewPatient {
                    mrn,
                    given_name: given,
                    family_name: family,
                    birth_date: jiff::civil::date(1980, 5, 5),
                    sex: "female",
                    phone_e164: Some(phone),
                    email: None,
                    time_zone: "America/Chicago",
                },
                jiff::Timestamp::now(),
            )
            .await
            .unwrap();
    }
    let names = |query: &'static str| {
        let store = app.store.clone();
        async move {
            store
                .search_patients(query, 10)
                .await
                .unwrap()
                .into_iter()
                .map(|p| p.mrn)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(names("okafor").await, ["A-2"], "{engine:?}");
    assert_eq!(
        names("LOPEZ").await,
        ["A-3"],
        "{engine:?}: case-insensitive"
    );
    assert_eq!(names("a-1").await, ["A-1"], "{engine:?}: by MRN");
    assert_eq!(names("206555").await, ["A-3"], "{engine:?}: by phone");
    assert!(
        names("%").await.is_empty(),
        "{engine:?}: LIKE wildcards are literal"
    );
    let token = app.sign_in(Role::FrontDesk).await;
    let page = app
        .get("/staff/patients?q=okafor", Some(&token))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Okafor, Ben") && !page.contains("López"));
    // Front desk sees the directory but no link into the chart.
    assert!(
        !page.contains("/staff/patients/"),
        "front desk must not be offered charts"
    );
}
