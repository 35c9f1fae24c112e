//! Screening: is ketamine right for this person?
//!
//! Input → output: [`PatientFacts`] (plain data), the clinic's [`ScreeningSettings`] and
//! the evaluation date (passed in: no clock) → a [`Screening`]: one [`Decision`] and, for
//! each of the six criteria of shared/clinical/screening.md, its status, evidence,
//! source and what is missing. [`Screening::explanation`] renders it for a person.
//!
//! The rules are data in [`rules`] (criteria, contraindications, interactions, record
//! requirements) and [`codes`] (the condition code table); the engine in `engine.rs`
//! only applies them. A clinician always makes the final decision: the engine
//! explains, it does not prescribe.
//!
//! Not here: storage, FHIR mapping, who may run a screening (web and domain layers).

pub mod codes;
pub mod decision;
pub mod facts;
pub mod request;
pub mod rules;

mod engine;
mod fingerprint;

use std::fmt;

use jiff::civil::Date;

pub use crate::dosing::Verification;
pub use codes::{CodePattern, ConditionCode, RetiredCode, ICD10CM_VERSION};
pub use engine::screen;
pub use facts::{
    Allergy, ContraindicationReview, ConventionalTreatment, Diagnosis, Medication, PatientFacts,
    PreInfusionRisks, Professional, Qualification, Record, StopReason, TreatmentClass,
};
pub use fingerprint::{fingerprint, fingerprint_text};
pub use rules::{
    ingredient_of, Contraindication, ContraindicationTier, CriterionDefinition, CriterionId,
    Ingredient, InteractionGroup, InteractionRule, RecordKind, CONTRAINDICATIONS, CRITERIA,
    INTERACTIONS,
};

/// How long a record stays current after its date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreshnessWindow {
    Days(u32),
    /// Calendar months (jiff arithmetic: 31 Jan + 1 month = 28/29 Feb).
    Months(u32),
}

impl fmt::Display for FreshnessWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FreshnessWindow::Days(n) => write!(f, "{n} days"),
            FreshnessWindow::Months(n) => write!(f, "{n} months"),
        }
    }
}

/// Freshness window per record kind. Defaults are ours, not from the literature
/// (shared/clinical/screening.md, "Record freshness"), and are shown as such.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordWindows {
    pub medication_list: FreshnessWindow,
    pub allergies: FreshnessWindow,
    pub problem_list: FreshnessWindow,
    pub vital_signs: FreshnessWindow,
    pub diagnosis_letter: FreshnessWindow,
    pub ecg: FreshnessWindow,
    pub liver_function_tests: FreshnessWindow,
}

/// Whether a record dated on a day is current on the evaluation date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Current through `until` (inclusive).
    Current { until: Date },
    /// Was current through `until`; stale since the day after.
    Stale { until: Date },
    /// Dated after the evaluation date.
    DatedInFuture,
}

impl RecordWindows {
    /// The freshness of a record of `kind` dated `dated`, on `today`: current while
    /// `today <= dated + window` (the same rule criterion 3 applies).
    pub fn freshness(&self, kind: RecordKind, dated: Date, today: Date) -> Freshness {
        if dated > today {
            return Freshness::DatedInFuture;
        }
        let until = engine::add_window(dated, self.window(kind)).unwrap_or(Date::MAX);
        if today <= until {
            Freshness::Current { until }
        } else {
            Freshness::Stale { until }
        }
    }

    /// The oldest date a record of `kind` may carry and still be current on `today`
    /// ("records newer than …" in a request for records).
    pub fn oldest_current(&self, kind: RecordKind, today: Date) -> Date {
        let window = self.window(kind);
        let mut date = engine::sub_window(today, window).unwrap_or(Date::MIN);
        // Calendar months clamp at month ends: step forward until the rule holds.
        while engine::add_window(date, window).is_some_and(|until| until < today) {
            match date.tomorrow() {
                Ok(next) => date = next,
                Err(_) => break,
            }
        }
        date
    }

    pub fn window(&self, kind: RecordKind) -> FreshnessWindow {
        match kind {
            RecordKind::MedicationList => self.medication_list,
            RecordKind::Allergies => self.allergies,
            RecordKind::ProblemList => self.problem_list,
            RecordKind::VitalSigns => self.vital_signs,
            RecordKind::DiagnosisLetter => self.diagnosis_letter,
            RecordKind::Ecg => self.ecg,
            RecordKind::LiverFunctionTests => self.liver_function_tests,
        }
    }
}

impl Default for RecordWindows {
    /// shared/clinical/screening.md, "Record freshness" (defaults ours).
    fn default() -> Self {
        Self {
            medication_list: FreshnessWindow::Days(90),
            allergies: FreshnessWindow::Days(365),
            problem_list: FreshnessWindow::Days(365),
            vital_signs: FreshnessWindow::Days(30),
            diagnosis_letter: FreshnessWindow::Months(12),
            ecg: FreshnessWindow::Months(12),
            liver_function_tests: FreshnessWindow::Days(90),
        }
    }
}

/// The clinic-changeable values of the screening.
#[derive(Debug, Clone, PartialEq)]
pub struct ScreeningSettings {
    /// Default 3 calendar months (Treede 2015; ICD-11 MG30).
    pub chronic_minimum_months: u32,
    pub record_windows: RecordWindows,
    /// Distinct conventional treatment classes required. Default 2 (screening.md, ours).
    pub minimum_conventional_classes: usize,
    /// The tier of each contraindication (default: screening.md's).
    pub contraindication_tiers: ContraindicationTiers,
    /// Conditions the clinic treats, by code (default: codes.md's table).
    pub condition_codes: Vec<ConditionCode>,
    pub retired_codes: Vec<RetiredCode>,
}

impl Default for ScreeningSettings {
    fn default() -> Self {
        Self {
            chronic_minimum_months: 3, // Treede RD et al. Pain 2015;156:1003–1007
            record_windows: RecordWindows::default(),
            minimum_conventional_classes: 2, // screening.md default, a clinic setting
            // shared/clinical/screening.md, "Contraindications" (Cohen 2018; label §4).
            contraindication_tiers: ContraindicationTiers::default(),
            condition_codes: codes::seeded_condition_codes(),
            retired_codes: codes::retired_codes(),
        }
    }
}

/// The tier of each contraindication, as a clinic sets them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContraindicationTiers {
    /// In [`CONTRAINDICATIONS`] order.
    tiers: [ContraindicationTier; CONTRAINDICATIONS.len()],
}

/// A tier a clinic may not set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TierError {
    /// Known hypersensitivity to ketamine is a contraindication on the product label
    /// (US prescribing information, section 4): absolute, whatever the clinic's setting.
    #[error("{}: is a contraindication on the product label and stays absolute", rules::contraindication(*.0).name)]
    FixedByLabel(Contraindication),
}

impl ContraindicationTiers {
    pub fn tier(&self, contraindication: Contraindication) -> ContraindicationTier {
        self.tiers[contraindication as usize]
    }

    pub fn set(
        &mut self,
        contraindication: Contraindication,
        tier: ContraindicationTier,
    ) -> Result<(), TierError> {
        if contraindication == Contraindication::KetamineHypersensitivity
            && tier != ContraindicationTier::Absolute
        {
            return Err(TierError::FixedByLabel(contraindication));
        }
        self.tiers[contraindication as usize] = tier;
        Ok(())
    }

    /// Each contraindication with its tier, in table order.
    pub fn iter(&self) -> impl Iterator<Item = (Contraindication, ContraindicationTier)> + '_ {
        CONTRAINDICATIONS
            .iter()
            .map(|definition| (definition.id, self.tier(definition.id)))
    }
}

impl Default for ContraindicationTiers {
    fn default() -> Self {
        let mut tiers = [ContraindicationTier::Absolute; CONTRAINDICATIONS.len()];
        for definition in &CONTRAINDICATIONS {
            tiers[definition.id as usize] = definition.default_tier;
        }
        Self { tiers }
    }
}

/// The overall outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Eligible,
    /// Something is missing: see [`Screening::missing`].
    NeedsInformation,
    /// A relative contraindication, an interaction or a judgement call.
    ReferForClinicianReview,
    /// A criterion is not met (with the reason), or an absolute contraindication:
    /// no override.
    NotEligible,
    /// A contraindication whose tier lets a clinician override it with a reason.
    NotEligibleUnlessOverridden,
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Decision::Eligible => "eligible",
            Decision::NeedsInformation => "needs information",
            Decision::ReferForClinicianReview => "refer for clinician review",
            Decision::NotEligible => "not eligible",
            Decision::NotEligibleUnlessOverridden => {
                "not eligible unless a clinician overrides with a reason"
            }
        })
    }
}

/// One criterion's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CriterionStatus {
    Met,
    Missing,
    ReviewNeeded,
    /// A contraindication a clinician may override with a reason.
    NotMetUnlessOverridden,
    NotMet,
}

impl fmt::Display for CriterionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CriterionStatus::Met => "met",
            CriterionStatus::Missing => "information missing",
            CriterionStatus::ReviewNeeded => "clinician review",
            CriterionStatus::NotMetUnlessOverridden => "not met unless overridden",
            CriterionStatus::NotMet => "not met",
        })
    }
}

/// Something the clinic must add or update before the screening can conclude.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MissingItem {
    PainOnsetDate,
    PainOnsetInFuture {
        onset: Date,
    },
    Diagnosis,
    DiagnosingProfessional {
        code: String,
    },
    DiagnosisDate {
        code: String,
    },
    DiagnosisDateInFuture {
        code: String,
        date: Date,
    },
    RetiredCode {
        code: String,
        replaced_by: String,
    },
    Record {
        kind: RecordKind,
    },
    StaleRecord {
        kind: RecordKind,
        dated: Date,
        current_until: Date,
    },
    RecordDatedInFuture {
        kind: RecordKind,
        dated: Date,
    },
    TreatmentDuration {
        treatment: String,
    },
    TreatmentStopReason {
        treatment: String,
    },
    MoreConventionalClasses {
        found: usize,
        required: usize,
    },
    ContraindicationReview,
    ContraindicationReviewInFuture {
        reviewed_on: Date,
    },
}

impl fmt::Display for MissingItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let record = |kind: &RecordKind| rules::record_requirement(*kind).name;
        match self {
            MissingItem::PainOnsetDate => f.write_str("pain onset date"),
            MissingItem::PainOnsetInFuture { onset } => {
                write!(f, "pain onset date {onset} is after the evaluation date")
            }
            MissingItem::Diagnosis => f.write_str("a coded diagnosis"),
            MissingItem::DiagnosingProfessional { code } => {
                write!(f, "who diagnosed {code}")
            }
            MissingItem::DiagnosisDate { code } => write!(f, "when {code} was diagnosed"),
            MissingItem::DiagnosisDateInFuture { code, date } => {
                write!(
                    f,
                    "diagnosis date {date} of {code} is after the evaluation date"
                )
            }
            MissingItem::RetiredCode { code, replaced_by } => {
                write!(f, "{code} is a retired code: recode as {replaced_by}")
            }
            MissingItem::Record { kind } => write!(f, "{}", record(kind)),
            MissingItem::StaleRecord {
                kind,
                dated,
                current_until,
            } => write!(
                f,
                "an up-to-date {} (on file: {dated}, current until {current_until})",
                record(kind)
            ),
            MissingItem::RecordDatedInFuture { kind, dated } => {
                write!(
                    f,
                    "{} dated {dated}, after the evaluation date",
                    record(kind)
                )
            }
            MissingItem::TreatmentDuration { treatment } => {
                write!(f, "how long {treatment} was tried")
            }
            MissingItem::TreatmentStopReason { treatment } => {
                write!(f, "why {treatment} was stopped")
            }
            MissingItem::MoreConventionalClasses { found, required } => write!(
                f,
                "conventional treatments tried and failed: {found} of {required} classes documented"
            ),
            MissingItem::ContraindicationReview => f.write_str("a contraindication review"),
            MissingItem::ContraindicationReviewInFuture { reviewed_on } => write!(
                f,
                "contraindication review dated {reviewed_on}, after the evaluation date"
            ),
        }
    }
}

/// The result for one criterion.
#[derive(Debug, Clone, PartialEq)]
pub struct CriterionResult {
    pub criterion: &'static CriterionDefinition,
    pub status: CriterionStatus,
    /// What the engine found (dates, codes, windows, matches).
    pub evidence: Vec<String>,
    /// Why review is needed, or why the criterion is not met.
    pub concerns: Vec<String>,
    pub missing: Vec<MissingItem>,
    /// The clinic settings the rule read, with their values (name, value).
    pub settings_used: Vec<(&'static str, String)>,
}

/// How a medication matched an interaction rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchedBy {
    RxNormIngredient(String),
    Name(String),
}

/// A current medication that interacts with ketamine.
#[derive(Debug, Clone, PartialEq)]
pub struct InteractionFlag {
    pub medication: String,
    pub rule: &'static InteractionRule,
    pub matched_by: MatchedBy,
}

/// A contraindication found present, with the tier that applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContraindicationFinding {
    pub contraindication: Contraindication,
    pub tier: ContraindicationTier,
    /// The review that found it; `None` when known from a recorded allergy.
    pub reviewed_on: Option<Date>,
}

/// The outcome of a screening.
#[derive(Debug, Clone, PartialEq)]
pub struct Screening {
    pub decision: Decision,
    pub evaluated_on: Date,
    /// All six criteria, in the order of [`CRITERIA`].
    pub criteria: Vec<CriterionResult>,
    pub interaction_flags: Vec<InteractionFlag>,
    /// The contraindications found present, in table order.
    pub contraindications_found: Vec<ContraindicationFinding>,
}

impl Screening {
    /// Whether a clinician may decide "eligible" by overriding, with a reason: only when
    /// what stands in the way is a contraindication of the overridable tier (no
    /// absolute one, no other criterion not met).
    pub fn override_allowed(&self) -> bool {
        self.decision == Decision::NotEligibleUnlessOverridden
    }

    /// Everything missing, across criteria, without repeats.
    pub fn missing(&self) -> Vec<&MissingItem> {
        let mut all: Vec<&MissingItem> = Vec::new();
        for item in self.criteria.iter().flat_map(|c| c.missing.iter()) {
            if !all.contains(&item) {
                all.push(item);
            }
        }
        all
    }

    pub fn criterion(&self, id: CriterionId) -> Option<&CriterionResult> {
        self.criteria.iter().find(|c| c.criterion.id == id)
    }

    /// A plain-text explanation: decision, then each criterion with its status,
    /// evidence, concerns, what is missing and its source.
    pub fn explanation(&self) -> String {
        let mut text = format!(
            "Screening on {}: {}. A clinician makes the final decision.\n",
            self.evaluated_on, self.decision
        );
        for result in &self.criteria {
            let c = result.criterion;
            text.push_str(&format!("{}. {} — {}\n", c.number, c.title, result.status));
            text.push_str(&format!("   rule: {}\n", c.rule));
            for (name, value) in &result.settings_used {
                text.push_str(&format!("   clinic setting: {name} = {value}\n"));
            }
            for line in &result.evidence {
                text.push_str(&format!("   evidence: {line}\n"));
            }
            for line in &result.concerns {
                text.push_str(&format!("   concern: {line}\n"));
            }
            for item in &result.missing {
                text.push_str(&format!("   missing: {item}\n"));
            }
            text.push_str(&format!("   source: {}\n", c.source));
        }
        text
    }
}
