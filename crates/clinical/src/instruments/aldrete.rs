//! Modified Aldrete score: recovery and fitness for discharge after an
//! infusion.
//!
//! Sources: Aldrete JA, Kroulik D. A postanesthetic recovery score. Anesth
//! Analg 1970;49:924–934; modified (SpO₂ replaces colour): Aldrete JA. The
//! post-anesthesia recovery score revisited. J Clin Anesth 1995;7:89–91
//! [checked, secondary] (shared/clinical/instruments.md). Criteria below as
//! published in Aldrete 1995; a published clinical score, no licence holder
//! named in shared/clinical.

use super::{
    score_requiring_all, AnswerChoice, AnswerScale, Band, Code, Instrument, InstrumentDefinition,
    ItemDefinition, ItemRole, Licence, RecallPeriod, ScaleDefinition, ScaleScore, ValidAnswers,
};

pub(super) const ITEMS: [&str; 5] = [
    "activity",
    "respiration",
    "circulation",
    "consciousness",
    "oxygen-saturation",
];

const ALL_ITEMS_RULE: &str =
    "The score is the sum of all five criteria; each must be assessed (Aldrete 1995).";

pub(super) static DEFINITION: InstrumentDefinition = InstrumentDefinition {
    instrument: Instrument::ModifiedAldrete,
    id: "modified-aldrete",
    name: "Modified Aldrete score",
    panel_code: Code::Local {
        code: "respite-aldrete",
    },
    instructions: Some("Assessed by the nurse at the end of the session, before discharge."),
    items: &[
        ItemDefinition {
            id: "activity",
            code: Code::Local {
                code: "respite-aldrete-activity",
            },
            label: "Activity",
            text: None,
            answers: AnswerScale::Choices(&[
                AnswerChoice {
                    value: 2,
                    label: "Moves 4 extremities voluntarily or on command",
                },
                AnswerChoice {
                    value: 1,
                    label: "Moves 2 extremities",
                },
                AnswerChoice {
                    value: 0,
                    label: "Moves no extremity",
                },
            ]),
            role: ItemRole::Scored,
        },
        ItemDefinition {
            id: "respiration",
            code: Code::Local {
                code: "respite-aldrete-respiration",
            },
            label: "Respiration",
            text: None,
            answers: AnswerScale::Choices(&[
                AnswerChoice {
                    value: 2,
                    label: "Breathes deeply and coughs freely",
                },
                AnswerChoice {
                    value: 1,
                    label: "Dyspnoea or limited breathing",
                },
                AnswerChoice {
                    value: 0,
                    label: "Apnoeic",
                },
            ]),
            role: ItemRole::Scored,
        },
        ItemDefinition {
            id: "circulation",
            code: Code::Local {
                code: "respite-aldrete-circulation",
            },
            label: "Circulation (blood pressure vs pre-session)",
            text: None,
            answers: AnswerScale::Choices(&[
                AnswerChoice {
                    value: 2,
                    label: "Within ±20 % of pre-session level",
                },
                AnswerChoice {
                    value: 1,
                    label: "Within ±20–49 % of pre-session level",
                },
                AnswerChoice {
                    value: 0,
                    label: "±50 % or more of pre-session level",
                },
            ]),
            role: ItemRole::Scored,
        },
        ItemDefinition {
            id: "consciousness",
            code: Code::Local {
                code: "respite-aldrete-consciousness",
            },
            label: "Consciousness",
            text: None,
            answers: AnswerScale::Choices(&[
                AnswerChoice {
                    value: 2,
                    label: "Fully awake",
                },
                AnswerChoice {
                    value: 1,
                    label: "Arousable on calling",
                },
                AnswerChoice {
                    value: 0,
                    label: "Not responding",
                },
            ]),
            role: ItemRole::Scored,
        },
        ItemDefinition {
            id: "oxygen-saturation",
            code: Code::Local {
                code: "respite-aldrete-oxygen-saturation",
            },
            label: "Oxygen saturation",
            text: None,
            // 2: > 92 % on room air; 1: needs O₂ to keep > 90 %; 0: < 90 %
            // even with O₂ (instruments.md, Aldrete 1995).
            answers: AnswerScale::Choices(&[
                AnswerChoice {
                    value: 2,
                    label: "SpO₂ above 92 % on room air",
                },
                AnswerChoice {
                    value: 1,
                    label: "Needs O₂ to keep SpO₂ above 90 %",
                },
                AnswerChoice {
                    value: 0,
                    label: "SpO₂ below 90 % even with O₂",
                },
            ]),
            role: ItemRole::Scored,
        },
    ],
    scales: &[&TOTAL],
    recall_period: RecallPeriod::Now,
    licence: Licence::Free,
    missing_answer_rule: ALL_ITEMS_RULE,
    source: "Aldrete JA, Kroulik D. Anesth Analg 1970;49:924–934; Aldrete JA. J Clin Anesth 1995;7:89–91",
};

static TOTAL: ScaleDefinition = ScaleDefinition {
    id: "total",
    name: "Modified Aldrete score",
    code: Code::Local {
        code: "respite-aldrete-total",
    },
    // 5 criteria × 0–2 = 0–10: Aldrete 1995.
    lowest: 0.0,
    highest: 10.0,
    unit: "{score}",
    // ≥ 9 meets discharge criteria; a clinician still signs discharge
    // (instruments.md, Aldrete 1995).
    bands: &[
        Band {
            id: "not-ready-for-discharge",
            label: "Does not meet discharge criteria",
            lowest: 0.0,
            highest: 8.0,
        },
        Band {
            id: "meets-discharge-criteria",
            label: "Meets discharge criteria (a clinician signs discharge)",
            lowest: 9.0,
            highest: 10.0,
        },
    ],
};

/// A total at or above this meets discharge criteria; a clinician still signs
/// discharge (Aldrete JA. J Clin Anesth 1995;7:89–91; instruments.md).
pub const DISCHARGE_MINIMUM: f64 = 9.0;

impl super::Scored {
    /// For a modified Aldrete score: whether the total meets discharge
    /// criteria (≥ 9); `None` when the total is not computable (readiness
    /// unknown, never "ready") or the instrument is not the Aldrete score.
    pub fn discharge_ready(&self) -> Option<bool> {
        if self.instrument != Instrument::ModifiedAldrete {
            return None;
        }
        self.value("total").map(|total| total >= DISCHARGE_MINIMUM)
    }
}

pub(super) fn score(answers: &ValidAnswers<'_>) -> Vec<ScaleScore> {
    vec![score_requiring_all(
        answers,
        &TOTAL,
        &ITEMS,
        ALL_ITEMS_RULE,
        super::sum,
    )]
}
