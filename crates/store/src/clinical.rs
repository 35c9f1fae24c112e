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

#[derive(sqlx::FromRow)]
struct ObservationRow {
    id: i64,
    observed_at: i64,
    code_system: String,
    code: String,
    display: String,
    value: f64,
    unit: String,
}

#[derive(sqlx::FromRow)]
struct InfusionSessionRow {
    id: i64,
    started_at: i64,
    protocol: String,
    total_mg: f64,
    minutes: i64,
    documented: i64,
}

#[derive(sqlx::FromRow)]
struct ConditionRow {
    id: i64,
    icd10cm_code: String,
    display: String,
    onset_date: String,
    onset_estimated: i64,
    diagnosed_by: String,
    diagnosed_on: String,
}

#[derive(Clone, Debug)]
pub struct InfusionSessionRecord {
    pub id: i64,
    pub started_at: Timestamp,
    pub protocol: String,
    pub total_mg: f64,
    pub minutes: i64,
    /// Documented step by step (a session record with its timeline), not
    /// only a total.
    pub documented: bool,
}

impl Store {
    pub async fn conditions(&self, patient_id: i64) -> StoreResult<Vec<ConditionRecord>> {
        let rows: Vec<ConditionRow> = sqlx::query_as(
            "SELECT id, icd10cm_code, display, onset_date, onset_estimated, diagnosed_by, \
             diagnosed_on \
             FROM conditions WHERE patient_id = $1 AND entered_in_error_at IS NULL \
             ORDER BY onset_date, id",
        )
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| ConditionRecord {
                id: row.id,
                icd10cm_code: row.icd10cm_code,
                display: row.display,
                onset_date: row.onset_date,
                onset_estimated: row.onset_estimated != 0,
                diagnosed_by: row.diagnosed_by,
                diagnosed_on: row.diagnosed_on,
            })
            .collect())
    }

    /// The patient's observations, newest first.
    pub async fn observations(
        &self,
        patient_id: i64,
        limit: i64,
    ) -> StoreResult<Vec<ObservationRecord>> {
        let rows: Vec<ObservationRow> = sqlx::query_as(
            "SELECT id, observed_at, code_system, code, display, value, unit FROM observations \
             WHERE patient_id = $1 ORDER BY observed_at DESC, id DESC LIMIT $2",
        )
        .bind(patient_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| {
                Ok(ObservationRecord {
                    id: row.id,
                    observed_at: from_millis(row.observed_at)?,
                    code_system: row.code_system,
                    code: row.code,
                    display: row.display,
                    value: row.value,
                    unit: row.unit,
                })
            })
            .collect()
    }

    pub async fn infusion_sessions(
        &self,
        patient_id: i64,
    ) -> StoreResult<Vec<InfusionSessionRecord>> {
        let rows: Vec<InfusionSessionRow> = sqlx::query_as(
            "SELECT id, started_at, protocol, total_mg, minutes, \
             CASE WHEN state IS NULL THEN 0 ELSE 1 END AS documented FROM infusion_sessions \
             WHERE patient_id = $1 ORDER BY started_at DESC",
        )
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| {
                Ok(InfusionSessionRecord {
                    id: row.id,
                    started_at: from_millis(row.started_at)?,
                    protocol: row.protocol,
                    total_mg: row.total_mg,
                    minutes: row.minutes,
                    documented: row.documented != 0,
                })
            })
            .collect()
    }
}
