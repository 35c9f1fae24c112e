//! Questionnaires on schedule (SPEC §1 step 6): the clinic's schedule
//! settings as respite-clinical reads them, the sweep that assigns what is
//! due, and the reminder that tells the patient.
//!
//! The sweep is a job of the job queue, enqueued once an hour under the
//! hour's idempotency key by whichever server's worker asks first; it
//! gathers each planned patient's facts, asks
//! `respite_clinical::instruments::schedule` what is due and stores it. A
//! timepoint of an instrument is claimed by a unique index, so two servers
//! sweeping at once assign it once. A reminder job is enqueued with new
//! assignments, at a time outside the person's quiet hours
//! (`respite_domain::booking::text_time`); when it runs it checks that
//! something is still open, picks the channel by the clinic's preference
//! and the patient's consent, and sends the portal's sign-in address,
//! never health data.

use std::collections::BTreeSet;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use respite_clinical::instruments::schedule::{
    due_questionnaires, ConditionGroup, PatientHistory, ScheduleSettings, TimepointKind,
};
use respite_clinical::instruments::Instrument;
use respite_domain::booking;
use respite_domain::messaging::MessageChannel;
use respite_domain::{Email, PhoneNumber};
use respite_store::{
    AuditEntry, AuditStamp, ContactAddress, Job, NewJob, Outcome as AuditOutcome, ScheduleFacts,
    ScheduledAssignment, SmsPermission, Store, StoreError, REMINDER_KEY_PREFIX,
};

use crate::AppState;

/// The sweep's job kind.
pub const SWEEP_JOB: &str = "questionnaire-schedule";
/// The reminder's job kind.
pub const REMINDER_JOB: &str = "questionnaire-reminder";

/// Clinic settings (`clinic_settings` keys).
pub const INSTRUMENTS_SETTING: &str = "questionnaire_instruments";
pub const TIMEPOINTS_SETTING: &str = "questionnaire_timepoints";
pub const CHANNEL_SETTING: &str = "questionnaire_reminder_channel";
/// The reminder channel when the clinic has not chosen one.
pub const DEFAULT_CHANNEL: &str = "sms-then-email";

/// The clinic's schedule settings: the stored choices over
/// respite-clinical's defaults, and the recorded licences.
pub async fn settings(store: &Store) -> Result<ScheduleSettings, StoreError> {
    let mut settings = ScheduleSettings::default();
    if let Some(stored) = store.setting(INSTRUMENTS_SETTING).await? {
        let chosen: BTreeSet<Instrument> = stored
            .split(',')
            .filter_map(|id| Instrument::from_id(id.trim()).ok())
            .collect();
        if !chosen.is_empty() {
            settings.instruments = chosen;
        }
    }
    if let Some(stored) = store.setting(TIMEPOINTS_SETTING).await? {
        let chosen: BTreeSet<TimepointKind> = stored
            .split(',')
            .filter_map(|key| TimepointKind::parse(key.trim()))
            .collect();
        if !chosen.is_empty() {
            settings.timepoints = chosen;
        }
    }
    settings.licences = store
        .questionnaire_licences()
        .await?
        .into_iter()
        .filter_map(|l| Instrument::from_id(&l.licence.instrument).ok())
        .collect();
    Ok(settings)
}

/// The reminder channel preference (one of
/// `words::questionnaires::REMINDER_CHANNELS`).
pub async fn reminder_channel(store: &Store) -> Result<String, StoreError> {
    Ok(store
        .setting(CHANNEL_SETTING)
        .await?
        .filter(|c| crate::words::questionnaires::REMINDER_CHANNELS.contains(&c.as_str()))
        .unwrap_or_else(|| DEFAULT_CHANNEL.to_owned()))
}

/// The patient's history as the schedule reads it: days are the patient's
/// own (their time zone).
pub fn history(facts: &ScheduleFacts) -> PatientHistory {
    let zone = TimeZone::get(&facts.time_zone).unwrap_or(TimeZone::UTC);
    let day = |at: Timestamp| at.to_zoned(zone.clone()).date();
    PatientHistory {
        start: day(facts.plan_created_at),
        infusions: facts.infusions.iter().map(|at| day(*at)).collect(),
        conditions: ConditionGroup::of_codes(facts.condition_codes.iter().map(String::as_str)),
    }
}

/// The patient's day today.
pub fn today_of(time_zone: &str, now: Timestamp) -> Date {
    let zone = TimeZone::get(time_zone).unwrap_or(TimeZone::UTC);
    now.to_zoned(zone).date()
}

/// Asks for this hour's sweep (every server's worker does; the hour's key
/// makes it one job).
pub async fn enqueue_sweep(store: &Store, now: Timestamp) -> Result<(), StoreError> {
    let hour = now.strftime("%Y-%m-%dT%H").to_string();
    store
        .enqueue_job(
            &NewJob {
                kind: SWEEP_JOB.into(),
                idempotency_key: format!("{SWEEP_JOB}-{hour}"),
                consultation_id: None,
                run_at: now,
            },
            now,
        )
        .await
}

/// Assigns every planned patient's due questionnaires; returns how many
/// were assigned.
pub async fn sweep(state: &AppState, now: Timestamp) -> Result<u64, StoreError> {
    let settings = settings(&state.store).await?;
    let mut assigned = 0;
    for patient_id in state.store.scheduled_patients().await? {
        assigned += sweep_patient(state, &settings, patient_id, now).await?;
    }
    Ok(assigned)
}

/// Assigns one patient's due questionnaires (audited as the system, in the
/// same transaction) and enqueues their reminder.
pub async fn sweep_patient(
    state: &AppState,
    settings: &ScheduleSettings,
    patient_id: i64,
    now: Timestamp,
) -> Result<u64, StoreError> {
    let Some(facts) = state.store.schedule_facts(patient_id).await? else {
        return Ok(0);
    };
    let today = today_of(&facts.time_zone, now);
    let assigned: BTreeSet<(Instrument, String)> = facts
        .assigned
        .iter()
        .filter_map(|(id, key)| Some((Instrument::from_id(id).ok()?, key.clone())))
        .collect();
    let due = due_questionnaires(settings, &history(&facts), &assigned, today);
    let Some(first_close) = due.iter().map(|d| d.closes).min() else {
        return Ok(0);
    };
    let items: Vec<ScheduledAssignment> = due
        .iter()
        .map(|d| ScheduledAssignment {
            instrument: d.instrument.id().to_owned(),
            timepoint: d.timepoint.key(),
            due_on: d.due.to_string(),
            closes_on: d.closes.to_string(),
        })
        .collect();
    let reminder = reminder_job(
        &state.config,
        patient_id,
        &facts.time_zone,
        today,
        first_close,
        now,
    );
    let stamp = AuditStamp::new(AuditEntry {
        at: now,
        actor: "system".into(),
        actor_role: "system".into(),
        action: "create".into(),
        resource_type: "QuestionnaireAssignment".into(),
        resource_id: patient_id.to_string(),
        source_address: "job:questionnaire-schedule".into(),
        outcome: AuditOutcome::Success,
    });
    state
        .store
        .stamped(&stamp)
        .assign_scheduled(patient_id, &items, reminder.as_ref(), now)
        .await
}

/// The reminder of the questionnaires assigned today: now, or at the end of
/// the person's quiet hours (the booking reminders' rule, reused), and only
/// while they are open.
fn reminder_job(
    config: &crate::WebConfig,
    patient_id: i64,
    time_zone: &str,
    today: Date,
    first_close: Date,
    now: Timestamp,
) -> Option<NewJob> {
    let zone = TimeZone::get(time_zone).unwrap_or(TimeZone::UTC);
    let closes = zone
        .to_ambiguous_timestamp(first_close.to_datetime(jiff::civil::Time::midnight()))
        .compatible()
        .ok()?;
    let run_at = booking::text_time(now, &zone, config.reminders.quiet_hours, closes)?;
    Some(NewJob {
        kind: REMINDER_JOB.into(),
        idempotency_key: format!("{REMINDER_KEY_PREFIX}{patient_id}-{today}"),
        consultation_id: None,
        run_at,
    })
}

/// What came of a reminder.
pub enum Reminded {
    Sent,
    NotSent(String),
    Failed(String),
    /// Claimed in the person's quiet hours (a server was down when it was
    /// due): sent when they end.
    Later(Timestamp),
}

/// Sends a questionnaire reminder: by the clinic's channel preference, to
/// an address the patient consented to, with the portal's sign-in address
/// and no health data.
pub async fn remind(state: &AppState, job: &Job, now: Timestamp) -> Result<Reminded, StoreError> {
    let Some(patient_id) = job
        .idempotency_key
        .strip_prefix(REMINDER_KEY_PREFIX)
        .and_then(|rest| rest.split('-').next())
        .and_then(|id| id.parse::<i64>().ok())
    else {
        return Ok(Reminded::NotSent("skipped: no patient".into()));
    };
    let Some(patient) = state.store.patient(patient_id).await? else {
        return Ok(Reminded::NotSent("skipped: no patient".into()));
    };
    // Claimed late, in the quiet hours: wait for their end.
    let zone = TimeZone::get(&patient.time_zone).unwrap_or(TimeZone::UTC);
    let far = now + jiff::SignedDuration::from_hours(48);
    if let Some(at) = booking::text_time(now, &zone, state.config.reminders.quiet_hours, far) {
        if at > now {
            return Ok(Reminded::Later(at));
        }
    }
    let today = today_of(&patient.time_zone, now).to_string();
    if !state.store.has_open_scheduled(patient_id, &today).await? {
        return Ok(Reminded::NotSent(
            "skipped: nothing open (answered or closed)".into(),
        ));
    }
    let channel = reminder_channel(&state.store).await?;
    let order: &[&str] = match channel.as_str() {
        "sms-then-email" => &["sms", "email"],
        "email-then-sms" => &["email", "sms"],
        "sms" => &["sms"],
        "email" => &["email"],
        _ => {
            return Ok(Reminded::NotSent(
                "not sent: the clinic sends no reminders".into(),
            ))
        }
    };
    let base = state
        .config
        .messaging
        .public_url
        .clone()
        .unwrap_or_default();
    let url = format!("{}/portal/sign-in", base.trim_end_matches('/'));
    let clinic = crate::pages::clinic_name(state).await?;
    let mut why = Vec::new();
    for way in order {
        match *way {
            "sms" => {
                let Some(phone) = patient
                    .phone_e164
                    .as_deref()
                    .and_then(|p| PhoneNumber::from_e164(p).ok())
                else {
                    why.push("no phone number");
                    continue;
                };
                if state.store.sms_permission(&phone).await? != SmsPermission::Allowed {
                    why.push("no consent to texts, or opted out");
                    continue;
                }
                let body = format!(
                    "{clinic}: you have questionnaires to answer in your patient portal: {url} Reply STOP to stop texts."
                );
                return Ok(match state.sms.send(&phone, &body).await {
                    Ok(_) => Reminded::Sent,
                    Err(err) => Reminded::Failed(format!("provider: {err}")),
                });
            }
            _ => {
                let Some(to) = patient.email.as_deref().and_then(|e| Email::parse(e).ok()) else {
                    why.push("no e-mail address");
                    continue;
                };
                let consent = state
                    .store
                    .consent(&ContactAddress::Email(to.clone()), MessageChannel::Email)
                    .await?;
                if !consent.is_some_and(|c| c.granted) {
                    why.push("no consent to e-mail");
                    continue;
                }
                let Some(settings) = state.config.smtp.as_ref() else {
                    why.push("e-mail is not configured");
                    continue;
                };
                let reply = respite_mail::smtp::Reply {
                    to,
                    subject: format!("{clinic}: questionnaires to answer"),
                    body: format!(
                        "Dear {},\n\nyou have questionnaires to answer in your patient portal. \
                         Sign in at:\n\n{url}\n\n{clinic}\n",
                        patient.given_name
                    ),
                    in_reply_to: None,
                };
                return Ok(match respite_mail::smtp::send(settings, &reply).await {
                    Ok(_) => Reminded::Sent,
                    Err(err) => Reminded::Failed(format!("smtp: {err}")),
                });
            }
        }
    }
    Ok(Reminded::NotSent(format!("not sent: {}", why.join("; "))))
}

/// What the chart shows of a patient's questionnaire schedule.
pub struct ScheduleChart {
    /// The questionnaires the patient answers, and those left out with why.
    pub given: String,
    pub left_out: Vec<String>,
    /// Open now: timepoint, due, instruments, in words.
    pub open: Vec<String>,
    /// The next timepoint the schedule knows, in words.
    pub next: Option<String>,
    /// Timepoints past their window with questionnaires not answered (or
    /// never assigned), in words.
    pub missed: Vec<String>,
}

/// The chart's schedule section for `patient_id`; `None` when the patient
/// has no treatment plan (the schedule starts with it).
pub async fn chart(
    store: &Store,
    patient_id: i64,
    now: Timestamp,
) -> Result<Option<ScheduleChart>, StoreError> {
    use crate::words::portal::instrument_name;
    use crate::words::questionnaires as words;
    use respite_clinical::instruments::schedule::{
        given, instruments_for, next_timepoint, timepoints,
    };

    let Some(facts) = store.schedule_facts(patient_id).await? else {
        return Ok(None);
    };
    let settings = settings(store).await?;
    let history = history(&facts);
    let today = today_of(&facts.time_zone, now);
    let instruments = instruments_for(&settings, &history.conditions);
    let names = |list: &[Instrument]| {
        list.iter()
            .map(|i| instrument_name(i.id()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let left_out = settings
        .instruments
        .iter()
        .filter(|i| **i != Instrument::ModifiedAldrete)
        .filter_map(|i| {
            given(&settings, *i, &history.conditions)
                .err()
                .map(|why| format!("{}: {}", instrument_name(i.id()), words::not_given(why)))
        })
        .collect();
    let rows = store.scheduled_questionnaires_of(patient_id).await?;
    let mut open: Vec<String> = Vec::new();
    let mut missed: Vec<String> = Vec::new();
    let mut keys: Vec<&str> = Vec::new();
    for row in &rows {
        if !keys.contains(&row.timepoint.as_str()) {
            keys.push(&row.timepoint);
        }
    }
    for key in keys {
        let of_key: Vec<_> = rows.iter().filter(|r| r.timepoint == key).collect();
        let (Some(due), Some(closes)) = (
            of_key[0].due_on.parse::<Date>().ok(),
            of_key[0].closes_on.parse::<Date>().ok(),
        ) else {
            continue;
        };
        let unanswered: Vec<String> = of_key
            .iter()
            .filter(|r| r.submitted_at.is_none())
            .map(|r| instrument_name(&r.instrument))
            .collect();
        if unanswered.is_empty() {
            continue;
        }
        let last = closes.yesterday().unwrap_or(closes);
        if today >= closes {
            missed.push(format!(
                "{}: {} not answered (open until {})",
                words::timepoint_for_staff(key),
                unanswered.join(", "),
                crate::words::plan::long_date(last)
            ));
        } else {
            open.push(format!(
                "{}, due {}, open until {}: {}",
                words::timepoint_for_staff(key),
                crate::words::plan::long_date(due),
                crate::words::plan::long_date(last),
                unanswered.join(", ")
            ));
        }
    }
    // Timepoints whose window passed before any questionnaire was assigned
    // (no sweep ran in time, or the facts arrived late) — counted from the
    // first scheduled questionnaire: before it the schedule was not running
    // for this patient (a chart older than the schedule).
    let schedule_began = rows
        .iter()
        .filter_map(|r| r.due_on.parse::<Date>().ok())
        .min();
    for point in timepoints(&settings, &history, today) {
        let key = point.timepoint.key();
        let before_schedule = schedule_began.is_none_or(|began| point.closes <= began);
        if today >= point.closes && !before_schedule && !rows.iter().any(|r| r.timepoint == key) {
            missed.push(format!(
                "{}: not assigned in time (open until {})",
                words::timepoint_for_staff(&key),
                crate::words::plan::long_date(point.closes.yesterday().unwrap_or(point.closes))
            ));
        }
    }
    // The latest first; a long history shows its six latest and a count.
    missed.reverse();
    if missed.len() > 6 {
        let earlier = missed.len() - 6;
        missed.truncate(6);
        missed.push(format!("and {earlier} earlier"));
    }
    let next = next_timepoint(&settings, &history, today).map(|point| {
        format!(
            "{}, due {}: {}",
            words::timepoint_for_staff(&point.timepoint.key()),
            crate::words::plan::long_date(point.due),
            names(&instruments)
        )
    });
    Ok(Some(ScheduleChart {
        given: names(&instruments),
        left_out,
        open,
        next,
        missed,
    }))
}
