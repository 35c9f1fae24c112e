//! The staff side of the portal and questionnaires (SPEC §1 step 6, §2:
//! nurses keep questionnaires, clinicians assess): invite a patient to the
//! portal from the chart, assign a questionnaire, enter a paper
//! questionnaire (all items on one page, scored by respite-clinical the
//! same way), and the PHQ-9 safety alerts clinicians acknowledge.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use respite_clinical::instruments::{AnswerScale, Instrument};
use respite_domain::messaging::MessageChannel;
use respite_domain::{Email, Permission, PhoneNumber};
use respite_store::{AnswerRecord, AuditStamp, ContactAddress, SafetyAlertRecord};
use serde::Deserialize;

use super::{parse_id, render, render_with, Nav, StaffPage};
use crate::access::AuditedRecord;
use crate::questionnaires;
use crate::words::portal as words;
use crate::{AppError, AppState};

/// The job that makes and sends a portal sign-in link.
pub const LINK_JOB: &str = "portal-link";

/// The newest questionnaires the chart lists; months of them are read on
/// the Outcomes tab.
const CHART_QUESTIONNAIRES: usize = 12;

/// What the chart shows of the portal and questionnaires.
pub struct PortalChart {
    pub instruments: Vec<(&'static str, &'static str)>,
    pub questionnaires: Vec<ChartQuestionnaire>,
    /// Questionnaires older than those listed (every score is on the
    /// Outcomes tab, docs/outcomes.md).
    pub older: usize,
    pub alerts: Vec<String>,
    /// The latest invitations to the portal, in words.
    pub invitations: Vec<String>,
    pub may_write: bool,
    /// The questionnaire schedule: what is given, open, next and missed
    /// (`questionnaire_schedule::chart`); `None` before a treatment plan.
    pub schedule: Option<crate::questionnaire_schedule::ScheduleChart>,
}

pub struct ChartQuestionnaire {
    pub name: String,
    pub when: String,
    pub state: String,
    pub lines: Vec<String>,
}

/// The chart's portal section for patient `id`.
pub async fn chart_section(
    state: &AppState,
    page: &StaffPage,
    id: i64,
) -> Result<PortalChart, AppError> {
    let scores = state.store.scores_of(id).await?;
    let mut list = Vec::new();
    let assignments = state.store.assignments_of(id).await?;
    let older = assignments.len().saturating_sub(CHART_QUESTIONNAIRES);
    for a in assignments.into_iter().take(CHART_QUESTIONNAIRES) {
        let answers = state.store.answers_of(id, a.id).await?;
        let mut lines: Vec<String> = scores
            .iter()
            .filter(|s| s.assignment_id == a.id)
            .map(words::score_line)
            .collect();
        if a.submitted_at.is_some() && a.instrument == Instrument::Phq9.id() {
            let item9 = answers.iter().find(|r| r.link_id == "9").map(|r| r.value);
            lines.push(words::safety_status(item9).to_owned());
        }
        list.push(ChartQuestionnaire {
            name: words::instrument_name(&a.instrument),
            when: page.time(a.submitted_at.unwrap_or(a.assigned_at)),
            state: match a.submitted_at {
                Some(_) => words::source(&a.source).to_owned(),
                None => format!(
                    "Assigned, waiting for the patient ({} answered)",
                    answers.len()
                ),
            },
            lines,
        });
    }
    let alerts = state
        .store
        .safety_alerts_of(id)
        .await?
        .iter()
        .map(|a| format!("{} — {}", page.time(a.raised_at), words::alert_state(a)))
        .collect();
    let invitations = state
        .store
        .portal_invitations_of(id)
        .await?
        .into_iter()
        .map(|(at, channel, sent, used)| words::invitation(&page.time(at), &channel, sent, used))
        .collect();
    Ok(PortalChart {
        invitations,
        instruments: questionnaires::offered()
            .into_iter()
            .map(|i| (i.id(), i.definition().name))
            .collect(),
        questionnaires: list,
        older,
        alerts,
        may_write: page.may(Permission::WriteClinicalRecords),
        schedule: crate::questionnaire_schedule::chart(&state.store, id, page.now).await?,
    })
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    channel: String,
}

/// Invites the patient to the portal: the link is made and sent by a job
/// (so the token is never stored, only its hash), by e-mail or text, to the
/// chart's address, with consent to that channel recorded.
pub async fn invite(
    State(state): State<AppState>,
    page: StaffPage,
    Extension(audit): Extension<AuditStamp>,
    Path(id): Path<String>,
    Form(form): Form<InviteForm>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let patient = state.store.patient(id).await?.ok_or(AppError::NotFound)?;
    let (channel, address) = match form.channel.as_str() {
        "email" => (
            MessageChannel::Email,
            patient
                .email
                .as_deref()
                .and_then(|e| Email::parse(e).ok())
                .map(ContactAddress::Email),
        ),
        "sms" => (
            MessageChannel::Sms,
            patient
                .phone_e164
                .as_deref()
                .and_then(|p| PhoneNumber::from_e164(p).ok())
                .map(ContactAddress::Phone),
        ),
        _ => {
            return Err(AppError::BadRequest {
                field: "Send by",
                message: "choose e-mail or text".into(),
            })
        }
    };
    let Some(address) = address else {
        return Err(AppError::BadRequest {
            field: "Send by",
            message: "the chart has no such address for this patient".into(),
        });
    };
    let consent = state.store.consent(&address, channel).await?;
    if !consent.is_some_and(|c| c.granted) {
        return Err(AppError::NotSent(
            "No consent to this channel is recorded for this address".into(),
        ));
    }
    state
        .store
        .stamped(&audit)
        .invite_to_portal(
            id,
            &form.channel,
            &page.session.user.email,
            LINK_JOB,
            page.now,
        )
        .await?;
    Ok(Redirect::to(&format!("/staff/patients/{id}?invited=1#portal")).into_response())
}

#[derive(Deserialize)]
pub struct AssignForm {
    #[serde(default)]
    instrument: String,
}

/// Assigns a questionnaire for the patient to answer in the portal.
pub async fn assign(
    State(state): State<AppState>,
    page: StaffPage,
    Extension(audit): Extension<AuditStamp>,
    Path(id): Path<String>,
    Form(form): Form<AssignForm>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    state.store.patient(id).await?.ok_or(AppError::NotFound)?;
    let instrument = offered(&form.instrument)?;
    state
        .store
        .stamped(&audit)
        .assign_questionnaire(
            id,
            instrument.id(),
            "portal",
            &page.session.user.email,
            page.now,
        )
        .await?;
    let mut response = Redirect::to(&format!("/staff/patients/{id}#portal")).into_response();
    response
        .extensions_mut()
        .insert(AuditedRecord(id.to_string()));
    Ok(response)
}

fn offered(id: &str) -> Result<Instrument, AppError> {
    questionnaires::offered()
        .into_iter()
        .find(|i| i.id() == id)
        .ok_or(AppError::BadRequest {
            field: "Questionnaire",
            message: "choose one of the listed questionnaires".into(),
        })
}

struct PaperItem {
    id: &'static str,
    text: &'static str,
    choices: Vec<(i32, String, bool)>,
}

#[derive(Template)]
#[template(path = "paper_questionnaire.html")]
struct PaperPage {
    nav: Nav,
    patient_id: i64,
    patient_name: String,
    instrument: &'static str,
    name: &'static str,
    licence: String,
    items: Vec<PaperItem>,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct PaperQuery {
    #[serde(default)]
    instrument: String,
}

fn paper_page(
    page: &StaffPage,
    patient: &respite_store::PatientRecord,
    instrument: Instrument,
    given: &[AnswerRecord],
    error: Option<String>,
) -> PaperPage {
    let d = instrument.definition();
    PaperPage {
        nav: page.nav(),
        patient_id: patient.id,
        patient_name: format!("{} {}", patient.given_name, patient.family_name),
        instrument: d.id,
        name: d.name,
        licence: words::licence(d.id),
        items: d
            .items
            .iter()
            .map(|item| {
                let chosen = given.iter().find(|g| g.link_id == item.id).map(|g| g.value);
                let values: Vec<(i32, String)> = match item.answers {
                    AnswerScale::Choices(c) => {
                        c.iter().map(|c| (c.value, c.label.to_owned())).collect()
                    }
                    AnswerScale::Range { lowest, highest } => {
                        (lowest..=highest).map(|v| (v, v.to_string())).collect()
                    }
                };
                PaperItem {
                    id: item.id,
                    text: item.text.unwrap_or(item.label),
                    choices: values
                        .into_iter()
                        .map(|(v, l)| (v, l, chosen == Some(v)))
                        .collect(),
                }
            })
            .collect(),
        error,
    }
}

/// A paper questionnaire's form: every item on one page.
pub async fn paper_form(
    State(state): State<AppState>,
    page: StaffPage,
    Path(id): Path<String>,
    Query(q): Query<PaperQuery>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let patient = state.store.patient(id).await?.ok_or(AppError::NotFound)?;
    let instrument = if q.instrument.is_empty() {
        Instrument::Phq9
    } else {
        offered(&q.instrument)?
    };
    render(&paper_page(&page, &patient, instrument, &[], None))
}

/// Enters a paper questionnaire: scored by respite-clinical as the portal's
/// are; a blank item is a missing answer (the instrument's rule applies).
pub async fn paper_submit(
    State(state): State<AppState>,
    page: StaffPage,
    Extension(audit): Extension<AuditStamp>,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let patient = state.store.patient(id).await?.ok_or(AppError::NotFound)?;
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let instrument = offered(&field("instrument"))?;
    let mut answers = Vec::new();
    for item in instrument.definition().items {
        let text = field(&format!("item-{}", item.id));
        if text.is_empty() {
            continue;
        }
        let Some(value) = text.parse::<i32>().ok().filter(|v| item.answers.allows(*v)) else {
            return render_with(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                &paper_page(
                    &page,
                    &patient,
                    instrument,
                    &answers,
                    Some(format!("Item {}: choose one of its answers.", item.id)),
                ),
            );
        };
        answers.push(AnswerRecord {
            link_id: item.id.to_owned(),
            value,
        });
    }
    let (_, scores) =
        questionnaires::score(instrument, &answers).map_err(|err| AppError::BadRequest {
            field: "Answers",
            message: err.to_string(),
        })?;
    let alert = match questionnaires::self_harm_answer(instrument, &answers) {
        Some(answer) => Some(super::portal::safety_alert(&state, answer, page.now).await?),
        None => None,
    };
    state
        .store
        .stamped(&audit)
        .enter_paper_questionnaire(
            id,
            instrument.id(),
            &page.session.user.email,
            &answers,
            &scores,
            alert.as_ref(),
            page.now,
        )
        .await?;
    Ok(Redirect::to(&format!("/staff/patients/{id}#portal")).into_response())
}

// ---- safety alerts ----------------------------------------------------------

struct AlertRow {
    alert: SafetyAlertRecord,
    raised: String,
    due: String,
    answer: String,
    state: String,
    acknowledged: Option<String>,
    overdue: bool,
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct AlertsPage {
    nav: Nav,
    rows: Vec<AlertRow>,
    may_acknowledge: bool,
    /// The portal's and the alerts' settings, for administrators.
    settings: Option<PortalSettings>,
}

/// The settings of the portal's links and the safety alerts (clinic
/// settings, SPEC §2: the administrator's).
pub struct PortalSettings {
    pub link_minutes: String,
    pub ack_minutes: String,
    pub on_call_email: String,
    pub on_call_phone: String,
}

async fn portal_settings(state: &AppState) -> Result<PortalSettings, AppError> {
    let get = |key: &'static str| async move {
        Ok::<_, AppError>(state.store.setting(key).await?.unwrap_or_default())
    };
    Ok(PortalSettings {
        link_minutes: get(crate::portal_auth::LINK_MINUTES_SETTING).await?,
        ack_minutes: get(super::portal::ACK_MINUTES_SETTING).await?,
        on_call_email: get(crate::jobs::ON_CALL_EMAIL_SETTING).await?,
        on_call_phone: get(crate::jobs::ON_CALL_PHONE_SETTING).await?,
    })
}

/// The PHQ-9 safety alerts: open first, then the latest acknowledged.
pub async fn alerts(State(state): State<AppState>, page: StaffPage) -> Result<Response, AppError> {
    let rows = state
        .store
        .safety_alerts()
        .await?
        .into_iter()
        .map(|alert| AlertRow {
            raised: page.time(alert.raised_at),
            due: page.time(alert.due_at),
            answer: words::item9_answer(alert.answer),
            state: words::alert_state(&alert),
            acknowledged: alert.acknowledged_at.map(|at| page.time(at)),
            overdue: alert.acknowledged_at.is_none() && alert.due_at <= page.now,
            alert,
        })
        .collect();
    let settings = if page.may(Permission::ManageClinicSettings) {
        Some(portal_settings(&state).await?)
    } else {
        None
    };
    render(&AlertsPage {
        nav: page.nav(),
        rows,
        may_acknowledge: page.may(Permission::AcknowledgeSafetyAlerts),
        settings,
    })
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    link_minutes: String,
    #[serde(default)]
    ack_minutes: String,
    #[serde(default)]
    on_call_email: String,
    #[serde(default)]
    on_call_phone: String,
}

/// Saves the portal's and the alerts' settings; a blank field means the
/// default.
pub async fn save_settings(
    State(state): State<AppState>,
    page: StaffPage,
    Extension(audit): Extension<AuditStamp>,
    Form(form): Form<SettingsForm>,
) -> Result<Response, AppError> {
    let minutes = |text: &str, field: &'static str, lo: i64, hi: i64| {
        let text = text.trim();
        if text.is_empty() {
            return Ok(String::new());
        }
        text.parse::<i64>()
            .ok()
            .filter(|m| lo <= *m && *m <= hi)
            .map(|m| m.to_string())
            .ok_or(AppError::BadRequest {
                field,
                message: format!("must be a whole number of minutes from {lo} to {hi}"),
            })
    };
    let link = minutes(&form.link_minutes, "Sign-in link lifetime", 1, 24 * 60)?;
    let ack = minutes(
        &form.ack_minutes,
        "Time to acknowledge an alert",
        5,
        24 * 60,
    )?;
    let email = match form.on_call_email.trim() {
        "" => String::new(),
        text => Email::parse(text)
            .map_err(|err| AppError::BadRequest {
                field: "On-call e-mail",
                message: err.to_string(),
            })?
            .as_str()
            .to_owned(),
    };
    let phone = match form.on_call_phone.trim() {
        "" => String::new(),
        text => PhoneNumber::parse(text, &page.region)
            .map_err(|err| AppError::BadRequest {
                field: "On-call phone",
                message: err.to_string(),
            })?
            .as_e164()
            .to_owned(),
    };
    state
        .store
        .stamped(&audit)
        .save_settings(&[
            (crate::portal_auth::LINK_MINUTES_SETTING, link),
            (super::portal::ACK_MINUTES_SETTING, ack),
            (crate::jobs::ON_CALL_EMAIL_SETTING, email),
            (crate::jobs::ON_CALL_PHONE_SETTING, phone),
        ])
        .await?;
    Ok(Redirect::to("/staff/alerts?saved=1#settings").into_response())
}

#[derive(Deserialize)]
pub struct AckForm {
    #[serde(default)]
    action: String,
}

/// A clinician acknowledges an alert with the action taken.
pub async fn acknowledge(
    State(state): State<AppState>,
    page: StaffPage,
    Extension(audit): Extension<AuditStamp>,
    Path(id): Path<String>,
    Form(form): Form<AckForm>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let action = form.action.trim();
    if action.is_empty() || action.chars().count() > 2000 {
        return Err(AppError::BadRequest {
            field: "Action taken",
            message: "is required (at most 2000 characters): say what was done".into(),
        });
    }
    state
        .store
        .safety_alert(id)
        .await?
        .ok_or(AppError::NotFound)?;
    let done = state
        .store
        .stamped(&audit)
        .acknowledge_safety_alert(id, &page.session.user.email, action, page.now)
        .await?;
    if !done {
        return Err(AppError::Conflict {
            field: "Alert",
            message: "has been acknowledged already".into(),
        });
    }
    Ok(Redirect::to("/staff/alerts?acknowledged=1").into_response())
}
