//! Revised Fibromyalgia Impact Questionnaire (FIQR).
//!
//! Source: Bennett RM, Friend R, Jones KD, Ward R, Han BK, Ross RL. The
//! Revised Fibromyalgia Impact Questionnaire (FIQR): validation and
//! psychometric properties. Arthritis Res Ther 2009;11:R120. Scoring and the
//! missing-item rule [checked: myalgia.com FIQR scoring page, by the authors]
//! (instruments.md). Copyrighted: short labels only; the clinic loads the
//! wording.

use super::{
    computed, not_computable, AnswerScale, Code, Completeness, Instrument, InstrumentDefinition,
    ItemDefinition, ItemRole, Licence, RecallPeriod, ScaleDefinition, ScaleResult, ScaleScore,
    ValidAnswers,
};

/// Domain 1, function: items 1–9, score = sum / 3 (0–30): Bennett 2009.
pub(super) const FUNCTION_ITEMS: [&str; 9] = ["1", "2", "3", "4", "5", "6", "7", "8", "9"];
const FUNCTION_DIVISOR: f64 = 3.0;
/// Domain 2, overall impact: items 10–11, score = sum (0–20): Bennett 2009.
pub(super) const OVERALL_IMPACT_ITEMS: [&str; 2] = ["10", "11"];
const OVERALL_IMPACT_DIVISOR: f64 = 1.0;
/// Domain 3, symptoms: items 12–21, score = sum / 2 (0–50): Bennett 2009.
pub(super) const SYMPTOM_ITEMS: [&str; 10] =
    ["12", "13", "14", "15", "16", "17", "18", "19", "20", "21"];
/// All 21 items, for the total (the sum of the three domains).
pub(super) const ALL_ITEMS: [&str; 21] = [
    "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17",
    "18", "19", "20", "21",
];
const SYMPTOM_DIVISOR: f64 = 2.0;

const DOMAIN_RULE: &str = "Each domain's sum is scaled by (items in the domain / items answered) before its divisor (Bennett, myalgia.com FIQR scoring); a domain with no answered item has no score, and the total needs all three domains.";

macro_rules! item {
    ($id:literal, $label:literal) => {
        ItemDefinition {
            id: $id,
            // No LOINC for FIQR in shared/clinical: local code.
            code: Code::Local {
                code: concat!("respite-fiqr-", $id),
            },
            label: $label,
            text: None,
            // 0–10 for each of the 21 items: Bennett 2009.
            answers: AnswerScale::Range {
                lowest: 0,
                highest: 10,
            },
            role: ItemRole::Scored,
        }
    };
}

pub(super) static DEFINITION: InstrumentDefinition = InstrumentDefinition {
    instrument: Instrument::Fiqr,
    id: "fiqr",
    name: "FIQR (Revised Fibromyalgia Impact Questionnaire)",
    panel_code: Code::Local {
        code: "respite-fiqr",
    },
    instructions: None,
    items: &[
        item!("1", "Function: brush or comb hair"),
        item!("2", "Function: walk continuously for 20 minutes"),
        item!("3", "Function: prepare a homemade meal"),
        item!("4", "Function: vacuum, scrub or sweep floors"),
        item!("5", "Function: lift and carry a bag of groceries"),
        item!("6", "Function: climb one flight of stairs"),
        item!("7", "Function: change bed sheets"),
        item!("8", "Function: sit in a chair for 45 minutes"),
        item!("9", "Function: go shopping for groceries"),
        item!("10", "Overall: prevented accomplishing goals for the week"),
        item!("11", "Overall: overwhelmed by fibromyalgia symptoms"),
        item!("12", "Symptom: pain"),
        item!("13", "Symptom: energy"),
        item!("14", "Symptom: stiffness"),
        item!("15", "Symptom: sleep quality"),
        item!("16", "Symptom: depression"),
        item!("17", "Symptom: memory problems"),
        item!("18", "Symptom: anxiety"),
        item!("19", "Symptom: tenderness to touch"),
        item!("20", "Symptom: balance problems"),
        item!("21", "Symptom: sensitivity to noise, light, odours, cold"),
    ],
    scales: &[&FUNCTION, &OVERALL_IMPACT, &SYMPTOMS, &TOTAL],
    // "Past 7 days": Bennett 2009 [to check].
    recall_period: RecallPeriod::Days(7),
    licence: Licence::Licensed {
        holder: "R. M. Bennett et al. (copyright notice on the FIQR form) [to check]",
    },
    missing_answer_rule: DOMAIN_RULE,
    source: "Bennett RM et al. Arthritis Res Ther 2009;11:R120",
};

static FUNCTION: ScaleDefinition = ScaleDefinition {
    id: "function",
    name: "FIQR function",
    code: Code::Local {
        code: "respite-fiqr-function",
    },
    lowest: 0.0,
    highest: 30.0,
    unit: "{score}",
    bands: &[],
};

static OVERALL_IMPACT: ScaleDefinition = ScaleDefinition {
    id: "overall-impact",
    name: "FIQR overall impact",
    code: Code::Local {
        code: "respite-fiqr-overall-impact",
    },
    lowest: 0.0,
    highest: 20.0,
    unit: "{score}",
    bands: &[],
};

static SYMPTOMS: ScaleDefinition = ScaleDefinition {
    id: "symptoms",
    name: "FIQR symptoms",
    code: Code::Local {
        code: "respite-fiqr-symptoms",
    },
    lowest: 0.0,
    highest: 50.0,
    unit: "{score}",
    bands: &[],
};

static TOTAL: ScaleDefinition = ScaleDefinition {
    id: "total",
    name: "FIQR total",
    code: Code::Local {
        code: "respite-fiqr-total",
    },
    // Sum of the three domains, 0–100: Bennett 2009.
    lowest: 0.0,
    highest: 100.0,
    unit: "{score}",
    // No bands in shared/clinical.
    bands: &[],
};

pub(super) fn score(answers: &ValidAnswers<'_>) -> Vec<ScaleScore> {
    let function = domain(answers, &FUNCTION, &FUNCTION_ITEMS, FUNCTION_DIVISOR);
    let overall = domain(
        answers,
        &OVERALL_IMPACT,
        &OVERALL_IMPACT_ITEMS,
        OVERALL_IMPACT_DIVISOR,
    );
    let symptoms = domain(answers, &SYMPTOMS, &SYMPTOM_ITEMS, SYMPTOM_DIVISOR);

    let domains = [&function, &overall, &symptoms];
    let mut missing_items = Vec::new();
    for domain in domains {
        match &domain.result {
            ScaleResult::Computed(score) => {
                if let Completeness::Prorated {
                    missing_items: missing,
                    ..
                } = &score.completeness
                {
                    missing_items.extend(missing.iter().copied());
                }
            }
            ScaleResult::NotComputable(not) => {
                missing_items.extend(not.missing_items.iter().copied())
            }
        }
    }
    // Total = function + overall impact + symptoms: Bennett 2009.
    let domain_values: Option<Vec<f64>> = domains.iter().map(|d| d.result.value()).collect();
    let total = match domain_values {
        None => not_computable(&TOTAL, missing_items, DOMAIN_RULE),
        Some(values) => {
            let completeness = if missing_items.is_empty() {
                Completeness::Complete
            } else {
                Completeness::Prorated {
                    missing_items,
                    rule: DOMAIN_RULE,
                }
            };
            computed(&TOTAL, values.iter().sum(), completeness)
        }
    };
    vec![function, overall, symptoms, total]
}

/// A domain score: (sum × items / answered) / divisor (Bennett, myalgia.com).
fn domain(
    answers: &ValidAnswers<'_>,
    scale: &'static ScaleDefinition,
    items: &[&'static str],
    divisor: f64,
) -> ScaleScore {
    let (given, missing) = answers.collect(items);
    if given.is_empty() {
        return not_computable(scale, missing, DOMAIN_RULE);
    }
    let scaled_sum = super::sum(&given) * items.len() as f64 / given.len() as f64;
    let completeness = if missing.is_empty() {
        Completeness::Complete
    } else {
        Completeness::Prorated {
            missing_items: missing,
            rule: DOMAIN_RULE,
        }
    };
    computed(scale, scaled_sum / divisor, completeness)
}
