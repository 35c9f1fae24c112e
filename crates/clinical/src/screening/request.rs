//! What to ask the diagnosing physician for: the part of a screening's missing items
//! that outside records can supply, each with the date it must be newer than.
//!
//! A record kind is asked for "dated on or after" the oldest date that is still current
//! on the evaluation date ([`super::RecordWindows::oldest_current`], the rule of
//! criterion 3 with the clinic's windows; screening.md, "Record freshness"). Items only
//! the clinic can supply (its own contraindication review, recoding) are left out.

use jiff::civil::Date;

use super::rules::RecordKind;
use super::{MissingItem, Screening, ScreeningSettings};

/// One thing to ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestItem {
    /// A record of this kind, dated on or after the date.
    Record {
        kind: RecordKind,
        dated_on_or_after: Date,
        /// The record on file, when the one on file is too old.
        on_file: Option<Date>,
    },
    /// A confirmed, coded diagnosis of the pain's cause.
    Diagnosis,
    /// Who diagnosed the condition with this code.
    DiagnosingProfessional { code: String },
    /// When the condition with this code was diagnosed.
    DiagnosisDate { code: String },
    /// When the pain began.
    PainOnset,
    /// How long a treatment was tried.
    TreatmentDuration { treatment: String },
    /// Why a treatment was stopped.
    TreatmentStopReason { treatment: String },
    /// Records of conventional treatments tried (found of required classes).
    ConventionalTreatments { found: usize, required: usize },
}

/// The items to request for `screening`, in the order of its criteria, without
/// repeats.
pub fn records_to_request(screening: &Screening, settings: &ScreeningSettings) -> Vec<RequestItem> {
    let on = screening.evaluated_on;
    let record = |kind: RecordKind, on_file: Option<Date>| RequestItem::Record {
        kind,
        dated_on_or_after: settings.record_windows.oldest_current(kind, on),
        on_file,
    };
    let mut items = Vec::new();
    for missing in screening.missing() {
        let item = match missing {
            MissingItem::PainOnsetDate | MissingItem::PainOnsetInFuture { .. } => {
                RequestItem::PainOnset
            }
            MissingItem::Diagnosis => RequestItem::Diagnosis,
            MissingItem::DiagnosingProfessional { code } => {
                RequestItem::DiagnosingProfessional { code: code.clone() }
            }
            MissingItem::DiagnosisDate { code }
            | MissingItem::DiagnosisDateInFuture { code, .. } => {
                RequestItem::DiagnosisDate { code: code.clone() }
            }
            // Recoding is the clinic's work, not the physician's.
            MissingItem::RetiredCode { .. } => continue,
            MissingItem::Record { kind } => record(*kind, None),
            MissingItem::StaleRecord { kind, dated, .. }
            | MissingItem::RecordDatedInFuture { kind, dated } => record(*kind, Some(*dated)),
            MissingItem::TreatmentDuration { treatment } => RequestItem::TreatmentDuration {
                treatment: treatment.clone(),
            },
            MissingItem::TreatmentStopReason { treatment } => RequestItem::TreatmentStopReason {
                treatment: treatment.clone(),
            },
            MissingItem::MoreConventionalClasses { found, required } => {
                RequestItem::ConventionalTreatments {
                    found: *found,
                    required: *required,
                }
            }
            // The clinic reviews contraindications itself.
            MissingItem::ContraindicationReview
            | MissingItem::ContraindicationReviewInFuture { .. } => continue,
        };
        if !items.contains(&item) {
            items.push(item);
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;
    use crate::screening::{screen, PatientFacts, Record};

    #[test]
    fn an_empty_chart_asks_for_every_record_with_its_date_but_not_the_clinics_review() {
        let settings = ScreeningSettings::default();
        let on = date(2026, 11, 27);
        let screening = screen(&PatientFacts::default(), &settings, on);
        let items = records_to_request(&screening, &settings);
        // Defaults of screening.md: medication list 90 days, referral 12 months.
        assert!(items.contains(&RequestItem::Record {
            kind: RecordKind::MedicationList,
            dated_on_or_after: date(2026, 8, 29),
            on_file: None,
        }));
        assert!(items.contains(&RequestItem::Record {
            kind: RecordKind::DiagnosisLetter,
            dated_on_or_after: date(2025, 11, 27),
            on_file: None,
        }));
        assert!(items.contains(&RequestItem::Diagnosis));
        assert!(items.contains(&RequestItem::PainOnset));
        assert!(!items.iter().any(|i| matches!(
            i,
            RequestItem::Record {
                kind: RecordKind::Ecg,
                ..
            }
        )));
    }

    #[test]
    fn a_stale_record_is_asked_for_newer_than_its_window_and_names_the_one_on_file() {
        let settings = ScreeningSettings::default();
        let on = date(2026, 11, 27);
        let facts = PatientFacts {
            records: vec![Record {
                kind: RecordKind::VitalSigns,
                dated: date(2026, 10, 1),
            }],
            ..PatientFacts::default()
        };
        let items = records_to_request(&screen(&facts, &settings, on), &settings);
        assert!(items.contains(&RequestItem::Record {
            kind: RecordKind::VitalSigns,
            dated_on_or_after: date(2026, 10, 28), // 30 days before 27 Nov
            on_file: Some(date(2026, 10, 1)),
        }));
    }

    #[test]
    fn the_date_asked_for_is_current_on_the_day_by_the_engines_own_rule() {
        // 29 Feb 2024 − 12 months clamps to 28 Feb 2023, and 28 Feb 2023 + 12 months
        // is 28 Feb 2024, a day short: the first date that reaches 29 Feb 2024 is
        // 1 Mar 2023.
        let settings = ScreeningSettings::default();
        let oldest_current = |kind, on| settings.record_windows.oldest_current(kind, on);
        assert_eq!(
            oldest_current(RecordKind::DiagnosisLetter, date(2024, 2, 29)),
            date(2023, 3, 1)
        );
        assert_eq!(
            oldest_current(RecordKind::MedicationList, date(2026, 11, 27)),
            date(2026, 8, 29)
        );
        for on in [date(2026, 5, 31), date(2026, 3, 1), date(2024, 2, 29)] {
            let oldest = oldest_current(RecordKind::DiagnosisLetter, on);
            let facts = PatientFacts {
                records: vec![Record {
                    kind: RecordKind::DiagnosisLetter,
                    dated: oldest,
                }],
                ..PatientFacts::default()
            };
            let items = records_to_request(&screen(&facts, &settings, on), &settings);
            assert!(
                !items.iter().any(|i| matches!(
                    i,
                    RequestItem::Record {
                        kind: RecordKind::DiagnosisLetter,
                        ..
                    }
                )),
                "{on}: a letter dated {oldest} is current"
            );
        }
    }
}
