//! The demo's numbers are believable: a patient's weight stays within a
//! kilogram across a series, and each session's dose is that day's weight
//! times its protocol's mg/kg (shared/clinical/dosing.md), worked out here
//! from the published regimens, not read back from the calculator.

use std::collections::HashMap;

use crate::support::*;

both_engines!(demo_weights_hold_steady_and_doses_follow_from_weight_and_protocol);
async fn demo_weights_hold_steady_and_doses_follow_from_weight_and_protocol(engine: Engine) {
    let app = spawn(engine).await;
    let staff: Vec<i64> = app
        .store
        .staff_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.id)
        .collect();
    let summary = respite_store::demo::seed(
        &app.store,
        "2026-11-27T18:00Z".parse().unwrap(),
        respite_store::demo::DemoSize {
            patients: 48,
            inquiries: 0,
        },
        &staff,
    )
    .await
    .unwrap();
    assert!(summary.infusion_sessions >= 60, "{summary:?}");
    assert_eq!(summary.documented_sessions, summary.infusion_sessions);
    let mut raw = app.raw().await;
    // The dose as ordered (each past session is documented: its order's
    // total and minutes); what the pump then delivered may be less (a rate
    // lowered, an early stop: the sessions module checks it).
    let sessions: Vec<(i64, i64, String, f64, i64)> = sqlx::query_as(
        "SELECT s.patient_id, s.started_at, s.protocol, o.total_mg, \
         CAST(ROUND(o.total_mg * 60.0 / o.max_rate_mg_h) AS BIGINT) \
         FROM infusion_sessions s JOIN infusion_orders o ON o.id = s.order_id",
    )
    .fetch_all(&mut raw)
    .await
    .unwrap();
    let weights: HashMap<(i64, i64), f64> = sqlx::query_as::<_, (i64, i64, f64)>(
        "SELECT patient_id, observed_at, value FROM observations WHERE code = '29463-7'",
    )
    .fetch_all(&mut raw)
    .await
    .unwrap()
    .into_iter()
    .map(|(patient, at, kg)| ((patient, at), kg))
    .collect();
    let crps_patients: Vec<(i64,)> = sqlx::query_as(
        "SELECT DISTINCT patient_id FROM conditions \
         WHERE icd10cm_code LIKE 'G90.5%' OR icd10cm_code LIKE 'G56.4%'",
    )
    .fetch_all(&mut raw)
    .await
    .unwrap();

    let mut by_patient: HashMap<i64, Vec<f64>> = HashMap::new();
    let mut protocols = std::collections::BTreeSet::new();
    for (patient, at, protocol, total_mg, minutes) in &sessions {
        let kg = weights[&(*patient, *at)];
        by_patient.entry(*patient).or_default().push(kg);
        protocols.insert(protocol.clone());
        // The regimens as published (dosing.md), the pump's 0.1 mL/h at
        // 10 mg/mL being 1 mg/h: the total may differ by half a step an
        // hour.
        let (expected, hours) = if protocol.contains("Schwartzman") {
            // 0.35 mg/kg/h, never above 25 mg/h, 4 h (Schwartzman 2009).
            assert!(
                crps_patients.contains(&(*patient,)),
                "CRPS protocol without CRPS"
            );
            ((0.35 * kg).min(25.0) * 4.0, 4.0)
        } else {
            // The demo clinic's series: 0.5 mg/kg/h for 3.5 h.
            (0.5 * kg * 3.5, 3.5)
        };
        assert_eq!(*minutes as f64, hours * 60.0, "{protocol}");
        assert!(
            (total_mg - expected).abs() <= 0.5 * hours + 1e-9,
            "{engine:?}: {protocol} at {kg} kg gave {total_mg} mg, expected {expected:.1}"
        );
        assert!(
            *total_mg <= 200.0 && *total_mg / kg <= 2.0,
            "a ceiling crossed"
        );
    }
    assert_eq!(protocols.len(), 2, "{protocols:?}");
    for (patient, kgs) in by_patient {
        let low = kgs.iter().cloned().fold(f64::MAX, f64::min);
        let high = kgs.iter().cloned().fold(f64::MIN, f64::max);
        assert!(
            high - low <= 1.0 && 45.0 <= low && high <= 100.0,
            "{engine:?}: patient {patient} weighed {kgs:?}"
        );
    }
}
