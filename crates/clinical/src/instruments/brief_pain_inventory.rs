//! Brief Pain Inventory – Short Form: pain severity and pain interference.
//!
//! Sources: Cleeland CS, Ryan KM. Ann Acad Med Singapore 1994;23:129–138;
//! Cleeland CS. The Brief Pain Inventory User Guide. MD Anderson, 2009.
//! Scoring rules [checked, secondary: ePPOC documentation]
//! (shared/clinical/instruments.md). Licensed (MD Anderson): items carry
//! short labels only; the clinic loads the wording. Only the scored items
//! (3–6 and 9A–9G) are modelled; items 1, 2, 7 and 8 are not scored.

use super::{
    computed, not_computable, score_requiring_all, AnswerScale, Code, Completeness, Instrument,
    InstrumentDefinition, ItemDefinition, ItemRole, Licence, RecallPeriod, ScaleDefinition,
    ScaleScore, SourceStatus, ValidAnswers,
};

/// 0–10 for every scored item: Cleeland 1994.
const ZERO_TO_TEN: AnswerScale = AnswerScale::Range {
    lowest: 0,
    highest: 10,
};

pub(super) const SEVERITY_ITEMS: [&str; 4] = ["3", "4", "5", "6"];
pub(super) const INTERFERENCE_ITEMS: [&str; 7] = ["9A", "9B", "9C", "9D", "9E", "9F", "9G"];

/// Interference is valid when at least 4 of its 7 items are answered:
/// BPI User Guide (Cleeland 2009) via ePPOC [checked, secondary].
const INTERFERENCE_MINIMUM_ANSWERED: usize = 4;

const SEVERITY_RULE: &str =
    "Severity is the mean of items 3–6; all four are needed (no partial rule published in shared/clinical).";
const INTERFERENCE_RULE: &str =
    "Interference is the mean of the answered items 9A–9G, valid when at least 4 of the 7 are answered (BPI User Guide, Cleeland 2009).";

macro_rules! item {
    ($id:literal, $label:literal) => {
        ItemDefinition {
            id: $id,
            // No LOINC for BPI items in shared/clinical: local code.
            code: Code::Local {
                code: concat!("respite-bpi-", $id),
            },
            label: $label,
            text: None,
            answers: ZERO_TO_TEN,
            role: ItemRole::Scored,
        }
    };
}

pub(super) static DEFINITION: InstrumentDefinition = InstrumentDefinition {
    instrument: Instrument::BriefPainInventory,
    id: "bpi-sf",
    name: "Brief Pain Inventory – Short Form",
    panel_code: Code::Local { code: "respite-bpi-sf" },
    instructions: None,
    items: &[
        item!("3", "Pain at its worst, last 24 hours"),
        item!("4", "Pain at its least, last 24 hours"),
        item!("5", "Pain on average"),
        item!("6", "Pain right now"),
        item!("9A", "Interference: general activity"),
        item!("9B", "Interference: mood"),
        item!("9C", "Interference: walking ability"),
        item!("9D", "Interference: normal work"),
        item!("9E", "Interference: relations with other people"),
        item!("9F", "Interference: sleep"),
        item!("9G", "Interference: enjoyment of life"),
    ],
    scales: &[&SEVERITY, &INTERFERENCE],
    // BPI-SF asks about the last 24 hours (item 6: right now): Cleeland 2009.
    recall_period: RecallPeriod::Hours(24),
    licence: Licence::Licensed {
        holder: "The University of Texas MD Anderson Cancer Center (C. S. Cleeland)",
    },
    missing_answer_rule: "Severity needs all of items 3–6. Interference is the mean of the answered items 9A–9G when at least 4 of 7 are answered (BPI User Guide, via ePPOC).",
    source: "Cleeland CS, Ryan KM. Ann Acad Med Singapore 1994;23:129–138; Cleeland CS. The Brief Pain Inventory User Guide. MD Anderson, 2009",
};

static SEVERITY: ScaleDefinition = ScaleDefinition {
    id: "severity",
    name: "BPI pain severity",
    // No LOINC found for the severity score (instruments.md): local code.
    code: Code::Local {
        code: "respite-bpi-severity",
    },
    lowest: 0.0,
    highest: 10.0,
    unit: "{score}",
    bands: &[],
};

static INTERFERENCE: ScaleDefinition = ScaleDefinition {
    id: "interference",
    name: "BPI pain interference",
    // LOINC 77565-0 [checked] (instruments.md).
    code: Code::Loinc {
        code: "77565-0",
        status: SourceStatus::Checked,
    },
    lowest: 0.0,
    highest: 10.0,
    unit: "{score}",
    bands: &[],
};

pub(super) fn score(answers: &ValidAnswers<'_>) -> Vec<ScaleScore> {
    // Severity = mean of items 3–6 (instruments.md).
    let severity = score_requiring_all(
        answers,
        &SEVERITY,
        &SEVERITY_ITEMS,
        SEVERITY_RULE,
        super::mean,
    );

    // Interference = mean of the answered items of 9A–9G, valid with ≥ 4 of 7.
    let (given, missing) = answers.collect(&INTERFERENCE_ITEMS);
    let interference = if given.len() < INTERFERENCE_MINIMUM_ANSWERED {
        not_computable(&INTERFERENCE, missing, INTERFERENCE_RULE)
    } else {
        let completeness = if missing.is_empty() {
            Completeness::Complete
        } else {
            Completeness::Prorated {
                missing_items: missing,
                rule: INTERFERENCE_RULE,
            }
        };
        computed(&INTERFERENCE, super::mean(&given), completeness)
    };
    vec![severity, interference]
}
