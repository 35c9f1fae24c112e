//! Target-guided dosing: a loading bolus and a schedule of constant rates that bring the predicted
//! effect-site concentration to a target and hold it there, within dose limits, with rate changes
//! no more often than a nurse can make them by hand.
//!
//! Method (docs/pk.md, "Target-guided plan"): effect-site targeting after Shafer SL, Gregg KM.
//! J Pharmacokinet Biopharm 1992;20:147–169 (choose the infusion by predicting the effect site
//! exactly from the model, instead of targeting plasma), with the effect-site-sized loading bolus
//! of Jacobs JR, Williams EA. IEEE Trans Biomed Eng 1993;40:993–999 [to check] and Van Poucke GE et al.
//! IEEE Trans Biomed Eng 2004;51:1869–1875 [to check] (the bolus whose effect-site peak is the target),
//! adapted to rates held constant for at least the minimum interval:
//!
//! 1. Unit responses: the effect site after a 1 mg bolus at 0 (`b`) and under 1 mg/min from 0
//!    (`g`), on the sampling grid, from the exact solver. The model is linear and time-invariant,
//!    so any plan of a bolus at 0 and rates changed on grid points is a sum of shifted copies of
//!    them: every prediction below is exact at the samples (no Euler step, no approximation).
//! 2. Rate changes only at multiples of the minimum interval (rounded up to the grid), the last
//!    segment running to the end of the hold, so every change, the stop included, is at least the
//!    interval after the one before.
//! 3. For each segment in turn, the constant rate whose predicted effect site is closest to the
//!    target over the segment (least squares, a closed form since Ce is linear in the rate),
//!    clamped to the rates that keep every predicted sample of the segment at or below the
//!    ceiling, at or above the floor from the reach time on, within the rate limit, and (look
//!    ahead) that leave the next segment a feasible choice: below the ceiling even if it stops
//!    the pump, above the floor even if it runs at the limit. The ceiling wins over the floor.
//! 4. The loading bolus: candidates from the bolus whose effect-site peak alone reaches the
//!    planning ceiling (or the bolus limit, if smaller) down to none; each is followed by the
//!    segments of step 3 over the first few segments, and the one that reaches the floor
//!    earliest (any time up to the reach time counts the same), then holds, then stays closest
//!    to the target, is kept; it is refined by ternary search between its neighbours.
//! 5. If that plan does not reach and hold the target by the reach time, the reach time used in
//!    step 3 is moved later, by bisection, to the earliest for which it does.
//! 6. The plan is rounded (0.01 mg, 0.01 mg/h, never above a limit), simulated afresh by
//!    `simulate`, and every guarantee is checked on that simulation (the target counts as
//!    reached at the first sample from which Ce stays within ±10 % to the end of the hold): the
//!    answer never rests on the planner's own arithmetic. When one fails, the planner is run
//!    again with the bolus limit, the rate limit, and both lifted, to name the limit that binds.
//!
//! The planner aims inside the guarantees by a margin (±9 % instead of ±10 %) so that the
//! continuous curve between samples and another solver's rounding stay inside them.

use respite_units::{MgPerHour, MgPerKg, MgPerKgPerHour, Milligrams, QuantityError};

use crate::model::Model;
use crate::patient::Patient;
use crate::plan::{Dose, DoseError, DosingPlan, PlanError};
use crate::simulate::{simulate, Simulation, SimulationError, SimulationSettings};
use crate::solver::{CompartmentModel, Grid};
use crate::units::{ElapsedMinutes, NanogramsPerMillilitre, Seconds};

/// Ce never above this share of the target (the guarantee of `respite pk target`, SPEC §3;
/// docs/pk.md, "Target-guided plan").
pub const CEILING_SHARE: f64 = 1.10;
/// Ce within ±10 % of the target from the reach time to the end of the hold (the same guarantee).
pub const FLOOR_SHARE: f64 = 0.90;
/// The planner aims inside the guarantees by this share of the target (see the module comment).
const PLANNING_MARGIN_SHARE: f64 = 0.01;
/// Largest accepted target: above the anaesthesia band of pk-models.md (≤ 2,400 ng/mL) with room;
/// a larger number is a unit error (µg/L for ng/L), not a plan.
pub const MAX_TARGET_NG_ML: f64 = 5_000.0;
/// Shortest accepted interval between rate changes: a nurse changes the pump by hand, and the
/// planner's work grows with the number of changes.
pub const MIN_RATE_CHANGE_INTERVAL_MIN: f64 = 1.0;
/// Most samples a plan is proposed on (4 h at 1 s is 14,401): planning costs about a
/// simulation per rate change, so the grid is bounded more tightly than `simulate`'s.
pub const MAX_TARGET_SAMPLES: usize = 20_000;
/// Bolus candidates scanned before refinement (step 4).
const BOLUS_CANDIDATES: usize = 16;
/// Bisection steps refining the best bolus candidate.
const BOLUS_REFINEMENTS: usize = 10;
/// Segments after the one holding the reach time over which bolus candidates are compared.
const SEGMENTS_COMPARED_AFTER_REACH: usize = 2;
/// Limits used to find the binding one: generous, and within the simulator's sanity limits.
const LIFTED_BOLUS_MG_PER_KG: f64 = 10.0;
const LIFTED_RATE_MG_PER_KG_PER_H: f64 = 20.0;
/// Tolerance on time comparisons (minutes), as in the solver: grid times carry rounding.
const TIME_TOLERANCE_MIN: f64 = 1e-9;

/// The largest bolus and infusion rate the plan may use, per kg of the patient's weight (the
/// protocol's ceilings: dosing.md, "Hard ceilings").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DoseLimits {
    pub bolus: MgPerKg,
    pub rate: MgPerKgPerHour,
}

/// What the clinician asks for: an effect-site concentration, how soon, how long, and how often
/// the rate may change.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EffectSiteTarget {
    concentration: NanogramsPerMillilitre,
    reach_within: ElapsedMinutes,
    hold_until: ElapsedMinutes,
    min_rate_change_interval: ElapsedMinutes,
    limits: DoseLimits,
}

/// Why a target request was refused, or why no plan can meet it. Each names the field or the limit.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TargetError {
    #[error("{field} must be a finite number, got {value}")]
    NotFinite { field: &'static str, value: f64 },
    #[error("{field} must be between {min} and {max}, got {value}")]
    OutOfRange {
        field: &'static str,
        min: f64,
        max: f64,
        value: f64,
    },
    #[error("hold_until_min / step_s gives {samples} samples; pk target plans on at most {max}: use a longer step_s")]
    TooManySamples { samples: usize, max: usize },
    #[error("reach_within_min ({reach_within}) must not be after hold_until_min ({hold_until})")]
    ReachAfterHold { reach_within: f64, hold_until: f64 },
    #[error(
        "the effect-site target of {target} ng/mL cannot be reached by {hold_until} min: {binding}; \
         the highest effect-site concentration the plan can reach without passing 110 % of the \
         target is {highest:.1} ng/mL (the target counts as reached at 90 %)"
    )]
    Unreachable {
        target: f64,
        hold_until: f64,
        highest: f64,
        binding: BindingLimit,
    },
    #[error(
        "the effect-site target of {target} ng/mL is reached at {reached_at:.2} min but cannot be \
         held within ±10 % until {hold_until} min (it leaves the range at {leaves_at:.2} min at \
         {concentration:.1} ng/mL): {binding}"
    )]
    CannotHold {
        target: f64,
        reached_at: f64,
        hold_until: f64,
        leaves_at: f64,
        concentration: f64,
        binding: BindingLimit,
    },
    #[error(transparent)]
    Simulation(#[from] SimulationError),
    /// Unreachable: the planner's doses are built within the simulator's sanity limits.
    #[error("internal: the planned doses were refused: {0}")]
    Dose(#[from] DoseError),
    /// Unreachable: a plan has at most a few hundred doses.
    #[error("internal: the planned doses were refused: {0}")]
    Plan(#[from] PlanError),
    /// Unreachable: every quantity is checked before it is built.
    #[error("internal: {0}")]
    Quantity(#[from] QuantityError),
}

/// The limit that keeps a plan from meeting its target, as found by lifting each in turn.
#[derive(Debug, Clone, PartialEq)]
pub enum BindingLimit {
    Bolus {
        limit: MgPerKg,
        mg: Milligrams,
    },
    Rate {
        limit: MgPerKgPerHour,
        mg_per_h: MgPerHour,
    },
    /// Lifting either one alone is enough.
    BolusOrRate {
        bolus: MgPerKg,
        rate: MgPerKgPerHour,
    },
    /// Only lifting both together is enough.
    BolusAndRate {
        bolus: MgPerKg,
        rate: MgPerKgPerHour,
    },
    /// Not the dose limits: rate changes this far apart cannot keep the effect site within ±10 %
    /// without passing the ceiling.
    RateChangeInterval {
        interval: ElapsedMinutes,
    },
}

/// Something the clinician must read beside the plan.
#[derive(Debug, Clone, PartialEq)]
pub enum TargetWarning {
    /// The limits do not allow reaching the target in time; the plan reaches it as early as
    /// they allow.
    ReachedLate {
        reached_at: ElapsedMinutes,
        reach_within: ElapsedMinutes,
        binding: BindingLimit,
    },
}

/// A proposed plan, its simulation and what it achieves.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetPlan {
    /// The loading bolus (instantaneous, at minute 0) and the rate segments, in time order.
    pub plan: DosingPlan,
    /// The plan simulated afresh from `plan` (until the end of the hold).
    pub simulation: Simulation,
    /// The first sample from which the effect site stays within ±10 % of the target until the
    /// end of the hold.
    pub reached_at: ElapsedMinutes,
    pub warnings: Vec<TargetWarning>,
}

impl EffectSiteTarget {
    /// A target from typed quantities; checks the ranges and that the reach time lies within the
    /// hold.
    pub fn new(
        concentration: NanogramsPerMillilitre,
        reach_within: ElapsedMinutes,
        hold_until: ElapsedMinutes,
        min_rate_change_interval: ElapsedMinutes,
        limits: DoseLimits,
    ) -> Result<EffectSiteTarget, TargetError> {
        check_range(
            "target_effect_ng_ml",
            concentration.0,
            f64::MIN_POSITIVE,
            MAX_TARGET_NG_ML,
        )?;
        check_range(
            "hold_until_min",
            hold_until.value(),
            f64::MIN_POSITIVE,
            crate::plan::MAX_TIME_MIN,
        )?;
        check_range(
            "reach_within_min",
            reach_within.value(),
            0.0,
            crate::plan::MAX_TIME_MIN,
        )?;
        if reach_within.value() > hold_until.value() {
            return Err(TargetError::ReachAfterHold {
                reach_within: reach_within.value(),
                hold_until: hold_until.value(),
            });
        }
        check_range(
            "min_rate_change_interval_min",
            min_rate_change_interval.value(),
            MIN_RATE_CHANGE_INTERVAL_MIN,
            crate::plan::MAX_TIME_MIN,
        )?;
        Ok(EffectSiteTarget {
            concentration,
            reach_within,
            hold_until,
            min_rate_change_interval,
            limits,
        })
    }

    /// From plain numbers (the JSON edge), each checked under its field name.
    pub fn from_numbers(
        target_effect_ng_ml: f64,
        reach_within_min: f64,
        hold_until_min: f64,
        min_rate_change_interval_min: f64,
        bolus_mg_per_kg: f64,
        rate_mg_per_kg_per_h: f64,
    ) -> Result<EffectSiteTarget, TargetError> {
        check_range(
            "target_effect_ng_ml",
            target_effect_ng_ml,
            f64::MIN_POSITIVE,
            MAX_TARGET_NG_ML,
        )?;
        let time = |field, value| {
            check_range(field, value, 0.0, crate::plan::MAX_TIME_MIN)?;
            Ok::<_, TargetError>(ElapsedMinutes::literal(value))
        };
        let reach_within = time("reach_within_min", reach_within_min)?;
        let hold_until = time("hold_until_min", hold_until_min)?;
        let interval = time("min_rate_change_interval_min", min_rate_change_interval_min)?;
        // Per kg, a bolus above 10 g for 100 kg or a rate above 10 g/h is a unit error.
        check_range("limits.bolus_mg_per_kg", bolus_mg_per_kg, 0.0, 100.0)?;
        check_range(
            "limits.rate_mg_per_kg_per_h",
            rate_mg_per_kg_per_h,
            0.0,
            100.0,
        )?;
        EffectSiteTarget::new(
            NanogramsPerMillilitre(target_effect_ng_ml),
            reach_within,
            hold_until,
            interval,
            DoseLimits {
                bolus: MgPerKg::literal(bolus_mg_per_kg),
                rate: MgPerKgPerHour::literal(rate_mg_per_kg_per_h),
            },
        )
    }

    pub fn concentration(&self) -> NanogramsPerMillilitre {
        self.concentration
    }

    pub fn reach_within(&self) -> ElapsedMinutes {
        self.reach_within
    }

    pub fn hold_until(&self) -> ElapsedMinutes {
        self.hold_until
    }

    pub fn min_rate_change_interval(&self) -> ElapsedMinutes {
        self.min_rate_change_interval
    }

    pub fn limits(&self) -> DoseLimits {
        self.limits
    }
}

/// Propose a loading bolus and rate schedule for `target`, sampled every `step` with ke0 from
/// `time_to_peak` (as `simulate`); the simulation runs until the end of the hold.
pub fn propose_plan(
    model: Model,
    patient: &Patient,
    target: &EffectSiteTarget,
    step: Seconds,
    time_to_peak: ElapsedMinutes,
) -> Result<TargetPlan, TargetError> {
    let settings = SimulationSettings {
        until: target.hold_until,
        step,
        time_to_peak,
    };
    let grid = settings.grid()?;
    if grid.samples > MAX_TARGET_SAMPLES {
        return Err(TargetError::TooManySamples {
            samples: grid.samples,
            max: MAX_TARGET_SAMPLES,
        });
    }
    let compartments =
        CompartmentModel::new(&model.parameters(patient)).map_err(SimulationError::from)?;
    let ke0 = compartments
        .ke0_for_time_to_peak(time_to_peak)
        .map_err(SimulationError::from)?;
    let responses = UnitResponses::new(&compartments, ke0.0, grid, target.hold_until.value())?;
    let problem = Problem::new(target, patient, grid, &responses);

    let schedule = problem.schedule(target.limits);
    let plan = schedule.to_plan(&problem)?;
    let simulation = simulate(model, patient, &plan, &settings)?;
    let verdict = problem.check(&simulation.concentrations.effect_ng_ml);
    let reached = match verdict {
        Verdict::NeverReached { highest } => {
            return Err(TargetError::Unreachable {
                target: target.concentration.0,
                hold_until: target.hold_until.value(),
                highest,
                binding: problem.binding_limit(target, |verdict| {
                    !matches!(verdict, Verdict::NeverReached { .. })
                }),
            });
        }
        Verdict::NotHeld {
            reached,
            leaves,
            concentration,
        } => {
            return Err(TargetError::CannotHold {
                target: target.concentration.0,
                reached_at: problem.time(reached),
                hold_until: target.hold_until.value(),
                leaves_at: problem.time(leaves),
                concentration,
                binding: problem
                    .binding_limit(target, |verdict| matches!(verdict, Verdict::Held { .. })),
            });
        }
        Verdict::Held { reached } => reached,
    };
    let reached_at = ElapsedMinutes::literal(problem.time(reached));
    let mut warnings = Vec::new();
    if reached > problem.reach_index {
        warnings.push(TargetWarning::ReachedLate {
            reached_at,
            reach_within: target.reach_within,
            binding: problem.binding_limit(target, |verdict| {
                matches!(verdict, Verdict::Held { reached } if reached <= problem.reach_index)
            }),
        });
    }
    Ok(TargetPlan {
        plan,
        simulation,
        reached_at,
        warnings,
    })
}

impl std::fmt::Display for BindingLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BindingLimit::Bolus { limit, mg } => write!(
                f,
                "the bolus limit limits.bolus_mg_per_kg = {} ({mg} for this patient) binds",
                limit.value()
            ),
            BindingLimit::Rate { limit, mg_per_h } => write!(
                f,
                "the rate limit limits.rate_mg_per_kg_per_h = {} ({mg_per_h} for this patient) binds",
                limit.value()
            ),
            BindingLimit::BolusOrRate { bolus, rate } => write!(
                f,
                "the bolus limit limits.bolus_mg_per_kg = {} and the rate limit \
                 limits.rate_mg_per_kg_per_h = {} bind (raising either would do)",
                bolus.value(),
                rate.value()
            ),
            BindingLimit::BolusAndRate { bolus, rate } => write!(
                f,
                "the bolus limit limits.bolus_mg_per_kg = {} and the rate limit \
                 limits.rate_mg_per_kg_per_h = {} bind together (both would have to rise)",
                bolus.value(),
                rate.value()
            ),
            BindingLimit::RateChangeInterval { interval } => write!(
                f,
                "min_rate_change_interval_min = {} binds: constant rates held that long cannot \
                 keep the effect site within ±10 % of the target without passing 110 %",
                interval.value()
            ),
        }
    }
}

impl std::fmt::Display for TargetWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TargetWarning::ReachedLate {
                reached_at,
                reach_within,
                binding,
            } => write!(
                f,
                "target reached at {:.2} min, later than reach_within_min = {}: {binding}; the \
                 plan reaches it as early as the limits allow",
                reached_at.value(),
                reach_within.value()
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------------

/// Effect-site responses on the grid to a 1 mg bolus at 0 and to 1 mg/min from 0 (step 1).
struct UnitResponses {
    bolus: Vec<f64>,
    rate: Vec<f64>,
}

impl UnitResponses {
    fn new(
        compartments: &CompartmentModel,
        ke0: f64,
        grid: Grid,
        until: f64,
    ) -> Result<UnitResponses, TargetError> {
        let unit = |dose: Dose| -> Result<Vec<f64>, TargetError> {
            let plan = DosingPlan::new(vec![dose])?;
            Ok(compartments.simulate(ke0, &plan, grid).effect_ng_ml)
        };
        let start = ElapsedMinutes::literal(0.0);
        let bolus = unit(Dose::amount(start, start, Milligrams::literal(1.0))?)?;
        // Runs past the last sample, so that it is a step response on the whole grid.
        let rate = unit(Dose::rate(
            start,
            ElapsedMinutes::new(until + 1.0)?,
            MgPerHour::literal(60.0),
        )?)?;
        Ok(UnitResponses { bolus, rate })
    }
}

/// The planning problem in grid indices.
struct Problem<'a> {
    responses: &'a UnitResponses,
    weight_kg: f64,
    step_min: f64,
    hold_until_min: f64,
    /// The last sample index (samples 0..=last).
    last: usize,
    /// First sample at or after reach_within.
    reach_index: usize,
    /// Segment starts (sample indices); segment j runs to starts[j + 1], the last to the end.
    starts: Vec<usize>,
    target: f64,
    /// Planning bounds (inside the guarantees by the margin).
    aim_high: f64,
    aim_low: f64,
    /// The guarantees.
    ceiling: f64,
    floor: f64,
}

/// A planned bolus (mg) and rate per segment (mg/min).
#[derive(Debug, Clone)]
struct Schedule {
    bolus_mg: f64,
    rates_mg_per_min: Vec<f64>,
}

/// What a simulated effect-site curve achieves.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Verdict {
    NeverReached {
        highest: f64,
    },
    NotHeld {
        reached: usize,
        leaves: usize,
        concentration: f64,
    },
    Held {
        reached: usize,
    },
}

impl<'a> Problem<'a> {
    fn new(
        target: &EffectSiteTarget,
        patient: &Patient,
        grid: Grid,
        responses: &'a UnitResponses,
    ) -> Problem<'a> {
        let h = grid.step_min;
        let last = grid.samples.saturating_sub(1);
        let reach_index = ((target.reach_within.value() / h - TIME_TOLERANCE_MIN)
            .ceil()
            .max(0.0) as usize)
            .min(last);
        let stride = ((target.min_rate_change_interval.value() / h - TIME_TOLERANCE_MIN).ceil()
            as usize)
            .max(1);
        // Changes at multiples of the stride; the stop at the end of the hold must also come a
        // whole interval after the last change, so a short last piece joins the one before.
        let hold_index = target.hold_until.value() / h;
        let mut starts = vec![0usize];
        let mut next = stride;
        while (next + stride) as f64 <= hold_index + TIME_TOLERANCE_MIN {
            starts.push(next);
            next += stride;
        }
        let c = target.concentration.0;
        Problem {
            responses,
            weight_kg: patient.weight().value(),
            step_min: h,
            hold_until_min: target.hold_until.value(),
            last,
            reach_index,
            starts,
            target: c,
            aim_high: c * (CEILING_SHARE - PLANNING_MARGIN_SHARE),
            aim_low: c * (FLOOR_SHARE + PLANNING_MARGIN_SHARE),
            ceiling: c * CEILING_SHARE,
            floor: c * FLOOR_SHARE,
        }
    }

    fn time(&self, index: usize) -> f64 {
        index as f64 * self.step_min
    }

    /// Segment j as sample indices [start, end]: the rate acts on samples start+1..=end (end is
    /// the next segment's start, or the last sample).
    fn segment(&self, j: usize) -> (usize, usize) {
        let start = self.starts[j];
        let end = self.starts.get(j + 1).copied().unwrap_or(self.last);
        (start, end.min(self.last))
    }

    /// Coefficient of segment j's rate in Ce at sample i: g(i − start) − g(i − end).
    fn coefficient(&self, j: usize, i: usize) -> f64 {
        let g = &self.responses.rate;
        let start = self.starts[j];
        if i <= start {
            return 0.0;
        }
        let on = g[i - start];
        match self.starts.get(j + 1) {
            Some(&end) if i > end => on - g[i - end],
            _ => on,
        }
    }

    /// Steps 3–4 for `limits`: the bolus by candidates and refinement, then every segment.
    fn plan(&self, limits: DoseLimits, floor_from: usize) -> Schedule {
        let bolus_limit = limits.bolus.value() * self.weight_kg;
        let rate_limit = limits.rate.value() * self.weight_kg / 60.0;
        let peak = self.responses.bolus.iter().fold(0.0_f64, |m, &v| m.max(v));
        let largest = if peak > 0.0 {
            (self.aim_high / peak).min(bolus_limit)
        } else {
            0.0
        };
        // Compare candidates over the segments up to the reach time and a few after it.
        let reach_segment = self
            .starts
            .iter()
            .rposition(|&start| start < floor_from.max(1))
            .unwrap_or(0);
        let compared = (reach_segment + 1 + SEGMENTS_COMPARED_AFTER_REACH).min(self.starts.len());
        let score = |bolus: f64| {
            let schedule = self.segments(bolus, rate_limit, compared, floor_from);
            self.score(&schedule, compared, floor_from)
        };
        let candidates: Vec<f64> = (0..BOLUS_CANDIDATES)
            .map(|k| largest * (1.0 - k as f64 / (BOLUS_CANDIDATES - 1) as f64))
            .collect();
        let scores: Vec<Score> = candidates.iter().map(|&bolus| score(bolus)).collect();
        let mut best = 0;
        for k in 1..candidates.len() {
            if scores[k] < scores[best] {
                best = k;
            }
        }
        // Refine between the neighbours of the best candidate (ternary search on the score).
        let mut low = candidates[(best + 1).min(candidates.len() - 1)];
        let mut high = candidates[best.saturating_sub(1)];
        let (mut best_bolus, mut best_score) = (candidates[best], scores[best]);
        for _ in 0..BOLUS_REFINEMENTS {
            let a = low + (high - low) / 3.0;
            let b = high - (high - low) / 3.0;
            let (score_a, score_b) = (score(a), score(b));
            for (bolus, s) in [(a, score_a), (b, score_b)] {
                if s < best_score {
                    (best_bolus, best_score) = (bolus, s);
                }
            }
            if score_a < score_b {
                high = b;
            } else {
                low = a;
            }
        }
        self.segments(best_bolus, rate_limit, self.starts.len(), floor_from)
    }

    /// Step 3 for the first `count` segments after a bolus of `bolus_mg`.
    fn segments(
        &self,
        bolus_mg: f64,
        rate_limit: f64,
        count: usize,
        floor_from: usize,
    ) -> Schedule {
        let horizon = self.segment(count - 1).1;
        let mut effect: Vec<f64> = self.responses.bolus[..=horizon]
            .iter()
            .map(|b| bolus_mg * b)
            .collect();
        let mut rates = Vec::with_capacity(count);
        for j in 0..count {
            let rate = self.choose_rate(j, &effect, rate_limit, horizon, floor_from);
            for (i, value) in effect.iter_mut().enumerate().skip(self.starts[j] + 1) {
                *value += rate * self.coefficient(j, i);
            }
            rates.push(rate);
        }
        Schedule {
            bolus_mg,
            rates_mg_per_min: rates,
        }
    }

    /// The rate of segment j given the effect site `effect` of everything before it (step 3).
    fn choose_rate(
        &self,
        j: usize,
        effect: &[f64],
        rate_limit: f64,
        horizon: usize,
        floor_from: usize,
    ) -> f64 {
        let (start, end) = self.segment(j);
        let next_end = if j + 1 < self.starts.len() {
            self.segment(j + 1).1.min(horizon)
        } else {
            end
        };
        let g = &self.responses.rate;
        // Least squares over the segment's samples from the reach time on (or its end alone,
        // before the reach time): Σ c·(T − e) / Σ c².
        let (mut numerator, mut denominator) = (0.0, 0.0);
        let from = (start + 1).max(floor_from.min(end));
        for (i, &e) in effect.iter().enumerate().take(end + 1).skip(from) {
            let c = self.coefficient(j, i);
            numerator += c * (self.target - e);
            denominator += c * c;
        }
        let least_squares = if denominator > 0.0 {
            numerator / denominator
        } else {
            0.0
        };
        let (mut high, mut low) = (rate_limit, 0.0_f64);
        let (mut ahead_high, mut ahead_low) = (f64::INFINITY, f64::NEG_INFINITY);
        for i in start + 1..=next_end {
            let c = self.coefficient(j, i);
            if c <= 0.0 {
                continue;
            }
            let in_segment = i <= end;
            // Ceiling: e + r·c ≤ aim_high (in the next segment with its pump stopped).
            let most = (self.aim_high - effect[i]) / c;
            // Floor from the reach time on (in the next segment with its pump at the limit).
            let boost = if in_segment {
                0.0
            } else {
                rate_limit * g[i - end]
            };
            let least = (self.aim_low - effect[i] - boost) / c;
            if in_segment {
                high = high.min(most);
                if i >= floor_from {
                    low = low.max(least);
                }
            } else {
                ahead_high = ahead_high.min(most);
                if i >= floor_from {
                    ahead_low = ahead_low.max(least);
                }
            }
        }
        let high = high.max(0.0);
        if low > high {
            // The floor cannot be met within the ceiling: the ceiling wins, and the highest
            // rate under it reaches the target earliest.
            return high;
        }
        let (both_low, both_high) = (low.max(ahead_low), high.min(ahead_high));
        let (low, high) = if both_low <= both_high {
            (both_low, both_high)
        } else if low <= high.min(ahead_high) {
            (low, high.min(ahead_high))
        } else {
            (low, high)
        };
        least_squares.clamp(low, high)
    }

    /// How good a (partial) schedule is, smaller better (step 4).
    fn score(&self, schedule: &Schedule, count: usize, floor_from: usize) -> Score {
        let horizon = self.segment(count - 1).1;
        let mut effect: Vec<f64> = self.responses.bolus[..=horizon]
            .iter()
            .map(|b| schedule.bolus_mg * b)
            .collect();
        for (j, rate) in schedule.rates_mg_per_min.iter().enumerate() {
            for (i, value) in effect.iter_mut().enumerate().skip(self.starts[j] + 1) {
                *value += rate * self.coefficient(j, i);
            }
        }
        let above = effect.iter().any(|&e| e > self.aim_high * (1.0 + 1e-9));
        let reached = effect
            .iter()
            .position(|&e| e >= self.aim_low)
            .unwrap_or(usize::MAX);
        let from = reached.max(floor_from);
        let mut below = false;
        let mut squares = 0.0;
        for &e in effect.iter().skip(from) {
            below |= e < self.aim_low * (1.0 - 1e-9);
            squares += (e - self.target) * (e - self.target);
        }
        Score {
            above,
            late: from,
            below,
            squares,
        }
    }

    /// Step 6 (and 5): what an effect-site curve achieves against the guarantees. The target is
    /// reached at the first sample from which Ce stays within ±10 % until the end of the hold
    /// (a transient crossing before a dip does not count), and Ce is never above the ceiling.
    fn check(&self, effect: &[f64]) -> Verdict {
        self.check_within(effect, self.floor, self.ceiling)
    }

    /// As `check`, against the planner's own bounds (inside the guarantees by the margin), so
    /// that a plan judged good before rounding stays good after it.
    fn check_planned(&self, effect: &[f64]) -> Verdict {
        self.check_within(effect, self.aim_low, self.aim_high * (1.0 + 1e-9))
    }

    fn check_within(&self, effect: &[f64], floor: f64, ceiling: f64) -> Verdict {
        let Some(first) = effect.iter().position(|&e| e >= floor) else {
            return Verdict::NeverReached {
                highest: effect.iter().fold(0.0_f64, |m, &v| m.max(v)),
            };
        };
        if let Some(above) = effect.iter().position(|&e| e > ceiling) {
            return Verdict::NotHeld {
                reached: first,
                leaves: above,
                concentration: effect[above],
            };
        }
        match effect.iter().rposition(|&e| e < floor) {
            // Below the floor at the end: reached (at `first`) but not held.
            Some(below) if below + 1 == effect.len() => {
                let leaves = (first..effect.len())
                    .find(|&i| effect[i] < floor)
                    .unwrap_or(below);
                Verdict::NotHeld {
                    reached: first,
                    leaves,
                    concentration: effect[leaves],
                }
            }
            Some(below) => Verdict::Held { reached: below + 1 },
            None => Verdict::Held { reached: 0 },
        }
    }

    /// The schedule for `limits`: planned with the floor from the reach time, or, when that plan
    /// does not reach and hold the target in time, from the earliest later time for which it does
    /// (bisection on the time): the target reached as early as the limits allow.
    fn schedule(&self, limits: DoseLimits) -> Schedule {
        let holds_from = |floor_from: usize| {
            let schedule = self.plan(limits, floor_from);
            let held = matches!(
                self.check_planned(&self.predict(&schedule)),
                Verdict::Held { reached } if reached <= floor_from
            );
            (schedule, held)
        };
        let (schedule, held) = holds_from(self.reach_index);
        if held {
            return schedule;
        }
        let (last_schedule, last_held) = holds_from(self.last);
        if !last_held {
            return schedule;
        }
        let (mut low, mut high, mut found) = (self.reach_index, self.last, last_schedule);
        while high - low > 1 {
            let middle = low + (high - low) / 2;
            let (schedule, held) = holds_from(middle);
            if held {
                (high, found) = (middle, schedule);
            } else {
                low = middle;
            }
        }
        found
    }

    /// The effect site of `schedule` on the whole grid (exact at the samples, unrounded doses).
    fn predict(&self, schedule: &Schedule) -> Vec<f64> {
        let mut effect: Vec<f64> = self.responses.bolus[..=self.last]
            .iter()
            .map(|b| schedule.bolus_mg * b)
            .collect();
        for (j, rate) in schedule.rates_mg_per_min.iter().enumerate() {
            for (i, value) in effect.iter_mut().enumerate().skip(self.starts[j] + 1) {
                *value += rate * self.coefficient(j, i);
            }
        }
        effect
    }

    /// The verdict of planning with `limits`, predicted on the grid (no rounding).
    fn predicted_verdict(&self, limits: DoseLimits) -> Verdict {
        let schedule = self.schedule(limits);
        self.check_planned(&self.predict(&schedule))
    }

    /// Which limit keeps the plan from `good`: lift the bolus limit, the rate limit, then both.
    fn binding_limit(
        &self,
        target: &EffectSiteTarget,
        good: impl Fn(Verdict) -> bool,
    ) -> BindingLimit {
        let limits = target.limits;
        let lifted_bolus = MgPerKg::literal(limits.bolus.value().max(LIFTED_BOLUS_MG_PER_KG));
        let lifted_rate =
            MgPerKgPerHour::literal(limits.rate.value().max(LIFTED_RATE_MG_PER_KG_PER_H));
        let bolus_lifted = good(self.predicted_verdict(DoseLimits {
            bolus: lifted_bolus,
            rate: limits.rate,
        }));
        let rate_lifted = good(self.predicted_verdict(DoseLimits {
            bolus: limits.bolus,
            rate: lifted_rate,
        }));
        match (bolus_lifted, rate_lifted) {
            (true, false) => BindingLimit::Bolus {
                limit: limits.bolus,
                mg: Milligrams::literal(limits.bolus.value() * self.weight_kg),
            },
            (false, true) => BindingLimit::Rate {
                limit: limits.rate,
                mg_per_h: MgPerHour::literal(limits.rate.value() * self.weight_kg),
            },
            (true, true) => BindingLimit::BolusOrRate {
                bolus: limits.bolus,
                rate: limits.rate,
            },
            (false, false) => {
                let both = good(self.predicted_verdict(DoseLimits {
                    bolus: lifted_bolus,
                    rate: lifted_rate,
                }));
                if both {
                    BindingLimit::BolusAndRate {
                        bolus: limits.bolus,
                        rate: limits.rate,
                    }
                } else {
                    BindingLimit::RateChangeInterval {
                        interval: target.min_rate_change_interval,
                    }
                }
            }
        }
    }
}

/// Candidate ranking (step 4): below the ceiling first, then reached earliest (up to the reach
/// time), then held above the floor, then closest to the target.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Score {
    above: bool,
    late: usize,
    below: bool,
    squares: f64,
}

impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Score) -> Option<std::cmp::Ordering> {
        Some(
            (self.above, self.late, self.below)
                .cmp(&(other.above, other.late, other.below))
                .then(self.squares.total_cmp(&other.squares)),
        )
    }
}

impl Schedule {
    /// The doses, rounded (0.01 mg, 0.01 mg/h, never above a limit); equal neighbouring rates
    /// are merged and zero rates left out.
    fn to_plan(&self, problem: &Problem<'_>) -> Result<DosingPlan, TargetError> {
        let mut doses = Vec::new();
        let bolus = round_down_to_hundredths(self.bolus_mg);
        if bolus > 0.0 {
            let zero = ElapsedMinutes::literal(0.0);
            doses.push(Dose::amount(zero, zero, Milligrams::new(bolus)?)?);
        }
        let rates: Vec<f64> = self
            .rates_mg_per_min
            .iter()
            .map(|rate| round_down_to_hundredths(rate * 60.0))
            .collect();
        let mut j = 0;
        while j < rates.len() {
            let mut k = j + 1;
            while k < rates.len() && rates[k] == rates[j] {
                k += 1;
            }
            if rates[j] > 0.0 {
                let start = problem.time(problem.starts[j]);
                let end = match problem.starts.get(k) {
                    Some(&next) => problem.time(next),
                    None => problem.hold_until_min,
                };
                doses.push(Dose::rate(
                    ElapsedMinutes::new(start)?,
                    ElapsedMinutes::new(end - start)?,
                    MgPerHour::new(rates[j])?,
                )?);
            }
            j = k;
        }
        Ok(DosingPlan::new(doses)?)
    }
}

/// Rounded to 0.01 (mg or mg/h) towards zero, so that rounding never passes a limit.
fn round_down_to_hundredths(value: f64) -> f64 {
    ((value * 100.0) + 1e-9).floor().max(0.0) / 100.0
}

fn check_range(field: &'static str, value: f64, min: f64, max: f64) -> Result<(), TargetError> {
    if !value.is_finite() {
        return Err(TargetError::NotFinite { field, value });
    }
    if !(min <= value && value <= max) {
        return Err(TargetError::OutOfRange {
            field,
            min,
            max,
            value,
        });
    }
    Ok(())
}
