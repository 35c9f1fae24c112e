//! The phone consultation's two records (SPEC §2: the front desk sees
//! contact data, not clinical notes):
//! - the call record, the front desk's: was the person reached, was a visit
//!   booked, what they asked (ReadInquiries to read, WriteInquiries to write);
//! - the clinical note: pain history, onset, diagnosis, treatments tried,
//!   red flags, the next step (ReadClinicalRecords / WriteClinicalRecords:
//!   nurses and clinicians; the front desk is refused, and the refusal
//!   audited, on every route that shows or takes it).
//!
//! Both are versioned: once saved, a record shows as saved with an "edit"
//! that adds the next version; earlier versions stay readable below it, and
//! each read and write is audited. An edit names the version it started
//! from, and is refused if someone saved another meanwhile.
//! Converting an inquiry into a patient chart is here too
//! (WriteClinicalRecords, since it writes a condition).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use respite_domain::consultation::{
    CallRecordForm, ConsultationNoteForm, DurationUnit, NextStep, StatedDuration,
};
use respite_domain::inquiry::FieldError;
use respite_domain::Permission;
use respite_store::{
    AuditStamp, ConsultationCall, ConsultationCallRecord, ConsultationNoteRecord, ConvertedChart,
    InquiryRecord, NewChart,
};
use serde::Deserialize;

use super::{field_error, form_status, load_inquiry, parse_id, render_with, Nav, StaffPage};
use crate::access::AuditedRecord;
use crate::words::common;
use crate::words::notes as words;
use crate::{AppError, AppState};

#[derive(Template)]
#[template(path = "consultation.html")]
struct ConsultationPage {
    nav: Nav,
    inquiry: InquiryRecord,
    /// What the inquiry said about the pain, in words.
    stated_pain: String,
    /// The latest version first, each with its words; empty before the first.
    notes: Vec<NoteView>,
    /// The form: shown when there is no note yet, or to edit.
    form: Option<NoteFormView>,
    can_write: bool,
    can_convert: bool,
    chart: Option<ConvertedChart>,
    /// Where the latest note's next step leads.
    next: Option<NextLink>,
}

/// The note form with what it needs to show.
pub struct NoteFormView {
    form: ConsultationNoteForm,
    errors: Vec<FieldError>,
    /// The version this edit starts from (0: the first note).
    based_on: i64,
    units: Vec<(&'static str, &'static str)>,
    next_steps: &'static [(&'static str, &'static str)],
}

impl NoteFormView {
    fn error(&self, field: &str) -> Option<&str> {
        field_error(&self.errors, field)
    }
}

/// A saved version of the clinical note, in words.
pub struct NoteView {
    pub record: ConsultationNoteRecord,
    pub when: String,
    pub duration: String,
    pub next_step: &'static str,
    /// The flag of an estimated onset after the diagnosis date.
    pub onset_flag: Option<String>,
}

impl NoteView {
    pub fn new(record: ConsultationNoteRecord, page: &StaffPage, time_zone: &str) -> NoteView {
        NoteView {
            when: page.time(record.at),
            duration: common::stated_duration(
                record.pain_duration_amount,
                &record.pain_duration_unit,
            ),
            next_step: common::next_step(&record.next_step),
            onset_flag: onset_flag(&record, time_zone),
            record,
        }
    }
}

/// Where a next step leads: the chart when there is one, else the step
/// that makes it, else back to the inquiry.
pub struct NextLink {
    pub href: String,
    pub text: String,
}

/// The estimated onset of a saved note (counted back from the day of the
/// call on the person's calendar, as the chart's condition is) when it is
/// after the stated diagnosis date.
fn onset_flag(record: &ConsultationNoteRecord, time_zone: &str) -> Option<String> {
    let unit: DurationUnit = record.pain_duration_unit.parse().ok()?;
    let amount = u16::try_from(record.pain_duration_amount).ok()?;
    let stated = StatedDuration::new(amount, unit).ok()?;
    let zone = jiff::tz::TimeZone::get(time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let onset = stated.estimated_onset(record.at.to_zoned(zone).date())?;
    let diagnosed: jiff::civil::Date = record.diagnosed_on.as_deref()?.parse().ok()?;
    (onset > diagnosed).then(|| words::onset_after_diagnosis(onset, diagnosed))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EditQuery {
    /// `1`: show the form to write the next version.
    edit: String,
}

/// `GET /staff/inquiries/{id}/consultation`: the clinical note, saved (with
/// its versions) or, before the first, a form prefilled from the inquiry.
pub async fn consultation_form(
    State(state): State<AppState>,
    page: StaffPage,
    Path(id): Path<String>,
    Query(query): Query<EditQuery>,
) -> Result<Response, AppError> {
    let inquiry = load_inquiry(&state, &id).await?;
    let notes = state.store.consultation_notes(inquiry.id).await?;
    let editing = query.edit.trim() == "1";
    if editing && !page.may(Permission::WriteClinicalRecords) {
        return Err(AppError::Forbidden {
            role: page.session.user.role.label(),
        });
    }
    let form = match notes.first() {
        None => Some(first_note_form(&inquiry)),
        Some(latest) if editing => Some(form_of(latest)),
        Some(_) => None,
    }
    .filter(|_| page.may(Permission::WriteClinicalRecords))
    .map(|(form, based_on)| note_form(form, Vec::new(), based_on));
    consultation_page(&state, &page, inquiry, notes, form).await
}

/// The first note's form, from what the inquiry said: where (its area) and
/// the unit of how long; the amount is for staff to ask, since a range
/// ("1 to 5 years") is not an answer.
fn first_note_form(inquiry: &InquiryRecord) -> (ConsultationNoteForm, i64) {
    (
        ConsultationNoteForm {
            pain_location: words::suggested_location(
                inquiry.pain_area.as_deref().unwrap_or_default(),
            ),
            pain_duration_unit: words::suggested_unit(
                inquiry.pain_duration.as_deref().unwrap_or_default(),
            )
            .into(),
            ..ConsultationNoteForm::default()
        },
        0,
    )
}

/// The form of the next version: the latest, as it was saved.
fn form_of(note: &ConsultationNoteRecord) -> (ConsultationNoteForm, i64) {
    (
        ConsultationNoteForm {
            pain_location: note.pain_location.clone(),
            pain_duration_amount: note.pain_duration_amount.to_string(),
            pain_duration_unit: note.pain_duration_unit.clone(),
            diagnosis: note.diagnosis.clone().unwrap_or_default(),
            diagnosed_by: note.diagnosed_by.clone().unwrap_or_default(),
            diagnosed_on: note.diagnosed_on.clone().unwrap_or_default(),
            icd10cm_code: note.icd10cm_code.clone().unwrap_or_default(),
            treatments_tried: note.treatments_tried.join("\n"),
            hopes: note.hopes.clone(),
            red_flags: note.red_flags.clone(),
            next_step: note.next_step.clone(),
            not_candidate_reason: note.not_candidate_reason.clone().unwrap_or_default(),
        },
        note.version,
    )
}

fn note_form(form: ConsultationNoteForm, errors: Vec<FieldError>, based_on: i64) -> NoteFormView {
    NoteFormView {
        form,
        errors,
        based_on,
        units: DurationUnit::ALL
            .iter()
            .map(|u| (u.as_str(), words::unit_label(*u)))
            .collect(),
        next_steps: NextStep::CODES,
    }
}

async fn consultation_page(
    state: &AppState,
    page: &StaffPage,
    inquiry: InquiryRecord,
    notes: Vec<ConsultationNoteRecord>,
    form: Option<NoteFormView>,
) -> Result<Response, AppError> {
    let chart = state.store.inquiry_chart(inquiry.id).await?;
    let can_convert = page.may(Permission::WriteClinicalRecords);
    let next = notes
        .first()
        .map(|latest| next_link(&latest.next_step, &inquiry, chart.as_ref(), can_convert));
    let notes = notes
        .into_iter()
        .map(|record| NoteView::new(record, page, &inquiry.time_zone))
        .collect();
    let status = form
        .as_ref()
        .map_or(axum::http::StatusCode::OK, |f| form_status(&f.errors));
    render_with(
        status,
        &ConsultationPage {
            nav: page.nav(),
            stated_pain: common::pain(
                inquiry.pain_area.as_deref(),
                inquiry.pain_duration.as_deref(),
            ),
            inquiry,
            notes,
            form,
            can_write: page.may(Permission::WriteClinicalRecords),
            can_convert,
            chart,
            next,
        },
    )
}

/// Where the next step leads. Screening visits and records requests are
/// made from the patient's chart (until the screening pages exist, the
/// chart is where screening starts); without a chart, the step is to make
/// one; "not a candidate" closed the thread.
fn next_link(
    code: &str,
    inquiry: &InquiryRecord,
    chart: Option<&ConvertedChart>,
    can_convert: bool,
) -> NextLink {
    let step = common::next_step(code);
    match (code, chart) {
        ("not-a-candidate", _) => NextLink {
            href: format!("/staff/inquiries/{}", inquiry.id),
            text: "The thread is closed: back to the inquiry".into(),
        },
        (_, Some(chart)) => NextLink {
            href: format!("/staff/patients/{}", chart.patient_id),
            text: format!("{step}: open the chart {}", chart.mrn),
        },
        (_, None) if can_convert => NextLink {
            href: format!("/staff/inquiries/{}/chart", inquiry.id),
            text: format!("{step}: first create the patient chart"),
        },
        (_, None) => NextLink {
            href: format!("/staff/inquiries/{}", inquiry.id),
            text: format!("{step}: back to the inquiry"),
        },
    }
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
    /// The version the form was opened on (0 for a first note); empty adds
    /// on top of the latest without the check.
    based_on: String,
}

/// The `based_on` field: a version number, or nothing.
fn based_on(typed: &str) -> Result<Option<i64>, AppError> {
    match typed.trim() {
        "" => Ok(None),
        typed => typed
            .parse::<i64>()
            .ok()
            .filter(|v| *v >= 0)
            .map(Some)
            .ok_or(AppError::BadRequest {
                field: "based_on",
                message: "must be the version number the form was opened on".into(),
            }),
    }
}

/// `POST /staff/inquiries/{id}/consultation`: saves the next version of the
/// clinical note; back to the saved note.
pub async fn save_consultation(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
    Form(input): Form<NoteInput>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let based_on = based_on(&input.based_on)?;
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
    match form.validate(page.today()) {
        Ok(note) => {
            state
                .store
                .stamped(&audit)
                .save_consultation_note(id, page.session.user.id, &note, based_on, page.now)
                .await?
                .ok_or(AppError::NotFound)?;
            Ok(Redirect::to(&format!("/staff/inquiries/{id}/consultation#saved")).into_response())
        }
        Err(errors) => {
            let inquiry = state.store.inquiry(id).await?.ok_or(AppError::NotFound)?;
            let notes = state.store.consultation_notes(id).await?;
            let form = note_form(form, errors, based_on.unwrap_or(0));
            consultation_page(&state, &page, inquiry, notes, Some(form)).await
        }
    }
}

#[derive(Template)]
#[template(path = "call.html")]
struct CallPage {
    nav: Nav,
    inquiry: InquiryRecord,
    calls: Vec<CallView>,
    form: Option<CallFormView>,
    can_write: bool,
    /// May this role open the clinical note (nurses and clinicians).
    can_read_note: bool,
}

pub struct CallView {
    pub record: ConsultationCallRecord,
    pub when: String,
    pub reached: &'static str,
    pub booked: &'static str,
}

pub struct CallFormView {
    form: CallRecordForm,
    errors: Vec<FieldError>,
    based_on: i64,
}

impl CallFormView {
    fn error(&self, field: &str) -> Option<&str> {
        field_error(&self.errors, field)
    }
}

/// `GET /staff/inquiries/{id}/call`: the front desk's record of the
/// consultation call, saved (with its versions) or a form to write it.
pub async fn call_form(
    State(state): State<AppState>,
    page: StaffPage,
    Path(id): Path<String>,
    Query(query): Query<EditQuery>,
) -> Result<Response, AppError> {
    let inquiry = load_inquiry(&state, &id).await?;
    let calls = state.store.consultation_calls(inquiry.id).await?;
    let can_write = page.may(Permission::WriteInquiries);
    let editing = query.edit.trim() == "1";
    if editing && !can_write {
        return Err(AppError::Forbidden {
            role: page.session.user.role.label(),
        });
    }
    let form = match calls.first() {
        None => Some((CallRecordForm::default(), 0)),
        Some(latest) if editing => Some((
            CallRecordForm {
                reached: words::yes_no(latest.reached).to_lowercase(),
                booked: words::yes_no(latest.booked).to_lowercase(),
                asked: latest.asked.clone(),
            },
            latest.version,
        )),
        Some(_) => None,
    }
    .filter(|_| can_write)
    .map(|(form, based_on)| CallFormView {
        form,
        errors: Vec::new(),
        based_on,
    });
    call_page(&page, inquiry, calls, form)
}

fn call_page(
    page: &StaffPage,
    inquiry: InquiryRecord,
    calls: Vec<ConsultationCallRecord>,
    form: Option<CallFormView>,
) -> Result<Response, AppError> {
    let status = form
        .as_ref()
        .map_or(axum::http::StatusCode::OK, |f| form_status(&f.errors));
    let calls = calls
        .into_iter()
        .map(|record| CallView {
            when: page.time(record.at),
            reached: words::yes_no(record.reached),
            booked: words::yes_no(record.booked),
            record,
        })
        .collect();
    render_with(
        status,
        &CallPage {
            nav: page.nav(),
            inquiry,
            calls,
            form,
            can_write: page.may(Permission::WriteInquiries),
            can_read_note: page.may(Permission::ReadClinicalRecords),
        },
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CallInput {
    reached: String,
    booked: String,
    asked: String,
    based_on: String,
}

/// `POST /staff/inquiries/{id}/call`: saves the next version of the call
/// record; back to it.
pub async fn save_call(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
    Form(input): Form<CallInput>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let based_on = based_on(&input.based_on)?;
    let form = CallRecordForm {
        reached: input.reached,
        booked: input.booked,
        asked: input.asked,
    };
    match form.validate() {
        Ok(call) => {
            state
                .store
                .stamped(&audit)
                .save_consultation_call(
                    id,
                    page.session.user.id,
                    &ConsultationCall {
                        reached: call.reached,
                        booked: call.booked,
                        asked: call.asked,
                    },
                    based_on,
                    page.now,
                )
                .await?
                .ok_or(AppError::NotFound)?;
            Ok(Redirect::to(&format!("/staff/inquiries/{id}/call#saved")).into_response())
        }
        Err(errors) => {
            let inquiry = state.store.inquiry(id).await?.ok_or(AppError::NotFound)?;
            let calls = state.store.consultation_calls(id).await?;
            let form = CallFormView {
                form,
                errors,
                based_on: based_on.unwrap_or(0),
            };
            call_page(&page, inquiry, calls, Some(form))
        }
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
    page: StaffPage,
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
    convert_page(&state, &page, inquiry, form, Vec::new()).await
}

async fn convert_page(
    state: &AppState,
    page: &StaffPage,
    inquiry: InquiryRecord,
    form: ChartInput,
    errors: Vec<FieldError>,
) -> Result<Response, AppError> {
    let note = state
        .store
        .consultation_notes(inquiry.id)
        .await?
        .into_iter()
        .next()
        .map(|record| NoteView::new(record, page, &inquiry.time_zone));
    let status = form_status(&errors);
    render_with(
        status,
        &ConvertPage {
            nav: page.nav(),
            inquiry,
            note,
            form,
            errors,
            sexes: SEXES,
        },
    )
}

pub async fn convert(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
    Form(input): Form<ChartInput>,
) -> Result<Response, AppError> {
    let inquiry = load_inquiry(&state, &id).await?;
    let id = inquiry.id;
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
        Ok(date) if date <= page.today() && date.year() >= 1900 => Some(date),
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
        return convert_page(&state, &page, inquiry, input, errors).await;
    };
    let chart = state
        .store
        .stamped(&audit)
        .convert_inquiry_to_patient(
            id,
            &NewChart {
                given_name: given,
                family_name: family,
                birth_date,
                sex,
            },
            page.now,
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
