//! Best-time callbacks and the consultation record (issue 5 items 2 and 4):
//! the front desk's callback queue and its attempt log, the consultation
//! note form, and converting an inquiry to a patient chart.

use askama::Template;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use respite_domain::callbacks::{self, AttemptOutcome, Opening};
use respite_domain::consultation::{ConsultationNoteForm, DurationUnit, NextStep};
use respite_domain::inquiry::FieldError;
use respite_domain::Permission;
use respite_store::{
    AttemptPolicy, ConsultationNoteRecord, InquiryRecord, NewChart, NewContactAttempt, OpenCallback,
};
use serde::Deserialize;

use super::{clinic_time, load_inquiry, parse_id, render, Nav};
use crate::access::AuditedRecord;
use crate::auth::StaffSession;
use crate::csrf::CsrfToken;
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
    Extension(session): Extension<StaffSession>,
    Extension(csrf): Extension<CsrfToken>,
    Query(query): Query<QueueQuery>,
) -> Result<Response, AppError> {
    let now = state.config.clock.now();
    let clinic_zone = state.config.clinic_time_zone.clone();
    let clinic_tz = TimeZone::get(&clinic_zone).unwrap_or(TimeZone::UTC);
    let mut rows: Vec<(Timestamp, QueueRow)> = state
        .store
        .open_callbacks(QUEUE_LIMIT)
        .await?
        .into_iter()
        .map(|task| queue_row(task, now, &clinic_tz))
        .collect();
    // By next opening; a callback without a usable window counts as open
    // now; ties by age.
    rows.sort_by_key(|(start, row)| (*start, row.task.created_at, row.task.task_id));
    render(&QueuePage {
        nav: Nav::new(&session, &csrf.0),
        rows: rows.into_iter().map(|(_, row)| row).collect(),
        now: clinic_time(now, &clinic_zone),
        clinic_zone,
        can_log: session.user.role.grants(Permission::WriteInquiries),
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
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
    Form(input): Form<AttemptInput>,
) -> Result<Response, AppError> {
    let task_id = parse_id(&id)?;
    let outcome: AttemptOutcome = input.outcome.parse().map_err(bad)?;
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
        .record_contact_attempt(
            &NewContactAttempt {
                callback_task_id: task_id,
                staff_user_id: session.user.id,
                at: Timestamp::now(),
                outcome,
                note,
            },
            policy,
        )
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Redirect::to("/staff/callbacks?logged=1").into_response())
}

#[derive(Template)]
#[template(path = "consultation.html")]
struct ConsultationPage {
    nav: Nav,
    inquiry: InquiryRecord,
    form: ConsultationNoteForm,
    errors: Vec<FieldError>,
    notes: Vec<NoteView>,
    units: &'static [DurationUnit],
    next_steps: &'static [(&'static str, &'static str)],
    can_convert: bool,
    chart: Option<respite_store::ConvertedChart>,
}

impl ConsultationPage {
    fn error(&self, field: &str) -> Option<&str> {
        field_error(&self.errors, field)
    }
}

pub struct NoteView {
    pub record: ConsultationNoteRecord,
    pub when: String,
}

pub async fn consultation_form(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    Extension(csrf): Extension<CsrfToken>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let form = ConsultationNoteForm {
        pain_duration_unit: "months".into(),
        ..ConsultationNoteForm::default()
    };
    consultation_page(&state, &session, &csrf, id, form, Vec::new()).await
}

async fn consultation_page(
    state: &AppState,
    session: &StaffSession,
    csrf: &CsrfToken,
    id: i64,
    form: ConsultationNoteForm,
    errors: Vec<FieldError>,
) -> Result<Response, AppError> {
    let inquiry = state.store.inquiry(id).await?.ok_or(AppError::NotFound)?;
    let tz = &state.config.clinic_time_zone;
    let notes = state
        .store
        .consultation_notes(id)
        .await?
        .into_iter()
        .map(|record| NoteView {
            when: clinic_time(record.at, tz),
            record,
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut response = render(&ConsultationPage {
        nav: Nav::new(session, &csrf.0),
        inquiry,
        form,
        errors,
        notes,
        units: DurationUnit::ALL,
        next_steps: NextStep::CODES,
        can_convert: session.user.role.grants(Permission::WriteClinicalRecords),
        chart: state.store.inquiry_chart(id).await?,
    })?;
    *response.status_mut() = status;
    Ok(response)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NoteInput {
    pain_location: String,
    pain_duration_amount: String,
    pain_duration_unit: String,
    diagnosis: String,
    diagnosed_by: String,
    diagnosed_on: String,
    icd10cm_code: String,
    treatments_tried: String,
    hopes: String,
    red_flags: String,
    next_step: String,
    not_candidate_reason: String,
}

pub async fn save_consultation(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    Extension(csrf): Extension<CsrfToken>,
    Path(id): Path<String>,
    Form(input): Form<NoteInput>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let form = ConsultationNoteForm {
        pain_location: input.pain_location,
        pain_duration_amount: input.pain_duration_amount,
        pain_duration_unit: input.pain_duration_unit,
        diagnosis: input.diagnosis,
        diagnosed_by: input.diagnosed_by,
        diagnosed_on: input.diagnosed_on,
        icd10cm_code: input.icd10cm_code,
        treatments_tried: input.treatments_tried,
        hopes: input.hopes,
        red_flags: input.red_flags,
        next_step: input.next_step,
        not_candidate_reason: input.not_candidate_reason,
    };
    let now = Timestamp::now();
    match form.validate(clinic_date(&state, now)) {
        Ok(note) => {
            state
                .store
                .insert_consultation_note(id, session.user.id, &note, now)
                .await?
                .ok_or(AppError::NotFound)?;
            Ok(Redirect::to(&format!("/staff/inquiries/{id}/consultation")).into_response())
        }
        Err(errors) => consultation_page(&state, &session, &csrf, id, form, errors).await,
    }
}

#[derive(Template)]
#[template(path = "convert.html")]
struct ConvertPage {
    nav: Nav,
    inquiry: InquiryRecord,
    note: Option<NoteView>,
    form: ChartInput,
    errors: Vec<FieldError>,
    sexes: &'static [&'static str],
}

impl ConvertPage {
    fn error(&self, field: &str) -> Option<&str> {
        field_error(&self.errors, field)
    }
}

const SEXES: &[&str] = &["female", "male", "other", "unknown"];

/// The demographics a chart needs beyond the inquiry.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct ChartInput {
    given_name: String,
    family_name: String,
    birth_date: String,
    sex: String,
}

pub async fn convert_form(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    Extension(csrf): Extension<CsrfToken>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let inquiry = load_inquiry(&state, &id).await?;
    // A first guess at the split of the name; staff correct it.
    let (given, family) = inquiry
        .name
        .trim()
        .rsplit_once(' ')
        .map_or((inquiry.name.trim(), ""), |(g, f)| (g.trim(), f.trim()));
    let form = ChartInput {
        given_name: given.to_owned(),
        family_name: family.to_owned(),
        ..ChartInput::default()
    };
    convert_page(&state, &session, &csrf, inquiry, form, Vec::new()).await
}

async fn convert_page(
    state: &AppState,
    session: &StaffSession,
    csrf: &CsrfToken,
    inquiry: InquiryRecord,
    form: ChartInput,
    errors: Vec<FieldError>,
) -> Result<Response, AppError> {
    let tz = &state.config.clinic_time_zone;
    let note = state
        .store
        .consultation_notes(inquiry.id)
        .await?
        .into_iter()
        .next()
        .map(|record| NoteView {
            when: clinic_time(record.at, tz),
            record,
        });
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut response = render(&ConvertPage {
        nav: Nav::new(session, &csrf.0),
        inquiry,
        note,
        form,
        errors,
        sexes: SEXES,
    })?;
    *response.status_mut() = status;
    Ok(response)
}

pub async fn convert(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    Extension(csrf): Extension<CsrfToken>,
    Path(id): Path<String>,
    Form(input): Form<ChartInput>,
) -> Result<Response, AppError> {
    let inquiry = load_inquiry(&state, &id).await?;
    let id = inquiry.id;
    let now = Timestamp::now();
    let mut errors = Vec::new();
    let given = input.given_name.trim();
    let family = input.family_name.trim();
    for (field, value) in [("given_name", given), ("family_name", family)] {
        if value.is_empty() {
            errors.push(FieldError {
                field,
                message: "is required".into(),
            });
        } else if value.chars().count() > respite_domain::inquiry::NAME_MAX_CHARS {
            errors.push(FieldError {
                field,
                message: "must be at most 200 characters".into(),
            });
        }
    }
    let birth_date = match input.birth_date.trim().parse::<jiff::civil::Date>() {
        Ok(date) if date <= clinic_date(&state, now) && date.year() >= 1900 => Some(date),
        Ok(_) => {
            errors.push(FieldError {
                field: "birth_date",
                message: "must be a past date after 1900".into(),
            });
            None
        }
        Err(_) => {
            errors.push(FieldError {
                field: "birth_date",
                message: "must be a date like 1980-04-30".into(),
            });
            None
        }
    };
    let sex = input.sex.trim();
    if !SEXES.contains(&sex) {
        errors.push(FieldError {
            field: "sex",
            message: "choose female, male, other or unknown".into(),
        });
    }
    let Some(birth_date) = birth_date.filter(|_| errors.is_empty()) else {
        return convert_page(&state, &session, &csrf, inquiry, input, errors).await;
    };
    let chart = state
        .store
        .convert_inquiry_to_patient(
            id,
            &NewChart {
                given_name: given,
                family_name: family,
                birth_date,
                sex,
            },
            now,
        )
        .await?
        .ok_or(AppError::NotFound)?;
    let mut response =
        Redirect::to(&format!("/staff/patients/{}", chart.patient_id)).into_response();
    response
        .extensions_mut()
        .insert(AuditedRecord(chart.patient_id.to_string()));
    Ok(response)
}

fn clinic_date(state: &AppState, now: Timestamp) -> jiff::civil::Date {
    let tz = TimeZone::get(&state.config.clinic_time_zone).unwrap_or(TimeZone::UTC);
    now.to_zoned(tz).date()
}

fn field_error<'a>(errors: &'a [FieldError], field: &str) -> Option<&'a str> {
    errors
        .iter()
        .find(|e| e.field == field)
        .map(|e| e.message.as_str())
}

fn bad(error: FieldError) -> AppError {
    AppError::BadRequest {
        field: error.field,
        message: error.message,
    }
}
