//! The patient portal's storage (SPEC §1 step 6, §2 patient role): sign-in
//! links and sessions of patients, questionnaires assigned to them with the
//! answers saved one by one, the score observations respite-clinical derives
//! from a submitted questionnaire, and the PHQ-9 item 9 safety alerts.
//!
//! Every read of a patient's questionnaire takes the patient's id with the
//! record's and finds nothing when they do not belong together: the portal
//! can never reach another patient's record by its id.

use jiff::Timestamp;

use crate::jobs::{enqueue, NewJob};
use crate::{from_millis, to_millis, Store, StoreResult};

/// A sign-in link as the job that sends it sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortalLinkRecord {
    pub id: i64,
    pub patient_id: i64,
    /// `email` or `sms`.
    pub channel: String,
    pub sent: bool,
}

/// A live or expired portal session, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortalSessionRecord {
    pub patient_id: i64,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
}

/// A questionnaire assigned to a patient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssignmentRecord {
    pub id: i64,
    pub patient_id: i64,
    /// respite-clinical's stable instrument id, e.g. `phq-9`.
    pub instrument: String,
    /// `portal` (the patient answers) or `paper` (staff entered it).
    pub source: String,
    pub assigned_at: Timestamp,
    pub assigned_by: String,
    pub submitted_at: Option<Timestamp>,
}

/// One item's answer (QuestionnaireResponse.item: linkId + answer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnswerRecord {
    pub link_id: String,
    pub value: i32,
}

/// A score to store with a submitted questionnaire.
#[derive(Clone, Debug, PartialEq)]
pub struct NewScore {
    pub scale: String,
    /// `http://loinc.org` or the local system.
    pub code_system: String,
    pub code: String,
    /// `None`: not computable (see `rule`).
    pub value: Option<f64>,
    pub band: Option<String>,
    pub prorated: bool,
    /// Item link ids, comma-separated.
    pub missing_items: String,
    /// The missing-answer rule applied, or why there is no score.
    pub rule: String,
}

/// A stored score observation.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoreRecord {
    pub assignment_id: i64,
    pub instrument: String,
    pub scale: String,
    pub code_system: String,
    pub code: String,
    pub value: Option<f64>,
    pub band: Option<String>,
    pub prorated: bool,
    pub missing_items: String,
    pub rule: String,
    pub effective_at: Timestamp,
}

/// A safety alert to raise with a submission, and its escalation job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSafetyAlert {
    pub answer: i32,
    pub due_at: Timestamp,
    /// The job kind the escalation runs as (the web layer's).
    pub escalation_job_kind: String,
}

/// A PHQ-9 item 9 safety alert, with the patient's name for the list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SafetyAlertRecord {
    pub id: i64,
    pub patient_id: i64,
    pub patient_name: String,
    pub assignment_id: i64,
    pub answer: i32,
    pub raised_at: Timestamp,
    pub due_at: Timestamp,
    pub acknowledged_at: Option<Timestamp>,
    pub acknowledged_by: Option<String>,
    pub action_taken: Option<String>,
    pub escalated_at: Option<Timestamp>,
    pub escalation: Option<String>,
}

/// The escalation job's idempotency key prefix; the alert id follows.
pub const ESCALATION_KEY_PREFIX: &str = "safety-alert-";

#[derive(sqlx::FromRow)]
struct AssignmentRow {
    id: i64,
    patient_id: i64,
    instrument: String,
    source: String,
    assigned_at: i64,
    assigned_by: String,
    submitted_at: Option<i64>,
}

impl AssignmentRow {
    fn parse(self) -> StoreResult<AssignmentRecord> {
        Ok(AssignmentRecord {
            id: self.id,
            patient_id: self.patient_id,
            instrument: self.instrument,
            source: self.source,
            assigned_at: from_millis(self.assigned_at)?,
            assigned_by: self.assigned_by,
            submitted_at: self.submitted_at.map(from_millis).transpose()?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct AlertRow {
    id: i64,
    patient_id: i64,
    given_name: String,
    family_name: String,
    assignment_id: i64,
    answer: i32,
    raised_at: i64,
    due_at: i64,
    acknowledged_at: Option<i64>,
    acknowledged_by: Option<String>,
    action_taken: Option<String>,
    escalated_at: Option<i64>,
    escalation: Option<String>,
}

impl AlertRow {
    fn parse(self) -> StoreResult<SafetyAlertRecord> {
        Ok(SafetyAlertRecord {
            id: self.id,
            patient_id: self.patient_id,
            patient_name: format!("{}, {}", self.family_name, self.given_name),
            assignment_id: self.assignment_id,
            answer: self.answer,
            raised_at: from_millis(self.raised_at)?,
            due_at: from_millis(self.due_at)?,
            acknowledged_at: self.acknowledged_at.map(from_millis).transpose()?,
            acknowledged_by: self.acknowledged_by,
            action_taken: self.action_taken,
            escalated_at: self.escalated_at.map(from_millis).transpose()?,
            escalation: self.escalation,
        })
    }
}

const ASSIGNMENT_COLUMNS: &str =
    "id, patient_id, instrument, source, assigned_at, assigned_by, submitted_at";
const ALERT_SELECT: &str = "SELECT a.id, a.patient_id, p.given_name, p.family_name, \
     a.assignment_id, a.answer, a.raised_at, a.due_at, a.acknowledged_at, a.acknowledged_by, \
     a.action_taken, a.escalated_at, a.escalation FROM safety_alerts a \
     JOIN patients p ON p.id = a.patient_id";

impl Store {
    // ---- sign-in links and sessions -------------------------------------

    /// Records an invitation to the portal (the link is made and sent by
    /// its job, `job_kind`, enqueued in the same transaction).
    pub async fn invite_to_portal(
        &self,
        patient_id: i64,
        channel: &str,
        created_by: &str,
        job_kind: &str,
        now: Timestamp,
    ) -> StoreResult<i64> {
        let mut tx = self.begin_write().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO portal_links (patient_id, channel, created_at, created_by) \
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(patient_id)
        .bind(channel)
        .bind(to_millis(now))
        .bind(created_by)
        .fetch_one(&mut *tx)
        .await?;
        enqueue(
            &mut tx,
            &NewJob {
                kind: job_kind.to_owned(),
                idempotency_key: format!("portal-link-{id}"),
                consultation_id: None,
                run_at: now,
            },
            now,
        )
        .await?;
        self.commit(tx, Some(&patient_id.to_string())).await?;
        Ok(id)
    }

    pub async fn portal_link(&self, id: i64) -> StoreResult<Option<PortalLinkRecord>> {
        let row: Option<(i64, i64, String, Option<i64>)> = sqlx::query_as(
            "SELECT id, patient_id, channel, sent_at FROM portal_links WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(
            row.map(|(id, patient_id, channel, sent_at)| PortalLinkRecord {
                id,
                patient_id,
                channel,
                sent: sent_at.is_some(),
            }),
        )
    }

    /// Gives an unsent link its token (its hash) and expiry, once; false
    /// when it has one already.
    pub async fn arm_portal_link(
        &self,
        id: i64,
        token_hash: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE portal_links SET token_hash = $1, sent_at = $2, expires_at = $3 \
             WHERE id = $4 AND token_hash IS NULL",
        )
        .bind(token_hash)
        .bind(to_millis(now))
        .bind(to_millis(expires_at))
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Spends a link (single use, before its expiry) and opens a session
    /// for its patient, in one transaction; `None` when the link is unknown,
    /// spent or expired.
    pub async fn spend_portal_link(
        &self,
        link_token_hash: &str,
        session_token_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<i64>> {
        let mut tx = self.begin_write().await?;
        let spent: Option<(i64,)> = sqlx::query_as(
            "UPDATE portal_links SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL \
             AND expires_at > $1 RETURNING patient_id",
        )
        .bind(to_millis(now))
        .bind(link_token_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((patient_id,)) = spent else {
            tx.rollback().await?;
            return Ok(None);
        };
        insert_session(&mut tx, session_token_hash, patient_id, now).await?;
        self.commit(tx, Some(&patient_id.to_string())).await?;
        Ok(Some(patient_id))
    }

    /// Opens a session for a patient who signed in with a password.
    pub async fn create_portal_session(
        &self,
        token_hash: &str,
        patient_id: i64,
        now: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        insert_session(&mut tx, token_hash, patient_id, now).await?;
        self.commit(tx, Some(&patient_id.to_string())).await
    }

    pub async fn portal_session(
        &self,
        token_hash: &str,
    ) -> StoreResult<Option<PortalSessionRecord>> {
        let row: Option<(i64, i64, i64)> = sqlx::query_as(
            "SELECT patient_id, created_at, last_seen_at FROM portal_sessions WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(patient_id, created, seen)| {
            Ok(PortalSessionRecord {
                patient_id,
                created_at: from_millis(created)?,
                last_seen_at: from_millis(seen)?,
            })
        })
        .transpose()
    }

    pub async fn touch_portal_session(&self, token_hash: &str, now: Timestamp) -> StoreResult<()> {
        sqlx::query("UPDATE portal_sessions SET last_seen_at = $1 WHERE token_hash = $2")
            .bind(to_millis(now))
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn delete_portal_session(&self, token_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM portal_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Sets (or replaces) the patient's portal password hash.
    pub async fn set_portal_password(
        &self,
        patient_id: i64,
        password_hash: &str,
        now: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM portal_passwords WHERE patient_id = $1")
            .bind(patient_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO portal_passwords (patient_id, password_hash, updated_at) VALUES ($1, $2, $3)",
        )
        .bind(patient_id)
        .bind(password_hash)
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await?;
        self.commit(tx, Some(&patient_id.to_string())).await
    }

    /// The patient with this e-mail address who has a portal password, and
    /// its hash. Only one patient may be found: an address shared by two
    /// charts signs in neither (by link only).
    pub async fn portal_password_for_email(
        &self,
        email: &str,
    ) -> StoreResult<Option<(i64, String)>> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT p.id, w.password_hash FROM patients p \
             JOIN portal_passwords w ON w.patient_id = p.id WHERE lower(p.email) = lower($1) \
             LIMIT 2",
        )
        .bind(email)
        .fetch_all(&self.pool)
        .await?;
        Ok(match rows.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        })
    }

    pub async fn has_portal_password(&self, patient_id: i64) -> StoreResult<bool> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT patient_id FROM portal_passwords WHERE patient_id = $1")
                .bind(patient_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.is_some())
    }

    // ---- questionnaires -------------------------------------------------

    /// Assigns a questionnaire to a patient (answered in the portal, or
    /// entered from paper by staff).
    pub async fn assign_questionnaire(
        &self,
        patient_id: i64,
        instrument: &str,
        source: &str,
        assigned_by: &str,
        now: Timestamp,
    ) -> StoreResult<i64> {
        let mut tx = self.begin_write().await?;
        let id = assign_in(&mut tx, patient_id, instrument, source, assigned_by, now).await?;
        // The audit entry keeps the route's record: the patient.
        self.commit(tx, None).await?;
        Ok(id)
    }

    /// A patient's questionnaires, the newest first.
    pub async fn assignments_of(&self, patient_id: i64) -> StoreResult<Vec<AssignmentRecord>> {
        let rows: Vec<AssignmentRow> = sqlx::query_as(&format!(
            "SELECT {ASSIGNMENT_COLUMNS} FROM questionnaire_assignments WHERE patient_id = $1 \
             ORDER BY assigned_at DESC, id DESC"
        ))
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(AssignmentRow::parse).collect()
    }

    /// The questionnaire `id` if it is `patient_id`'s; `None` otherwise.
    pub async fn assignment_of(
        &self,
        patient_id: i64,
        id: i64,
    ) -> StoreResult<Option<AssignmentRecord>> {
        let row: Option<AssignmentRow> = sqlx::query_as(&format!(
            "SELECT {ASSIGNMENT_COLUMNS} FROM questionnaire_assignments \
             WHERE id = $1 AND patient_id = $2"
        ))
        .bind(id)
        .bind(patient_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(AssignmentRow::parse).transpose()
    }

    /// The answers saved so far to `patient_id`'s questionnaire `id`.
    pub async fn answers_of(&self, patient_id: i64, id: i64) -> StoreResult<Vec<AnswerRecord>> {
        let rows: Vec<(String, i32)> = sqlx::query_as(
            "SELECT a.link_id, a.value FROM questionnaire_answers a \
             JOIN questionnaire_assignments q ON q.id = a.assignment_id \
             WHERE a.assignment_id = $1 AND q.patient_id = $2",
        )
        .bind(id)
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(link_id, value)| AnswerRecord { link_id, value })
            .collect())
    }

    /// Saves one answer (raising `alert`, once per questionnaire, when
    /// given) (replacing an earlier answer to the same item) to
    /// `patient_id`'s open questionnaire `id`; false when there is no such
    /// open questionnaire of this patient.
    pub async fn save_answer(
        &self,
        patient_id: i64,
        id: i64,
        link_id: &str,
        value: i32,
        alert: Option<&NewSafetyAlert>,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let open: Option<(i64,)> = sqlx::query_as(
            "SELECT id FROM questionnaire_assignments WHERE id = $1 AND patient_id = $2 \
             AND submitted_at IS NULL",
        )
        .bind(id)
        .bind(patient_id)
        .fetch_optional(&mut *tx)
        .await?;
        if open.is_none() {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query("DELETE FROM questionnaire_answers WHERE assignment_id = $1 AND link_id = $2")
            .bind(id)
            .bind(link_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO questionnaire_answers (assignment_id, link_id, value, answered_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(link_id)
        .bind(value)
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await?;
        if let Some(alert) = alert {
            raise_alert(&mut tx, patient_id, id, alert, now).await?;
        }
        self.commit(tx, Some(&id.to_string())).await?;
        Ok(true)
    }

    /// Submits `patient_id`'s open questionnaire `id` with its scores (and
    /// the answers, for a paper form entered at once), raising the safety
    /// alert and enqueuing its escalation when given; all in one
    /// transaction. Returns the alert's id; `Ok(None)` with nothing written
    /// when the questionnaire is not this patient's or was submitted.
    pub async fn submit_questionnaire(
        &self,
        patient_id: i64,
        id: i64,
        paper_answers: &[AnswerRecord],
        scores: &[NewScore],
        alert: Option<&NewSafetyAlert>,
        now: Timestamp,
    ) -> StoreResult<Option<Option<i64>>> {
        let mut tx = self.begin_write().await?;
        let Some(alert_id) =
            submit_in(&mut tx, patient_id, id, paper_answers, scores, alert, now).await?
        else {
            tx.rollback().await?;
            return Ok(None);
        };
        self.commit(tx, Some(&id.to_string())).await?;
        Ok(Some(alert_id))
    }

    /// Enters a paper questionnaire staff transcribed: the questionnaire,
    /// its answers, its scores and any safety alert in one transaction.
    /// Returns the questionnaire's id.
    #[allow(clippy::too_many_arguments)]
    pub async fn enter_paper_questionnaire(
        &self,
        patient_id: i64,
        instrument: &str,
        entered_by: &str,
        answers: &[AnswerRecord],
        scores: &[NewScore],
        alert: Option<&NewSafetyAlert>,
        now: Timestamp,
    ) -> StoreResult<i64> {
        let mut tx = self.begin_write().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO questionnaire_assignments (patient_id, instrument, source, assigned_at, \
             assigned_by) VALUES ($1, $2, 'paper', $3, $4) RETURNING id",
        )
        .bind(patient_id)
        .bind(instrument)
        .bind(to_millis(now))
        .bind(entered_by)
        .fetch_one(&mut *tx)
        .await?;
        submit_in(&mut tx, patient_id, id, answers, scores, alert, now).await?;
        // The audit entry keeps the route's record: the patient.
        self.commit(tx, None).await?;
        Ok(id)
    }

    /// A patient's score observations, oldest first.
    pub async fn scores_of(&self, patient_id: i64) -> StoreResult<Vec<ScoreRecord>> {
        #[allow(clippy::type_complexity)]
        let rows: Vec<(
            i64,
            String,
            String,
            String,
            String,
            Option<f64>,
            Option<String>,
            i32,
            String,
            String,
            i64,
        )> = sqlx::query_as(
            "SELECT s.assignment_id, q.instrument, s.scale, s.code_system, s.code, s.value, \
             s.band, s.prorated, s.missing_items, s.rule, s.effective_at \
             FROM score_observations s JOIN questionnaire_assignments q ON q.id = s.assignment_id \
             WHERE s.patient_id = $1 ORDER BY s.effective_at, s.id",
        )
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(ScoreRecord {
                    assignment_id: r.0,
                    instrument: r.1,
                    scale: r.2,
                    code_system: r.3,
                    code: r.4,
                    value: r.5,
                    band: r.6,
                    prorated: r.7 != 0,
                    missing_items: r.8,
                    rule: r.9,
                    effective_at: from_millis(r.10)?,
                })
            })
            .collect()
    }

    // ---- safety alerts --------------------------------------------------

    /// Safety alerts: the open ones first (oldest first), then up to 50
    /// acknowledged ones (newest first).
    pub async fn safety_alerts(&self) -> StoreResult<Vec<SafetyAlertRecord>> {
        let open: Vec<AlertRow> = sqlx::query_as(&format!(
            "{ALERT_SELECT} WHERE a.acknowledged_at IS NULL ORDER BY a.raised_at, a.id"
        ))
        .fetch_all(&self.pool)
        .await?;
        let done: Vec<AlertRow> = sqlx::query_as(&format!(
            "{ALERT_SELECT} WHERE a.acknowledged_at IS NOT NULL \
             ORDER BY a.acknowledged_at DESC, a.id DESC LIMIT 50"
        ))
        .fetch_all(&self.pool)
        .await?;
        open.into_iter().chain(done).map(AlertRow::parse).collect()
    }

    pub async fn safety_alert(&self, id: i64) -> StoreResult<Option<SafetyAlertRecord>> {
        let row: Option<AlertRow> = sqlx::query_as(&format!("{ALERT_SELECT} WHERE a.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(AlertRow::parse).transpose()
    }

    /// A patient's safety alerts, newest first.
    pub async fn safety_alerts_of(&self, patient_id: i64) -> StoreResult<Vec<SafetyAlertRecord>> {
        let rows: Vec<AlertRow> = sqlx::query_as(&format!(
            "{ALERT_SELECT} WHERE a.patient_id = $1 ORDER BY a.raised_at DESC, a.id DESC"
        ))
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(AlertRow::parse).collect()
    }

    pub async fn open_safety_alert_count(&self) -> StoreResult<i64> {
        let (count,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM safety_alerts WHERE acknowledged_at IS NULL")
                .fetch_one(&self.pool)
                .await?;
        Ok(count)
    }

    /// Acknowledges an open alert with the action taken; false when it is
    /// unknown or acknowledged already.
    pub async fn acknowledge_safety_alert(
        &self,
        id: i64,
        by: &str,
        action_taken: &str,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE safety_alerts SET acknowledged_at = $1, acknowledged_by = $2, \
             action_taken = $3 WHERE id = $4 AND acknowledged_at IS NULL",
        )
        .bind(to_millis(now))
        .bind(by)
        .bind(action_taken)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        self.commit(tx, Some(&id.to_string())).await?;
        Ok(true)
    }

    /// Claims the escalation of an alert still unacknowledged after its
    /// time: one conditional UPDATE, so that of several servers running the
    /// job queue exactly one gets `true` and escalates.
    pub async fn claim_safety_escalation(
        &self,
        id: i64,
        how: &str,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE safety_alerts SET escalated_at = $1, escalation = $2 \
             WHERE id = $3 AND escalated_at IS NULL AND acknowledged_at IS NULL AND due_at <= $1",
        )
        .bind(to_millis(now))
        .bind(how)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records how the escalation went (sent, or why not), for admins.
    pub async fn record_safety_escalation(&self, id: i64, how: &str) -> StoreResult<()> {
        sqlx::query("UPDATE safety_alerts SET escalation = $1 WHERE id = $2")
            .bind(how)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// Assigns a questionnaire in `tx` (see [`Store::assign_questionnaire`]);
/// the demo assigns its months of questionnaires through this in one
/// transaction.
pub(crate) async fn assign_in(
    tx: &mut sqlx::AnyConnection,
    patient_id: i64,
    instrument: &str,
    source: &str,
    assigned_by: &str,
    now: Timestamp,
) -> StoreResult<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO questionnaire_assignments (patient_id, instrument, source, assigned_at, \
         assigned_by) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(patient_id)
    .bind(instrument)
    .bind(source)
    .bind(to_millis(now))
    .bind(assigned_by)
    .fetch_one(&mut *tx)
    .await?;
    Ok(id)
}

async fn insert_session(
    tx: &mut sqlx::AnyConnection,
    token_hash: &str,
    patient_id: i64,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO portal_sessions (token_hash, patient_id, created_at, last_seen_at) \
         VALUES ($1, $2, $3, $3)",
    )
    .bind(token_hash)
    .bind(patient_id)
    .bind(to_millis(now))
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Raises the safety alert of questionnaire `assignment_id` and enqueues its
/// escalation, unless it has one already (one alert per questionnaire: an
/// answer changed and saved again does not raise a second).
async fn raise_alert(
    tx: &mut sqlx::AnyConnection,
    patient_id: i64,
    assignment_id: i64,
    alert: &NewSafetyAlert,
    now: Timestamp,
) -> StoreResult<Option<i64>> {
    let existing: Option<(i64,)> =
        sqlx::query_as("SELECT id FROM safety_alerts WHERE assignment_id = $1")
            .bind(assignment_id)
            .fetch_optional(&mut *tx)
            .await?;
    if let Some((id,)) = existing {
        return Ok(Some(id));
    }
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO safety_alerts (patient_id, assignment_id, answer, raised_at, due_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(patient_id)
    .bind(assignment_id)
    .bind(alert.answer)
    .bind(to_millis(now))
    .bind(to_millis(alert.due_at))
    .fetch_one(&mut *tx)
    .await?;
    enqueue(
        &mut *tx,
        &NewJob {
            kind: alert.escalation_job_kind.clone(),
            idempotency_key: format!("{ESCALATION_KEY_PREFIX}{id}"),
            consultation_id: None,
            run_at: alert.due_at,
        },
        now,
    )
    .await?;
    Ok(Some(id))
}

impl Store {
    /// A patient's appointments (phone consultations booked for the
    /// patient's chart), newest first: start and status code.
    pub async fn appointments_of(&self, patient_id: i64) -> StoreResult<Vec<(Timestamp, String)>> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT starts_at, status FROM consultations WHERE patient_id = $1 \
             ORDER BY starts_at DESC LIMIT 20",
        )
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(at, status)| Ok((from_millis(at)?, status)))
            .collect()
    }
}

impl Store {
    /// Saves clinic settings (key, value) in one transaction; an empty
    /// value removes the setting (its default applies).
    pub async fn save_settings(&self, settings: &[(&str, String)]) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        for (key, value) in settings {
            sqlx::query("DELETE FROM clinic_settings WHERE key = $1")
                .bind(*key)
                .execute(&mut *tx)
                .await?;
            if !value.is_empty() {
                sqlx::query("INSERT INTO clinic_settings (key, value) VALUES ($1, $2)")
                    .bind(*key)
                    .bind(value)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        self.commit(tx, None).await
    }
}

impl Store {
    /// A patient's portal invitations: (created, channel, sent, used), the
    /// newest first.
    pub async fn portal_invitations_of(
        &self,
        patient_id: i64,
    ) -> StoreResult<Vec<(Timestamp, String, bool, bool)>> {
        let rows: Vec<(i64, String, Option<i64>, Option<i64>)> = sqlx::query_as(
            "SELECT created_at, channel, sent_at, used_at FROM portal_links \
             WHERE patient_id = $1 ORDER BY created_at DESC, id DESC LIMIT 5",
        )
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(at, channel, sent, used)| {
                Ok((from_millis(at)?, channel, sent.is_some(), used.is_some()))
            })
            .collect()
    }
}

/// Marks questionnaire `id` of `patient_id` submitted and stores its
/// answers (paper), scores and alert in `tx`; `None` when it is not this
/// patient's open questionnaire. [`Store::submit_questionnaire`] runs it in
/// a transaction of its own; the demo runs it in one for all its months.
pub(crate) async fn submit_in(
    tx: &mut sqlx::AnyConnection,
    patient_id: i64,
    id: i64,
    paper_answers: &[AnswerRecord],
    scores: &[NewScore],
    alert: Option<&NewSafetyAlert>,
    now: Timestamp,
) -> StoreResult<Option<Option<i64>>> {
    let submitted = sqlx::query(
        "UPDATE questionnaire_assignments SET submitted_at = $1 \
             WHERE id = $2 AND patient_id = $3 AND submitted_at IS NULL",
    )
    .bind(to_millis(now))
    .bind(id)
    .bind(patient_id)
    .execute(&mut *tx)
    .await?;
    if submitted.rows_affected() != 1 {
        return Ok(None);
    }
    for answer in paper_answers {
        sqlx::query(
            "INSERT INTO questionnaire_answers (assignment_id, link_id, value, answered_at) \
                 VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(&answer.link_id)
        .bind(answer.value)
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await?;
    }
    for score in scores {
        sqlx::query(
            "INSERT INTO score_observations (assignment_id, patient_id, scale, code_system, \
                 code, value, band, prorated, missing_items, rule, effective_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(id)
        .bind(patient_id)
        .bind(&score.scale)
        .bind(&score.code_system)
        .bind(&score.code)
        .bind(score.value)
        .bind(&score.band)
        .bind(i32::from(score.prorated))
        .bind(&score.missing_items)
        .bind(&score.rule)
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await?;
    }
    let alert_id = match alert {
        Some(alert) => raise_alert(&mut *tx, patient_id, id, alert, now).await?,
        None => None,
    };
    Ok(Some(alert_id))
}

/// The score observations to store for respite-clinical's scoring of a
/// questionnaire: one per scale, with its code, band, and the
/// missing-answer rule applied (prorated) or why there is no score. Only
/// carries respite-clinical's verdicts; the portal's submission, a paper
/// form and the demo's questionnaires all store them through this.
pub fn new_scores(scored: &respite_clinical::instruments::Scored) -> Vec<NewScore> {
    use respite_clinical::instruments::{Code, Completeness, ScaleResult};
    scored
        .scales
        .iter()
        .map(|scale| {
            let (code_system, code) = match scale.scale.code {
                Code::Loinc { code, .. } => ("http://loinc.org", code),
                Code::Local { code } => ("https://respite.example/fhir/CodeSystem/local", code),
            };
            let (value, band, prorated, missing, rule) = match &scale.result {
                ScaleResult::Computed(c) => match &c.completeness {
                    Completeness::Complete => {
                        (Some(c.value), c.band, false, Vec::new(), String::new())
                    }
                    Completeness::Prorated {
                        missing_items,
                        rule,
                    } => (
                        Some(c.value),
                        c.band,
                        true,
                        missing_items.clone(),
                        (*rule).to_owned(),
                    ),
                },
                ScaleResult::NotComputable(n) => (
                    None,
                    None,
                    false,
                    n.missing_items.clone(),
                    n.rule.to_owned(),
                ),
            };
            NewScore {
                scale: scale.scale.id.to_owned(),
                code_system: code_system.to_owned(),
                code: code.to_owned(),
                value,
                band: band.map(|b| b.id.to_owned()),
                prorated,
                missing_items: missing.join(","),
                rule,
            }
        })
        .collect()
}
