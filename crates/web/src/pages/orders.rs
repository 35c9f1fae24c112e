//! Infusion day's first part (SPEC §1 step 5): the protocol library, the
//! clinician's order with its dose check step by step, the PK preview of the
//! planned infusion drawn as SVG by the server, the target-guided plan, and
//! the second person's check. All arithmetic is respite-clinical's
//! (`calculate_session`) and respite-pk's (`simulate`, `propose_plan`); the
//! store refuses what they refuse. The words are `words::infusion`'s.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use respite_clinical::dosing::units::{MgPerKg, MgPerKgPerHour, Minutes};
use respite_clinical::dosing::{
    CalculatedStep, Ceiling, DosingSettings, LimitValue, ProtocolStep, SessionDose,
};
use respite_domain::Permission;
use respite_pk::units::{
    Centimetres, ElapsedMinutes, Kilograms, NanogramsPerMillilitre, Seconds, Years,
};
use respite_pk::{
    propose_plan, simulate, DoseLimits, DosingPlan, EffectSiteTarget, Model, Patient, Sex,
    Simulation, SimulationSettings, DEFAULT_TIME_TO_PEAK,
};
use respite_store::{
    body_for, calculate_order, AuditStamp, NewInfusionOrder, NewProtocolVersion, OrderCheck,
    PatientRecord, ProtocolVersionRecord,
};

use super::{parse_id, render, render_with, Nav, StaffPage};
use crate::charts::{Axis, Chart, Layer};
use crate::words::infusion as words;
use crate::{AppError, AppState};

/// The PK model of the preview: Kamp 2020, the pooled analysis of the
/// library (pk-models.md: the widest fitted population, allometric scaling).
const PREVIEW_MODEL: Model = Model::Kamp;
/// Rate changes no more often than a nurse makes them by hand: 10 min
/// (the example; pk-models.md's target method).
const RATE_CHANGE_INTERVAL_MIN: f64 = 10.0;
/// dosing.md's example vial concentration.
const DEFAULT_CONCENTRATION_MG_ML: f64 = 10.0;
/// A common infusion bag (ours).
const DEFAULT_BAG_ML: f64 = 250.0;

// ---------------------------------------------------------------------------
// Protocols

pub struct ProtocolView {
    pub record: ProtocolVersionRecord,
    pub drug: &'static str,
    pub basis: &'static str,
    pub steps: Vec<String>,
    pub caps: Vec<String>,
    pub orderable: bool,
    pub older: Vec<(i64, String, bool)>,
}

fn step_line(step: &ProtocolStep) -> String {
    match step {
        ProtocolStep::Bolus { dose, over } => format!(
            "Bolus {} mg/kg over {} min",
            words::number(dose.value(), 3),
            words::number(over.value(), 1)
        ),
        ProtocolStep::Infusion { rate, duration } => format!(
            "Infusion {} mg/kg/h for {} min",
            words::number(rate.value(), 3),
            words::number(duration.value(), 0)
        ),
    }
}

fn protocol_view(record: ProtocolVersionRecord, page: &StaffPage) -> ProtocolView {
    let p = &record.protocol;
    let mut caps = Vec::new();
    if let Some(cap) = p.rate_cap {
        caps.push(format!(
            "rate at most {} mg/h",
            words::number(cap.value(), 1)
        ));
    }
    if let Some(cap) = p.session_cap {
        caps.push(format!(
            "session at most {} mg",
            words::number(cap.value(), 1)
        ));
    }
    let s = DosingSettings::default();
    caps.push(format!(
        "clinic ceilings: bolus {} mg/kg; rate {} mg/kg/h and {} mg/h; session {} mg/kg and {} mg",
        words::number(s.bolus_ceiling.value(), 2),
        words::number(s.rate_ceiling_per_kg.value(), 2),
        words::number(s.rate_ceiling_absolute.value(), 0),
        words::number(s.session_ceiling_per_kg.value(), 2),
        words::number(s.session_ceiling_absolute.value(), 0)
    ));
    let _ = page;
    ProtocolView {
        drug: words::drug(p.drug),
        basis: words::weight_basis(p.weight_basis),
        steps: p.steps.iter().map(step_line).collect(),
        caps,
        orderable: p.usage == respite_clinical::dosing::ProtocolUse::Orderable,
        older: Vec::new(),
        record,
    }
}

#[derive(Template)]
#[template(path = "protocols.html")]
struct ProtocolsPage {
    nav: Nav,
    protocols: Vec<ProtocolView>,
    can_manage: bool,
    can_set: bool,
    weight_max_age_days: i64,
    saved: bool,
}

/// The protocol library: each protocol's version in force, its earlier
/// versions, and (for administrators) activating or retiring it.
pub async fn protocols_page(
    State(state): State<AppState>,
    page: StaffPage,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let all = state.store.protocol_versions().await?;
    let mut views: Vec<ProtocolView> = Vec::new();
    for record in all {
        match views.last_mut() {
            Some(v) if v.record.key == record.key => {
                v.older
                    .push((record.version, page.time(record.created_at), record.active))
            }
            _ => views.push(protocol_view(record, &page)),
        }
    }
    render(&ProtocolsPage {
        nav: page.nav(),
        protocols: views,
        can_manage: page.may(Permission::ManageProtocols),
        can_set: page.may(Permission::ManageClinicSettings),
        weight_max_age_days: state.store.infusion_settings().await?.weight_max_age_days,
        saved: query.contains_key("saved"),
    })
}

/// The clinic sets how old today's weight may be for an order (an
/// administrator's clinic setting, SPEC §2), from 0 (today) to 30 days.
pub async fn save_infusion_settings(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let days = form
        .get("weight_max_age_days")
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|d| (0..=30).contains(d))
        .ok_or(AppError::BadRequest {
            field: "weight_max_age_days",
            message: "must be a whole number of days from 0 (today) to 30".into(),
        })?;
    state
        .store
        .stamped(&audit)
        .update_infusion_settings(
            &respite_store::InfusionSettings {
                weight_max_age_days: days,
            },
            page.session.user.id,
            page.now,
        )
        .await?;
    Ok(Redirect::to("/staff/protocols?saved=1").into_response())
}

/// An administrator activates or retires a protocol: a new version, the
/// old one stays as it was.
pub async fn set_protocol_active(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let record = state
        .store
        .protocol_version(id)
        .await?
        .ok_or(AppError::NotFound)?;
    let active = match form.get("active").map(String::as_str) {
        Some("yes") => true,
        Some("no") => false,
        _ => {
            return Err(AppError::BadRequest {
                field: "active",
                message: "must be yes or no".into(),
            })
        }
    };
    if active && record.protocol.usage != respite_clinical::dosing::ProtocolUse::Orderable {
        return Err(AppError::BadRequest {
            field: "active",
            message: "a reference-only protocol cannot be ordered".into(),
        });
    }
    state
        .store
        .stamped(&audit)
        .insert_protocol_version(
            Some(page.session.user.id),
            &NewProtocolVersion {
                protocol: record.protocol,
                rescue_drugs: record.rescue_drugs,
                active,
            },
            page.now,
        )
        .await?;
    Ok(Redirect::to("/staff/protocols").into_response())
}

// ---------------------------------------------------------------------------
// The order page

/// The order page's plan, from its GET form.
#[derive(Default, serde::Deserialize)]
#[serde(default)]
pub struct PlanQuery {
    protocol: String,
    /// mg/kg/h of the protocol's infusion, when the clinician changes it.
    rate: String,
    /// Minutes of the infusion, when changed.
    duration: String,
    concentration: String,
    bag: String,
    /// A target effect-site concentration (ng/mL) and how soon (min).
    target: String,
    reach: String,
    /// Steps as a compact list (a target-guided proposal taken as the plan).
    steps: String,
}

fn parse_number(text: &str, field: &'static str) -> Result<Option<f64>, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v > 0.0)
        .map(Some)
        .ok_or(AppError::BadRequest {
            field,
            message: "must be a number greater than zero".into(),
        })
}

/// Steps as `b:mg_per_kg:over_min` and `i:mg_per_kg_per_h:duration_min`,
/// separated by `;` (the hidden field that carries a proposal).
fn encode_steps(steps: &[ProtocolStep]) -> String {
    steps
        .iter()
        .map(|s| match s {
            ProtocolStep::Bolus { dose, over } => format!("b:{}:{}", dose.value(), over.value()),
            ProtocolStep::Infusion { rate, duration } => {
                format!("i:{}:{}", rate.value(), duration.value())
            }
        })
        .collect::<Vec<_>>()
        .join(";")
}

fn decode_steps(text: &str) -> Result<Vec<ProtocolStep>, AppError> {
    let bad = || AppError::BadRequest {
        field: "steps",
        message: "must be the plan's steps as the page wrote them".into(),
    };
    text.split(';')
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            let parts: Vec<&str> = s.split(':').collect();
            let [kind, a, b] = parts[..] else {
                return Err(bad());
            };
            let a: f64 = a.parse().map_err(|_| bad())?;
            let b: f64 = b.parse().map_err(|_| bad())?;
            match kind {
                "b" => Ok(ProtocolStep::Bolus {
                    dose: MgPerKg::new(a).map_err(|_| bad())?,
                    over: Minutes::new(b).map_err(|_| bad())?,
                }),
                "i" => Ok(ProtocolStep::Infusion {
                    rate: MgPerKgPerHour::new(a).map_err(|_| bad())?,
                    duration: Minutes::new(b).map_err(|_| bad())?,
                }),
                _ => Err(bad()),
            }
        })
        .collect()
}

/// The steps the page shows: the proposal's, or the protocol's with the
/// clinician's rate and duration for its infusion steps.
fn plan_steps(
    protocol: &ProtocolVersionRecord,
    query: &PlanQuery,
) -> Result<Vec<ProtocolStep>, AppError> {
    if !query.steps.trim().is_empty() {
        return decode_steps(&query.steps);
    }
    let rate = parse_number(&query.rate, "rate")?;
    let duration = parse_number(&query.duration, "duration")?;
    let bad = |field| AppError::BadRequest {
        field,
        message: "must be a number greater than zero".into(),
    };
    protocol
        .protocol
        .steps
        .iter()
        .map(|step| match *step {
            ProtocolStep::Infusion {
                rate: r,
                duration: d,
            } => Ok(ProtocolStep::Infusion {
                rate: match rate {
                    Some(v) => MgPerKgPerHour::new(v).map_err(|_| bad("rate"))?,
                    None => r,
                },
                duration: match duration {
                    Some(v) => Minutes::new(v).map_err(|_| bad("duration"))?,
                    None => d,
                },
            }),
            bolus => Ok(bolus),
        })
        .collect()
}

pub struct StepRow {
    pub what: String,
    pub arithmetic: String,
    pub pump: String,
}

pub struct CeilingRow {
    pub name: &'static str,
    pub limit: String,
    pub value: String,
    pub share: String,
    pub above: bool,
}

pub struct BandRow {
    pub name: &'static str,
    pub range: String,
    pub minutes: String,
    pub source: &'static str,
}

pub struct Preview {
    pub svg: String,
    pub bands: Vec<BandRow>,
    pub warnings: Vec<String>,
    pub peak: String,
}

pub struct Proposal {
    pub lines: Vec<String>,
    pub warnings: Vec<String>,
    pub reached_at: String,
}

fn calc_rows(dose: &SessionDose) -> (Vec<StepRow>, Vec<CeilingRow>) {
    let kg = dose.dosing_weight.weight.value();
    let conc = dose.vial.concentration.value();
    let steps = dose
        .steps
        .iter()
        .enumerate()
        .map(|(i, step)| match *step {
            CalculatedStep::Bolus {
                prescribed,
                dose: mg,
                volume,
                over,
                ..
            } => StepRow {
                what: format!(
                    "{}. Bolus over {} min",
                    i + 1,
                    words::number(over.value(), 1)
                ),
                arithmetic: format!(
                    "{} mg/kg × {} kg = {} mg ÷ {} mg/mL = {} mL",
                    words::number(prescribed.value(), 3),
                    words::number(kg, 1),
                    words::number(mg.value(), 1),
                    words::number(conc, 1),
                    words::number(volume.value(), 1)
                ),
                pump: format!("{} mL by hand or pump", words::number(volume.value(), 1)),
            },
            CalculatedStep::Infusion {
                prescribed,
                rate,
                pump_rate,
                duration,
                amount,
                volume,
                ..
            } => StepRow {
                what: format!(
                    "{}. Infusion for {} min",
                    i + 1,
                    words::number(duration.value(), 0)
                ),
                arithmetic: format!(
                    "{} mg/kg/h × {} kg = {} mg/h ÷ {} mg/mL = {} mL/h; {} mg, {} mL in all",
                    words::number(prescribed.value(), 3),
                    words::number(kg, 1),
                    words::number(rate.value(), 1),
                    words::number(conc, 1),
                    words::number(pump_rate.value(), 1),
                    words::number(amount.value(), 1),
                    words::number(volume.value(), 1)
                ),
                pump: format!("{} mL/h", words::number(pump_rate.value(), 1)),
            },
        })
        .collect();
    let number = |v: LimitValue| match v {
        LimitValue::MgPerKg(v) => v.value(),
        LimitValue::MgPerKgPerHour(v) => v.value(),
        LimitValue::MgPerHour(v) => v.value(),
        LimitValue::Milligrams(v) => v.value(),
    };
    let highest = |ceiling: Ceiling| -> f64 {
        dose.steps
            .iter()
            .map(|s| match (ceiling, *s) {
                (Ceiling::BolusPerKg, CalculatedStep::Bolus { dose_per_kg, .. }) => {
                    dose_per_kg.value()
                }
                (Ceiling::InfusionRatePerKg, CalculatedStep::Infusion { rate_per_kg, .. }) => {
                    rate_per_kg.value()
                }
                (Ceiling::InfusionRateAbsolute, CalculatedStep::Infusion { rate, .. }) => {
                    rate.value()
                }
                _ => 0.0,
            })
            .fold(
                match ceiling {
                    Ceiling::SessionPerKg => dose.total_per_kg.value(),
                    Ceiling::SessionAbsolute => dose.total.value(),
                    _ => 0.0,
                },
                f64::max,
            )
    };
    let ceilings = dose
        .ceilings
        .iter()
        .map(|(ceiling, limit)| {
            let value = highest(*ceiling);
            let limit_n = number(*limit);
            let share = if limit_n > 0.0 {
                value / limit_n * 100.0
            } else {
                0.0
            };
            let unit = match limit {
                LimitValue::MgPerKg(_) => "mg/kg",
                LimitValue::MgPerKgPerHour(_) => "mg/kg/h",
                LimitValue::MgPerHour(_) => "mg/h",
                LimitValue::Milligrams(_) => "mg",
            };
            CeilingRow {
                name: words::ceiling(*ceiling),
                limit: limit.to_string(),
                value: format!("{} {unit}", words::number(value, 2)),
                share: format!("{} %", words::number(share, 0)),
                above: value > limit_n * (1.0 + 1e-9),
            }
        })
        .collect();
    (steps, ceilings)
}

/// The PK model's subject from the chart: age on `today`, sex, the
/// order's weight and, when known, height.
pub(crate) fn pk_patient(
    patient: &PatientRecord,
    weight_kg: f64,
    height_cm: Option<f64>,
    today: jiff::civil::Date,
) -> Option<Patient> {
    let born: jiff::civil::Date = patient.birth_date.parse().ok()?;
    let age = (today - born).get_days() as f64 / 365.25;
    let age = born.until(today).ok().map(|_| age)?;
    let sex = if patient.sex == "female" {
        Sex::Female
    } else {
        Sex::Male
    };
    // Kamp 2020 uses weight only; a missing height takes 170 cm (unused).
    Patient::new(
        Kilograms::new(weight_kg).ok()?,
        Years::new(age.max(0.0)).ok()?,
        sex,
        Centimetres::new(height_cm.unwrap_or(170.0)).ok()?,
    )
    .ok()
}

fn preview(simulation: &Simulation) -> Preview {
    let c = &simulation.concentrations;
    let times = c.times_min();
    let peak = c.effect_ng_ml.iter().cloned().fold(0.0, f64::max);
    Preview {
        svg: svg_chart(&times, &c.plasma_ng_ml, &c.effect_ng_ml),
        bands: simulation
            .time_in_bands()
            .into_iter()
            .map(|t| BandRow {
                name: words::band_name(t.band.name),
                range: format!("{}–{} ng/mL", t.band.low.0, t.band.high.0),
                minutes: words::number(t.plasma_minutes, 0),
                source: t.band.source,
            })
            .collect(),
        warnings: simulation.warnings.iter().map(words::pk_warning).collect(),
        peak: words::number(peak, 0),
    }
}

/// The predicted concentrations as an inline SVG line chart, with the bands
/// of pk-models.md shaded behind (no JavaScript: the server draws it). The
/// page's key names the two lines, so the chart draws no legend.
pub fn svg_chart(times: &[f64], plasma: &[f64], effect: &[f64]) -> String {
    let t_max = times.last().copied().unwrap_or(1.0).max(1.0);
    let c_max = plasma
        .iter()
        .chain(effect)
        .cloned()
        .fold(300.0_f64, f64::max)
        .min(3000.0);
    let t_step = if t_max > 180.0 { 60.0 } else { 30.0 };
    let x_ticks = (0..=(t_max / t_step).floor() as usize)
        .map(|i| {
            let t = i as f64 * t_step;
            (t, words::number(t, 0))
        })
        .collect();
    let y = Axis::linear("ng/mL", 0.0, c_max, 6, |c| words::number(c, 0));
    let mut chart = Chart::new(
        "pk",
        format!(
            "Predicted plasma and effect-site concentration over {} min",
            words::number(t_max, 0)
        ),
        Axis::with_ticks("minutes", 0.0, t_max, x_ticks),
        y,
    )
    .class("pk-chart")
    .without_legend();
    for band in respite_pk::bands::BANDS.iter() {
        chart = chart.layer(Layer::Band {
            low: band.low.0,
            high: band.high.0,
            class: format!("band-{}", band.name),
            label: format!(
                "{} {}–{} ng/mL",
                words::band_name(band.name),
                band.low.0,
                band.high.0
            ),
        });
    }
    for (series, class) in [(plasma, "plasma"), (effect, "effect")] {
        chart = chart.layer(Layer::Line {
            points: times.iter().copied().zip(series.iter().copied()).collect(),
            class: class.into(),
            label: String::new(),
            dots: false,
        });
    }
    chart.svg()
}

#[derive(Template)]
#[template(path = "order_new.html")]
struct OrderNewPage {
    nav: Nav,
    tab: &'static str,
    patient: PatientRecord,
    refusals: Vec<String>,
    protocols: Vec<(i64, String, bool)>,
    chosen: i64,
    weight: String,
    weight_when: String,
    height: String,
    dosing_weight: String,
    basis: &'static str,
    rate: String,
    duration: String,
    concentration: String,
    bag: String,
    target: String,
    reach: String,
    steps_field: String,
    steps: Vec<StepRow>,
    totals: String,
    bag_note: String,
    ceilings: Vec<CeilingRow>,
    above: bool,
    error: Option<String>,
    preview: Option<Preview>,
    proposal: Option<Proposal>,
    can_order: bool,
}

struct OrderInputs {
    protocol: ProtocolVersionRecord,
    steps: Vec<ProtocolStep>,
    concentration: f64,
    bag: f64,
}

async fn order_inputs(
    state: &AppState,
    query: &PlanQuery,
) -> Result<(Vec<ProtocolVersionRecord>, OrderInputs), AppError> {
    let protocols: Vec<ProtocolVersionRecord> = state
        .store
        .current_protocols()
        .await?
        .into_iter()
        .filter(|p| p.active)
        .collect();
    let chosen = match query.protocol.trim() {
        "" => protocols.first().cloned(),
        id => {
            let id: i64 = id.parse().map_err(|_| AppError::BadRequest {
                field: "protocol",
                message: "must name an active protocol".into(),
            })?;
            protocols.iter().find(|p| p.id == id).cloned()
        }
    }
    .ok_or(AppError::BadRequest {
        field: "protocol",
        message: "must name an active protocol".into(),
    })?;
    let steps = plan_steps(&chosen, query)?;
    Ok((
        protocols,
        OrderInputs {
            protocol: chosen,
            steps,
            concentration: parse_number(&query.concentration, "concentration")?
                .unwrap_or(DEFAULT_CONCENTRATION_MG_ML),
            bag: parse_number(&query.bag, "bag")?.unwrap_or(DEFAULT_BAG_ML),
        },
    ))
}

/// The order page: what stands in the way, the calculation step by step
/// with each ceiling, the PK preview, and the target-guided proposal.
pub async fn new_order_page(
    State(state): State<AppState>,
    page: StaffPage,
    Path(id): Path<String>,
    Query(query): Query<PlanQuery>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let patient = state.store.patient(id).await?.ok_or(AppError::NotFound)?;
    order_page(&state, &page, patient, &query, None, StatusCode::OK).await
}

async fn order_page(
    state: &AppState,
    page: &StaffPage,
    patient: PatientRecord,
    query: &PlanQuery,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let readiness = state
        .store
        .order_readiness(patient.id, page.today(), &page.zone)
        .await?;
    let (protocols, mut inputs) = order_inputs(state, query).await?;
    let settings = DosingSettings::default();
    let weight = readiness.weight;
    let body = weight.map(|w| body_for(w.kg, readiness.height_cm, &patient.sex, &settings));
    let pk_subject =
        weight.and_then(|w| pk_patient(&patient, w.kg, readiness.height_cm, page.today()));
    // The target-guided proposal: within the clinic's bolus and rate
    // ceilings (dosing.md) per kg; its steps become the plan.
    let mut proposal = None;
    let target = parse_number(&query.target, "target")?;
    let reach = parse_number(&query.reach, "reach")?.unwrap_or(5.0);
    let mut error = error;
    if let (Some(target), Some(subject), Some(Ok(body))) = (target, pk_subject, body.as_ref()) {
        let hold = inputs
            .protocol
            .protocol
            .session_length
            .map(|m| m.value())
            .unwrap_or(240.0);
        let kg =
            respite_clinical::dosing::dosing_weight(body, inputs.protocol.protocol.weight_basis)
                .map(|w| w.weight.value())
                .unwrap_or(subject_weight(&subject));
        match EffectSiteTarget::new(
            NanogramsPerMillilitre(target),
            ElapsedMinutes::new(reach.min(hold)).unwrap_or(ElapsedMinutes::literal(5.0)),
            ElapsedMinutes::new(hold).unwrap_or(ElapsedMinutes::literal(240.0)),
            ElapsedMinutes::literal(RATE_CHANGE_INTERVAL_MIN),
            DoseLimits {
                // The model's patient weighs the actual weight; the limits
                // are scaled to the dosing weight (ceilings × dosing weight).
                bolus: MgPerKg::literal(
                    settings.bolus_ceiling.value() * kg / subject_weight(&subject),
                ),
                rate: MgPerKgPerHour::literal(
                    settings.rate_ceiling_per_kg.value() * kg / subject_weight(&subject),
                ),
            },
        )
        .and_then(|t| {
            propose_plan(
                PREVIEW_MODEL,
                &subject,
                &t,
                Seconds(10.0),
                DEFAULT_TIME_TO_PEAK,
            )
        }) {
            Ok(plan) => {
                let steps = proposal_steps(&plan.plan, kg);
                let lines = steps.iter().map(step_line).collect();
                if query.steps.trim().is_empty() {
                    inputs.steps = steps.clone();
                }
                proposal = Some(Proposal {
                    lines,
                    warnings: plan.warnings.iter().map(words::target_warning).collect(),
                    reached_at: words::number(plan.reached_at.value(), 1),
                });
            }
            Err(e) => error = Some(format!("Target: {e}")),
        }
    }
    let (mut steps, mut ceilings, mut totals, mut bag_note, mut preview_view) =
        (Vec::new(), Vec::new(), String::new(), String::new(), None);
    let mut dosing_weight = String::from("—");
    let mut above = false;
    match body {
        Some(Ok(body)) => {
            // Without overrides first: the page shows what is above a ceiling.
            let shown = calculate_order(
                &inputs.protocol.protocol,
                &inputs.steps,
                &body,
                inputs.concentration,
                &settings,
                None,
            )
            .or_else(|e| {
                above = matches!(
                    e,
                    respite_clinical::dosing::DosingError::CeilingsExceeded(_)
                );
                if above {
                    error.get_or_insert_with(|| words::dosing_error(&e));
                }
                // Shown with the override a clinician would give, so the
                // numbers are visible; the store still refuses without one.
                calculate_order(
                    &inputs.protocol.protocol,
                    &inputs.steps,
                    &body,
                    inputs.concentration,
                    &settings,
                    Some((page.session.user.id, "preview")),
                )
            });
            match shown {
                Ok(dose) => {
                    let (s, c) = calc_rows(&dose);
                    steps = s;
                    ceilings = c;
                    dosing_weight = format!(
                        "{} kg ({})",
                        words::number(dose.dosing_weight.weight.value(), 1),
                        words::weight_basis(dose.dosing_weight.basis)
                    );
                    totals = format!(
                        "{} mg ({} mg/kg), {} mL over {} min",
                        words::number(dose.total.value(), 1),
                        words::number(dose.total_per_kg.value(), 2),
                        words::number(dose.total_volume.value(), 1),
                        words::number(dose.duration.value(), 0)
                    );
                    bag_note = if dose.total_volume.value() <= inputs.bag {
                        format!(
                            "The session needs {} mL; the {} mL bag holds it.",
                            words::number(dose.total_volume.value(), 1),
                            words::number(inputs.bag, 0)
                        )
                    } else {
                        format!(
                            "The session needs {} mL: more than the {} mL bag — prepare a second.",
                            words::number(dose.total_volume.value(), 1),
                            words::number(inputs.bag, 0)
                        )
                    };
                    if let (Some(subject), Some(plan)) =
                        (pk_subject, dose.planned_doses().ok().map(|p| p.plan))
                    {
                        let until = dose.duration.value() + 60.0;
                        if let Ok(sim) = simulate(
                            PREVIEW_MODEL,
                            &subject,
                            &plan,
                            &SimulationSettings::new(
                                ElapsedMinutes::new(until)
                                    .unwrap_or(ElapsedMinutes::literal(300.0)),
                                Seconds(30.0),
                            ),
                        ) {
                            preview_view = Some(preview(&sim));
                        }
                    }
                }
                Err(e) => {
                    error.get_or_insert_with(|| words::dosing_error(&e));
                }
            }
        }
        Some(Err(e)) => {
            error.get_or_insert_with(|| words::dosing_error(&e));
        }
        None => {}
    }
    let (rate, duration) = inputs
        .protocol
        .protocol
        .steps
        .iter()
        .find_map(|s| match s {
            ProtocolStep::Infusion { rate, duration } => Some((rate.value(), duration.value())),
            _ => None,
        })
        .unwrap_or((0.0, 0.0));
    let page_view = OrderNewPage {
        nav: page.nav(),
        tab: "order",
        refusals: readiness.refusals.iter().map(words::refusal).collect(),
        protocols: protocols
            .iter()
            .map(|p| {
                (
                    p.id,
                    format!("{} (version {})", p.protocol.name, p.version),
                    p.id == inputs.protocol.id,
                )
            })
            .collect(),
        chosen: inputs.protocol.id,
        weight: weight
            .map(|w| format!("{} kg", words::number(w.kg, 1)))
            .unwrap_or_else(|| "not recorded".into()),
        weight_when: weight.map(|w| page.time(w.observed_at)).unwrap_or_default(),
        height: readiness
            .height_cm
            .map(|h| format!("{} cm", words::number(h, 0)))
            .unwrap_or_else(|| "not recorded".into()),
        dosing_weight,
        basis: words::weight_basis(inputs.protocol.protocol.weight_basis),
        rate: if query.rate.trim().is_empty() {
            words::number(rate, 3)
        } else {
            query.rate.trim().to_owned()
        },
        duration: if query.duration.trim().is_empty() {
            words::number(duration, 0)
        } else {
            query.duration.trim().to_owned()
        },
        concentration: words::number(inputs.concentration, 1),
        bag: words::number(inputs.bag, 0),
        target: query.target.trim().to_owned(),
        reach: query.reach.trim().to_owned(),
        steps_field: encode_steps(&inputs.steps),
        steps,
        totals,
        bag_note,
        ceilings,
        above,
        error,
        preview: preview_view,
        proposal,
        can_order: page.may(Permission::OrderInfusions),
        patient,
    };
    render_with(status, &page_view)
}

fn subject_weight(subject: &Patient) -> f64 {
    subject.weight().value()
}

/// A proposal's doses as protocol steps per kg of dosing weight: the
/// instantaneous loading bolus, then each rate segment.
fn proposal_steps(plan: &DosingPlan, kg: f64) -> Vec<ProtocolStep> {
    let mut steps = Vec::new();
    for dose in plan.doses() {
        match dose.delivery() {
            respite_pk::Delivery::Amount(mg) => {
                if let (Ok(dose_per_kg), Ok(over)) = (
                    MgPerKg::new(mg.value() / kg),
                    Minutes::new(dose.duration().value()),
                ) {
                    steps.push(ProtocolStep::Bolus {
                        dose: dose_per_kg,
                        over,
                    });
                }
            }
            respite_pk::Delivery::Rate(rate) => {
                if let (Ok(rate), Ok(duration)) = (
                    MgPerKgPerHour::new(rate.value() / kg),
                    Minutes::new(dose.duration().value()),
                ) {
                    steps.push(ProtocolStep::Infusion { rate, duration });
                }
            }
        }
    }
    steps
}

/// The clinician orders: the store checks everything again and refuses
/// above a ceiling without a clinician's reason.
pub async fn create_order(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let patient = state.store.patient(id).await?.ok_or(AppError::NotFound)?;
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let query = PlanQuery {
        protocol: get("protocol"),
        steps: get("steps"),
        concentration: get("concentration"),
        bag: get("bag"),
        target: String::new(),
        reach: String::new(),
        rate: String::new(),
        duration: String::new(),
    };
    let (_, inputs) = order_inputs(&state, &query).await?;
    let reason = get("override_reason");
    let created = state
        .store
        .stamped(&audit)
        .create_infusion_order(
            &NewInfusionOrder {
                patient_id: id,
                protocol_version_id: inputs.protocol.id,
                steps: inputs.steps,
                concentration_mg_ml: inputs.concentration,
                bag_ml: inputs.bag,
                target_ng_ml: parse_number(&get("target"), "target")?,
                override_reason: Some(reason.as_str()).filter(|r| !r.trim().is_empty()),
                orderer_id: page.session.user.id,
                orderer_role: page.session.user.role,
                at: page.now,
            },
            page.today(),
            &page.zone,
        )
        .await?;
    match created {
        Ok(order_id) => Ok(Redirect::to(&format!("/staff/orders/{order_id}")).into_response()),
        Err(refusal) => {
            order_page(
                &state,
                &page,
                patient,
                &query,
                Some(words::refusal(&refusal)),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

#[derive(Template)]
#[template(path = "order.html")]
struct OrderPage {
    nav: Nav,
    tab: &'static str,
    patient: PatientRecord,
    order: respite_store::InfusionOrderRecord,
    drug: &'static str,
    steps: Vec<String>,
    ordered_at: String,
    weighed_at: String,
    overrides: Vec<String>,
    checked: Option<String>,
    can_check: bool,
    /// The order's infusion session, once opened (pages/sessions.rs).
    session_id: Option<i64>,
    /// A checked order without a session: a nurse or clinician may open it.
    can_open_session: bool,
    error: Option<String>,
    n: fn(&f64, usize) -> String,
}

/// An order as it stands: its numbers, overrides, and the second check.
pub async fn order_view(
    State(state): State<AppState>,
    page: StaffPage,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    show_order(&state, &page, id, None, StatusCode::OK).await
}

async fn show_order(
    state: &AppState,
    page: &StaffPage,
    id: i64,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let order = state
        .store
        .infusion_order(id)
        .await?
        .ok_or(AppError::NotFound)?;
    let patient = state
        .store
        .patient(order.patient_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let session_id = state.store.session_of_order(order.id).await?;
    render_with(
        status,
        &OrderPage {
            can_open_session: session_id.is_none()
                && order.check.is_some()
                && page.may(Permission::DocumentInfusionSessions),
            session_id,
            nav: page.nav(),
            tab: "order",
            drug: words::drug(order.protocol.protocol.drug),
            steps: order.steps.iter().map(step_line).collect(),
            ordered_at: page.time(order.ordered_at),
            weighed_at: page.time(order.weight_observed_at),
            overrides: order
                .overrides
                .iter()
                .map(|o| {
                    let unit = words::ceiling_code_unit(&o.ceiling);
                    format!(
                        "{}: {} {unit} above the limit {} {unit} — overridden by {}: “{}”",
                        words::ceiling_code(&o.ceiling),
                        words::number(o.order_value, 2),
                        words::number(o.ceiling_limit, 2),
                        o.clinician,
                        o.reason
                    )
                })
                .collect(),
            checked: order.check.as_ref().map(|c| {
                format!(
                    "Verified by {} at {}: drug, {} mg/mL, {} kg, {} mL/h",
                    c.checked_by,
                    page.time(c.checked_at),
                    words::number(c.concentration_mg_ml, 1),
                    words::number(c.weight_kg, 1),
                    words::number(c.pump_ml_h, 1)
                )
            }),
            can_check: order.check.is_none()
                && order.ordered_by_id != page.session.user.id
                && page.may(Permission::WriteClinicalRecords),
            error,
            n: |v, places| words::number(*v, places),
            order,
            patient,
        },
    )
}

/// The second person's check.
pub async fn check_order(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let field = |k: &'static str| -> Result<f64, AppError> {
        parse_number(form.get(k).map(String::as_str).unwrap_or(""), k)?.ok_or(
            AppError::BadRequest {
                field: k,
                message: "is required: read it off the drug, the chart and the pump".into(),
            },
        )
    };
    let check = OrderCheck {
        concentration_mg_ml: field("concentration_mg_ml")?,
        weight_kg: field("weight_kg")?,
        pump_ml_h: field("pump_ml_h")?,
    };
    if form.get("drug_confirmed").map(String::as_str) != Some("yes") {
        return Err(AppError::BadRequest {
            field: "drug_confirmed",
            message: "confirm the drug on the label".into(),
        });
    }
    let result = state
        .store
        .stamped(&audit)
        .check_infusion_order(
            id,
            &check,
            page.session.user.id,
            page.session.user.role,
            page.now,
        )
        .await?;
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/staff/orders/{id}")).into_response()),
        Err(respite_store::CheckRefusal::NoSuchOrder) => Err(AppError::NotFound),
        Err(refusal) => {
            show_order(
                &state,
                &page,
                id,
                Some(words::check_refusal(&refusal)),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

pub struct OrderRow {
    pub id: i64,
    pub ordered: String,
    pub protocol: String,
    pub pump: String,
    pub checked: Option<String>,
}

#[derive(Template)]
#[template(path = "orders.html")]
struct OrdersPage {
    nav: Nav,
    tab: &'static str,
    patient: PatientRecord,
    orders: Vec<OrderRow>,
    can_order: bool,
}

/// A patient's orders, newest first, each awaiting its check or verified:
/// where the nurse finds the order to check.
pub async fn patient_orders(
    State(state): State<AppState>,
    page: StaffPage,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let patient = state.store.patient(id).await?.ok_or(AppError::NotFound)?;
    let mut orders = Vec::new();
    for order_id in state.store.infusion_orders_of(id).await? {
        if let Some(o) = state.store.infusion_order(order_id).await? {
            orders.push(OrderRow {
                id: o.id,
                ordered: format!("{} by {}", page.time(o.ordered_at), o.ordered_by),
                protocol: o.protocol.protocol.name.clone(),
                pump: format!(
                    "{} mL/h, {} mg in all",
                    words::number(o.max_pump_ml_h, 1),
                    words::number(o.total_mg, 1)
                ),
                checked: o.check.map(|c| {
                    format!(
                        "verified by {} at {}",
                        c.checked_by,
                        page.time(c.checked_at)
                    )
                }),
            });
        }
    }
    render(&OrdersPage {
        nav: page.nav(),
        tab: "orders",
        patient,
        orders,
        can_order: page.may(Permission::OrderInfusions),
    })
}
