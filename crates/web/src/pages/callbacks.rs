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
    query: String,
    open_now: bool,
    /// How many callbacks have a window open now (of those searched).
    open_now_count: usize,
    pager: QueuePager,
}

/// Where the page stands and its links.
pub struct QueuePager {
    pub summary: String,
    pub first: Option<String>,
    pub previous: Option<String>,
    pub next: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct QueueQuery {
    logged: Option<String>,
    q: String,
    /// `1`: only the callbacks whose person's window is open now.
    open: String,
    after: String,
    before: String,
}

/// Callbacks per page.
const QUEUE_PAGE_SIZE: usize = 25;

/// A callback's place in the queue: its next opening (or, without a usable
/// window, when it was created: callable now, in clinic hours), its age,
/// its id. Written in links as `OPENING.CREATED.ID` (milliseconds; no
/// personal data), the cursor of the pages around it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct QueueKey {
    opening_ms: i64,
    created_ms: i64,
    task_id: i64,
}

impl QueueKey {
    fn parse(field: &'static str, text: &str) -> Result<QueueKey, AppError> {
        let bad = || AppError::BadRequest {
            field,
            message: "must be a place from this list's links".into(),
        };
        let mut parts = text.trim().split('.').map(|p| p.parse::<i64>());
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(Ok(opening_ms)), Some(Ok(created_ms)), Some(Ok(task_id)), None) => Ok(QueueKey {
                opening_ms,
                created_ms,
                task_id,
            }),
            _ => Err(bad()),
        }
    }

    fn text(self) -> String {
        format!("{}.{}.{}", self.opening_ms, self.created_ms, self.task_id)
    }
}

/// `GET /staff/callbacks`: the open callbacks in order of the next opening
/// of each person's windows, searchable by name, e-mail or phone, with a
/// "window open now" filter, a page at a time (keyset on the queue's order:
/// see [`respite_store::Store::open_callback_keys`] for why the order is
/// computed here).
pub async fn queue(
    State(state): State<AppState>,
    page: StaffPage,
    Query(query): Query<QueueQuery>,
) -> Result<Response, AppError> {
    let now = page.now;
    let text: String = query.q.trim().chars().take(100).collect();
    let open_only = query.open.trim() == "1";
    let mut keys: Vec<(QueueKey, bool)> = state
        .store
        .open_callback_keys(&text)
        .await?
        .into_iter()
        .map(|key| {
            let (opening, _) = opening_of(
                &key.contact_windows,
                &key.time_zone,
                key.last_attempt_at.unwrap_or(key.created_at),
                now,
            );
            let open_now = opening.is_some_and(|o| o.start <= now);
            let start = opening.map_or(key.created_at, |o| o.start);
            (
                QueueKey {
                    opening_ms: start.as_millisecond(),
                    created_ms: key.created_at.as_millisecond(),
                    task_id: key.task_id,
                },
                open_now,
            )
        })
        .collect();
    keys.sort();
    let open_now_count = keys.iter().filter(|(_, open)| *open).count();
    if open_only {
        keys.retain(|(_, open)| *open);
    }
    let keys: Vec<QueueKey> = keys.into_iter().map(|(key, _)| key).collect();

    let (start, end) = match (query.after.trim(), query.before.trim()) {
        ("", "") => (0, QUEUE_PAGE_SIZE.min(keys.len())),
        (after, "") => {
            let after = QueueKey::parse("after", after)?;
            let start = keys.partition_point(|key| *key <= after);
            (start, (start + QUEUE_PAGE_SIZE).min(keys.len()))
        }
        ("", before) => {
            let before = QueueKey::parse("before", before)?;
            let end = keys.partition_point(|key| *key < before);
            (end.saturating_sub(QUEUE_PAGE_SIZE), end)
        }
        _ => {
            return Err(AppError::BadRequest {
                field: "after",
                message: "give after or before, not both".into(),
            })
        }
    };
    let shown = &keys[start..end];
    let ids: Vec<i64> = shown.iter().map(|key| key.task_id).collect();
    let mut tasks = state.store.open_callbacks_by_ids(&ids).await?;
    tasks.sort_by_key(|task| ids.iter().position(|id| *id == task.task_id));
    let rows: Vec<QueueRow> = tasks
        .into_iter()
        .map(|task| queue_row(task, now, &page.zone).1)
        .collect();

    let link = |cursor: Option<(&str, String)>| {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if !text.is_empty() {
            pairs.push(("q", text.clone()));
        }
        if open_only {
            pairs.push(("open", "1".into()));
        }
        pairs.extend(cursor);
        match serde_urlencoded::to_string(&pairs) {
            Ok(q) if !q.is_empty() => format!("/staff/callbacks?{q}"),
            _ => "/staff/callbacks".to_owned(),
        }
    };
    let pager = QueuePager {
        summary: crate::words::lists::page_summary(
            start as i64,
            shown.len(),
            keys.len() as i64,
            "callback",
            "callbacks",
        ),
        first: (start > 0).then(|| link(None)),
        previous: shown
            .first()
            .filter(|_| start > 0)
            .map(|key| link(Some(("before", key.text())))),
        next: shown
            .last()
            .filter(|_| end < keys.len())
            .map(|key| link(Some(("after", key.text())))),
    };
    render(&QueuePage {
        nav: page.nav(),
        rows,
        now: page.time(now),
        clinic_zone: state.config.clinic_time_zone.clone(),
        can_log: page.may(Permission::WriteInquiries),
        logged: query.logged.is_some(),
        outcomes: AttemptOutcome::ALL,
        query: text,
        open_now: open_only,
        open_now_count,
        pager,
    })
}

/// The next opening of a person's windows after `since` (their last
/// attempt, else the task's creation) as seen at `now`, and whether the
/// callback is overdue; `None` when the zone or windows are unusable.
fn opening_of(
    windows: &str,
    zone: &str,
    since: Timestamp,
    now: Timestamp,
) -> (Option<Opening>, bool) {
    let (Ok(tz), Ok(windows)) = (TimeZone::get(zone), callbacks::parse_windows(windows)) else {
        return (None, false);
    };
    if windows.is_empty() {
        return (None, false);
    }
    (
        callbacks::next_opening(&windows, &tz, now),
        callbacks::is_overdue(&windows, &tz, since, now),
    )
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
    let since = task.last_attempt_at.unwrap_or(task.created_at);
    let (opening, overdue) = opening_of(&task.contact_windows, &task.time_zone, since, now);
    let why_none = match (&person_tz, &windows) {
        (None, _) => "time zone unknown: call in clinic hours",
        (_, None) => "best times unreadable: call in clinic hours",
        _ => "no best time given: call in clinic hours",
    };
    let (start, person_time, clinic_time) = match (opening, &person_tz) {
        (Some(opening), Some(tz)) => (
            opening.start,
            describe(opening, now, tz),
            describe(opening, now, clinic_tz),
        ),
        _ => (task.created_at, why_none.to_owned(), "—".to_owned()),
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
