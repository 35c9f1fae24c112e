//! The clinician's screening decisions and the records requests sent to the
//! diagnosing physician (SPEC §1 step 3). A decision is stored only as a
//! [`CheckedDecision`], which `respite_clinical` alone makes: a decision that
//! overrides the absolute tier cannot reach the database. Each write commits
//! with its audit entry (`Store::commit`).

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use respite_clinical::screening::decision::{CheckedDecision, ClinicianOutcome};
use respite_clinical::screening::{Contraindication, ContraindicationTier};

use crate::chart::{contraindication_code, contraindication_from_code};
use crate::{from_millis, to_millis, Store, StoreError, StoreResult};

/// A signed decision as pages show it.
#[derive(Clone, Debug)]
pub struct ScreeningDecisionRecord {
    pub id: i64,
    pub patient_id: i64,
    pub outcome: ClinicianOutcome,
    pub reason: String,
    /// The engine's verdict when the clinician decided (its code, e.g.
    /// `refer-for-clinician-review`).
    pub engine_verdict: String,
    /// The screening facts' fingerprint when the clinician decided.
    pub facts_fingerprint: String,
    pub signed_by: String,
    pub signed_at: Timestamp,
    pub overrides: Vec<OverrideRecord>,
}

/// A contraindication the decision overrode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverrideRecord {
    pub contraindication: Contraindication,
    /// Its tier when the clinician overrode it.
    pub tier: ContraindicationTier,
    pub reason: String,
}

/// What is signed besides the decision itself: the screening it answers.
#[derive(Clone, Copy, Debug)]
pub struct DecisionContext<'a> {
    pub engine_verdict: &'a str,
    pub facts_fingerprint: &'a str,
}

/// The decision in force and whether the chart's facts are still those it
/// was made on: the infusion order refuses unless it is eligible and current.
#[derive(Clone, Debug)]
pub struct CurrentDecision {
    pub decision: ScreeningDecisionRecord,
    pub current: bool,
}

impl CurrentDecision {
    /// Whether an infusion may be ordered on this decision.
    pub fn allows_treatment(&self) -> bool {
        self.current && self.decision.outcome == ClinicianOutcome::Eligible
    }
}

/// A records request as pages show it.
#[derive(Clone, Debug)]
pub struct RecordsRequestRecord {
    pub id: i64,
    pub patient_id: i64,
    pub physician_name: String,
    pub physician_address: String,
    /// The letter's lines, as sent.
    pub items: Vec<String>,
    pub note: String,
    pub received: bool,
    pub requested_by: String,
    pub requested_at: Timestamp,
    pub received_by: Option<String>,
    pub received_at: Option<Timestamp>,
}

/// A records request to store.
#[derive(Clone, Debug)]
pub struct NewRecordsRequest<'a> {
    pub physician_name: &'a str,
    pub physician_address: &'a str,
    pub items: &'a [String],
    pub note: &'a str,
}

#[derive(sqlx::FromRow)]
struct DecisionRow {
    id: i64,
    patient_id: i64,
    outcome: String,
    reason: String,
    engine_verdict: String,
    facts_fingerprint: String,
    signed_by: String,
    signed_at: i64,
}

#[derive(sqlx::FromRow)]
struct OverrideRow {
    decision_id: i64,
    contraindication: String,
    tier: String,
    reason: String,
}

#[derive(sqlx::FromRow)]
struct RequestRow {
    id: i64,
    patient_id: i64,
    physician_name: String,
    physician_address: String,
    items: String,
    note: String,
    status: String,
    requested_by: String,
    requested_at: i64,
    received_by: Option<String>,
    received_at: Option<i64>,
}

impl RequestRow {
    fn parse(self) -> StoreResult<RecordsRequestRecord> {
        Ok(RecordsRequestRecord {
            id: self.id,
            patient_id: self.patient_id,
            physician_name: self.physician_name,
            physician_address: self.physician_address,
            items: self
                .items
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_owned)
                .collect(),
            note: self.note,
            received: self.status == "received",
            requested_by: self.requested_by,
            requested_at: from_millis(self.requested_at)?,
            received_by: self.received_by,
            received_at: self.received_at.map(from_millis).transpose()?,
        })
    }
}

const DECISION_COLUMNS: &str = "d.id, d.patient_id, d.outcome, d.reason, d.engine_verdict, \
     d.facts_fingerprint, u.display_name AS signed_by, d.signed_at \
     FROM screening_decisions d JOIN staff_users u ON u.id = d.signed_by";

const REQUEST_COLUMNS: &str = "r.id, r.patient_id, r.physician_name, r.physician_address, \
     r.items, r.note, r.status, q.display_name AS requested_by, r.requested_at, \
     c.display_name AS received_by, r.received_at \
     FROM records_requests r JOIN staff_users q ON q.id = r.requested_by \
     LEFT JOIN staff_users c ON c.id = r.received_by";

impl Store {
    /// Stores a signed decision and its overrides, with the audit entry of
    /// the request (naming the patient). `Ok(None)` when there is no such
    /// patient.
    pub async fn insert_screening_decision(
        &self,
        patient_id: i64,
        signed_by: i64,
        decision: &CheckedDecision,
        context: &DecisionContext<'_>,
        at: Timestamp,
    ) -> StoreResult<Option<i64>> {
        let mut tx = self.begin_write().await?;
        let inserted: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO screening_decisions (patient_id, outcome, reason, engine_verdict, \
             facts_fingerprint, signed_by, signed_at) \
             SELECT id, $1, $2, $3, $4, $5, $6 FROM patients WHERE id = $7 RETURNING id",
        )
        .bind(decision.outcome().code())
        .bind(decision.reason())
        .bind(context.engine_verdict)
        .bind(context.facts_fingerprint)
        .bind(signed_by)
        .bind(to_millis(at))
        .bind(patient_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((id,)) = inserted else {
            tx.rollback().await?;
            return Ok(None);
        };
        for o in decision.overrides() {
            sqlx::query(
                "INSERT INTO screening_decision_overrides (decision_id, contraindication, tier, \
                 reason) VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(contraindication_code(o.contraindication))
            .bind(o.tier.code())
            .bind(&o.reason)
            .execute(&mut *tx)
            .await?;
        }
        self.commit(tx, Some(&patient_id.to_string())).await?;
        Ok(Some(id))
    }

    /// The patient's decisions, newest first.
    pub async fn screening_decisions(
        &self,
        patient_id: i64,
    ) -> StoreResult<Vec<ScreeningDecisionRecord>> {
        let rows: Vec<DecisionRow> = sqlx::query_as(&format!(
            "SELECT {DECISION_COLUMNS} WHERE d.patient_id = $1 ORDER BY d.signed_at DESC, d.id DESC"
        ))
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await?;
        let overrides: Vec<OverrideRow> = sqlx::query_as(
            "SELECT o.decision_id, o.contraindication, o.tier, o.reason \
             FROM screening_decision_overrides o \
             JOIN screening_decisions d ON d.id = o.decision_id \
             WHERE d.patient_id = $1 ORDER BY o.id",
        )
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| {
                let outcome = ClinicianOutcome::from_code(&row.outcome).ok_or_else(|| {
                    StoreError::Corrupt(format!("decision {} outcome {}", row.id, row.outcome))
                })?;
                Ok(ScreeningDecisionRecord {
                    id: row.id,
                    patient_id: row.patient_id,
                    outcome,
                    reason: row.reason,
                    engine_verdict: row.engine_verdict,
                    facts_fingerprint: row.facts_fingerprint,
                    signed_by: row.signed_by,
                    signed_at: from_millis(row.signed_at)?,
                    overrides: overrides
                        .iter()
                        .filter(|o| o.decision_id == row.id)
                        .map(|o| {
                            let corrupt = || {
                                StoreError::Corrupt(format!(
                                    "decision {} override {} {}",
                                    row.id, o.contraindication, o.tier
                                ))
                            };
                            Ok(OverrideRecord {
                                contraindication: contraindication_from_code(&o.contraindication)
                                    .ok_or_else(corrupt)?,
                                tier: ContraindicationTier::from_code(&o.tier)
                                    .ok_or_else(corrupt)?,
                                reason: o.reason.clone(),
                            })
                        })
                        .collect::<StoreResult<_>>()?,
                })
            })
            .collect()
    }

    /// The decision in force (the newest), without checking it against the
    /// chart; see `current_screening_decision` for that.
    pub async fn latest_screening_decision(
        &self,
        patient_id: i64,
    ) -> StoreResult<Option<ScreeningDecisionRecord>> {
        Ok(self
            .screening_decisions(patient_id)
            .await?
            .into_iter()
            .next())
    }

    /// The decision in force for `patient_id` and whether it is current: made
    /// on the same screening facts (by fingerprint) as the chart holds on
    /// `today` (instants dated in `zone`, the clinic's). The infusion order
    /// refuses unless [`CurrentDecision::allows_treatment`]. `None` when no
    /// decision was signed.
    pub async fn current_screening_decision(
        &self,
        patient_id: i64,
        today: Date,
        zone: &TimeZone,
    ) -> StoreResult<Option<CurrentDecision>> {
        let Some(decision) = self.latest_screening_decision(patient_id).await? else {
            return Ok(None);
        };
        let facts = self.screening_facts(patient_id, today, zone).await?;
        let current = facts.fingerprint() == decision.facts_fingerprint;
        Ok(Some(CurrentDecision { decision, current }))
    }

    /// Stores a records request (status requested), with the audit entry of
    /// the request (naming the patient). `Ok(None)` when there is no such
    /// patient.
    pub async fn insert_records_request(
        &self,
        patient_id: i64,
        requested_by: i64,
        request: &NewRecordsRequest<'_>,
        at: Timestamp,
    ) -> StoreResult<Option<i64>> {
        let mut tx = self.begin_write().await?;
        let inserted: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO records_requests (patient_id, physician_name, physician_address, items, \
             note, status, requested_by, requested_at) \
             SELECT id, $1, $2, $3, $4, 'requested', $5, $6 FROM patients WHERE id = $7 \
             RETURNING id",
        )
        .bind(request.physician_name)
        .bind(request.physician_address)
        .bind(request.items.join("\n"))
        .bind(request.note)
        .bind(requested_by)
        .bind(to_millis(at))
        .bind(patient_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((id,)) = inserted else {
            tx.rollback().await?;
            return Ok(None);
        };
        self.commit(tx, Some(&patient_id.to_string())).await?;
        Ok(Some(id))
    }

    /// The patient's records requests, newest first.
    pub async fn records_requests(
        &self,
        patient_id: i64,
    ) -> StoreResult<Vec<RecordsRequestRecord>> {
        let rows: Vec<RequestRow> = sqlx::query_as(&format!(
            "SELECT {REQUEST_COLUMNS} WHERE r.patient_id = $1 ORDER BY r.requested_at DESC, r.id DESC"
        ))
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(RequestRow::parse).collect()
    }

    pub async fn records_request(&self, id: i64) -> StoreResult<Option<RecordsRequestRecord>> {
        let row: Option<RequestRow> =
            sqlx::query_as(&format!("SELECT {REQUEST_COLUMNS} WHERE r.id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(RequestRow::parse).transpose()
    }

    /// Marks a request received, with its audit entry (naming the request).
    /// `Ok(false)` when it was received already (nothing changes).
    pub async fn mark_records_received(
        &self,
        id: i64,
        received_by: i64,
        at: Timestamp,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE records_requests SET status = 'received', received_by = $1, received_at = $2 \
             WHERE id = $3 AND status = 'requested'",
        )
        .bind(received_by)
        .bind(to_millis(at))
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        self.commit(tx, Some(&id.to_string())).await?;
        Ok(true)
    }
}
