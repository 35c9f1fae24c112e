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
    crate::questionnaire_schedule::enqueue_sweep(&state.store, state.config.clock.now()).await?;
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
    /// Work done that sends nothing itself (the questionnaire schedule's
    /// sweep).
    Done,
    /// Not now (the person's quiet hours): tried again at this time.
    Later(Timestamp),
    /// Done without sending, and why (no address, no consent, moved…).
    NotSent(String),
    /// The provider or server failed: tried again later.
    Failed(String),
}

/// Runs one claimed job; true when a message was sent.
async fn run(state: &AppState, job: &Job) -> Result<bool, StoreError> {
    let now = state.config.clock.now();
    if let Some(outcome) = portal_job(state, job, now).await? {
        return settle(state, job, outcome, now).await;
    }
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
    settle(state, job, outcome, now).await
}

/// Records what came of a job: done, given up, or put back to retry.
async fn settle(
    state: &AppState,
    job: &Job,
    outcome: Outcome,
    now: Timestamp,
) -> Result<bool, StoreError> {
    match outcome {
        Outcome::Sent => {
            state.store.finish_job(job.id, now, None).await?;
            Ok(true)
        }
        Outcome::Done => {
            state.store.finish_job(job.id, now, None).await?;
            Ok(false)
        }
        Outcome::Later(at) => {
            state
                .store
                .retry_job(job.id, at, "waiting for the end of the quiet hours")
                .await?;
            Ok(false)
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
    let clinic = &crate::pages::clinic_name(state).await?;
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
    let clinic = &crate::pages::clinic_name(state).await?;
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

/// The portal's jobs: a sign-in link to make and send, a safety alert to
/// escalate. `None` for other kinds.
async fn portal_job(
    state: &AppState,
    job: &Job,
    now: Timestamp,
) -> Result<Option<Outcome>, StoreError> {
    match job.kind.as_str() {
        crate::pages::portal_staff::LINK_JOB => Ok(Some(portal_link(state, job, now).await?)),
        crate::pages::portal::ESCALATION_JOB => Ok(Some(escalate(state, job, now).await?)),
        crate::questionnaire_schedule::SWEEP_JOB => {
            crate::questionnaire_schedule::sweep(state, now).await?;
            // The clinic-wide results' course summaries of the patients
            // whose facts changed this hour, ahead of the next reader (the
            // results page refreshes what is still marked when it is read).
            let baseline = respite_clinical::outcomes::BaselineSettings::default();
            state.store.refresh_courses(&baseline, now).await?;
            // A day of finished sweeps is kept, to read when one failed.
            let kept = now - SignedDuration::from_hours(24);
            state
                .store
                .forget_finished_jobs(job.kind.as_str(), kept)
                .await?;
            Ok(Some(Outcome::Done))
        }
        crate::questionnaire_schedule::REMINDER_JOB => {
            use crate::questionnaire_schedule::Reminded;
            Ok(Some(
                match crate::questionnaire_schedule::remind(state, job, now).await? {
                    Reminded::Sent => Outcome::Sent,
                    Reminded::NotSent(why) => Outcome::NotSent(why),
                    Reminded::Failed(why) => Outcome::Failed(why),
                    Reminded::Later(at) => Outcome::Later(at),
                },
            ))
        }
        _ => Ok(None),
    }
}

/// Makes the link's token (only its hash is stored), starts its expiry and
/// sends it, by e-mail or text, to the chart's address with consent.
async fn portal_link(state: &AppState, job: &Job, now: Timestamp) -> Result<Outcome, StoreError> {
    let Some(id) = job
        .idempotency_key
        .strip_prefix("portal-link-")
        .and_then(|id| id.parse::<i64>().ok())
    else {
        return Ok(Outcome::NotSent("skipped: no link".into()));
    };
    let Some(link) = state.store.portal_link(id).await? else {
        return Ok(Outcome::NotSent("skipped: no link".into()));
    };
    if link.sent {
        return Ok(Outcome::NotSent("skipped: sent already".into()));
    }
    let Some(patient) = state.store.patient(link.patient_id).await? else {
        return Ok(Outcome::NotSent("skipped: no patient".into()));
    };
    // Without the public address only the outbox (the demo) can take a
    // link, which then names the path alone.
    let base = match (
        &state.config.messaging.public_url,
        &state.config.mail_outbox,
    ) {
        (Some(base), _) => base.clone(),
        (None, Some(_)) => String::new(),
        (None, None) => {
            return Ok(Outcome::NotSent(
                "not sent: the server's public address (RESPITE_PUBLIC_URL) is not set".into(),
            ))
        }
    };
    let lifetime = crate::portal_auth::link_lifetime(&state.store).await?;
    let (token, hash) = crate::portal_auth::new_token();
    let url = format!("{}/portal/link?token={token}", base.trim_end_matches('/'));
    let clinic = crate::pages::clinic_name(state).await?;
    let minutes = lifetime.as_mins();
    match link.channel.as_str() {
        "email" => {
            let Some(to) = patient.email.as_deref().and_then(|e| Email::parse(e).ok()) else {
                return Ok(Outcome::NotSent("skipped: no e-mail address".into()));
            };
            let consent = state
                .store
                .consent(
                    &respite_store::ContactAddress::Email(to.clone()),
                    respite_domain::messaging::MessageChannel::Email,
                )
                .await?;
            if !consent.is_some_and(|c| c.granted) {
                return Ok(Outcome::NotSent("not sent: no consent to e-mail".into()));
            }
            let settings = state.config.smtp.as_ref();
            if settings.is_none() && state.config.mail_outbox.is_none() {
                return Ok(Outcome::NotSent(
                    "not sent: e-mail is not configured".into(),
                ));
            }
            if !state
                .store
                .arm_portal_link(id, &hash, now, now + lifetime)
                .await?
            {
                return Ok(Outcome::NotSent("skipped: sent already".into()));
            }
            let body = format!(
                "Dear {},\n\nto answer your questionnaires and see your appointments, open your \
                 patient portal:\n\n{url}\n\nThe link works once, for {minutes} minutes. If it has \
                 expired, ask us for a new one.\n\n{clinic}\n",
                patient.given_name
            );
            let reply = respite_mail::smtp::Reply {
                to,
                subject: format!("Your patient portal at {clinic}"),
                body,
                in_reply_to: None,
            };
            let Some(settings) = settings else {
                return Ok(write_to_outbox(state, id, &reply));
            };
            Ok(match respite_mail::smtp::send(settings, &reply).await {
                Ok(_) => Outcome::Sent,
                Err(err) => Outcome::NotSent(format!("smtp: {err}")),
            })
        }
        _ => {
            let Some(phone) = patient
                .phone_e164
                .as_deref()
                .and_then(|p| PhoneNumber::from_e164(p).ok())
            else {
                return Ok(Outcome::NotSent("skipped: no phone number".into()));
            };
            if state.store.sms_permission(&phone).await? != respite_store::SmsPermission::Allowed {
                return Ok(Outcome::NotSent(
                    "not sent: no consent to texts, or opted out".into(),
                ));
            }
            if !state
                .store
                .arm_portal_link(id, &hash, now, now + lifetime)
                .await?
            {
                return Ok(Outcome::NotSent("skipped: sent already".into()));
            }
            let body = format!(
                "{clinic}: your patient portal: {url} (works once, for {minutes} minutes). Reply STOP to stop texts."
            );
            Ok(match state.sms.send(&phone, &body).await {
                Ok(_) => Outcome::Sent,
                Err(err) => Outcome::NotSent(format!("provider: {err}")),
            })
        }
    }
}

/// The setting naming the on-call contact's e-mail for safety escalations.
pub const ON_CALL_EMAIL_SETTING: &str = "safety_on_call_email";
/// The setting naming the on-call contact's phone (E.164).
pub const ON_CALL_PHONE_SETTING: &str = "safety_on_call_phone";

/// Escalates a safety alert still unacknowledged after its time, once:
/// the claim is one conditional UPDATE (`claim_safety_escalation`), so of
/// several servers running the queue only one sends.
async fn escalate(state: &AppState, job: &Job, now: Timestamp) -> Result<Outcome, StoreError> {
    let Some(id) = job
        .idempotency_key
        .strip_prefix(respite_store::ESCALATION_KEY_PREFIX)
        .and_then(|id| id.parse::<i64>().ok())
    else {
        return Ok(Outcome::NotSent("skipped: no alert".into()));
    };
    let email = state.store.setting(ON_CALL_EMAIL_SETTING).await?;
    let phone = state.store.setting(ON_CALL_PHONE_SETTING).await?;
    let how = match (&email, &phone) {
        (Some(e), _) => format!("e-mail to {e}"),
        (None, Some(p)) => format!("text to {p}"),
        (None, None) => "no on-call contact is set: shown to administrators only".to_owned(),
    };
    if !state.store.claim_safety_escalation(id, &how, now).await? {
        return Ok(Outcome::NotSent(
            "skipped: acknowledged, or escalated already".into(),
        ));
    }
    let clinic = crate::pages::clinic_name(state).await?;
    // No health data beyond what the on-call clinician needs to act: the
    // alert and where to see it.
    let text = format!(
        "{clinic}: a PHQ-9 safety alert (self-harm thoughts reported) has not been acknowledged in time. \
         Open /staff/alerts and act now (alert {id})."
    );
    let sent = if let Some(to) = email.as_deref().and_then(|e| Email::parse(e).ok()) {
        match state.config.smtp.as_ref() {
            Some(settings) => respite_mail::smtp::send(
                settings,
                &respite_mail::smtp::Reply {
                    to,
                    subject: format!("{clinic}: safety alert not acknowledged"),
                    body: text,
                    in_reply_to: None,
                },
            )
            .await
            .map(|_| ())
            .map_err(|err| format!("smtp: {err}")),
            None => Err("e-mail is not configured".to_owned()),
        }
    } else if let Some(to) = phone
        .as_deref()
        .and_then(|p| PhoneNumber::from_e164(p).ok())
    {
        state
            .sms
            .send(&to, &text)
            .await
            .map(|_| ())
            .map_err(|err| format!("provider: {err}"))
    } else {
        Err("no on-call contact".to_owned())
    };
    Ok(match sent {
        Ok(()) => Outcome::Sent,
        Err(err) => {
            state
                .store
                .record_safety_escalation(id, &format!("{how} — not sent: {err}"))
                .await?;
            Outcome::NotSent(err)
        }
    })
}

/// Writes a portal e-mail to the outbox folder (the demo's stand-in for a
/// mail server), one file per link.
fn write_to_outbox(state: &AppState, link_id: i64, reply: &respite_mail::smtp::Reply) -> Outcome {
    let Some(dir) = &state.config.mail_outbox else {
        return Outcome::NotSent("not sent: e-mail is not configured".into());
    };
    let text = format!(
        "To: {}\nSubject: {}\n\n{}",
        reply.to.as_str(),
        reply.subject,
        reply.body
    );
    let written = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(dir.join(format!("portal-link-{link_id}.eml")), text));
    match written {
        Ok(()) => Outcome::Sent,
        Err(err) => Outcome::Failed(format!("outbox: {err}")),
    }
}
