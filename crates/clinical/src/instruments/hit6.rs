//! HIT-6 headache impact test.
//!
//! Source: Kosinski M et al. A six-item short-form survey for measuring
//! headache impact: the HIT-6. Qual Life Res 2003;12:963–974. Scoring
//! [checked, secondary: NINDS Common Data Elements] (instruments.md).
//! Licensed: items carry short labels; the clinic loads the wording.

use super::{
    score_requiring_all, AnswerChoice, AnswerScale, Band, Code, Instrument, InstrumentDefinition,
    ItemDefinition, ItemRole, Licence, RecallPeriod, ScaleDefinition, ScaleScore, ValidAnswers,
};

pub(super) const ITEMS: [&str; 6] = ["1", "2", "3", "4", "5", "6"];

/// Never / rarely / sometimes / very often / always score 6 / 8 / 10 / 11 / 13:
/// Kosinski 2003 via NINDS CDE (instruments.md).
const FREQUENCY: AnswerScale = AnswerScale::Choices(&[
    AnswerChoice {
        value: 6,
        label: "Never",
    },
    AnswerChoice {
        value: 8,
        label: "Rarely",
    },
    AnswerChoice {
        value: 10,
        label: "Sometimes",
    },
    AnswerChoice {
        value: 11,
        label: "Very often",
    },
    AnswerChoice {
        value: 13,
        label: "Always",
    },
]);

const ALL_ITEMS_RULE: &str =
    "The HIT-6 total is the sum of all six items; all six are needed (NINDS CDE).";

macro_rules! item {
    ($id:literal, $label:literal) => {
        ItemDefinition {
            id: $id,
            // No LOINC found for HIT-6 (instruments.md): local code.
            code: super::Code::Local {
                code: concat!("respite-hit6-", $id),
            },
            label: $label,
            text: None,
            answers: FREQUENCY,
            role: ItemRole::Scored,
        }
    };
}

pub(super) static DEFINITION: InstrumentDefinition = InstrumentDefinition {
    instrument: Instrument::Hit6,
    id: "hit-6",
    name: "HIT-6 (Headache Impact Test)",
    panel_code: Code::Local {
        code: "respite-hit6",
    },
    instructions: None,
    items: &[
        item!("1", "Severe pain during headaches"),
        item!("2", "Headaches limit daily activities"),
        item!("3", "Wish to lie down during a headache"),
        item!("4", "Too tired for work or daily activities (past 4 weeks)"),
        item!("5", "Fed up or irritated (past 4 weeks)"),
        item!("6", "Headaches limit concentration (past 4 weeks)"),
    ],
    scales: &[&TOTAL],
    // 4-week recall: Kosinski 2003 via NINDS CDE (instruments.md).
    recall_period: RecallPeriod::Weeks(4),
    licence: Licence::Licensed {
        holder: "QualityMetric Incorporated and GlaxoSmithKline [to check]",
    },
    missing_answer_rule: ALL_ITEMS_RULE,
    source: "Kosinski M et al. Qual Life Res 2003;12:963–974",
};

static TOTAL: ScaleDefinition = ScaleDefinition {
    id: "total",
    name: "HIT-6 total",
    code: Code::Local {
        code: "respite-hit6-total",
    },
    // 6 × 6 = 36 to 6 × 13 = 78: Kosinski 2003 via NINDS CDE.
    lowest: 36.0,
    highest: 78.0,
    unit: "{score}",
    // ≤ 49, 50–55, 56–59, ≥ 60: NINDS CDE (instruments.md).
    bands: &[
        Band {
            id: "little-or-no-impact",
            label: "Little or no impact",
            lowest: 36.0,
            highest: 49.0,
        },
        Band {
            id: "some-impact",
            label: "Some impact",
            lowest: 50.0,
            highest: 55.0,
        },
        Band {
            id: "substantial-impact",
            label: "Substantial impact",
            lowest: 56.0,
            highest: 59.0,
        },
        Band {
            id: "severe-impact",
            label: "Severe impact",
            lowest: 60.0,
            highest: 78.0,
        },
    ],
};

pub(super) fn score(answers: &ValidAnswers<'_>) -> Vec<ScaleScore> {
    vec![score_requiring_all(
        answers,
        &TOTAL,
        &ITEMS,
        ALL_ITEMS_RULE,
        super::sum,
    )]
}
