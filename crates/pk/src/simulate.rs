//! Simulating a published model for one patient and one plan.

use crate::bands::{minutes_in_band, Band, BANDS};
use crate::model::{Model, Range};
use crate::patient::Patient;
use crate::plan::{DosingPlan, MAX_TIME_MIN};
use crate::solver::{
    CompartmentModel, Concentrations, Grid, Ke0Error, ParameterError, TIME_TO_PEAK_LIMITS_MIN,
};
use crate::units::{ElapsedMinutes, PerMinute, QuantityError, Seconds};

/// At most this many samples per simulation: a day at 1-s resolution fits (86,401); a typing
/// error such as `step_s: 0.0001` gets a clear error instead of exhausting memory.
pub const MAX_SAMPLES: usize = 500_000;
/// Smallest accepted sampling step.
pub const MIN_STEP_S: f64 = 0.01;
/// Largest accepted sampling step (one hour).
pub const MAX_STEP_S: f64 = 3600.0;
/// No paper publishes a ketamine ke0; opentiva derives each from a peak effect 1 min after a bolus
/// (pk-models.md). A clinic can change it per simulation.
pub const DEFAULT_TIME_TO_PEAK: ElapsedMinutes = ElapsedMinutes::literal(1.0);

/// How to sample and which ke0 rule to use.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimulationSettings {
    /// Last sample time; samples run from 0 in steps of `step` up to and including `until` (or the
    /// last step before it when `until` is not a multiple of `step`).
    pub until: ElapsedMinutes,
    pub step: Seconds,
    /// Time to peak effect after a bolus, from which ke0 is derived.
    pub time_to_peak: ElapsedMinutes,
}

/// Something the clinician must read beside the numbers.
#[derive(Debug, Clone, PartialEq)]
pub enum Warning {
    /// The patient lies outside the population the model was fitted on.
    OutsideValidity {
        model: Model,
        covariate: &'static str,
        value: f64,
        range: Range,
        basis: &'static str,
    },
    /// ke0 is not published: it was derived from an assumed time to peak effect.
    Ke0Assumed {
        ke0: PerMinute,
        time_to_peak: ElapsedMinutes,
    },
}

/// The result of a simulation.
#[derive(Debug, Clone, PartialEq)]
pub struct Simulation {
    pub model: Model,
    pub ke0: PerMinute,
    pub time_to_peak: ElapsedMinutes,
    pub warnings: Vec<Warning>,
    pub concentrations: Concentrations,
}

/// Minutes spent by the plasma concentration in one band.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeInBand {
    pub band: Band,
    pub plasma_minutes: f64,
}

/// Why a simulation could not run. Each variant names the field and the rule.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimulationError {
    #[error("{field} must be a finite number, got {value}")]
    NotFinite { field: &'static str, value: f64 },
    #[error("{field} must be between {min} and {max}, got {value}")]
    OutOfRange {
        field: &'static str,
        min: f64,
        max: f64,
        value: f64,
    },
    #[error("until_min / step_s gives {samples} samples, more than the maximum of {max}: use a longer step or a shorter time")]
    TooManySamples { samples: f64, max: usize },
    #[error(transparent)]
    Ke0(#[from] Ke0Error),
    #[error("model parameters: {0}")]
    Parameters(#[from] ParameterError),
    /// Unreachable after the checks above; kept so that no conversion can panic.
    #[error(transparent)]
    Quantity(#[from] QuantityError),
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::OutsideValidity {
                model,
                covariate,
                value,
                range,
                basis,
            } => write!(
                f,
                "model {}: patient {covariate} {value} is outside the fitted range {range} ({basis}); \
                 predictions are extrapolated",
                model.name()
            ),
            Warning::Ke0Assumed { ke0, time_to_peak } => write!(
                f,
                "assumption: ke0 {:.4} /min from t_peak = {} min (no published ketamine ke0; \
                 opentiva's rule); effect-site values depend on it",
                ke0.0,
                time_to_peak.value()
            ),
        }
    }
}

impl SimulationSettings {
    /// Settings with the default ke0 rule (t_peak = 1 min).
    pub fn new(until: ElapsedMinutes, step: Seconds) -> SimulationSettings {
        SimulationSettings {
            until,
            step,
            time_to_peak: DEFAULT_TIME_TO_PEAK,
        }
    }

    /// Settings from plain numbers (the JSON edge), refused with the same errors and in the same
    /// order as [`simulate`] refuses typed settings: `until_min`, then `step_s` and the sample
    /// count, then `t_peak_min` (default 1 min).
    pub fn from_numbers(
        until_min: f64,
        step_s: f64,
        t_peak_min: Option<f64>,
    ) -> Result<SimulationSettings, SimulationError> {
        check_range("until_min", until_min, 0.0, MAX_TIME_MIN)?;
        let mut settings =
            SimulationSettings::new(ElapsedMinutes::new(until_min)?, Seconds(step_s));
        let Some(t_peak_min) = t_peak_min else {
            return Ok(settings);
        };
        match ElapsedMinutes::new(t_peak_min) {
            Ok(time_to_peak) => settings.time_to_peak = time_to_peak,
            Err(_) => {
                settings.grid()?;
                let (min, max) = TIME_TO_PEAK_LIMITS_MIN;
                return Err(Ke0Error::TimeToPeakOutOfRange {
                    min,
                    max,
                    value: t_peak_min,
                }
                .into());
            }
        }
        Ok(settings)
    }

    pub(crate) fn grid(&self) -> Result<Grid, SimulationError> {
        let until = self.until.value();
        let step_s = self.step.0;
        check_range("until_min", until, 0.0, MAX_TIME_MIN)?;
        check_range("step_s", step_s, MIN_STEP_S, MAX_STEP_S)?;
        // A relative tolerance so that until = 300 min at 10 s gives 1801 samples, not 1800.
        let steps = (until * 60.0 / step_s * (1.0 + 1e-12)).floor();
        let samples = steps + 1.0;
        if samples > MAX_SAMPLES as f64 {
            return Err(SimulationError::TooManySamples {
                samples,
                max: MAX_SAMPLES,
            });
        }
        Ok(Grid {
            step_min: self.step.minutes(),
            samples: samples as usize,
        })
    }
}

impl Simulation {
    /// Minutes the plasma concentration spends in each band of pk-models.md.
    pub fn time_in_bands(&self) -> Vec<TimeInBand> {
        let times = self.concentrations.times_min();
        BANDS
            .iter()
            .map(|band| TimeInBand {
                band: *band,
                plasma_minutes: minutes_in_band(&times, &self.concentrations.plasma_ng_ml, band),
            })
            .collect()
    }
}

/// Simulate `plan` for `patient` with a published `model`.
pub fn simulate(
    model: Model,
    patient: &Patient,
    plan: &DosingPlan,
    settings: &SimulationSettings,
) -> Result<Simulation, SimulationError> {
    simulate_reusing(model, patient, plan, settings, Concentrations::default())
}

/// As [`simulate`], writing into the buffers of `buffers` (taken back from an earlier
/// `Simulation::concentrations`) so that many simulations in a row allocate nothing.
pub fn simulate_reusing(
    model: Model,
    patient: &Patient,
    plan: &DosingPlan,
    settings: &SimulationSettings,
    mut buffers: Concentrations,
) -> Result<Simulation, SimulationError> {
    let grid = settings.grid()?;
    let compartments = CompartmentModel::new(&model.parameters(patient))?;
    let ke0 = compartments.ke0_for_time_to_peak(settings.time_to_peak)?;
    let mut warnings = validity_warnings(model, patient);
    warnings.push(Warning::Ke0Assumed {
        ke0,
        time_to_peak: settings.time_to_peak,
    });
    compartments.simulate_into(ke0.0, plan, grid, &mut buffers);
    Ok(Simulation {
        model,
        ke0,
        time_to_peak: settings.time_to_peak,
        warnings,
        concentrations: buffers,
    })
}

/// Simulate `plan` with any parameter set and an explicit ke0 (for models not in the library and
/// for checks against closed forms).
pub fn simulate_parameters(
    parameters: &crate::Parameters,
    ke0: PerMinute,
    plan: &DosingPlan,
    settings: &SimulationSettings,
) -> Result<Concentrations, SimulationError> {
    let grid = settings.grid()?;
    check_range("ke0", ke0.0, 1e-9, 1e4)?;
    let compartments = CompartmentModel::new(parameters)?;
    Ok(compartments.simulate(ke0.0, plan, grid))
}

fn validity_warnings(model: Model, patient: &Patient) -> Vec<Warning> {
    let validity = model.validity();
    let mut warnings = Vec::new();
    for (covariate, value, range) in [
        ("age_years", patient.age().value(), validity.age_years),
        ("weight_kg", patient.weight().value(), validity.weight_kg),
    ] {
        if !range.contains(value) {
            warnings.push(Warning::OutsideValidity {
                model,
                covariate,
                value,
                range,
                basis: validity.basis,
            });
        }
    }
    warnings
}

fn check_range(field: &'static str, value: f64, min: f64, max: f64) -> Result<(), SimulationError> {
    if !value.is_finite() {
        return Err(SimulationError::NotFinite { field, value });
    }
    if !(min <= value && value <= max) {
        return Err(SimulationError::OutOfRange {
            field,
            min,
            max,
            value,
        });
    }
    Ok(())
}
