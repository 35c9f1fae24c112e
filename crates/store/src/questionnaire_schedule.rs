//! Questionnaires on schedule (SPEC §1 step 6): the clinic's licences of
//! licensed instruments, the facts the schedule job reads of each patient
//! (plan date, diagnosis codes, infusion days, what is assigned), and the
//! scheduled assignments it writes.
//!
//! Which questionnaire is due when is respite-clinical's
//! (`instruments::schedule`); this module only reads and writes. A
//! timepoint of an instrument is claimed by the unique index
//! `questionnaire_assignments_timepoint` (migration 0018): the insert is
//! `ON CONFLICT … DO NOTHING`, so of two servers sweeping at once only one
//! assigns it.

use jiff::Timestamp;

use crate::jobs::{enqueue, NewJob};
use crate::{from_millis, to_millis, Store, StoreResult};

/// The clinic's licence of an instrument whose wording is licensed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuestionnaireLicence {
    /// respite-clinical's instrument id, e.g. `bpi-sf`.
    pub instrument: String,
    /// Who holds the licence (the clinic, a health system…).
    pub holder: String,
    /// The licence's number or terms, as the holder wrote them.
    pub terms: String,
    /// The day the licence was granted (ISO date).
    pub licensed_on: String,
}

/// A recorded licence, with who recorded it and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuestionnaireLicenceRecord {
    pub licence: QuestionnaireLicence,
    pub recorded_by: String,
    pub recorded_at: Timestamp,
}

/// What the schedule needs to know of one patient under care.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleFacts {
    pub patient_id: i64,
    /// IANA zone of the patient (dates are the patient's days).
    pub time_zone: String,
    /// When the first treatment plan was written: the baseline is due then.
    pub plan_created_at: Timestamp,
    /// ICD-10-CM codes of the chart's conditions (not entered in error).
    pub condition_codes: Vec<String>,
    /// When each infusion session started.
    pub infusions: Vec<Timestamp>,
    /// (instrument id, timepoint key) of the scheduled assignments.
    pub assigned: Vec<(String, String)>,
}

/// A questionnaire the schedule assigns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduledAssignment {
    pub instrument: String,
    /// respite-clinical's `Timepoint::key`.
    pub timepoint: String,
    /// ISO dates.
    pub due_on: String,
    pub closes_on: String,
}

/// A scheduled questionnaire of a patient, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduledRecord {
    pub assignment_id: i64,
    pub instrument: String,
    pub timepoint: String,
    pub due_on: String,
    pub closes_on: String,
    pub submitted_at: Option<Timestamp>,
}

/// The prefix of a questionnaire reminder job's idempotency key; the
/// patient's id and the due day follow (`…-{patient}-{date}`).
pub const REMINDER_KEY_PREFIX: &str = "questionnaire-reminder-";

impl Store {
    /// The recorded licences, by instrument id.
    pub async fn questionnaire_licences(&self) -> StoreResult<Vec<QuestionnaireLicenceRecord>> {
        let rows: Vec<(String, String, String, String, String, i64)> = sqlx::query_as(
            "SELECT instrument, holder, terms, licensed_on, recorded_by, recorded_at \
             FROM questionnaire_licences ORDER BY instrument",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(
                |(instrument, holder, terms, licensed_on, recorded_by, recorded_at)| {
                    Ok(QuestionnaireLicenceRecord {
                        licence: QuestionnaireLicence {
                            instrument,
                            holder,
                            terms,
                            licensed_on,
                        },
                        recorded_by,
                        recorded_at: from_millis(recorded_at)?,
                    })
                },
            )
            .collect()
    }

    /// Saves the questionnaire schedule's settings (key, value; an empty
    /// value restores the default) and replaces the recorded licences, in
    /// one transaction. A licence unchanged keeps who recorded it and when.
    pub async fn save_questionnaire_schedule(
        &self,
        settings: &[(&str, String)],
        licences: &[QuestionnaireLicence],
        recorded_by: &str,
        now: Timestamp,
    ) -> StoreResult<()> {
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
        let stored: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT instrument, holder, terms, licensed_on FROM questionnaire_licences",
        )
        .fetch_all(&mut *tx)
        .await?;
        for (instrument, holder, terms, licensed_on) in &stored {
            let kept = licences.iter().any(|l| {
                &l.instrument == instrument
                    && &l.holder == holder
                    && &l.terms == terms
                    && &l.licensed_on == licensed_on
            });
            if !kept {
                sqlx::query("DELETE FROM questionnaire_licences WHERE instrument = $1")
                    .bind(instrument)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        for licence in licences {
            sqlx::query(
                "INSERT INTO questionnaire_licences (instrument, holder, terms, licensed_on, \
                 recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (instrument) DO NOTHING",
            )
            .bind(&licence.instrument)
            .bind(&licence.holder)
            .bind(&licence.terms)
            .bind(&licence.licensed_on)
            .bind(recorded_by)
            .bind(to_millis(now))
            .execute(&mut *tx)
            .await?;
        }
        self.commit(tx, Some("questionnaire-schedule")).await
    }

    /// The ids of the patients the schedule follows: those with a treatment
    /// plan.
    pub async fn scheduled_patients(&self) -> StoreResult<Vec<i64>> {
        let rows: Vec<(i64,)> =
            sqlx::query_as("SELECT DISTINCT patient_id FROM treatment_plans ORDER BY patient_id")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// What the schedule needs to know of `patient_id`; `None` when the
    /// patient has no treatment plan (the schedule starts with the plan).
    pub async fn schedule_facts(&self, patient_id: i64) -> StoreResult<Option<ScheduleFacts>> {
        let plan: Option<(Option<i64>,)> =
            sqlx::query_as("SELECT MIN(created_at) FROM treatment_plans WHERE patient_id = $1")
                .bind(patient_id)
                .fetch_optional(&self.pool)
                .await?;
        let Some(plan_created_at) = plan.and_then(|(at,)| at) else {
            return Ok(None);
        };
        let zone: Option<(String,)> =
            sqlx::query_as("SELECT time_zone FROM patients WHERE id = $1")
                .bind(patient_id)
                .fetch_optional(&self.pool)
                .await?;
        let Some((time_zone,)) = zone else {
            return Ok(None);
        };
        let codes: Vec<(String,)> = sqlx::query_as(
            "SELECT icd10cm_code FROM conditions WHERE patient_id = $1 \
             AND entered_in_error_at IS NULL ORDER BY id",
        )
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await?;
        let infusions: Vec<(i64,)> = sqlx::query_as(
            "SELECT started_at FROM infusion_sessions WHERE patient_id = $1 ORDER BY started_at",
        )
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await?;
        let assigned: Vec<(String, String)> = sqlx::query_as(
            "SELECT instrument, timepoint FROM questionnaire_assignments \
             WHERE patient_id = $1 AND timepoint IS NOT NULL",
        )
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(Some(ScheduleFacts {
            patient_id,
            time_zone,
            plan_created_at: from_millis(plan_created_at)?,
            condition_codes: codes.into_iter().map(|(c,)| c).collect(),
            infusions: infusions
                .into_iter()
                .map(|(at,)| from_millis(at))
                .collect::<StoreResult<_>>()?,
            assigned,
        }))
    }

    /// Assigns the scheduled questionnaires of `patient_id` that no server
    /// has assigned yet, and enqueues `reminder` when any was new; one
    /// transaction. Returns how many were assigned here.
    pub async fn assign_scheduled(
        &self,
        patient_id: i64,
        due: &[ScheduledAssignment],
        reminder: Option<&NewJob>,
        now: Timestamp,
    ) -> StoreResult<u64> {
        if due.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin_write().await?;
        let mut assigned = 0;
        for item in due {
            let done = sqlx::query(
                "INSERT INTO questionnaire_assignments (patient_id, instrument, source, \
                 assigned_at, assigned_by, timepoint, due_on, closes_on) \
                 VALUES ($1, $2, 'portal', $3, 'schedule', $4, $5, $6) \
                 ON CONFLICT (patient_id, instrument, timepoint) WHERE timepoint IS NOT NULL \
                 DO NOTHING",
            )
            .bind(patient_id)
            .bind(&item.instrument)
            .bind(to_millis(now))
            .bind(&item.timepoint)
            .bind(&item.due_on)
            .bind(&item.closes_on)
            .execute(&mut *tx)
            .await?;
            assigned += done.rows_affected();
        }
        if assigned > 0 {
            if let Some(job) = reminder {
                enqueue(&mut tx, job, now).await?;
            }
        }
        self.commit(tx, Some(&patient_id.to_string())).await?;
        Ok(assigned)
    }

    /// A patient's scheduled questionnaires, by due day.
    pub async fn scheduled_questionnaires_of(
        &self,
        patient_id: i64,
    ) -> StoreResult<Vec<ScheduledRecord>> {
        let rows: Vec<(i64, String, String, String, String, Option<i64>)> = sqlx::query_as(
            "SELECT id, instrument, timepoint, due_on, closes_on, submitted_at \
             FROM questionnaire_assignments WHERE patient_id = $1 AND timepoint IS NOT NULL \
             ORDER BY due_on, id",
        )
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(
                |(assignment_id, instrument, timepoint, due_on, closes_on, submitted_at)| {
                    Ok(ScheduledRecord {
                        assignment_id,
                        instrument,
                        timepoint,
                        due_on,
                        closes_on,
                        submitted_at: submitted_at.map(from_millis).transpose()?,
                    })
                },
            )
            .collect()
    }

    /// Whether `patient_id` has an open portal questionnaire still due on
    /// `today` (ISO date): a reminder is sent only then.
    pub async fn has_open_scheduled(&self, patient_id: i64, today: &str) -> StoreResult<bool> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT id FROM questionnaire_assignments WHERE patient_id = $1 \
             AND timepoint IS NOT NULL AND submitted_at IS NULL AND closes_on > $2 LIMIT 1",
        )
        .bind(patient_id)
        .bind(today)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }
}

impl Store {
    /// Enqueues a job on its own (the schedule's sweep): a job already
    /// enqueued under the same idempotency key is left alone, so every
    /// server may ask for the hour's sweep and one runs.
    pub async fn enqueue_job(&self, job: &NewJob, now: Timestamp) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await?;
        enqueue(&mut conn, job, now).await
    }
}

/// A patient's own consultation, for the portal: its id (to sign the
/// change-or-cancel link), start and status code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortalAppointment {
    pub id: i64,
    pub starts_at: Timestamp,
    pub status: String,
}

impl Store {
    /// `patient_id`'s own consultations (booked for the patient's chart),
    /// newest first; never another patient's.
    pub async fn portal_appointments_of(
        &self,
        patient_id: i64,
    ) -> StoreResult<Vec<PortalAppointment>> {
        let rows: Vec<(i64, i64, String)> = sqlx::query_as(
            "SELECT id, starts_at, status FROM consultations WHERE patient_id = $1 \
             ORDER BY starts_at DESC LIMIT 20",
        )
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, at, status)| {
                Ok(PortalAppointment {
                    id,
                    starts_at: from_millis(at)?,
                    status,
                })
            })
            .collect()
    }
}
