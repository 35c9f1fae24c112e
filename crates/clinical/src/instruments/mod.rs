//! Patient-reported outcome instruments and the discharge score: each one's
//! definition as data, and its scoring.
//!
//! A definition ([`InstrumentDefinition`]) says what the instrument is: its
//! items with their codes and answer scales, the scales it produces with their
//! bands, its recall period, its licence and its source. Item wording ships
//! only where the instrument is free to reproduce (NRS, PEG, PHQ-9, GAD-7);
//! for licensed instruments an item carries a short label and the clinic loads
//! the licensed wording as data keyed by instrument id and item id.
//!
//! Scoring ([`Instrument::score`]) validates the answers first: an answer to an
//! item that does not exist, or outside the item's scale, is an
//! [`AnswerError`] naming the item and the rule. Missing answers follow the
//! instrument's own published rule (prorating); where that rule does not cover
//! them, the scale is [`ScaleResult::NotComputable`] with the list of missing
//! items. A missing answer is never counted as zero.
//!
//! Facts and their sources: `shared/clinical/instruments.md`. Entries marked
//! there as `[to check]` are marked the same way beside the constant here.

mod aldrete;
mod brief_pain_inventory;
mod fiqr;
mod gad7;
mod hit6;
mod numeric_rating;
mod oswestry;
mod peg;
mod phq9;
pub mod schedule;

use std::collections::BTreeMap;
use std::fmt;

/// The instruments Respite scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Instrument {
    /// Numeric Rating Scale for pain, 0–10 (NRS-11).
    PainNumericRating,
    /// PEG: Pain, Enjoyment of life, General activity (3 items).
    Peg,
    /// Brief Pain Inventory – Short Form: severity and interference.
    BriefPainInventory,
    /// Patient Health Questionnaire-9 (depression).
    Phq9,
    /// Generalized Anxiety Disorder-7.
    Gad7,
    /// Oswestry Disability Index 2.1a (back pain).
    OswestryDisabilityIndex,
    /// Headache Impact Test-6.
    Hit6,
    /// Revised Fibromyalgia Impact Questionnaire.
    Fiqr,
    /// Modified Aldrete score: recovery and discharge after an infusion.
    ModifiedAldrete,
}

impl Instrument {
    /// Every instrument, in the order a clinic usually lists them.
    pub const ALL: [Instrument; 9] = [
        Instrument::PainNumericRating,
        Instrument::Peg,
        Instrument::BriefPainInventory,
        Instrument::Phq9,
        Instrument::Gad7,
        Instrument::OswestryDisabilityIndex,
        Instrument::Hit6,
        Instrument::Fiqr,
        Instrument::ModifiedAldrete,
    ];

    /// The instrument's definition: items, scales, bands, licence, source.
    pub fn definition(self) -> &'static InstrumentDefinition {
        match self {
            Instrument::PainNumericRating => &numeric_rating::DEFINITION,
            Instrument::Peg => &peg::DEFINITION,
            Instrument::BriefPainInventory => &brief_pain_inventory::DEFINITION,
            Instrument::Phq9 => &phq9::DEFINITION,
            Instrument::Gad7 => &gad7::DEFINITION,
            Instrument::OswestryDisabilityIndex => &oswestry::DEFINITION,
            Instrument::Hit6 => &hit6::DEFINITION,
            Instrument::Fiqr => &fiqr::DEFINITION,
            Instrument::ModifiedAldrete => &aldrete::DEFINITION,
        }
    }

    /// The stable identifier used in URLs and storage, e.g. `"phq-9"`.
    pub fn id(self) -> &'static str {
        self.definition().id
    }

    /// The instrument with this identifier (see [`Instrument::id`]).
    pub fn from_id(id: &str) -> Result<Instrument, UnknownInstrument> {
        Instrument::ALL
            .into_iter()
            .find(|instrument| instrument.id() == id)
            .ok_or_else(|| UnknownInstrument { id: id.to_owned() })
    }

    /// The items a scale is scored from, in the form's order; `None` when the
    /// instrument has no scale with this id.
    pub fn scale_items(self, scale: &str) -> Option<&'static [&'static str]> {
        let items: &'static [&'static str] = match (self, scale) {
            (Instrument::PainNumericRating, "score") => &numeric_rating::ITEMS,
            (Instrument::Peg, "score") => &peg::ITEMS,
            (Instrument::BriefPainInventory, "severity") => &brief_pain_inventory::SEVERITY_ITEMS,
            (Instrument::BriefPainInventory, "interference") => {
                &brief_pain_inventory::INTERFERENCE_ITEMS
            }
            (Instrument::Phq9, "total") => &phq9::SCORED_ITEMS,
            (Instrument::Gad7, "total") => &gad7::ITEMS,
            (Instrument::OswestryDisabilityIndex, "index") => &oswestry::SECTIONS,
            (Instrument::Hit6, "total") => &hit6::ITEMS,
            (Instrument::Fiqr, "function") => &fiqr::FUNCTION_ITEMS,
            (Instrument::Fiqr, "overall-impact") => &fiqr::OVERALL_IMPACT_ITEMS,
            (Instrument::Fiqr, "symptoms") => &fiqr::SYMPTOM_ITEMS,
            (Instrument::Fiqr, "total") => &fiqr::ALL_ITEMS,
            (Instrument::ModifiedAldrete, "total") => &aldrete::ITEMS,
            _ => return None,
        };
        Some(items)
    }

    /// Validates and scores a set of answers with the default settings.
    pub fn score(self, answers: &Answers) -> Result<Scored, AnswerError> {
        self.score_with(answers, &ScoringSettings::default())
    }

    /// Validates and scores a set of answers with the clinic's settings.
    pub fn score_with(
        self,
        answers: &Answers,
        settings: &ScoringSettings,
    ) -> Result<Scored, AnswerError> {
        let definition = self.definition();
        let answers = ValidAnswers::check(definition, answers)?;
        let (scales, flags) = match self {
            Instrument::PainNumericRating => (numeric_rating::score(&answers), Vec::new()),
            Instrument::Peg => (peg::score(&answers), Vec::new()),
            Instrument::BriefPainInventory => (brief_pain_inventory::score(&answers), Vec::new()),
            Instrument::Phq9 => phq9::score(&answers),
            Instrument::Gad7 => (gad7::score(&answers), Vec::new()),
            Instrument::OswestryDisabilityIndex => {
                (oswestry::score(&answers, settings), Vec::new())
            }
            Instrument::Hit6 => (hit6::score(&answers), Vec::new()),
            Instrument::Fiqr => (fiqr::score(&answers), Vec::new()),
            Instrument::ModifiedAldrete => (aldrete::score(&answers), Vec::new()),
        };
        let recorded = definition
            .items
            .iter()
            .filter(|item| item.role == ItemRole::RecordedNotScored)
            .filter_map(|item| {
                answers.get(item.id).map(|value| RecordedAnswer {
                    item: item.id,
                    value,
                })
            })
            .collect();
        Ok(Scored {
            instrument: self,
            scales,
            flags,
            recorded,
        })
    }
}

impl fmt::Display for Instrument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.definition().name)
    }
}

/// Settings a clinic may change; every default is documented with its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoringSettings {
    /// How many of the 10 ODI sections may be missing and the index still be
    /// prorated. Fairbank & Pynsent (Spine 2000;25:2940–2952) give the
    /// prorating formula (the denominator drops by 5 per unanswered section)
    /// and a worked example with one missed section, but no upper limit.
    /// Default 2 — our choice, not the literature's: it covers the section
    /// most often left blank (8, sex life) plus one more, while keeping the
    /// index built from at least 8 of 10 sections (80 %), the same share the
    /// PHQ-9 rule keeps (7 of 9).
    pub oswestry_maximum_missing_sections: u8,
}

impl Default for ScoringSettings {
    fn default() -> Self {
        ScoringSettings {
            oswestry_maximum_missing_sections: 2,
        }
    }
}

/// A patient's answers to one instrument: item id → chosen value.
///
/// Values are the numbers the instrument scores (for HIT-6, 6/8/10/11/13),
/// kept as `i32` so that a negative or huge value reaches validation and is
/// reported with the item's name instead of failing earlier without it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answers {
    values: BTreeMap<String, i32>,
}

impl Answers {
    /// No answers yet.
    pub fn new() -> Answers {
        Answers::default()
    }

    /// Records an answer, returning the one it replaces.
    pub fn insert(&mut self, item: impl Into<String>, value: i32) -> Option<i32> {
        self.values.insert(item.into(), value)
    }

    /// Records an answer (builder form).
    pub fn with(mut self, item: impl Into<String>, value: i32) -> Answers {
        self.insert(item, value);
        self
    }

    /// The answer to an item, if given.
    pub fn get(&self, item: &str) -> Option<i32> {
        self.values.get(item).copied()
    }

    /// Number of answers given.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether no answer was given.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The answers in item-id order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, i32)> {
        self.values
            .iter()
            .map(|(item, value)| (item.as_str(), *value))
    }
}

impl<K: Into<String>> FromIterator<(K, i32)> for Answers {
    fn from_iter<T: IntoIterator<Item = (K, i32)>>(iter: T) -> Self {
        let mut answers = Answers::new();
        for (item, value) in iter {
            answers.insert(item, value);
        }
        answers
    }
}

/// An answer the instrument cannot accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    /// The answers name an item the instrument does not have.
    #[error("{instrument}: there is no item \"{item}\"")]
    UnknownItem {
        instrument: Instrument,
        item: String,
    },
    /// The value is not on the item's answer scale.
    #[error("{instrument} item {item}: {value} is not allowed, the answer must be {allowed}")]
    NotOnScale {
        instrument: Instrument,
        item: &'static str,
        value: i32,
        allowed: AnswerScale,
    },
}

/// An instrument id that Respite does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown instrument \"{id}\"")]
pub struct UnknownInstrument {
    pub id: String,
}

/// The result of scoring: one entry per scale of the instrument, the flags a
/// clinician must see, and the answers recorded but not scored.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub instrument: Instrument,
    /// In the order of the definition's `scales`.
    pub scales: Vec<ScaleScore>,
    /// Flags a clinician must see and acknowledge (e.g. PHQ-9 item 9).
    pub flags: Vec<ClinicalFlag>,
    /// Answers kept with the response but not part of any score (PHQ-9 item 10).
    pub recorded: Vec<RecordedAnswer>,
}

impl Scored {
    /// The result for one scale, by its id (e.g. `"total"`, `"interference"`).
    pub fn scale(&self, id: &str) -> Option<&ScaleScore> {
        self.scales.iter().find(|scale| scale.scale.id == id)
    }

    /// The value of one scale, when it could be computed.
    pub fn value(&self, id: &str) -> Option<f64> {
        self.scale(id).and_then(|scale| scale.result.value())
    }
}

/// One scale's result.
#[derive(Debug, Clone, PartialEq)]
pub struct ScaleScore {
    pub scale: &'static ScaleDefinition,
    pub result: ScaleResult,
}

/// A score, or the reason there is none.
#[derive(Debug, Clone, PartialEq)]
pub enum ScaleResult {
    Computed(ComputedScore),
    NotComputable(NotComputable),
}

impl ScaleResult {
    /// The score's value, when computed.
    pub fn value(&self) -> Option<f64> {
        match self {
            ScaleResult::Computed(score) => Some(score.value),
            ScaleResult::NotComputable(_) => None,
        }
    }

    /// The band the score falls in, when computed and the scale has bands.
    pub fn band(&self) -> Option<&'static Band> {
        match self {
            ScaleResult::Computed(score) => score.band,
            ScaleResult::NotComputable(_) => None,
        }
    }
}

/// A computed score. Unrounded, except where the instrument's own rule rounds
/// (a prorated PHQ-9 total): rounding is otherwise for display only.
#[derive(Debug, Clone, PartialEq)]
pub struct ComputedScore {
    pub value: f64,
    pub band: Option<&'static Band>,
    pub completeness: Completeness,
}

/// Whether every item behind a score was answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completeness {
    Complete,
    /// Scored from part of the items by the instrument's own rule; the
    /// clinician sees which items were missing.
    Prorated {
        missing_items: Vec<&'static str>,
        rule: &'static str,
    },
}

/// Why a scale has no score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotComputable {
    pub missing_items: Vec<&'static str>,
    /// The rule that requires them, in words, with its source.
    pub rule: &'static str,
}

/// An answer kept but not scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordedAnswer {
    pub item: &'static str,
    pub value: i32,
}

/// Something in a response a clinician must see and acknowledge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClinicalFlag {
    /// PHQ-9 item 9 (thoughts that you would be better off dead or of hurting
    /// yourself) answered 1 or more, whatever the total.
    SelfHarmThoughts { answer: i32 },
    /// PHQ-9 item 9 left blank: the safety question was not answered, so the
    /// absence of an alert means nothing; staff should ask it directly.
    SafetyQuestionUnanswered,
}

impl ClinicalFlag {
    /// What staff see.
    pub fn message(&self) -> &'static str {
        match self {
            ClinicalFlag::SelfHarmThoughts { .. } => {
                "PHQ-9 item 9: the patient reports thoughts of being better off dead or of self-harm. A clinician must assess today."
            }
            ClinicalFlag::SafetyQuestionUnanswered => {
                "PHQ-9 item 9 (self-harm thoughts) was not answered. Ask the patient directly."
            }
        }
    }

    /// Where the rule comes from.
    pub fn source(&self) -> &'static str {
        // Not a rule of Kroenke 2001: standard practice, adopted as the
        // clinic's safety policy (shared/clinical/instruments.md, PHQ-9).
        "Clinic safety policy (Respite): any PHQ-9 item 9 answer of 1 or more, or no answer, raises an alert a clinician must acknowledge"
    }
}

/// An instrument's definition, as data.
#[derive(Debug, PartialEq)]
pub struct InstrumentDefinition {
    pub instrument: Instrument,
    /// Stable id for URLs and storage.
    pub id: &'static str,
    pub name: &'static str,
    /// Code of the questionnaire (panel) as a whole, never of a score.
    pub panel_code: Code,
    /// Instruction shown above the items, where free to reproduce.
    pub instructions: Option<&'static str>,
    pub items: &'static [ItemDefinition],
    pub scales: &'static [&'static ScaleDefinition],
    pub recall_period: RecallPeriod,
    pub licence: Licence,
    /// The rule for missing answers, in words, with its source.
    pub missing_answer_rule: &'static str,
    /// Primary source(s) for items and scoring.
    pub source: &'static str,
}

impl InstrumentDefinition {
    /// The item with this id.
    pub fn item(&self, id: &str) -> Option<&'static ItemDefinition> {
        self.items.iter().find(|item| item.id == id)
    }

    /// The scale with this id.
    pub fn scale(&self, id: &str) -> Option<&'static ScaleDefinition> {
        self.scales.iter().copied().find(|scale| scale.id == id)
    }
}

/// One item (question) of an instrument.
#[derive(Debug, PartialEq)]
pub struct ItemDefinition {
    /// Id within the instrument, as printed on the form ("1", "9A", …).
    pub id: &'static str,
    pub code: Code,
    /// Short label for staff screens and for licensed items.
    pub label: &'static str,
    /// Full wording, only where the instrument is free to reproduce. `None`:
    /// the clinic loads the licensed wording.
    pub text: Option<&'static str>,
    pub answers: AnswerScale,
    pub role: ItemRole,
}

/// The values an item accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerScale {
    /// Any whole number from `lowest` to `highest`, both included.
    Range { lowest: i32, highest: i32 },
    /// One of a fixed list of scored choices.
    Choices(&'static [AnswerChoice]),
}

impl AnswerScale {
    /// Whether `value` is on the scale.
    pub fn allows(&self, value: i32) -> bool {
        match self {
            AnswerScale::Range { lowest, highest } => *lowest <= value && value <= *highest,
            AnswerScale::Choices(choices) => choices.iter().any(|choice| choice.value == value),
        }
    }

    /// The smallest value on the scale.
    pub fn lowest(&self) -> i32 {
        match self {
            AnswerScale::Range { lowest, .. } => *lowest,
            AnswerScale::Choices(choices) => choices.iter().map(|c| c.value).min().unwrap_or(0),
        }
    }

    /// The largest value on the scale.
    pub fn highest(&self) -> i32 {
        match self {
            AnswerScale::Range { highest, .. } => *highest,
            AnswerScale::Choices(choices) => choices.iter().map(|c| c.value).max().unwrap_or(0),
        }
    }
}

impl fmt::Display for AnswerScale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnswerScale::Range { lowest, highest } => {
                write!(f, "a whole number from {lowest} to {highest}")
            }
            AnswerScale::Choices(choices) => {
                f.write_str("one of ")?;
                for (index, choice) in choices.iter().enumerate() {
                    if index > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{} ({})", choice.value, choice.label)?;
                }
                Ok(())
            }
        }
    }
}

/// A scored answer choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnswerChoice {
    pub value: i32,
    pub label: &'static str,
}

/// Whether an item counts towards a score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemRole {
    Scored,
    /// Kept with the response and shown, never added to a score.
    RecordedNotScored,
}

/// A code for an item, a score or a panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// A LOINC code, with whether shared/clinical has seen it in LOINC itself.
    Loinc {
        code: &'static str,
        status: SourceStatus,
    },
    /// A Respite-local code: shared/clinical/instruments.md found no LOINC
    /// code for this item or score. The FHIR layer gives it a local system.
    Local { code: &'static str },
}

/// Whether a fact has been seen in its primary source (shared/clinical/README.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceStatus {
    Checked,
    ToCheck,
}

/// One output scale of an instrument (a total, a subscale, a domain).
#[derive(Debug, PartialEq)]
pub struct ScaleDefinition {
    /// Id within the instrument: "total", "severity", "interference", …
    pub id: &'static str,
    pub name: &'static str,
    pub code: Code,
    pub lowest: f64,
    pub highest: f64,
    /// UCUM unit: `{score}` for scores, `%` for the ODI.
    pub unit: &'static str,
    /// Bands in ascending order; empty when the instrument publishes none.
    pub bands: &'static [Band],
}

impl ScaleDefinition {
    /// The band a value falls in: the first whose `highest` is not below it.
    /// Published bands are in whole numbers; a prorated score between two of
    /// them (e.g. an ODI of 20.4 %) goes to the higher band, the safer reading.
    /// (A prorated PHQ-9 total is rounded first, as its rule says.)
    pub fn band_for(&self, value: f64) -> Option<&'static Band> {
        self.bands.iter().find(|band| value <= band.highest)
    }
}

/// A published interpretation band, bounds included as published.
#[derive(Debug, PartialEq)]
pub struct Band {
    pub id: &'static str,
    pub label: &'static str,
    pub lowest: f64,
    pub highest: f64,
}

/// The period a patient is asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecallPeriod {
    /// The state at the moment of answering or observation.
    Now,
    Hours(u16),
    Days(u16),
    Weeks(u16),
}

/// Whether an instrument's wording may be shipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Licence {
    /// Free to use and reproduce; wording ships with Respite.
    Free,
    /// Scoring is public and implemented; the wording needs the holder's
    /// licence and is loaded by the clinic.
    Licensed { holder: &'static str },
}

// ---------------------------------------------------------------------------
// Shared by the instrument modules.

/// Answers checked against a definition: every item exists and every value is
/// on its scale.
pub(crate) struct ValidAnswers<'a> {
    answers: &'a Answers,
}

impl<'a> ValidAnswers<'a> {
    fn check(
        definition: &'static InstrumentDefinition,
        answers: &'a Answers,
    ) -> Result<ValidAnswers<'a>, AnswerError> {
        for (item_id, value) in answers.iter() {
            let Some(item) = definition.item(item_id) else {
                return Err(AnswerError::UnknownItem {
                    instrument: definition.instrument,
                    item: item_id.to_owned(),
                });
            };
            if !item.answers.allows(value) {
                return Err(AnswerError::NotOnScale {
                    instrument: definition.instrument,
                    item: item.id,
                    value,
                    allowed: item.answers,
                });
            }
        }
        Ok(ValidAnswers { answers })
    }

    pub(crate) fn get(&self, item: &str) -> Option<i32> {
        self.answers.get(item)
    }

    /// The answers to `items`, and the ids of those missing.
    pub(crate) fn collect(&self, items: &[&'static str]) -> (Vec<i32>, Vec<&'static str>) {
        let mut given = Vec::with_capacity(items.len());
        let mut missing = Vec::new();
        for item in items {
            match self.get(item) {
                Some(value) => given.push(value),
                None => missing.push(*item),
            }
        }
        (given, missing)
    }
}

/// A score from every one of `items`, or not computable.
pub(crate) fn score_requiring_all(
    answers: &ValidAnswers<'_>,
    scale: &'static ScaleDefinition,
    items: &[&'static str],
    rule: &'static str,
    formula: impl Fn(&[i32]) -> f64,
) -> ScaleScore {
    let (given, missing) = answers.collect(items);
    if !missing.is_empty() {
        return not_computable(scale, missing, rule);
    }
    computed(scale, formula(&given), Completeness::Complete)
}

pub(crate) fn computed(
    scale: &'static ScaleDefinition,
    value: f64,
    completeness: Completeness,
) -> ScaleScore {
    ScaleScore {
        scale,
        result: ScaleResult::Computed(ComputedScore {
            value,
            band: scale.band_for(value),
            completeness,
        }),
    }
}

pub(crate) fn not_computable(
    scale: &'static ScaleDefinition,
    missing_items: Vec<&'static str>,
    rule: &'static str,
) -> ScaleScore {
    ScaleScore {
        scale,
        result: ScaleResult::NotComputable(NotComputable {
            missing_items,
            rule,
        }),
    }
}

pub(crate) fn sum(values: &[i32]) -> f64 {
    values.iter().map(|value| f64::from(*value)).sum()
}

pub(crate) fn mean(values: &[i32]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    sum(values) / values.len() as f64
}

/// The 0–3 frequency scale of the PHQ-9 and GAD-7: Kroenke 2001; Spitzer 2006.
pub(crate) const FREQUENCY_LAST_TWO_WEEKS: &[AnswerChoice] = &[
    AnswerChoice {
        value: 0,
        label: "Not at all",
    },
    AnswerChoice {
        value: 1,
        label: "Several days",
    },
    AnswerChoice {
        value: 2,
        label: "More than half the days",
    },
    AnswerChoice {
        value: 3,
        label: "Nearly every day",
    },
];
