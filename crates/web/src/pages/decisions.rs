//! The clinician's screening decision and the records request (SPEC §1 step
//! 3): the decision page (the engine's verdict today, the decision in force
//! and whether the chart still holds the facts it was made on, the history),
//! the form only clinicians may sign (SignScreeningDecisions), and the letter
//! asking the diagnosing physician for exactly what is missing, tracked from
//! requested to received. The rules live in `respite_clinical::screening`;
//! the words in `words::decisions`.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use respite_clinical::screening::decision::{
    check_decision, verdict_code, ClinicianOutcome, DecisionError, Override, ProposedDecision,
};
use respite_clinical::screening::request::{records_to_request, RequestItem};
use respite_clinical::screening::{
    screen, Contraindication, ContraindicationTier, Screening, CONTRAINDICATIONS,
};
use respite_domain::inquiry::FieldError;
use respite_domain::Permission;
use respite_store::chart::{contraindication_code, ChartFacts};
use respite_store::{AuditStamp, NewRecordsRequest, PatientRecord, RecordsRequestRecord};
use serde::Deserialize;

use super::{field_error, parse_id, render, render_with, Nav, StaffPage};
use crate::words::decisions as words;
use crate::words::screening as screening_words;
use crate::{AppError, AppState};

/// The screening of a patient today, with the facts it read.
pub struct ScreeningToday {
    pub facts: ChartFacts,
    pub screening: Screening,
    pub missing_records: Vec<RequestItem>,
}

/// Screens the patient's chart as of today with the clinic's settings.
pub async fn screening_today(
    state: &AppState,
    page: &StaffPage,
    patient_id: i64,
) -> Result<ScreeningToday, AppError> {
    let settings = state.store.screening_settings().await?.screening;
    let facts = state
        .store
        .screening_facts(patient_id, page.today(), &page.zone)
        .await?;
    let screening = screen(&facts.facts, &settings, page.today());
    let missing_records = records_to_request(&screening, &settings);
    Ok(ScreeningToday {
        facts,
        screening,
        missing_records,
    })
}

pub struct CriterionRow {
    pub number: u8,
    pub title: &'static str,
    pub status: &'static str,
    pub met: bool,
    pub missing: Vec<String>,
    pub concerns: Vec<String>,
    pub source: &'static str,
}

pub struct FindingRow {
    pub code: &'static str,
    pub name: &'static str,
    pub tier: &'static str,
    pub absolute: bool,
    /// The override ticked on the form, and its reason.
    pub overridden: bool,
    pub reason: String,
}

pub struct DecisionRow {
    pub outcome: &'static str,
    pub outcome_class: &'static str,
    pub reason: String,
    pub verdict: &'static str,
    pub signed_by: String,
    pub signed_at: String,
    pub overrides: Vec<(&'static str, &'static str, String)>,
}

#[derive(Template)]
#[template(path = "decision.html")]
struct DecisionPage {
    nav: Nav,
    /// The chart tab this page belongs to.
    tab: &'static str,
    patient: PatientRecord,
    verdict: &'static str,
    verdict_class: &'static str,
    criteria: Vec<CriterionRow>,
    findings: Vec<FindingRow>,
    interactions: Vec<String>,
    missing_records: usize,
    /// The decision in force, whether current, and its words.
    current: Option<(DecisionRow, bool, &'static str)>,
    history: Vec<DecisionRow>,
    can_sign: bool,
    outcomes: Vec<(&'static str, &'static str)>,
    chosen: String,
    reason: String,
    errors: Vec<FieldError>,
}

impl DecisionPage {
    fn error(&self, field: &str) -> Option<&str> {
        field_error(&self.errors, field)
    }

    fn errors_of(&self, field: &str) -> Vec<&str> {
        self.errors
            .iter()
            .filter(|e| e.field == field)
            .map(|e| e.message.as_str())
            .collect()
    }
}

fn decision_row(record: &respite_store::ScreeningDecisionRecord, page: &StaffPage) -> DecisionRow {
    DecisionRow {
        outcome: words::outcome(record.outcome),
        outcome_class: words::outcome_class(record.outcome),
        reason: record.reason.clone(),
        verdict: words::stored_verdict(&record.engine_verdict),
        signed_by: record.signed_by.clone(),
        signed_at: page.time(record.signed_at),
        overrides: record
            .overrides
            .iter()
            .map(|o| {
                (
                    words::contraindication_name(o.contraindication),
                    words::tier(o.tier),
                    o.reason.clone(),
                )
            })
            .collect(),
    }
}

/// What the form held, to show it again with its errors.
#[derive(Default)]
struct DecisionForm {
    outcome: String,
    reason: String,
    overrides: HashMap<Contraindication, String>,
    errors: Vec<FieldError>,
}

async fn decision_page(
    state: &AppState,
    page: &StaffPage,
    patient: PatientRecord,
    form: DecisionForm,
) -> Result<Response, AppError> {
    let today = screening_today(state, page, patient.id).await?;
    let decisions = state.store.screening_decisions(patient.id).await?;
    let fingerprint = today.facts.fingerprint();
    let screening = &today.screening;
    let criteria = screening
        .criteria
        .iter()
        .map(|c| CriterionRow {
            number: c.criterion.number,
            title: c.criterion.title,
            status: screening_words::status(c.status),
            met: c.status == respite_clinical::screening::CriterionStatus::Met,
            missing: c.missing.iter().map(ToString::to_string).collect(),
            concerns: c.concerns.clone(),
            source: c.criterion.source,
        })
        .collect();
    let findings = screening
        .contraindications_found
        .iter()
        .map(|f| FindingRow {
            code: contraindication_code(f.contraindication),
            name: words::contraindication_name(f.contraindication),
            tier: words::tier(f.tier),
            absolute: f.tier == ContraindicationTier::Absolute,
            overridden: form.overrides.contains_key(&f.contraindication),
            reason: form
                .overrides
                .get(&f.contraindication)
                .cloned()
                .unwrap_or_default(),
        })
        .collect();
    let interactions = screening
        .interaction_flags
        .iter()
        .map(|flag| {
            format!(
                "{}: {} ({}). Source: {}",
                flag.medication, flag.rule.name, flag.rule.effect, flag.rule.source
            )
        })
        .collect();
    let current = decisions.first().map(|d| {
        let is_current = d.facts_fingerprint == fingerprint;
        (
            decision_row(d, page),
            is_current,
            words::currency(is_current),
        )
    });
    let status = if form.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render_with(
        status,
        &DecisionPage {
            nav: page.nav(),
            tab: "decision",
            verdict: screening_words::decision(screening.decision),
            verdict_class: screening_words::decision_class(screening.decision),
            criteria,
            findings,
            interactions,
            missing_records: today.missing_records.len(),
            current,
            history: decisions.iter().map(|d| decision_row(d, page)).collect(),
            can_sign: page.may(Permission::SignScreeningDecisions),
            outcomes: ClinicianOutcome::ALL
                .into_iter()
                .map(|o| (o.code(), words::outcome_choice(o)))
                .collect(),
            chosen: form.outcome,
            reason: form.reason,
            errors: form.errors,
            patient,
        },
    )
}

async fn load_patient(state: &AppState, id: &str) -> Result<PatientRecord, AppError> {
    let id = parse_id(id)?;
    state.store.patient(id).await?.ok_or(AppError::NotFound)
}

/// The screening decision page.
pub async fn decision(
    State(state): State<AppState>,
    page: StaffPage,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let patient = load_patient(&state, &id).await?;
    decision_page(&state, &page, patient, DecisionForm::default()).await
}

/// Signs a decision (SignScreeningDecisions: clinicians). The form's fields:
/// `outcome`, `reason`, and per contraindication found `override_CODE` (ticked)
/// with `override_CODE_reason`.
pub async fn sign_decision(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
    Form(input): Form<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let patient = load_patient(&state, &id).await?;
    let field = |name: &str| input.get(name).cloned().unwrap_or_default();
    let mut form = DecisionForm {
        outcome: field("outcome"),
        reason: field("reason"),
        ..DecisionForm::default()
    };
    for definition in &CONTRAINDICATIONS {
        let code = contraindication_code(definition.id);
        if !field(&format!("override_{code}")).is_empty() {
            form.overrides
                .insert(definition.id, field(&format!("override_{code}_reason")));
        }
    }
    let Some(outcome) = ClinicianOutcome::from_code(form.outcome.trim()) else {
        form.errors.push(FieldError {
            field: "outcome",
            message: "choose eligible, not eligible or deferred".into(),
        });
        return decision_page(&state, &page, patient, form).await;
    };
    let today = screening_today(&state, &page, patient.id).await?;
    let proposed = ProposedDecision {
        outcome,
        reason: form.reason.clone(),
        overrides: form
            .overrides
            .iter()
            .map(|(c, reason)| Override {
                contraindication: *c,
                reason: reason.clone(),
            })
            .collect(),
    };
    let checked = match check_decision(&today.screening, proposed) {
        Ok(checked) => checked,
        Err(errors) => {
            form.errors = errors.iter().map(field_error_of).collect();
            return decision_page(&state, &page, patient, form).await;
        }
    };
    let fingerprint = today.facts.fingerprint();
    state
        .store
        .stamped(&audit)
        .insert_screening_decision(
            patient.id,
            page.session.user.id,
            &checked,
            &respite_store::DecisionContext {
                engine_verdict: verdict_code(today.screening.decision),
                facts_fingerprint: &fingerprint,
            },
            page.now,
        )
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Redirect::to(&format!("/staff/patients/{}/decision", patient.id)).into_response())
}

fn field_error_of(error: &DecisionError) -> FieldError {
    let message = error.to_string();
    let message = message
        .split_once(": ")
        .map_or(message.clone(), |(_, rest)| rest.to_owned());
    FieldError {
        field: error.field(),
        message,
    }
}

// ---------------------------------------------------------------------------
// Records requests

pub struct RequestRow {
    pub record: RecordsRequestRecord,
    pub requested: String,
    pub received: Option<String>,
}

#[derive(Template)]
#[template(path = "records_requests.html")]
struct RecordsRequestsPage {
    nav: Nav,
    /// The chart tab this page belongs to.
    tab: &'static str,
    patient: PatientRecord,
    /// The lines the screening proposes, each ticked unless the form said not.
    proposed: Vec<(String, bool)>,
    physician_name: String,
    physician_address: String,
    other_items: String,
    note: String,
    requests: Vec<RequestRow>,
    can_write: bool,
    errors: Vec<FieldError>,
}

impl RecordsRequestsPage {
    fn error(&self, field: &str) -> Option<&str> {
        field_error(&self.errors, field)
    }
}

fn request_row(record: RecordsRequestRecord, page: &StaffPage) -> RequestRow {
    RequestRow {
        requested: page.time(record.requested_at),
        received: record.received_at.map(|at| page.time(at)),
        record,
    }
}

#[derive(Default)]
struct RequestForm {
    unticked: Vec<String>,
    physician_name: Option<String>,
    physician_address: String,
    other_items: String,
    note: String,
    errors: Vec<FieldError>,
}

async fn records_requests_page(
    state: &AppState,
    page: &StaffPage,
    patient: PatientRecord,
    form: RequestForm,
) -> Result<Response, AppError> {
    let today = screening_today(state, page, patient.id).await?;
    let proposed = today
        .missing_records
        .iter()
        .map(words::request_line)
        .map(|line| {
            let ticked = !form.unticked.contains(&line);
            (line, ticked)
        })
        .collect();
    // The diagnosing professional the screening read, else the name written on
    // the chart's problem list (a diagnosis whose qualification is not recorded).
    let physician_name = match form.physician_name {
        Some(name) => name,
        None => match today
            .facts
            .facts
            .diagnoses
            .iter()
            .find_map(|d| d.diagnosed_by.as_ref().map(|p| p.name.clone()))
        {
            Some(name) => name,
            None => state
                .store
                .conditions(patient.id)
                .await?
                .into_iter()
                .map(|c| c.diagnosed_by.trim().to_owned())
                .find(|name| !name.is_empty())
                .unwrap_or_default(),
        },
    };
    let requests = state
        .store
        .records_requests(patient.id)
        .await?
        .into_iter()
        .map(|r| request_row(r, page))
        .collect();
    let status = if form.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render_with(
        status,
        &RecordsRequestsPage {
            nav: page.nav(),
            tab: "decision",
            patient,
            proposed,
            physician_name,
            physician_address: form.physician_address,
            other_items: form.other_items,
            note: form.note,
            requests,
            can_write: page.may(Permission::WriteClinicalRecords),
            errors: form.errors,
        },
    )
}

/// The patient's records requests, and a new one drafted from what screening
/// says is missing.
pub async fn records_requests(
    State(state): State<AppState>,
    page: StaffPage,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let patient = load_patient(&state, &id).await?;
    records_requests_page(&state, &page, patient, RequestForm::default()).await
}

/// The longest of the request's free texts.
const REQUEST_TEXT_MAX_CHARS: usize = 2000;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RequestInput {
    physician_name: String,
    physician_address: String,
    /// The proposed lines kept (repeated field `item`).
    item: Vec<String>,
    /// Every proposed line shown (repeated field `shown`), to know which were unticked.
    shown: Vec<String>,
    other_items: String,
    note: String,
}

/// Sends (records) a request: the ticked lines and any others written, to the
/// physician named. Nurses and clinicians (WriteClinicalRecords).
pub async fn create_records_request(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
    form: RawForm,
) -> Result<Response, AppError> {
    let input: RequestInput = form.parse();
    let patient = load_patient(&state, &id).await?;
    let mut errors = Vec::new();
    let physician_name = input.physician_name.trim().to_owned();
    if physician_name.is_empty() {
        errors.push(FieldError {
            field: "physician_name",
            message: "is required: who is the letter to?".into(),
        });
    } else if physician_name.chars().count() > 200 {
        errors.push(FieldError {
            field: "physician_name",
            message: "must be at most 200 characters".into(),
        });
    }
    for (field, text) in [
        ("physician_address", &input.physician_address),
        ("other_items", &input.other_items),
        ("note", &input.note),
    ] {
        if text.chars().count() > REQUEST_TEXT_MAX_CHARS {
            errors.push(FieldError {
                field,
                message: format!("must be at most {REQUEST_TEXT_MAX_CHARS} characters"),
            });
        }
    }
    // Only lines the screening proposes today are taken from the ticks; the
    // rest is the staff member's own words.
    let today = screening_today(&state, &page, patient.id).await?;
    let proposed: Vec<String> = today
        .missing_records
        .iter()
        .map(words::request_line)
        .collect();
    let mut items: Vec<String> = proposed
        .iter()
        .filter(|line| input.item.contains(line))
        .cloned()
        .collect();
    items.extend(
        input
            .other_items
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned),
    );
    if items.is_empty() && errors.is_empty() {
        errors.push(FieldError {
            field: "item",
            message: "tick at least one item or write what is needed".into(),
        });
    }
    if !errors.is_empty() {
        let form = RequestForm {
            unticked: input
                .shown
                .iter()
                .filter(|s| !input.item.contains(s))
                .cloned()
                .collect(),
            physician_name: Some(input.physician_name),
            physician_address: input.physician_address,
            other_items: input.other_items,
            note: input.note,
            errors,
        };
        return records_requests_page(&state, &page, patient, form).await;
    }
    let request_id = state
        .store
        .stamped(&audit)
        .insert_records_request(
            patient.id,
            page.session.user.id,
            &NewRecordsRequest {
                physician_name: &physician_name,
                physician_address: input.physician_address.trim(),
                items: &items,
                note: input.note.trim(),
            },
            page.now,
        )
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Redirect::to(&format!("/staff/records-requests/{request_id}")).into_response())
}

#[derive(Template)]
#[template(path = "records_letter.html")]
struct RecordsLetterPage {
    nav: Nav,
    clinic: String,
    patient: PatientRecord,
    request: RequestRow,
    dated: String,
    can_write: bool,
}

/// The letter of a records request, laid out for printing, with its status.
pub async fn records_letter(
    State(state): State<AppState>,
    page: StaffPage,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let record = state
        .store
        .records_request(id)
        .await?
        .ok_or(AppError::NotFound)?;
    let patient = state
        .store
        .patient(record.patient_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let dated = record.requested_at.to_zoned(page.zone.clone()).date();
    render(&RecordsLetterPage {
        nav: page.nav(),
        clinic: crate::pages::clinic_name(&state).await?,
        patient,
        dated: words::date(dated),
        request: request_row(record, &page),
        can_write: page.may(Permission::WriteClinicalRecords),
    })
}

/// Marks a request received (WriteClinicalRecords). Received twice is a
/// conflict that changes nothing.
pub async fn mark_received(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let record = state
        .store
        .records_request(id)
        .await?
        .ok_or(AppError::NotFound)?;
    let changed = state
        .store
        .stamped(&audit)
        .mark_records_received(id, page.session.user.id, page.now)
        .await?;
    if !changed {
        return Err(AppError::Conflict {
            field: "request",
            message: "was marked received already".into(),
        });
    }
    Ok(Redirect::to(&format!(
        "/staff/patients/{}/records-requests",
        record.patient_id
    ))
    .into_response())
}

/// A form body with repeated fields (`item=a&item=b`), which axum's `Form`
/// into a struct of `Vec`s does not read.
pub struct RawForm(axum::body::Bytes);

impl<S: Send + Sync> axum::extract::FromRequest<S> for RawForm {
    type Rejection = AppError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, AppError> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| AppError::TooLarge)?;
        Ok(RawForm(bytes))
    }
}

impl RawForm {
    fn parse(&self) -> RequestInput {
        let mut input = RequestInput::default();
        for (key, value) in url::form_urlencoded::parse(&self.0) {
            let value = value.into_owned();
            match key.as_ref() {
                "physician_name" => input.physician_name = value,
                "physician_address" => input.physician_address = value,
                "item" => input.item.push(value),
                "shown" => input.shown.push(value),
                "other_items" => input.other_items = value,
                "note" => input.note = value,
                _ => {}
            }
        }
        input
    }
}
