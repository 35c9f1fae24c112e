//! The patient portal (SPEC §1 step 6, §2 patient role), phone-first and
//! server-rendered: sign-in by a single-use link (and an optional
//! password), the patient's questionnaires one question per screen with
//! each answer saved as it is given, crisis resources at once when PHQ-9
//! item 9 is answered 1 or more, their appointments and their own scores.
//!
//! Every handler finds its records through the session's patient id
//! (`PortalSession`), never through an id alone: another patient's
//! questionnaire id is 404, audited (by the route's guard) as invalid with
//! the patient as the actor.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use jiff::{SignedDuration, Timestamp};
use respite_clinical::instruments::{AnswerScale, Instrument, InstrumentDefinition};
use respite_store::{AnswerRecord, AssignmentRecord, AuditEntry, NewSafetyAlert, Outcome};
use serde::Deserialize;

use super::{parse_id, render, render_with, PublicPage};
use crate::access::{patient_actor, AuditedRecord};
use crate::auth::{sign_in_wait, signed, token_hash};
use crate::client::ClientAddress;
use crate::portal_auth::{self, PortalSession};
use crate::questionnaires;
use crate::words::portal as words;
use crate::words::public::ClinicFacts;
use crate::words::questionnaires as schedule_words;
use crate::{AppError, AppState};

/// The job that escalates an unacknowledged safety alert.
pub const ESCALATION_JOB: &str = "safety-escalation";
/// How long clinicians have to acknowledge a safety alert, by default
/// (a clinic setting, `safety_ack_minutes`).
pub const DEFAULT_ACK_MINUTES: i64 = 60;
pub const ACK_MINUTES_SETTING: &str = "safety_ack_minutes";
/// The key under which failed link sign-ins are counted (per source).
const LINK_FAILURES: &str = "portal-link";

/// The safety alert to raise for PHQ-9 item 9 answered `answer` (≥ 1).
pub async fn safety_alert(
    state: &AppState,
    answer: i32,
    now: Timestamp,
) -> Result<NewSafetyAlert, AppError> {
    let minutes = state
        .store
        .setting(ACK_MINUTES_SETTING)
        .await?
        .and_then(|t| t.trim().parse::<i64>().ok())
        .unwrap_or(DEFAULT_ACK_MINUTES)
        .clamp(5, 24 * 60);
    Ok(NewSafetyAlert {
        answer,
        due_at: now + SignedDuration::from_mins(minutes),
        escalation_job_kind: ESCALATION_JOB.to_owned(),
    })
}

// ---- sign-in -------------------------------------------------------------

#[derive(Template)]
#[template(path = "portal_sign_in.html")]
struct SignInPage<'a> {
    clinic: &'a ClinicFacts,
    csrf: &'a str,
    token: String,
    error: Option<String>,
    notice: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct LinkQuery {
    #[serde(default)]
    token: String,
}

/// The page a sign-in link opens: a button that spends the link. A GET
/// never spends it (mail scanners open links).
pub async fn link_page(page: PublicPage, Query(q): Query<LinkQuery>) -> Result<Response, AppError> {
    render(&SignInPage {
        clinic: &page.clinic,
        csrf: &page.csrf,
        token: q.token,
        error: None,
        notice: None,
    })
}

#[derive(Deserialize)]
pub struct SignInQuery {
    /// Set by signing out, so that the page says it happened.
    #[serde(default)]
    signed_out: Option<String>,
}

/// The sign-in page without a link: where to find one.
pub async fn sign_in_page(
    page: PublicPage,
    Query(q): Query<SignInQuery>,
) -> Result<Response, AppError> {
    render(&SignInPage {
        clinic: &page.clinic,
        csrf: &page.csrf,
        token: String::new(),
        error: None,
        notice: q.signed_out.is_some().then_some("You have signed out."),
    })
}

#[derive(Deserialize)]
pub struct LinkForm {
    #[serde(default)]
    token: String,
}

/// Spends a sign-in link: once, before it expires. Guessing is slowed per
/// source address like the staff sign-in (`auth::sign_in_wait`).
pub async fn use_link(
    State(state): State<AppState>,
    page: PublicPage,
    client: ClientAddress,
    headers: axum::http::HeaderMap,
    Form(form): Form<LinkForm>,
) -> Result<Response, AppError> {
    let now = page.now;
    let source = client.limit_key_text();
    let window = signed(state.config.lockout_window);
    let failures = state
        .store
        .login_failures_since(LINK_FAILURES, &source, now - window)
        .await?;
    let refuse = |status: StatusCode, message: &str| {
        render_with(
            status,
            &SignInPage {
                clinic: &page.clinic,
                csrf: &page.csrf,
                token: String::new(),
                error: Some(message.to_owned()),
                notice: None,
            },
        )
    };
    if let Some(wait) = sign_in_wait(&failures, &state.config, now) {
        let mut response = refuse(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many sign-in links that could not be used came from this address. Please wait a few minutes, then try again.",
        )?;
        response.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            HeaderValue::from(wait.as_secs().max(1).unsigned_abs()),
        );
        return Ok(response);
    }
    let token = form.token.trim();
    let valid_shape = token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit());
    let (session_token, session_hash) = portal_auth::new_token();
    let patient = if valid_shape {
        state
            .store
            .spend_portal_link(&token_hash(token), &session_hash, now)
            .await?
    } else {
        None
    };
    let Some(patient_id) = patient else {
        state
            .store
            .record_login_failure(LINK_FAILURES, &source, now, now - window)
            .await?;
        return refuse(
            StatusCode::GONE,
            "This sign-in link has been used already or has expired. Ask the clinic for a new one, or sign in with your password if you set one.",
        );
    };
    audit_patient(&state, patient_id, "Patient", "login", &source, now).await?;
    signed_in(&state, &headers, &session_token, &session_hash).await
}

#[derive(Deserialize)]
pub struct PasswordSignIn {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// Signs in with the e-mail address on the chart and the password the
/// patient set (argon2id on the bounded pool, back-off per address).
pub async fn password_sign_in(
    State(state): State<AppState>,
    page: PublicPage,
    client: ClientAddress,
    headers: axum::http::HeaderMap,
    Form(form): Form<PasswordSignIn>,
) -> Result<Response, AppError> {
    let now = page.now;
    let email = form.email.trim().to_lowercase();
    let key = format!("portal:{email}");
    let source = client.limit_key_text();
    let window = signed(state.config.lockout_window);
    let refuse = |status: StatusCode, message: &str| {
        render_with(
            status,
            &SignInPage {
                clinic: &page.clinic,
                csrf: &page.csrf,
                token: String::new(),
                error: Some(message.to_owned()),
                notice: None,
            },
        )
    };
    if email.is_empty() || form.password.is_empty() || email.len() > 254 {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "E-mail and password: both are required.",
        );
    }
    let failures = state
        .store
        .login_failures_since(&key, &source, now - window)
        .await?;
    if sign_in_wait(&failures, &state.config, now).is_some() {
        return refuse(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many failed attempts for this address. Please wait a few minutes, then try again.",
        );
    }
    let account = state.store.portal_password_for_email(&email).await?;
    let matches = state
        .passwords
        .verify(form.password.clone(), account.as_ref().map(|a| a.1.clone()))
        .await
        .map_err(|_| AppError::Unavailable("The server is busy; try again in a moment."))?;
    let Some((patient_id, _)) = account.filter(|_| matches) else {
        state
            .store
            .record_login_failure(&key, &source, now, now - window)
            .await?;
        return refuse(
            StatusCode::UNAUTHORIZED,
            "That e-mail address and password do not match.",
        );
    };
    state.store.clear_login_failures(&key, &source).await?;
    let (session_token, session_hash) = portal_auth::new_token();
    state
        .store
        .create_portal_session(&session_hash, patient_id, now)
        .await?;
    audit_patient(&state, patient_id, "Patient", "login", &source, now).await?;
    signed_in(&state, &headers, &session_token, &session_hash).await
}

async fn signed_in(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    token: &str,
    hash: &str,
) -> Result<Response, AppError> {
    let mut response = Redirect::to("/portal/").into_response();
    portal_auth::portal_cookie_header(response.headers_mut(), token, &state.config);
    let csrf = crate::csrf::issue_for_portal(state, headers, Some(hash)).await?;
    response
        .headers_mut()
        .append(axum::http::header::SET_COOKIE, csrf);
    Ok(response)
}

async fn audit_patient(
    state: &AppState,
    patient_id: i64,
    resource: &str,
    action: &str,
    source: &str,
    now: Timestamp,
) -> Result<(), AppError> {
    state
        .store
        .append_audit(&AuditEntry {
            at: now,
            actor: patient_actor(patient_id),
            actor_role: "patient".to_owned(),
            action: action.to_owned(),
            resource_type: resource.to_owned(),
            resource_id: patient_id.to_string(),
            source_address: source.to_owned(),
            outcome: Outcome::Success,
        })
        .await?;
    Ok(())
}

/// Signs out of the portal.
pub async fn sign_out(
    State(state): State<AppState>,
    Extension(session): Extension<PortalSession>,
    headers: axum::http::HeaderMap,
) -> Result<Response, AppError> {
    state
        .store
        .delete_portal_session(&session.token_hash)
        .await?;
    let mut response = Redirect::to("/portal/sign-in?signed_out=1").into_response();
    portal_auth::clear_portal_cookie(response.headers_mut(), &state.config);
    let csrf = crate::csrf::issue_for_portal(&state, &headers, None).await?;
    response
        .headers_mut()
        .append(axum::http::header::SET_COOKIE, csrf);
    Ok(response)
}

// ---- home ----------------------------------------------------------------

struct DueRow {
    id: i64,
    name: String,
    progress: String,
    /// The timepoint in the patient's words, when the schedule assigned it.
    timepoint: String,
    /// "Due today; please answer by …", when scheduled.
    due: String,
}

/// An appointment on the portal: when, its status in words, and the
/// change-or-cancel link of a booked one still to come.
struct AppointmentRow {
    when: String,
    status: &'static str,
    change: Option<String>,
}

struct DoneRow {
    name: String,
    when: String,
    lines: Vec<String>,
}

#[derive(Template)]
#[template(path = "portal_home.html")]
struct HomePage {
    clinic: ClinicFacts,
    csrf: String,
    given_name: String,
    due: Vec<DueRow>,
    done: Vec<DoneRow>,
    appointments: Vec<AppointmentRow>,
    has_password: bool,
    /// The chart's e-mail address, the one a password signs in with.
    email: Option<String>,
    password: PasswordState,
}

/// What the home page says of the optional password.
enum PasswordState {
    Unchanged,
    Saved,
    Refused(String),
}

#[derive(Deserialize)]
pub struct HomeQuery {
    /// Set after the password was saved, so that the page says so.
    #[serde(default)]
    password: Option<String>,
}

/// The patient's own page: questionnaires due, appointments, scores.
pub async fn home(
    State(state): State<AppState>,
    page: PublicPage,
    Extension(session): Extension<PortalSession>,
    Query(q): Query<HomeQuery>,
) -> Result<Response, AppError> {
    let password = match q.password {
        Some(_) => PasswordState::Saved,
        None => PasswordState::Unchanged,
    };
    home_page(&state, &page, &session, password, StatusCode::OK).await
}

async fn home_page(
    state: &AppState,
    page: &PublicPage,
    session: &PortalSession,
    password: PasswordState,
    status: StatusCode,
) -> Result<Response, AppError> {
    let patient_id = session.patient_id;
    let patient = state
        .store
        .patient(patient_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let assignments = state.store.assignments_of(patient_id).await?;
    let scores = state.store.scores_of(patient_id).await?;
    // The schedule's timepoints and days (questionnaires on schedule); a
    // scheduled questionnaire whose time has passed is no longer asked for.
    let scheduled = state.store.scheduled_questionnaires_of(patient_id).await?;
    let today = crate::questionnaire_schedule::today_of(&patient.time_zone, page.now);
    let mut due = Vec::new();
    let mut done = Vec::new();
    for a in assignments.iter().filter(|a| a.source == "portal") {
        let Some(instrument) = questionnaires::instrument(&a.instrument) else {
            continue;
        };
        if a.submitted_at.is_none() {
            let schedule = scheduled.iter().find(|s| s.assignment_id == a.id);
            let days = schedule.and_then(|s| {
                Some((
                    s.due_on.parse::<jiff::civil::Date>().ok()?,
                    s.closes_on.parse::<jiff::civil::Date>().ok()?,
                ))
            });
            if days.is_some_and(|(_, closes)| today >= closes) {
                continue;
            }
            let answered = state.store.answers_of(patient_id, a.id).await?.len();
            let total = instrument.definition().items.len();
            let order = match days {
                Some((due_on, _)) => due_on,
                None => a.assigned_at.to_zoned(page.zone.clone()).date(),
            };
            due.push((
                order,
                a.id,
                DueRow {
                    id: a.id,
                    name: words::instrument_name(&a.instrument),
                    progress: words::questionnaire_progress(answered, total),
                    timepoint: schedule
                        .map(|s| schedule_words::timepoint_for_patient(&s.timepoint))
                        .unwrap_or_default(),
                    due: days
                        .map(|(due_on, closes)| schedule_words::due(due_on, closes, today))
                        .unwrap_or_default(),
                },
            ));
        }
    }
    // In order of due day, the oldest first.
    due.sort_by_key(|(order, id, _)| (*order, *id));
    let due: Vec<DueRow> = due.into_iter().map(|(_, _, row)| row).collect();
    for a in &assignments {
        if let Some(at) = a.submitted_at {
            done.push(DoneRow {
                name: words::instrument_name(&a.instrument),
                when: super::context::clinic_time(at, &page.zone),
                lines: scores
                    .iter()
                    .filter(|s| s.assignment_id == a.id)
                    .map(words::score_line)
                    .collect(),
            });
        }
    }
    // The patient's own consultations only; a booked one still to come
    // gets the change-or-cancel link its confirmation carries
    // (booking_token.rs).
    let secret = crate::booking_token::secret(state).await?;
    let appointments = state
        .store
        .portal_appointments_of(patient_id)
        .await?
        .into_iter()
        .map(|a| AppointmentRow {
            when: super::context::clinic_time(a.starts_at, &page.zone),
            status: words::appointment_status(&a.status),
            change: (a.status == "booked" && a.starts_at > page.now).then(|| {
                format!(
                    "/consultations/booking?token={}",
                    crate::booking_token::sign(&secret, a.id, a.starts_at)
                )
            }),
        })
        .collect();
    let mut response = render_with(
        status,
        &HomePage {
            clinic: page.clinic.clone(),
            csrf: page.csrf.clone(),
            given_name: patient.given_name,
            due,
            done,
            appointments,
            has_password: state.store.has_portal_password(patient_id).await?,
            email: patient.email,
            password,
        },
    )?;
    response
        .extensions_mut()
        .insert(AuditedRecord(patient_id.to_string()));
    Ok(response)
}

// ---- one question per screen ----------------------------------------------

struct Choice {
    value: i32,
    label: String,
    checked: bool,
}

#[derive(Template)]
#[template(path = "portal_question.html")]
struct QuestionPage {
    clinic: ClinicFacts,
    csrf: String,
    id: i64,
    name: String,
    licence: String,
    /// The clinic's own licence record of a licensed instrument.
    clinic_licence: String,
    instructions: String,
    number: usize,
    total: usize,
    item_id: String,
    text: String,
    choices: Vec<Choice>,
    previous: Option<usize>,
    crisis: bool,
    all_answered: bool,
    unanswered: Vec<String>,
}

#[derive(Template)]
#[template(path = "portal_result.html")]
struct ResultPage {
    clinic: ClinicFacts,
    name: String,
    lines: Vec<String>,
    crisis: bool,
    safety: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct QuestionQuery {
    /// The 1-based question to show (going back); else the first
    /// unanswered one.
    item: Option<usize>,
}

async fn own_assignment(
    state: &AppState,
    session: &PortalSession,
    id: &str,
) -> Result<(AssignmentRecord, Instrument), AppError> {
    let id = parse_id(id)?;
    let assignment = state
        .store
        .assignment_of(session.patient_id, id)
        .await?
        .filter(|a| a.source == "portal")
        .ok_or(AppError::NotFound)?;
    let instrument =
        questionnaires::instrument(&assignment.instrument).ok_or(AppError::NotFound)?;
    Ok((assignment, instrument))
}

/// A questionnaire, one question per screen, resuming at the first
/// unanswered question; once submitted, its result.
pub async fn question(
    State(state): State<AppState>,
    page: PublicPage,
    Extension(session): Extension<PortalSession>,
    Path(id): Path<String>,
    Query(q): Query<QuestionQuery>,
) -> Result<Response, AppError> {
    let (assignment, instrument) = own_assignment(&state, &session, &id).await?;
    let answers = state
        .store
        .answers_of(session.patient_id, assignment.id)
        .await?;
    let definition = instrument.definition();
    let crisis = questionnaires::self_harm_answer(instrument, &answers).is_some();
    if assignment.submitted_at.is_some() {
        let lines = state
            .store
            .scores_of(session.patient_id)
            .await?
            .iter()
            .filter(|s| s.assignment_id == assignment.id)
            .map(words::score_line)
            .collect();
        let safety = (instrument == Instrument::Phq9).then(|| {
            words::safety_status(answers.iter().find(|a| a.link_id == "9").map(|a| a.value))
        });
        return render(&ResultPage {
            clinic: page.clinic.clone(),
            name: definition.name.to_owned(),
            lines,
            crisis,
            safety,
        });
    }
    let first_open = questionnaires::first_unanswered(definition, &answers);
    let index = match q.item {
        Some(n) if 1 <= n && n <= definition.items.len() => n - 1,
        _ => first_open.unwrap_or(definition.items.len() - 1),
    };
    let mut question = question_page(
        &page,
        &assignment,
        definition,
        &answers,
        index,
        crisis,
        first_open.is_none(),
    );
    // A licensed instrument shows the clinic's licence under its questions
    // (instruments.md, "Licensing").
    if let Some(record) = state
        .store
        .questionnaire_licences()
        .await?
        .into_iter()
        .find(|l| l.licence.instrument == definition.id)
    {
        question.clinic_licence = schedule_words::licence_record(
            &record.licence.holder,
            &record.licence.terms,
            &record.licence.licensed_on,
        );
    }
    render(&question)
}

fn question_page(
    page: &PublicPage,
    assignment: &AssignmentRecord,
    definition: &'static InstrumentDefinition,
    answers: &[AnswerRecord],
    index: usize,
    crisis: bool,
    all_answered: bool,
) -> QuestionPage {
    let item = &definition.items[index];
    let given = answers
        .iter()
        .find(|a| a.link_id == item.id)
        .map(|a| a.value);
    let choices = match item.answers {
        AnswerScale::Choices(choices) => choices
            .iter()
            .map(|c| Choice {
                value: c.value,
                label: c.label.to_owned(),
                checked: given == Some(c.value),
            })
            .collect(),
        AnswerScale::Range { lowest, highest } => (lowest..=highest)
            .map(|v| Choice {
                value: v,
                label: v.to_string(),
                checked: given == Some(v),
            })
            .collect(),
    };
    QuestionPage {
        clinic: page.clinic.clone(),
        csrf: page.csrf.clone(),
        id: assignment.id,
        name: definition.name.to_owned(),
        licence: words::licence(definition.id),
        clinic_licence: String::new(),
        instructions: definition.instructions.unwrap_or_default().to_owned(),
        number: index + 1,
        total: definition.items.len(),
        item_id: item.id.to_owned(),
        text: item.text.unwrap_or(item.label).to_owned(),
        choices,
        previous: (index > 0).then_some(index),
        crisis,
        all_answered,
        unanswered: definition
            .items
            .iter()
            .enumerate()
            .filter(|(_, i)| !answers.iter().any(|a| a.link_id == i.id))
            .map(|(n, _)| (n + 1).to_string())
            .collect(),
    }
}

#[derive(Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    item: String,
    #[serde(default)]
    value: String,
}

/// Saves one answer at once (save as you go) and shows the next question;
/// PHQ-9 item 9 answered 1 or more raises the safety alert in the same
/// transaction, and the next screen shows crisis resources.
pub async fn answer(
    State(state): State<AppState>,
    page: PublicPage,
    Extension(session): Extension<PortalSession>,
    Extension(audit): Extension<respite_store::AuditStamp>,
    Path(id): Path<String>,
    Form(form): Form<AnswerForm>,
) -> Result<Response, AppError> {
    let (assignment, instrument) = own_assignment(&state, &session, &id).await?;
    if assignment.submitted_at.is_some() {
        return Err(AppError::Conflict {
            field: "Questionnaire",
            message: "has been submitted already".into(),
        });
    }
    let definition = instrument.definition();
    let Some(position) = definition.items.iter().position(|i| i.id == form.item) else {
        return Err(AppError::BadRequest {
            field: "Question",
            message: "is not a question of this questionnaire".into(),
        });
    };
    let item = &definition.items[position];
    let Some(value) = form
        .value
        .trim()
        .parse::<i32>()
        .ok()
        .filter(|v| item.answers.allows(*v))
    else {
        return Err(AppError::BadRequest {
            field: "Answer",
            message: "choose one of the answers".into(),
        });
    };
    let mut answers = state
        .store
        .answers_of(session.patient_id, assignment.id)
        .await?;
    answers.retain(|a| a.link_id != item.id);
    answers.push(AnswerRecord {
        link_id: item.id.to_owned(),
        value,
    });
    let alert =
        match questionnaires::self_harm_answer(instrument, &answers).filter(|_| item.id == "9") {
            Some(answer) => Some(safety_alert(&state, answer, page.now).await?),
            None => None,
        };
    let saved = state
        .store
        .stamped(&audit)
        .save_answer(
            session.patient_id,
            assignment.id,
            item.id,
            value,
            alert.as_ref(),
            page.now,
        )
        .await?;
    if !saved {
        return Err(AppError::NotFound);
    }
    let next = questionnaires::first_unanswered(definition, &answers);
    let target = match next {
        // Straight on after the one just answered when it is open; else
        // the first open one; else the last screen, to submit.
        Some(_)
            if position + 1 < definition.items.len()
                && !answers
                    .iter()
                    .any(|a| a.link_id == definition.items[position + 1].id) =>
        {
            format!(
                "/portal/questionnaires/{}?item={}",
                assignment.id,
                position + 2
            )
        }
        Some(n) => format!("/portal/questionnaires/{}?item={}", assignment.id, n + 1),
        None => format!(
            "/portal/questionnaires/{}?item={}",
            assignment.id,
            definition.items.len()
        ),
    };
    Ok(Redirect::to(&target).into_response())
}

/// Submits the questionnaire: scored by respite-clinical, stored as
/// observations; an answer left out follows the instrument's rule.
pub async fn submit(
    State(state): State<AppState>,
    page: PublicPage,
    Extension(session): Extension<PortalSession>,
    Extension(audit): Extension<respite_store::AuditStamp>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (assignment, instrument) = own_assignment(&state, &session, &id).await?;
    let answers = state
        .store
        .answers_of(session.patient_id, assignment.id)
        .await?;
    let (_, scores) =
        questionnaires::score(instrument, &answers).map_err(|err| AppError::BadRequest {
            field: "Answers",
            message: err.to_string(),
        })?;
    let alert = match questionnaires::self_harm_answer(instrument, &answers) {
        Some(answer) => Some(safety_alert(&state, answer, page.now).await?),
        None => None,
    };
    let done = state
        .store
        .stamped(&audit)
        .submit_questionnaire(
            session.patient_id,
            assignment.id,
            &[],
            &scores,
            alert.as_ref(),
            page.now,
        )
        .await?;
    if done.is_none() {
        return Err(AppError::Conflict {
            field: "Questionnaire",
            message: "has been submitted already".into(),
        });
    }
    Ok(Redirect::to(&format!("/portal/questionnaires/{}", assignment.id)).into_response())
}

// ---- password -------------------------------------------------------------

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    password: String,
}

/// Sets the patient's password (optional: the link always works).
pub async fn set_password(
    State(state): State<AppState>,
    page: PublicPage,
    Extension(session): Extension<PortalSession>,
    Form(form): Form<PasswordForm>,
) -> Result<Response, AppError> {
    let password = form.password;
    let hashed = tokio::task::spawn_blocking(move || crate::auth::hash_password(&password))
        .await
        .map_err(|_| AppError::Internal("password hashing stopped"))?;
    // A refused password is shown at its field on the patient's own page,
    // not on an error page they would have to come back from.
    let hash = match hashed {
        Ok(hash) => hash,
        Err(err) => {
            let rule = err.to_string().trim_start_matches("password: ").to_owned();
            return home_page(
                &state,
                &page,
                &session,
                PasswordState::Refused(format!("Password: {rule}.")),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    state
        .store
        .set_portal_password(session.patient_id, &hash, page.now)
        .await?;
    Ok(Redirect::to("/portal/?password=1").into_response())
}

/// Crisis resources: 988 and the clinic's number (public: anyone may need
/// them).
#[derive(Template)]
#[template(path = "portal_crisis.html")]
struct CrisisPage {
    clinic: ClinicFacts,
}

pub async fn crisis(page: PublicPage) -> Result<Response, AppError> {
    render(&CrisisPage {
        clinic: page.clinic.clone(),
    })
}
