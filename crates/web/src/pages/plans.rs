//! The multimodal treatment plan (SPEC §1 step 4): the plan page nurses and
//! clinicians read, the form clinicians revise it with (each save a new
//! version), old versions, and the printable letter to the patient's
//! physician. The rules live in `respite_clinical::plan`; the words in
//! `words::plan`.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use respite_clinical::dosing::protocols::Protocol;
use respite_clinical::plan::{
    check_plan, orderable_protocols, ActivityDraft, ActivityKind, ActivityStatus, GoalDraft,
    PlanDraft, PlanError,
};
use respite_domain::Permission;
use respite_store::{AuditStamp, PatientRecord, PlanVersionSummary, TreatmentPlanRecord};
use serde::Deserialize;

use super::{parse_id, render, render_with, Nav, StaffPage};
use crate::words::plan as words;
use crate::{AppError, AppState};

/// Rows the form offers; a plan with more keeps them all.
const GOAL_ROWS: usize = 5;
const ACTIVITY_ROWS: usize = 8;

/// A plan version as its pages show it.
pub struct PlanView {
    pub record: TreatmentPlanRecord,
    pub written: String,
    pub goals: Vec<String>,
    pub activities: Vec<ActivityView>,
    /// What the patient will read, paragraph by paragraph.
    pub patient_text: Vec<String>,
    pub review_on: String,
    pub review_due: bool,
    /// Components of SPEC §1 step 4 the plan does not hold.
    pub absent: Vec<&'static str>,
}

pub struct ActivityView {
    pub kind: &'static str,
    pub status: &'static str,
    pub status_code: &'static str,
    pub what: String,
}

impl PlanView {
    fn new(record: TreatmentPlanRecord, page: &StaffPage) -> PlanView {
        let goals = record.goals.iter().map(words::goal_line).collect();
        let activities = record
            .activities
            .iter()
            .map(|a| ActivityView {
                kind: words::activity_kind(a.kind),
                status: words::activity_status(a.status),
                status_code: a.status.code(),
                what: words::activity_line(a),
            })
            .collect();
        let absent = ActivityKind::ALL
            .into_iter()
            .filter(|k| !record.activities.iter().any(|a| a.kind == *k))
            .map(words::activity_kind)
            .collect();
        PlanView {
            written: page.time(record.created_at),
            goals,
            activities,
            patient_text: words::patient_text(&record),
            review_on: words::long_date(record.review_on),
            review_due: record.review_on <= page.today(),
            absent,
            record,
        }
    }
}

#[derive(Template)]
#[template(path = "plan.html")]
struct PlanPage {
    nav: Nav,
    /// The chart tab this page belongs to.
    tab: &'static str,
    patient: PatientRecord,
    plan: Option<PlanView>,
    versions: Vec<VersionRow>,
    /// The newest version's number, when this page shows an older one.
    newer: Option<i64>,
    can_write: bool,
}

pub struct VersionRow {
    pub summary: PlanVersionSummary,
    pub written: String,
}

async fn load_patient(state: &AppState, id: i64) -> Result<PatientRecord, AppError> {
    state.store.patient(id).await?.ok_or(AppError::NotFound)
}

async fn versions(
    state: &AppState,
    page: &StaffPage,
    patient_id: i64,
) -> Result<Vec<VersionRow>, AppError> {
    Ok(state
        .store
        .treatment_plan_versions(patient_id)
        .await?
        .into_iter()
        .map(|summary| VersionRow {
            written: page.time(summary.created_at),
            summary,
        })
        .collect())
}

/// The patient's current plan, its versions, and what the patient reads.
pub async fn plan_page(
    State(state): State<AppState>,
    page: StaffPage,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let patient = load_patient(&state, id).await?;
    let plan = state
        .store
        .current_treatment_plan(id)
        .await?
        .map(|record| PlanView::new(record, &page));
    render(&PlanPage {
        nav: page.nav(),
        tab: "plan",
        versions: versions(&state, &page, id).await?,
        patient,
        plan,
        newer: None,
        can_write: page.may(Permission::WriteTreatmentPlans),
    })
}

/// One version of a plan, by its id: old versions stay readable as written.
pub async fn plan_version(
    State(state): State<AppState>,
    page: StaffPage,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let record = state
        .store
        .treatment_plan(id)
        .await?
        .ok_or(AppError::NotFound)?;
    let patient = load_patient(&state, record.patient_id).await?;
    let versions = versions(&state, &page, record.patient_id).await?;
    let newest = versions.first().map(|v| v.summary.version);
    let newer = newest.filter(|n| *n > record.version);
    render(&PlanPage {
        nav: page.nav(),
        tab: "plan",
        patient,
        plan: Some(PlanView::new(record, &page)),
        versions,
        newer,
        can_write: page.may(Permission::WriteTreatmentPlans),
    })
}

#[derive(Template)]
#[template(path = "plan_form.html")]
struct PlanFormPage {
    nav: Nav,
    patient: PatientRecord,
    /// The version the form starts from.
    from_version: Option<i64>,
    draft: PlanDraft,
    errors: Vec<PlanError>,
    goal_choices: Vec<(&'static str, String)>,
    kinds: Vec<(&'static str, &'static str, &'static str)>,
    statuses: Vec<(&'static str, &'static str)>,
    protocols: Vec<Protocol>,
}

impl PlanFormPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    fn goal_error(&self, index: &usize) -> Option<&str> {
        self.error(&format!("goal_{}", index + 1))
    }

    fn goal_description_error(&self, index: &usize) -> Option<&str> {
        self.error(&format!("goal_{}_description", index + 1))
    }

    fn activity_error(&self, index: &usize, name: &str) -> Option<&str> {
        self.error(&format!("activity_{}_{name}", index + 1))
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FormQuery {
    /// The version to start from (an older one, to restore it).
    from: String,
}

/// The form that writes the next version, filled in from the current one.
pub async fn plan_form(
    State(state): State<AppState>,
    page: StaffPage,
    Path(id): Path<String>,
    Query(query): Query<FormQuery>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let patient = load_patient(&state, id).await?;
    let from = match query.from.trim() {
        "" => state.store.current_treatment_plan(id).await?,
        text => {
            let plan_id = parse_id(text)?;
            let plan = state.store.treatment_plan(plan_id).await?;
            Some(
                plan.filter(|p| p.patient_id == id)
                    .ok_or(AppError::NotFound)?,
            )
        }
    };
    let draft = match &from {
        Some(plan) => draft_of(plan),
        None => first_draft(&state, id, &page).await?,
    };
    plan_form_page(&page, patient, from.map(|p| p.version), draft, Vec::new())
}

fn plan_form_page(
    page: &StaffPage,
    patient: PatientRecord,
    from_version: Option<i64>,
    mut draft: PlanDraft,
    errors: Vec<PlanError>,
) -> Result<Response, AppError> {
    let goal_rows = GOAL_ROWS.max(draft.goals.len() + 1);
    draft.goals.resize(goal_rows, GoalDraft::default());
    let activity_rows = ACTIVITY_ROWS.max(draft.activities.len() + 1);
    draft
        .activities
        .resize(activity_rows, ActivityDraft::default());
    let status = if errors.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    render_with(
        status,
        &PlanFormPage {
            nav: page.nav(),
            patient,
            from_version,
            draft,
            errors,
            goal_choices: words::goal_choices(),
            kinds: ActivityKind::ALL
                .into_iter()
                .map(|k| {
                    (
                        k.code(),
                        words::activity_kind(k),
                        words::activity_kind_hint(k),
                    )
                })
                .collect(),
            statuses: ActivityStatus::ALL
                .into_iter()
                .map(|s| (s.code(), words::activity_status(s)))
                .collect(),
            protocols: orderable_protocols(),
        },
    )
}

/// The form of a first plan: the condition from the chart, the usual IMMPACT goal,
/// one row per component, a review in three months.
async fn first_draft(
    state: &AppState,
    patient_id: i64,
    page: &StaffPage,
) -> Result<PlanDraft, AppError> {
    let conditions = state.store.conditions(patient_id).await?;
    let mut named: Vec<String> = Vec::new();
    for c in &conditions {
        let name = if c.icd10cm_code.is_empty() {
            c.display.clone()
        } else {
            format!("{} {}", c.icd10cm_code, c.display)
        };
        // A condition entered twice (from the consultation, then coded) is named once.
        if !named.contains(&name) {
            named.push(name);
        }
    }
    let addresses = named.join("; ");
    let review_on = page
        .today()
        .checked_add(jiff::ToSpan::months(3))
        .map(|d| d.to_string())
        .unwrap_or_default();
    Ok(PlanDraft {
        title: conditions.first().map_or_else(
            || "Pain care plan".into(),
            |c| format!("{}: pain care plan", c.display),
        ),
        addresses,
        goals: vec![GoalDraft {
            template: "pain-reduction-30".into(),
            description: String::new(),
        }],
        activities: ActivityKind::ALL
            .into_iter()
            .map(|k| ActivityDraft {
                kind: k.code().into(),
                status: ActivityStatus::NotStarted.code().into(),
                ..ActivityDraft::default()
            })
            .collect(),
        review_on,
        note: String::new(),
    })
}

fn draft_of(plan: &TreatmentPlanRecord) -> PlanDraft {
    PlanDraft {
        title: plan.title.clone(),
        addresses: plan.addresses.clone(),
        goals: plan
            .goals
            .iter()
            .map(|g| GoalDraft {
                template: g.template.clone(),
                description: if g.template == respite_clinical::plan::CUSTOM_GOAL {
                    g.description.clone()
                } else {
                    String::new()
                },
            })
            .collect(),
        activities: plan
            .activities
            .iter()
            .map(|a| ActivityDraft {
                kind: a.kind.code().into(),
                status: a.status.code().into(),
                description: a.description.clone(),
                protocol: a.protocol.clone().unwrap_or_default(),
                sessions: a.sessions.map(|n| n.to_string()).unwrap_or_default(),
                duration: a.duration.clone(),
            })
            .collect(),
        review_on: plan.review_on.to_string(),
        note: plan.note.clone(),
    }
}

/// The form's fields: `title`, `addresses`, `review_on`, `note`, `from_version`,
/// `goal_N` and `goal_N_description`, `activity_N_kind|status|description|protocol|
/// sessions|duration`, N from 1.
fn draft_from_form(form: &HashMap<String, String>) -> PlanDraft {
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    let rows = |prefix: &str| {
        form.keys()
            .filter_map(|k| k.strip_prefix(prefix))
            .filter_map(|rest| rest.split('_').next()?.parse::<usize>().ok())
            .filter(|n| (1..=50).contains(n))
            .max()
            .unwrap_or(0)
    };
    let goals = (1..=rows("goal_"))
        .map(|n| GoalDraft {
            template: field(&format!("goal_{n}")),
            description: field(&format!("goal_{n}_description")),
        })
        .collect();
    let activities = (1..=rows("activity_"))
        .map(|n| {
            let f = |name: &str| field(&format!("activity_{n}_{name}"));
            ActivityDraft {
                kind: f("kind"),
                status: f("status"),
                description: f("description"),
                protocol: f("protocol"),
                sessions: f("sessions"),
                duration: f("duration"),
            }
        })
        .collect();
    PlanDraft {
        title: field("title"),
        addresses: field("addresses"),
        goals,
        activities,
        review_on: field("review_on"),
        note: field("note"),
    }
}

/// Saves the form as the patient's next plan version (WriteTreatmentPlans).
pub async fn save_plan(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let patient = load_patient(&state, id).await?;
    let draft = draft_from_form(&form);
    let from_version = form
        .get("from_version")
        .and_then(|v| v.trim().parse::<i64>().ok());
    match check_plan(&draft, page.today()) {
        Ok(plan) => {
            state
                .store
                .stamped(&audit)
                .insert_treatment_plan(id, page.session.user.id, &plan, page.now)
                .await?
                .ok_or(AppError::NotFound)?;
            Ok(Redirect::to(&format!("/staff/patients/{id}/plan")).into_response())
        }
        Err(errors) => plan_form_page(&page, patient, from_version, draft, errors),
    }
}

#[derive(Template)]
#[template(path = "plan_letter.html")]
struct PlanLetterPage {
    nav: Nav,
    clinic: String,
    patient: PatientRecord,
    plan: PlanView,
    to: String,
    dated: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LetterQuery {
    to: String,
}

/// The letter to the patient's physician summarising a plan version, laid out
/// for printing (the print stylesheet prints the letter alone).
pub async fn plan_letter(
    State(state): State<AppState>,
    page: StaffPage,
    Path(id): Path<String>,
    Query(query): Query<LetterQuery>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let record = state
        .store
        .treatment_plan(id)
        .await?
        .ok_or(AppError::NotFound)?;
    let patient = load_patient(&state, record.patient_id).await?;
    let to = match query.to.trim() {
        "" => state
            .store
            .conditions(record.patient_id)
            .await?
            .into_iter()
            .map(|c| c.diagnosed_by)
            .find(|d| !d.trim().is_empty())
            .unwrap_or_default(),
        to => to.chars().take(200).collect(),
    };
    render(&PlanLetterPage {
        nav: page.nav(),
        clinic: crate::pages::clinic_name(&state).await?,
        dated: words::long_date(page.today()),
        plan: PlanView::new(record, &page),
        patient,
        to,
    })
}

/// The letters' print button (a file: the Content-Security-Policy refuses
/// inline script).
pub async fn print_script() -> Response {
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/javascript; charset=utf-8",
            ),
            (axum::http::header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/print.js"),
    )
        .into_response()
}
