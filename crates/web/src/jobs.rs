//! The worker of the job queue (`respite_store`'s `jobs` table): the
//! confirmation text and the reminders of a booked consultation. Jobs are
//! enqueued in the booking's transaction and done here, by whichever server
//! claims them; every text goes through [`crate::sms::send_text`] (STOP and
//! consent), never in the person's quiet hours
//! ([`respite_domain::booking::text_time`]).

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use respite_domain::booking::{self, NewBooking};
use respite_domain::PhoneNumber;
use respite_store::{Job, NewJob, StoreError};

use crate::sms::SendError;
use crate::{AppState, WebConfig};

/// How long a claimed job is reserved for its worker before another may
/// try it (the worker died).
const LEASE: SignedDuration = SignedDuration::from_mins(5);
/// Tries before a failing job is given up.
const MAX_ATTEMPTS: i64 = 5;

pub const CONFIRMATION: &str = "confirmation-sms";
pub const REMINDER: &str = "reminder-sms";

/// The jobs of a new (or moved) booking: its confirmation now and a
/// reminder at each configured lead time, each moved out of the person's
/// quiet hours or skipped when that would be after the call. The
/// idempotency key is the booking, the kind (with the lead time) and the
/// start, so a moved booking gets new reminders and the old ones finish
/// unsent.
pub fn booking_jobs(
    config: &WebConfig,
    id: i64,
    booking: &NewBooking,
    now: Timestamp,
) -> Vec<NewJob> {
    let zone = TimeZone::get(&booking.time_zone).unwrap_or(TimeZone::UTC);
    let starts = booking.slot.starts_at;
    let key = |kind: &str| format!("consultation-{id}:{kind}:{}", starts.as_millisecond());
    let mut jobs = Vec::new();
    let quiet = config.reminders.quiet_hours;
    if let Some(run_at) = booking::text_time(now, &zone, quiet, starts) {
        jobs.push(NewJob {
            kind: CONFIRMATION.into(),
            idempotency_key: key(CONFIRMATION),
            consultation_id: Some(id),
            run_at,
        });
    }
    for lead in &config.reminders.before {
        let wanted = starts - *lead;
        if wanted < now {
            continue;
        }
        if let Some(run_at) = booking::text_time(wanted, &zone, quiet, starts) {
            let kind = format!("{REMINDER}-{}m", lead.as_mins());
            jobs.push(NewJob {
                idempotency_key: key(&kind),
                kind: REMINDER.into(),
                consultation_id: Some(id),
                run_at,
            });
        }
    }
    jobs
}

/// Claims and runs the jobs due now; returns how many texts were sent.
pub async fn run_due(state: &AppState) -> Result<usize, StoreError> {
    let mut sent = 0;
    loop {
        let now = state.config.clock.now();
        let jobs = state.store.claim_due_jobs(now, LEASE, 20).await?;
        if jobs.is_empty() {
            return Ok(sent);
        }
        for job in jobs {
            if run(state, &job).await? {
                sent += 1;
            }
        }
    }
}

/// Runs one claimed job; true when a text was sent.
async fn run(state: &AppState, job: &Job) -> Result<bool, StoreError> {
    let now = state.config.clock.now();
    let Some(record) = (match job.consultation_id {
        Some(id) => state.store.consultation(id).await?,
        None => None,
    }) else {
        state
            .store
            .finish_job(job.id, now, Some("skipped: no consultation"))
            .await?;
        return Ok(false);
    };
    let starts_ms = record.starts_at.as_millisecond().to_string();
    if record.status != "booked" || !job.idempotency_key.ends_with(&format!(":{starts_ms}")) {
        state
            .store
            .finish_job(
                job.id,
                now,
                Some("skipped: the consultation was moved or is no longer booked"),
            )
            .await?;
        return Ok(false);
    }
    let (Some(inquiry_id), Some(phone)) = (
        record.inquiry_id,
        record
            .phone_e164
            .as_deref()
            .and_then(|p| PhoneNumber::from_e164(p).ok()),
    ) else {
        state
            .store
            .finish_job(job.id, now, Some("skipped: no phone number"))
            .await?;
        return Ok(false);
    };
    let zone = TimeZone::get(&record.time_zone).unwrap_or(TimeZone::UTC);
    let when = record
        .starts_at
        .to_zoned(zone)
        .strftime("%A %-d %B, %-I:%M %p %Z");
    let clinic = &state.config.clinic_name;
    let body = if job.kind == CONFIRMATION {
        format!("{clinic}: your free 15-minute phone consultation is booked for {when}. We will call you then. Reply STOP to stop texts.")
    } else {
        format!("{clinic}: a reminder that we will call you for your free phone consultation on {when}. Reply STOP to stop texts.")
    };
    match crate::sms::send_text(state, inquiry_id, &phone, &body).await {
        Ok(_) => {
            state.store.finish_job(job.id, now, None).await?;
            Ok(true)
        }
        Err(err @ (SendError::OptedOut | SendError::NoConsent)) => {
            let error = format!("not sent: {err}");
            state.store.finish_job(job.id, now, Some(&error)).await?;
            Ok(false)
        }
        Err(SendError::Store(err)) => Err(err),
        Err(SendError::Provider(err)) => {
            let error = format!("provider: {err}");
            if job.attempts >= MAX_ATTEMPTS {
                state.store.finish_job(job.id, now, Some(&error)).await?;
            } else {
                // 2, 4, 8, 16 minutes.
                let backoff = SignedDuration::from_mins(1 << job.attempts.clamp(1, 4));
                state.store.retry_job(job.id, now + backoff, &error).await?;
            }
            tracing::warn!(job = job.id, kind = %job.kind, "text job failed; see its last_error");
            Ok(false)
        }
    }
}
