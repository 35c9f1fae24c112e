//! PHQ-9 depression scale.
//!
//! Source: Kroenke K, Spitzer RL, Williams JBW. The PHQ-9: validity of a brief
//! depression severity measure. J Gen Intern Med 2001;16:606–613. Free to use
//! and reproduce (shared/clinical/instruments.md). Item wording as in the
//! PHQ-9 form (Pfizer; no permission required to reproduce).

use super::{
    computed, not_computable, AnswerChoice, AnswerScale, Band, ClinicalFlag, Code, Completeness,
    Instrument, InstrumentDefinition, ItemDefinition, ItemRole, Licence, RecallPeriod,
    ScaleDefinition, ScaleScore, SourceStatus, ValidAnswers, FREQUENCY_LAST_TWO_WEEKS,
};

pub(super) const SCORED_ITEMS: [&str; 9] = ["1", "2", "3", "4", "5", "6", "7", "8", "9"];

/// The safety item: thoughts of being better off dead or of self-harm.
const SAFETY_ITEM: &str = "9";

/// Up to 2 of the 9 items may be missing; the total is then prorated as the
/// mean of the answered items × 9 (equivalently, each missing item takes the
/// mean of the answered ones). Source: NHS Data Dictionary, "Patient Health
/// Questionnaire-9" ("If one or two values are missing from the score, then
/// they can be substituted with the average score of the non-missing items.
/// Questionnaires with more than two missing values should be disregarded.").
/// instruments.md marks this rule [to check]; Kroenke 2001 gives none.
const MAXIMUM_MISSING_ITEMS: usize = 2;

const PRORATING_RULE: &str = "With 1 or 2 of items 1–9 missing, the total is the mean of the answered items × 9; with more missing there is no total (NHS Data Dictionary, PHQ-9).";

const FREQUENCY: AnswerScale = AnswerScale::Choices(FREQUENCY_LAST_TWO_WEEKS);

macro_rules! item {
    ($id:literal, $loinc:literal, $label:literal, $text:literal) => {
        ItemDefinition {
            id: $id,
            // Item LOINC codes: instruments.md (item 9, 44260-8, [checked];
            // the other items listed without a mark).
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
    instrument: Instrument::Phq9,
    id: "phq-9",
    name: "PHQ-9 (Patient Health Questionnaire-9)",
    // Panel 44249-1: for the questionnaire only, never for the total
    // (instruments.md).
    panel_code: Code::Loinc {
        code: "44249-1",
        // No mark in instruments.md.
        status: SourceStatus::ToCheck,
    },
    instructions: Some(
        "Over the last 2 weeks, how often have you been bothered by any of the following problems?",
    ),
    items: &[
        item!("1", "44250-9", "Little interest or pleasure", "Little interest or pleasure in doing things"),
        item!("2", "44255-8", "Down, depressed, hopeless", "Feeling down, depressed, or hopeless"),
        item!("3", "44259-0", "Sleep", "Trouble falling or staying asleep, or sleeping too much"),
        item!("4", "44254-1", "Tired, little energy", "Feeling tired or having little energy"),
        item!("5", "44251-7", "Appetite", "Poor appetite or overeating"),
        item!(
            "6",
            "44258-2",
            "Feeling bad about yourself",
            "Feeling bad about yourself — or that you are a failure or have let yourself or your family down"
        ),
        item!(
            "7",
            "44252-5",
            "Trouble concentrating",
            "Trouble concentrating on things, such as reading the newspaper or watching television"
        ),
        item!(
            "8",
            "44253-3",
            "Moving or speaking slowly, or restless",
            "Moving or speaking so slowly that other people could have noticed? Or the opposite — being so fidgety or restless that you have been moving around a lot more than usual"
        ),
        ItemDefinition {
            id: "9",
            // LOINC 44260-8 [checked] (instruments.md).
            code: Code::Loinc {
                code: "44260-8",
                status: SourceStatus::Checked,
            },
            label: "Thoughts of being better off dead or of self-harm",
            text: Some(
                "Thoughts that you would be better off dead or of hurting yourself in some way",
            ),
            answers: FREQUENCY,
            role: ItemRole::Scored,
        },
        ItemDefinition {
            id: "10",
            // LOINC 69722-7 [to check] (instruments.md).
            code: Code::Loinc {
                code: "69722-7",
                status: SourceStatus::ToCheck,
            },
            label: "Difficulty these problems caused",
            text: Some(
                "If you checked off any problems, how difficult have these problems made it for you to do your work, take care of things at home, or get along with other people?",
            ),
            // Recorded, not scored (Kroenke 2001; instruments.md).
            answers: AnswerScale::Choices(&[
                AnswerChoice {
                    value: 0,
                    label: "Not difficult at all",
                },
                AnswerChoice {
                    value: 1,
                    label: "Somewhat difficult",
                },
                AnswerChoice {
                    value: 2,
                    label: "Very difficult",
                },
                AnswerChoice {
                    value: 3,
                    label: "Extremely difficult",
                },
            ]),
            role: ItemRole::RecordedNotScored,
        },
    ],
    scales: &[&TOTAL],
    // "Over the last 2 weeks": Kroenke 2001.
    recall_period: RecallPeriod::Weeks(2),
    licence: Licence::Free,
    missing_answer_rule: PRORATING_RULE,
    source: "Kroenke K, Spitzer RL, Williams JBW. J Gen Intern Med 2001;16:606–613",
};

static TOTAL: ScaleDefinition = ScaleDefinition {
    id: "total",
    name: "PHQ-9 total",
    // LOINC 44261-6 [checked] (instruments.md) — not the panel code.
    code: Code::Loinc {
        code: "44261-6",
        status: SourceStatus::Checked,
    },
    // 9 items × 0–3 = 0–27: Kroenke 2001.
    lowest: 0.0,
    highest: 27.0,
    unit: "{score}",
    // Bands 0–4, 5–9, 10–14, 15–19, 20–27: Kroenke 2001 [checked].
    bands: &[
        Band {
            id: "none-minimal",
            label: "None–minimal",
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
            id: "moderately-severe",
            label: "Moderately severe",
            lowest: 15.0,
            highest: 19.0,
        },
        Band {
            id: "severe",
            label: "Severe",
            lowest: 20.0,
            highest: 27.0,
        },
    ],
};

pub(super) fn score(answers: &ValidAnswers<'_>) -> (Vec<ScaleScore>, Vec<ClinicalFlag>) {
    let (given, missing) = answers.collect(&SCORED_ITEMS);
    let total = if missing.is_empty() {
        computed(&TOTAL, super::sum(&given), Completeness::Complete)
    } else if missing.len() <= MAXIMUM_MISSING_ITEMS {
        // Mean of answered × 9 (NHS Data Dictionary, see MAXIMUM_MISSING_ITEMS),
        // rounded to an integer (half up) before banding: instruments.md
        // (Arrieta J et al. J Clin Psychol 2017;73:1076–1090 [secondary]).
        let prorated = (super::mean(&given) * SCORED_ITEMS.len() as f64).round();
        computed(
            &TOTAL,
            prorated,
            Completeness::Prorated {
                missing_items: missing,
                rule: PRORATING_RULE,
            },
        )
    } else {
        not_computable(&TOTAL, missing, PRORATING_RULE)
    };

    // Item 9 ≥ 1 raises a safety alert whatever the total; an unanswered item
    // 9 is flagged too. Clinic safety policy, not a rule of Kroenke 2001
    // (instruments.md).
    let flags = match answers.get(SAFETY_ITEM) {
        Some(answer) if answer >= 1 => vec![ClinicalFlag::SelfHarmThoughts { answer }],
        Some(_) => Vec::new(),
        None => vec![ClinicalFlag::SafetyQuestionUnanswered],
    };
    (vec![total], flags)
}
