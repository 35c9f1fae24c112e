//! Numeric Rating Scale for pain, 0–10 (NRS-11).
//!
//! Sources: Farrar JT et al. Pain 2001;94:149–158; Hawker GA et al. Arthritis
//! Care Res 2011;63 Suppl 11:S240–52 (shared/clinical/instruments.md).

use super::{
    score_requiring_all, AnswerScale, Code, Instrument, InstrumentDefinition, ItemDefinition,
    ItemRole, Licence, RecallPeriod, ScaleDefinition, ScaleScore, SourceStatus, ValidAnswers,
};

pub(super) static DEFINITION: InstrumentDefinition = InstrumentDefinition {
    instrument: Instrument::PainNumericRating,
    id: "nrs-pain",
    name: "Numeric pain rating (NRS-11)",
    panel_code: Code::Local {
        code: "respite-nrs-pain",
    },
    instructions: None,
    items: &[ItemDefinition {
        id: "1",
        // LOINC 72514-3, Pain severity – 0-10 verbal numeric rating [Score] –
        // Reported [checked] (shared/clinical/instruments.md).
        code: Code::Loinc {
            code: "72514-3",
            status: SourceStatus::Checked,
        },
        label: "Average pain, past 24 hours",
        // Our wording of the standard 0–10 scale with its usual anchors
        // (Hawker 2011: 0 "no pain", 10 "worst imaginable pain"); free.
        text: Some(
            "Please choose the one number that best describes your pain on average in the past 24 hours, from 0 (no pain) to 10 (worst pain imaginable).",
        ),
        // 0–10: Farrar 2001; Hawker 2011.
        answers: AnswerScale::Range {
            lowest: 0,
            highest: 10,
        },
        role: ItemRole::Scored,
    }],
    scales: &[&SCORE],
    // Usually 24 h or 7 days (instruments.md); Respite asks about 24 hours,
    // the recall of Farrar 2001's daily diaries [to check].
    recall_period: RecallPeriod::Hours(24),
    licence: Licence::Free,
    missing_answer_rule: "One item: without it there is no score.",
    source: "Farrar JT et al. Pain 2001;94:149–158; Hawker GA et al. Arthritis Care Res 2011;63 Suppl 11:S240–52",
};

static SCORE: ScaleDefinition = ScaleDefinition {
    id: "score",
    name: "Pain intensity (NRS)",
    // LOINC 72514-3 [checked]; unit {score} (shared/clinical/codes.md).
    code: Code::Loinc {
        code: "72514-3",
        status: SourceStatus::Checked,
    },
    lowest: 0.0,
    highest: 10.0,
    unit: "{score}",
    // No bands: pain change is judged against baseline (outcomes.rs).
    bands: &[],
};

/// The one item.
pub(super) const ITEMS: [&str; 1] = ["1"];

pub(super) fn score(answers: &ValidAnswers<'_>) -> Vec<ScaleScore> {
    vec![score_requiring_all(
        answers,
        &SCORE,
        &ITEMS,
        "The NRS has one item; it must be answered.",
        super::sum,
    )]
}
