//! The clinical record: coded conditions, observations (scores and vital
//! signs) and infusion sessions. Only roles granted clinical records reach
//! these reads (the web layer's access table).

use jiff::Timestamp;

use crate::{from_millis, Store, StoreResult};

#[derive(Clone, Debug)]
pub struct ConditionRecord {
    pub id: i64,
    pub icd10cm_code: String,
    pub display: String,
    pub onset_date: String,
    /// The onset was estimated from a stated duration, not recorded.
    pub onset_estimated: bool,
    pub diagnosed_by: String,
    pub diagnosed_on: String,
}

#[derive(Clone, Debug)]
pub struct ObservationRecord {
    pub id: i64,
    pub observed_at: Timestamp,
    pub code_system: String,
    pub code: String,
    pub display: String,
    pub value: f64,
    pub unit: String,
}

#[derive(Clone, Debug)]
pub struct InfusionSessionRecord {
    pub id: i64,
    pub started_at: Timestamp,
    pub protocol: String,
    pub total_mg: f64,
    pub minutes: i64,
}

impl Store {
    pub async fn conditions(&self, patient_id: i64) -> StoreResult<Vec<ConditionRecord>> {
        type Row = (i64, String, String, String, i64, String, String);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, icd10cm_code, display, onset_date, onset_estimated, diagnosed_by, \
             diagnosed_on \
             FROM conditions WHERE patient_id = $1 ORDER BY onset_date, id",
        )
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, icd10cm_code, display, onset_date, estimated, diagnosed_by, diagnosed_on)| {
                    ConditionRecord {
                        id,
                        icd10cm_code,
                        display,
                        onset_date,
                        onset_estimated: estimated != 0,
                        diagnosed_by,
                        diagnosed_on,
                    }
                },
            )
            .collect())
    }

    /// The patient's observations, newest first.
    pub async fn observations(
        &self,
        patient_id: i64,
        limit: i64,
    ) -> StoreResult<Vec<ObservationRecord>> {
        let rows: Vec<(i64, i64, String, String, String, f64, String)> = sqlx::query_as(
            "SELECT id, observed_at, code_system, code, display, value, unit FROM observations \
             WHERE patient_id = $1 ORDER BY observed_at DESC, id DESC LIMIT $2",
        )
        .bind(patient_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, at, code_system, code, display, value, unit)| {
                Ok(ObservationRecord {
                    id,
                    observed_at: from_millis(at)?,
                    code_system,
                    code,
                    display,
                    value,
                    unit,
                })
            })
            .collect()
    }

    pub async fn infusion_sessions(
        &self,
        patient_id: i64,
    ) -> StoreResult<Vec<InfusionSessionRecord>> {
        let rows: Vec<(i64, i64, String, f64, i64)> = sqlx::query_as(
            "SELECT id, started_at, protocol, total_mg, minutes FROM infusion_sessions \
             WHERE patient_id = $1 ORDER BY started_at DESC",
        )
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, at, protocol, total_mg, minutes)| {
                Ok(InfusionSessionRecord {
                    id,
                    started_at: from_millis(at)?,
                    protocol,
                    total_mg,
                    minutes,
                })
            })
            .collect()
    }
}
