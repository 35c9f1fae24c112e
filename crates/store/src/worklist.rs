//! The clinical work list's queries: patients awaiting records, awaiting a
//! decision, decided on facts that have changed since, and plans due for
//! review. Which decision is out of date is found by comparing fingerprints
//! (`Store::current_screening_decision`); this module only finds candidates.

use jiff::civil::Date;
use jiff::Timestamp;

use crate::{from_millis, Store, StoreError, StoreResult};

/// A patient on the work list, with what puts them there.
#[derive(Clone, Debug)]
pub struct WorkListEntry {
    pub patient_id: i64,
    pub mrn: String,
    pub given_name: String,
    pub family_name: String,
    /// Since when the patient waits (request sent, decision signed, chart
    /// made), or for a plan, when it was written.
    pub since: Timestamp,
    /// The physician asked, for a records request.
    pub physician: Option<String>,
    /// The review date, for a plan.
    pub review_on: Option<Date>,
}

/// One page of a list and the number of entries in all.
#[derive(Clone, Debug)]
pub struct WorkListPage {
    pub entries: Vec<WorkListEntry>,
    pub total: i64,
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    patient_id: i64,
    mrn: String,
    given_name: String,
    family_name: String,
    since: i64,
    physician: Option<String>,
    review_on: Option<String>,
}

impl EntryRow {
    fn parse(self) -> StoreResult<WorkListEntry> {
        Ok(WorkListEntry {
            patient_id: self.patient_id,
            mrn: self.mrn,
            given_name: self.given_name,
            family_name: self.family_name,
            since: from_millis(self.since)?,
            physician: self.physician,
            review_on: self
                .review_on
                .map(|d| {
                    d.parse()
                        .map_err(|_| StoreError::Corrupt(format!("review date {d}")))
                })
                .transpose()?,
        })
    }
}

/// The newest decision of each patient: `outcome` and when.
const LATEST_DECISION: &str =
    "SELECT d.patient_id, d.outcome, d.signed_at FROM screening_decisions d \
     WHERE d.id = (SELECT x.id FROM screening_decisions x WHERE x.patient_id = d.patient_id \
                   ORDER BY x.signed_at DESC, x.id DESC LIMIT 1)";

impl Store {
    /// Patients with a records request not yet received, longest waiting
    /// first (one line per request).
    pub async fn awaiting_records(&self, limit: i64, offset: i64) -> StoreResult<WorkListPage> {
        let rows: Vec<EntryRow> = sqlx::query_as(
            "SELECT p.id AS patient_id, p.mrn, p.given_name, p.family_name, \
             r.requested_at AS since, r.physician_name AS physician, \
             CAST(NULL AS TEXT) AS review_on \
             FROM records_requests r JOIN patients p ON p.id = r.patient_id \
             WHERE r.status = 'requested' ORDER BY r.requested_at, r.id LIMIT $1 OFFSET $2",
        )
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        let (total,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM records_requests WHERE status = 'requested'")
                .fetch_one(&self.pool)
                .await?;
        Ok(WorkListPage {
            entries: rows
                .into_iter()
                .map(EntryRow::parse)
                .collect::<StoreResult<_>>()?,
            total,
        })
    }

    /// Patients whose plan's newest version is due for review on or before
    /// `by`, the most overdue first.
    pub async fn plans_due_for_review(
        &self,
        by: Date,
        limit: i64,
        offset: i64,
    ) -> StoreResult<WorkListPage> {
        const WHERE: &str = "FROM treatment_plans t JOIN patients p ON p.id = t.patient_id \
             WHERE t.version = (SELECT MAX(x.version) FROM treatment_plans x \
                                WHERE x.patient_id = t.patient_id) \
               AND t.review_on <= $1";
        let rows: Vec<EntryRow> = sqlx::query_as(&format!(
            "SELECT p.id AS patient_id, p.mrn, p.given_name, p.family_name, \
             t.created_at AS since, CAST(NULL AS TEXT) AS physician, t.review_on {WHERE} \
             ORDER BY t.review_on, p.family_name, p.id LIMIT $2 OFFSET $3"
        ))
        .bind(by.to_string())
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        let (total,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) {WHERE}"))
            .bind(by.to_string())
            .fetch_one(&self.pool)
            .await?;
        Ok(WorkListPage {
            entries: rows
                .into_iter()
                .map(EntryRow::parse)
                .collect::<StoreResult<_>>()?,
            total,
        })
    }

    /// Patients whose newest decision is eligible or not eligible, oldest
    /// decision first: the candidates for "decided, out of date".
    pub async fn patients_with_final_decisions(&self) -> StoreResult<Vec<WorkListEntry>> {
        let rows: Vec<EntryRow> = sqlx::query_as(&format!(
            "SELECT p.id AS patient_id, p.mrn, p.given_name, p.family_name, \
             l.signed_at AS since, CAST(NULL AS TEXT) AS physician, \
             CAST(NULL AS TEXT) AS review_on \
             FROM ({LATEST_DECISION}) l JOIN patients p ON p.id = l.patient_id \
             WHERE l.outcome IN ('eligible', 'not-eligible') ORDER BY l.signed_at, p.id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(EntryRow::parse).collect()
    }

    /// Patients in screening who wait for a clinician: no decision yet, or a
    /// deferred one, and no records request outstanding. In screening means
    /// the chart came from a consultation (an inquiry converted), or holds a
    /// screening entry (a medication, an allergy, a list review, a
    /// contraindication review, a document), or records were requested for
    /// it. `since` is the deferral, or the chart's making.
    pub async fn patients_awaiting_decision(&self) -> StoreResult<Vec<WorkListEntry>> {
        let rows: Vec<EntryRow> = sqlx::query_as(&format!(
            "SELECT p.id AS patient_id, p.mrn, p.given_name, p.family_name, \
             COALESCE(l.signed_at, p.created_at) AS since, CAST(NULL AS TEXT) AS physician, \
             CAST(NULL AS TEXT) AS review_on \
             FROM patients p LEFT JOIN ({LATEST_DECISION}) l ON l.patient_id = p.id \
             WHERE (l.outcome IS NULL OR l.outcome = 'deferred') \
               AND (EXISTS (SELECT 1 FROM inquiries i WHERE i.patient_id = p.id) \
                    OR EXISTS (SELECT 1 FROM medications m WHERE m.patient_id = p.id) \
                    OR EXISTS (SELECT 1 FROM allergies a WHERE a.patient_id = p.id) \
                    OR EXISTS (SELECT 1 FROM chart_list_reviews v WHERE v.patient_id = p.id) \
                    OR EXISTS (SELECT 1 FROM contraindication_reviews c WHERE c.patient_id = p.id) \
                    OR EXISTS (SELECT 1 FROM chart_documents d WHERE d.patient_id = p.id) \
                    OR EXISTS (SELECT 1 FROM records_requests r WHERE r.patient_id = p.id)) \
               AND NOT EXISTS (SELECT 1 FROM records_requests r \
                               WHERE r.patient_id = p.id AND r.status = 'requested') \
             ORDER BY since, p.id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(EntryRow::parse).collect()
    }
}
