//! The worker of the job queue (`respite_store`'s `jobs` table): the
//! confirmations, the reminders and the cancellation notice of a
//! consultation, by text and by e-mail (with the `.ics` attached). Jobs are enqueued in the booking's
//! transaction and done here, by whichever server claims them; every text
//! goes through [`crate::sms::send_text`] (STOP and consent) and every
//! e-mail through [`crate::email::send_email_with`] (consent); reminders
//! never go in the person's quiet hours
//! ([`respite_domain::booking::text_time`]).

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use respite_domain::booking::{self, ConsultationStatus, NewBooking};
use respite_domain::{Email, PhoneNumber};
use respite_mail::smtp::Attachment;
use respite_store::{ConsultationRecord, Job, NewJob, StoreError};

use crate::email::SendEmailError;
use crate::sms::SendError;
use crate::{AppState, WebConfig};

/// How long a claimed job is reserved for its worker before another may
/// try it (the worker died).
const LEASE: SignedDuration = SignedDuration::from_mins(5);
/// Tries before a failing job is given up.
const MAX_ATTEMPTS: i64 = 5;

pub const CONFIRMATION: &str = "confirmation-sms";
pub const REMINDER: &str = "reminder-sms";
pub const CONFIRMATION_EMAIL: &str = "confirmation-email";
pub const REMINDER_EMAIL: &str = "reminder-email";
pub const CANCELLATION: &str = "cancellation-sms";
pub const CANCELLATION_EMAIL: &str = "cancellation-email";
/// The notice of a cancellation by the clinic (staff), which says so.
pub const CLINIC_CANCELLATION: &str = "clinic-cancellation-sms";
pub const CLINIC_CANCELLATION_EMAIL: &str = "clinic-cancellation-email";

/// The jobs that tell a person their consultation is cancelled: a text
/// (outside the quiet hours, and only while it is still before the call's
/// time) to a phone number, an e-mail with the cancelled `.ics` at once to
/// an address. `by_clinic`: staff cancelled it, and the notice says so.
pub fn cancellation_jobs(
    config: &WebConfig,
    record: &ConsultationRecord,
    now: Timestamp,
    by_clinic: bool,
) -> Vec<NewJob> {
    let (sms_kind, email_kind) = if by_clinic {
        (CLINIC_CANCELLATION, CLINIC_CANCELLATION_EMAIL)
    } else {
        (CANCELLATION, CANCELLATION_EMAIL)
    };
    let zone = TimeZone::get(&record.time_zone).unwrap_or(TimeZone::UTC);
    let starts = record.starts_at;
    let job = |kind: &str, run_at| NewJob {
        kind: kind.into(),
        idempotency_key: format!(
            "consultation-{}:{kind}:{}",
            record.id,
            starts.as_millisecond()
        ),
        consultation_id: Some(record.id),
        run_at,
    };
    let mut jobs = Vec::new();
    if record.phone_e164.is_some() {
        if let Some(run_at) = booking::text_time(now, &zone, config.reminders.quiet_hours, starts) {
            jobs.push(job(sms_kind, run_at));
        }
    }
    if record.email.is_some() {
        jobs.push(job(email_kind, now));
    }
    jobs
}

/// The jobs of a new (or moved) booking: a confirmation and a reminder at
/// each configured lead time, by text when the booking has a phone number
/// and by e-mail when it has an address (consent is checked when each job
/// runs).
/// Texts and reminders are moved out of the person's quiet hours, or
/// skipped when that would be after the call; the e-mail confirmation goes
/// at once, as the person has just booked. The idempotency key is the
/// booking, the kind (with the lead time) and the start, so a moved booking
/// gets new messages and the old ones finish unsent.
pub fn booking_jobs(
    config: &WebConfig,
    id: i64,
    booking: &NewBooking,
    now: Timestamp,
) -> Vec<NewJob> {
    let zone = TimeZone::get(&booking.time_zone).unwrap_or(TimeZone::UTC);
    let starts = booking.slot.starts_at;
    let quiet = config.reminders.quiet_hours;
    let job = |kind: &str, key_kind: &str, run_at| NewJob {
        kind: kind.into(),
        idempotency_key: format!("consultation-{id}:{key_kind}:{}", starts.as_millisecond()),
        consultation_id: Some(id),
        run_at,
    };
    let by_text = booking.phone.is_some();
    let by_email = booking.email.is_some();
    let mut jobs = Vec::new();
    if by_text {
        if let Some(run_at) = booking::text_time(now, &zone, quiet, starts) {
            jobs.push(job(CONFIRMATION, CONFIRMATION, run_at));
        }
    }
    if by_email && now < starts {
        jobs.push(job(CONFIRMATION_EMAIL, CONFIRMATION_EMAIL, now));
    }
    for lead in &config.reminders.before {
        let wanted = starts - *lead;
        if wanted < now {
            continue;
        }
        if let Some(run_at) = booking::text_time(wanted, &zone, quiet, starts) {
            let kinds = [(REMINDER, by_text), (REMINDER_EMAIL, by_email)];
            for (kind, _) in kinds.into_iter().filter(|(_, wanted)| *wanted) {
                jobs.push(job(kind, &format!("{kind}-{}m", lead.as_mins()), run_at));
            }
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

/// What came of one job.
enum Outcome {
    Sent,
    /// Done without sending, and why (no address, no consent, moved…).
    NotSent(String),
    /// The provider or server failed: tried again later.
    Failed(String),
}

/// Runs one claimed job; true when a message was sent.
async fn run(state: &AppState, job: &Job) -> Result<bool, StoreError> {
    let now = state.config.clock.now();
    let record = match job.consultation_id {
        Some(id) => state.store.consultation(id).await?,
        None => None,
    };
    let outcome = match record {
        None => Outcome::NotSent("skipped: no consultation".into()),
        Some(record)
            if record.status != wanted_status(&job.kind)
                || !job
                    .idempotency_key
                    .ends_with(&format!(":{}", record.starts_at.as_millisecond())) =>
        {
            Outcome::NotSent(format!(
                "skipped: the consultation was moved or is no longer {}",
                wanted_status(&job.kind)
            ))
        }
        Some(ConsultationRecord {
            inquiry_id: None, ..
        }) => Outcome::NotSent("skipped: the consultation has no thread".into()),
        Some(record) => match job.kind.as_str() {
            CONFIRMATION | REMINDER | CANCELLATION | CLINIC_CANCELLATION => {
                text(state, job, &record).await?
            }
            CONFIRMATION_EMAIL
            | REMINDER_EMAIL
            | CANCELLATION_EMAIL
            | CLINIC_CANCELLATION_EMAIL => email(state, job, &record).await?,
            other => Outcome::NotSent(format!("skipped: unknown kind `{other}`")),
        },
    };
    match outcome {
        Outcome::Sent => {
            state.store.finish_job(job.id, now, None).await?;
            Ok(true)
        }
        Outcome::NotSent(reason) => {
            state.store.finish_job(job.id, now, Some(&reason)).await?;
            Ok(false)
        }
        Outcome::Failed(error) => {
            if job.attempts >= MAX_ATTEMPTS {
                state.store.finish_job(job.id, now, Some(&error)).await?;
            } else {
                // 2, 4, 8, 16 minutes.
                let backoff = SignedDuration::from_mins(1 << job.attempts.clamp(1, 4));
                state.store.retry_job(job.id, now + backoff, &error).await?;
            }
            tracing::warn!(job = job.id, kind = %job.kind, "message job failed; see its last_error");
            Ok(false)
        }
    }
}

/// The status a consultation must still have for a job of `kind` to be
/// sent: a confirmation or reminder of a booking that was cancelled since
/// is not sent, nor a cancellation of one that is booked again.
fn wanted_status(kind: &str) -> ConsultationStatus {
    match kind {
        CANCELLATION | CANCELLATION_EMAIL | CLINIC_CANCELLATION | CLINIC_CANCELLATION_EMAIL => {
            ConsultationStatus::Cancelled
        }
        _ => ConsultationStatus::Booked,
    }
}

/// The call's start on the person's clock, e.g. `Monday 23 November,
/// 12:00 PM CST`.
fn person_time(record: &ConsultationRecord) -> String {
    let zone = TimeZone::get(&record.time_zone).unwrap_or(TimeZone::UTC);
    record
        .starts_at
        .to_zoned(zone)
        .strftime("%A %-d %B, %-I:%M %p %Z")
        .to_string()
}

/// The signed link to see, move or cancel the consultation, when the
/// server knows the address people reach it at (`RESPITE_PUBLIC_URL`).
async fn change_link(
    state: &AppState,
    record: &ConsultationRecord,
) -> Result<Option<String>, StoreError> {
    let Some(base) = &state.config.messaging.public_url else {
        return Ok(None);
    };
    let secret = crate::booking_token::secret(state).await?;
    let token = crate::booking_token::sign(&secret, record.id, record.starts_at);
    Ok(Some(format!(
        "{}/consultations/booking?token={token}",
        base.trim_end_matches('/')
    )))
}

async fn text(
    state: &AppState,
    job: &Job,
    record: &ConsultationRecord,
) -> Result<Outcome, StoreError> {
    let (Some(inquiry_id), Some(phone)) = (
        record.inquiry_id,
        record
            .phone_e164
            .as_deref()
            .and_then(|p| PhoneNumber::from_e164(p).ok()),
    ) else {
        return Ok(Outcome::NotSent("skipped: no phone number".into()));
    };
    let when = person_time(record);
    let clinic = &state.config.clinic_name;
    let link = change_link(state, record).await?;
    let change = match &link {
        Some(link) => format!(" To change or cancel: {link}"),
        None => String::new(),
    };
    // The cancelled consultation's link offers the times to book again.
    let again = match &link {
        Some(link) => format!(" To book a new time: {link}"),
        None => String::new(),
    };
    let body = match job.kind.as_str() {
        // A confirmation after a move (the sequence was raised) says so.
        CONFIRMATION if record.sequence > 0 => format!("{clinic}: your free 15-minute phone consultation has moved to {when}. We will call you then.{change} Reply STOP to stop texts."),
        CONFIRMATION => format!("{clinic}: your free 15-minute phone consultation is booked for {when}. We will call you then.{change} Reply STOP to stop texts."),
        CANCELLATION => format!("{clinic}: your free phone consultation on {when} is cancelled. You are welcome to book a new time.{again} Reply STOP to stop texts."),
        CLINIC_CANCELLATION => format!("{clinic}: we are sorry, we had to cancel your free phone consultation on {when}. We will call you to find a new time.{again} Reply STOP to stop texts."),
        _ => format!("{clinic}: a reminder that we will call you for your free phone consultation on {when}.{change} Reply STOP to stop texts."),
    };
    Ok(
        match crate::sms::send_text(state, inquiry_id, &phone, &body).await {
            Ok(_) => Outcome::Sent,
            Err(err @ (SendError::OptedOut | SendError::NoConsent)) => {
                Outcome::NotSent(format!("not sent: {err}"))
            }
            Err(SendError::Store(err)) => return Err(err),
            Err(SendError::Provider(err)) => Outcome::Failed(format!("provider: {err}")),
        },
    )
}

async fn email(
    state: &AppState,
    job: &Job,
    record: &ConsultationRecord,
) -> Result<Outcome, StoreError> {
    let (Some(inquiry_id), Some(to)) = (
        record.inquiry_id,
        record.email.as_deref().and_then(|e| Email::parse(e).ok()),
    ) else {
        return Ok(Outcome::NotSent("skipped: no e-mail address".into()));
    };
    let when = person_time(record);
    let clinic = &state.config.clinic_name;
    let name = &record.name;
    let cancelled = job.kind == CANCELLATION_EMAIL || job.kind == CLINIC_CANCELLATION_EMAIL;
    let (subject, body) = if cancelled {
        let again = match change_link(state, record).await? {
            Some(link) => format!("You are welcome to book a new time at {link}\n"),
            None => "You are welcome to book a new time by replying to this e-mail.\n".to_owned(),
        };
        let what = if job.kind == CLINIC_CANCELLATION_EMAIL {
            format!(
                "we are sorry: we had to cancel your free phone consultation with {clinic} on \
                 {when} (your time). We will call you to find a new time."
            )
        } else {
            format!(
                "your free phone consultation with {clinic} on {when} (your time) is cancelled."
            )
        };
        (
            format!("Cancelled: your free phone consultation on {when}"),
            format!(
                "Dear {name},\n\n{what}\n\n{again}\
                 The attached file consultation.ics removes the call from your calendar.\n\n{clinic}\n"
            ),
        )
    } else {
        let (subject, opening) = if job.kind == CONFIRMATION_EMAIL && record.sequence > 0 {
            (
                format!("Moved: your free phone consultation is now {when}"),
                format!("your free 15-minute phone consultation with {clinic} has moved to {when} (your time)."),
            )
        } else if job.kind == CONFIRMATION_EMAIL {
            (
                format!("Your free phone consultation: {when}"),
                format!("your free 15-minute phone consultation with {clinic} is booked for {when} (your time)."),
            )
        } else {
            (
                format!("Reminder: your free phone consultation on {when}"),
                format!("a reminder of your free 15-minute phone consultation with {clinic} on {when} (your time)."),
            )
        };
        let number = record
            .phone_e164
            .as_deref()
            .unwrap_or("the number you gave us");
        let change = match change_link(state, record).await? {
            Some(link) => format!("To reschedule or cancel, open {link}\n"),
            None => "To reschedule or cancel, reply to this e-mail or call us.\n".to_owned(),
        };
        (
            subject,
            format!(
                "Dear {name},\n\n{opening} {staff} will call you at {number}.\n\n{change}\
                 The attached file consultation.ics puts the call in your calendar.\n\n{clinic}\n",
                staff = record.staff_name,
            ),
        )
    };
    // A cancellation is the same event (UID) with a higher SEQUENCE under
    // METHOD:CANCEL, so the person's calendar removes it (RFC 5546 §3.2.5).
    let method = if cancelled {
        crate::ical::Method::Cancel
    } else {
        crate::ical::Method::Publish
    };
    let ics = crate::ical::calendar_with(
        clinic,
        method,
        &[crate::ical::person_event(clinic, record)],
        state.config.clock.now(),
    );
    let attachment = Attachment {
        filename: "consultation.ics".into(),
        content_type: format!("text/calendar; charset=utf-8; method={}", method.as_str()),
        body: ics.into_bytes(),
    };
    Ok(
        match crate::email::send_email_with(state, inquiry_id, &to, &subject, &body, &[attachment])
            .await
        {
            Ok(_) => Outcome::Sent,
            Err(err @ (SendEmailError::NoConsent | SendEmailError::NotConfigured)) => {
                Outcome::NotSent(format!("not sent: {err}"))
            }
            Err(SendEmailError::Store(err)) => return Err(err),
            Err(SendEmailError::Smtp(err)) => Outcome::Failed(format!("smtp: {err}")),
        },
    )
}
