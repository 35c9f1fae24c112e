//! Applies the rules of `rules.rs` to a patient's facts. One function per criterion;
//! numbers and lists come from the tables and the settings, never from here.

use jiff::civil::Date;
use jiff::Span;

use super::facts::{Allergy, PatientFacts, Qualification, StopReason, TreatmentClass};
use super::rules::{
    contraindication, criterion, ingredient_of, Contraindication, ContraindicationTier,
    CriterionId, Requirement, CRITERIA, INTERACTIONS, KETAMINE, KETAMINE_NAMES,
    RECORD_REQUIREMENTS,
};
use super::{
    ContraindicationFinding, CriterionResult, CriterionStatus, Decision, FreshnessWindow,
    InteractionFlag, MatchedBy, MissingItem, RecordKind, Screening, ScreeningSettings,
};

/// Screens `facts` as of `evaluated_on` under the clinic's `settings`.
///
/// Never fails: anything absent or inconsistent (a date after the evaluation date)
/// becomes a [`MissingItem`] of the criterion it belongs to.
pub fn screen(facts: &PatientFacts, settings: &ScreeningSettings, evaluated_on: Date) -> Screening {
    let (interactions, interaction_flags) = interactions(facts, settings, evaluated_on);
    let (contraindication_result, contraindications_found) =
        contraindications(facts, settings, evaluated_on);
    let criteria = vec![
        chronic(facts, settings, evaluated_on),
        diagnosed(facts, settings, evaluated_on),
        records(facts, settings, evaluated_on),
        conventional_care(facts, settings),
        contraindication_result,
        interactions,
    ];
    let mut criteria = criteria;
    for result in &mut criteria {
        result.settings_used = result
            .criterion
            .parameters
            .iter()
            .map(|name| (*name, setting_value(name, settings)))
            .collect();
    }
    debug_assert!(criteria
        .iter()
        .zip(CRITERIA.iter())
        .all(|(r, d)| r.criterion.id == d.id));
    Screening {
        decision: decide(&criteria),
        evaluated_on,
        criteria,
        interaction_flags,
        contraindications_found,
    }
}

/// A setting's value as shown beside the rule that reads it.
fn setting_value(name: &str, settings: &ScreeningSettings) -> String {
    match name {
        "chronic_minimum_months" => settings.chronic_minimum_months.to_string(),
        "minimum_conventional_classes" => settings.minimum_conventional_classes.to_string(),
        "record_windows" => RECORD_REQUIREMENTS
            .iter()
            .map(|r| format!("{} {}", r.name, settings.record_windows.window(r.kind)))
            .collect::<Vec<_>>()
            .join(", "),
        "contraindication_tiers" => settings
            .contraindication_tiers
            .iter()
            .map(|(c, tier)| format!("{}: {}", contraindication(c).name, tier_name(tier)))
            .collect::<Vec<_>>()
            .join("; "),
        "condition_codes" => format!(
            "{} entries ({})",
            settings.condition_codes.len(),
            settings
                .condition_codes
                .first()
                .map(|c| c.system_version.to_string())
                .unwrap_or_default()
        ),
        _ => "(unknown setting)".into(),
    }
}

fn tier_name(tier: ContraindicationTier) -> &'static str {
    match tier {
        ContraindicationTier::Absolute => "absolute (no override)",
        ContraindicationTier::NotEligibleUnlessOverridden => {
            "not eligible unless a clinician overrides with a reason"
        }
        ContraindicationTier::ReferForClinicianReview => "refer for clinician review",
    }
}

/// Not met beats not-met-unless-overridden beats missing beats review: an absolute
/// reason ends the screening; an overridable contraindication is shown before what is
/// missing (the clinician decides on it first); missing information comes before a
/// clinician's judgement of what is known.
fn decide(criteria: &[CriterionResult]) -> Decision {
    let any = |status| criteria.iter().any(|c| c.status == status);
    if any(CriterionStatus::NotMet) {
        Decision::NotEligible
    } else if any(CriterionStatus::NotMetUnlessOverridden) {
        Decision::NotEligibleUnlessOverridden
    } else if any(CriterionStatus::Missing) {
        Decision::NeedsInformation
    } else if any(CriterionStatus::ReviewNeeded) {
        Decision::ReferForClinicianReview
    } else {
        Decision::Eligible
    }
}

struct Builder {
    id: CriterionId,
    evidence: Vec<String>,
    concerns: Vec<String>,
    missing: Vec<MissingItem>,
}

impl Builder {
    fn new(id: CriterionId) -> Self {
        Self {
            id,
            evidence: Vec::new(),
            concerns: Vec::new(),
            missing: Vec::new(),
        }
    }

    fn finish(self, status: CriterionStatus) -> CriterionResult {
        CriterionResult {
            criterion: criterion(self.id),
            status,
            evidence: self.evidence,
            concerns: self.concerns,
            missing: self.missing,
            settings_used: Vec::new(),
        }
    }

    fn missing_or(self, status: CriterionStatus) -> CriterionResult {
        if self.missing.is_empty() {
            self.finish(status)
        } else {
            self.finish(CriterionStatus::Missing)
        }
    }
}

/// Criterion 1. Chronic iff `evaluated_on > onset + N calendar months` (strictly).
fn chronic(facts: &PatientFacts, settings: &ScreeningSettings, today: Date) -> CriterionResult {
    let mut b = Builder::new(CriterionId::Chronic);
    let Some(onset) = facts.pain_onset else {
        b.missing.push(MissingItem::PainOnsetDate);
        return b.finish(CriterionStatus::Missing);
    };
    if onset > today {
        b.missing.push(MissingItem::PainOnsetInFuture { onset });
        return b.finish(CriterionStatus::Missing);
    }
    let months = settings.chronic_minimum_months;
    let Some(threshold) = add_months(onset, months) else {
        b.missing.push(MissingItem::PainOnsetDate);
        return b.finish(CriterionStatus::Missing);
    };
    b.evidence.push(format!(
        "pain onset {onset}; onset + {months} calendar months = {threshold}; evaluated {today}"
    ));
    if today > threshold {
        b.finish(CriterionStatus::Met)
    } else {
        b.concerns.push(format!(
            "pain has lasted {} days, not more than {months} calendar months: chronic from {}",
            days_between(onset, today),
            threshold.tomorrow().unwrap_or(threshold)
        ));
        b.finish(CriterionStatus::NotMet)
    }
}

/// Criterion 2.
fn diagnosed(facts: &PatientFacts, settings: &ScreeningSettings, today: Date) -> CriterionResult {
    let mut b = Builder::new(CriterionId::Diagnosed);
    if facts.diagnoses.is_empty() {
        b.missing.push(MissingItem::Diagnosis);
        return b.finish(CriterionStatus::Missing);
    }
    let mut met = false;
    let mut review = false;
    for diagnosis in &facts.diagnoses {
        let code = diagnosis.code.trim().to_owned();
        let normalized = super::codes::normalize_code(&code);
        if let Some(retired) = settings
            .retired_codes
            .iter()
            .find(|r| super::codes::normalize_code(&r.code) == normalized)
        {
            b.missing.push(MissingItem::RetiredCode {
                code: code.clone(),
                replaced_by: retired.replaced_by.to_string(),
            });
            continue;
        }
        let version = diagnosis
            .code_system_version
            .as_deref()
            .unwrap_or("version not recorded");
        let Some(entry) = settings
            .condition_codes
            .iter()
            .find(|entry| entry.pattern.matches(&code))
        else {
            b.concerns.push(format!(
                "{code} ({version}) is not in the clinic's condition table: a clinician decides"
            ));
            review = true;
            continue;
        };
        let mut complete = true;
        match diagnosis.diagnosed_on {
            None => {
                b.missing
                    .push(MissingItem::DiagnosisDate { code: code.clone() });
                complete = false;
            }
            Some(date) if date > today => {
                b.missing.push(MissingItem::DiagnosisDateInFuture {
                    code: code.clone(),
                    date,
                });
                complete = false;
            }
            Some(_) => {}
        }
        let Some(professional) = &diagnosis.diagnosed_by else {
            b.missing
                .push(MissingItem::DiagnosingProfessional { code: code.clone() });
            continue;
        };
        if !complete {
            continue;
        }
        let date = diagnosis
            .diagnosed_on
            .map(|d| d.to_string())
            .unwrap_or_default();
        let line = format!(
            "{code} ({version}; table: {}, {}, {}) diagnosed by {} ({}) on {date}",
            entry.condition,
            entry.pattern,
            match entry.verification {
                crate::dosing::Verification::Checked => "code checked",
                crate::dosing::Verification::ToCheck => "code to check",
            },
            professional.name,
            qualification_name(&professional.qualification),
        );
        if let Qualification::Other(_) = professional.qualification {
            b.concerns.push(format!(
                "{line}: a clinician confirms the professional was qualified"
            ));
            review = true;
        } else {
            b.evidence.push(line);
            met = true;
        }
    }
    if met {
        // One complete, qualified, coded diagnosis settles the criterion; gaps in
        // other diagnoses do not hold it up.
        b.missing.clear();
        b.concerns.clear();
        return b.finish(CriterionStatus::Met);
    }
    if !b.missing.is_empty() {
        return b.finish(CriterionStatus::Missing);
    }
    if review {
        return b.finish(CriterionStatus::ReviewNeeded);
    }
    b.missing.push(MissingItem::Diagnosis);
    b.finish(CriterionStatus::Missing)
}

fn class_name(class: &TreatmentClass) -> String {
    match class {
        TreatmentClass::Nsaid => "NSAID".into(),
        TreatmentClass::Paracetamol => "paracetamol".into(),
        TreatmentClass::Opioid => "opioid".into(),
        TreatmentClass::Gabapentinoid => "gabapentinoid".into(),
        TreatmentClass::Antidepressant => "antidepressant".into(),
        TreatmentClass::MuscleRelaxant => "muscle relaxant".into(),
        TreatmentClass::TopicalAgent => "topical agent".into(),
        TreatmentClass::Physiotherapy => "physiotherapy".into(),
        TreatmentClass::PsychologicalTherapy => "psychological therapy".into(),
        TreatmentClass::InterventionalProcedure => "interventional procedure".into(),
        TreatmentClass::Other(other) => other.clone(),
    }
}

fn qualification_name(q: &Qualification) -> String {
    match q {
        Qualification::Physician => "physician".into(),
        Qualification::NursePractitioner => "nurse practitioner".into(),
        Qualification::PhysicianAssistant => "physician assistant".into(),
        Qualification::Other(other) => other.clone(),
    }
}

/// Whether ECG / LFTs are required (Cohen 2018), from the risk facts and from
/// contraindications found present.
fn required(facts: &PatientFacts, requirement: Requirement) -> Option<&'static str> {
    let present = |c: Contraindication| {
        facts
            .contraindication_review
            .as_ref()
            .is_some_and(|r| r.present.contains(&c))
    };
    let risks = facts.pre_infusion_risks;
    match requirement {
        Requirement::Always => Some("always required"),
        Requirement::WhenCardiovascularRisk => {
            if risks.cardiovascular_suspected_or_high_risk {
                Some("required: cardiovascular disease suspected or high risk")
            } else if present(Contraindication::PoorlyControlledCardiovascularDisease) {
                Some("required: poorly controlled cardiovascular disease present")
            } else if present(Contraindication::SignificantBloodPressureRiseHazard) {
                // A blood-pressure hazard is a high cardiovascular risk (Cohen 2018).
                Some("required: a rise in blood pressure would be a serious hazard")
            } else {
                None
            }
        }
        Requirement::WhenLiverRisk => {
            if risks.liver_dysfunction_or_risk {
                Some("required: liver dysfunction or risk of liver toxicity")
            } else if risks.high_dose_frequent_infusions_planned {
                Some("required: high-dose frequent infusions planned")
            } else if present(Contraindication::SevereHepaticDisease)
                || present(Contraindication::ModerateHepaticDisease)
            {
                Some("required: hepatic disease present")
            } else {
                None
            }
        }
    }
}

/// The newest record of a kind, checked against its window. `Ok(evidence)` when
/// current, `Err(missing)` otherwise.
fn record_status(
    facts: &PatientFacts,
    settings: &ScreeningSettings,
    today: Date,
    kind: RecordKind,
) -> Result<String, MissingItem> {
    let window = settings.record_windows.window(kind);
    let newest = facts
        .records
        .iter()
        .filter(|r| r.kind == kind && r.dated <= today)
        .map(|r| r.dated)
        .max();
    let Some(dated) = newest else {
        if let Some(future) = facts
            .records
            .iter()
            .find(|r| r.kind == kind && r.dated > today)
        {
            return Err(MissingItem::RecordDatedInFuture {
                kind,
                dated: future.dated,
            });
        }
        return Err(MissingItem::Record { kind });
    };
    // Current while today ≤ dated + window (inclusive); a date past jiff's range is
    // taken as current forever.
    let current_until = add_window(dated, window).unwrap_or(Date::MAX);
    if today <= current_until {
        Ok(format!(
            "dated {dated}, current until {current_until} (window {window}, a clinic setting)"
        ))
    } else {
        Err(MissingItem::StaleRecord {
            kind,
            dated,
            current_until,
        })
    }
}

/// Criterion 3.
fn records(facts: &PatientFacts, settings: &ScreeningSettings, today: Date) -> CriterionResult {
    let mut b = Builder::new(CriterionId::RecordsCurrent);
    for requirement in &RECORD_REQUIREMENTS {
        let Some(why) = required(facts, requirement.required) else {
            b.evidence.push(format!(
                "{}: not required (no risk recorded; {})",
                requirement.name, requirement.source
            ));
            continue;
        };
        match record_status(facts, settings, today, requirement.kind) {
            Ok(line) => b
                .evidence
                .push(format!("{}: {line}; {why}", requirement.name)),
            Err(item) => b.missing.push(item),
        }
    }
    b.missing_or(CriterionStatus::Met)
}

/// Criterion 4.
fn conventional_care(facts: &PatientFacts, settings: &ScreeningSettings) -> CriterionResult {
    let mut b = Builder::new(CriterionId::ConventionalCareTried);
    let mut classes = Vec::new();
    let mut gaps = Vec::new();
    for treatment in &facts.conventional_treatments {
        let name = treatment.name.trim().to_owned();
        let duration = treatment.duration_days.filter(|d| *d > 0);
        if duration.is_none() {
            gaps.push(MissingItem::TreatmentDuration {
                treatment: name.clone(),
            });
        }
        let reason = match &treatment.stopped_because {
            None => {
                gaps.push(MissingItem::TreatmentStopReason {
                    treatment: name.clone(),
                });
                None
            }
            Some(StopReason::Ineffective) => Some("ineffective"),
            Some(StopReason::NotTolerated) => Some("not tolerated"),
            Some(StopReason::Tolerance) => Some("lost effect (tolerance)"),
            Some(StopReason::Other(other)) => {
                b.evidence.push(format!(
                    "{name} ({}) stopped for another reason ({other}): does not count",
                    class_name(&treatment.class)
                ));
                None
            }
        };
        if let (Some(days), Some(reason)) = (duration, reason) {
            b.evidence.push(format!(
                "{name} ({}) tried {days} days, stopped: {reason}",
                class_name(&treatment.class)
            ));
            if !classes.contains(&treatment.class) {
                classes.push(treatment.class.clone());
            }
        }
    }
    let required = settings.minimum_conventional_classes;
    b.evidence.push(format!(
        "{} of {required} classes documented (minimum is a clinic setting)",
        classes.len()
    ));
    if classes.len() >= required {
        return b.finish(CriterionStatus::Met);
    }
    b.missing.extend(gaps);
    b.missing.push(MissingItem::MoreConventionalClasses {
        found: classes.len(),
        required,
    });
    b.finish(CriterionStatus::Missing)
}

/// Criterion 5. Also returns the contraindications found, with their tiers.
fn contraindications(
    facts: &PatientFacts,
    settings: &ScreeningSettings,
    today: Date,
) -> (CriterionResult, Vec<ContraindicationFinding>) {
    let mut b = Builder::new(CriterionId::NoContraindication);
    let mut found: Vec<ContraindicationFinding> = Vec::new();
    // A recorded allergy to ketamine is known hypersensitivity (label section 4),
    // whether or not a review has been done.
    if let Some(allergy) = facts.allergies.iter().find(|a| is_ketamine(a)) {
        found.push(ContraindicationFinding {
            contraindication: Contraindication::KetamineHypersensitivity,
            tier: settings
                .contraindication_tiers
                .tier(Contraindication::KetamineHypersensitivity),
            reviewed_on: None,
        });
        b.evidence
            .push(format!("allergy recorded: {}", allergy.substance.trim()));
    }
    match &facts.contraindication_review {
        None => b.missing.push(MissingItem::ContraindicationReview),
        Some(review) if review.reviewed_on > today => {
            b.missing.push(MissingItem::ContraindicationReviewInFuture {
                reviewed_on: review.reviewed_on,
            })
        }
        Some(review) => {
            for present in &review.present {
                if let Some(known) = found.iter_mut().find(|f| f.contraindication == *present) {
                    known.reviewed_on = Some(review.reviewed_on);
                    continue;
                }
                found.push(ContraindicationFinding {
                    contraindication: *present,
                    tier: settings.contraindication_tiers.tier(*present),
                    reviewed_on: Some(review.reviewed_on),
                });
            }
            if found.is_empty() {
                b.evidence.push(format!(
                    "reviewed {}: none of the {} listed contraindications present",
                    review.reviewed_on,
                    super::rules::CONTRAINDICATIONS.len()
                ));
            }
        }
    }
    found.sort_by_key(|f| f.contraindication);
    found.dedup_by_key(|f| f.contraindication);
    for finding in &found {
        let definition = contraindication(finding.contraindication);
        let when = match finding.reviewed_on {
            Some(date) => format!("reviewed {date}"),
            None => "recorded allergy".to_owned(),
        };
        b.concerns.push(format!(
            "{} present ({when}): {} — {}, per clinic setting; source: {}",
            definition.name,
            definition.guidance,
            tier_name(finding.tier),
            definition.source
        ));
    }
    let strictest = found.iter().map(|f| f.tier).min();
    let result = match strictest {
        Some(ContraindicationTier::Absolute) => {
            // Nothing a review could add changes an absolute contraindication.
            b.missing.clear();
            b.finish(CriterionStatus::NotMet)
        }
        Some(ContraindicationTier::NotEligibleUnlessOverridden) => {
            b.finish(CriterionStatus::NotMetUnlessOverridden)
        }
        _ if !b.missing.is_empty() => b.finish(CriterionStatus::Missing),
        Some(ContraindicationTier::ReferForClinicianReview) => {
            b.finish(CriterionStatus::ReviewNeeded)
        }
        None => b.finish(CriterionStatus::Met),
    };
    (result, found)
}

/// Whether an allergy is to ketamine: RxNorm ingredient 6130 (a product code mapped
/// to it first), or the name (shared/clinical/screening.md; label section 4).
fn is_ketamine(allergy: &Allergy) -> bool {
    let coded = allergy
        .rxnorm_ingredient
        .as_deref()
        .is_some_and(|code| ingredient_of(code) == KETAMINE.rxcui);
    let tokens = words(&allergy.substance);
    coded
        || KETAMINE_NAMES
            .iter()
            .any(|name| tokens.iter().any(|t| t == name))
}

/// Criterion 6. Also returns the flags themselves.
fn interactions(
    facts: &PatientFacts,
    settings: &ScreeningSettings,
    today: Date,
) -> (CriterionResult, Vec<InteractionFlag>) {
    let mut b = Builder::new(CriterionId::InteractionsReviewed);
    let list = record_status(facts, settings, today, RecordKind::MedicationList);
    let mut flags = Vec::new();
    for medication in &facts.medications {
        let tokens = words(&medication.name);
        // A product code is mapped to its ingredient before matching (screening.md).
        let coded = medication
            .rxnorm_ingredient
            .as_deref()
            .map(ingredient_of)
            .filter(|c| !c.is_empty());
        for rule in &INTERACTIONS {
            // By RxNorm ingredient where coded; by name too, because the table's RXCUIs
            // are still [to check] and a missed interaction is worse than a double flag.
            let by_code = coded.and_then(|code| {
                rule.ingredients
                    .iter()
                    .find(|i| i.rxcui == code)
                    .map(|_| MatchedBy::RxNormIngredient(code.to_owned()))
            });
            let by_name = || {
                rule.ingredients
                    .iter()
                    .find(|i| contains_words(&tokens, &words(i.name)))
                    .map(|i| MatchedBy::Name(i.name.to_owned()))
            };
            if let Some(matched_by) = by_code.or_else(by_name) {
                flags.push(InteractionFlag {
                    medication: medication.name.clone(),
                    rule,
                    matched_by,
                });
            }
        }
    }
    for flag in &flags {
        let how = match &flag.matched_by {
            MatchedBy::RxNormIngredient(code) => format!("RxNorm ingredient {code}"),
            MatchedBy::Name(name) => format!("name \"{name}\""),
        };
        b.concerns.push(format!(
            "{} — {} ({}), matched by {how}; source: {}",
            flag.medication, flag.rule.name, flag.rule.effect, flag.rule.source
        ));
    }
    match list {
        Ok(line) => b.evidence.push(format!("medication list: {line}")),
        Err(item) => b.missing.push(item),
    }
    b.evidence.push(format!(
        "{} current medications checked against {} interaction groups (lists of common \
         members, not exhaustive)",
        facts.medications.len(),
        INTERACTIONS.len()
    ));
    let status = if !b.missing.is_empty() {
        CriterionStatus::Missing
    } else if flags.is_empty() {
        CriterionStatus::Met
    } else {
        CriterionStatus::ReviewNeeded
    };
    (b.finish(status), flags)
}

/// Lower-case alphanumeric words: "Lorazepam 1 mg tab" → ["lorazepam", "1", "mg", "tab"].
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn contains_words(haystack: &[String], needle: &[String]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

fn add_months(date: Date, months: u32) -> Option<Date> {
    let span = Span::new().try_months(i64::from(months)).ok()?;
    date.checked_add(span).ok()
}

pub(super) fn sub_window(date: Date, window: FreshnessWindow) -> Option<Date> {
    let span = match window {
        FreshnessWindow::Days(n) => Span::new().try_days(i64::from(n)).ok()?,
        FreshnessWindow::Months(n) => Span::new().try_months(i64::from(n)).ok()?,
    };
    date.checked_sub(span).ok()
}

pub(super) fn add_window(date: Date, window: FreshnessWindow) -> Option<Date> {
    let span = match window {
        FreshnessWindow::Days(n) => Span::new().try_days(i64::from(n)).ok()?,
        FreshnessWindow::Months(n) => Span::new().try_months(i64::from(n)).ok()?,
    };
    date.checked_add(span).ok()
}

fn days_between(from: Date, to: Date) -> i32 {
    from.until(to).map(|span| span.get_days()).unwrap_or(0)
}
