//! The callback queue and contact attempts (SPEC §1 step 2: staff call back
//! inside the person's best-time windows). The order of
//! the queue (next opening of the person's window) is computed by the web
//! layer with `respite_domain::callbacks`: it depends on `now`, the person's
//! time zone and the rules for daylight-saving days, none of which is SQL.

use jiff::Timestamp;
use respite_domain::callbacks::AttemptOutcome;

use respite_domain::thread::{CallbackReason, ClosedReason, InquiryStatus};

use crate::{from_millis, inquiries, to_millis, Store, StoreError, StoreResult};

/// An open callback task with what the queue needs of its inquiry.
#[derive(Clone, Debug)]
pub struct OpenCallback {
    pub task_id: i64,
    pub inquiry_id: i64,
    pub created_at: Timestamp,
    pub reason: CallbackReason,
    pub phone_e164: Option<String>,
    pub recording_url: Option<String>,
    pub name: String,
    pub contact_windows: String,
    pub time_zone: String,
    pub inquiry_status: InquiryStatus,
    pub attempts: i64,
    pub last_attempt_at: Option<Timestamp>,
}

/// One recorded attempt.
#[derive(Clone, Debug)]
pub struct ContactAttemptRecord {
    pub id: i64,
    pub callback_task_id: Option<i64>,
    pub staff_email: String,
    pub at: Timestamp,
    pub outcome: String,
    pub note: String,
}

/// A contact attempt to record.
#[derive(Clone, Debug)]
pub struct NewContactAttempt<'a> {
    pub callback_task_id: i64,
    pub staff_user_id: i64,
    pub at: Timestamp,
    pub outcome: AttemptOutcome,
    pub note: &'a str,
}

/// Clinic settings for attempts.
#[derive(Clone, Copy, Debug)]
pub struct AttemptPolicy {
    /// After this many unanswered attempts (no answer or voicemail) on one
    /// inquiry, the thread closes as "no answer". A clinic setting, not a
    /// clinical rule; default 3.
    pub unanswered_attempts_before_closing: i64,
}

impl Default for AttemptPolicy {
    fn default() -> AttemptPolicy {
        AttemptPolicy {
            unanswered_attempts_before_closing: 3,
        }
    }
}

/// What recording an attempt did to the thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttemptRecorded {
    pub attempt_id: i64,
    pub inquiry_id: i64,
    /// The inquiry's status after the attempt.
    pub status: InquiryStatus,
    pub closed_reason: Option<ClosedReason>,
    /// Whether the callback task is now done.
    pub task_done: bool,
}

#[derive(sqlx::FromRow)]
struct OpenRow {
    task_id: i64,
    inquiry_id: i64,
    created_at: i64,
    reason: String,
    phone_e164: Option<String>,
    recording_url: Option<String>,
    name: String,
    contact_windows: String,
    time_zone: String,
    inquiry_status: String,
    attempts: i64,
    last_attempt_at: Option<i64>,
}

impl OpenRow {
    fn parse(self) -> StoreResult<OpenCallback> {
        Ok(OpenCallback {
            task_id: self.task_id,
            inquiry_id: self.inquiry_id,
            created_at: from_millis(self.created_at)?,
            reason: CallbackReason::parse(&self.reason)
                .ok_or_else(|| StoreError::Corrupt(format!("callback reason `{}`", self.reason)))?,
            phone_e164: self.phone_e164,
            recording_url: self.recording_url,
            name: self.name,
            contact_windows: self.contact_windows,
            time_zone: self.time_zone,
            inquiry_status: inquiries::parse_status(&self.inquiry_status)?,
            attempts: self.attempts,
            last_attempt_at: self.last_attempt_at.map(from_millis).transpose()?,
        })
    }
}

/// What orders one open callback in the queue (see
/// [`Store::open_callback_keys`]).
#[derive(Clone, Debug)]
pub struct CallbackKey {
    pub task_id: i64,
    pub created_at: Timestamp,
    pub contact_windows: String,
    pub time_zone: String,
    pub last_attempt_at: Option<Timestamp>,
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    task_id: i64,
    created_at: i64,
    contact_windows: String,
    time_zone: String,
    last_attempt_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    id: i64,
    callback_task_id: Option<i64>,
    staff_email: String,
    at: i64,
    outcome: String,
    note: String,
}

impl Store {
    /// Callback tasks not yet done whose inquiry is not closed, oldest
    /// first (the web layer orders them by window).
    pub async fn open_callbacks(&self, limit: i64) -> StoreResult<Vec<OpenCallback>> {
        let rows: Vec<OpenRow> = sqlx::query_as(
            "SELECT t.id AS task_id, t.inquiry_id, t.created_at, t.reason, t.phone_e164, \
                    t.recording_url, i.name, i.contact_windows, i.time_zone, \
                    i.status AS inquiry_status, \
                    (SELECT COUNT(*) FROM contact_attempts a WHERE a.callback_task_id = t.id) \
                        AS attempts, \
                    (SELECT MAX(a.at) FROM contact_attempts a WHERE a.callback_task_id = t.id) \
                        AS last_attempt_at \
             FROM callback_tasks t JOIN inquiries i ON i.id = t.inquiry_id \
             WHERE t.done_at IS NULL AND i.status <> 'closed' \
             ORDER BY t.created_at, t.id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(OpenRow::parse).collect()
    }

    /// What orders the open callbacks, for each open callback whose person
    /// matches `text` (name, e-mail or phone in any formatting; empty for
    /// all): the queue is ordered by the next opening of the person's
    /// windows, which depends on the time, their zone and daylight-saving
    /// rules (`respite_domain::callbacks`), none of which SQL can compute.
    /// So the web layer orders these small rows — ids, times and windows,
    /// no names — and reads only its page's callbacks in full
    /// ([`Store::open_callbacks_by_ids`]). The open set is the clinic's
    /// working queue (tasks not done, threads not closed), not its history.
    pub async fn open_callback_keys(&self, text: &str) -> StoreResult<Vec<CallbackKey>> {
        let mut params = Vec::new();
        let mut clauses = vec!["t.done_at IS NULL AND i.status <> 'closed'".to_owned()];
        clauses.extend(crate::lists::contact_clauses(
            text,
            "i.name",
            "i.email",
            "COALESCE(t.phone_e164, i.phone_e164)",
            &mut params,
        ));
        let sql = format!(
            "SELECT t.id AS task_id, t.created_at, i.contact_windows, i.time_zone, \
                    (SELECT MAX(a.at) FROM contact_attempts a WHERE a.callback_task_id = t.id) \
                        AS last_attempt_at \
             FROM callback_tasks t JOIN inquiries i ON i.id = t.inquiry_id \
             WHERE {}",
            clauses.join(" AND ")
        );
        let mut query = sqlx::query_as::<_, KeyRow>(&sql);
        for param in &params {
            if let crate::lists::Param::Text(text) = param {
                query = query.bind(text.as_str());
            }
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.into_iter()
            .map(|row| {
                Ok(CallbackKey {
                    task_id: row.task_id,
                    created_at: from_millis(row.created_at)?,
                    contact_windows: row.contact_windows,
                    time_zone: row.time_zone,
                    last_attempt_at: row.last_attempt_at.map(from_millis).transpose()?,
                })
            })
            .collect()
    }

    /// The open callbacks with these task ids (in no particular order).
    pub async fn open_callbacks_by_ids(&self, ids: &[i64]) -> StoreResult<Vec<OpenCallback>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders = (1..=ids.len())
            .map(|n| format!("${n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT t.id AS task_id, t.inquiry_id, t.created_at, t.reason, t.phone_e164, \
                    t.recording_url, i.name, i.contact_windows, i.time_zone, \
                    i.status AS inquiry_status, \
                    (SELECT COUNT(*) FROM contact_attempts a WHERE a.callback_task_id = t.id) \
                        AS attempts, \
                    (SELECT MAX(a.at) FROM contact_attempts a WHERE a.callback_task_id = t.id) \
                        AS last_attempt_at \
             FROM callback_tasks t JOIN inquiries i ON i.id = t.inquiry_id \
             WHERE t.id IN ({placeholders})"
        );
        let mut query = sqlx::query_as::<_, OpenRow>(&sql);
        for id in ids {
            query = query.bind(*id);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.into_iter().map(OpenRow::parse).collect()
    }

    /// Records an attempt on a callback task and, in the same transaction,
    /// moves the thread on: reached → contacted (task done); asked to stop →
    /// closed "asked-to-stop" (every open task done); wrong number → task
    /// done; the policy's N-th unanswered attempt on the inquiry → closed
    /// "no-answer" (tasks done). A thread already booked or closed keeps
    /// its status. `Ok(None)` when there is no such task; a task already
    /// done is a conflict.
    pub async fn record_contact_attempt(
        &self,
        attempt: &NewContactAttempt<'_>,
        policy: AttemptPolicy,
    ) -> StoreResult<Option<AttemptRecorded>> {
        let mut tx = self.begin_write().await?;
        let inserted: Option<(i64, i64)> = sqlx::query_as(
            "INSERT INTO contact_attempts (inquiry_id, callback_task_id, staff_user_id, at, \
             outcome, note) \
             SELECT t.inquiry_id, t.id, $1, $2, $3, $4 FROM callback_tasks t \
             WHERE t.id = $5 AND t.done_at IS NULL \
             RETURNING id, inquiry_id",
        )
        .bind(attempt.staff_user_id)
        .bind(to_millis(attempt.at))
        .bind(attempt.outcome.as_str())
        .bind(attempt.note)
        .bind(attempt.callback_task_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((attempt_id, inquiry_id)) = inserted else {
            let exists: Option<(i64,)> =
                sqlx::query_as("SELECT id FROM callback_tasks WHERE id = $1")
                    .bind(attempt.callback_task_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            tx.rollback().await?;
            return match exists {
                None => Ok(None),
                Some(_) => Err(StoreError::CallbackDone),
            };
        };
        let open_thread = inquiries::status_of(&mut tx, inquiry_id)
            .await?
            .awaits_contact();

        // (new status and close reason, this task done, every open task done)
        let (new_status, task_done, all_tasks_done) = match attempt.outcome {
            _ if !open_thread => (None, false, false),
            AttemptOutcome::Reached => (Some((InquiryStatus::Contacted, None)), true, false),
            AttemptOutcome::AskedToStop => (
                Some((InquiryStatus::Closed, Some(ClosedReason::AskedToStop))),
                true,
                true,
            ),
            AttemptOutcome::WrongNumber => (None, true, false),
            AttemptOutcome::NoAnswer | AttemptOutcome::LeftVoicemail => {
                // After a cancelled or missed consultation the count starts
                // again: the follow-up (and any task after it) gets the
                // clinic's full number of tries. Task ids only grow.
                let (unanswered,): (i64,) = sqlx::query_as(
                    "SELECT COUNT(*) FROM contact_attempts \
                     WHERE inquiry_id = $1 AND outcome IN ('no-answer', 'left-voicemail') \
                     AND callback_task_id >= COALESCE((SELECT MAX(id) FROM callback_tasks \
                         WHERE inquiry_id = $1 \
                         AND reason IN ('cancelled-consultation', 'missed-consultation')), 0)",
                )
                .bind(inquiry_id)
                .fetch_one(&mut *tx)
                .await?;
                if unanswered >= policy.unanswered_attempts_before_closing {
                    (
                        Some((InquiryStatus::Closed, Some(ClosedReason::NoAnswer))),
                        true,
                        true,
                    )
                } else {
                    (None, false, false)
                }
            }
        };
        let closed_reason = new_status.and_then(|(_, reason)| reason);
        match new_status {
            Some((_, Some(reason))) => inquiries::close(&mut tx, inquiry_id, reason).await?,
            Some((_, None)) => inquiries::mark_contacted(&mut tx, inquiry_id).await?,
            None => {}
        }
        if all_tasks_done {
            inquiries::finish_callbacks(&mut tx, inquiry_id, attempt.at).await?;
        } else if task_done {
            sqlx::query("UPDATE callback_tasks SET done_at = $1 WHERE id = $2")
                .bind(to_millis(attempt.at))
                .bind(attempt.callback_task_id)
                .execute(&mut *tx)
                .await?;
        }
        let status = inquiries::status_of(&mut tx, inquiry_id).await?;
        // The entry names the callback task (the route's path id).
        self.commit(tx, None).await?;
        Ok(Some(AttemptRecorded {
            attempt_id,
            inquiry_id,
            status,
            closed_reason,
            task_done,
        }))
    }

    /// Why the thread's newest open callback is due, if it has one (the
    /// inquiry page says someone must call).
    pub async fn open_callback_of(&self, inquiry_id: i64) -> StoreResult<Option<CallbackReason>> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT t.reason FROM callback_tasks t JOIN inquiries i ON i.id = t.inquiry_id \
             WHERE t.inquiry_id = $1 AND t.done_at IS NULL AND i.status <> 'closed' \
             ORDER BY t.created_at DESC, t.id DESC LIMIT 1",
        )
        .bind(inquiry_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(reason,)| {
            CallbackReason::parse(&reason)
                .ok_or_else(|| StoreError::Corrupt(format!("callback reason `{reason}`")))
        })
        .transpose()
    }

    /// Every attempt on an inquiry, in order.
    pub async fn contact_attempts(
        &self,
        inquiry_id: i64,
    ) -> StoreResult<Vec<ContactAttemptRecord>> {
        let rows: Vec<AttemptRow> = sqlx::query_as(
            "SELECT a.id, a.callback_task_id, u.email AS staff_email, a.at, a.outcome, a.note \
             FROM contact_attempts a JOIN staff_users u ON u.id = a.staff_user_id \
             WHERE a.inquiry_id = $1 ORDER BY a.at, a.id",
        )
        .bind(inquiry_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| {
                Ok(ContactAttemptRecord {
                    id: row.id,
                    callback_task_id: row.callback_task_id,
                    staff_email: row.staff_email,
                    at: from_millis(row.at)?,
                    outcome: row.outcome,
                    note: row.note,
                })
            })
            .collect()
    }
}
