//! Pharmacokinetic simulator for racemic ketamine: plasma and effect-site concentrations of a
//! dosing plan under a published compartment model, solved exactly (sums of exponentials for
//! piecewise-constant input, split at every dose start and end), never by Euler steps.
//!
//! A pure library: no I/O, no clock. Input is validated into domain types (`Patient`, `Dose`,
//! `DosingPlan`, `SimulationSettings`); everything else cannot fail. The JSON wire format of
//! `respite pk simulate` lives in [`json`] and is converted to the domain types at the edge.
//!
//! Model facts and sources: shared/clinical/pk-models.md; design and oracles: docs/pk.md.

#![deny(unsafe_code)]

pub mod bands;
pub mod json;
mod model;
mod patient;
mod plan;
mod simulate;
mod solver;
mod target;
pub mod units;
pub use units::ElapsedMinutes;

pub use json::{models_description, simulate_json, target_json, JsonError};
pub use model::{Model, Parameters, Range, UnknownModel, Validity};
pub use patient::{Patient, PatientError, Sex};
pub use plan::{Delivery, Dose, DoseError, DosingPlan, PlanError};
pub use simulate::{
    simulate, simulate_parameters, simulate_reusing, Simulation, SimulationError,
    SimulationSettings, TimeInBand, Warning, DEFAULT_TIME_TO_PEAK, MAX_SAMPLES,
};
pub use solver::{CompartmentModel, Concentrations, Ke0Error, ParameterError};
pub use target::{
    propose_plan, BindingLimit, DoseLimits, EffectSiteTarget, TargetError, TargetPlan,
    TargetWarning, CEILING_SHARE, FLOOR_SHARE, MAX_TARGET_NG_ML, MAX_TARGET_SAMPLES,
    MIN_RATE_CHANGE_INTERVAL_MIN,
};
