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
use crate::units::{Minutes, PerMinute};
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

/// Concentrations at each sample time.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Concentrations {
    pub t_min: Vec<f64>,
    pub plasma_ng_ml: Vec<f64>,
    pub effect_ng_ml: Vec<f64>,
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
    pub fn ke0_for_time_to_peak(&self, t_peak: Minutes) -> Result<PerMinute, Ke0Error> {
        let (min_t, max_t) = TIME_TO_PEAK_LIMITS_MIN;
        let t = t_peak.0;
        if !(t.is_finite() && min_t <= t && t <= max_t) {
            return Err(Ke0Error::TimeToPeakOutOfRange {
                min: min_t,
                max: max_t,
                value: t,
            });
        }
        let (lowest, highest) = (1e-6, 1e4);
        let peak_is_before = |ke0: f64| {
            let mut plasma = 0.0;
            let mut effect = 0.0;
            for i in self.used_modes() {
                let (a, l) = (self.coefficient[i], self.lambda[i]);
                plasma += a * (-l * t).exp();
                effect += a * ke0 * difference_of_exponentials(l, ke0, t);
            }
            effect > plasma
        };
        let not_found = Ke0Error::NotFound {
            min: lowest,
            max: highest,
            t_peak: t,
        };
        if peak_is_before(lowest) || !peak_is_before(highest) {
            return Err(not_found);
        }
        let (mut low, mut high) = (lowest, highest);
        for _ in 0..200 {
            let middle = (low * high).sqrt();
            if peak_is_before(middle) {
                high = middle;
            } else {
                low = middle;
            }
            if high / low - 1.0 < 1e-15 {
                break;
            }
        }
        Ok(PerMinute((low * high).sqrt()))
    }

    /// Plasma and effect-site concentrations on `grid` for `plan`. The plan and grid are already
    /// validated: every number is finite, times are non-negative and bounded.
    pub(crate) fn simulate(&self, ke0: f64, plan: &DosingPlan, grid: Grid) -> Concentrations {
        let samples = grid.samples;
        let h = grid.step_min;
        let end_time = (samples.saturating_sub(1)) as f64 * h;
        let mut out = Concentrations {
            t_min: (0..samples).map(|k| k as f64 * h).collect(),
            plasma_ng_ml: vec![0.0; samples],
            effect_ng_ml: vec![0.0; samples],
        };
        if samples == 0 {
            return out;
        }

        let mut boluses: Vec<(f64, f64)> = plan
            .doses()
            .iter()
            .filter_map(|dose| dose.bolus_mg().map(|mg| (dose.start().0, mg)))
            .filter(|&(t, _)| t <= end_time + TIME_TOLERANCE_MIN)
            .collect();
        boluses.sort_by(|a, b| a.0.total_cmp(&b.0));
        let infusions: Vec<(f64, f64, f64)> = plan
            .doses()
            .iter()
            .filter_map(|dose| {
                dose.rate_mg_per_min()
                    .map(|rate| (dose.start().0, dose.end().0, rate))
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

        let uniform = self.step_factors(ke0, h);
        let mut state = State::default();
        let mut next_sample = 0usize;
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
            if next_sample < samples && out.t_min[next_sample] <= at + TIME_TOLERANCE_MIN {
                state.record(&mut out, next_sample);
                next_sample += 1;
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
            let first = next_sample;
            let mut last = first;
            while last < samples && out.t_min[last] < until - TIME_TOLERANCE_MIN {
                last += 1;
            }
            let mut time = at;
            if first < last {
                let t_first = out.t_min[first];
                state.advance(&self.step_factors(ke0, t_first - at), rate);
                state.record(&mut out, first);
                state.run_uniform(&uniform, rate, &mut out, first + 1, last);
                time = out.t_min[last - 1];
                next_sample = last;
            }
            state.advance(&self.step_factors(ke0, until - time), rate);
        }
        out
    }

    /// Exact one-step factors for a step of `h` minutes (see the module comment).
    fn step_factors(&self, ke0: f64, h: f64) -> StepFactors {
        let h = h.max(0.0);
        let p = (-ke0 * h).exp();
        let mut factors = StepFactors {
            decay: [1.0; MODES],
            input: [0.0; MODES],
            transfer: [0.0; MODES],
            effect_decay: p,
            effect_input: 0.0,
        };
        for i in 0..MODES {
            let (a, l) = (self.coefficient[i], self.lambda[i]);
            factors.decay[i] = (-l * h).exp();
            // A·(1 − e^(−λh))/λ written as A·h·φ(λh) to stay accurate for small λh.
            factors.input[i] = a * h * phi(l * h);
            let q = ke0 * difference_of_exponentials(l, ke0, h);
            factors.transfer[i] = q;
            // The effect-site response to the input alone from c = Ce = 0, which is
            // (A/λ)·(1 − p − q) ≥ 0; clamp the rounding of the subtraction at 0.
            let alone = (-(-ke0 * h).exp_m1() - q).max(0.0);
            factors.effect_input += a / l * alone;
        }
        factors
    }
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

    /// The hot loop: whole steps of the grid under a constant input, recording samples
    /// `from..to`. Factors are scaled by the rate once, so a step is 6 multiply-adds and 2 adds.
    fn run_uniform(
        &mut self,
        f: &StepFactors,
        rate: f64,
        out: &mut Concentrations,
        from: usize,
        to: usize,
    ) {
        let (Some(plasma_out), Some(effect_out)) = (
            out.plasma_ng_ml.get_mut(from..to),
            out.effect_ng_ml.get_mut(from..to),
        ) else {
            return;
        };
        let [d0, d1, d2] = f.decay;
        let [i0, i1, i2] = f.input.map(|x| x * rate);
        let [q0, q1, q2] = f.transfer;
        let p = f.effect_decay;
        let r = f.effect_input * rate;
        let [mut c0, mut c1, mut c2] = self.c;
        let mut ce = self.effect;
        for (plasma, effect) in plasma_out.iter_mut().zip(effect_out.iter_mut()) {
            ce = p * ce + q0 * c0 + q1 * c1 + q2 * c2 + r;
            c0 = d0 * c0 + i0;
            c1 = d1 * c1 + i1;
            c2 = d2 * c2 + i2;
            *plasma = c0 + c1 + c2;
            *effect = ce;
        }
        self.c = [c0, c1, c2];
        self.effect = ce;
    }
}
