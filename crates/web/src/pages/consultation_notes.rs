//! The consultation note and the chart (SPEC §3, the phone consultation):
//! the front desk's or a clinician's note of the call (WriteInquiries), and
//! converting an inquiry into a patient chart (WriteClinicalRecords, since it
//! writes a condition).

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use respite_domain::consultation::{ConsultationNoteForm, DurationUnit, NextStep};
use respite_domain::inquiry::FieldError;
use respite_domain::Permission;
use respite_store::{AuditStamp, ConsultationNoteRecord, InquiryRecord, NewChart};
use serde::Deserialize;

use super::{field_error, form_status, load_inquiry, parse_id, render_with, Nav, StaffPage};
use crate::access::AuditedRecord;
use crate::{AppError, AppState};

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
    page: StaffPage,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let form = ConsultationNoteForm {
        pain_duration_unit: "months".into(),
        ..ConsultationNoteForm::default()
    };
    consultation_page(&state, &page, id, form, Vec::new()).await
}

async fn consultation_page(
    state: &AppState,
    page: &StaffPage,
    id: i64,
    form: ConsultationNoteForm,
    errors: Vec<FieldError>,
) -> Result<Response, AppError> {
    let inquiry = state.store.inquiry(id).await?.ok_or(AppError::NotFound)?;
    let notes = state
        .store
        .consultation_notes(id)
        .await?
        .into_iter()
        .map(|record| NoteView {
            when: page.time(record.at),
            record,
        })
        .collect();
    let status = form_status(&errors);
    render_with(
        status,
        &ConsultationPage {
            nav: page.nav(),
            inquiry,
            form,
            errors,
            notes,
            units: DurationUnit::ALL,
            next_steps: NextStep::CODES,
            can_convert: page.may(Permission::WriteClinicalRecords),
            chart: state.store.inquiry_chart(id).await?,
        },
    )
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
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
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
    match form.validate(page.today()) {
        Ok(note) => {
            state
                .store
                .stamped(&audit)
                .insert_consultation_note(id, page.session.user.id, &note, page.now)
                .await?
                .ok_or(AppError::NotFound)?;
            Ok(Redirect::to(&format!("/staff/inquiries/{id}/consultation")).into_response())
        }
        Err(errors) => consultation_page(&state, &page, id, form, errors).await,
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
        .map(|record| NoteView {
            when: page.time(record.at),
            record,
        });
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
