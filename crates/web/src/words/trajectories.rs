//! The words of a patient's trajectories (SPEC §1 step 6): the baseline and
//! how it was taken, the IMMPACT class of a change, PHQ-9 response and
//! remission, a minimal important difference, durability of relief, the
//! threshold lines' labels, and the plain sentences a patient reads about
//! their own progress. The verdicts are respite-clinical's
//! (`respite_clinical::outcomes`); this file only says them.

use jiff::tz::TimeZone;
use jiff::Timestamp;
use respite_clinical::instruments::{Instrument, ScaleDefinition};
use respite_clinical::outcomes::{
    Baseline, BaselineMethod, ChangeVerdict, Durability, InfusionSeries, OutcomeError, PainChange,
    Threshold, ThresholdKind,
};

use crate::words::common::number;

/// A scale's title on the staff page: "Pain intensity (NRS) — Numeric pain
/// rating (NRS-11)".
pub fn scale_title(instrument: Instrument, scale: &ScaleDefinition) -> String {
    format!("{} — {}", scale.name, instrument.definition().name)
}

/// A score "6 of 10" (the scale's highest), or the rule's reason when not
/// computable.
pub fn score_value(value: Option<f64>, scale: &ScaleDefinition) -> String {
    match value {
        Some(v) if scale.unit == "%" => format!("{}%", number(v)),
        Some(v) => format!("{} of {}", number(v), number(scale.highest)),
        None => "no score".to_owned(),
    }
}

/// The baseline in words, with how it was obtained.
pub fn baseline(
    baseline: &Option<Result<Baseline, OutcomeError>>,
    scale: &ScaleDefinition,
    zone: &TimeZone,
) -> String {
    match baseline {
        None => "No baseline yet: no infusion has been given.".to_owned(),
        Some(Err(OutcomeError::NoScoreBeforeFirstInfusion)) => {
            "No baseline: there is no score before the first infusion.".to_owned()
        }
        Some(Err(err)) => format!("No baseline: {err}."),
        Some(Ok(b)) => {
            let value = score_value(Some(b.value), scale);
            match &b.method {
                BaselineMethod::MeanOfWindow {
                    reports,
                    window_days,
                } => format!(
                    "{value}: the mean of {} in the {window_days} days before the first infusion.",
                    count(*reports, "score", "scores")
                ),
                BaselineMethod::LastScoreBefore { at } => format!(
                    "{value}: the last score before the first infusion ({}), none being in the window before it.",
                    date(*at, zone)
                ),
            }
        }
    }
}

/// The change from baseline to the latest score, as its rule judges it.
pub fn verdict(verdict: &Result<ChangeVerdict, OutcomeError>, percent: Option<f64>) -> String {
    let change = percent.map(change_percent).unwrap_or_default();
    match verdict {
        Err(OutcomeError::BaselineNotPositive { .. }) => {
            "Not judged: the baseline is 0, so no percent change exists.".to_owned()
        }
        Err(err) => format!("Not judged: {err}."),
        Ok(ChangeVerdict::Pain(class)) => format!("{change}{}", pain_change(*class)),
        Ok(ChangeVerdict::Depression(d)) => {
            let response = match d.response {
                Some(true) => "response (a reduction of 50 % or more)",
                Some(false) => "no response (less than a 50 % reduction)",
                None => "response cannot be judged from a baseline of 0",
            };
            let remission = if d.remission {
                "remission (total below 5)"
            } else {
                "not in remission (total 5 or more)"
            };
            let mid = if d.minimal_important_improvement {
                "improved by at least the minimal important difference of 5 points"
            } else {
                "not improved by the minimal important difference of 5 points"
            };
            format!("{change}{response}; {remission}; {mid}. Sources: Kroenke 2001; Löwe 2004 (to check).")
        }
        Ok(ChangeVerdict::MinimalImportant { met, mid }) => {
            let threshold = match (mid.points, mid.percent) {
                (Some(p), Some(c)) => format!("{} points or {} %", number(p), number(c)),
                (Some(p), None) => format!("{} points", number(p)),
                (None, Some(c)) => format!("{} %", number(c)),
                (None, None) => "its threshold".to_owned(),
            };
            let analogy = if mid.instrument == Instrument::Fiqr {
                " (found for the original FIQ and applied to the FIQR by analogy)"
            } else {
                ""
            };
            if *met {
                format!("{change}improved by at least the minimal important difference ({threshold}{analogy}; {}).", mid.source)
            } else {
                format!("{change}not improved by the minimal important difference ({threshold}{analogy}; {}).", mid.source)
            }
        }
        Ok(ChangeVerdict::NoPublishedThreshold) => format!(
            "{change}no published threshold for an important change on this scale, so the change is shown and not judged."
        ),
    }
}

/// A short status for the summary table: "Responder (≥ 50 %)".
pub fn status_short(verdict: &Option<Result<ChangeVerdict, OutcomeError>>) -> &'static str {
    match verdict {
        None => "No baseline",
        Some(Err(_)) => "Not judged",
        Some(Ok(ChangeVerdict::Pain(PainChange::SubstantialReduction))) => {
            "Responder: substantial (50 % or more)"
        }
        Some(Ok(ChangeVerdict::Pain(PainChange::ModerateReduction))) => {
            "Responder: moderate (30 % to 50 %)"
        }
        Some(Ok(ChangeVerdict::Pain(PainChange::MinimalReduction))) => {
            "Not a responder: minimal (10 % to 30 %)"
        }
        Some(Ok(ChangeVerdict::Pain(PainChange::NoImportantReduction))) => {
            "Not a responder: under 10 %"
        }
        Some(Ok(ChangeVerdict::Depression(d))) => match (d.remission, d.response) {
            (true, _) => "Remission",
            (false, Some(true)) => "Response",
            _ => "No response",
        },
        Some(Ok(ChangeVerdict::MinimalImportant { met: true, .. })) => "Important improvement",
        Some(Ok(ChangeVerdict::MinimalImportant { met: false, .. })) => "No important improvement",
        Some(Ok(ChangeVerdict::NoPublishedThreshold)) => "Not judged (no threshold)",
    }
}

/// The IMMPACT class of a pain change (Dworkin 2008).
pub fn pain_change(class: PainChange) -> &'static str {
    match class {
        PainChange::SubstantialReduction => {
            "a substantial reduction (50 % or more): a responder (IMMPACT, Dworkin 2008)."
        }
        PainChange::ModerateReduction => {
            "a moderately important reduction (30 % to under 50 %): a responder (IMMPACT, Dworkin 2008)."
        }
        PainChange::MinimalReduction => {
            "a minimally important reduction (10 % to under 30 %): not a responder (IMMPACT, Dworkin 2008)."
        }
        PainChange::NoImportantReduction => {
            "no important reduction (under 10 %, or worse): not a responder (IMMPACT, Dworkin 2008)."
        }
    }
}

/// "Latest 4 of 10 on 2026-11-20: 40 % lower than baseline — "
fn change_percent(percent: f64) -> String {
    if percent.abs() < 0.5 {
        "Unchanged from baseline: ".to_owned()
    } else if percent < 0.0 {
        format!("{} % lower than baseline: ", number(percent.abs().round()))
    } else {
        format!("{} % higher than baseline: ", number(percent.round()))
    }
}

/// The durability of relief after one series (our definition, outcomes.md).
pub fn durability(
    series: &InfusionSeries,
    durability: &Result<Durability, OutcomeError>,
    zone: &TimeZone,
) -> String {
    let which = format!(
        "Series of {} from {} to {}",
        count(series.sessions, "session", "sessions"),
        date(series.first_session, zone),
        date(series.last_session, zone)
    );
    match durability {
        Err(OutcomeError::NoReportAfterSeries) => {
            format!("{which}: no pain score since, so relief cannot be measured yet.")
        }
        Err(err) => format!("{which}: durability not measured ({err})."),
        Ok(Durability::NotAResponder { first_report_at }) => format!(
            "{which}: the first score after it ({}) was not a 30 % reduction, so there was no relief to measure.",
            date(*first_report_at, zone)
        ),
        Ok(Durability::Returned {
            days,
            returned_at,
            confirmed_at,
        }) => format!(
            "{which}: relief lasted {}; pain returned above the 30 % line on {} (confirmed {}).",
            count(*days as usize, "day", "days"),
            date(*returned_at, zone),
            date(*confirmed_at, zone)
        ),
        Ok(Durability::StillRelieved {
            days,
            last_report_at,
        }) => format!(
            "{which}: still relieved after {} (last score {}); censored, not yet returned.",
            count(*days as usize, "day", "days"),
            date(*last_report_at, zone)
        ),
    }
}

/// An infusion series: "6 sessions, 1 Aug 2026 to 12 Aug 2026".
pub fn series(series: &InfusionSeries, zone: &TimeZone) -> String {
    if series.sessions == 1 {
        return format!("1 session, {}", date(series.first_session, zone));
    }
    format!(
        "{}, {} to {}",
        count(series.sessions, "session", "sessions"),
        date(series.first_session, zone),
        date(series.last_session, zone)
    )
}

/// A score's change from baseline in the table: "−40 %", "+5 %", "0 %".
pub fn change_column(percent: f64) -> String {
    let rounded = percent.round();
    if rounded < 0.0 {
        format!("−{} %", number(rounded.abs()))
    } else if rounded > 0.0 {
        format!("+{} %", number(rounded))
    } else {
        "0 %".to_owned()
    }
}

/// A chart's title, read first by a screen reader.
pub fn chart_title(instrument: Instrument, scale: &ScaleDefinition) -> String {
    format!("{} over time", scale_title(instrument, scale))
}

/// A chart's gist in a sentence (its `<desc>`); the table beside it has
/// every number.
pub fn chart_description(
    scores: usize,
    latest: Option<f64>,
    baseline: Option<f64>,
    infusions: usize,
    scale: &ScaleDefinition,
) -> String {
    let mut text = format!("{} plotted", count(scores, "score", "scores"));
    if let Some(b) = baseline {
        text.push_str(&format!(
            "; baseline {}",
            score_value(Some(round1(b)), scale)
        ));
    }
    if let Some(l) = latest {
        text.push_str(&format!("; latest {}", score_value(Some(l), scale)));
    }
    if infusions > 0 {
        text.push_str(&format!(
            "; {} marked",
            count(infusions, "infusion", "infusions")
        ));
    }
    text.push_str(". Lower is better. The table below lists every score.");
    text
}

/// The y axis' label: the scale and its unit.
pub fn axis_label(scale: &ScaleDefinition) -> String {
    if scale.unit == "%" {
        format!("{} (%)", scale.name)
    } else {
        format!(
            "{} ({}–{})",
            scale.name,
            number(scale.lowest),
            number(scale.highest)
        )
    }
}

/// The y axis' label on the patient's chart: "Pain (0–10)".
pub fn patient_axis_label(instrument: Instrument, scale: &ScaleDefinition) -> String {
    let name = patient_topic(instrument, scale.id).map_or(scale.name, |t| t.heading);
    format!(
        "{name} ({}–{})",
        number(scale.lowest),
        number(scale.highest)
    )
}

/// A month on a chart's axis: "Aug 2026".
pub fn month(date: jiff::civil::Date) -> String {
    date.strftime("%b %Y").to_string()
}

/// A threshold line's label on the chart and in the legend.
pub fn threshold(line: &Threshold) -> String {
    match line.kind {
        ThresholdKind::ReductionPercent(p) => {
            format!("{p} % below baseline ({})", number(round1(line.value)))
        }
        ThresholdKind::ReductionPoints(p) => {
            format!("{p} points below baseline ({})", number(round1(line.value)))
        }
        ThresholdKind::DepressionRemission => "Remission: below 5".to_owned(),
    }
}

/// The baseline line's label.
pub fn baseline_line(value: f64) -> String {
    format!("Baseline ({})", number(round1(value)))
}

/// A PHQ-9's safety answer (item 9) in the table: unanswered is "safety
/// status unknown", never zero (SPEC §1 step 6).
pub fn safety(answer: Option<Option<i32>>) -> &'static str {
    match answer {
        None => "",
        Some(None) => "Safety status unknown (item 9 not answered)",
        Some(Some(0)) => "Item 9: not at all",
        Some(Some(_)) => "Item 9: thoughts of self-harm reported",
    }
}

/// Where a score came from.
pub fn source(code: &str) -> &'static str {
    match code {
        "paper" => "Paper form",
        _ => "Portal",
    }
}

/// How a score was completed: "Complete", "Prorated (item 4 missing)", or
/// why there is none.
pub fn completeness(value: Option<f64>, prorated: bool, missing: &str, rule: &str) -> String {
    let items = items(missing);
    match (value, prorated) {
        (None, _) => format!("Not computable: {items} missing ({rule})"),
        (Some(_), true) => format!("Prorated: {items} missing ({rule})"),
        (Some(_), false) => "Complete".to_owned(),
    }
}

/// `at`'s date on the clinic's clock, e.g. "12 Nov 2026".
pub fn date(at: Timestamp, zone: &TimeZone) -> String {
    at.to_zoned(zone.clone()).strftime("%-d %b %Y").to_string()
}

// ---- the patient's words ------------------------------------------------------

/// What a scale measures, as the patient reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatientTopic {
    /// The heading: "Pain".
    pub heading: &'static str,
    /// The sentence's subject and verb: "Your pain is".
    pub subject: &'static str,
}

/// What a scale measures, as the patient reads it; `None` for a scale the
/// patient page does not show (one line per thing measured: a subscale is
/// left to the staff page).
pub fn patient_topic(instrument: Instrument, scale: &str) -> Option<PatientTopic> {
    let (heading, subject) = match (instrument, scale) {
        (Instrument::PainNumericRating, "score") => ("Pain", "Your pain is"),
        (Instrument::Peg, "score") => (
            "Pain, enjoyment of life and activity",
            "How much pain affects your enjoyment of life and your activities is",
        ),
        (Instrument::BriefPainInventory, "interference") => (
            "How pain gets in the way",
            "How much pain gets in the way of your sleep, mood and activity is",
        ),
        (Instrument::Phq9, "total") => ("Mood", "Your low-mood score is"),
        (Instrument::Gad7, "total") => ("Worry and anxiety", "Your worry and anxiety score is"),
        (Instrument::OswestryDisabilityIndex, "index") => (
            "Daily activities",
            "How much back pain limits your daily activities is",
        ),
        (Instrument::Hit6, "total") => ("Headaches", "How much headaches affect your life is"),
        (Instrument::Fiqr, "total") => {
            ("Fibromyalgia", "How much fibromyalgia affects your life is")
        }
        _ => return None,
    };
    Some(PatientTopic { heading, subject })
}

/// The patient's sentence: "Your pain is 40 % lower than before your first
/// infusion." (lower is better on every scale shown).
pub fn patient_sentence(topic: PatientTopic, percent: Option<f64>, has_infusion: bool) -> String {
    let subject = topic.subject;
    match percent {
        None if !has_infusion => {
            "We will compare your answers with these once your treatment starts.".to_owned()
        }
        None => "There are not enough answers from before your first infusion to compare with."
            .to_owned(),
        Some(p) if p.abs() < 0.5 => {
            format!("{subject} about the same as before your first infusion.")
        }
        Some(p) if p < 0.0 => format!(
            "{subject} {} % lower than before your first infusion.",
            number(p.abs().round())
        ),
        Some(p) => format!(
            "{subject} {} % higher than before your first infusion.",
            number(p.round())
        ),
    }
}

/// A point for the patient: "12 Nov 2026: 4 of 10".
pub fn patient_point(
    at: Timestamp,
    value: Option<f64>,
    scale: &ScaleDefinition,
    zone: &TimeZone,
) -> String {
    format!("{}: {}", date(at, zone), score_value(value, scale))
}

fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

fn items(list: &str) -> String {
    let items: Vec<&str> = list.split(',').filter(|s| !s.is_empty()).collect();
    match items.as_slice() {
        [] => "no item".to_owned(),
        [one] => format!("item {one}"),
        many => format!("items {}", many.join(", ")),
    }
}

fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_patient_reads_their_change_in_plain_words() {
        let pain = patient_topic(Instrument::PainNumericRating, "score").unwrap();
        assert_eq!(
            patient_sentence(pain, Some(-40.0), true),
            "Your pain is 40 % lower than before your first infusion."
        );
        let mood = patient_topic(Instrument::Phq9, "total").unwrap();
        assert_eq!(
            patient_sentence(mood, Some(12.4), true),
            "Your low-mood score is 12 % higher than before your first infusion."
        );
        assert!(patient_sentence(pain, None, false).contains("once your treatment starts"));
    }

    #[test]
    fn an_unanswered_item_9_is_unknown_never_zero() {
        assert_eq!(
            safety(Some(None)),
            "Safety status unknown (item 9 not answered)"
        );
        assert_eq!(safety(None), "");
    }
}
