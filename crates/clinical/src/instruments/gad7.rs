//! GAD-7 anxiety scale.
//!
//! Source: Spitzer RL, Kroenke K, Williams JBW, Löwe B. A brief measure for
//! assessing generalized anxiety disorder: the GAD-7. Arch Intern Med
//! 2006;166:1092–1097. Free to use (shared/clinical/instruments.md).

use super::{
    score_requiring_all, AnswerScale, Band, Code, Instrument, InstrumentDefinition, ItemDefinition,
    ItemRole, Licence, RecallPeriod, ScaleDefinition, ScaleScore, SourceStatus, ValidAnswers,
    FREQUENCY_LAST_TWO_WEEKS,
};

const FREQUENCY: AnswerScale = AnswerScale::Choices(FREQUENCY_LAST_TWO_WEEKS);

pub(super) const ITEMS: [&str; 7] = ["1", "2", "3", "4", "5", "6", "7"];

const ALL_ITEMS_RULE: &str = "The GAD-7 total is the sum of all 7 items; shared/clinical gives no prorating rule for it, so every item must be answered (Spitzer 2006).";

macro_rules! item {
    ($id:literal, $loinc:literal, $label:literal, $text:literal) => {
        ItemDefinition {
            id: $id,
            // Item LOINC codes [to check] (instruments.md).
            code: Code::Loinc {
                code: $loinc,
                status: SourceStatus::ToCheck,
            },
            label: $label,
            text: Some($text),
            answers: FREQUENCY,
            role: ItemRole::Scored,
        }
    };
}

pub(super) static DEFINITION: InstrumentDefinition = InstrumentDefinition {
    instrument: Instrument::Gad7,
    id: "gad-7",
    name: "GAD-7 (Generalized Anxiety Disorder-7)",
    // Panel 69737-5: panel only (instruments.md).
    panel_code: Code::Loinc {
        code: "69737-5",
        // No mark in instruments.md.
        status: SourceStatus::ToCheck,
    },
    instructions: Some(
        "Over the last 2 weeks, how often have you been bothered by the following problems?",
    ),
    items: &[
        item!(
            "1",
            "69725-0",
            "Nervous, anxious, on edge",
            "Feeling nervous, anxious, or on edge"
        ),
        item!(
            "2",
            "68509-9",
            "Cannot stop worrying",
            "Not being able to stop or control worrying"
        ),
        item!(
            "3",
            "69733-4",
            "Worrying too much",
            "Worrying too much about different things"
        ),
        item!("4", "69734-2", "Trouble relaxing", "Trouble relaxing"),
        item!(
            "5",
            "69735-9",
            "Restless",
            "Being so restless that it is hard to sit still"
        ),
        item!(
            "6",
            "69689-8",
            "Annoyed or irritable",
            "Becoming easily annoyed or irritable"
        ),
        item!(
            "7",
            "69736-7",
            "Afraid something awful might happen",
            "Feeling afraid, as if something awful might happen"
        ),
    ],
    scales: &[&TOTAL],
    // "Over the last 2 weeks": Spitzer 2006.
    recall_period: RecallPeriod::Weeks(2),
    licence: Licence::Free,
    missing_answer_rule: ALL_ITEMS_RULE,
    source: "Spitzer RL et al. Arch Intern Med 2006;166:1092–1097",
};

static TOTAL: ScaleDefinition = ScaleDefinition {
    id: "total",
    name: "GAD-7 total",
    // LOINC 70274-6 [checked] (instruments.md).
    code: Code::Loinc {
        code: "70274-6",
        status: SourceStatus::Checked,
    },
    // 7 items × 0–3 = 0–21: Spitzer 2006.
    lowest: 0.0,
    highest: 21.0,
    unit: "{score}",
    // Bands 0–4, 5–9, 10–14, 15–21: Spitzer 2006 [checked].
    bands: &[
        Band {
            id: "minimal",
            label: "Minimal",
            lowest: 0.0,
            highest: 4.0,
        },
        Band {
            id: "mild",
            label: "Mild",
            lowest: 5.0,
            highest: 9.0,
        },
        Band {
            id: "moderate",
            label: "Moderate",
            lowest: 10.0,
            highest: 14.0,
        },
        Band {
            id: "severe",
            label: "Severe",
            lowest: 15.0,
            highest: 21.0,
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
