//! PEG: Pain, Enjoyment of life, General activity.
//!
//! Source: Krebs EE et al. Development and initial validation of the PEG, a
//! three-item scale assessing pain intensity and interference. J Gen Intern
//! Med 2009;24:733–738. Free to use (shared/clinical/instruments.md).

use super::{
    score_requiring_all, AnswerScale, Code, Instrument, InstrumentDefinition, ItemDefinition,
    ItemRole, Licence, RecallPeriod, ScaleDefinition, ScaleScore, ValidAnswers,
};

/// 0–10 for each item: Krebs 2009.
const ZERO_TO_TEN: AnswerScale = AnswerScale::Range {
    lowest: 0,
    highest: 10,
};

pub(super) static DEFINITION: InstrumentDefinition = InstrumentDefinition {
    instrument: Instrument::Peg,
    id: "peg",
    name: "PEG (Pain, Enjoyment of life, General activity)",
    // No LOINC found for the PEG (instruments.md): local codes.
    panel_code: Code::Local { code: "respite-peg" },
    instructions: None,
    items: &[
        ItemDefinition {
            id: "1",
            code: Code::Local {
                code: "respite-peg-1",
            },
            label: "Average pain, past week",
            text: Some(
                "What number best describes your pain on average in the past week? (0 = no pain, 10 = pain as bad as you can imagine)",
            ),
            answers: ZERO_TO_TEN,
            role: ItemRole::Scored,
        },
        ItemDefinition {
            id: "2",
            code: Code::Local {
                code: "respite-peg-2",
            },
            label: "Interference with enjoyment of life, past week",
            text: Some(
                "What number best describes how, during the past week, pain has interfered with your enjoyment of life? (0 = does not interfere, 10 = completely interferes)",
            ),
            answers: ZERO_TO_TEN,
            role: ItemRole::Scored,
        },
        ItemDefinition {
            id: "3",
            code: Code::Local {
                code: "respite-peg-3",
            },
            label: "Interference with general activity, past week",
            text: Some(
                "What number best describes how, during the past week, pain has interfered with your general activity? (0 = does not interfere, 10 = completely interferes)",
            ),
            answers: ZERO_TO_TEN,
            role: ItemRole::Scored,
        },
    ],
    scales: &[&SCORE],
    // 7-day recall: Krebs 2009.
    recall_period: RecallPeriod::Days(7),
    licence: Licence::Free,
    missing_answer_rule: "All three items are needed (Krebs 2009, via secondary sources).",
    source: "Krebs EE et al. J Gen Intern Med 2009;24:733–738",
};

static SCORE: ScaleDefinition = ScaleDefinition {
    id: "score",
    name: "PEG score",
    code: Code::Local {
        code: "respite-peg-score",
    },
    lowest: 0.0,
    highest: 10.0,
    unit: "{score}",
    // No official bands (instruments.md).
    bands: &[],
};

/// Pain, enjoyment of life, general activity: Krebs 2009.
pub(super) const ITEMS: [&str; 3] = ["1", "2", "3"];

pub(super) fn score(answers: &ValidAnswers<'_>) -> Vec<ScaleScore> {
    // Score = mean of the 3 items, 0–10; all three needed [checked, via
    // secondary sources; the abstract gives no formula] (instruments.md).
    vec![score_requiring_all(
        answers,
        &SCORE,
        &ITEMS,
        "The PEG score is the mean of all three items; each must be answered (Krebs 2009).",
        super::mean,
    )]
}
