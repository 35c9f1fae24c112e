//! Outcome definitions: change from baseline, responder classes, the
//! baseline rule, durability of relief, and the Kaplan–Meier estimator for
//! median durability.
//!
//! Facts and sources: `shared/clinical/outcomes.md`. Where a rule is ours
//! (baseline window, durability), it says so and is a setting or documented.

use jiff::{SignedDuration, Timestamp};

use crate::instruments::{Instrument, SourceStatus};

// ---------------------------------------------------------------------------
// Change from baseline and responder classes

/// IMMPACT minimally important reduction in pain intensity: 10–20 %
/// (Dworkin RH et al. J Pain 2008;9:105–121 [checked]). We use the lower edge
/// of the published range, so that any change IMMPACT could call minimally
/// important is shown as such.
pub const PAIN_REDUCTION_MINIMAL_PERCENT: f64 = 10.0;
/// Moderately important reduction, the usual "responder": ≥ 30 %
/// (Dworkin 2008; Farrar JT et al. Pain 2001;94:149–158 [checked]).
pub const PAIN_REDUCTION_MODERATE_PERCENT: f64 = 30.0;
/// Substantial reduction: ≥ 50 % (Dworkin 2008 [checked]).
pub const PAIN_REDUCTION_SUBSTANTIAL_PERCENT: f64 = 50.0;

/// PHQ-9 response: ≥ 50 % reduction from baseline (Kroenke 2001 and later
/// PHQ literature [to check], outcomes.md).
pub const DEPRESSION_RESPONSE_REDUCTION_PERCENT: f64 = 50.0;
/// PHQ-9 remission: total below 5 (Kroenke 2001 and later PHQ literature
/// [to check], outcomes.md).
pub const DEPRESSION_REMISSION_BELOW: f64 = 5.0;

/// The IMMPACT class of a change in pain intensity from baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PainChange {
    /// Less than a 10 % reduction, or worse.
    NoImportantReduction,
    /// 10 % to under 30 % reduction: minimally important (IMMPACT 10–20 %).
    MinimalReduction,
    /// 30 % to under 50 %: moderately important; a responder.
    ModerateReduction,
    /// 50 % or more: substantial; a responder.
    SubstantialReduction,
}

impl PainChange {
    /// A responder in the usual sense: at least a 30 % reduction (IMMPACT).
    pub fn is_responder(self) -> bool {
        self >= PainChange::ModerateReduction
    }
}

/// Something that makes an outcome impossible to compute.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutcomeError {
    #[error("the {what} is not a finite number")]
    NotFinite { what: &'static str },
    #[error("the baseline is {baseline}; a percent change needs a baseline above 0")]
    BaselineNotPositive { baseline: String },
    #[error("there is no score before the first infusion to take as baseline")]
    NoScoreBeforeFirstInfusion,
    #[error("there is no pain report at or after the end of the infusion series")]
    NoReportAfterSeries,
}

/// Percent change from baseline: (current − baseline) / baseline × 100.
/// Negative is a reduction (improvement for pain and the PROs here).
pub fn percent_change_from_baseline(baseline: f64, current: f64) -> Result<f64, OutcomeError> {
    check_baseline_and_current(baseline, current)?;
    Ok((current - baseline) / baseline * 100.0)
}

/// The IMMPACT class of the change from `baseline` to `current` pain.
pub fn classify_pain_change(baseline: f64, current: f64) -> Result<PainChange, OutcomeError> {
    check_baseline_and_current(baseline, current)?;
    let class = if reduction_at_least(baseline, current, PAIN_REDUCTION_SUBSTANTIAL_PERCENT) {
        PainChange::SubstantialReduction
    } else if reduction_at_least(baseline, current, PAIN_REDUCTION_MODERATE_PERCENT) {
        PainChange::ModerateReduction
    } else if reduction_at_least(baseline, current, PAIN_REDUCTION_MINIMAL_PERCENT) {
        PainChange::MinimalReduction
    } else {
        PainChange::NoImportantReduction
    };
    Ok(class)
}

/// Change in a PHQ-9 total between baseline and now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepressionChange {
    /// ≥ 50 % reduction; `None` when the baseline is 0 (no percent exists).
    pub response: Option<bool>,
    /// Current total below 5.
    pub remission: bool,
    /// Improvement of at least the minimal important difference (5 points).
    pub minimal_important_improvement: bool,
}

/// PHQ-9 response, remission and minimal important improvement.
pub fn classify_depression_change(
    baseline_total: f64,
    current_total: f64,
) -> Result<DepressionChange, OutcomeError> {
    if !baseline_total.is_finite() {
        return Err(OutcomeError::NotFinite { what: "baseline" });
    }
    if !current_total.is_finite() {
        return Err(OutcomeError::NotFinite {
            what: "current score",
        });
    }
    let response = (baseline_total > 0.0).then(|| {
        reduction_at_least(
            baseline_total,
            current_total,
            DEPRESSION_RESPONSE_REDUCTION_PERCENT,
        )
    });
    let phq9_mid = minimal_important_difference(Instrument::Phq9);
    let minimal_important_improvement = phq9_mid
        .map(|mid| mid.is_met(baseline_total, current_total))
        .unwrap_or(false);
    Ok(DepressionChange {
        response,
        remission: current_total < DEPRESSION_REMISSION_BELOW,
        minimal_important_improvement,
    })
}

/// The smallest change in a scale that patients perceive as important.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MinimalImportantDifference {
    pub instrument: Instrument,
    /// The scale id within the instrument (see `instruments::ScaleDefinition`).
    pub scale: &'static str,
    /// An improvement of at least this many points meets it…
    pub points: Option<f64>,
    /// …or of at least this percent of baseline (either suffices).
    pub percent: Option<f64>,
    pub source: &'static str,
    pub status: SourceStatus,
}

impl MinimalImportantDifference {
    /// Whether the improvement from `baseline` to `current` meets it (lower is
    /// better on every scale listed). Non-finite input never meets it.
    pub fn is_met(&self, baseline: f64, current: f64) -> bool {
        if !baseline.is_finite() || !current.is_finite() {
            return false;
        }
        let by_points = self
            .points
            .is_some_and(|points| baseline - current >= points - COMPARISON_TOLERANCE);
        let by_percent = self.percent.is_some_and(|percent| {
            baseline > 0.0 && reduction_at_least(baseline, current, percent)
        });
        by_points || by_percent
    }
}

/// Minimal important differences, from shared/clinical/outcomes.md.
pub const MINIMAL_IMPORTANT_DIFFERENCES: [MinimalImportantDifference; 4] = [
    MinimalImportantDifference {
        instrument: Instrument::BriefPainInventory,
        scale: "interference",
        // 1-point decrease: Dworkin 2008 [checked].
        points: Some(1.0),
        percent: None,
        source: "Dworkin RH et al. (IMMPACT) J Pain 2008;9:105–121",
        status: SourceStatus::Checked,
    },
    MinimalImportantDifference {
        instrument: Instrument::Phq9,
        scale: "total",
        // 5 points: Löwe 2004 [to check].
        points: Some(5.0),
        percent: None,
        source: "Löwe B et al. Med Care 2004;42:1194–1201",
        status: SourceStatus::ToCheck,
    },
    MinimalImportantDifference {
        instrument: Instrument::OswestryDisabilityIndex,
        scale: "index",
        // 10 points or 30 %: Ostelo 2008 [to check].
        points: Some(10.0),
        percent: Some(30.0),
        source: "Ostelo RW et al. Spine 2008;33:90–94",
        status: SourceStatus::ToCheck,
    },
    MinimalImportantDifference {
        instrument: Instrument::Fiqr,
        scale: "total",
        // ≈ 14 %: Bennett 2009 [to check].
        points: None,
        percent: Some(14.0),
        source: "Bennett RM et al. J Rheumatol 2009;36:1304–1311",
        status: SourceStatus::ToCheck,
    },
];

/// The minimal important difference listed for an instrument, if any.
pub fn minimal_important_difference(
    instrument: Instrument,
) -> Option<&'static MinimalImportantDifference> {
    MINIMAL_IMPORTANT_DIFFERENCES
        .iter()
        .find(|mid| mid.instrument == instrument)
}

// ---------------------------------------------------------------------------
// Baseline

/// One dated score (e.g. an NRS pain rating or a PEG score).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreReport {
    pub at: Timestamp,
    pub score: f64,
}

/// How the baseline is taken. A clinic setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaselineSettings {
    /// Scores in this many days (24-hour periods) before the first infusion
    /// are averaged. Default 14: a documented default of ours, not from the
    /// literature (outcomes.md).
    pub window_days: u16,
}

impl Default for BaselineSettings {
    fn default() -> Self {
        BaselineSettings { window_days: 14 }
    }
}

/// A baseline value and how it was obtained, shown to the clinician.
#[derive(Debug, Clone, PartialEq)]
pub struct Baseline {
    pub value: f64,
    pub method: BaselineMethod,
}

#[derive(Debug, Clone, PartialEq)]
pub enum BaselineMethod {
    /// Mean of the scores in the window before the first infusion.
    MeanOfWindow { reports: usize, window_days: u16 },
    /// No score in the window: the last score before the first infusion.
    LastScoreBefore { at: Timestamp },
}

/// The baseline: the mean of the scores in the window before the first
/// infusion (strictly before it), else the last single score before it.
pub fn baseline(
    reports: &[ScoreReport],
    first_infusion: Timestamp,
    settings: &BaselineSettings,
) -> Result<Baseline, OutcomeError> {
    check_reports(reports)?;
    let window = SignedDuration::from_hours(24 * i64::from(settings.window_days));
    let window_start = first_infusion
        .saturating_sub(window)
        .unwrap_or(Timestamp::MIN);
    let before: Vec<&ScoreReport> = reports.iter().filter(|r| r.at < first_infusion).collect();
    let in_window: Vec<f64> = before
        .iter()
        .filter(|r| window_start <= r.at)
        .map(|r| r.score)
        .collect();
    if !in_window.is_empty() {
        return Ok(Baseline {
            value: in_window.iter().sum::<f64>() / in_window.len() as f64,
            method: BaselineMethod::MeanOfWindow {
                reports: in_window.len(),
                window_days: settings.window_days,
            },
        });
    }
    let last = before
        .iter()
        .max_by_key(|r| r.at)
        .ok_or(OutcomeError::NoScoreBeforeFirstInfusion)?;
    Ok(Baseline {
        value: last.score,
        method: BaselineMethod::LastScoreBefore { at: last.at },
    })
}

// ---------------------------------------------------------------------------
// Durability

/// How long relief lasted after an infusion series (our definition,
/// outcomes.md): for a responder, the days from the end of the series until
/// the pain score first returns above (baseline − 30 %) on two consecutive
/// reports; censored if it has not yet returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// The first report after the series was not a ≥ 30 % reduction, so
    /// there is no relief whose duration could be measured (our rule).
    NotAResponder { first_report_at: Timestamp },
    /// Pain returned: `days` from the end of the series to the first of the
    /// two consecutive reports above the threshold.
    Returned {
        days: u32,
        returned_at: Timestamp,
        confirmed_at: Timestamp,
    },
    /// Not returned by the last report: censored at `days`.
    StillRelieved {
        days: u32,
        last_report_at: Timestamp,
    },
}

impl Durability {
    /// The observation for Kaplan–Meier, for a responder.
    pub fn survival_observation(&self) -> Option<SurvivalObservation> {
        match *self {
            Durability::NotAResponder { .. } => None,
            Durability::Returned { days, .. } => Some(SurvivalObservation {
                time: days,
                event: true,
            }),
            Durability::StillRelieved { days, .. } => Some(SurvivalObservation {
                time: days,
                event: false,
            }),
        }
    }
}

/// Durability of relief from the pain reports at or after `series_end`
/// (reports before it are ignored; order does not matter).
pub fn durability(
    baseline: f64,
    series_end: Timestamp,
    reports: &[ScoreReport],
) -> Result<Durability, OutcomeError> {
    if !baseline.is_finite() {
        return Err(OutcomeError::NotFinite { what: "baseline" });
    }
    if baseline <= 0.0 {
        return Err(OutcomeError::BaselineNotPositive {
            baseline: baseline.to_string(),
        });
    }
    check_reports(reports)?;
    let mut after: Vec<&ScoreReport> = reports.iter().filter(|r| r.at >= series_end).collect();
    after.sort_by_key(|r| r.at);
    let (first, last) = match (after.first(), after.last()) {
        (Some(first), Some(last)) => (*first, *last),
        _ => return Err(OutcomeError::NoReportAfterSeries),
    };
    // "Above baseline − 30 %" is exactly "less than a 30 % reduction".
    let returned =
        |r: &ScoreReport| !reduction_at_least(baseline, r.score, PAIN_REDUCTION_MODERATE_PERCENT);
    if returned(first) {
        return Ok(Durability::NotAResponder {
            first_report_at: first.at,
        });
    }
    for pair in after.windows(2) {
        if let [current, next] = pair {
            if returned(current) && returned(next) {
                return Ok(Durability::Returned {
                    days: whole_days_between(series_end, current.at),
                    returned_at: current.at,
                    confirmed_at: next.at,
                });
            }
        }
    }
    Ok(Durability::StillRelieved {
        days: whole_days_between(series_end, last.at),
        last_report_at: last.at,
    })
}

/// Median durability of a group (one condition and protocol, say).
#[derive(Debug, Clone, PartialEq)]
pub struct DurabilitySummary {
    /// Series after which the patient responded.
    pub responders: usize,
    pub non_responders: usize,
    /// Responders whose pain has returned.
    pub returned: usize,
    /// Responders still relieved at their last report.
    pub censored: usize,
    /// Kaplan–Meier median, days; `None` while more than half still relieved.
    pub median_days: Option<u32>,
    pub curve: KaplanMeierCurve,
}

/// Summarises durabilities with the Kaplan–Meier estimator.
pub fn summarise_durability(durabilities: &[Durability]) -> DurabilitySummary {
    let observations: Vec<SurvivalObservation> = durabilities
        .iter()
        .filter_map(Durability::survival_observation)
        .collect();
    let curve = kaplan_meier(&observations);
    let returned = observations.iter().filter(|o| o.event).count();
    DurabilitySummary {
        responders: observations.len(),
        non_responders: durabilities.len() - observations.len(),
        returned,
        censored: observations.len() - returned,
        median_days: curve.median(),
        curve,
    }
}

// ---------------------------------------------------------------------------
// Kaplan–Meier

/// A time to event, or to censoring. The unit is the caller's (days for
/// durability).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SurvivalObservation {
    pub time: u32,
    /// `true`: the event happened at `time`; `false`: censored at `time`.
    pub event: bool,
}

/// One distinct observed time of a Kaplan–Meier curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KaplanMeierStep {
    pub time: u32,
    /// Subjects still at risk just before `time`.
    pub at_risk: usize,
    pub events: usize,
    pub censored: usize,
    /// Estimated probability of surviving (no event) beyond `time`.
    pub survival: f64,
}

/// A Kaplan–Meier survival curve.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KaplanMeierCurve {
    /// In increasing time; one step per distinct time with an event or a
    /// censoring.
    pub steps: Vec<KaplanMeierStep>,
}

impl KaplanMeierCurve {
    /// Estimated survival beyond `time` (1 before the first event).
    pub fn survival_at(&self, time: u32) -> f64 {
        self.steps
            .iter()
            .take_while(|step| step.time <= time)
            .last()
            .map_or(1.0, |step| step.survival)
    }

    /// The median: the smallest time at which the estimated survival is 0.5
    /// or below (the usual textbook definition, e.g. Collett, Modelling
    /// Survival Data in Medical Research, §2.4). `None` when the curve never
    /// reaches 0.5.
    pub fn median(&self) -> Option<u32> {
        self.steps
            .iter()
            .find(|step| step.survival <= 0.5 + COMPARISON_TOLERANCE)
            .map(|step| step.time)
    }
}

/// The z value of a two-sided 95 % interval: Φ⁻¹(0.975), to double
/// precision (the standard normal quantile; e.g. scipy.special.ndtri(0.975)).
pub const Z_95: f64 = 1.959_963_984_540_054;

/// A pointwise confidence interval of a survival probability.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SurvivalInterval {
    pub lower: f64,
    pub upper: f64,
}

impl KaplanMeierCurve {
    /// The pointwise 95 % confidence interval at each step (same order as
    /// `steps`): Greenwood's variance (Greenwood M. Reports on Public Health
    /// and Medical Subjects 33, 1926), V(t) = Σ over event times tᵢ ≤ t of
    /// dᵢ / (nᵢ (nᵢ − dᵢ)), carried to the log(−log S) scale, where the
    /// interval is S(t)^exp(±z √V(t) / log S(t)) — the "exponential
    /// Greenwood" or log-log interval (Kalbfleisch JD, Prentice RL. The
    /// Statistical Analysis of Failure Time Data, 2nd ed. 2002, §1.4;
    /// Collett D. Modelling Survival Data in Medical Research, 3rd ed. 2015,
    /// §2.2.3). Unlike the plain Greenwood interval it stays within [0, 1].
    ///
    /// `None` where the interval is undefined: S = 1 (no event yet, so no
    /// variance to speak of) and S = 0 (every subject left had the event).
    /// A chart draws the curve itself there.
    pub fn confidence_band_95(&self) -> Vec<Option<SurvivalInterval>> {
        let mut greenwood_sum = 0.0;
        self.steps
            .iter()
            .map(|step| {
                if step.events > 0 && step.at_risk > step.events {
                    let (n, d) = (step.at_risk as f64, step.events as f64);
                    greenwood_sum += d / (n * (n - d));
                }
                log_log_interval(step.survival, greenwood_sum, Z_95)
            })
            .collect()
    }

    /// Subjects still at risk just before `time`: those whose event or
    /// censoring is at `time` or later (the "number at risk" printed under
    /// a survival chart).
    pub fn at_risk_at(&self, time: u32) -> usize {
        self.steps
            .iter()
            .find(|step| step.time >= time)
            .map_or(0, |step| step.at_risk)
    }
}

/// S^exp(±z √V / log S) (Kalbfleisch & Prentice 2002, §1.4): the lower
/// limit takes +, the upper −, because log S < 0.
fn log_log_interval(survival: f64, greenwood_sum: f64, z: f64) -> Option<SurvivalInterval> {
    if !(0.0 < survival && survival < 1.0) {
        return None;
    }
    let log_s = survival.ln();
    let spread = z * greenwood_sum.sqrt() / log_s;
    let log_minus_log = (-log_s).ln();
    Some(SurvivalInterval {
        lower: (-(log_minus_log - spread).exp()).exp(),
        upper: (-(log_minus_log + spread).exp()).exp(),
    })
}

/// The Kaplan–Meier product-limit estimator (Kaplan EL, Meier P.
/// Nonparametric estimation from incomplete observations. J Am Stat Assoc
/// 1958;53:457–481): S(t) = ∏ over event times tᵢ ≤ t of (1 − dᵢ / nᵢ), with
/// nᵢ those at risk just before tᵢ. At a time with both events and
/// censorings, the censored are taken to be at risk at that time (the
/// convention of Kaplan & Meier 1958).
pub fn kaplan_meier(observations: &[SurvivalObservation]) -> KaplanMeierCurve {
    let mut sorted = observations.to_vec();
    sorted.sort_by_key(|o| o.time);
    let mut steps = Vec::new();
    let mut at_risk = sorted.len();
    let mut survival = 1.0;
    let mut index = 0;
    while let Some(first) = sorted.get(index) {
        let time = first.time;
        let same_time = sorted[index..].iter().take_while(|o| o.time == time);
        let (events, censored) =
            same_time.fold(
                (0, 0),
                |(e, c), o| {
                    if o.event {
                        (e + 1, c)
                    } else {
                        (e, c + 1)
                    }
                },
            );
        if events > 0 {
            survival *= 1.0 - events as f64 / at_risk as f64;
        }
        steps.push(KaplanMeierStep {
            time,
            at_risk,
            events,
            censored,
            survival,
        });
        at_risk -= events + censored;
        index += events + censored;
    }
    KaplanMeierCurve { steps }
}

// ---------------------------------------------------------------------------
// Clinic-wide results

/// The groups of conditions SPEC §1 names, for clinic-wide results; a
/// diagnosis code belongs to a group through the seeded code table
/// (shared/clinical/codes.md, `screening::seeded_condition_codes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConditionGroup {
    /// Injury, degenerative disc disease, scoliosis (SPEC §1).
    BackPain,
    /// Tension-type, eye strain, migraine, cluster (SPEC §1).
    Headache,
    /// Osteoarthritis, rheumatoid arthritis, repetitive-motion and sports
    /// injuries (SPEC §1).
    JointPain,
    Fibromyalgia,
    Endometriosis,
    /// Complex regional pain syndrome, types I and II.
    Crps,
    /// Chronic pain coded otherwise (G89.2-, G89.4) or outside the table.
    OtherChronicPain,
}

impl ConditionGroup {
    pub const ALL: [ConditionGroup; 7] = [
        ConditionGroup::BackPain,
        ConditionGroup::Headache,
        ConditionGroup::JointPain,
        ConditionGroup::Fibromyalgia,
        ConditionGroup::Endometriosis,
        ConditionGroup::Crps,
        ConditionGroup::OtherChronicPain,
    ];

    /// The group of an ICD-10-CM code: the first entry of the seeded table
    /// (codes.md) that matches it, by the SPEC §1 heading it sits under;
    /// a code outside the table is "other chronic pain".
    pub fn of_code(code: &str) -> ConditionGroup {
        let table = crate::screening::codes::seeded_condition_codes();
        let Some(entry) = table.iter().find(|entry| entry.pattern.matches(code)) else {
            return ConditionGroup::OtherChronicPain;
        };
        let condition = entry.condition.as_ref();
        // The seeded entries' names (codes.md), grouped as SPEC §1 lists them.
        if condition.contains("back pain")
            || condition.starts_with("degenerative disc disease")
            || condition == "scoliosis"
        {
            ConditionGroup::BackPain
        } else if condition.contains("headache")
            || condition.starts_with("eye strain")
            || condition == "migraine"
        {
            ConditionGroup::Headache
        } else if condition.contains("arthritis") || condition.contains("injury") {
            ConditionGroup::JointPain
        } else if condition == "fibromyalgia" {
            ConditionGroup::Fibromyalgia
        } else if condition == "endometriosis" {
            ConditionGroup::Endometriosis
        } else if condition.starts_with("CRPS") {
            ConditionGroup::Crps
        } else {
            ConditionGroup::OtherChronicPain
        }
    }
}

/// Fewer patients than this in a group: shown, but marked as too few to
/// read. Ours (a display rule, not a statistical test): with under five, a
/// single patient moves a rate by 20 points or more.
pub const SMALL_GROUP_BELOW: usize = 5;

/// One patient's treated course, as the clinic-wide results need it.
#[derive(Debug, Clone, PartialEq)]
pub struct TreatedCourse {
    /// The groups of the patient's current diagnoses (a patient with two
    /// counts in both; none: other chronic pain).
    pub conditions: Vec<ConditionGroup>,
    /// The protocol of the first infusion.
    pub protocol: String,
    pub first_infusion: Timestamp,
    /// The last infusion of the series: durability counts from here.
    pub series_end: Timestamp,
    /// Pain intensity reports (NRS 0–10), any order.
    pub pain: Vec<ScoreReport>,
}

/// What a course shows, or why it shows nothing yet.
#[derive(Debug, Clone, PartialEq)]
pub enum CourseOutcome {
    /// No usable baseline: no pain report before the first infusion, or a
    /// baseline of 0 (no reduction can be measured).
    NoBaseline,
    /// No pain report at or after the end of the series yet.
    NoReportAfterSeries { baseline: f64 },
    Assessed {
        baseline: f64,
        /// The IMMPACT class of the first report at or after the end of the
        /// series: the same report durability starts from (our rule,
        /// documented in docs/outcomes.md), so that the ≥ 30 % responders
        /// are exactly the patients with a durability curve.
        change: PainChange,
        durability: Durability,
    },
}

/// The outcome of one course: baseline (`baseline`), the IMMPACT class of
/// the first report after the series, and durability.
pub fn assess_course(course: &TreatedCourse, settings: &BaselineSettings) -> CourseOutcome {
    let Ok(base) = baseline(&course.pain, course.first_infusion, settings) else {
        return CourseOutcome::NoBaseline;
    };
    let first_after = course
        .pain
        .iter()
        .filter(|r| r.at >= course.series_end)
        .min_by_key(|r| r.at);
    let Some(first_after) = first_after else {
        return CourseOutcome::NoReportAfterSeries {
            baseline: base.value,
        };
    };
    match (
        classify_pain_change(base.value, first_after.score),
        durability(base.value, course.series_end, &course.pain),
    ) {
        (Ok(change), Ok(durability)) => CourseOutcome::Assessed {
            baseline: base.value,
            change,
            durability,
        },
        _ => CourseOutcome::NoBaseline,
    }
}

/// The results of one group of patients (a condition, a protocol, all).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupResults {
    /// Patients treated in the period.
    pub patients: usize,
    /// Without a usable baseline.
    pub no_baseline: usize,
    /// With a baseline but no report after the series yet.
    pub awaiting_report: usize,
    /// With a baseline and a report after the series: the denominator of
    /// the responder rates.
    pub assessed: usize,
    /// ≥ 30 % reduction (IMMPACT moderately important; Dworkin 2008).
    pub responders_30: usize,
    /// ≥ 50 % reduction (IMMPACT substantial; Dworkin 2008).
    pub responders_50: usize,
    /// Durability of the ≥ 30 % responders (Kaplan–Meier).
    pub durability: DurabilitySummary,
}

impl GroupResults {
    /// Whether the group is too small to read (`SMALL_GROUP_BELOW`).
    pub fn is_small(&self) -> bool {
        self.assessed < SMALL_GROUP_BELOW
    }

    /// Share of the assessed with a ≥ 30 % reduction; `None` with none
    /// assessed.
    pub fn rate_30(&self) -> Option<f64> {
        rate(self.responders_30, self.assessed)
    }

    /// Share of the assessed with a ≥ 50 % reduction.
    pub fn rate_50(&self) -> Option<f64> {
        rate(self.responders_50, self.assessed)
    }
}

/// Results of the whole clinic, by condition group and by protocol.
#[derive(Debug, Clone, PartialEq)]
pub struct ClinicResults {
    pub all: GroupResults,
    /// Every group of `ConditionGroup::ALL` with at least one patient, in
    /// that order.
    pub by_condition: Vec<(ConditionGroup, GroupResults)>,
    /// Every protocol with at least one patient, by name.
    pub by_protocol: Vec<(String, GroupResults)>,
}

/// A course already judged by [`assess_course`]: what the clinic-wide
/// summaries need of it. The store keeps one per treated patient so that
/// the page need not re-read every pain report (docs/outcomes.md, "Scale").
#[derive(Debug, Clone, PartialEq)]
pub struct AssessedCourse {
    /// As [`TreatedCourse::conditions`].
    pub conditions: Vec<ConditionGroup>,
    /// As [`TreatedCourse::protocol`].
    pub protocol: String,
    pub outcome: CourseOutcome,
}

impl AssessedCourse {
    /// Judges one course.
    pub fn of(course: &TreatedCourse, settings: &BaselineSettings) -> AssessedCourse {
        AssessedCourse {
            conditions: course.conditions.clone(),
            protocol: course.protocol.clone(),
            outcome: assess_course(course, settings),
        }
    }
}

/// Assesses every course and summarises the clinic, by condition and by
/// protocol.
pub fn clinic_results(courses: &[TreatedCourse], settings: &BaselineSettings) -> ClinicResults {
    let assessed: Vec<AssessedCourse> = courses
        .iter()
        .map(|course| AssessedCourse::of(course, settings))
        .collect();
    summarise_clinic(&assessed)
}

/// Summarises courses already assessed, by condition and by protocol: the
/// same answer as [`clinic_results`] on the courses they were judged from.
pub fn summarise_clinic(courses: &[AssessedCourse]) -> ClinicResults {
    let all = summarise_group(courses.iter().map(|c| &c.outcome));
    let by_condition = ConditionGroup::ALL
        .iter()
        .filter_map(|&group| {
            let members: Vec<&CourseOutcome> = courses
                .iter()
                .filter(|course| {
                    course.conditions.contains(&group)
                        || (course.conditions.is_empty()
                            && group == ConditionGroup::OtherChronicPain)
                })
                .map(|course| &course.outcome)
                .collect();
            (!members.is_empty()).then(|| (group, summarise_group(members.into_iter())))
        })
        .collect();
    let mut protocols: Vec<&str> = courses.iter().map(|c| c.protocol.as_str()).collect();
    protocols.sort_unstable();
    protocols.dedup();
    let by_protocol = protocols
        .into_iter()
        .map(|protocol| {
            let members = courses
                .iter()
                .filter(|course| course.protocol == protocol)
                .map(|course| &course.outcome);
            (protocol.to_string(), summarise_group(members))
        })
        .collect();
    ClinicResults {
        all,
        by_condition,
        by_protocol,
    }
}

/// Counts and Kaplan–Meier durability of a group of course outcomes.
pub fn summarise_group<'a>(outcomes: impl Iterator<Item = &'a CourseOutcome>) -> GroupResults {
    let mut results = GroupResults {
        patients: 0,
        no_baseline: 0,
        awaiting_report: 0,
        assessed: 0,
        responders_30: 0,
        responders_50: 0,
        durability: summarise_durability(&[]),
    };
    let mut durabilities = Vec::new();
    for outcome in outcomes {
        results.patients += 1;
        match outcome {
            CourseOutcome::NoBaseline => results.no_baseline += 1,
            CourseOutcome::NoReportAfterSeries { .. } => results.awaiting_report += 1,
            CourseOutcome::Assessed {
                change, durability, ..
            } => {
                results.assessed += 1;
                if change.is_responder() {
                    results.responders_30 += 1;
                }
                if *change == PainChange::SubstantialReduction {
                    results.responders_50 += 1;
                }
                durabilities.push(*durability);
            }
        }
    }
    results.durability = summarise_durability(&durabilities);
    results
}

fn rate(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

// ---------------------------------------------------------------------------

/// Absorbs binary floating-point error in threshold comparisons (e.g.
/// 6 − 4.2 = 1.7999…); far below any clinically meaningful difference.
const COMPARISON_TOLERANCE: f64 = 1e-9;

/// Whether `current` is at least `percent` % below `baseline` (> 0), compared
/// as (baseline − current) × 100 ≥ percent × baseline to avoid dividing.
fn reduction_at_least(baseline: f64, current: f64, percent: f64) -> bool {
    (baseline - current) * 100.0 >= percent * baseline - COMPARISON_TOLERANCE * baseline.abs()
}

fn check_baseline_and_current(baseline: f64, current: f64) -> Result<(), OutcomeError> {
    if !baseline.is_finite() {
        return Err(OutcomeError::NotFinite { what: "baseline" });
    }
    if !current.is_finite() {
        return Err(OutcomeError::NotFinite {
            what: "current score",
        });
    }
    if baseline <= 0.0 {
        return Err(OutcomeError::BaselineNotPositive {
            baseline: baseline.to_string(),
        });
    }
    Ok(())
}

fn check_reports(reports: &[ScoreReport]) -> Result<(), OutcomeError> {
    if reports.iter().all(|r| r.score.is_finite()) {
        Ok(())
    } else {
        Err(OutcomeError::NotFinite {
            what: "reported score",
        })
    }
}

/// Whole 24-hour periods from `from` to `to` (0 if `to` is not later).
fn whole_days_between(from: Timestamp, to: Timestamp) -> u32 {
    let seconds = to.duration_since(from).as_secs();
    u32::try_from(seconds.max(0) / 86_400).unwrap_or(u32::MAX)
}

// ---------------------------------------------------------------------------
// Infusion series

/// How infusion sessions are grouped into series. A clinic setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesSettings {
    /// A session more than this many days (24-hour periods) after the one
    /// before it starts a new series. Default 21: ours, not from the
    /// literature: an outpatient series is given over two to three weeks
    /// (shared/clinical/dosing.md, the outpatient series protocols), so three
    /// weeks without a session means the series has ended.
    pub max_gap_days: u16,
}

impl Default for SeriesSettings {
    fn default() -> Self {
        SeriesSettings { max_gap_days: 21 }
    }
}

/// One infusion series: consecutive sessions no more than the setting's gap
/// apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InfusionSeries {
    pub first_session: Timestamp,
    /// The start of the last session: where durability is counted from.
    pub last_session: Timestamp,
    pub sessions: usize,
}

/// Groups session start times (any order) into series, the oldest first.
pub fn infusion_series(sessions: &[Timestamp], settings: &SeriesSettings) -> Vec<InfusionSeries> {
    let mut sorted = sessions.to_vec();
    sorted.sort();
    let gap = SignedDuration::from_hours(24 * i64::from(settings.max_gap_days));
    let mut series: Vec<InfusionSeries> = Vec::new();
    for at in sorted {
        match series.last_mut() {
            Some(current) if at.duration_since(current.last_session) <= gap => {
                current.last_session = at;
                current.sessions += 1;
            }
            _ => series.push(InfusionSeries {
                first_session: at,
                last_session: at,
                sessions: 1,
            }),
        }
    }
    series
}

// ---------------------------------------------------------------------------
// Which rule judges a scale's change

/// The published rule that judges a change from baseline on one scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ChangeRule {
    /// Pain intensity: the IMMPACT classes, 30 % and 50 % reductions
    /// (Dworkin 2008 [checked]); durability applies (outcomes.md).
    PainIntensity,
    /// PHQ-9 total: response ≥ 50 %, remission < 5, MID 5 points
    /// (outcomes.md [to check]).
    Depression,
    /// A scale with a minimal important difference only (outcomes.md).
    MinimalImportantDifference(&'static MinimalImportantDifference),
    /// No published threshold for this scale in outcomes.md: the change is
    /// shown, never judged.
    NoPublishedThreshold,
}

/// The rule for `scale` of `instrument`. Pain intensity scales are the NRS
/// pain rating, the BPI severity scale and the PEG (whose first item is
/// pain intensity and which is read on the same 0–10 scale; Krebs EE et al.
/// J Gen Intern Med 2009;24:733–738): IMMPACT's classes apply to "pain
/// intensity" (Dworkin 2008).
pub fn change_rule(instrument: Instrument, scale: &str) -> ChangeRule {
    match (instrument, scale) {
        (Instrument::PainNumericRating, "score")
        | (Instrument::Peg, "score")
        | (Instrument::BriefPainInventory, "severity") => ChangeRule::PainIntensity,
        (Instrument::Phq9, "total") => ChangeRule::Depression,
        _ => MINIMAL_IMPORTANT_DIFFERENCES
            .iter()
            .find(|mid| mid.instrument == instrument && mid.scale == scale)
            .map_or(
                ChangeRule::NoPublishedThreshold,
                ChangeRule::MinimalImportantDifference,
            ),
    }
}

/// A change from baseline as the scale's rule judges it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ChangeVerdict {
    Pain(PainChange),
    Depression(DepressionChange),
    /// Whether the minimal important difference was met.
    MinimalImportant {
        met: bool,
        mid: &'static MinimalImportantDifference,
    },
    NoPublishedThreshold,
}

/// Judges the change from `baseline` to `current` on a scale by its rule.
pub fn judge_change(
    rule: ChangeRule,
    baseline: f64,
    current: f64,
) -> Result<ChangeVerdict, OutcomeError> {
    Ok(match rule {
        ChangeRule::PainIntensity => ChangeVerdict::Pain(classify_pain_change(baseline, current)?),
        ChangeRule::Depression => {
            ChangeVerdict::Depression(classify_depression_change(baseline, current)?)
        }
        ChangeRule::MinimalImportantDifference(mid) => {
            if !baseline.is_finite() || !current.is_finite() {
                return Err(OutcomeError::NotFinite {
                    what: "baseline or current score",
                });
            }
            ChangeVerdict::MinimalImportant {
                met: mid.is_met(baseline, current),
                mid,
            }
        }
        ChangeRule::NoPublishedThreshold => ChangeVerdict::NoPublishedThreshold,
    })
}

/// A horizontal line to draw on a trajectory: a threshold under the rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Threshold {
    pub value: f64,
    pub kind: ThresholdKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThresholdKind {
    /// A reduction of `percent` % from baseline (IMMPACT 30 %, 50 %; PHQ-9
    /// response 50 %; a MID in percent).
    ReductionPercent(u8),
    /// A reduction of this many points (a MID in points).
    ReductionPoints(u8),
    /// PHQ-9 remission: below 5.
    DepressionRemission,
}

/// The thresholds of `rule` for this baseline, in the order drawn.
pub fn thresholds(rule: ChangeRule, baseline: f64) -> Vec<Threshold> {
    let reduced = |percent: f64| baseline * (1.0 - percent / 100.0);
    match rule {
        ChangeRule::PainIntensity => vec![
            Threshold {
                value: reduced(PAIN_REDUCTION_MODERATE_PERCENT),
                kind: ThresholdKind::ReductionPercent(30),
            },
            Threshold {
                value: reduced(PAIN_REDUCTION_SUBSTANTIAL_PERCENT),
                kind: ThresholdKind::ReductionPercent(50),
            },
        ],
        ChangeRule::Depression => vec![
            Threshold {
                value: reduced(DEPRESSION_RESPONSE_REDUCTION_PERCENT),
                kind: ThresholdKind::ReductionPercent(50),
            },
            Threshold {
                value: DEPRESSION_REMISSION_BELOW,
                kind: ThresholdKind::DepressionRemission,
            },
        ],
        ChangeRule::MinimalImportantDifference(mid) => {
            let mut lines = Vec::new();
            if let Some(points) = mid.points {
                lines.push(Threshold {
                    value: baseline - points,
                    kind: ThresholdKind::ReductionPoints(points.round() as u8),
                });
            }
            if let Some(percent) = mid.percent {
                lines.push(Threshold {
                    value: reduced(percent),
                    kind: ThresholdKind::ReductionPercent(percent.round() as u8),
                });
            }
            lines
        }
        ChangeRule::NoPublishedThreshold => Vec::new(),
    }
}
