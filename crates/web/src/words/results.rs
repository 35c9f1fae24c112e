//! The words of the clinic-wide results page (SPEC §1 step 6): condition
//! groups, rates, survival and its band, what a count means.

use respite_clinical::outcomes::{ConditionGroup, GroupResults, SurvivalInterval};

/// A condition group as SPEC §1 names it.
pub fn condition_group(group: ConditionGroup) -> &'static str {
    match group {
        ConditionGroup::BackPain => "Chronic back pain",
        ConditionGroup::Headache => "Chronic headache",
        ConditionGroup::JointPain => "Chronic joint pain",
        ConditionGroup::Fibromyalgia => "Fibromyalgia",
        ConditionGroup::Endometriosis => "Endometriosis",
        ConditionGroup::Crps => "Complex regional pain syndrome",
        ConditionGroup::OtherChronicPain => "Other chronic pain",
    }
}

/// The code of a condition group in the CSV exports (codes stay in
/// exports; words on pages).
pub fn condition_group_code(group: ConditionGroup) -> &'static str {
    match group {
        ConditionGroup::BackPain => "back-pain",
        ConditionGroup::Headache => "headache",
        ConditionGroup::JointPain => "joint-pain",
        ConditionGroup::Fibromyalgia => "fibromyalgia",
        ConditionGroup::Endometriosis => "endometriosis",
        ConditionGroup::Crps => "crps",
        ConditionGroup::OtherChronicPain => "other-chronic-pain",
    }
}

/// "7 of 12 (58 %)", or "none assessed".
pub fn rate(part: usize, whole: usize) -> String {
    if whole == 0 {
        return "none assessed".to_owned();
    }
    format!(
        "{part} of {whole} ({})",
        percent(part as f64 / whole as f64)
    )
}

/// A share as a whole percent: "58 %".
pub fn percent(share: f64) -> String {
    format!("{:.0} %", share * 100.0)
}

/// A survival probability as the share still relieved, one decimal:
/// "62.7 %".
pub fn still_relieved(survival: f64) -> String {
    format!("{:.1} %", survival * 100.0)
}

/// A 95 % interval as shares, or why there is none.
pub fn band(interval: Option<SurvivalInterval>) -> String {
    match interval {
        Some(i) => format!("{:.1} – {:.1} %", i.lower * 100.0, i.upper * 100.0),
        // Greenwood's band has no width at S = 1 or S = 0; the table's
        // caption says so (BAND_UNDEFINED).
        None => "—".to_owned(),
    }
}

/// The note under a durability table, for its "—".
pub const BAND_UNDEFINED: &str = "— : no band while everyone is still relieved, or once no one is.";

/// The median durability in words.
pub fn median(days: Option<u32>, responders: usize) -> String {
    match (days, responders) {
        (_, 0) => "no responders to follow".to_owned(),
        (Some(days), _) => format!("median {}", day_count(days)),
        (None, _) => "median not reached: more than half still relieved".to_owned(),
    }
}

/// "1 day", "30 days".
pub fn day_count(days: u32) -> String {
    if days == 1 {
        "1 day".to_owned()
    } else {
        format!("{days} days")
    }
}

/// Why some of a group's patients are not in its rates.
pub fn not_assessed(results: &GroupResults) -> String {
    let mut parts = Vec::new();
    if results.no_baseline > 0 {
        parts.push(format!(
            "{} without a pain score before the first infusion",
            results.no_baseline
        ));
    }
    if results.awaiting_report > 0 {
        parts.push(format!(
            "{} without a pain score after the series yet",
            results.awaiting_report
        ));
    }
    if parts.is_empty() {
        "—".to_owned()
    } else {
        parts.join("; ")
    }
}

/// The mark of a group too small to read.
pub const TOO_FEW: &str = "Too few to read (fewer than 5 assessed)";

/// The durability chart's title.
pub fn chart_title(group: &str) -> String {
    format!("Share of responders still relieved after the series, {group}")
}

pub const CHART_X_LABEL: &str = "days after the last infusion";
pub const CHART_Y_LABEL: &str = "still relieved";
pub const CURVE_LABEL: &str = "Still relieved; shaded: 95 % band";
pub const MEDIAN_LINE: &str = "half";

/// "Number at risk — day 0: 12 · day 7: 11 · …", printed under a chart.
pub fn at_risk_line(points: &[(u32, usize)]) -> String {
    let parts: Vec<String> = points
        .iter()
        .map(|(day, n)| format!("day {day}: {n}"))
        .collect();
    format!("Number at risk — {}", parts.join(" · "))
}
