//! The staff application: the inquiry queue, the patient list and the chart.

use askama::Template;
use axum::extract::{Extension, Path, Query, State};
use axum::response::Response;
use respite_store::{
    ConditionRecord, InfusionSessionRecord, InquiryRecord, InquiryStatus, ObservationRecord,
    PatientRecord, PatientSummary,
};
use serde::Deserialize;

use super::{clinic_time, render, Nav};
use crate::auth::StaffSession;
use crate::csrf::CsrfToken;
use crate::{AppError, AppState};

/// An inquiry as the queue shows it.
pub struct InquiryRow {
    pub record: InquiryRecord,
    pub received: String,
}

#[derive(Template)]
#[template(path = "staff_home.html")]
struct StaffHome {
    nav: Nav,
    new_inquiries: Vec<InquiryRow>,
    contacted: Vec<InquiryRow>,
}

pub async fn home(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    Extension(csrf): Extension<CsrfToken>,
) -> Result<Response, AppError> {
    let tz = &state.config.clinic_time_zone;
    let rows = |records: Vec<InquiryRecord>| -> Vec<InquiryRow> {
        records
            .into_iter()
            .map(|record| InquiryRow {
                received: clinic_time(record.received_at, tz),
                record,
            })
            .collect()
    };
    let new_inquiries = rows(
        state
            .store
            .inquiries_with_status(InquiryStatus::New, 200)
            .await?,
    );
    let contacted = rows(
        state
            .store
            .inquiries_with_status(InquiryStatus::Contacted, 200)
            .await?,
    );
    render(&StaffHome {
        nav: Nav::new(&session, &csrf.0),
        new_inquiries,
        contacted,
    })
}

#[derive(Template)]
#[template(path = "inquiry.html")]
struct InquiryPage {
    nav: Nav,
    inquiry: InquiryRow,
    /// Contact attempts with their time in the clinic's zone.
    attempts: Vec<(respite_store::ContactAttemptRecord, String)>,
    chart: Option<respite_store::ConvertedChart>,
    can_consult: bool,
    can_convert: bool,
}

pub async fn inquiry(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    Extension(csrf): Extension<CsrfToken>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let record = state.store.inquiry(id).await?.ok_or(AppError::NotFound)?;
    let tz = &state.config.clinic_time_zone;
    let received = clinic_time(record.received_at, tz);
    let attempts = state
        .store
        .contact_attempts(id)
        .await?
        .into_iter()
        .map(|a| {
            let when = clinic_time(a.at, tz);
            (a, when)
        })
        .collect();
    let role = session.user.role;
    render(&InquiryPage {
        nav: Nav::new(&session, &csrf.0),
        inquiry: InquiryRow { record, received },
        attempts,
        chart: state.store.inquiry_chart(id).await?,
        can_consult: role.grants(respite_domain::Permission::WriteInquiries),
        can_convert: role.grants(respite_domain::Permission::WriteClinicalRecords),
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SearchQuery {
    q: String,
}

#[derive(Template)]
#[template(path = "patients.html")]
struct PatientsPage {
    nav: Nav,
    query: String,
    patients: Vec<PatientSummary>,
    total: i64,
}

/// The most patients one page lists; refine the search to see others.
const PATIENT_PAGE_LIMIT: i64 = 100;

pub async fn patients(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    Extension(csrf): Extension<CsrfToken>,
    Query(search): Query<SearchQuery>,
) -> Result<Response, AppError> {
    let query: String = search.q.trim().chars().take(100).collect();
    let patients = state
        .store
        .search_patients(&query, PATIENT_PAGE_LIMIT)
        .await?;
    let total = state.store.count_patients().await?;
    render(&PatientsPage {
        nav: Nav::new(&session, &csrf.0),
        query,
        patients,
        total,
    })
}

pub struct ObservationRow {
    pub record: ObservationRecord,
    pub when: String,
}

pub struct SessionRow {
    pub record: InfusionSessionRecord,
    pub when: String,
}

#[derive(Template)]
#[template(path = "patient.html")]
struct PatientPage {
    nav: Nav,
    patient: PatientRecord,
    conditions: Vec<ConditionRecord>,
    observations: Vec<ObservationRow>,
    sessions: Vec<SessionRow>,
    /// The phone consultation's notes, when the chart came from an inquiry.
    consultation: Vec<super::callbacks::NoteView>,
}

pub async fn patient_chart(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    Extension(csrf): Extension<CsrfToken>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let patient = state.store.patient(id).await?.ok_or(AppError::NotFound)?;
    let tz = &state.config.clinic_time_zone;
    let conditions = state.store.conditions(id).await?;
    let observations = state
        .store
        .observations(id, 40)
        .await?
        .into_iter()
        .map(|record| ObservationRow {
            when: clinic_time(record.observed_at, tz),
            record,
        })
        .collect();
    let sessions = state
        .store
        .infusion_sessions(id)
        .await?
        .into_iter()
        .map(|record| SessionRow {
            when: clinic_time(record.started_at, tz),
            record,
        })
        .collect();
    let consultation = state
        .store
        .consultation_notes_for_patient(id)
        .await?
        .into_iter()
        .map(|record| super::callbacks::NoteView {
            when: clinic_time(record.at, tz),
            record,
        })
        .collect();
    render(&PatientPage {
        nav: Nav::new(&session, &csrf.0),
        patient,
        conditions,
        observations,
        sessions,
        consultation,
    })
}

fn parse_id(text: &str) -> Result<i64, AppError> {
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or(AppError::BadRequest {
            field: "id",
            message: "must be a positive whole number".into(),
        })
}
