//! The infusion session for the nurse (SPEC §1 step 5): one page holds the
//! whole session — state, elapsed time, the rate now and the mg delivered,
//! when the next vitals are due, open alarms to acknowledge, the forms the
//! state allows, the drug drawn from the register, and the timeline; after
//! the stop, recovery, Aldrete, discharge to the named escort and the
//! clinician's sign-off; afterwards planned against delivered. Rules are
//! respite-clinical's (`session`), storage and the version check
//! respite-store's (`record_session_entry`); words `words::session`.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use jiff::Timestamp;
use respite_clinical::dosing::units::Millilitres;
use respite_clinical::instruments::{AnswerScale, Answers, Instrument};
use respite_clinical::register::DrugAmount;
use respite_clinical::register::RegisterDrug;
use respite_clinical::session::{RescueDrug, SessionState, VitalSigns};
use respite_domain::Permission;
use respite_pk::{simulate, DosingPlan, Model, SimulationSettings};
use respite_store::{
    ordered_bolus_mg, ordered_pump_ml_h, AuditStamp, InfusionOrderRecord, InfusionSession, NewDraw,
    RescueVialDraw, SessionEntry, SessionRefusal, StoreError, ADVERSE_EVENT_CODES,
};

use super::{parse_id, render, render_with, Nav, StaffPage};
use crate::charts::{Axis, Chart, Layer};
use crate::words::infusion::number;
use crate::words::session as words;
use crate::{AppError, AppState};

/// The PK model of the re-simulation: the order preview's (Kamp 2020,
/// pk-models.md).
const RESIMULATION_MODEL: Model = Model::Kamp;

// ---------------------------------------------------------------------------
// The list of the day

pub struct SessionListRow {
    pub id: i64,
    pub patient: String,
    pub mrn: String,
    pub state: &'static str,
    pub state_code: &'static str,
    pub protocol: String,
    pub opened: String,
    pub delivered: String,
    pub open_alarms: i64,
}

#[derive(Template)]
#[template(path = "sessions.html")]
pub struct SessionsPage {
    pub nav: Nav,
    pub rows: Vec<SessionListRow>,
    /// The latest sessions signed off before today.
    pub recent: Vec<SessionListRow>,
}

/// How many signed-off sessions the list shows below the day's.
const RECENT_SESSIONS: i64 = 20;

/// `GET /staff/sessions`: today's sessions and any not yet signed off.
pub async fn sessions_list(
    State(state): State<AppState>,
    page: StaffPage,
) -> Result<Response, AppError> {
    let midnight = page
        .today()
        .to_zoned(page.zone.clone())
        .map(|z| z.timestamp())
        .unwrap_or(page.now);
    let row = |s: respite_store::SessionSummary| SessionListRow {
        id: s.id,
        patient: s.patient_name,
        mrn: s.mrn,
        state: words::state(s.state),
        state_code: s.state.code(),
        protocol: s.protocol,
        opened: page.time(s.opened_at),
        delivered: format!("{} mg", number(s.total_mg, 1)),
        open_alarms: s.open_alarms,
    };
    let rows = state
        .store
        .infusion_sessions_since(midnight)
        .await?
        .into_iter()
        .map(row)
        .collect();
    let recent = state
        .store
        .signed_off_sessions_before(midnight, RECENT_SESSIONS)
        .await?
        .into_iter()
        .map(row)
        .collect();
    render(&SessionsPage {
        nav: page.nav(),
        rows,
        recent,
    })
}

// ---------------------------------------------------------------------------
// Opening a session from a checked order

/// `POST /staff/orders/{id}/session`: opens the session (its checklist), or
/// goes to the one the order has.
pub async fn open_session(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let order_id = parse_id(&id)?;
    let result = state
        .store
        .stamped(&audit)
        .open_infusion_session(
            order_id,
            page.session.user.id,
            page.session.user.role,
            page.now,
        )
        .await?;
    match result {
        Ok(id) | Err(SessionRefusal::SessionExists(id)) => {
            Ok(Redirect::to(&format!("/staff/sessions/{id}")).into_response())
        }
        Err(SessionRefusal::NoSuchOrder) => Err(AppError::NotFound),
        Err(refusal) => {
            let (field, message) = words::refusal(&refusal);
            Err(AppError::Conflict { field, message })
        }
    }
}

// ---------------------------------------------------------------------------
// The session page

pub struct TimelineRow {
    pub at: String,
    pub what: &'static str,
    pub kind: String,
    pub detail: String,
    pub by: String,
    pub alarm: bool,
}

pub struct AlarmView {
    pub id: i64,
    pub at: String,
    pub text: String,
    pub acknowledged: Option<String>,
}

pub struct ChecklistRow {
    pub label: &'static str,
    pub done: bool,
}

pub struct AldreteItemView {
    pub id: &'static str,
    pub label: &'static str,
    pub choices: Vec<(i32, &'static str)>,
}

pub struct RegisterRow {
    pub at: String,
    pub what: &'static str,
    pub vial: String,
    pub vial_id: i64,
    pub amount: String,
    pub witness: String,
    pub by: String,
}

pub struct OpenDrawView {
    pub draw_id: i64,
    pub vial_id: i64,
    pub label: String,
    pub left: String,
    pub give_mg: String,
}

pub struct VialChoice {
    pub id: i64,
    pub label: String,
}

pub struct Comparison {
    pub planned_mg: String,
    pub delivered_mg: String,
    pub planned_min: String,
    pub delivered_min: String,
    pub planned_peak: String,
    pub delivered_peak: String,
    pub chart: Option<String>,
    /// The bands drawn, with their ranges and sources.
    pub bands: String,
}

#[derive(Template)]
#[template(path = "session.html")]
pub struct SessionPage {
    pub nav: Nav,
    pub s: InfusionSession,
    pub order: InfusionOrderRecord,
    pub state: &'static str,
    pub state_code: &'static str,
    pub error: Option<String>,
    pub elapsed: String,
    pub rate_now: String,
    pub delivered: String,
    pub vitals_due: Option<(String, bool)>,
    pub vitals_due_at: String,
    pub alarms: Vec<AlarmView>,
    pub open_alarm_count: usize,
    pub checklist: Vec<ChecklistRow>,
    pub checklist_complete: bool,
    pub start_pump_ml_h: String,
    pub start_bolus_mg: String,
    pub bolus_line: String,
    pub ordered_rate: String,
    pub pump_now: String,
    pub adverse_events: Vec<(&'static str, &'static str)>,
    pub rescue_drugs: Vec<String>,
    /// Vials of the protocol's controlled rescue drugs on hand.
    pub rescue_vials: Vec<VialChoice>,
    /// Which of the protocol's rescue drugs are controlled, in words.
    pub rescue_hint: String,
    /// Rescue drugs' draws with drug left to waste.
    pub rescue_open_draws: Vec<OpenDrawView>,
    /// A refused form's fields, shown again.
    pub kept: HashMap<String, String>,
    pub aldrete_items: Vec<AldreteItemView>,
    pub latest_aldrete: Option<String>,
    pub discharge_refusals: Vec<String>,
    pub timeline: Vec<TimelineRow>,
    pub register_rows: Vec<RegisterRow>,
    pub open_draws: Vec<OpenDrawView>,
    pub vials: Vec<VialChoice>,
    pub comparison: Option<Comparison>,
    pub may_document: bool,
    pub may_sign_off: bool,
    pub may_keep_register: bool,
    pub can: fn(&SessionState, &str) -> bool,
}

impl SessionPage {
    /// A field of the refused form `action`, shown again; empty otherwise.
    fn kept_value(&self, action: &str, field: &str) -> &str {
        if self.kept.get("action").map(String::as_str) != Some(action) {
            return "";
        }
        self.kept.get(field).map_or("", String::as_str)
    }
}

fn can(state: &SessionState, action: &str) -> bool {
    use respite_clinical::session::SessionAction as A;
    let action = match action {
        "checklist" => A::Checklist,
        "start" => A::Start,
        "pause" => A::Pause,
        "resume" => A::Resume,
        "rate-change" => A::ChangeRate,
        "stop" => A::Stop,
        "vitals" => A::Vitals,
        "adverse-event" => A::AdverseEvent,
        "rescue-drug" => A::RescueDrug,
        "recovery" => A::BeginRecovery,
        "aldrete" => A::Aldrete,
        "discharge" => A::Discharge,
        "sign-off" => A::SignOff,
        "draw" => A::Draw,
        "note" => A::Note,
        _ => return false,
    };
    state.allows(action)
}

/// `GET /staff/sessions/{id}`.
pub async fn session_page(
    State(state): State<AppState>,
    page: StaffPage,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    show_session(&state, &page, id, None, StatusCode::OK).await
}

fn minutes_between(from: Timestamp, to: Timestamp) -> f64 {
    (to.as_millisecond() - from.as_millisecond()) as f64 / 60_000.0
}

async fn show_session(
    state: &AppState,
    page: &StaffPage,
    id: i64,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    show_session_kept(state, page, id, error, status, HashMap::new()).await
}

/// The session's page; `kept` holds a refused form's fields, shown again.
async fn show_session_kept(
    state: &AppState,
    page: &StaffPage,
    id: i64,
    error: Option<String>,
    status: StatusCode,
    kept: HashMap<String, String>,
) -> Result<Response, AppError> {
    let store = &state.store;
    let s = store
        .infusion_session(id)
        .await?
        .ok_or(AppError::NotFound)?;
    let order = store
        .infusion_order(s.order_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let now = page.now;
    let delivered = s.delivered(now).ok();
    let elapsed = match (s.infusion_started_at, s.stopped_at) {
        (Some(start), Some(stop)) => {
            format!(
                "{} (stopped)",
                words::duration(minutes_between(start, stop))
            )
        }
        (Some(start), None) => words::duration(minutes_between(start, now)),
        (None, _) => "not started".into(),
    };
    let rate_now = match &delivered {
        Some(d) if d.rate_now_mg_h > 0.0 => format!(
            "{} mg/h ({} mL/h)",
            number(d.rate_now_mg_h, 1),
            number(d.rate_now_mg_h / order.concentration_mg_ml, 1)
        ),
        _ if s.state == SessionState::Paused => "0 — paused".into(),
        _ => "—".into(),
    };
    let pump_now = delivered
        .as_ref()
        .filter(|d| d.rate_now_mg_h > 0.0)
        .map(|d| number(d.rate_now_mg_h / order.concentration_mg_ml, 1))
        .unwrap_or_default();
    let delivered_mg = delivered.as_ref().map(|d| d.total_mg).unwrap_or(0.0);
    let vitals_due = s.vitals_due().map(|due| {
        let minutes = due.minutes_from(now);
        let text = if due.after_rate_change && minutes <= 0 {
            "Vital signs due now: the infusion started, stopped or changed rate since the last set"
                .to_owned()
        } else if minutes > 0 {
            format!("Next vital signs due in {minutes} min")
        } else if minutes == 0 {
            "Vital signs due now".to_owned()
        } else {
            format!("Vital signs overdue by {} min", -minutes)
        };
        (text, minutes <= 0)
    });
    let vitals_due_at = s
        .vitals_due()
        .map(|d| d.due_at.as_millisecond().to_string())
        .unwrap_or_default();
    let alarms: Vec<AlarmView> = s
        .alarms
        .iter()
        .map(|a| AlarmView {
            id: a.id,
            at: page.time(a.at),
            text: words::alarm(a.kind, a.value, a.limit, a.direction),
            acknowledged: a.acknowledged.as_ref().map(|k| {
                format!(
                    "Acknowledged by {} at {}: {}",
                    k.by,
                    page.time(k.at),
                    k.action_taken
                )
            }),
        })
        .collect();
    let open_alarm_count = alarms.iter().filter(|a| a.acknowledged.is_none()).count();
    let list = s.checklist();
    let missing = list.missing();
    let checklist = respite_clinical::session::ChecklistItem::ALL
        .into_iter()
        .map(|item| ChecklistRow {
            label: words::checklist_item(item),
            done: !missing.contains(&item),
        })
        .collect();
    let bolus = ordered_bolus_mg(&order);
    let bolus_line = match bolus {
        Some((mg, over)) => format!(
            "Loading bolus as ordered: {} mg over {} min.",
            number(mg, 1),
            number(over, 0)
        ),
        None => "The order has no loading bolus.".into(),
    };
    let aldrete = Instrument::ModifiedAldrete.definition();
    let aldrete_items = aldrete
        .items
        .iter()
        .map(|item| AldreteItemView {
            id: item.id,
            label: item.label,
            choices: match item.answers {
                AnswerScale::Choices(choices) => {
                    choices.iter().map(|c| (c.value, c.label)).collect()
                }
                _ => Vec::new(),
            },
        })
        .collect();
    let latest_aldrete = s.latest_aldrete().and_then(|e| {
        let scored = Instrument::ModifiedAldrete
            .score(e.answers.as_ref()?)
            .ok()?;
        Some(words::aldrete(
            scored.value("total")?,
            scored.discharge_ready()?,
        ))
    });
    let discharge_refusals = respite_clinical::session::discharge_refusals(&s.discharge_facts())
        .iter()
        .map(words::discharge_refusal)
        .collect();
    let timeline = s
        .events
        .iter()
        .rev()
        .map(|e| TimelineRow {
            at: page.time(e.at),
            what: words::event_kind(&e.kind),
            kind: e.kind.clone(),
            detail: event_detail(&s, e, order.concentration_mg_ml, page),
            by: e.recorded_by.clone(),
            alarm: s.alarms.iter().any(|a| a.event_id == e.id),
        })
        .collect();
    let entries = store.session_register_entries(s.id).await?;
    let mut vial_labels: HashMap<i64, String> = HashMap::new();
    let mut vial_drugs: HashMap<i64, RegisterDrug> = HashMap::new();
    for vial_id in entries.iter().map(|e| e.vial_id) {
        if let std::collections::hash_map::Entry::Vacant(slot) = vial_labels.entry(vial_id) {
            if let Some(v) = store.vial(vial_id).await? {
                slot.insert(crate::words::register::vial_label(&v));
                vial_drugs.insert(vial_id, v.drug);
            }
        }
    }
    let is_ketamine = |vial_id: &i64| vial_drugs.get(vial_id) == Some(&RegisterDrug::Ketamine);
    let register_rows = entries
        .iter()
        .map(|e| RegisterRow {
            at: page.time(e.at),
            what: crate::words::register::entry_kind(e.kind),
            vial: vial_labels.get(&e.vial_id).cloned().unwrap_or_default(),
            vial_id: e.vial_id,
            amount: format!("{} mg", number(e.amount.mg(), 3)),
            witness: e.witness.clone().unwrap_or_default(),
            by: e.recorded_by.clone(),
        })
        .collect();
    let mut open_draws = Vec::new();
    let mut rescue_open_draws = Vec::new();
    for draw in entries
        .iter()
        .filter(|e| e.kind == respite_store::RegisterEntryKind::Draw)
    {
        if let Some(open) = store
            .open_draws(draw.vial_id)
            .await?
            .into_iter()
            .find(|o| o.entry.id == draw.id)
        {
            let view = OpenDrawView {
                draw_id: draw.id,
                vial_id: draw.vial_id,
                label: vial_labels.get(&draw.vial_id).cloned().unwrap_or_default(),
                left: format!("{} mg", number(open.unaccounted.mg(), 3)),
                give_mg: String::new(),
            };
            if !is_ketamine(&draw.vial_id) {
                // A rescue drug's draw: its dose was given with the entry;
                // what is left is wasted with a witness.
                rescue_open_draws.push(view);
                continue;
            }
            // The infusion's ketamine given so far (not a rescue drug's).
            let given_already: f64 = entries
                .iter()
                .filter(|e| {
                    e.kind == respite_store::RegisterEntryKind::Administration
                        && is_ketamine(&e.vial_id)
                })
                .map(|e| e.amount.mg())
                .sum();
            let give = (delivered_mg - given_already).clamp(0.0, open.unaccounted.mg());
            open_draws.push(OpenDrawView {
                give_mg: number(give, 3),
                ..view
            });
        }
    }
    let keeps = page.may(Permission::KeepControlledSubstanceRegister);
    let today = page.today();
    let on_hand = if keeps {
        store.vials_on_hand().await?
    } else {
        Vec::new()
    };
    // The protocol's rescue drugs drawn from the register (controlled) and
    // the vials of them on hand, in date, holding drug.
    let controlled_rescue: Vec<RegisterDrug> = order
        .protocol
        .rescue_drugs
        .iter()
        .filter_map(|label| RescueDrug::recognise(label)?.register_drug())
        .collect();
    let rescue_vials: Vec<VialChoice> = on_hand
        .iter()
        .filter(|v| controlled_rescue.contains(&v.drug) && v.expiry >= today)
        .map(|v| VialChoice {
            id: v.id,
            label: crate::words::register::vial_choice(v),
        })
        .collect();
    let rescue_hint = order
        .protocol
        .rescue_drugs
        .iter()
        .filter_map(|label| {
            let drug = RescueDrug::recognise(label)?.register_drug()?;
            Some(words::controlled_rescue(label, drug))
        })
        .collect::<Vec<_>>()
        .join("; ");
    let vials = if keeps
        && s.state
            .allows(respite_clinical::session::SessionAction::Draw)
    {
        on_hand
            .iter()
            .filter(|v| v.drug == RegisterDrug::Ketamine)
            .map(|v| VialChoice {
                id: v.id,
                label: format!(
                    "Vial {} · lot {} · {} mg/mL · {} mg left",
                    v.id,
                    v.lot,
                    number(v.concentration.value(), 1),
                    number(v.balance.mg(), 1)
                ),
            })
            .collect()
    } else {
        Vec::new()
    };
    let comparison = if s.stopped_at.is_some() {
        let patient = store.patient(s.patient_id).await?;
        delivered
            .as_ref()
            .map(|d| compare(&order, d, patient.as_ref(), page))
    } else {
        None
    };
    let rescue_drugs = order.protocol.rescue_drugs.clone();
    render_with(
        status,
        &SessionPage {
            nav: page.nav(),
            state: words::state(s.state),
            state_code: s.state.code(),
            error,
            elapsed,
            rate_now,
            delivered: format!("{} mg", number(delivered_mg, 1)),
            vitals_due,
            vitals_due_at,
            alarms,
            open_alarm_count,
            checklist,
            checklist_complete: missing.is_empty(),
            start_pump_ml_h: ordered_pump_ml_h(&order)
                .map(|p| number(p, 1))
                .unwrap_or_default(),
            start_bolus_mg: bolus.map(|(mg, _)| number(mg, 1)).unwrap_or_default(),
            bolus_line,
            ordered_rate: format!(
                "Ordered maximum {} mL/h ({} mg/h) at {} mg/mL.",
                number(order.max_pump_ml_h, 1),
                number(order.max_rate_mg_h, 1),
                number(order.concentration_mg_ml, 1)
            ),
            pump_now,
            adverse_events: ADVERSE_EVENT_CODES
                .iter()
                .map(|c| (*c, words::adverse_event(c)))
                .collect(),
            rescue_drugs,
            rescue_vials,
            rescue_hint,
            rescue_open_draws,
            kept,
            aldrete_items,
            latest_aldrete,
            discharge_refusals,
            timeline,
            register_rows,
            open_draws,
            vials,
            comparison,
            may_document: page.may(Permission::DocumentInfusionSessions),
            may_sign_off: page.may(Permission::SignOffInfusionSessions),
            may_keep_register: page.may(Permission::KeepControlledSubstanceRegister),
            can,
            s,
            order,
        },
    )
}

fn event_detail(
    s: &InfusionSession,
    e: &respite_store::SessionEvent,
    concentration: f64,
    page: &StaffPage,
) -> String {
    let with_note = |text: String| {
        if e.note.is_empty() {
            text
        } else if text.is_empty() {
            e.note.clone()
        } else {
            format!("{text} — {}", e.note)
        }
    };
    match e.kind.as_str() {
        "start" | "rate-change" => with_note(format!(
            "{} mL/h = {} mg/h",
            number(e.pump_ml_h.unwrap_or_default(), 1),
            number(e.rate_mg_h.unwrap_or_default(), 1)
        )),
        "bolus" => with_note(format!(
            "{} mg ({} mL) over {} min",
            number(e.amount_mg.unwrap_or_default(), 1),
            number(e.amount_mg.unwrap_or_default() / concentration, 1),
            number(e.over_min.unwrap_or_default(), 0)
        )),
        "vitals" => {
            let line = words::vitals_line(&e.vitals);
            let raised: Vec<String> = s
                .alarms
                .iter()
                .filter(|a| a.event_id == e.id)
                .map(|a| words::alarm(a.kind, a.value, a.limit, a.direction))
                .collect();
            if raised.is_empty() {
                line
            } else {
                format!("{line} — ALARM: {}", raised.join("; "))
            }
        }
        "alarm-acknowledged" => {
            let alarm = s
                .alarms
                .iter()
                .find(|a| Some(a.id) == e.alarm_id)
                .map(|a| {
                    format!(
                        "{} (at {})",
                        words::alarm(a.kind, a.value, a.limit, a.direction),
                        page.time(a.at)
                    )
                })
                .unwrap_or_default();
            format!("{alarm}. Action taken: {}", e.note)
        }
        "adverse-event" => {
            with_note(words::adverse_event(e.code.as_deref().unwrap_or_default()).to_owned())
        }
        "rescue-drug" => with_note(format!(
            "{} {} mg",
            e.drug.clone().unwrap_or_default(),
            number(e.amount_mg.unwrap_or_default(), 2)
        )),
        "aldrete" => e
            .answers
            .as_ref()
            .and_then(|a| Instrument::ModifiedAldrete.score(a).ok())
            .and_then(|scored| {
                Some(words::aldrete(
                    scored.value("total")?,
                    scored.discharge_ready()?,
                ))
            })
            .unwrap_or_default(),
        "discharge" => format!("Home with {}", e.note),
        "checklist" => {
            let list = s.checklist();
            let missing = list.missing();
            if missing.is_empty() {
                "complete".into()
            } else {
                format!(
                    "still missing: {}",
                    missing
                        .iter()
                        .map(|i| words::checklist_item(*i).to_lowercase())
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            }
        }
        _ => e.note.clone(),
    }
}

/// Planned against delivered, both re-simulated with respite-pk.
fn compare(
    order: &InfusionOrderRecord,
    delivered: &respite_clinical::session::DeliveredInfusion,
    patient: Option<&respite_store::PatientRecord>,
    page: &StaffPage,
) -> Comparison {
    let planned_doses =
        respite_clinical::dosing::planned_doses(&order.steps, order.dosing_weight_kg).ok();
    let planned_min = planned_doses.as_ref().map_or(0.0, |p| p.minutes);
    let until = planned_min.max(delivered.infusion_minutes) + 60.0;
    let subject =
        patient.and_then(|p| super::orders::pk_patient(p, order.weight_kg, None, page.today()));
    let settings = SimulationSettings::from_numbers(until.min(10_000.0), 30.0, None).ok();
    let peak = |plan: Option<DosingPlan>| -> Option<(Vec<f64>, Vec<f64>, f64)> {
        let (subject, settings, plan) = (subject.as_ref()?, settings.as_ref()?, plan?);
        let sim = simulate(RESIMULATION_MODEL, subject, &plan, settings).ok()?;
        let times = sim.concentrations.times_min();
        let ce = sim.concentrations.effect_ng_ml.clone();
        let max = ce.iter().copied().fold(0.0, f64::max);
        Some((times, ce, max))
    };
    let planned = peak(planned_doses.map(|p| p.plan));
    let given = peak(delivered.plan().ok());
    let peak_words = |p: &Option<(Vec<f64>, Vec<f64>, f64)>| {
        p.as_ref()
            .map(|(_, _, max)| format!("{} ng/mL", number(*max, 0)))
            .unwrap_or_else(|| "—".into())
    };
    let chart = match (&planned, &given) {
        (Some(p), Some(g)) => Some(comparison_chart(p, g, until)),
        _ => None,
    };
    let bands = respite_pk::bands::BANDS
        .iter()
        .map(|b| {
            format!(
                "{} {}–{} ng/mL",
                crate::words::infusion::band_name(b.name),
                b.low.0,
                b.high.0
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    Comparison {
        bands,
        chart,
        planned_mg: format!("{} mg", number(order.total_mg, 1)),
        delivered_mg: format!("{} mg", number(delivered.total_mg, 1)),
        planned_min: words::duration(planned_min),
        delivered_min: words::duration(delivered.infusion_minutes),
        planned_peak: peak_words(&planned),
        delivered_peak: peak_words(&given),
    }
}

/// The planned and the delivered effect-site concentration, re-simulated,
/// against the bands of pk-models.md (`respite_pk::bands`), drawn by the
/// shared chart module.
fn comparison_chart(
    planned: &(Vec<f64>, Vec<f64>, f64),
    delivered: &(Vec<f64>, Vec<f64>, f64),
    until: f64,
) -> String {
    let top = planned.2.max(delivered.2).max(1.0) * 1.1;
    let y = Axis::linear("ng/mL", 0.0, top, 5, |v| number(v, 0));
    let x = Axis::linear("minutes", 0.0, until, 6, |v| number(v, 0));
    let mut chart = Chart::new(
        "planned-delivered",
        "Effect-site concentration: planned and delivered infusion, re-simulated",
        x,
        y,
    )
    .class("pk-chart")
    .description(format!(
        "Peak planned {} ng/mL, peak delivered {} ng/mL (Kamp 2020).",
        number(planned.2, 0),
        number(delivered.2, 0)
    ));
    for band in respite_pk::bands::BANDS.iter() {
        if band.low.0 < top {
            chart = chart.layer(Layer::Band {
                low: band.low.0,
                high: band.high.0.min(top),
                class: format!("band-{}", band.name),
                // The ranges are in the caption: the legend's places are narrow.
                label: crate::words::infusion::band_name(band.name).to_owned(),
            });
        }
    }
    for ((times, ce, _), class, label) in [
        (planned, "planned", "Planned"),
        (delivered, "delivered", "Delivered"),
    ] {
        chart = chart.layer(Layer::Line {
            points: times.iter().copied().zip(ce.iter().copied()).collect(),
            class: class.into(),
            label: label.into(),
            dots: false,
        });
    }
    chart.svg()
}

// ---------------------------------------------------------------------------
// Recording

fn text(form: &HashMap<String, String>, key: &str) -> String {
    form.get(key)
        .map(|v| v.trim().to_owned())
        .unwrap_or_default()
}

fn decimal(form: &HashMap<String, String>, key: &'static str) -> Result<f64, String> {
    let raw = text(form, key);
    if raw.is_empty() {
        return Err(format!("{}: is required.", words::field_label(key)));
    }
    raw.replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| format!("{}: “{raw}” is not a number.", words::field_label(key)))
}

fn entry_from_form(
    form: &HashMap<String, String>,
    today: jiff::civil::Date,
) -> Result<SessionEntry, String> {
    let action = text(form, "action");
    let yes = |key: &str| text(form, key) == "yes";
    Ok(match action.as_str() {
        "checklist" => SessionEntry::Checklist {
            consent: yes("consent"),
            iv_access: yes("iv_access"),
            escort_name: text(form, "escort_name"),
            escort_phone: text(form, "escort_phone"),
            escort_confirmed: yes("escort_confirmed"),
        },
        "start" => SessionEntry::Start {
            pump_ml_h: decimal(form, "pump_ml_h")?,
            bolus_mg: if text(form, "bolus_mg").is_empty() {
                None
            } else {
                Some(decimal(form, "bolus_mg")?)
            },
        },
        "pause" => SessionEntry::Pause {
            reason: text(form, "reason"),
        },
        "resume" => SessionEntry::Resume {
            reason: text(form, "reason"),
        },
        "rate-change" => SessionEntry::ChangeRate {
            pump_ml_h: decimal(form, "pump_ml_h")?,
            reason: text(form, "reason"),
        },
        "stop" => SessionEntry::Stop {
            reason: text(form, "reason"),
        },
        "vitals" => SessionEntry::Vitals(VitalSigns {
            systolic: decimal(form, "systolic")?,
            diastolic: decimal(form, "diastolic")?,
            heart_rate: decimal(form, "heart_rate")?,
            oxygen_saturation: decimal(form, "oxygen_saturation")?,
            respiratory_rate: decimal(form, "respiratory_rate")?,
            pain_nrs: if text(form, "pain_nrs").is_empty() {
                None
            } else {
                Some(decimal(form, "pain_nrs")?)
            },
        }),
        "acknowledge" => SessionEntry::AcknowledgeAlarm {
            alarm_id: text(form, "alarm")
                .parse()
                .map_err(|_| "Alarm: choose the alarm to acknowledge.".to_owned())?,
            action_taken: text(form, "action_taken"),
        },
        "adverse-event" => SessionEntry::AdverseEvent {
            code: text(form, "code"),
            description: text(form, "description"),
        },
        "rescue-drug" => {
            let dose_mg = decimal(form, "dose_mg")?;
            // A controlled drug's vial and the amount drawn (the dose when
            // left empty); none for a drug not controlled.
            let vial = match text(form, "vial").as_str() {
                "" => None,
                id => Some(RescueVialDraw {
                    vial_id: id
                        .parse()
                        .map_err(|_| "Vial: choose the vial from the list.".to_owned())?,
                    drawn_mg: if text(form, "drawn_mg").is_empty() {
                        dose_mg
                    } else {
                        decimal(form, "drawn_mg")?
                    },
                    today,
                }),
            };
            SessionEntry::RescueDrug {
                drug: text(form, "drug"),
                dose_mg,
                reason: text(form, "reason"),
                vial,
            }
        }
        "recovery" => SessionEntry::BeginRecovery,
        "aldrete" => {
            let mut answers = Answers::new();
            for item in Instrument::ModifiedAldrete.definition().items {
                if let Ok(value) = text(form, item.id).parse::<i32>() {
                    answers.insert(item.id, value);
                }
            }
            SessionEntry::Aldrete(answers)
        }
        "discharge" => SessionEntry::Discharge {
            escort_name: text(form, "escort_name"),
        },
        "note" => SessionEntry::Note {
            text: text(form, "note"),
        },
        _ => return Err("Action: choose what to record.".into()),
    })
}

async fn record_entry(
    state: &AppState,
    audit: &AuditStamp,
    page: &StaffPage,
    id: i64,
    form: &HashMap<String, String>,
    entry: Result<SessionEntry, String>,
) -> Result<Response, AppError> {
    let entry = match entry {
        Ok(entry) => entry,
        Err(message) => {
            return show_session_kept(
                state,
                page,
                id,
                Some(message),
                StatusCode::UNPROCESSABLE_ENTITY,
                form.clone(),
            )
            .await
        }
    };
    let Ok(version) = text(form, "version").parse::<i64>() else {
        return show_session(
            state,
            page,
            id,
            Some("The form is missing the session's version: reload the page.".into()),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let result = state
        .store
        .stamped(audit)
        .record_session_entry(
            id,
            version,
            &entry,
            page.session.user.id,
            page.session.user.role,
            page.now,
        )
        .await?;
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/staff/sessions/{id}#now")).into_response()),
        Err(SessionRefusal::NoSuchSession) => Err(AppError::NotFound),
        Err(refusal) => {
            let status = match refusal {
                SessionRefusal::Stale { .. }
                | SessionRefusal::Action(_)
                | SessionRefusal::AlarmAcknowledged => StatusCode::CONFLICT,
                SessionRefusal::NotAClinician | SessionRefusal::NotClinicalStaff => {
                    StatusCode::FORBIDDEN
                }
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let (_, message) = words::refusal(&refusal);
            show_session_kept(state, page, id, Some(message), status, form.clone()).await
        }
    }
}

/// `POST /staff/sessions/{id}/entries`: every nursing action; the form's
/// `action` says which, `version` what the page showed.
pub async fn record(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let entry = entry_from_form(&form, page.today());
    // A draw from the register is the register keeper's (SPEC §2).
    if matches!(&entry, Ok(SessionEntry::RescueDrug { vial: Some(_), .. }))
        && !page.may(Permission::KeepControlledSubstanceRegister)
    {
        return Err(AppError::Forbidden {
            role: page.session.user.role.label(),
        });
    }
    record_entry(&state, &audit, &page, id, &form, entry).await
}

/// `POST /staff/sessions/{id}/sign-off`: the clinician's (dosing.md,
/// Discharge: "signed by a clinician").
pub async fn sign_off(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let entry = Ok(SessionEntry::SignOff {
        note: text(&form, "note"),
    });
    record_entry(&state, &audit, &page, id, &form, entry).await
}

/// The register's refusal (a balance, a draw accounted for) in the page.
async fn on_register(
    state: &AppState,
    page: &StaffPage,
    id: i64,
    result: Result<i64, StoreError>,
) -> Result<Response, AppError> {
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/staff/sessions/{id}#register")).into_response()),
        Err(StoreError::RegisterRefused { message, .. }) => {
            show_session(
                state,
                page,
                id,
                Some(format!("The register refused the entry: {message}.")),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(StoreError::RegisterNotFound) => {
            show_session(
                state,
                page,
                id,
                Some("Choose a vial on hand.".into()),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /staff/sessions/{id}/draws`: the drug drawn for this session from
/// a named vial (the register's draw, store/src/register.rs).
pub async fn draw(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let s = state
        .store
        .infusion_session(id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !s
        .state
        .allows(respite_clinical::session::SessionAction::Draw)
    {
        let message = "The drug is drawn before or during the infusion, not after the stop.";
        return show_session(
            &state,
            &page,
            id,
            Some(message.into()),
            StatusCode::CONFLICT,
        )
        .await;
    }
    let Ok(vial_id) = text(&form, "vial").parse::<i64>() else {
        return show_session(
            &state,
            &page,
            id,
            Some("Vial: choose the vial you draw from.".into()),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let vial = state.store.vial(vial_id).await?;
    if let Some(v) = vial.as_ref().filter(|v| v.drug != RegisterDrug::Ketamine) {
        // The session's draw is its infusion's ketamine; a controlled
        // rescue drug is drawn with the rescue drug's entry.
        return show_session(
            &state,
            &page,
            id,
            Some(words::not_ketamine(v.drug)),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let amount = match (decimal(&form, "amount_ml"), vial) {
        (Ok(ml), Some(vial)) => Millilitres::new(ml)
            .ok()
            .and_then(|ml| DrugAmount::from_ml(ml, vial.concentration).ok())
            .filter(|a| !a.is_zero()),
        _ => None,
    };
    let Some(amount) = amount else {
        return show_session(
            &state,
            &page,
            id,
            Some("Amount: give the mL drawn, more than 0, from a vial on hand.".into()),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let result = state
        .store
        .stamped(&audit)
        .record_draw(
            &NewDraw {
                vial_id,
                amount,
                patient_id: s.patient_id,
                session_id: Some(id),
                note: format!("for infusion session {id}"),
            },
            page.session.user.id,
            page.now,
        )
        .await;
    on_register(&state, &page, id, result).await
}

/// `POST /staff/sessions/{id}/administrations`: what the pump delivered,
/// recorded as the register's administration from this session's draw.
pub async fn administration(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let s = state
        .store
        .infusion_session(id)
        .await?
        .ok_or(AppError::NotFound)?;
    let draw_id: Option<i64> = text(&form, "draw").parse().ok();
    let entry = match draw_id {
        Some(draw_id) => state
            .store
            .session_register_entries(id)
            .await?
            .into_iter()
            .find(|e| e.id == draw_id && e.kind == respite_store::RegisterEntryKind::Draw),
        None => None,
    };
    // What the pump delivered is ketamine: a rescue drug's draw was given
    // with its entry, its rest is wasted.
    let entry = match entry {
        Some(entry) => state
            .store
            .vial(entry.vial_id)
            .await?
            .filter(|v| v.drug == RegisterDrug::Ketamine)
            .map(|_| entry),
        None => None,
    };
    let Some(entry) = entry else {
        return show_session(
            &state,
            &page,
            id,
            Some("Draw: choose one of this session's ketamine draws.".into()),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let amount = decimal(&form, "amount_mg")
        .ok()
        .and_then(|mg| DrugAmount::from_mg(mg).ok())
        .filter(|a| !a.is_zero());
    let Some(amount) = amount else {
        return show_session(
            &state,
            &page,
            id,
            Some("Amount: give the mg given, more than 0.".into()),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let result = state
        .store
        .stamped(&audit)
        .record_administration(
            entry.vial_id,
            entry.id,
            amount,
            &format!(
                "infusion session {id}: delivered by the pump ({})",
                s.protocol
            ),
            page.session.user.id,
            page.now,
        )
        .await;
    on_register(&state, &page, id, result).await
}

// ---------------------------------------------------------------------------
// The clinic's alarm thresholds

#[derive(Template)]
#[template(path = "session_alarm_settings.html")]
pub struct AlarmSettingsPage {
    pub nav: Nav,
    pub fields: Vec<(&'static str, &'static str, String)>,
    pub error: Option<String>,
    pub saved: bool,
}

fn threshold_fields(
    t: &respite_clinical::session::AlarmThresholds,
) -> Vec<(&'static str, &'static str, String)> {
    vec![
        (
            "systolic_above",
            "Systolic above (mm Hg)",
            number(t.systolic_above, 1),
        ),
        (
            "systolic_below",
            "Systolic below (mm Hg)",
            number(t.systolic_below, 1),
        ),
        (
            "heart_rate_above",
            "Heart rate above (/min)",
            number(t.heart_rate_above, 1),
        ),
        (
            "heart_rate_below",
            "Heart rate below (/min)",
            number(t.heart_rate_below, 1),
        ),
        (
            "oxygen_saturation_below",
            "SpO₂ below (%)",
            number(t.oxygen_saturation_below, 1),
        ),
        (
            "respiratory_rate_below",
            "Respiratory rate below (/min)",
            number(t.respiratory_rate_below, 1),
        ),
    ]
}

#[derive(serde::Deserialize)]
pub struct SavedQuery {
    #[serde(default)]
    saved: Option<String>,
}

/// `GET /staff/settings/alarms`.
pub async fn alarm_settings_page(
    State(state): State<AppState>,
    page: StaffPage,
    Query(query): Query<SavedQuery>,
) -> Result<Response, AppError> {
    let t = state.store.alarm_thresholds().await?;
    render(&AlarmSettingsPage {
        nav: page.nav(),
        fields: threshold_fields(&t),
        error: None,
        saved: query.saved.is_some(),
    })
}

/// `POST /staff/settings/alarms`.
pub async fn save_alarm_settings(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let get = |k: &'static str| decimal(&form, k);
    let parsed = (|| -> Result<_, String> {
        Ok(respite_clinical::session::AlarmThresholds {
            systolic_above: get("systolic_above")?,
            systolic_below: get("systolic_below")?,
            heart_rate_above: get("heart_rate_above")?,
            heart_rate_below: get("heart_rate_below")?,
            oxygen_saturation_below: get("oxygen_saturation_below")?,
            respiratory_rate_below: get("respiratory_rate_below")?,
        })
    })();
    let thresholds = match parsed {
        Ok(t) => t,
        Err(message) => {
            let t = state.store.alarm_thresholds().await?;
            return render_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                &AlarmSettingsPage {
                    nav: page.nav(),
                    fields: threshold_fields(&t),
                    error: Some(message),
                    saved: false,
                },
            );
        }
    };
    match state
        .store
        .stamped(&audit)
        .save_alarm_thresholds(&thresholds, page.session.user.id, page.now)
        .await?
    {
        Ok(()) => Ok(Redirect::to("/staff/settings/alarms?saved=1").into_response()),
        Err(e) => render_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            &AlarmSettingsPage {
                nav: page.nav(),
                fields: threshold_fields(&thresholds),
                error: Some(words::threshold_error(&e)),
                saved: false,
            },
        ),
    }
}
