//! Oswestry Disability Index, version 2.1a.
//!
//! Source: Fairbank JCT, Pynsent PB. The Oswestry Disability Index. Spine
//! 2000;25:2940–2952 (shared/clinical/instruments.md, [checked, secondary]).
//! Licensed: sections carry short labels; the clinic loads the wording.

use super::{
    computed, not_computable, AnswerScale, Band, Code, Completeness, Instrument,
    InstrumentDefinition, ItemDefinition, ItemRole, Licence, RecallPeriod, ScaleDefinition,
    ScaleScore, ScoringSettings, ValidAnswers,
};

pub(super) const SECTIONS: [&str; 10] = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"];

/// Each section scores 0 (first statement) to 5 (last): Fairbank 2000.
const SECTION_MAXIMUM: i32 = 5;

const PRORATING_RULE: &str = "Index % = sum / (5 × sections answered) × 100 (Fairbank & Pynsent 2000); Respite prorates with at most the clinic's set number of missing sections (default 2), else there is no index.";

macro_rules! section {
    ($id:literal, $label:literal) => {
        ItemDefinition {
            id: $id,
            // No LOINC found for the ODI (instruments.md): local code.
            code: Code::Local {
                code: concat!("respite-odi-", $id),
            },
            label: $label,
            text: None,
            answers: AnswerScale::Range {
                lowest: 0,
                highest: SECTION_MAXIMUM,
            },
            role: ItemRole::Scored,
        }
    };
}

pub(super) static DEFINITION: InstrumentDefinition = InstrumentDefinition {
    instrument: Instrument::OswestryDisabilityIndex,
    id: "odi",
    name: "Oswestry Disability Index 2.1a",
    panel_code: Code::Local {
        code: "respite-odi",
    },
    instructions: None,
    // Section order of ODI 2.1a: Fairbank 2000.
    items: &[
        section!("1", "Pain intensity"),
        section!("2", "Personal care"),
        section!("3", "Lifting"),
        section!("4", "Walking"),
        section!("5", "Sitting"),
        section!("6", "Standing"),
        section!("7", "Sleeping"),
        section!("8", "Sex life"),
        section!("9", "Social life"),
        section!("10", "Travelling"),
    ],
    scales: &[&INDEX],
    // ODI 2.1a asks about the patient's state "today" [to check].
    recall_period: RecallPeriod::Now,
    licence: Licence::Licensed {
        holder: "J. Fairbank; distributed by Mapi Research Trust [to check]",
    },
    missing_answer_rule: PRORATING_RULE,
    source: "Fairbank JCT, Pynsent PB. Spine 2000;25:2940–2952",
};

static INDEX: ScaleDefinition = ScaleDefinition {
    id: "index",
    name: "Oswestry Disability Index",
    code: Code::Local {
        code: "respite-odi-index",
    },
    lowest: 0.0,
    highest: 100.0,
    unit: "%",
    // Bands 0–20, 21–40, 41–60, 61–80, 81–100: Fairbank 2000 (instruments.md).
    bands: &[
        Band {
            id: "minimal",
            label: "Minimal disability",
            lowest: 0.0,
            highest: 20.0,
        },
        Band {
            id: "moderate",
            label: "Moderate disability",
            lowest: 21.0,
            highest: 40.0,
        },
        Band {
            id: "severe",
            label: "Severe disability",
            lowest: 41.0,
            highest: 60.0,
        },
        Band {
            id: "crippled",
            label: "Crippled",
            lowest: 61.0,
            highest: 80.0,
        },
        Band {
            id: "bed-bound",
            label: "Bed-bound (or exaggerating symptoms)",
            lowest: 81.0,
            highest: 100.0,
        },
    ],
};

pub(super) fn score(answers: &ValidAnswers<'_>, settings: &ScoringSettings) -> Vec<ScaleScore> {
    let (given, missing) = answers.collect(&SECTIONS);
    let allowed_missing = usize::from(settings.oswestry_maximum_missing_sections);
    if given.is_empty() || missing.len() > allowed_missing {
        return vec![not_computable(&INDEX, missing, PRORATING_RULE)];
    }
    // Index % = sum / (5 × sections answered) × 100: Fairbank 2000.
    let possible = f64::from(SECTION_MAXIMUM) * given.len() as f64;
    let index = super::sum(&given) / possible * 100.0;
    let completeness = if missing.is_empty() {
        Completeness::Complete
    } else {
        Completeness::Prorated {
            missing_items: missing,
            rule: PRORATING_RULE,
        }
    };
    vec![computed(&INDEX, index, completeness)]
}
