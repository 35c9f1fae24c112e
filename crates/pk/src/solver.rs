//! The exact solution of the linear compartment model for piecewise-constant input.
//!
//! After a unit bolus the central concentration of a mammillary model is a sum of exponentials,
//! C(t) = Σ A_i·e^(−λ_i·t), with λ_i the eigenvalues of the rate matrix. We carry one state c_i per
//! exponential ("mode"), so that plasma = Σ c_i and, for a constant input u over a step h,
//!
//!   c_i(t+h) = e^(−λ_i h)·c_i(t) + A_i·u·(1 − e^(−λ_i h))/λ_i,
//!
//! which is exact. The effect site obeys dCe/dt = ke0·(Cp − Ce); integrating it exactly against
//! each mode gives Ce(t+h) = p·Ce(t) + Σ q_i·c_i(t) + r·u, with p = e^(−ke0 h),
//! q_i = ke0·(e^(−λ_i h) − e^(−ke0 h))/(ke0 − λ_i) and r the effect-site response to the input
//! alone. For a fixed step the factors are computed once, so a step costs 6 multiply-adds and two
//! adds for three compartments with the effect site: the arithmetic floor of pk-models.md.
//! Integration is split at every dose start and end and at every sample.

use crate::plan::DosingPlan;
use crate::units::{ElapsedMinutes, PerMinute};
use crate::Parameters;

/// Three modes always: a model with fewer compartments has modes with a zero coefficient, so the
/// hot loop has no branches and the same cost for every model.
const MODES: usize = 3;

/// Samples nearer than this to a dose start or end (in minutes; 60 ns) are taken to be at it, so
/// that a step of 10 s lands on a dose at 1 min despite 1/6 not being exact in binary.
const TIME_TOLERANCE_MIN: f64 = 1e-9;

/// Why a set of parameters cannot be simulated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParameterError {
    #[error("{field} must be a finite number, got {value}")]
    NotFinite { field: &'static str, value: f64 },
    #[error("{field} must be greater than 0, got {value}")]
    NotPositive { field: &'static str, value: f64 },
    #[error("{field} must not be negative, got {value}")]
    Negative { field: &'static str, value: f64 },
    #[error("{into} and {back} must both be zero or both be positive (a compartment drug can enter but never leave, or the reverse)")]
    UnpairedRates {
        into: &'static str,
        back: &'static str,
    },
    #[error("the model's exponents are too close to one another to separate (degenerate model, e.g. two identical peripheral compartments); merge the compartments")]
    Degenerate,
}

/// Why a ke0 could not be derived from a time to peak effect.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Ke0Error {
    #[error("t_peak_min must be a finite number between {min} and {max} minutes, got {value}")]
    TimeToPeakOutOfRange { min: f64, max: f64, value: f64 },
    #[error("no ke0 between {min} and {max} per minute gives a peak effect at {t_peak} min")]
    NotFound { min: f64, max: f64, t_peak: f64 },
}

/// Accepted times to peak effect site concentration after a bolus.
pub const TIME_TO_PEAK_LIMITS_MIN: (f64, f64) = (0.05, 60.0);

/// The modal form of a model for one patient: exponents and their plasma coefficients.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompartmentModel {
    /// Exponents λ_i, per minute, all positive.
    lambda: [f64; MODES],
    /// Plasma concentration contributed by each mode after a 1 mg bolus, ng/mL; all positive for a
    /// mammillary model, zero for unused modes.
    coefficient: [f64; MODES],
}

/// Concentrations at each sample time t = k·step_min, k = 0, 1, … (the times are not stored: they
/// would be a third of the memory the hot loop writes).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Concentrations {
    pub step_min: f64,
    pub plasma_ng_ml: Vec<f64>,
    pub effect_ng_ml: Vec<f64>,
}

impl Concentrations {
    /// The sample times in minutes.
    pub fn times_min(&self) -> Vec<f64> {
        (0..self.plasma_ng_ml.len())
            .map(|k| k as f64 * self.step_min)
            .collect()
    }
}

/// Sampling grid t = k·step for k = 0..samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Grid {
    pub step_min: f64,
    pub samples: usize,
}

impl CompartmentModel {
    pub fn new(parameters: &Parameters) -> Result<CompartmentModel, ParameterError> {
        let Parameters {
            v1,
            k10,
            k12,
            k13,
            k21,
            k31,
        } = *parameters;
        for (field, value) in [
            ("v1", v1.0),
            ("k10", k10.0),
            ("k12", k12.0),
            ("k13", k13.0),
            ("k21", k21.0),
            ("k31", k31.0),
        ] {
            if !value.is_finite() {
                return Err(ParameterError::NotFinite { field, value });
            }
            if value < 0.0 {
                return Err(ParameterError::Negative { field, value });
            }
        }
        if v1.0 <= 0.0 {
            return Err(ParameterError::NotPositive {
                field: "v1",
                value: v1.0,
            });
        }
        if k10.0 <= 0.0 {
            return Err(ParameterError::NotPositive {
                field: "k10",
                value: k10.0,
            });
        }
        let mut peripheral = Vec::with_capacity(2);
        for (into, back, k_in, k_out) in
            [("k12", "k21", k12.0, k21.0), ("k13", "k31", k13.0, k31.0)]
        {
            match (k_in > 0.0, k_out > 0.0) {
                (true, true) => peripheral.push((k_in, k_out)),
                (false, false) => {}
                _ => return Err(ParameterError::UnpairedRates { into, back }),
            }
        }
        let lambda_found = exponents(k10.0, &peripheral);
        // Coefficients of the central response (e.g. Gibaldi & Perrier, Pharmacokinetics, 2nd ed.):
        // A_i = Π_j (k_j1 − λ_i) / Π_{m≠i} (λ_m − λ_i) / V1, in ng/mL per mg (1 mg/L = 1000 ng/mL).
        let ng_ml_per_mg = 1000.0 / v1.0;
        let mut lambda = [1.0; MODES];
        let mut coefficient = [0.0; MODES];
        let scale = lambda_found.iter().fold(0.0_f64, |m, &l| m.max(l));
        for (i, &li) in lambda_found.iter().enumerate() {
            let mut numerator = 1.0;
            for &(_, k_out) in &peripheral {
                numerator *= k_out - li;
            }
            let mut denominator = 1.0;
            for (m, &lm) in lambda_found.iter().enumerate() {
                if m != i {
                    if (lm - li).abs() <= 1e-9 * scale {
                        return Err(ParameterError::Degenerate);
                    }
                    denominator *= lm - li;
                }
            }
            let a = numerator / denominator * ng_ml_per_mg;
            if !(li.is_finite() && li > 0.0 && a.is_finite() && a > 0.0) {
                return Err(ParameterError::Degenerate);
            }
            lambda[i] = li;
            coefficient[i] = a;
        }
        Ok(CompartmentModel {
            lambda,
            coefficient,
        })
    }

    /// Exponents (per minute) of the modes in use.
    pub fn exponents(&self) -> Vec<PerMinute> {
        self.used_modes()
            .map(|i| PerMinute(self.lambda[i]))
            .collect()
    }

    fn used_modes(&self) -> impl Iterator<Item = usize> + '_ {
        (0..MODES).filter(|&i| self.coefficient[i] > 0.0)
    }

    /// The ke0 for which the effect site peaks `t_peak` after a bolus (the rule opentiva uses for
    /// every ketamine model: no paper publishes a ketamine ke0). At the peak dCe/dt = ke0·(Cp − Ce)
    /// = 0; plasma falls monotonically after a bolus, so the peak comes before `t_peak` exactly
    /// when Ce(t_peak) > Cp(t_peak). That sign is monotone in ke0: bisect on it.
    pub fn ke0_for_time_to_peak(&self, t_peak: ElapsedMinutes) -> Result<PerMinute, Ke0Error> {
        let (min_t, max_t) = TIME_TO_PEAK_LIMITS_MIN;
        let t = t_peak.value();
        if !(t.is_finite() && min_t <= t && t <= max_t) {
            return Err(Ke0Error::TimeToPeakOutOfRange {
                min: min_t,
                max: max_t,
                value: t,
            });
        }
        let (lowest, highest) = (1e-6, 1e4);
        let modes: Vec<(f64, f64, f64)> = self
            .used_modes()
            .map(|i| {
                let (a, l) = (self.coefficient[i], self.lambda[i]);
                (a, l, (-l * t).exp())
            })
            .collect();
        // Ce(t_peak) − Cp(t_peak) after a bolus, for ke0 = e^x: positive when the peak is earlier.
        let effect_minus_plasma = |x: f64| {
            let ke0 = x.exp();
            let decay = (-ke0 * t).exp();
            modes
                .iter()
                .map(|&(a, l, plasma_decay)| {
                    let gap = ke0 - l;
                    let difference = if (gap * t).abs() > 1e-3 {
                        (plasma_decay - decay) / gap
                    } else {
                        difference_of_exponentials(l, ke0, t)
                    };
                    a * (ke0 * difference - plasma_decay)
                })
                .sum::<f64>()
        };
        let not_found = Ke0Error::NotFound {
            min: lowest,
            max: highest,
            t_peak: t,
        };
        let (mut low, mut high) = (lowest.ln(), highest.ln());
        let (mut f_low, mut f_high) = (effect_minus_plasma(low), effect_minus_plasma(high));
        if !(f_low < 0.0 && f_high > 0.0) {
            return Err(not_found);
        }
        // Bisection (in log ke0) until the bracket is within 1 %, where the function is smooth and
        // monotone; then the Illinois variant of regula falsi, which keeps the bracket.
        while high - low > 0.01 {
            let middle = 0.5 * (low + high);
            let f = effect_minus_plasma(middle);
            if f > 0.0 {
                (high, f_high) = (middle, f);
            } else {
                (low, f_low) = (middle, f);
            }
        }
        let mut last_side = 0i8;
        for _ in 0..100 {
            if high - low <= 1e-15 * high.abs().max(1.0) {
                break;
            }
            let x = (low * f_high - high * f_low) / (f_high - f_low);
            let x = if low < x && x < high {
                x
            } else {
                0.5 * (low + high)
            };
            let f = effect_minus_plasma(x);
            if f == 0.0 {
                return Ok(PerMinute(x.exp()));
            }
            if f > 0.0 {
                (high, f_high) = (x, f);
                if last_side == 1 {
                    f_low *= 0.5;
                }
                last_side = 1;
            } else {
                (low, f_low) = (x, f);
                if last_side == -1 {
                    f_high *= 0.5;
                }
                last_side = -1;
            }
        }
        let root = if f_high.abs() < f_low.abs() {
            high
        } else {
            low
        };
        Ok(PerMinute(root.exp()))
    }

    /// Plasma and effect-site concentrations on `grid` for `plan`. The plan and grid are already
    /// validated: every number is finite, times are non-negative and bounded.
    pub(crate) fn simulate(&self, ke0: f64, plan: &DosingPlan, grid: Grid) -> Concentrations {
        let mut out = Concentrations::default();
        self.simulate_into(ke0, plan, grid, &mut out);
        out
    }

    /// As `simulate`, reusing the buffers of `out` (no allocation when they are large enough).
    pub(crate) fn simulate_into(
        &self,
        ke0: f64,
        plan: &DosingPlan,
        grid: Grid,
        out: &mut Concentrations,
    ) {
        let samples = grid.samples;
        let h = grid.step_min;
        let sample_time = |k: usize| k as f64 * h;
        let end_time = sample_time(samples.saturating_sub(1));
        out.step_min = h;
        // Every element is overwritten below. A new buffer comes zeroed from the allocator (no
        // memset); a reused one is only extended.
        for buffer in [&mut out.plasma_ng_ml, &mut out.effect_ng_ml] {
            if buffer.capacity() < samples {
                *buffer = vec![0.0; samples];
            } else {
                buffer.truncate(samples);
                buffer.resize(samples, 0.0);
            }
        }
        if samples == 0 {
            return;
        }

        let mut boluses: Vec<(f64, f64)> = plan
            .doses()
            .iter()
            .filter_map(|dose| dose.bolus_mg().map(|mg| (dose.start().value(), mg)))
            .filter(|&(t, _)| t <= end_time + TIME_TOLERANCE_MIN)
            .collect();
        boluses.sort_by(|a, b| a.0.total_cmp(&b.0));
        let infusions: Vec<(f64, f64, f64)> = plan
            .doses()
            .iter()
            .filter_map(|dose| {
                dose.rate_mg_per_min()
                    .map(|rate| (dose.start().value(), dose.end().value(), rate))
            })
            .filter(|&(start, _, _)| start < end_time)
            .collect();

        // Breakpoints: the start and end of the grid and of every dose within it.
        let mut breakpoints = vec![0.0, end_time];
        breakpoints.extend(boluses.iter().map(|&(t, _)| t.min(end_time)));
        for &(start, end, _) in &infusions {
            breakpoints.push(start);
            if end < end_time {
                breakpoints.push(end);
            }
        }
        breakpoints.sort_by(f64::total_cmp);
        breakpoints.dedup();

        let one_step = self.step_factors(ke0, h);
        let lane_step = self.step_factors(ke0, LANES as f64 * h);
        let mut state = State::default();
        let mut recorded = 0usize;
        let mut next_bolus = 0usize;
        for (j, &at) in breakpoints.iter().enumerate() {
            // Right-continuous: a bolus at a sample's time is in that sample.
            while let Some(&(t, mg)) = boluses.get(next_bolus) {
                if t > at + TIME_TOLERANCE_MIN {
                    break;
                }
                for i in 0..MODES {
                    state.c[i] += self.coefficient[i] * mg;
                }
                next_bolus += 1;
            }
            if recorded < samples && sample_time(recorded) <= at + TIME_TOLERANCE_MIN {
                state.record(out, recorded);
                recorded += 1;
            }
            let Some(&until) = breakpoints.get(j + 1) else {
                break;
            };
            let rate: f64 = infusions
                .iter()
                .filter(|&&(start, end, _)| start <= at && until <= end)
                .map(|&(_, _, rate)| rate)
                .sum();
            // Samples strictly inside (at, until): the first after a partial step, then whole steps.
            let first = recorded;
            let last = first_sample_at_or_after(until - TIME_TOLERANCE_MIN, h, first, samples);
            let mut time = at;
            if first < last {
                let partial = self.step_factors_for(ke0, sample_time(first) - at, h, &one_step);
                state.advance(&partial, rate);
                state.record(out, first);
                state.run_uniform(&one_step, &lane_step, rate, out, first + 1..last);
                time = sample_time(last - 1);
                recorded = last;
            }
            if until > time {
                state.advance(
                    &self.step_factors_for(ke0, until - time, h, &one_step),
                    rate,
                );
            }
        }
    }

    /// Exact one-step factors for a step of `h` minutes (see the module comment).
    fn step_factors(&self, ke0: f64, h: f64) -> StepFactors {
        let h = h.max(0.0);
        // e^(−x) − 1 by expm1: accurate for the small exponents of short steps.
        let effect_decay_minus_one = (-ke0 * h).exp_m1();
        let mut factors = StepFactors {
            decay: [1.0; MODES],
            input: [0.0; MODES],
            transfer: [0.0; MODES],
            effect_decay: 1.0 + effect_decay_minus_one,
            effect_input: 0.0,
        };
        for i in self.used_modes() {
            let (a, l) = (self.coefficient[i], self.lambda[i]);
            let decay_minus_one = (-l * h).exp_m1();
            factors.decay[i] = 1.0 + decay_minus_one;
            // A·(1 − e^(−λh))/λ.
            factors.input[i] = a * h * phi_from_expm1(l * h, decay_minus_one);
            // q = ke0·(e^(−λh) − e^(−ke0·h))/(ke0 − λ); the direct quotient loses at most a factor
            // (ke0 + λ)/|ke0 − λ| ≤ 1000 of precision, below which the stable form takes over.
            let gap = ke0 - l;
            let difference = if gap.abs() > 1e-3 * (ke0 + l) {
                (decay_minus_one - effect_decay_minus_one) / gap
            } else {
                difference_of_exponentials(l, ke0, h)
            };
            let q = ke0 * difference;
            factors.transfer[i] = q;
            // The effect-site response to the input alone from c = Ce = 0, which is
            // (A/λ)·(1 − p − q) ≥ 0; clamp the rounding of the subtraction at 0.
            let alone = (-effect_decay_minus_one - q).max(0.0);
            factors.effect_input += a / l * alone;
        }
        factors
    }

    /// Factors for a step of `h`, reusing `one_step` when `h` is the grid step up to rounding
    /// (sample times are k·step, so their differences carry rounding of ~1e-12 relative).
    fn step_factors_for(
        &self,
        ke0: f64,
        h: f64,
        grid_step: f64,
        one_step: &StepFactors,
    ) -> StepFactors {
        if (h - grid_step).abs() <= 1e-9 * grid_step {
            *one_step
        } else {
            self.step_factors(ke0, h)
        }
    }
}

/// φ(x) = (1 − e^(−x))/x from a precomputed e^(−x) − 1.
fn phi_from_expm1(x: f64, expm1_of_minus_x: f64) -> f64 {
    if x < 1e-10 {
        1.0 - 0.5 * x
    } else {
        -expm1_of_minus_x / x
    }
}

/// The smallest k in `from..=samples` with k·h ≥ `time` (`samples` if none).
fn first_sample_at_or_after(time: f64, h: f64, from: usize, samples: usize) -> usize {
    let estimate = (time / h).ceil();
    let mut k = if estimate.is_finite() && estimate > 0.0 {
        (estimate as usize).clamp(from, samples)
    } else {
        from
    };
    // The division may round either way: settle on the exact condition.
    while k > from && (k - 1) as f64 * h >= time {
        k -= 1;
    }
    while k < samples && (k as f64) * h < time {
        k += 1;
    }
    k
}

/// (e^(−λh) − e^(−k h))/(k − λ), stable for k ≈ λ and without overflow for large h:
/// e^(−min h)·h·φ(|k − λ|·h).
fn difference_of_exponentials(lambda: f64, k: f64, h: f64) -> f64 {
    (-lambda.min(k) * h).exp() * h * phi((k - lambda).abs() * h)
}

/// φ(x) = (1 − e^(−x))/x for x ≥ 0, with φ(0) = 1.
fn phi(x: f64) -> f64 {
    if x < 1e-10 {
        1.0 - 0.5 * x
    } else {
        -(-x).exp_m1() / x
    }
}

/// Roots of the characteristic polynomial of the central compartment of a mammillary model, in
/// decreasing order. For one compartment λ = k10; for two the quadratic is solved in its stable
/// form; for three the trigonometric (Viète) solution of the cubic, polished by Newton steps.
fn exponents(k10: f64, peripheral: &[(f64, f64)]) -> Vec<f64> {
    match *peripheral {
        [] => vec![k10],
        [(k12, k21)] => {
            let sum = k10 + k12 + k21;
            let product = k10 * k21;
            // sum² − 4·product written as a sum of squares: no cancellation.
            let root = ((k10 + k12 - k21).powi(2) + 4.0 * k12 * k21).sqrt();
            let alpha = 0.5 * (sum + root);
            vec![alpha, product / alpha]
        }
        [(k12, k21), (k13, k31), ..] => {
            // λ³ − a2·λ² + a1·λ − a0 = 0 (Shafer's stanpump notation).
            let a2 = k10 + k12 + k13 + k21 + k31;
            let a1 = k10 * k31 + k21 * k31 + k21 * k13 + k10 * k21 + k31 * k12;
            let a0 = k10 * k21 * k31;
            let p = a1 - a2 * a2 / 3.0;
            let q = 2.0 * a2.powi(3) / 27.0 - a1 * a2 / 3.0 + a0;
            let r1 = (-(p.powi(3)) / 27.0).max(0.0).sqrt();
            let r2 = 2.0 * r1.cbrt();
            let cosine = if r1 > 0.0 {
                (-q / (2.0 * r1)).clamp(-1.0, 1.0)
            } else {
                1.0
            };
            let theta = cosine.acos() / 3.0;
            let third = 2.0 * std::f64::consts::PI / 3.0;
            let mut roots: Vec<f64> = (0..3)
                .map(|n| a2 / 3.0 - r2 * (theta + n as f64 * third).cos())
                .collect();
            for root in &mut roots {
                for _ in 0..3 {
                    let x = *root;
                    let value = ((x - a2) * x + a1) * x - a0;
                    let slope = (3.0 * x - 2.0 * a2) * x + a1;
                    if slope != 0.0 && slope.is_finite() {
                        let next = x - value / slope;
                        if next.is_finite() {
                            *root = next;
                        }
                    }
                }
            }
            roots.sort_by(|a, b| b.total_cmp(a));
            roots
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct StepFactors {
    decay: [f64; MODES],
    /// Per mg/min of input.
    input: [f64; MODES],
    transfer: [f64; MODES],
    effect_decay: f64,
    /// Per mg/min of input.
    effect_input: f64,
}

#[derive(Debug, Clone, Copy, Default)]
struct State {
    c: [f64; MODES],
    effect: f64,
}

impl State {
    fn advance(&mut self, f: &StepFactors, rate: f64) {
        let mut effect = f.effect_decay * self.effect + f.effect_input * rate;
        for i in 0..MODES {
            effect += f.transfer[i] * self.c[i];
            self.c[i] = f.decay[i] * self.c[i] + f.input[i] * rate;
        }
        self.effect = effect;
    }

    fn record(&self, out: &mut Concentrations, k: usize) {
        if let (Some(plasma), Some(effect)) =
            (out.plasma_ng_ml.get_mut(k), out.effect_ng_ml.get_mut(k))
        {
            *plasma = self.c[0] + self.c[1] + self.c[2];
            *effect = self.effect;
        }
    }

    /// Whole steps of the grid under a constant input, recording samples `range`. The first
    /// `LANES` samples are stepped one by one; from them, `LANES` interleaved sequences advance
    /// `LANES` steps at a time with the exact `LANES`-step factors, so consecutive samples do not
    /// wait on one another and the loop runs at the arithmetic floor.
    fn run_uniform(
        &mut self,
        one: &StepFactors,
        lane_step: &StepFactors,
        rate: f64,
        out: &mut Concentrations,
        range: std::ops::Range<usize>,
    ) {
        let count = range.len();
        if count < 2 * LANES {
            for k in range {
                self.advance(one, rate);
                self.record(out, k);
            }
            return;
        }
        let mut lanes = Lanes::default();
        for j in 0..LANES {
            self.advance(one, rate);
            self.record(out, range.start + j);
            for i in 0..MODES {
                lanes.c[i][j] = self.c[i];
            }
            lanes.effect[j] = self.effect;
        }
        let blocks = (count - LANES) / LANES;
        let block_range = range.start + LANES..range.start + LANES + blocks * LANES;
        if let (Some(plasma), Some(effect)) = (
            out.plasma_ng_ml.get_mut(block_range.clone()),
            out.effect_ng_ml.get_mut(block_range.clone()),
        ) {
            hot_loop::run_blocks(&lane_step.scaled(rate), &mut lanes, plasma, effect);
        }
        for i in 0..MODES {
            self.c[i] = lanes.c[i][LANES - 1];
        }
        self.effect = lanes.effect[LANES - 1];
        for k in block_range.end..range.end {
            self.advance(one, rate);
            self.record(out, k);
        }
    }
}

/// Samples handled together by the hot loop: two AVX2 registers per quantity, enough independent
/// work to hide the latency of a multiply-add.
const LANES: usize = 8;

/// The states of `LANES` consecutive samples.
#[derive(Debug, Clone, Copy, Default)]
struct Lanes {
    c: [[f64; LANES]; MODES],
    effect: [f64; LANES],
}

impl StepFactors {
    fn scaled(&self, rate: f64) -> StepFactors {
        StepFactors {
            input: self.input.map(|x| x * rate),
            effect_input: self.effect_input * rate,
            ..*self
        }
    }
}

/// The only unsafe code of the crate: calling a copy of the hot loop compiled for AVX2 and FMA,
/// after checking at run time that the CPU has them (the baseline x86-64 target has neither, and
/// the loop is 3x faster with them). Elsewhere the same loop runs compiled for the baseline.
#[allow(unsafe_code)]
mod hot_loop {
    use super::{Lanes, StepFactors, LANES};

    /// Fills `plasma` and `effect` (whose length is a multiple of `LANES`) block by block.
    pub(super) fn run_blocks(
        f: &StepFactors,
        lanes: &mut Lanes,
        plasma: &mut [f64],
        effect: &mut [f64],
    ) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                // SAFETY: the CPU supports AVX2 and FMA, the only requirement of
                // `run_blocks_avx2_fma`, as checked on the line above.
                unsafe { run_blocks_avx2_fma(f, lanes, plasma, effect) };
                return;
            }
        }
        run_blocks_generic::<false>(f, lanes, plasma, effect);
    }

    /// The same loop as `run_blocks_generic`, written with AVX2 intrinsics because the
    /// auto-vectoriser leaves it scalar: `LANES` = 8 samples are two registers per quantity.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn run_blocks_avx2_fma(
        f: &StepFactors,
        lanes: &mut Lanes,
        plasma: &mut [f64],
        effect: &mut [f64],
    ) {
        use std::arch::x86_64::{
            _mm256_add_pd, _mm256_fmadd_pd, _mm256_loadu_pd, _mm256_set1_pd, _mm256_storeu_pd,
        };
        const _: () = assert!(LANES == 8);
        let splat = |x: f64| _mm256_set1_pd(x);
        let (d0, d1, d2) = (splat(f.decay[0]), splat(f.decay[1]), splat(f.decay[2]));
        let (i0, i1, i2) = (splat(f.input[0]), splat(f.input[1]), splat(f.input[2]));
        let (q0, q1, q2) = (
            splat(f.transfer[0]),
            splat(f.transfer[1]),
            splat(f.transfer[2]),
        );
        let (p, r) = (splat(f.effect_decay), splat(f.effect_input));
        // SAFETY (all loads and stores below): each pointer is to an 8-element array or chunk,
        // read or written at offsets 0 and 4, 4 elements each.
        let load = |x: &[f64; LANES]| {
            (
                _mm256_loadu_pd(x.as_ptr()),
                _mm256_loadu_pd(x.as_ptr().add(4)),
            )
        };
        let (mut c0a, mut c0b) = load(&lanes.c[0]);
        let (mut c1a, mut c1b) = load(&lanes.c[1]);
        let (mut c2a, mut c2b) = load(&lanes.c[2]);
        let (mut ea, mut eb) = load(&lanes.effect);
        for (plasma, effect) in plasma
            .chunks_exact_mut(LANES)
            .zip(effect.chunks_exact_mut(LANES))
        {
            let from_modes_a = _mm256_fmadd_pd(
                q0,
                c0a,
                _mm256_fmadd_pd(q1, c1a, _mm256_fmadd_pd(q2, c2a, r)),
            );
            let from_modes_b = _mm256_fmadd_pd(
                q0,
                c0b,
                _mm256_fmadd_pd(q1, c1b, _mm256_fmadd_pd(q2, c2b, r)),
            );
            ea = _mm256_fmadd_pd(p, ea, from_modes_a);
            eb = _mm256_fmadd_pd(p, eb, from_modes_b);
            c0a = _mm256_fmadd_pd(d0, c0a, i0);
            c0b = _mm256_fmadd_pd(d0, c0b, i0);
            c1a = _mm256_fmadd_pd(d1, c1a, i1);
            c1b = _mm256_fmadd_pd(d1, c1b, i1);
            c2a = _mm256_fmadd_pd(d2, c2a, i2);
            c2b = _mm256_fmadd_pd(d2, c2b, i2);
            let out = plasma.as_mut_ptr();
            _mm256_storeu_pd(out, _mm256_add_pd(_mm256_add_pd(c0a, c1a), c2a));
            _mm256_storeu_pd(out.add(4), _mm256_add_pd(_mm256_add_pd(c0b, c1b), c2b));
            let out = effect.as_mut_ptr();
            _mm256_storeu_pd(out, ea);
            _mm256_storeu_pd(out.add(4), eb);
        }
        let store = |x: &mut [f64; LANES], a, b| {
            _mm256_storeu_pd(x.as_mut_ptr(), a);
            _mm256_storeu_pd(x.as_mut_ptr().add(4), b);
        };
        store(&mut lanes.c[0], c0a, c0b);
        store(&mut lanes.c[1], c1a, c1b);
        store(&mut lanes.c[2], c2a, c2b);
        store(&mut lanes.effect, ea, eb);
    }

    /// a·b + c, fused where the CPU has FMA (a software fma elsewhere would be slow).
    #[inline(always)]
    fn multiply_add<const FUSED: bool>(a: f64, b: f64, c: f64) -> f64 {
        if FUSED {
            a.mul_add(b, c)
        } else {
            a * b + c
        }
    }

    /// Per sample: 3 + 4 multiply-adds and 2 adds, `LANES` samples at a time.
    #[inline(always)]
    pub(super) fn run_blocks_generic<const FUSED: bool>(
        f: &StepFactors,
        lanes: &mut Lanes,
        plasma: &mut [f64],
        effect: &mut [f64],
    ) {
        let [d0, d1, d2] = f.decay;
        let [i0, i1, i2] = f.input;
        let [q0, q1, q2] = f.transfer;
        let (p, r) = (f.effect_decay, f.effect_input);
        let Lanes {
            c: [mut c0, mut c1, mut c2],
            effect: mut e,
        } = *lanes;
        for (plasma, effect) in plasma
            .chunks_exact_mut(LANES)
            .zip(effect.chunks_exact_mut(LANES))
        {
            for j in 0..LANES {
                // The effect site's own chain is one multiply-add long: the modes' part first.
                let from_modes = multiply_add::<FUSED>(
                    q0,
                    c0[j],
                    multiply_add::<FUSED>(q1, c1[j], multiply_add::<FUSED>(q2, c2[j], r)),
                );
                e[j] = multiply_add::<FUSED>(p, e[j], from_modes);
                c0[j] = multiply_add::<FUSED>(d0, c0[j], i0);
                c1[j] = multiply_add::<FUSED>(d1, c1[j], i1);
                c2[j] = multiply_add::<FUSED>(d2, c2[j], i2);
                plasma[j] = c0[j] + c1[j] + c2[j];
                effect[j] = e[j];
            }
        }
        *lanes = Lanes {
            c: [c0, c1, c2],
            effect: e,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The AVX2/FMA copy of the hot loop (checked against the oracles on such CPUs) and the
    /// portable copy (used elsewhere) agree to rounding.
    #[test]
    fn portable_and_dispatched_hot_loops_agree() {
        let f = StepFactors {
            decay: [0.99, 0.999, 0.9999],
            input: [0.5, 0.25, 0.125],
            transfer: [0.01, 0.02, 0.03],
            effect_decay: 0.98,
            effect_input: 0.001,
        };
        let start = Lanes {
            c: [[1.0; LANES], [2.0; LANES], [3.0; LANES]],
            effect: [0.5; LANES],
        };
        let n = LANES * 100;
        let (mut plasma_a, mut effect_a) = (vec![0.0; n], vec![0.0; n]);
        let (mut plasma_b, mut effect_b) = (vec![0.0; n], vec![0.0; n]);
        let (mut lanes_a, mut lanes_b) = (start, start);
        hot_loop::run_blocks(&f, &mut lanes_a, &mut plasma_a, &mut effect_a);
        hot_loop::run_blocks_generic::<false>(&f, &mut lanes_b, &mut plasma_b, &mut effect_b);
        for (a, b) in plasma_a
            .iter()
            .chain(&effect_a)
            .zip(plasma_b.iter().chain(&effect_b))
        {
            assert!((a - b).abs() <= 1e-12 * b.abs(), "{a} vs {b}");
        }
        assert!(plasma_a.iter().all(|x| *x > 0.0));
    }
}
