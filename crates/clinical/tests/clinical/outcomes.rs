//! Outcome definitions (shared/clinical/outcomes.md): change from baseline,
//! IMMPACT classes, PHQ-9 response and remission, minimal important
//! differences, the baseline rule, durability, and Kaplan–Meier against a
//! published textbook example.

use jiff::{SignedDuration, Timestamp};
use respite_clinical::instruments::Instrument;
use respite_clinical::outcomes::{
    assess_course, baseline, classify_depression_change, classify_pain_change, clinic_results,
    durability, kaplan_meier, minimal_important_difference, percent_change_from_baseline,
    summarise_durability, Baseline, BaselineMethod, BaselineSettings, ConditionGroup,
    CourseOutcome, DepressionChange, Durability, OutcomeError, PainChange, ScoreReport,
    SurvivalObservation, TreatedCourse, Z_95,
};

fn check<I: std::fmt::Debug, O: PartialEq + std::fmt::Debug>(
    function: impl Fn(&I) -> O,
    input: I,
    expected: O,
) {
    let got = function(&input);
    assert_eq!(got, expected, "input {input:?}");
}

/// A fixed instant: first infusion / end of series in the tests.
fn t0() -> Timestamp {
    Timestamp::from_second(1_750_000_000).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn at_hours(hours: i64) -> Timestamp {
    t0().saturating_add(SignedDuration::from_hours(hours))
        .unwrap_or(Timestamp::MAX)
}

fn report(hours: i64, score: f64) -> ScoreReport {
    ScoreReport {
        at: at_hours(hours),
        score,
    }
}

#[test]
fn percent_change() {
    let change =
        |(baseline, current): &(f64, f64)| percent_change_from_baseline(*baseline, *current);
    check(change, (10.0, 7.0), Ok(-30.0));
    check(change, (8.0, 4.0), Ok(-50.0));
    check(change, (4.0, 5.0), Ok(25.0));
    check(
        change,
        (0.0, 3.0),
        Err(OutcomeError::BaselineNotPositive {
            baseline: "0".into(),
        }),
    );
    check(
        change,
        (f64::NAN, 3.0),
        Err(OutcomeError::NotFinite { what: "baseline" }),
    );
    check(
        change,
        (5.0, f64::INFINITY),
        Err(OutcomeError::NotFinite {
            what: "current score",
        }),
    );
}

#[test]
fn immpact_pain_classes_at_their_boundaries() {
    use PainChange::*;
    let classify = |(baseline, current): &(f64, f64)| classify_pain_change(*baseline, *current);
    // Dworkin 2008: ≥ 10–20 % minimal, ≥ 30 % moderate, ≥ 50 % substantial.
    for (baseline, current, expected) in [
        (10.0, 12.0, NoImportantReduction),
        (10.0, 9.1, NoImportantReduction),
        (10.0, 9.0, MinimalReduction),
        (10.0, 7.1, MinimalReduction),
        (10.0, 7.0, ModerateReduction),
        (10.0, 5.1, ModerateReduction),
        (10.0, 5.0, SubstantialReduction),
        (10.0, 0.0, SubstantialReduction),
        // 6 → 4.2 is exactly 30 %, although 6 − 4.2 = 1.7999… in binary.
        (6.0, 4.2, ModerateReduction),
        (6.0, 3.0, SubstantialReduction),
        // A mean baseline: 6.5 → 4.55 is exactly 30 %.
        (6.5, 4.55, ModerateReduction),
        (6.5, 4.6, MinimalReduction),
    ] {
        check(classify, (baseline, current), Ok(expected));
    }
    assert!(ModerateReduction.is_responder());
    assert!(SubstantialReduction.is_responder());
    assert!(!MinimalReduction.is_responder());
}

#[test]
fn phq9_response_remission_and_minimal_important_difference() {
    let classify =
        |(baseline, current): &(f64, f64)| classify_depression_change(*baseline, *current);
    let change = |response, remission, minimal_important_improvement| {
        Ok(DepressionChange {
            response,
            remission,
            minimal_important_improvement,
        })
    };
    // Response ≥ 50 %, remission < 5, MID 5 points (outcomes.md, [to check]).
    check(classify, (20.0, 10.0), change(Some(true), false, true));
    check(classify, (20.0, 11.0), change(Some(false), false, true));
    check(classify, (12.0, 4.0), change(Some(true), true, true));
    check(classify, (8.0, 4.0), change(Some(true), true, false));
    check(classify, (8.0, 5.0), change(Some(false), false, false));
    check(classify, (0.0, 0.0), change(None, true, false));
}

#[test]
fn minimal_important_differences() {
    let met = |(instrument, baseline, current): &(Instrument, f64, f64)| {
        minimal_important_difference(*instrument).map(|mid| mid.is_met(*baseline, *current))
    };
    // BPI interference: 1 point (Dworkin 2008).
    check(met, (Instrument::BriefPainInventory, 6.0, 5.0), Some(true));
    check(met, (Instrument::BriefPainInventory, 6.0, 5.5), Some(false));
    // ODI: 10 points or 30 % (Ostelo 2008, [to check]).
    check(
        met,
        (Instrument::OswestryDisabilityIndex, 40.0, 30.0),
        Some(true),
    );
    check(
        met,
        (Instrument::OswestryDisabilityIndex, 20.0, 14.0),
        Some(true),
    );
    check(
        met,
        (Instrument::OswestryDisabilityIndex, 20.0, 15.0),
        Some(false),
    );
    // FIQR: ≈ 14 % (Bennett 2009, [to check]).
    check(met, (Instrument::Fiqr, 50.0, 43.0), Some(true));
    check(met, (Instrument::Fiqr, 50.0, 43.5), Some(false));
    check(met, (Instrument::Hit6, 60.0, 50.0), None);
}

#[test]
fn baseline_rule() {
    let settings = BaselineSettings::default();
    assert_eq!(settings.window_days, 14);
    let take = |reports: &Vec<ScoreReport>| baseline(reports, t0(), &settings);
    // In the 14 days before: −14 d exactly, −3 d, −12 h. Outside: −20 d,
    // the infusion instant itself, and after.
    check(
        take,
        vec![
            report(-20 * 24, 9.0),
            report(-14 * 24, 6.0),
            report(-3 * 24, 7.0),
            report(-12, 5.0),
            report(0, 1.0),
            report(48, 2.0),
        ],
        Ok(Baseline {
            value: 6.0,
            method: BaselineMethod::MeanOfWindow {
                reports: 3,
                window_days: 14,
            },
        }),
    );
    // Nothing in the window: the last single score before the infusion.
    check(
        take,
        vec![
            report(-40 * 24, 8.0),
            report(-30 * 24, 7.0),
            report(24, 2.0),
        ],
        Ok(Baseline {
            value: 7.0,
            method: BaselineMethod::LastScoreBefore {
                at: at_hours(-30 * 24),
            },
        }),
    );
    check(
        take,
        vec![report(1, 5.0)],
        Err(OutcomeError::NoScoreBeforeFirstInfusion),
    );
    check(
        take,
        vec![report(-1, f64::NAN)],
        Err(OutcomeError::NotFinite {
            what: "reported score",
        }),
    );
    // A clinic setting of 3 days.
    let three_days = BaselineSettings { window_days: 3 };
    assert_eq!(
        baseline(
            &[report(-4 * 24, 9.0), report(-3 * 24, 7.0), report(-1, 5.0)],
            t0(),
            &three_days
        )
        .map(|b| b.value),
        Ok(6.0)
    );
}

#[test]
fn durability_of_relief() {
    // Baseline 8: relief lasts while the score is ≤ 8 − 30 % = 5.6.
    let measure = |reports: &Vec<ScoreReport>| durability(8.0, t0(), reports);
    let day = |d: i64, score: f64| report(d * 24, score);
    // One report above (day 14) then relief again; returns on days 20 and 21.
    check(
        measure,
        vec![
            day(1, 3.0),
            day(7, 4.0),
            day(14, 6.0),
            day(15, 5.0),
            day(20, 6.0),
            day(21, 7.0),
            day(28, 8.0),
        ],
        Ok(Durability::Returned {
            days: 20,
            returned_at: at_hours(20 * 24),
            confirmed_at: at_hours(21 * 24),
        }),
    );
    // Reports in any order; a report before the series end is ignored.
    check(
        measure,
        vec![day(21, 7.0), day(-3, 8.0), day(20, 6.0), day(2, 2.0)],
        Ok(Durability::Returned {
            days: 20,
            returned_at: at_hours(20 * 24),
            confirmed_at: at_hours(21 * 24),
        }),
    );
    // Last report above but unconfirmed: censored at the last report.
    check(
        measure,
        vec![day(1, 3.0), day(30, 4.0), day(45, 7.0)],
        Ok(Durability::StillRelieved {
            days: 45,
            last_report_at: at_hours(45 * 24),
        }),
    );
    // Exactly 30 % below baseline is still relief (5.6 on baseline 8).
    check(
        measure,
        vec![day(1, 5.6), day(2, 5.6), day(3, 5.6)],
        Ok(Durability::StillRelieved {
            days: 3,
            last_report_at: at_hours(3 * 24),
        }),
    );
    check(
        measure,
        vec![day(1, 6.0), day(2, 3.0)],
        Ok(Durability::NotAResponder {
            first_report_at: at_hours(24),
        }),
    );
    check(
        measure,
        vec![day(-1, 3.0)],
        Err(OutcomeError::NoReportAfterSeries),
    );
    assert_eq!(
        durability(0.0, t0(), &[day(1, 0.0)]),
        Err(OutcomeError::BaselineNotPositive {
            baseline: "0".into()
        })
    );
}

/// Freireich EJ et al. Blood 1963;21:699–716, 6-mercaptopurine arm: weeks
/// in remission (`false`: still in remission, censored). The Kaplan–Meier
/// estimates below are the ones printed for these data in Kleinbaum DG,
/// Klein M. Survival Analysis: A Self-Learning Text, 3rd ed. (Springer 2012),
/// chapter 2, to four decimals; each is also the hand product of (1 − d/n).
const SIX_MP: [(u32, bool); 21] = [
    (6, true),
    (6, true),
    (6, true),
    (6, false),
    (7, true),
    (9, false),
    (10, true),
    (10, false),
    (11, false),
    (13, true),
    (16, true),
    (17, false),
    (19, false),
    (20, false),
    (22, true),
    (23, true),
    (25, false),
    (32, false),
    (32, false),
    (34, false),
    (35, false),
];

/// The placebo arm of the same trial: every child relapsed (no censoring).
const PLACEBO: [u32; 21] = [
    1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23,
];

#[test]
fn kaplan_meier_matches_the_textbook_leukaemia_example() {
    let observations: Vec<SurvivalObservation> = SIX_MP
        .iter()
        .map(|&(time, event)| SurvivalObservation { time, event })
        .collect();
    let curve = kaplan_meier(&observations);
    // (time, at risk, relapses, S(t)) — Kleinbaum & Klein, 6-MP group.
    let published = [
        (6, 21, 3, 0.8571),
        (7, 17, 1, 0.8067),
        (10, 15, 1, 0.7529),
        (13, 12, 1, 0.6902),
        (16, 11, 1, 0.6275),
        (22, 7, 1, 0.5378),
        (23, 6, 1, 0.4482),
    ];
    for (time, at_risk, events, survival) in published {
        let Some(step) = curve.steps.iter().find(|s| s.time == time) else {
            panic!("no step at {time}");
        };
        assert_eq!(
            (step.at_risk, step.events),
            (at_risk, events),
            "week {time}"
        );
        assert!(
            (step.survival - survival).abs() < 0.5e-4,
            "week {time}: {} vs {survival}",
            step.survival
        );
    }
    // Exact product at 23 weeks: 18/21 · 16/17 · 14/15 · 11/12 · 10/11 · 6/7 · 5/6.
    let exact =
        18.0 / 21.0 * 16.0 / 17.0 * 14.0 / 15.0 * 11.0 / 12.0 * 10.0 / 11.0 * 6.0 / 7.0 * 5.0 / 6.0;
    assert!((curve.survival_at(30) - exact).abs() < 1e-12);
    assert_eq!(curve.survival_at(5), 1.0);
    // Median remission: 23 weeks on 6-MP, 8 weeks on placebo (Kleinbaum &
    // Klein, chapter 2).
    assert_eq!(curve.median(), Some(23));
    let placebo: Vec<SurvivalObservation> = PLACEBO
        .iter()
        .map(|&time| SurvivalObservation { time, event: true })
        .collect();
    assert_eq!(kaplan_meier(&placebo).median(), Some(8));
}

#[test]
fn kaplan_meier_log_log_band_matches_the_textbook_leukaemia_example() {
    let observations: Vec<SurvivalObservation> = SIX_MP
        .iter()
        .map(|&(time, event)| SurvivalObservation { time, event })
        .collect();
    let curve = kaplan_meier(&observations);
    let band = curve.confidence_band_95();
    assert_eq!(band.len(), curve.steps.len());
    // (week, lower, upper): the 6-MP arm's 95 % log-log interval as printed
    // by R's survfit(conf.type = "log-log") in Kleinbaum & Klein, Survival
    // Analysis, 3rd ed., and by Collett §2.2.3's formula.
    let published = [
        (6, 0.620, 0.952),
        (7, 0.563, 0.923),
        (10, 0.503, 0.889),
        (13, 0.432, 0.849),
        (16, 0.368, 0.805),
        (22, 0.268, 0.747),
        (23, 0.188, 0.680),
    ];
    for (time, lower, upper) in published {
        let Some(index) = curve.steps.iter().position(|s| s.time == time) else {
            panic!("no step at {time}");
        };
        let Some(interval) = band[index] else {
            panic!("no interval at week {time}");
        };
        assert!(
            (interval.lower - lower).abs() < 0.5e-3 && (interval.upper - upper).abs() < 0.5e-3,
            "week {time}: {interval:?} vs ({lower}, {upper})"
        );
    }
    // By hand at week 6: V = 3 / (21 · 18); S = 6/7;
    // lower = S^exp(−z √V / log S) … written as exp(−exp(log(−log S) + z√V/log S)).
    let s: f64 = 18.0 / 21.0;
    let v: f64 = 3.0 / (21.0 * 18.0);
    let lower = (-((-s.ln()).ln() - Z_95 * v.sqrt() / s.ln()).exp()).exp();
    let Some(week6) = band[0] else {
        panic!("no interval at week 6");
    };
    assert!((week6.lower - lower).abs() < 1e-12);
    // Before the first relapse everyone is at risk; after the last
    // observation, nobody.
    assert_eq!(curve.at_risk_at(0), 21);
    assert_eq!(curve.at_risk_at(6), 21);
    assert_eq!(curve.at_risk_at(7), 17);
    assert_eq!(curve.at_risk_at(8), 16);
    assert_eq!(curve.at_risk_at(35), 1);
    assert_eq!(curve.at_risk_at(36), 0);
}

#[test]
fn kaplan_meier_band_is_undefined_at_one_and_zero() {
    let observation = |time, event| SurvivalObservation { time, event };
    // All censored: S stays 1; no variance, no interval.
    let censored = kaplan_meier(&[observation(3, false), observation(7, false)]);
    assert_eq!(censored.confidence_band_95(), vec![None, None]);
    // Everyone has the event: S reaches 0, where Greenwood divides by zero.
    let all = kaplan_meier(&[observation(2, true), observation(4, true)]);
    let band = all.confidence_band_95();
    assert!(band[0].is_some());
    assert_eq!(band[1], None);
    assert_eq!(kaplan_meier(&[]).confidence_band_95(), vec![]);
    assert_eq!(kaplan_meier(&[]).at_risk_at(0), 0);
}

#[test]
fn kaplan_meier_edge_cases() {
    let curve = kaplan_meier(&[]);
    assert!(curve.steps.is_empty());
    assert_eq!(curve.median(), None);
    assert_eq!(curve.survival_at(10), 1.0);
    // All censored: survival stays 1, no median.
    let censored = kaplan_meier(&[
        SurvivalObservation {
            time: 5,
            event: false,
        },
        SurvivalObservation {
            time: 9,
            event: false,
        },
    ]);
    assert_eq!(censored.survival_at(100), 1.0);
    assert_eq!(censored.median(), None);
    // Two events: S = 0.5 after the first, so the median is the first time.
    let two = kaplan_meier(&[
        SurvivalObservation {
            time: 4,
            event: true,
        },
        SurvivalObservation {
            time: 8,
            event: true,
        },
    ]);
    assert_eq!(two.median(), Some(4));
}

#[test]
fn durability_summary_uses_responders_only() {
    let durabilities = [
        Durability::NotAResponder {
            first_report_at: t0(),
        },
        Durability::Returned {
            days: 10,
            returned_at: t0(),
            confirmed_at: t0(),
        },
        Durability::Returned {
            days: 30,
            returned_at: t0(),
            confirmed_at: t0(),
        },
        Durability::StillRelieved {
            days: 20,
            last_report_at: t0(),
        },
    ];
    let summary = summarise_durability(&durabilities);
    assert_eq!(
        (
            summary.responders,
            summary.non_responders,
            summary.returned,
            summary.censored
        ),
        (3, 1, 2, 1)
    );
    // By hand: S(10) = 2/3; censored at 20; S(30) = 2/3 · 0/1 = 0 → median 30.
    assert_eq!(summary.median_days, Some(30));
}

#[test]
fn condition_groups_follow_the_spec_headings() {
    check(
        |code: &&str| ConditionGroup::of_code(code),
        "M54.50",
        ConditionGroup::BackPain,
    );
    check(
        |code: &&str| ConditionGroup::of_code(code),
        "M51.360",
        ConditionGroup::BackPain,
    );
    check(
        |code: &&str| ConditionGroup::of_code(code),
        "M41.9",
        ConditionGroup::BackPain,
    );
    check(
        |code: &&str| ConditionGroup::of_code(code),
        "G43.709",
        ConditionGroup::Headache,
    );
    check(
        |code: &&str| ConditionGroup::of_code(code),
        "G44.221",
        ConditionGroup::Headache,
    );
    check(
        |code: &&str| ConditionGroup::of_code(code),
        "G44.001",
        ConditionGroup::Headache,
    );
    check(
        |code: &&str| ConditionGroup::of_code(code),
        "H53.149",
        ConditionGroup::Headache,
    );
    check(
        |code: &&str| ConditionGroup::of_code(code),
        "M17.9",
        ConditionGroup::JointPain,
    );
    check(
        |code: &&str| ConditionGroup::of_code(code),
        "M06.9",
        ConditionGroup::JointPain,
    );
    check(
        |code: &&str| ConditionGroup::of_code(code),
        "M70.90",
        ConditionGroup::JointPain,
    );
    check(
        |code: &&str| ConditionGroup::of_code(code),
        "S83.511S",
        ConditionGroup::JointPain,
    );
    check(
        |code: &&str| ConditionGroup::of_code(code),
        "M79.7",
        ConditionGroup::Fibromyalgia,
    );
    check(
        |code: &&str| ConditionGroup::of_code(code),
        "N80.9",
        ConditionGroup::Endometriosis,
    );
    check(
        |code: &&str| ConditionGroup::of_code(code),
        "G90.511",
        ConditionGroup::Crps,
    );
    check(
        |code: &&str| ConditionGroup::of_code(code),
        "G56.41",
        ConditionGroup::Crps,
    );
    check(
        |code: &&str| ConditionGroup::of_code(code),
        "G89.4",
        ConditionGroup::OtherChronicPain,
    );
    check(
        |code: &&str| ConditionGroup::of_code(code),
        "Z00.0",
        ConditionGroup::OtherChronicPain,
    );
}

/// Days after the fixed instant, as a report.
fn day(days: i64, score: f64) -> ScoreReport {
    report(days * 24, score)
}

fn course(conditions: &[ConditionGroup], protocol: &str, pain: Vec<ScoreReport>) -> TreatedCourse {
    TreatedCourse {
        conditions: conditions.to_vec(),
        protocol: protocol.into(),
        first_infusion: at_hours(0),
        series_end: at_hours(10 * 24),
        pain,
    }
}

#[test]
fn clinic_results_by_hand() {
    use ConditionGroup::{BackPain, Crps, Headache};
    let settings = BaselineSettings::default();
    // Baseline 8 for everyone (two reports in the 14 days before day 0).
    let before = || vec![day(-10, 7.0), day(-3, 9.0)];
    let with = |after: &[(i64, f64)]| {
        let mut pain = before();
        pain.extend(after.iter().map(|&(d, s)| day(d, s)));
        pain
    };
    let courses = vec![
        // 1. 50 % (4 of 8) at day 10; returns at day 40 (6, 7): event at 30 days.
        course(&[BackPain], "A", with(&[(10, 4.0), (40, 6.0), (47, 7.0)])),
        // 2. 37.5 % (5 of 8); still relieved at day 70: censored at 60.
        course(&[BackPain, Headache], "A", with(&[(10, 5.0), (70, 5.0)])),
        // 3. 25 %: not a responder.
        course(&[Headache], "B", with(&[(10, 6.0)])),
        // 4. No report after the series yet.
        course(&[Crps], "B", with(&[(2, 3.0)])),
        // 5. No baseline.
        course(&[], "B", vec![day(12, 2.0)]),
    ];
    let results = clinic_results(&courses, &settings);
    let all = &results.all;
    assert_eq!(
        (
            all.patients,
            all.no_baseline,
            all.awaiting_report,
            all.assessed
        ),
        (5, 1, 1, 3)
    );
    assert_eq!((all.responders_30, all.responders_50), (2, 1));
    assert_eq!(all.rate_30(), Some(2.0 / 3.0));
    assert!(all.is_small());
    let steps: Vec<(u32, usize, usize, usize)> = all
        .durability
        .curve
        .steps
        .iter()
        .map(|s| (s.time, s.at_risk, s.events, s.censored))
        .collect();
    assert_eq!(steps, vec![(30, 2, 1, 0), (60, 1, 0, 1)]);
    assert_eq!(all.durability.curve.survival_at(30), 0.5);
    let groups: Vec<(ConditionGroup, usize, usize)> = results
        .by_condition
        .iter()
        .map(|(g, r)| (*g, r.patients, r.responders_30))
        .collect();
    assert_eq!(
        groups,
        vec![
            (BackPain, 2, 2),
            (Headache, 2, 1),
            (Crps, 1, 0),
            (ConditionGroup::OtherChronicPain, 1, 0)
        ]
    );
    let protocols: Vec<(&str, usize, usize, usize)> = results
        .by_protocol
        .iter()
        .map(|(p, r)| (p.as_str(), r.patients, r.assessed, r.responders_50))
        .collect();
    assert_eq!(protocols, vec![("A", 2, 2, 1), ("B", 3, 1, 0)]);
    assert_eq!(
        assess_course(&courses[2], &settings),
        CourseOutcome::Assessed {
            baseline: 8.0,
            change: PainChange::MinimalReduction,
            durability: Durability::NotAResponder {
                first_report_at: at_hours(240)
            },
        }
    );
}

#[test]
fn sessions_group_into_series_by_the_gap_between_them() {
    use respite_clinical::outcomes::{infusion_series, InfusionSeries, SeriesSettings};
    let day = |d: i64| at_hours(24 * d);
    // Six sessions over two weeks, then a booster two months later.
    let sessions = [day(60), day(0), day(2), day(4), day(7), day(9), day(11)];
    let series = infusion_series(&sessions, &SeriesSettings::default());
    assert_eq!(
        series,
        vec![
            InfusionSeries {
                first_session: day(0),
                last_session: day(11),
                sessions: 6
            },
            InfusionSeries {
                first_session: day(60),
                last_session: day(60),
                sessions: 1
            },
        ]
    );
    // Exactly the gap still belongs to the series; a day more does not.
    let settings = SeriesSettings { max_gap_days: 21 };
    assert_eq!(infusion_series(&[day(0), day(21)], &settings).len(), 1);
    assert_eq!(infusion_series(&[day(0), day(22)], &settings).len(), 2);
    assert!(infusion_series(&[], &settings).is_empty());
}

#[test]
fn each_scale_is_judged_by_its_published_rule() {
    use respite_clinical::outcomes::{
        change_rule, judge_change, thresholds, ChangeRule, ChangeVerdict, ThresholdKind,
    };
    assert_eq!(
        change_rule(Instrument::PainNumericRating, "score"),
        ChangeRule::PainIntensity
    );
    assert_eq!(
        change_rule(Instrument::Phq9, "total"),
        ChangeRule::Depression
    );
    assert_eq!(
        change_rule(Instrument::Gad7, "total"),
        ChangeRule::NoPublishedThreshold
    );
    let odi = change_rule(Instrument::OswestryDisabilityIndex, "index");
    assert!(matches!(odi, ChangeRule::MinimalImportantDifference(_)));

    // NRS 8 → 5 is a 37.5 % reduction: moderate (IMMPACT 30–50 %).
    assert_eq!(
        judge_change(ChangeRule::PainIntensity, 8.0, 5.0),
        Ok(ChangeVerdict::Pain(PainChange::ModerateReduction))
    );
    // The IMMPACT lines for a baseline of 8: 30 % → 5.6, 50 % → 4.
    let lines = thresholds(ChangeRule::PainIntensity, 8.0);
    assert_eq!(lines.len(), 2);
    assert!((lines[0].value - 5.6).abs() < 1e-9);
    assert_eq!(lines[0].kind, ThresholdKind::ReductionPercent(30));
    assert!((lines[1].value - 4.0).abs() < 1e-9);
    // PHQ-9 from 16: response at 8, remission below 5.
    let phq = thresholds(ChangeRule::Depression, 16.0);
    assert!((phq[0].value - 8.0).abs() < 1e-9);
    assert_eq!(phq[1].kind, ThresholdKind::DepressionRemission);
    // ODI 40 → 28: 12 points, meets the MID (10 points or 30 %, Ostelo 2008).
    assert!(matches!(
        judge_change(odi, 40.0, 28.0),
        Ok(ChangeVerdict::MinimalImportant { met: true, .. })
    ));
    assert_eq!(thresholds(odi, 40.0).len(), 2);
    assert_eq!(
        judge_change(ChangeRule::NoPublishedThreshold, 10.0, 3.0),
        Ok(ChangeVerdict::NoPublishedThreshold)
    );
    assert!(judge_change(ChangeRule::PainIntensity, 0.0, 3.0).is_err());
}
