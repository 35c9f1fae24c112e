//! The clinician's decision on a screening, and the rules it must keep.
//!
//! The engine explains; a clinician decides (shared/clinical/screening.md: "A
//! clinician always makes the final decision"). The decision is eligible, not eligible
//! or deferred, always with a reason. Only [`check_decision`] makes a
//! [`CheckedDecision`], so a decision that breaks a rule cannot be stored:
//!
//! - a contraindication of the absolute tier can never be overridden, and a patient
//!   who has one can never be decided eligible (product label, section 4: known
//!   hypersensitivity to ketamine);
//! - a contraindication of either other tier that the screening found must be
//!   overridden by name, with the clinician's reason, before the patient can be decided
//!   eligible (screening.md: "not eligible unless a clinician overrides with a reason";
//!   "refer for clinician review": the review is this decision, and its reason is
//!   written down the same way; Cohen SP et al. Reg Anesth Pain Med 2018;43:521–546);
//! - eligible needs criteria 1–4 met (chronic, diagnosed, records complete and
//!   current, conventional care tried): a clinician cannot decide past missing records
//!   (SPEC §1.3: "complete, current medical records"); defer instead.

use std::fmt;

use super::rules::{
    contraindication, criterion, Contraindication, ContraindicationTier, CriterionId,
};
use super::{CriterionStatus, Decision, Screening};

/// The longest reason kept (a paragraph, not a letter).
pub const REASON_MAX_CHARS: usize = 2000;

/// What the clinician decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClinicianOutcome {
    Eligible,
    NotEligible,
    /// Not decided yet: waiting for records, a test, a specialist's opinion.
    Deferred,
}

impl ClinicianOutcome {
    pub const ALL: [ClinicianOutcome; 3] = [
        ClinicianOutcome::Eligible,
        ClinicianOutcome::NotEligible,
        ClinicianOutcome::Deferred,
    ];

    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            ClinicianOutcome::Eligible => "eligible",
            ClinicianOutcome::NotEligible => "not-eligible",
            ClinicianOutcome::Deferred => "deferred",
        }
    }

    pub fn from_code(code: &str) -> Option<ClinicianOutcome> {
        ClinicianOutcome::ALL.into_iter().find(|o| o.code() == code)
    }
}

/// A present contraindication the clinician sets aside, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    pub contraindication: Contraindication,
    pub reason: String,
}

/// A decision as the clinician wrote it, not yet checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposedDecision {
    pub outcome: ClinicianOutcome,
    pub reason: String,
    pub overrides: Vec<Override>,
}

/// An override that keeps the rules, with the tier it overrode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedOverride {
    pub contraindication: Contraindication,
    pub tier: ContraindicationTier,
    pub reason: String,
}

/// A decision that keeps every rule of this module; only [`check_decision`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedDecision {
    outcome: ClinicianOutcome,
    reason: String,
    overrides: Vec<CheckedOverride>,
}

impl CheckedDecision {
    pub fn outcome(&self) -> ClinicianOutcome {
        self.outcome
    }

    pub fn reason(&self) -> &str {
        &self.reason
    }

    pub fn overrides(&self) -> &[CheckedOverride] {
        &self.overrides
    }
}

/// Why a proposed decision is refused; each names the form field it concerns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecisionError {
    #[error("reason: is required: say why")]
    ReasonRequired,
    #[error("reason: must be at most {REASON_MAX_CHARS} characters")]
    ReasonTooLong,
    #[error(
        "override: {} is an absolute contraindication and can never be overridden",
        contraindication(*.0).name
    )]
    AbsoluteCannotBeOverridden(Contraindication),
    #[error(
        "outcome: {} is an absolute contraindication: the patient cannot be eligible",
        contraindication(*.0).name
    )]
    AbsoluteContraindicationPresent(Contraindication),
    #[error(
        "outcome: {} is present: override it with a reason, or decide not eligible or deferred",
        contraindication(*.0).name
    )]
    OverrideRequired(Contraindication),
    #[error("override: the reason for overriding {} is required", contraindication(*.0).name)]
    OverrideNeedsReason(Contraindication),
    #[error(
        "override: {} was not found by the screening",
        contraindication(*.0).name
    )]
    OverrideOfAbsent(Contraindication),
    #[error("override: only an eligible decision overrides a contraindication")]
    OverrideWithoutEligible,
    #[error(
        "outcome: criterion {} ({}) is {}: decide not eligible or deferred",
        criterion(*.0).number,
        criterion(*.0).title,
        .1
    )]
    CriterionNotMet(CriterionId, CriterionStatus),
}

impl DecisionError {
    /// The form field the error belongs to.
    pub fn field(&self) -> &'static str {
        match self {
            DecisionError::ReasonRequired | DecisionError::ReasonTooLong => "reason",
            DecisionError::AbsoluteContraindicationPresent(_)
            | DecisionError::OverrideRequired(_)
            | DecisionError::CriterionNotMet(..) => "outcome",
            DecisionError::AbsoluteCannotBeOverridden(_)
            | DecisionError::OverrideNeedsReason(_)
            | DecisionError::OverrideOfAbsent(_)
            | DecisionError::OverrideWithoutEligible => "override",
        }
    }
}

/// The criteria an eligible decision needs met; the other two (contraindications,
/// interactions) are the clinician's to weigh, through overrides and the reason.
const MUST_BE_MET: [CriterionId; 4] = [
    CriterionId::Chronic,
    CriterionId::Diagnosed,
    CriterionId::RecordsCurrent,
    CriterionId::ConventionalCareTried,
];

/// Checks `proposed` against `screening` (its contraindications found, with the tier
/// the clinic's settings gave each). All errors are returned, in the order of the form.
pub fn check_decision(
    screening: &Screening,
    proposed: ProposedDecision,
) -> Result<CheckedDecision, Vec<DecisionError>> {
    let mut errors = Vec::new();
    let reason = proposed.reason.trim().to_owned();
    if reason.is_empty() {
        errors.push(DecisionError::ReasonRequired);
    } else if reason.chars().count() > REASON_MAX_CHARS {
        errors.push(DecisionError::ReasonTooLong);
    }
    let found = |c: Contraindication| {
        screening
            .contraindications_found
            .iter()
            .find(|f| f.contraindication == c)
            .map(|f| f.tier)
    };

    let mut overrides: Vec<CheckedOverride> = Vec::new();
    for o in proposed.overrides {
        let reason = o.reason.trim().to_owned();
        let Some(tier) = found(o.contraindication) else {
            errors.push(DecisionError::OverrideOfAbsent(o.contraindication));
            continue;
        };
        if tier == ContraindicationTier::Absolute {
            errors.push(DecisionError::AbsoluteCannotBeOverridden(
                o.contraindication,
            ));
        } else if reason.is_empty() {
            errors.push(DecisionError::OverrideNeedsReason(o.contraindication));
        } else if reason.chars().count() > REASON_MAX_CHARS {
            errors.push(DecisionError::ReasonTooLong);
        } else if !overrides
            .iter()
            .any(|k| k.contraindication == o.contraindication)
        {
            overrides.push(CheckedOverride {
                contraindication: o.contraindication,
                tier,
                reason,
            });
        }
    }

    match proposed.outcome {
        ClinicianOutcome::Eligible => {
            for id in MUST_BE_MET {
                if let Some(result) = screening.criterion(id) {
                    if result.status != CriterionStatus::Met {
                        errors.push(DecisionError::CriterionNotMet(id, result.status));
                    }
                }
            }
            for finding in &screening.contraindications_found {
                let c = finding.contraindication;
                if finding.tier == ContraindicationTier::Absolute {
                    errors.push(DecisionError::AbsoluteContraindicationPresent(c));
                } else if !overrides.iter().any(|o| o.contraindication == c)
                    && !errors.contains(&DecisionError::OverrideNeedsReason(c))
                {
                    errors.push(DecisionError::OverrideRequired(c));
                }
            }
        }
        ClinicianOutcome::NotEligible | ClinicianOutcome::Deferred => {
            if !overrides.is_empty() {
                errors.push(DecisionError::OverrideWithoutEligible);
            }
        }
    }

    if !errors.is_empty() {
        errors.dedup();
        return Err(errors);
    }
    Ok(CheckedDecision {
        outcome: proposed.outcome,
        reason,
        overrides,
    })
}

/// The stored code of the engine's verdict, kept with a decision so that a reader sees
/// what the clinician decided against.
pub fn verdict_code(verdict: Decision) -> &'static str {
    match verdict {
        Decision::Eligible => "eligible",
        Decision::NeedsInformation => "needs-information",
        Decision::ReferForClinicianReview => "refer-for-clinician-review",
        Decision::NotEligible => "not-eligible",
        Decision::NotEligibleUnlessOverridden => "not-eligible-unless-overridden",
    }
}

impl fmt::Display for ClinicianOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;
    use crate::screening::{
        screen, ContraindicationReview, ConventionalTreatment, Diagnosis, Medication, PatientFacts,
        Professional, Qualification, Record, RecordKind, ScreeningSettings, StopReason,
        TreatmentClass,
    };

    fn today() -> jiff::civil::Date {
        date(2026, 11, 27)
    }

    /// A chart that meets every criterion, with `present` contraindications.
    fn facts(present: &[Contraindication]) -> PatientFacts {
        let dated = date(2026, 11, 20);
        PatientFacts {
            pain_onset: Some(date(2025, 1, 10)),
            diagnoses: vec![Diagnosis {
                code: "G90.521".into(),
                code_system_version: None,
                diagnosed_by: Some(Professional {
                    name: "Dr. Helen Park".into(),
                    qualification: Qualification::Physician,
                }),
                diagnosed_on: Some(date(2025, 6, 1)),
            }],
            records: [
                RecordKind::MedicationList,
                RecordKind::Allergies,
                RecordKind::ProblemList,
                RecordKind::VitalSigns,
                RecordKind::DiagnosisLetter,
            ]
            .into_iter()
            .map(|kind| Record { kind, dated })
            .collect(),
            conventional_treatments: vec![
                ConventionalTreatment {
                    name: "ibuprofen".into(),
                    class: TreatmentClass::Nsaid,
                    duration_days: Some(90),
                    stopped_because: Some(StopReason::Ineffective),
                },
                ConventionalTreatment {
                    name: "gabapentin".into(),
                    class: TreatmentClass::Gabapentinoid,
                    duration_days: Some(120),
                    stopped_because: Some(StopReason::NotTolerated),
                },
            ],
            contraindication_review: Some(ContraindicationReview {
                reviewed_on: dated,
                present: present.to_vec(),
            }),
            medications: vec![Medication {
                name: "paracetamol".into(),
                rxnorm_ingredient: None,
            }],
            pre_infusion_risks: Default::default(),
            allergies: Vec::new(),
        }
    }

    fn decide(
        facts: &PatientFacts,
        outcome: ClinicianOutcome,
        overrides: &[(Contraindication, &str)],
    ) -> Result<CheckedDecision, Vec<DecisionError>> {
        let settings = ScreeningSettings::default();
        let screening = screen(facts, &settings, today());
        check_decision(
            &screening,
            ProposedDecision {
                outcome,
                reason: "discussed with the patient".into(),
                overrides: overrides
                    .iter()
                    .map(|(c, r)| Override {
                        contraindication: *c,
                        reason: (*r).into(),
                    })
                    .collect(),
            },
        )
    }

    #[test]
    fn a_complete_chart_without_contraindications_may_be_decided_eligible() {
        let decision = decide(&facts(&[]), ClinicianOutcome::Eligible, &[]).unwrap();
        assert_eq!(decision.outcome(), ClinicianOutcome::Eligible);
        assert_eq!(decision.reason(), "discussed with the patient");
    }

    #[test]
    fn every_decision_needs_a_reason() {
        let settings = ScreeningSettings::default();
        let facts = facts(&[]);
        let screening = screen(&facts, &settings, today());
        for outcome in ClinicianOutcome::ALL {
            let errors = check_decision(
                &screening,
                ProposedDecision {
                    outcome,
                    reason: "   ".into(),
                    overrides: vec![],
                },
            )
            .unwrap_err();
            assert_eq!(errors, vec![DecisionError::ReasonRequired], "{outcome}");
        }
    }

    #[test]
    fn the_absolute_tier_can_never_be_overridden_nor_decided_eligible() {
        // Product label, section 4: known hypersensitivity to ketamine (absolute by
        // default in ScreeningSettings).
        let hypersensitive = facts(&[Contraindication::KetamineHypersensitivity]);
        let errors = decide(
            &hypersensitive,
            ClinicianOutcome::Eligible,
            &[(Contraindication::KetamineHypersensitivity, "mild rash only")],
        )
        .unwrap_err();
        assert!(errors.contains(&DecisionError::AbsoluteCannotBeOverridden(
            Contraindication::KetamineHypersensitivity
        )));
        assert!(
            errors.contains(&DecisionError::AbsoluteContraindicationPresent(
                Contraindication::KetamineHypersensitivity
            ))
        );
        // Not eligible is the only way.
        assert!(decide(&hypersensitive, ClinicianOutcome::NotEligible, &[]).is_ok());
    }

    #[test]
    fn other_tiers_need_an_override_with_a_reason() {
        for c in [
            Contraindication::Pregnancy,
            Contraindication::ElevatedIntraocularPressure,
            Contraindication::ActiveSubstanceAbuse,
        ] {
            let chart = facts(&[c]);
            assert_eq!(
                decide(&chart, ClinicianOutcome::Eligible, &[]).unwrap_err(),
                vec![DecisionError::OverrideRequired(c)]
            );
            assert_eq!(
                decide(&chart, ClinicianOutcome::Eligible, &[(c, " ")]).unwrap_err(),
                vec![DecisionError::OverrideNeedsReason(c)]
            );
            let decision = decide(
                &chart,
                ClinicianOutcome::Eligible,
                &[(c, "reviewed with the specialist")],
            )
            .unwrap();
            assert_eq!(decision.overrides()[0].contraindication, c);
            assert_eq!(
                decision.overrides()[0].reason,
                "reviewed with the specialist"
            );
        }
    }

    #[test]
    fn an_override_names_a_contraindication_that_is_present_and_only_for_eligible() {
        assert_eq!(
            decide(
                &facts(&[]),
                ClinicianOutcome::Eligible,
                &[(Contraindication::Pregnancy, "x")]
            )
            .unwrap_err(),
            vec![DecisionError::OverrideOfAbsent(Contraindication::Pregnancy)]
        );
        assert_eq!(
            decide(
                &facts(&[Contraindication::Pregnancy]),
                ClinicianOutcome::Deferred,
                &[(Contraindication::Pregnancy, "x")]
            )
            .unwrap_err(),
            vec![DecisionError::OverrideWithoutEligible]
        );
    }

    #[test]
    fn missing_records_cannot_be_decided_eligible_but_can_be_deferred() {
        let mut chart = facts(&[]);
        chart
            .records
            .retain(|r| r.kind != RecordKind::DiagnosisLetter);
        let errors = decide(&chart, ClinicianOutcome::Eligible, &[]).unwrap_err();
        assert_eq!(
            errors,
            vec![DecisionError::CriterionNotMet(
                CriterionId::RecordsCurrent,
                CriterionStatus::Missing
            )]
        );
        assert!(errors[0].to_string().contains("Medical records complete"));
        assert!(decide(&chart, ClinicianOutcome::Deferred, &[]).is_ok());
    }

    #[test]
    fn outcome_codes_round_trip() {
        for outcome in ClinicianOutcome::ALL {
            assert_eq!(ClinicianOutcome::from_code(outcome.code()), Some(outcome));
        }
        assert_eq!(ClinicianOutcome::from_code("maybe"), None);
    }
}
