//! Instrument scoring against the published rules and worked examples
//! (shared/clinical/instruments.md names the sources). Every expected value
//! below is computed by hand from the published rule, never pasted from the
//! code's output.

use respite_clinical::instruments::{
    AnswerError, AnswerScale, Answers, ClinicalFlag, Code, Completeness, Instrument, Licence,
    RecordedAnswer, ScaleResult, ScoringSettings,
};

/// What one scale of a scored response should be.
#[derive(Debug)]
enum Expect {
    /// Complete score with its band id (None: the scale has no bands).
    Score(f64, Option<&'static str>),
    /// Prorated score, band, and the items that were missing.
    Prorated(f64, Option<&'static str>, &'static [&'static str]),
    /// No score; these items are missing.
    NotComputable(&'static [&'static str]),
    /// The answers are rejected.
    Error(AnswerError),
}

fn answers(pairs: &[(&str, i32)]) -> Answers {
    pairs.iter().map(|(item, value)| (*item, *value)).collect()
}

fn check(instrument: Instrument, given: &[(&str, i32)], scale: &str, expected: Expect) {
    check_with(
        instrument,
        given,
        &ScoringSettings::default(),
        scale,
        expected,
    );
}

fn check_with(
    instrument: Instrument,
    given: &[(&str, i32)],
    settings: &ScoringSettings,
    scale: &str,
    expected: Expect,
) {
    let context = format!("{instrument} {scale} {given:?}");
    let result = instrument.score_with(&answers(given), settings);
    let scored = match (result, &expected) {
        (Err(error), Expect::Error(want)) => {
            assert_eq!(&error, want, "{context}");
            return;
        }
        (Err(error), _) => panic!("{context}: unexpected error {error}"),
        (Ok(scored), Expect::Error(want)) => panic!("{context}: wanted {want:?}, got {scored:?}"),
        (Ok(scored), _) => scored,
    };
    let Some(scale_score) = scored.scale(scale) else {
        panic!("{context}: no scale {scale}");
    };
    match (&scale_score.result, expected) {
        (ScaleResult::Computed(got), Expect::Score(value, band)) => {
            assert_close(got.value, value, &context);
            assert_eq!(got.band.map(|b| b.id), band, "{context}: band");
            assert_eq!(got.completeness, Completeness::Complete, "{context}");
        }
        (ScaleResult::Computed(got), Expect::Prorated(value, band, missing)) => {
            assert_close(got.value, value, &context);
            assert_eq!(got.band.map(|b| b.id), band, "{context}: band");
            match &got.completeness {
                Completeness::Prorated { missing_items, .. } => {
                    assert_eq!(missing_items.as_slice(), missing, "{context}")
                }
                Completeness::Complete => panic!("{context}: expected prorated"),
            }
        }
        (ScaleResult::NotComputable(got), Expect::NotComputable(missing)) => {
            assert_eq!(got.missing_items.as_slice(), missing, "{context}");
            assert!(!got.rule.is_empty(), "{context}: rule stated");
        }
        (got, want) => panic!("{context}: wanted {want:?}, got {got:?}"),
    }
}

fn assert_close(got: f64, want: f64, context: &str) {
    assert!(
        (got - want).abs() <= 1e-9 * want.abs().max(1.0),
        "{context}: got {got}, want {want}"
    );
}

/// PHQ-9 / GAD-7 answers with the given total, filled 3, 3, … from item 1.
fn frequency_answers_with_total(items: usize, total: i32) -> Vec<(String, i32)> {
    let mut left = total;
    (1..=items)
        .map(|item| {
            let value = left.min(3);
            left -= value;
            (item.to_string(), value)
        })
        .collect()
}

fn check_total(instrument: Instrument, items: usize, total: i32, band: &'static str) {
    let owned = frequency_answers_with_total(items, total);
    let given: Vec<(&str, i32)> = owned.iter().map(|(i, v)| (i.as_str(), *v)).collect();
    check(
        instrument,
        &given,
        "total",
        Expect::Score(f64::from(total), Some(band)),
    );
}

fn not_on_scale(instrument: Instrument, item: &str, value: i32) -> Expect {
    let Some(definition) = instrument.definition().item(item) else {
        panic!("no item {item}");
    };
    Expect::Error(AnswerError::NotOnScale {
        instrument,
        item: definition.id,
        value,
        allowed: definition.answers,
    })
}

fn unknown(instrument: Instrument, item: &str) -> Expect {
    Expect::Error(AnswerError::UnknownItem {
        instrument,
        item: item.to_owned(),
    })
}

#[test]
fn numeric_pain_rating() {
    use Instrument::PainNumericRating as Nrs;
    // 0–10, one item: Farrar 2001; Hawker 2011.
    check(Nrs, &[("1", 0)], "score", Expect::Score(0.0, None));
    check(Nrs, &[("1", 10)], "score", Expect::Score(10.0, None));
    check(Nrs, &[("1", 11)], "score", not_on_scale(Nrs, "1", 11));
    check(Nrs, &[("1", -1)], "score", not_on_scale(Nrs, "1", -1));
    check(Nrs, &[], "score", Expect::NotComputable(&["1"]));
    check(Nrs, &[("pain", 3)], "score", unknown(Nrs, "pain"));
}

#[test]
fn peg_is_the_mean_of_three_items() {
    use Instrument::Peg;
    // Krebs 2009: mean of the 3 items; all three needed.
    check(
        Peg,
        &[("1", 6), ("2", 7), ("3", 8)],
        "score",
        Expect::Score(7.0, None),
    );
    check(
        Peg,
        &[("1", 3), ("2", 4), ("3", 4)],
        "score",
        Expect::Score(11.0 / 3.0, None),
    );
    check(
        Peg,
        &[("1", 3), ("2", 4)],
        "score",
        Expect::NotComputable(&["3"]),
    );
    check(
        Peg,
        &[("1", 3), ("2", 4), ("3", 12)],
        "score",
        not_on_scale(Peg, "3", 12),
    );
}

#[test]
fn brief_pain_inventory_severity_and_interference() {
    use Instrument::BriefPainInventory as Bpi;
    let severity = [("3", 8), ("4", 2), ("5", 5), ("6", 3)];
    // Severity = mean of items 3–6: (8 + 2 + 5 + 3) / 4 = 4.5.
    check(Bpi, &severity, "severity", Expect::Score(4.5, None));
    check(
        Bpi,
        &severity[..3],
        "severity",
        Expect::NotComputable(&["6"]),
    );
    // Interference = mean of 9A–9G: (5+6+7+2+3+4+8) / 7 = 5.
    let all_seven = [
        ("9A", 5),
        ("9B", 6),
        ("9C", 7),
        ("9D", 2),
        ("9E", 3),
        ("9F", 4),
        ("9G", 8),
    ];
    check(Bpi, &all_seven, "interference", Expect::Score(5.0, None));
    // Valid with 4 of 7 (mean of the answered): (2 + 4 + 6 + 8) / 4 = 5.
    let four = [("9A", 2), ("9B", 4), ("9C", 6), ("9D", 8)];
    check(
        Bpi,
        &four,
        "interference",
        Expect::Prorated(5.0, None, &["9E", "9F", "9G"]),
    );
    // Not valid with 3 of 7.
    check(
        Bpi,
        &four[..3],
        "interference",
        Expect::NotComputable(&["9D", "9E", "9F", "9G"]),
    );
    // One subscale computable without the other.
    check(
        Bpi,
        &four,
        "severity",
        Expect::NotComputable(&["3", "4", "5", "6"]),
    );
    check(Bpi, &[("9H", 1)], "interference", unknown(Bpi, "9H"));
}

#[test]
fn phq9_band_boundaries() {
    // Kroenke 2001: 0–4, 5–9, 10–14, 15–19, 20–27.
    for (total, band) in [
        (0, "none-minimal"),
        (4, "none-minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately-severe"),
        (19, "moderately-severe"),
        (20, "severe"),
        (27, "severe"),
    ] {
        check_total(Instrument::Phq9, 9, total, band);
    }
}

#[test]
fn phq9_missing_items_follow_the_prorating_rule() {
    use Instrument::Phq9;
    // NHS Data Dictionary: 1 or 2 missing → each missing item takes the mean
    // of the answered; more → disregarded.
    // Items 1–7 = 3,2,1,0,2,3,1 (sum 12), 8 and 9 missing:
    // 12 + 2 × 12/7 = 12 × 9/7 = 15.428…, rounded to an integer before
    // banding (instruments.md): 15 → moderately severe.
    let seven = [
        ("1", 3),
        ("2", 2),
        ("3", 1),
        ("4", 0),
        ("5", 2),
        ("6", 3),
        ("7", 1),
    ];
    check(
        Phq9,
        &seven,
        "total",
        Expect::Prorated(15.0, Some("moderately-severe"), &["8", "9"]),
    );
    // One missing (item 5): items 1–4, 6–9 all 2 → mean 2 × 9 = 18.
    let eight: Vec<(&str, i32)> = ["1", "2", "3", "4", "6", "7", "8", "9"]
        .iter()
        .map(|item| (*item, 2))
        .collect();
    check(
        Phq9,
        &eight,
        "total",
        Expect::Prorated(18.0, Some("moderately-severe"), &["5"]),
    );
    // Three missing: not computable.
    check(
        Phq9,
        &seven[..6],
        "total",
        Expect::NotComputable(&["7", "8", "9"]),
    );
    check(Phq9, &[("1", 4)], "total", not_on_scale(Phq9, "1", 4));
    check(Phq9, &[("11", 0)], "total", unknown(Phq9, "11"));
}

#[test]
fn phq9_prorated_total_is_rounded_to_an_integer_before_banding() {
    use Instrument::Phq9;
    // instruments.md (Arrieta 2017 [secondary]): mean of the answered × 9,
    // rounded to an integer before banding.
    // Items 1–7 = 3,3,3,2,0,0,0 (sum 11), 8 and 9 missing: 11 × 9/7 =
    // 14.142… → 14 → moderate (10–14), not moderately severe.
    check(
        Phq9,
        &[
            ("1", 3),
            ("2", 3),
            ("3", 3),
            ("4", 2),
            ("5", 0),
            ("6", 0),
            ("7", 0),
        ],
        "total",
        Expect::Prorated(14.0, Some("moderate"), &["8", "9"]),
    );
    // Items 1–8 = 1,1,1,1,0,0,0,0 (sum 4), item 9 missing: 4 × 9/8 = 4.5 →
    // rounded half up to 5 → mild (5–9).
    check(
        Phq9,
        &[
            ("1", 1),
            ("2", 1),
            ("3", 1),
            ("4", 1),
            ("5", 0),
            ("6", 0),
            ("7", 0),
            ("8", 0),
        ],
        "total",
        Expect::Prorated(5.0, Some("mild"), &["9"]),
    );
}

#[test]
fn phq9_item_9_raises_a_safety_flag_whatever_the_total() {
    use Instrument::Phq9;
    let case = |item9: Option<i32>, expected: Vec<ClinicalFlag>| {
        let mut given = answers(&[("1", 0), ("2", 0), ("3", 0), ("4", 0)]);
        for item in ["5", "6", "7", "8"] {
            given.insert(item, 0);
        }
        if let Some(value) = item9 {
            given.insert("9", value);
        }
        let scored = Phq9.score(&given);
        assert_eq!(scored.map(|s| s.flags), Ok(expected), "item 9 = {item9:?}");
    };
    case(Some(0), vec![]);
    // Total 1 (none–minimal), yet the alert is raised: clinic safety policy.
    case(Some(1), vec![ClinicalFlag::SelfHarmThoughts { answer: 1 }]);
    case(Some(3), vec![ClinicalFlag::SelfHarmThoughts { answer: 3 }]);
    case(None, vec![ClinicalFlag::SafetyQuestionUnanswered]);
    // Even when the total cannot be computed, item 9 is read.
    let scored = Phq9.score(&answers(&[("9", 2)]));
    assert_eq!(
        scored.map(|s| (s.value("total"), s.flags)),
        Ok((None, vec![ClinicalFlag::SelfHarmThoughts { answer: 2 }]))
    );
}

#[test]
fn phq9_item_10_is_recorded_not_scored() {
    use Instrument::Phq9;
    let mut given = answers(&frequency_pairs(9, 1));
    given.insert("10", 2);
    let Ok(scored) = Phq9.score(&given) else {
        panic!("valid answers rejected");
    };
    // Nine items of 1: total 9, item 10 not added.
    assert_eq!(scored.value("total"), Some(9.0));
    assert_eq!(
        scored.recorded,
        vec![RecordedAnswer {
            item: "10",
            value: 2
        }]
    );
    check(Phq9, &[("10", 4)], "total", not_on_scale(Phq9, "10", 4));
}

fn frequency_pairs(items: usize, value: i32) -> Vec<(&'static str, i32)> {
    const IDS: [&str; 9] = ["1", "2", "3", "4", "5", "6", "7", "8", "9"];
    IDS[..items].iter().map(|id| (*id, value)).collect()
}

#[test]
fn gad7_band_boundaries_and_missing_items() {
    // Spitzer 2006: 0–4, 5–9, 10–14, 15–21.
    for (total, band) in [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ] {
        check_total(Instrument::Gad7, 7, total, band);
    }
    use Instrument::Gad7;
    check(
        Gad7,
        &frequency_pairs(6, 1),
        "total",
        Expect::NotComputable(&["7"]),
    );
    check(Gad7, &[("8", 1)], "total", unknown(Gad7, "8"));
    check(Gad7, &[("7", 4)], "total", not_on_scale(Gad7, "7", 4));
}

/// ODI sections 1..=10 with `values`; `None` leaves a section blank.
fn odi(values: [Option<i32>; 10]) -> Vec<(&'static str, i32)> {
    const IDS: [&str; 10] = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"];
    IDS.iter()
        .zip(values)
        .filter_map(|(id, value)| value.map(|v| (*id, v)))
        .collect()
}

#[test]
fn oswestry_worked_examples_and_prorating() {
    use Instrument::OswestryDisabilityIndex as Odi;
    let s = Some;
    // Fairbank & Pynsent 2000 worked example: all ten sections, total 16 →
    // 16 / 50 × 100 = 32 %.
    let all_ten = odi([s(2), s(2), s(2), s(2), s(2), s(2), s(1), s(1), s(1), s(1)]);
    check(
        Odi,
        &all_ten,
        "index",
        Expect::Score(32.0, Some("moderate")),
    );
    // Worked example with one section missed: 16 / 45 × 100 = 35.56 %
    // (printed "35.5 %" on the published scoring sheet, "35.6 %" in
    // instruments.md: both roundings of 35.555…).
    let nine = odi([s(2), s(2), s(2), s(2), s(2), s(2), s(1), None, s(2), s(1)]);
    check(
        Odi,
        &nine,
        "index",
        Expect::Prorated(16.0 / 45.0 * 100.0, Some("moderate"), &["8"]),
    );
    let Ok(scored) = Odi.score(&answers(&nine)) else {
        panic!("valid ODI rejected");
    };
    assert_eq!(
        format!("{:.1}", scored.value("index").unwrap_or(0.0)),
        "35.6"
    );
    // Two missing (default limit): 16 / 40 × 100 = 40 % → moderate (21–40).
    let eight = odi([s(2), s(2), s(2), s(2), s(2), s(2), s(2), None, s(2), None]);
    check(
        Odi,
        &eight,
        "index",
        Expect::Prorated(40.0, Some("moderate"), &["8", "10"]),
    );
    // Three missing: over the limit.
    let seven = odi([s(2), s(2), s(2), s(2), s(2), s(2), None, None, s(2), None]);
    check(
        Odi,
        &seven,
        "index",
        Expect::NotComputable(&["7", "8", "10"]),
    );
    // A clinic that allows one missing section only.
    let strict = ScoringSettings {
        oswestry_maximum_missing_sections: 1,
    };
    check_with(
        Odi,
        &eight,
        &strict,
        "index",
        Expect::NotComputable(&["8", "10"]),
    );
    check(Odi, &[("1", 6)], "index", not_on_scale(Odi, "1", 6));
    check(Odi, &[("11", 0)], "index", unknown(Odi, "11"));
}

#[test]
fn oswestry_band_boundaries() {
    use Instrument::OswestryDisabilityIndex as Odi;
    // Fairbank 2000: 0–20, 21–40, 41–60, 61–80, 81–100. Sum × 2 = %.
    for (sum, percent, band) in [
        (0, 0.0, "minimal"),
        (10, 20.0, "minimal"),
        (11, 22.0, "moderate"),
        (20, 40.0, "moderate"),
        (21, 42.0, "severe"),
        (30, 60.0, "severe"),
        (31, 62.0, "crippled"),
        (40, 80.0, "crippled"),
        (41, 82.0, "bed-bound"),
        (50, 100.0, "bed-bound"),
    ] {
        // Spread `sum` over the ten sections, 5 at most each.
        let mut left = sum;
        let values = [(); 10].map(|_| {
            let v = left.min(5);
            left -= v;
            Some(v)
        });
        check(
            Odi,
            &odi(values),
            "index",
            Expect::Score(percent, Some(band)),
        );
    }
}

#[test]
fn hit6_answer_values_and_bands() {
    use Instrument::Hit6;
    let hit = |values: [i32; 6]| -> Vec<(&'static str, i32)> {
        ["1", "2", "3", "4", "5", "6"]
            .into_iter()
            .zip(values)
            .collect()
    };
    // Answers 6/8/10/11/13; bands ≤ 49, 50–55, 56–59, ≥ 60 (NINDS CDE).
    for (values, total, band) in [
        ([6, 6, 6, 6, 6, 6], 36.0, "little-or-no-impact"),
        ([6, 6, 6, 8, 10, 13], 49.0, "little-or-no-impact"),
        ([6, 6, 8, 8, 11, 11], 50.0, "some-impact"),
        ([8, 8, 8, 10, 10, 11], 55.0, "some-impact"),
        ([6, 8, 10, 10, 11, 11], 56.0, "substantial-impact"),
        ([8, 10, 10, 10, 10, 11], 59.0, "substantial-impact"),
        ([10, 10, 10, 10, 10, 10], 60.0, "severe-impact"),
        ([13, 13, 13, 13, 13, 13], 78.0, "severe-impact"),
    ] {
        check(
            Hit6,
            &hit(values),
            "total",
            Expect::Score(total, Some(band)),
        );
    }
    // 7, 9, 12 and 0 are not answer values.
    for value in [0, 7, 9, 12, 14] {
        let mut values = hit([6; 6]);
        values[2].1 = value;
        check(Hit6, &values, "total", not_on_scale(Hit6, "3", value));
    }
    check(
        Hit6,
        &hit([6; 6])[..5],
        "total",
        Expect::NotComputable(&["6"]),
    );
}

fn fiqr(values: [Option<i32>; 21]) -> Vec<(String, i32)> {
    values
        .iter()
        .enumerate()
        .filter_map(|(index, value)| value.map(|v| ((index + 1).to_string(), v)))
        .collect()
}

fn check_fiqr(values: [Option<i32>; 21], scale: &str, expected: Expect) {
    let owned = fiqr(values);
    let given: Vec<(&str, i32)> = owned.iter().map(|(i, v)| (i.as_str(), *v)).collect();
    check(Instrument::Fiqr, &given, scale, expected);
}

#[test]
fn fiqr_domain_formulas() {
    let s = Some;
    // Hand-worked, Bennett 2009 formulas:
    // function items 1–9 = 2,3,4,5,6,7,8,9,1 → sum 45 / 3 = 15;
    // overall impact items 10–11 = 6, 8 → sum 14;
    // symptoms items 12–21 = ten 5s → sum 50 / 2 = 25; total 54.
    let complete = [
        s(2),
        s(3),
        s(4),
        s(5),
        s(6),
        s(7),
        s(8),
        s(9),
        s(1),
        s(6),
        s(8),
        s(5),
        s(5),
        s(5),
        s(5),
        s(5),
        s(5),
        s(5),
        s(5),
        s(5),
        s(5),
    ];
    check_fiqr(complete, "function", Expect::Score(15.0, None));
    check_fiqr(complete, "overall-impact", Expect::Score(14.0, None));
    check_fiqr(complete, "symptoms", Expect::Score(25.0, None));
    check_fiqr(complete, "total", Expect::Score(54.0, None));
    check_fiqr([s(0); 21], "total", Expect::Score(0.0, None));
    check_fiqr([s(10); 21], "total", Expect::Score(100.0, None));

    // Missing items scale each domain's sum by 9/x, 2/x, 10/x:
    // function without item 9: 44 × 9/8 = 49.5 / 3 = 16.5;
    // overall with item 10 only (6): 6 × 2/1 = 12;
    // symptoms without 20, 21, others 4: 32 × 10/8 = 40 / 2 = 20;
    // total 16.5 + 12 + 20 = 48.5.
    let mut partial = complete;
    partial[8] = None;
    partial[10] = None;
    for value in partial.iter_mut().skip(11) {
        *value = s(4);
    }
    partial[19] = None;
    partial[20] = None;
    check_fiqr(partial, "function", Expect::Prorated(16.5, None, &["9"]));
    check_fiqr(
        partial,
        "overall-impact",
        Expect::Prorated(12.0, None, &["11"]),
    );
    check_fiqr(
        partial,
        "symptoms",
        Expect::Prorated(20.0, None, &["20", "21"]),
    );
    check_fiqr(
        partial,
        "total",
        Expect::Prorated(48.5, None, &["9", "11", "20", "21"]),
    );

    // A whole domain missing: that domain and the total are not computable.
    let mut no_overall = complete;
    no_overall[9] = None;
    no_overall[10] = None;
    check_fiqr(
        no_overall,
        "overall-impact",
        Expect::NotComputable(&["10", "11"]),
    );
    check_fiqr(no_overall, "total", Expect::NotComputable(&["10", "11"]));
    check_fiqr(no_overall, "function", Expect::Score(15.0, None));
    check(
        Instrument::Fiqr,
        &[("22", 1)],
        "total",
        unknown(Instrument::Fiqr, "22"),
    );
    check(
        Instrument::Fiqr,
        &[("12", 11)],
        "total",
        not_on_scale(Instrument::Fiqr, "12", 11),
    );
}

#[test]
fn modified_aldrete_discharge_threshold() {
    use Instrument::ModifiedAldrete as Aldrete;
    let aldrete = |values: [i32; 5]| -> Vec<(&'static str, i32)> {
        [
            "activity",
            "respiration",
            "circulation",
            "consciousness",
            "oxygen-saturation",
        ]
        .into_iter()
        .zip(values)
        .collect()
    };
    // Aldrete 1995: total 0–10, ≥ 9 meets discharge criteria.
    check(
        Aldrete,
        &aldrete([2; 5]),
        "total",
        Expect::Score(10.0, Some("meets-discharge-criteria")),
    );
    check(
        Aldrete,
        &aldrete([2, 2, 2, 2, 1]),
        "total",
        Expect::Score(9.0, Some("meets-discharge-criteria")),
    );
    check(
        Aldrete,
        &aldrete([2, 2, 2, 1, 1]),
        "total",
        Expect::Score(8.0, Some("not-ready-for-discharge")),
    );
    check(
        Aldrete,
        &aldrete([0; 5]),
        "total",
        Expect::Score(0.0, Some("not-ready-for-discharge")),
    );
    check(
        Aldrete,
        &aldrete([2; 5])[..4],
        "total",
        Expect::NotComputable(&["oxygen-saturation"]),
    );
    check(
        Aldrete,
        &[("activity", 3)],
        "total",
        not_on_scale(Aldrete, "activity", 3),
    );
    check(
        Aldrete,
        &[("colour", 2)],
        "total",
        unknown(Aldrete, "colour"),
    );
}

#[test]
fn modified_aldrete_discharge_readiness_is_a_total_of_9_or_more() {
    use Instrument::ModifiedAldrete as Aldrete;
    let ready = |values: &[i32]| {
        let items = [
            "activity",
            "respiration",
            "circulation",
            "consciousness",
            "oxygen-saturation",
        ];
        let given: Answers = items.iter().copied().zip(values.iter().copied()).collect();
        Aldrete.score(&given).map(|scored| scored.discharge_ready())
    };
    // Aldrete 1995 (instruments.md): ≥ 9 meets discharge criteria.
    assert_eq!(ready(&[2, 2, 2, 2, 2]), Ok(Some(true)));
    assert_eq!(ready(&[2, 2, 2, 2, 1]), Ok(Some(true)));
    assert_eq!(ready(&[2, 2, 2, 1, 1]), Ok(Some(false)));
    // Not computable: readiness unknown, never "ready".
    assert_eq!(ready(&[2, 2, 2, 2]), Ok(None));
    // Not a discharge instrument.
    let phq9: Answers = (1..=9).map(|item| (item.to_string(), 0)).collect();
    assert_eq!(
        Instrument::Phq9.score(&phq9).map(|s| s.discharge_ready()),
        Ok(None)
    );
}

#[test]
fn each_scale_lists_the_items_it_is_scored_from_in_form_order() {
    let items = |instrument: Instrument, scale: &str| instrument.scale_items(scale);
    // BPI-SF (Cleeland 1994): severity items 3–6, interference 9A–9G.
    assert_eq!(
        items(Instrument::BriefPainInventory, "severity"),
        Some(&["3", "4", "5", "6"][..])
    );
    assert_eq!(
        items(Instrument::BriefPainInventory, "interference"),
        Some(&["9A", "9B", "9C", "9D", "9E", "9F", "9G"][..])
    );
    // FIQR (Bennett 2009): function 1–9, overall impact 10–11, symptoms 12–21.
    assert_eq!(items(Instrument::Fiqr, "function").map(<[_]>::len), Some(9));
    assert_eq!(
        items(Instrument::Fiqr, "overall-impact"),
        Some(&["10", "11"][..])
    );
    assert_eq!(
        items(Instrument::Fiqr, "symptoms").map(|i| (i[0], i[9])),
        Some(("12", "21"))
    );
    assert_eq!(items(Instrument::Fiqr, "total").map(<[_]>::len), Some(21));
    // PHQ-9: the total is items 1–9 (item 10 is recorded, not scored).
    assert_eq!(items(Instrument::Phq9, "total").map(<[_]>::len), Some(9));
    assert_eq!(
        items(Instrument::OswestryDisabilityIndex, "index").map(<[_]>::len),
        Some(10)
    );
    assert_eq!(items(Instrument::Hit6, "total").map(<[_]>::len), Some(6));
    assert_eq!(items(Instrument::Gad7, "total").map(<[_]>::len), Some(7));
    assert_eq!(items(Instrument::Peg, "score").map(<[_]>::len), Some(3));
    assert_eq!(
        items(Instrument::PainNumericRating, "score"),
        Some(&["1"][..])
    );
    assert_eq!(
        items(Instrument::ModifiedAldrete, "total").map(<[_]>::len),
        Some(5)
    );
    assert_eq!(items(Instrument::Phq9, "nope"), None);
    // Every scale of every instrument lists items that exist, in the
    // definition's order.
    for instrument in Instrument::ALL {
        let definition = instrument.definition();
        for scale in definition.scales {
            let listed = instrument
                .scale_items(scale.id)
                .unwrap_or_else(|| panic!("{instrument} {}", scale.id));
            let positions: Vec<usize> = listed
                .iter()
                .map(|id| {
                    definition
                        .items
                        .iter()
                        .position(|item| item.id == *id)
                        .unwrap_or_else(|| panic!("{instrument} {id}"))
                })
                .collect();
            assert!(positions.windows(2).all(|w| w[0] < w[1]), "{instrument}");
        }
    }
}

#[test]
fn errors_name_the_item_and_the_rule() {
    let Err(error) = Instrument::Phq9.score(&answers(&[("3", 4)])) else {
        panic!("out-of-range answer accepted");
    };
    assert_eq!(
        error.to_string(),
        "PHQ-9 (Patient Health Questionnaire-9) item 3: 4 is not allowed, the answer must be one of 0 (Not at all), 1 (Several days), 2 (More than half the days), 3 (Nearly every day)"
    );
    let Err(error) = Instrument::OswestryDisabilityIndex.score(&answers(&[("4", -2)])) else {
        panic!("negative answer accepted");
    };
    assert_eq!(
        error.to_string(),
        "Oswestry Disability Index 2.1a item 4: -2 is not allowed, the answer must be a whole number from 0 to 5"
    );
}

#[test]
fn definitions_are_consistent() {
    for instrument in Instrument::ALL {
        let definition = instrument.definition();
        assert_eq!(definition.instrument, instrument);
        assert_eq!(Instrument::from_id(definition.id), Ok(instrument));
        assert!(!definition.source.is_empty(), "{instrument}: source");
        assert!(!definition.missing_answer_rule.is_empty(), "{instrument}");
        let mut ids: Vec<&str> = definition.items.iter().map(|i| i.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(
            ids.len(),
            definition.items.len(),
            "{instrument}: unique item ids"
        );
        for item in definition.items {
            // Wording ships only for free instruments (instruments.md).
            if let Licence::Licensed { .. } = definition.licence {
                assert_eq!(item.text, None, "{instrument} item {}", item.id);
            }
            assert!(!item.label.is_empty());
            if let AnswerScale::Choices(choices) = item.answers {
                assert!(!choices.is_empty());
            }
        }
        for scale in definition.scales {
            assert!(scale.lowest < scale.highest);
            // Bands, where published, cover the scale in ascending order.
            if let (Some(first), Some(last)) = (scale.bands.first(), scale.bands.last()) {
                assert_eq!(first.lowest, scale.lowest, "{instrument} {}", scale.id);
                assert_eq!(last.highest, scale.highest, "{instrument} {}", scale.id);
                for pair in scale.bands.windows(2) {
                    assert!(pair[0].highest < pair[1].lowest, "{instrument}");
                }
            }
        }
    }
    // Free instruments ship their wording on every item.
    for instrument in [
        Instrument::PainNumericRating,
        Instrument::Peg,
        Instrument::Phq9,
        Instrument::Gad7,
    ] {
        let definition = instrument.definition();
        assert_eq!(definition.licence, Licence::Free);
        assert!(
            definition.items.iter().all(|item| item.text.is_some()),
            "{instrument}"
        );
    }
    assert!(Instrument::from_id("phq9").is_err());
}

#[test]
fn phq9_panel_code_is_never_the_total_code() {
    // instruments.md: 44249-1 is the panel; the total is 44261-6.
    let definition = Instrument::Phq9.definition();
    let loinc = |code: Code| match code {
        Code::Loinc { code, .. } => Some(code),
        Code::Local { .. } => None,
    };
    assert_eq!(loinc(definition.panel_code), Some("44249-1"));
    assert_eq!(
        definition
            .scale("total")
            .and_then(|scale| loinc(scale.code)),
        Some("44261-6")
    );
    assert_eq!(
        definition.item("9").and_then(|item| loinc(item.code)),
        Some("44260-8")
    );
    assert_eq!(
        Instrument::Gad7
            .definition()
            .scale("total")
            .and_then(|scale| loinc(scale.code)),
        Some("70274-6")
    );
}
