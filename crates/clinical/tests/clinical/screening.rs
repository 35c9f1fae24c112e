//! Screening vignettes: each criterion failing alone, every boundary, each
//! contraindication and interaction flag alone, the empty chart.
//!
//! Expected values come from shared/clinical/screening.md and from calendar counts
//! done by hand (written beside each case), never from the engine's own output.

use jiff::civil::{date, Date};
use jiff::ToSpan;
use respite_clinical::screening::rules::{contraindication, record_requirement};
use respite_clinical::screening::{
    fingerprint, ingredient_of, Allergy, ContraindicationFinding, ContraindicationTier, TierError,
};
use respite_clinical::screening::{
    screen, Contraindication, ContraindicationReview, ConventionalTreatment, CriterionId,
    CriterionStatus, Decision, Diagnosis, FreshnessWindow, InteractionGroup, MatchedBy, Medication,
    MissingItem, PatientFacts, PreInfusionRisks, Professional, Qualification, Record, RecordKind,
    ScreeningSettings, StopReason, TreatmentClass, CONTRAINDICATIONS, CRITERIA, INTERACTIONS,
};

const TODAY: Date = date(2025, 6, 15);

fn days_before(today: Date, days: i64) -> Date {
    today
        .checked_sub(days.days())
        .expect("test dates are in range")
}

fn months_before(today: Date, months: i64) -> Date {
    today
        .checked_sub(months.months())
        .expect("test dates are in range")
}

const ALL_RECORD_KINDS: [RecordKind; 7] = [
    RecordKind::MedicationList,
    RecordKind::Allergies,
    RecordKind::ProblemList,
    RecordKind::VitalSigns,
    RecordKind::DiagnosisLetter,
    RecordKind::Ecg,
    RecordKind::LiverFunctionTests,
];

/// A chart that satisfies every criterion on `today`: CRPS type I diagnosed by a
/// physician, pain for 17 months, every record 10 days old, two classes failed, no
/// contraindication, one non-interacting medication.
fn complete_chart(today: Date) -> PatientFacts {
    PatientFacts {
        pain_onset: Some(months_before(today, 17)),
        diagnoses: vec![Diagnosis {
            code: "G90.511".into(), // CRPS I, right upper limb (codes.md [checked])
            code_system_version: Some("FY2025".into()),
            diagnosed_by: Some(Professional {
                name: "Dr. Ada Lovelace".into(),
                qualification: Qualification::Physician,
            }),
            diagnosed_on: Some(months_before(today, 11)),
        }],
        records: ALL_RECORD_KINDS
            .iter()
            .map(|&kind| Record {
                kind,
                dated: days_before(today, 10),
            })
            .collect(),
        conventional_treatments: vec![
            ConventionalTreatment {
                name: "gabapentin".into(),
                class: TreatmentClass::Gabapentinoid,
                duration_days: Some(90),
                stopped_because: Some(StopReason::Ineffective),
            },
            ConventionalTreatment {
                name: "physiotherapy".into(),
                class: TreatmentClass::Physiotherapy,
                duration_days: Some(60),
                stopped_because: Some(StopReason::Ineffective),
            },
        ],
        contraindication_review: Some(ContraindicationReview {
            reviewed_on: days_before(today, 10),
            present: vec![],
        }),
        medications: vec![Medication {
            name: "Ibuprofen 400 mg tablet".into(),
            rxnorm_ingredient: Some("5640".into()),
        }],
        pre_infusion_risks: PreInfusionRisks::default(),
        allergies: vec![Allergy {
            substance: "Penicillin".into(),
            rxnorm_ingredient: Some("7980".into()),
        }],
    }
}

struct Vignette {
    name: &'static str,
    today: Date,
    change: fn(&mut PatientFacts),
    settings: fn(&mut ScreeningSettings),
    decision: Decision,
    /// Criteria that are not `Met`; every other criterion must be `Met`.
    not_met: &'static [(CriterionId, CriterionStatus)],
    /// Items that must be among the missing.
    missing: fn(Date) -> Vec<MissingItem>,
}

fn no_change(_: &mut PatientFacts) {}
fn default_settings(_: &mut ScreeningSettings) {}
fn nothing_missing(_: Date) -> Vec<MissingItem> {
    vec![]
}

const V: Vignette = Vignette {
    name: "",
    today: TODAY,
    change: no_change,
    settings: default_settings,
    decision: Decision::Eligible,
    not_met: &[],
    missing: nothing_missing,
};

/// The one check helper: screens the vignette and compares decision, every
/// criterion's status and the missing items; the explanation must name every source.
fn check(v: &Vignette) {
    let mut facts = complete_chart(v.today);
    (v.change)(&mut facts);
    let mut settings = ScreeningSettings::default();
    (v.settings)(&mut settings);
    let result = screen(&facts, &settings, v.today);
    assert_eq!(
        result.decision,
        v.decision,
        "{}: decision\n{}",
        v.name,
        result.explanation()
    );
    assert_eq!(result.criteria.len(), CRITERIA.len(), "{}", v.name);
    for definition in &CRITERIA {
        let expected = v
            .not_met
            .iter()
            .find(|(id, _)| *id == definition.id)
            .map(|(_, status)| *status)
            .unwrap_or(CriterionStatus::Met);
        let got = result.criterion(definition.id).map(|c| c.status);
        assert_eq!(
            got,
            Some(expected),
            "{}: criterion {} ({})\n{}",
            v.name,
            definition.number,
            definition.title,
            result.explanation()
        );
    }
    let missing = result.missing();
    for item in (v.missing)(v.today) {
        assert!(
            missing.contains(&&item),
            "{}: expected missing {item:?}, got {missing:?}",
            v.name
        );
    }
    if v.decision == Decision::NeedsInformation {
        assert!(
            !missing.is_empty(),
            "{}: needs information but lists nothing",
            v.name
        );
    }
    let explanation = result.explanation();
    for definition in &CRITERIA {
        assert!(
            explanation.contains(definition.source),
            "{}: explanation lacks the source of criterion {}",
            v.name,
            definition.number
        );
    }
}

use CriterionId::*;
use CriterionStatus::{Missing, NotMet, NotMetUnlessOverridden, ReviewNeeded};

#[test]
fn complete_chart_is_eligible() {
    check(&Vignette {
        name: "complete chart",
        ..V
    });
}

#[test]
fn each_criterion_failing_alone() {
    let vignettes = [
        Vignette {
            name: "1: pain for 45 days only",
            change: |f| f.pain_onset = Some(days_before(TODAY, 45)),
            decision: Decision::NotEligible,
            not_met: &[(Chronic, NotMet)],
            ..V
        },
        Vignette {
            name: "1: onset unknown",
            change: |f| f.pain_onset = None,
            decision: Decision::NeedsInformation,
            not_met: &[(Chronic, Missing)],
            missing: |_| vec![MissingItem::PainOnsetDate],
            ..V
        },
        Vignette {
            name: "1: onset after the evaluation date",
            change: |f| f.pain_onset = Some(date(2025, 6, 16)),
            decision: Decision::NeedsInformation,
            not_met: &[(Chronic, Missing)],
            missing: |_| {
                vec![MissingItem::PainOnsetInFuture {
                    onset: date(2025, 6, 16),
                }]
            },
            ..V
        },
        Vignette {
            name: "2: no diagnosis",
            change: |f| f.diagnoses.clear(),
            decision: Decision::NeedsInformation,
            not_met: &[(Diagnosed, Missing)],
            missing: |_| vec![MissingItem::Diagnosis],
            ..V
        },
        Vignette {
            name: "2: who diagnosed unknown",
            change: |f| f.diagnoses[0].diagnosed_by = None,
            decision: Decision::NeedsInformation,
            not_met: &[(Diagnosed, Missing)],
            missing: |_| {
                vec![MissingItem::DiagnosingProfessional {
                    code: "G90.511".into(),
                }]
            },
            ..V
        },
        Vignette {
            name: "2: diagnosis date unknown",
            change: |f| f.diagnoses[0].diagnosed_on = None,
            decision: Decision::NeedsInformation,
            not_met: &[(Diagnosed, Missing)],
            missing: |_| {
                vec![MissingItem::DiagnosisDate {
                    code: "G90.511".into(),
                }]
            },
            ..V
        },
        Vignette {
            name: "2: diagnosis dated after the evaluation date",
            change: |f| f.diagnoses[0].diagnosed_on = Some(date(2025, 7, 1)),
            decision: Decision::NeedsInformation,
            not_met: &[(Diagnosed, Missing)],
            ..V
        },
        Vignette {
            name: "2: code not in the condition table (asthma J45.909)",
            change: |f| f.diagnoses[0].code = "J45.909".into(),
            decision: Decision::ReferForClinicianReview,
            not_met: &[(Diagnosed, ReviewNeeded)],
            ..V
        },
        Vignette {
            name: "2: retired code M54.5 (retired 1 Oct 2021, codes.md)",
            change: |f| f.diagnoses[0].code = "M54.5".into(),
            decision: Decision::NeedsInformation,
            not_met: &[(Diagnosed, Missing)],
            missing: |_| {
                vec![MissingItem::RetiredCode {
                    code: "M54.5".into(),
                    replaced_by: "M54.50, M54.51 or M54.59".into(),
                }]
            },
            ..V
        },
        Vignette {
            name: "2: diagnosed by a professional of another kind",
            change: |f| {
                f.diagnoses[0].diagnosed_by = Some(Professional {
                    name: "J. Doe".into(),
                    qualification: Qualification::Other("chiropractor".into()),
                })
            },
            decision: Decision::ReferForClinicianReview,
            not_met: &[(Diagnosed, ReviewNeeded)],
            ..V
        },
        Vignette {
            name: "2: code written lower case without the dot",
            change: |f| f.diagnoses[0].code = "g90511".into(),
            ..V
        },
        Vignette {
            name: "3: vital signs missing",
            change: |f| f.records.retain(|r| r.kind != RecordKind::VitalSigns),
            decision: Decision::NeedsInformation,
            not_met: &[(RecordsCurrent, Missing)],
            missing: |_| {
                vec![MissingItem::Record {
                    kind: RecordKind::VitalSigns,
                }]
            },
            ..V
        },
        Vignette {
            name: "3: ECG not required and absent",
            change: |f| f.records.retain(|r| r.kind != RecordKind::Ecg),
            ..V
        },
        Vignette {
            name: "3: ECG required (cardiovascular risk) and absent",
            change: |f| {
                f.records.retain(|r| r.kind != RecordKind::Ecg);
                f.pre_infusion_risks.cardiovascular_suspected_or_high_risk = true;
            },
            decision: Decision::NeedsInformation,
            not_met: &[(RecordsCurrent, Missing)],
            missing: |_| {
                vec![MissingItem::Record {
                    kind: RecordKind::Ecg,
                }]
            },
            ..V
        },
        Vignette {
            name: "3: LFTs not required and absent",
            change: |f| {
                f.records
                    .retain(|r| r.kind != RecordKind::LiverFunctionTests)
            },
            ..V
        },
        Vignette {
            name: "3: LFTs required (liver risk) and absent",
            change: |f| {
                f.records
                    .retain(|r| r.kind != RecordKind::LiverFunctionTests);
                f.pre_infusion_risks.liver_dysfunction_or_risk = true;
            },
            decision: Decision::NeedsInformation,
            not_met: &[(RecordsCurrent, Missing)],
            missing: |_| {
                vec![MissingItem::Record {
                    kind: RecordKind::LiverFunctionTests,
                }]
            },
            ..V
        },
        Vignette {
            name: "3: LFTs required (high-dose frequent infusions planned) and absent",
            change: |f| {
                f.records
                    .retain(|r| r.kind != RecordKind::LiverFunctionTests);
                f.pre_infusion_risks.high_dose_frequent_infusions_planned = true;
            },
            decision: Decision::NeedsInformation,
            not_met: &[(RecordsCurrent, Missing)],
            ..V
        },
        Vignette {
            name: "3: record dated after the evaluation date only",
            change: |f| {
                f.records.retain(|r| r.kind != RecordKind::Allergies);
                f.records.push(Record {
                    kind: RecordKind::Allergies,
                    dated: date(2025, 6, 20),
                });
            },
            decision: Decision::NeedsInformation,
            not_met: &[(RecordsCurrent, Missing)],
            missing: |_| {
                vec![MissingItem::RecordDatedInFuture {
                    kind: RecordKind::Allergies,
                    dated: date(2025, 6, 20),
                }]
            },
            ..V
        },
        Vignette {
            name: "3: an old and a current record of a kind: the newest counts",
            change: |f| {
                f.records.push(Record {
                    kind: RecordKind::VitalSigns,
                    dated: date(2020, 1, 1),
                })
            },
            ..V
        },
        Vignette {
            name: "4: one class only",
            change: |f| {
                f.conventional_treatments.pop();
            },
            decision: Decision::NeedsInformation,
            not_met: &[(ConventionalCareTried, Missing)],
            missing: |_| {
                vec![MissingItem::MoreConventionalClasses {
                    found: 1,
                    required: 2,
                }]
            },
            ..V
        },
        Vignette {
            name: "4: two treatments of one class count once",
            change: |f| f.conventional_treatments[1].class = TreatmentClass::Gabapentinoid,
            decision: Decision::NeedsInformation,
            not_met: &[(ConventionalCareTried, Missing)],
            missing: |_| {
                vec![MissingItem::MoreConventionalClasses {
                    found: 1,
                    required: 2,
                }]
            },
            ..V
        },
        Vignette {
            name: "4: duration unknown",
            change: |f| f.conventional_treatments[1].duration_days = None,
            decision: Decision::NeedsInformation,
            not_met: &[(ConventionalCareTried, Missing)],
            missing: |_| {
                vec![MissingItem::TreatmentDuration {
                    treatment: "physiotherapy".into(),
                }]
            },
            ..V
        },
        Vignette {
            name: "4: why stopped unknown",
            change: |f| f.conventional_treatments[1].stopped_because = None,
            decision: Decision::NeedsInformation,
            not_met: &[(ConventionalCareTried, Missing)],
            missing: |_| {
                vec![MissingItem::TreatmentStopReason {
                    treatment: "physiotherapy".into(),
                }]
            },
            ..V
        },
        Vignette {
            name: "4: stopped for another reason (cost) does not count",
            change: |f| {
                f.conventional_treatments[1].stopped_because =
                    Some(StopReason::Other("cost".into()))
            },
            decision: Decision::NeedsInformation,
            not_met: &[(ConventionalCareTried, Missing)],
            ..V
        },
        Vignette {
            name: "4: not tolerated and tolerance count",
            change: |f| {
                f.conventional_treatments[0].stopped_because = Some(StopReason::NotTolerated);
                f.conventional_treatments[1].stopped_because = Some(StopReason::Tolerance);
            },
            ..V
        },
        Vignette {
            name: "4: clinic requires 3 classes",
            settings: |s| s.minimum_conventional_classes = 3,
            decision: Decision::NeedsInformation,
            not_met: &[(ConventionalCareTried, Missing)],
            missing: |_| {
                vec![MissingItem::MoreConventionalClasses {
                    found: 2,
                    required: 3,
                }]
            },
            ..V
        },
        Vignette {
            name: "5: no contraindication review",
            change: |f| f.contraindication_review = None,
            decision: Decision::NeedsInformation,
            not_met: &[(NoContraindication, Missing)],
            missing: |_| vec![MissingItem::ContraindicationReview],
            ..V
        },
        Vignette {
            name: "6: medication list stale (91 days, window 90)",
            change: |f| {
                for r in f
                    .records
                    .iter_mut()
                    .filter(|r| r.kind == RecordKind::MedicationList)
                {
                    r.dated = days_before(TODAY, 91);
                }
            },
            decision: Decision::NeedsInformation,
            not_met: &[(RecordsCurrent, Missing), (InteractionsReviewed, Missing)],
            ..V
        },
        Vignette {
            name: "6: an interacting medication",
            change: |f| {
                f.medications.push(Medication {
                    name: "Lorazepam 1 mg tablet".into(),
                    rxnorm_ingredient: None,
                })
            },
            decision: Decision::ReferForClinicianReview,
            not_met: &[(InteractionsReviewed, ReviewNeeded)],
            ..V
        },
    ];
    for v in &vignettes {
        check(v);
    }
}

#[test]
fn precedence_between_outcomes() {
    check(&Vignette {
        name: "not met and missing: not eligible",
        change: |f| {
            f.pain_onset = Some(days_before(TODAY, 30));
            f.diagnoses.clear();
        },
        decision: Decision::NotEligible,
        not_met: &[(Chronic, NotMet), (Diagnosed, Missing)],
        ..V
    });
    check(&Vignette {
        name: "review and missing: needs information first",
        change: |f| {
            // Moderate hepatic disease: refer for clinician review (screening.md).
            f.contraindication_review = Some(ContraindicationReview {
                reviewed_on: TODAY,
                present: vec![Contraindication::ModerateHepaticDisease],
            });
            f.records.clear();
        },
        decision: Decision::NeedsInformation,
        not_met: &[
            (RecordsCurrent, Missing),
            (NoContraindication, ReviewNeeded),
            (InteractionsReviewed, Missing),
        ],
        ..V
    });
}

/// Criterion 1, counted by hand on a calendar. Rule: chronic iff
/// evaluation date > onset + 3 calendar months.
#[test]
fn chronic_boundaries() {
    // (evaluation date, days since onset, chronic?, why)
    let cases: [(Date, i64, bool, &str); 16] = [
        // 15 Jun 2025 − 3 months = 15 Mar 2025, which is 92 days earlier
        // (Mar 15→Apr 15: 31, →May 15: 30, →Jun 15: 31).
        (date(2025, 6, 15), 89, false, "89 days < 3 months"),
        (date(2025, 6, 15), 90, false, "90 days < 3 months"),
        (date(2025, 6, 15), 91, false, "91 days < 3 months"),
        (
            date(2025, 6, 15),
            92,
            false,
            "92 days = exactly 3 calendar months: not more",
        ),
        (date(2025, 6, 15), 93, true, "93 days > 3 months"),
        // 1 May 2025 − 3 months = 1 Feb 2025, 89 days earlier (Feb 28 + Mar 31 + Apr 30).
        (date(2025, 5, 1), 88, false, "88 days < 3 months"),
        (
            date(2025, 5, 1),
            89,
            false,
            "89 days = exactly 3 calendar months",
        ),
        (date(2025, 5, 1), 90, true, "90 days > 3 months here"),
        (date(2025, 5, 1), 91, true, "91 days"),
        (date(2025, 5, 1), 92, true, "92 days"),
        // 31 Mar 2025 − 3 months = 31 Dec 2024, 90 days earlier (Jan 31 + Feb 28 + Mar 31).
        (
            date(2025, 3, 31),
            90,
            false,
            "90 days = exactly 3 calendar months",
        ),
        (date(2025, 3, 31), 91, true, "91 days > 3 months"),
        // 30 Nov 2024 + 3 months clamps to 28 Feb 2025 (no 30 Feb): 90 days.
        (
            date(2025, 2, 28),
            90,
            false,
            "onset 30 Nov: exactly 3 months on 28 Feb",
        ),
        (
            date(2025, 3, 1),
            91,
            true,
            "onset 30 Nov: chronic from 1 Mar",
        ),
        // 15 Jan 2025 + 3 months = 15 Apr 2025 (90 days: Jan 15→Feb 15 31, →Mar 15 28, →Apr 15 31).
        (
            date(2025, 4, 15),
            90,
            false,
            "onset 15 Jan: exactly 3 calendar months",
        ),
        (date(2025, 4, 16), 91, true, "onset 15 Jan: one day more"),
    ];
    for (today, days, chronic, why) in cases {
        let onset = days_before(today, days);
        let mut facts = complete_chart(today);
        facts.pain_onset = Some(onset);
        let result = screen(&facts, &ScreeningSettings::default(), today);
        let status = result.criterion(Chronic).map(|c| c.status);
        let expected = if chronic {
            CriterionStatus::Met
        } else {
            NotMet
        };
        assert_eq!(
            status,
            Some(expected),
            "onset {onset}, today {today}: {why}"
        );
        let decision = if chronic {
            Decision::Eligible
        } else {
            Decision::NotEligible
        };
        assert_eq!(
            result.decision, decision,
            "onset {onset}, today {today}: {why}"
        );
    }
}

/// Each record kind one day inside, exactly at, and one day past its default window
/// (screening.md "Record freshness"; current while today ≤ dated + window).
#[test]
fn record_window_boundaries() {
    let windows = ScreeningSettings::default().record_windows;
    for kind in ALL_RECORD_KINDS {
        let window = windows.window(kind);
        // The oldest date that is still current: today − window.
        let edge = match window {
            FreshnessWindow::Days(n) => days_before(TODAY, i64::from(n)),
            FreshnessWindow::Months(n) => months_before(TODAY, i64::from(n)),
        };
        let expected_days = match kind {
            RecordKind::MedicationList | RecordKind::LiverFunctionTests => Some(90),
            RecordKind::Allergies | RecordKind::ProblemList => Some(365),
            RecordKind::VitalSigns => Some(30),
            RecordKind::DiagnosisLetter | RecordKind::Ecg => None, // 12 months
        };
        match (window, expected_days) {
            (FreshnessWindow::Days(n), Some(days)) => assert_eq!(n, days, "{kind:?}"),
            (FreshnessWindow::Months(n), None) => assert_eq!(n, 12, "{kind:?}"),
            other => panic!("{kind:?}: unexpected default window {other:?}"),
        }
        let cases = [
            (edge.tomorrow().expect("in range"), true, "one day inside"),
            (edge, true, "exactly at the window"),
            (edge.yesterday().expect("in range"), false, "one day past"),
        ];
        for (dated, current, why) in cases {
            let mut facts = complete_chart(TODAY);
            for r in facts.records.iter_mut().filter(|r| r.kind == kind) {
                r.dated = dated;
            }
            // ECG and LFTs count only when required.
            facts.pre_infusion_risks = PreInfusionRisks {
                cardiovascular_suspected_or_high_risk: true,
                liver_dysfunction_or_risk: true,
                high_dose_frequent_infusions_planned: false,
            };
            let result = screen(&facts, &ScreeningSettings::default(), TODAY);
            let status = result.criterion(RecordsCurrent).map(|c| c.status);
            let name = record_requirement(kind).name;
            if current {
                assert_eq!(
                    status,
                    Some(CriterionStatus::Met),
                    "{name} dated {dated}: {why}"
                );
            } else {
                assert_eq!(status, Some(Missing), "{name} dated {dated}: {why}");
                let stale = result.missing().into_iter().any(|m| {
                    matches!(m, MissingItem::StaleRecord { kind: k, dated: d, .. } if *k == kind && *d == dated)
                });
                assert!(stale, "{name} dated {dated}: {why}: not listed as stale");
            }
        }
    }
}

#[test]
fn each_contraindication_in_each_tier() {
    assert_eq!(
        CONTRAINDICATIONS.len(),
        10,
        "Cohen 2018 list (8) plus the label's two (hypersensitivity; a rise in blood pressure)"
    );
    let tiers = [
        (
            ContraindicationTier::Absolute,
            Decision::NotEligible,
            NotMet,
        ),
        (
            ContraindicationTier::NotEligibleUnlessOverridden,
            Decision::NotEligibleUnlessOverridden,
            NotMetUnlessOverridden,
        ),
        (
            ContraindicationTier::ReferForClinicianReview,
            Decision::ReferForClinicianReview,
            ReviewNeeded,
        ),
    ];
    for definition in &CONTRAINDICATIONS {
        assert_eq!(
            contraindication(definition.id).id,
            definition.id,
            "table order"
        );
        let mut facts = complete_chart(TODAY);
        facts.contraindication_review = Some(ContraindicationReview {
            reviewed_on: TODAY,
            present: vec![definition.id],
        });
        for (tier, decision, status) in tiers {
            let mut settings = ScreeningSettings::default();
            if settings
                .contraindication_tiers
                .set(definition.id, tier)
                .is_err()
            {
                // Only the label's hypersensitivity is fixed (absolute, no override).
                assert_eq!(definition.id, Contraindication::KetamineHypersensitivity);
                assert_ne!(tier, ContraindicationTier::Absolute);
                continue;
            }
            let result = screen(&facts, &settings, TODAY);
            assert_eq!(result.decision, decision, "{} {tier:?}", definition.name);
            let c5 = result.criterion(NoContraindication);
            assert_eq!(c5.map(|c| c.status), Some(status), "{}", definition.name);
            assert!(
                c5.is_some_and(|c| c.concerns.iter().any(|s| s.contains(definition.source))),
                "{}: concern cites its source",
                definition.name
            );
            assert_eq!(
                result.contraindications_found,
                vec![ContraindicationFinding {
                    contraindication: definition.id,
                    tier,
                    reviewed_on: Some(TODAY),
                }],
                "{}",
                definition.name
            );
            assert_eq!(
                result.override_allowed(),
                tier == ContraindicationTier::NotEligibleUnlessOverridden,
                "{} {tier:?}",
                definition.name
            );
        }
    }
}

#[test]
fn default_tiers_are_those_of_screening_md() {
    use Contraindication::*;
    use ContraindicationTier::*;
    // shared/clinical/screening.md, "Contraindications": Cohen SP et al. Reg Anesth Pain
    // Med 2018;43:521–546 and the ketamine US prescribing information, section 4.
    let expected = [
        (KetamineHypersensitivity, Absolute),
        (
            PoorlyControlledCardiovascularDisease,
            NotEligibleUnlessOverridden,
        ),
        (Pregnancy, NotEligibleUnlessOverridden),
        (ActivePsychosis, NotEligibleUnlessOverridden),
        (SevereHepaticDisease, NotEligibleUnlessOverridden),
        (
            SignificantBloodPressureRiseHazard,
            NotEligibleUnlessOverridden,
        ),
        (ModerateHepaticDisease, ReferForClinicianReview),
        (ElevatedIntracranialPressure, ReferForClinicianReview),
        (ElevatedIntraocularPressure, ReferForClinicianReview),
        (ActiveSubstanceAbuse, ReferForClinicianReview),
    ];
    assert_eq!(expected.len(), CONTRAINDICATIONS.len());
    let settings = ScreeningSettings::default();
    for (present, tier) in expected {
        assert_eq!(
            settings.contraindication_tiers.tier(present),
            tier,
            "{present:?}"
        );
        assert_eq!(contraindication(present).default_tier, tier, "{present:?}");
        let mut facts = complete_chart(TODAY);
        facts.contraindication_review = Some(ContraindicationReview {
            reviewed_on: TODAY,
            present: vec![present],
        });
        let result = screen(&facts, &settings, TODAY);
        let decision = match tier {
            Absolute => Decision::NotEligible,
            NotEligibleUnlessOverridden => Decision::NotEligibleUnlessOverridden,
            ReferForClinicianReview => Decision::ReferForClinicianReview,
        };
        assert_eq!(result.decision, decision, "{present:?}");
    }
}

#[test]
fn the_strictest_tier_found_decides() {
    let mut facts = complete_chart(TODAY);
    facts.contraindication_review = Some(ContraindicationReview {
        reviewed_on: TODAY,
        present: vec![
            Contraindication::ActiveSubstanceAbuse,
            Contraindication::Pregnancy,
        ],
    });
    let result = screen(&facts, &ScreeningSettings::default(), TODAY);
    assert_eq!(result.decision, Decision::NotEligibleUnlessOverridden);
    assert!(result.override_allowed());

    facts
        .contraindication_review
        .as_mut()
        .expect("set above")
        .present
        .push(Contraindication::KetamineHypersensitivity);
    let result = screen(&facts, &ScreeningSettings::default(), TODAY);
    assert_eq!(result.decision, Decision::NotEligible);
    assert!(!result.override_allowed(), "absolute: no override");

    // A tier finding outranks missing information: the clinician sees it first.
    let mut facts = complete_chart(TODAY);
    facts.contraindication_review = Some(ContraindicationReview {
        reviewed_on: TODAY,
        present: vec![Contraindication::Pregnancy],
    });
    facts.records.clear();
    let result = screen(&facts, &ScreeningSettings::default(), TODAY);
    assert_eq!(result.decision, Decision::NotEligibleUnlessOverridden);
    assert!(!result.missing().is_empty(), "still lists what is missing");

    // A criterion not met (pain not chronic) is not overridable.
    let mut facts = complete_chart(TODAY);
    facts.pain_onset = Some(days_before(TODAY, 30));
    facts.contraindication_review = Some(ContraindicationReview {
        reviewed_on: TODAY,
        present: vec![Contraindication::Pregnancy],
    });
    let result = screen(&facts, &ScreeningSettings::default(), TODAY);
    assert_eq!(result.decision, Decision::NotEligible);
    assert!(!result.override_allowed());
}

#[test]
fn hypersensitivity_cannot_leave_the_absolute_tier() {
    let mut settings = ScreeningSettings::default();
    for tier in [
        ContraindicationTier::NotEligibleUnlessOverridden,
        ContraindicationTier::ReferForClinicianReview,
    ] {
        assert_eq!(
            settings
                .contraindication_tiers
                .set(Contraindication::KetamineHypersensitivity, tier),
            Err(TierError::FixedByLabel(
                Contraindication::KetamineHypersensitivity
            ))
        );
    }
    assert_eq!(
        settings.contraindication_tiers.set(
            Contraindication::KetamineHypersensitivity,
            ContraindicationTier::Absolute
        ),
        Ok(())
    );
}

#[test]
fn a_ketamine_allergy_is_the_absolute_contraindication() {
    // Ketamine US prescribing information, section 4: known hypersensitivity to
    // ketamine. Matched by RxNorm ingredient 6130, by a ketamine product code mapped to
    // it (screening.md: 238082/238083/238084), or by name.
    let allergies = [
        ("Ketamine", None),
        ("ketamine hydrochloride", None),
        ("Esketamine nasal spray", None),
        ("Ketalar", Some("6130")),
        ("Ketamine 50 mg/mL injection", Some("238082")),
        ("Ketamine 10 mg/mL injection", Some("238083")),
        ("Ketamine 100 mg/mL injection", Some("238084")),
    ];
    for (substance, code) in allergies {
        let mut facts = complete_chart(TODAY);
        facts.allergies.push(Allergy {
            substance: substance.into(),
            rxnorm_ingredient: code.map(Into::into),
        });
        let result = screen(&facts, &ScreeningSettings::default(), TODAY);
        assert_eq!(result.decision, Decision::NotEligible, "{substance}");
        assert_eq!(
            result.contraindications_found,
            vec![ContraindicationFinding {
                contraindication: Contraindication::KetamineHypersensitivity,
                tier: ContraindicationTier::Absolute,
                reviewed_on: None,
            }],
            "{substance}"
        );
        // Even before any contraindication review: it is already known.
        facts.contraindication_review = None;
        let result = screen(&facts, &ScreeningSettings::default(), TODAY);
        assert_eq!(
            result.decision,
            Decision::NotEligible,
            "{substance}, no review"
        );
    }
    // Other allergies are not a contraindication.
    let mut facts = complete_chart(TODAY);
    facts.allergies.push(Allergy {
        substance: "Ketorolac".into(),
        rxnorm_ingredient: Some("35827".into()),
    });
    assert_eq!(
        screen(&facts, &ScreeningSettings::default(), TODAY).decision,
        Decision::Eligible
    );
}

#[test]
fn product_codes_map_to_their_ingredient() {
    // screening.md: ketamine injection products 238082/238083/238084 → ingredient 6130.
    for product in ["238082", "238083", "238084"] {
        assert_eq!(ingredient_of(product), "6130", "{product}");
    }
    // An ingredient, or a code the table does not know, stays as it is.
    assert_eq!(ingredient_of("6130"), "6130");
    assert_eq!(ingredient_of(" 3322 "), "3322");
}

#[test]
fn the_fingerprint_changes_with_every_fact_the_verdict_uses() {
    let base = complete_chart(TODAY);
    let print = fingerprint(&base);
    assert_eq!(print.len(), 64, "SHA-256, hex");
    assert!(print.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(fingerprint(&base.clone()), print, "stable");

    // Order of entries does not matter.
    let mut reordered = base.clone();
    reordered.records.reverse();
    reordered.conventional_treatments.reverse();
    assert_eq!(fingerprint(&reordered), print, "order-free");

    type Change = (&'static str, fn(&mut PatientFacts));
    let changes: [Change; 13] = [
        ("onset", |f| f.pain_onset = Some(date(2020, 1, 1))),
        ("no onset", |f| f.pain_onset = None),
        ("diagnosis code", |f| f.diagnoses[0].code = "G90.512".into()),
        ("diagnosed by", |f| f.diagnoses[0].diagnosed_by = None),
        ("diagnosed on", |f| {
            f.diagnoses[0].diagnosed_on = Some(date(2024, 1, 2))
        }),
        ("record date", |f| f.records[0].dated = date(2025, 6, 1)),
        ("treatment reason", |f| {
            f.conventional_treatments[0].stopped_because = Some(StopReason::NotTolerated)
        }),
        ("treatment days", |f| {
            f.conventional_treatments[0].duration_days = Some(91)
        }),
        ("review", |f| f.contraindication_review = None),
        ("medication", |f| {
            f.medications.push(Medication {
                name: "Lorazepam".into(),
                rxnorm_ingredient: Some("6470".into()),
            })
        }),
        ("medication stopped", |f| f.medications.clear()),
        ("allergy", |f| f.allergies.clear()),
        ("risks", |f| {
            f.pre_infusion_risks.cardiovascular_suspected_or_high_risk = true
        }),
    ];
    for (name, change) in changes {
        let mut facts = base.clone();
        change(&mut facts);
        assert_ne!(fingerprint(&facts), print, "{name}");
    }
}

#[test]
fn cardiovascular_or_hepatic_contraindication_requires_ecg_or_lft() {
    // Cohen 2018: ECG when cardiovascular disease is suspected; LFTs with liver disease.
    // The decision is the tier's (screening.md): the overridable ones outrank what is
    // missing; the ECG or LFTs are listed as missing all the same.
    let cases = [
        (
            Contraindication::PoorlyControlledCardiovascularDisease,
            RecordKind::Ecg,
            Decision::NotEligibleUnlessOverridden,
        ),
        (
            Contraindication::SignificantBloodPressureRiseHazard,
            RecordKind::Ecg,
            Decision::NotEligibleUnlessOverridden,
        ),
        (
            Contraindication::SevereHepaticDisease,
            RecordKind::LiverFunctionTests,
            Decision::NotEligibleUnlessOverridden,
        ),
        (
            Contraindication::ModerateHepaticDisease,
            RecordKind::LiverFunctionTests,
            Decision::NeedsInformation,
        ),
    ];
    for (present, record, decision) in cases {
        let mut facts = complete_chart(TODAY);
        facts.records.retain(|r| r.kind != record);
        facts.contraindication_review = Some(ContraindicationReview {
            reviewed_on: TODAY,
            present: vec![present],
        });
        let result = screen(&facts, &ScreeningSettings::default(), TODAY);
        assert_eq!(result.decision, decision, "{present:?}");
        assert!(result
            .missing()
            .contains(&&MissingItem::Record { kind: record }));
    }
}

#[test]
fn each_interaction_flag_alone() {
    assert_eq!(INTERACTIONS.len(), 12, "the groups of screening.md");
    for rule in &INTERACTIONS {
        for ingredient in rule.ingredients {
            // By name, as written on a list: mixed case, with strength and form.
            let mut name = ingredient.name.to_owned();
            if let Some(first) = name.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            let by_name = Medication {
                name: format!("{name} 10 mg oral tablet"),
                rxnorm_ingredient: None,
            };
            // By RxNorm ingredient, under a name the table does not know.
            let by_code = Medication {
                name: "Brandname".into(),
                rxnorm_ingredient: Some(ingredient.rxcui.into()),
            };
            for (medication, how) in [(by_name, "name"), (by_code, "rxnorm")] {
                let mut facts = complete_chart(TODAY);
                facts.medications = vec![medication];
                let result = screen(&facts, &ScreeningSettings::default(), TODAY);
                assert_eq!(
                    result.decision,
                    Decision::ReferForClinicianReview,
                    "{} by {how}",
                    ingredient.name
                );
                assert!(
                    result
                        .interaction_flags
                        .iter()
                        .any(|f| f.rule.group == rule.group),
                    "{} by {how}: group {:?} not flagged",
                    ingredient.name,
                    rule.group
                );
                let explained = result.explanation();
                assert!(
                    explained.contains(rule.source),
                    "{}: source shown",
                    rule.name
                );
            }
        }
    }
}

#[test]
fn interaction_matching_details() {
    let flags = |medications: Vec<Medication>| {
        let mut facts = complete_chart(TODAY);
        facts.medications = medications;
        screen(&facts, &ScreeningSettings::default(), TODAY).interaction_flags
    };
    // Coded: matched by the RxNorm ingredient, whatever the name.
    let coded = flags(vec![Medication {
        name: "Ativan".into(),
        rxnorm_ingredient: Some(" 6470 ".into()), // lorazepam
    }]);
    assert_eq!(coded.len(), 1);
    assert_eq!(coded[0].rule.group, InteractionGroup::Benzodiazepines);
    assert_eq!(
        coded[0].matched_by,
        MatchedBy::RxNormIngredient("6470".into())
    );
    // Not a substring match: "lorazepamide" is not lorazepam.
    assert!(flags(vec![Medication {
        name: "lorazepamide".into(),
        rxnorm_ingredient: None
    }])
    .is_empty());
    // Case-insensitive.
    let upper = flags(vec![Medication {
        name: "TRAMADOL HCL 50MG".into(),
        rxnorm_ingredient: None,
    }]);
    assert_eq!(upper.len(), 1);
    assert_eq!(upper[0].rule.group, InteractionGroup::Opioids);
    // Non-interacting drugs raise nothing.
    assert!(flags(vec![
        Medication {
            name: "Ibuprofen".into(),
            rxnorm_ingredient: Some("5640".into())
        },
        Medication {
            name: "Omeprazole 20 mg".into(),
            rxnorm_ingredient: None
        },
    ])
    .is_empty());
}

#[test]
fn empty_chart_needs_everything() {
    let result = screen(
        &PatientFacts::default(),
        &ScreeningSettings::default(),
        TODAY,
    );
    assert_eq!(result.decision, Decision::NeedsInformation);
    for definition in &CRITERIA {
        assert_eq!(
            result.criterion(definition.id).map(|c| c.status),
            Some(Missing),
            "criterion {}",
            definition.number
        );
    }
    let missing = result.missing();
    let expected = [
        MissingItem::PainOnsetDate,
        MissingItem::Diagnosis,
        MissingItem::Record {
            kind: RecordKind::MedicationList,
        },
        MissingItem::Record {
            kind: RecordKind::Allergies,
        },
        MissingItem::Record {
            kind: RecordKind::ProblemList,
        },
        MissingItem::Record {
            kind: RecordKind::VitalSigns,
        },
        MissingItem::Record {
            kind: RecordKind::DiagnosisLetter,
        },
        MissingItem::MoreConventionalClasses {
            found: 0,
            required: 2,
        },
        MissingItem::ContraindicationReview,
    ];
    for item in &expected {
        assert!(missing.contains(&item), "missing list lacks {item:?}");
    }
    // The medication list is missing for two criteria but listed once.
    assert_eq!(missing.len(), expected.len(), "{missing:?}");
    // ECG/LFT are not required without a risk: not asked for.
    assert!(!missing.contains(&&MissingItem::Record {
        kind: RecordKind::Ecg
    }));

    let explanation = result.explanation();
    assert!(explanation.contains("needs information"));
    assert!(explanation.contains("A clinician makes the final decision"));
    for definition in &CRITERIA {
        assert!(
            explanation.contains(definition.source),
            "source of {}",
            definition.number
        );
        assert!(
            explanation.contains(definition.title),
            "title of {}",
            definition.number
        );
    }
    for item in &expected {
        assert!(
            explanation.contains(&item.to_string()),
            "explanation lists {item}"
        );
    }
}

/// Example codes for each condition of codes.md match the table; near misses do not.
#[test]
fn condition_code_table() {
    let settings = ScreeningSettings::default();
    let matches = |code: &str| {
        settings
            .condition_codes
            .iter()
            .find(|entry| entry.pattern.matches(code))
            .map(|entry| entry.condition.to_string())
    };
    let examples = [
        ("M54.50", "low back pain"),
        ("M54.51", "vertebrogenic"),
        ("M54.59", "other low back pain"),
        ("M51.360", "lumbar"),
        ("M51.370", "lumbosacral"),
        ("M41.9", "scoliosis"),
        ("G44.221", "tension-type"),
        ("G44.229", "tension-type"),
        ("H53.149", "asthenopia"),
        ("G43.709", "migraine"),
        ("G44.009", "cluster"),
        ("G44.021", "cluster"),
        ("M16.0", "osteoarthritis"),
        ("M17.11", "osteoarthritis"),
        ("M19.90", "osteoarthritis"),
        ("M06.9", "rheumatoid"),
        ("M05.79", "rheumatoid"),
        ("M70.60", "repetitive-motion"),
        ("S83.511S", "sports injury"),
        ("M79.7", "fibromyalgia"),
        ("N80.10", "endometriosis"),
        ("G90.50", "CRPS type I"),
        ("G90.511", "CRPS type I"),
        ("G90.529", "CRPS type I"),
        ("G90.59", "CRPS type I"),
        ("G56.41", "CRPS type II, upper"),
        ("G57.71", "CRPS type II, lower"),
        ("G89.29", "other chronic pain"),
        ("G89.21", "due to trauma"),
        ("G89.4", "chronic pain syndrome"),
    ];
    for (code, condition) in examples {
        let found = matches(code);
        assert!(
            found.as_deref().is_some_and(|c| c.contains(condition)),
            "{code}: expected {condition}, got {found:?}"
        );
    }
    for near_miss in [
        "M54.5", "M54.9", "M20.10", "M04.1", "S83.511A", "G90.4", "G89.3", "Z00.00",
    ] {
        assert_eq!(matches(near_miss), None, "{near_miss} must not match");
    }
    for entry in &settings.condition_codes {
        assert_eq!(
            entry.system_version, "ICD-10-CM FY2025",
            "{}",
            entry.condition
        );
    }
}

#[test]
fn criteria_table_is_complete_and_sourced() {
    let numbers: Vec<u8> = CRITERIA.iter().map(|c| c.number).collect();
    assert_eq!(numbers, [1, 2, 3, 4, 5, 6]);
    for c in &CRITERIA {
        assert!(!c.source.trim().is_empty(), "{}", c.title);
        assert!(!c.rule.trim().is_empty(), "{}", c.title);
        for parameter in c.parameters {
            assert!(
                c.rule.contains(&format!("{{{parameter}}}")),
                "{}: {parameter}",
                c.title
            );
        }
    }
    for kind in ALL_RECORD_KINDS {
        assert_eq!(record_requirement(kind).kind, kind, "table order");
    }
}

#[test]
fn settings_change_the_rules() {
    // A clinic that wants 6 months of pain.
    let six_months = ScreeningSettings {
        chronic_minimum_months: 6,
        ..ScreeningSettings::default()
    };
    let mut facts = complete_chart(TODAY);
    facts.pain_onset = Some(months_before(TODAY, 4));
    assert_eq!(
        screen(&facts, &ScreeningSettings::default(), TODAY).decision,
        Decision::Eligible
    );
    let result = screen(&facts, &six_months, TODAY);
    assert_eq!(result.decision, Decision::NotEligible);
    // The explanation shows the clinic's value beside the rule.
    assert!(result
        .explanation()
        .contains("clinic setting: chronic_minimum_months = 6"));

    // A clinic that accepts 7-day-old vitals only.
    let mut strict = ScreeningSettings::default();
    strict.record_windows.vital_signs = FreshnessWindow::Days(7);
    let result = screen(&complete_chart(TODAY), &strict, TODAY); // vitals are 10 days old
    assert_eq!(result.decision, Decision::NeedsInformation);
}

#[test]
fn freshness_of_a_record_one_day_inside_and_past_its_window() {
    use respite_clinical::screening::{Freshness, RecordWindows};
    let windows = RecordWindows::default();
    // Medication list, 90 days: dated 2025-03-17 is current through 2025-06-15
    // (17 Mar + 90 days = 15 Jun, counted by hand: 14 + 30 + 31 + 15).
    let today = TODAY; // 2025-06-15
    assert_eq!(
        windows.freshness(RecordKind::MedicationList, date(2025, 3, 17), today),
        Freshness::Current {
            until: date(2025, 6, 15)
        }
    );
    assert_eq!(
        windows.freshness(RecordKind::MedicationList, date(2025, 3, 16), today),
        Freshness::Stale {
            until: date(2025, 6, 14)
        }
    );
    assert_eq!(
        windows.freshness(RecordKind::MedicationList, date(2025, 6, 16), today),
        Freshness::DatedInFuture
    );
    assert_eq!(
        windows.oldest_current(RecordKind::MedicationList, today),
        date(2025, 3, 17)
    );
    // Referral letter, 12 calendar months: 2024-06-15 is the oldest current.
    assert_eq!(
        windows.oldest_current(RecordKind::DiagnosisLetter, today),
        date(2024, 6, 15)
    );
    // Month end: on 2025-02-28, 12 months back is 2024-02-28, and 2024-02-28 + 12
    // months = 2025-02-28 (current); 2024-02-27 is not.
    assert_eq!(
        windows.oldest_current(RecordKind::DiagnosisLetter, date(2025, 2, 28)),
        date(2024, 2, 28)
    );
}
