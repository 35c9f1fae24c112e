//! The demo's infusion day (SPEC §1 step 5): the patient decided eligible with
//! a plan (`decisions.rs`, Solberg) is weighed this morning by the nurse, so
//! that a visitor signed in as the clinician can order an infusion for her,
//! see the calculation and the PK preview, and have the nurse check it.

use jiff::ToSpan;

use super::chart::SpectrumPatient;
use super::DemoClock;
use crate::chart::{NewVitals, VitalSign};
use crate::{Store, StoreError, StoreResult};

/// Weighs the patient ready to order; returns what the summary shows.
pub(super) async fn seed_orders(
    store: &Store,
    clock: &DemoClock,
    decided: &[SpectrumPatient],
) -> StoreResult<Vec<SpectrumPatient>> {
    let Some(patient) = decided.iter().find(|p| p.name.ends_with("Solberg")) else {
        return Ok(Vec::new());
    };
    let ids: Option<(i64,)> = sqlx::query_as("SELECT id FROM patients WHERE mrn = $1")
        .bind(&patient.mrn)
        .fetch_optional(&store.pool)
        .await?;
    let nurse: Option<(i64,)> =
        sqlx::query_as("SELECT id FROM staff_users WHERE role = 'nurse' ORDER BY id LIMIT 1")
            .fetch_optional(&store.pool)
            .await?;
    let (Some((id,)), Some((nurse,))) = (ids, nurse) else {
        return Ok(Vec::new());
    };
    // Half an hour before the demo starts: today's weight (the clinic asks
    // for one measured within a day).
    let weighed = clock
        .now
        .checked_sub(30.minutes())
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    store
        .add_vitals(
            id,
            &NewVitals {
                observed_at: weighed,
                values: vec![(VitalSign::BodyWeight, 68.4)],
            },
            nurse,
            weighed,
        )
        .await?;
    Ok(vec![SpectrumPatient {
        mrn: patient.mrn.clone(),
        name: patient.name.clone(),
        demonstrates: "eligible, current, planned and weighed this morning: ready for an \
                       infusion order (Order tab)",
    }])
}
