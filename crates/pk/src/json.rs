//! The JSON wire format of `respite pk simulate`. Serde counterparts live here and are converted to
//! domain types at the edge; the domain types know nothing of JSON.
//!
//! Input (SPEC §3, `respite pk simulate`; design in docs/pk.md):
//! ```json
//! {"model": "domino", "patient": {"weight_kg": 70, "age_years": 45, "sex": "female", "height_cm": 165},
//!  "doses": [{"start_min": 0, "duration_min": 1, "amount_mg": 24.5},
//!            {"start_min": 1, "duration_min": 240, "rate_mg_per_h": 35}],
//!  "until_min": 300, "step_s": 60}
//! ```
//! plus an optional `"t_peak_min"` (default 1) from which ke0 is derived.
//!
//! Output: `{"model", "warnings", "t_min", "plasma_ng_ml", "effect_ng_ml"}` (one value per step from
//! t = 0), plus `"source"`, `"ke0_per_min"`, `"t_peak_min"`, `"ke0_basis"` and `"bands"` (minutes of
//! plasma concentration in each band).

use serde::{Deserialize, Serialize};

use crate::model::{Model, UnknownModel};
use crate::patient::{Patient, PatientError, Sex};
use crate::plan::Delivery;
use crate::plan::{Dose, DosingPlan, PlanError};
use crate::simulate::{simulate, Simulation, SimulationError, SimulationSettings};
use crate::target::{propose_plan, EffectSiteTarget, TargetError};
use crate::units::Seconds;

/// Why `simulate_json` refused its input.
#[derive(Debug, thiserror::Error)]
pub enum JsonError {
    #[error("plan is not valid JSON for `respite pk simulate`: {0}")]
    Syntax(#[from] serde_json::Error),
    #[error(transparent)]
    Model(#[from] UnknownModel),
    #[error(transparent)]
    Patient(#[from] PatientError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Simulation(#[from] SimulationError),
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error("could not write the result as JSON: {0}")]
    Output(serde_json::Error),
}

/// Run `respite pk simulate` on a JSON plan and return the JSON result.
pub fn simulate_json(input: &str) -> Result<String, JsonError> {
    let request: SimulationRequest = serde_json::from_str(input)?;
    let model = Model::parse(&request.model)?;
    let patient = request.patient.into_patient()?;
    let doses = request
        .doses
        .iter()
        .enumerate()
        .map(|(index, dose)| {
            dose.to_dose()
                .map_err(|source| PlanError::Dose { index, source })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let plan = DosingPlan::new(doses)?;
    let settings =
        SimulationSettings::from_numbers(request.until_min, request.step_s, request.t_peak_min)?;
    let simulation = simulate(model, &patient, &plan, &settings)?;
    let times = simulation.concentrations.times_min();
    let response = SimulationResponse::new(model, &simulation, &times);
    serde_json::to_string(&response).map_err(JsonError::Output)
}

/// Run `respite pk target` on a JSON request and return the JSON result: the `pk simulate` output
/// of the proposed plan, plus `doses` (in `pk simulate`'s input shape), `reached_at_min`, and the
/// planner's warnings after the simulator's.
///
/// Input (SPEC §3, `respite pk target`; method in docs/pk.md):
/// ```json
/// {"model": "kamp", "patient": {"weight_kg": 83, "age_years": 61, "sex": "male", "height_cm": 178},
///  "target_effect_ng_ml": 150, "reach_within_min": 5, "hold_until_min": 120,
///  "min_rate_change_interval_min": 10,
///  "limits": {"bolus_mg_per_kg": 0.35, "rate_mg_per_kg_per_h": 2.0}, "step_s": 10}
/// ```
/// plus an optional `"t_peak_min"` as for `pk simulate`.
pub fn target_json(input: &str) -> Result<String, JsonError> {
    let request: TargetRequest = serde_json::from_str(input)?;
    let model = Model::parse(&request.model)?;
    let patient = request.patient.into_patient()?;
    let target = EffectSiteTarget::from_numbers(
        request.target_effect_ng_ml,
        request.reach_within_min,
        request.hold_until_min,
        request.min_rate_change_interval_min,
        request.limits.bolus_mg_per_kg,
        request.limits.rate_mg_per_kg_per_h,
    )?;
    // The sampling step and t_peak are checked as `pk simulate` checks them.
    let settings = SimulationSettings::from_numbers(
        request.hold_until_min,
        request.step_s,
        request.t_peak_min,
    )?;
    settings.grid()?;
    let proposal = propose_plan(
        model,
        &patient,
        &target,
        Seconds(request.step_s),
        settings.time_to_peak,
    )?;
    let times = proposal.simulation.concentrations.times_min();
    let mut simulation = SimulationResponse::new(model, &proposal.simulation, &times);
    simulation
        .warnings
        .extend(proposal.warnings.iter().map(ToString::to_string));
    let doses = proposal
        .plan
        .doses()
        .iter()
        .map(|dose| {
            let (amount_mg, rate_mg_per_h) = match dose.delivery() {
                Delivery::Amount(amount) => (Some(amount.value()), None),
                Delivery::Rate(rate) => (None, Some(rate.value())),
            };
            DoseRequest {
                start_min: dose.start().value(),
                duration_min: dose.duration().value(),
                amount_mg,
                rate_mg_per_h,
            }
        })
        .collect();
    let response = TargetResponse {
        reached_at_min: proposal.reached_at.value(),
        doses,
        simulation,
    };
    serde_json::to_string(&response).map_err(JsonError::Output)
}

/// The human-readable list printed by `respite pk models`.
pub fn models_description() -> String {
    let mut text = String::from(
        "Ketamine (racemic) pharmacokinetic models. Concentrations in ng/mL; rate constants per minute.\n\
         ke0: no paper publishes one; each is derived from t_peak = 1 min after a bolus (an \
         assumption, changeable with t_peak_min).\n",
    );
    for model in Model::ALL {
        let validity = model.validity();
        text.push_str(&format!(
            "\n{name}\n  compartments: {compartments}\n  source: {source}\n  validity: age {age} years, \
             weight {weight} kg ({basis})\n  ke0: {ke0} /min from t_peak = 1 min (as listed by opentiva; \
             computed per patient)\n",
            name = model.name(),
            compartments = model.compartments(),
            source = model.source(),
            age = validity.age_years,
            weight = validity.weight_kg,
            basis = validity.basis,
            ke0 = model.listed_ke0().0,
        ));
    }
    text
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SimulationRequest {
    model: String,
    patient: PatientRequest,
    doses: Vec<DoseRequest>,
    until_min: f64,
    step_s: f64,
    #[serde(default)]
    t_peak_min: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetRequest {
    model: String,
    patient: PatientRequest,
    target_effect_ng_ml: f64,
    reach_within_min: f64,
    hold_until_min: f64,
    min_rate_change_interval_min: f64,
    limits: LimitsRequest,
    step_s: f64,
    #[serde(default)]
    t_peak_min: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsRequest {
    bolus_mg_per_kg: f64,
    rate_mg_per_kg_per_h: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatientRequest {
    weight_kg: f64,
    age_years: f64,
    sex: SexRequest,
    height_cm: f64,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum SexRequest {
    Female,
    Male,
}

/// A dose as `pk simulate` reads it (and `pk target` writes it).
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct DoseRequest {
    start_min: f64,
    duration_min: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    amount_mg: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rate_mg_per_h: Option<f64>,
}

#[derive(Serialize)]
struct TargetResponse<'a> {
    reached_at_min: f64,
    doses: Vec<DoseRequest>,
    #[serde(flatten)]
    simulation: SimulationResponse<'a>,
}

#[derive(Serialize)]
struct SimulationResponse<'a> {
    model: &'static str,
    source: &'static str,
    warnings: Vec<String>,
    ke0_per_min: f64,
    t_peak_min: f64,
    ke0_basis: &'static str,
    bands: Vec<BandResponse>,
    t_min: &'a [f64],
    plasma_ng_ml: &'a [f64],
    effect_ng_ml: &'a [f64],
}

#[derive(Serialize)]
struct BandResponse {
    name: &'static str,
    low_ng_ml: f64,
    high_ng_ml: f64,
    plasma_minutes: f64,
    source: &'static str,
}

impl<'a> SimulationResponse<'a> {
    fn new(model: Model, simulation: &'a Simulation, times: &'a [f64]) -> SimulationResponse<'a> {
        let bands = simulation
            .time_in_bands()
            .into_iter()
            .map(|time| BandResponse {
                name: time.band.name,
                low_ng_ml: time.band.low.0,
                high_ng_ml: time.band.high.0,
                plasma_minutes: time.plasma_minutes,
                source: time.band.source,
            })
            .collect();
        SimulationResponse {
            model: model.name(),
            source: model.source(),
            warnings: simulation
                .warnings
                .iter()
                .map(ToString::to_string)
                .collect(),
            ke0_per_min: simulation.ke0.0,
            t_peak_min: simulation.time_to_peak.value(),
            ke0_basis:
                "assumption: derived from the time to peak effect-site concentration after a bolus \
                 (t_peak_min); no published ketamine ke0",
            bands,
            t_min: times,
            plasma_ng_ml: &simulation.concentrations.plasma_ng_ml,
            effect_ng_ml: &simulation.concentrations.effect_ng_ml,
        }
    }
}

impl PatientRequest {
    fn into_patient(self) -> Result<Patient, PatientError> {
        let sex = match self.sex {
            SexRequest::Female => Sex::Female,
            SexRequest::Male => Sex::Male,
        };
        Patient::from_numbers(self.weight_kg, self.age_years, sex, self.height_cm)
    }
}

impl DoseRequest {
    fn to_dose(&self) -> Result<Dose, crate::plan::DoseError> {
        let (start, duration) = (self.start_min, self.duration_min);
        match (self.amount_mg, self.rate_mg_per_h) {
            (Some(amount), None) => Dose::amount_from_numbers(start, duration, amount),
            (None, Some(rate)) => Dose::rate_from_numbers(start, duration, rate),
            (Some(_), Some(_)) => Err(crate::plan::DoseError::BothAmountAndRate),
            (None, None) => Err(crate::plan::DoseError::NeitherAmountNorRate),
        }
    }
}
