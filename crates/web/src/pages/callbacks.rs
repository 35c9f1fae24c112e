//! Best-time callbacks (SPEC §3, the front desk's queue): open callbacks
//! ordered by the next opening of the person's contact windows, shown on
//! both clocks, and the log of attempts to reach them. The consultation note
//! and the chart are in `consultation_notes`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use respite_domain::callbacks::{self, AttemptOutcome, Opening};
use respite_domain::Permission;
use respite_store::{AttemptPolicy, AuditStamp, NewContactAttempt, OpenCallback};
use serde::Deserialize;

use super::{parse_id, render, Nav, StaffPage};
use crate::{AppError, AppState};

/// The most callbacks one page lists.
const QUEUE_LIMIT: i64 = 500;
/// The longest note on an attempt.
const ATTEMPT_NOTE_MAX_CHARS: usize = 1000;

/// One callback as the queue shows it.
pub struct QueueRow {
    pub task: OpenCallback,
    /// The next opening in Unix milliseconds (the sort key; also a data
    /// attribute the browser test reads).
    pub opening_ms: i64,
    pub open_now: bool,
    pub overdue: bool,
    /// The next opening on the person's clock, or why there is none.
    pub person_time: String,
    /// The same opening on the clinic's clock.
    pub clinic_time: String,
    pub last_attempt: String,
}

#[derive(Template)]
#[template(path = "callbacks.html")]
struct QueuePage {
    nav: Nav,
    rows: Vec<QueueRow>,
    clinic_zone: String,
    now: String,
    can_log: bool,
    logged: bool,
    outcomes: &'static [AttemptOutcome],
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct QueueQuery {
    logged: Option<String>,
}

pub async fn queue(
    State(state): State<AppState>,
    page: StaffPage,
    Query(query): Query<QueueQuery>,
) -> Result<Response, AppError> {
    let now = page.now;
    let mut rows: Vec<(Timestamp, QueueRow)> = state
        .store
        .open_callbacks(QUEUE_LIMIT)
        .await?
        .into_iter()
        .map(|task| queue_row(task, now, &page.zone))
        .collect();
    // By next opening; a callback without a usable window counts as open
    // now; ties by age.
    rows.sort_by_key(|(start, row)| (*start, row.task.created_at, row.task.task_id));
    render(&QueuePage {
        nav: page.nav(),
        rows: rows.into_iter().map(|(_, row)| row).collect(),
        now: page.time(now),
        clinic_zone: state.config.clinic_time_zone.clone(),
        can_log: page.may(Permission::WriteInquiries),
        logged: query.logged.is_some(),
        outcomes: AttemptOutcome::ALL,
    })
}

fn queue_row(task: OpenCallback, now: Timestamp, clinic_tz: &TimeZone) -> (Timestamp, QueueRow) {
    let person_tz = TimeZone::get(&task.time_zone).ok();
    let windows = callbacks::parse_windows(&task.contact_windows).ok();
    let last_attempt = task
        .last_attempt_at
        .map(|at| {
            format!(
                "{} ({} so far)",
                at.to_zoned(clinic_tz.clone()).strftime("%a %-d %b %H:%M"),
                task.attempts
            )
        })
        .unwrap_or_else(|| "none yet".to_owned());
    let (opening, overdue, why_none) = match (&person_tz, &windows) {
        (Some(tz), Some(windows)) if !windows.is_empty() => {
            let since = task.last_attempt_at.unwrap_or(task.created_at);
            (
                callbacks::next_opening(windows, tz, now),
                callbacks::is_overdue(windows, tz, since, now),
                "",
            )
        }
        (None, _) => (None, false, "time zone unknown: call in clinic hours"),
        (_, None) => (None, false, "best times unreadable: call in clinic hours"),
        _ => (None, false, "no best time given: call in clinic hours"),
    };
    let (start, person_time, clinic_time) = match (opening, &person_tz) {
        (Some(opening), Some(tz)) => (
            opening.start,
            describe(opening, now, tz),
            describe(opening, now, clinic_tz),
        ),
        _ => (now, why_none.to_owned(), "—".to_owned()),
    };
    (
        start,
        QueueRow {
            opening_ms: start.as_millisecond(),
            open_now: opening.is_some_and(|o| o.start <= now),
            overdue,
            person_time,
            clinic_time,
            last_attempt,
            task,
        },
    )
}

/// "Mon 30 Nov 17:00–19:00 EST", or "now, until 19:00 EST" while open.
fn describe(opening: Opening, now: Timestamp, tz: &TimeZone) -> String {
    let start = opening.start.to_zoned(tz.clone());
    let end = opening.end.to_zoned(tz.clone());
    if opening.start <= now {
        return format!("now, until {}", end.strftime("%H:%M %Z"));
    }
    format!(
        "{}–{}",
        start.strftime("%a %-d %b %H:%M"),
        end.strftime("%H:%M %Z")
    )
}

/// The attempt form of one queue row.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AttemptInput {
    outcome: String,
    note: String,
}

pub async fn record_attempt(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
    Form(input): Form<AttemptInput>,
) -> Result<Response, AppError> {
    let task_id = parse_id(&id)?;
    let outcome: AttemptOutcome = input.outcome.parse().map_err(AppError::from)?;
    let note = input.note.trim();
    if note.chars().count() > ATTEMPT_NOTE_MAX_CHARS {
        return Err(AppError::BadRequest {
            field: "note",
            message: format!("must be at most {ATTEMPT_NOTE_MAX_CHARS} characters"),
        });
    }
    let policy = AttemptPolicy {
        unanswered_attempts_before_closing: state.config.unanswered_attempts_before_closing,
    };
    state
        .store
        .stamped(&audit)
        .record_contact_attempt(
            &NewContactAttempt {
                callback_task_id: task_id,
                staff_user_id: page.session.user.id,
                at: page.now,
                outcome,
                note,
            },
            policy,
        )
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Redirect::to("/staff/callbacks?logged=1").into_response())
}
