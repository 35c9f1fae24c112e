//! Words for the screening decision, the records request and the work list: the
//! clinician's outcomes, the engine's verdict as staff read it, tiers, and the lines of
//! the letter to the diagnosing physician.

use jiff::civil::Date;
use respite_clinical::screening::decision::ClinicianOutcome;
use respite_clinical::screening::request::RequestItem;
use respite_clinical::screening::rules::{contraindication, record_requirement};
use respite_clinical::screening::{Contraindication, ContraindicationTier, Decision};

use super::plan::long_date;

/// The clinician's outcome, for staff.
pub fn outcome(outcome: ClinicianOutcome) -> &'static str {
    match outcome {
        ClinicianOutcome::Eligible => "eligible",
        ClinicianOutcome::NotEligible => "not eligible",
        ClinicianOutcome::Deferred => "deferred",
    }
}

/// The choice on the form.
pub fn outcome_choice(outcome: ClinicianOutcome) -> &'static str {
    match outcome {
        ClinicianOutcome::Eligible => "Eligible for ketamine treatment",
        ClinicianOutcome::NotEligible => "Not eligible",
        ClinicianOutcome::Deferred => "Deferred (waiting for records, a test or an opinion)",
    }
}

/// The classes of the decision's banner (the screening verdict's look).
pub fn outcome_class(outcome: ClinicianOutcome) -> &'static str {
    match outcome {
        ClinicianOutcome::Eligible => "verdict eligible",
        ClinicianOutcome::NotEligible => "verdict not-eligible",
        ClinicianOutcome::Deferred => "verdict missing",
    }
}

/// The engine's verdict as stored with a decision (its code), in the screening's words.
pub fn stored_verdict(code: &str) -> &'static str {
    let verdict = match code {
        "eligible" => Decision::Eligible,
        "needs-information" => Decision::NeedsInformation,
        "refer-for-clinician-review" => Decision::ReferForClinicianReview,
        "not-eligible" => Decision::NotEligible,
        "not-eligible-unless-overridden" => Decision::NotEligibleUnlessOverridden,
        _ => return "unknown",
    };
    super::screening::decision(verdict)
}

/// A contraindication's name.
pub fn contraindication_name(c: Contraindication) -> &'static str {
    contraindication(c).name
}

/// A tier, for staff.
pub fn tier(tier: ContraindicationTier) -> &'static str {
    match tier {
        ContraindicationTier::Absolute => "absolute: can never be overridden",
        ContraindicationTier::NotEligibleUnlessOverridden => {
            "not eligible unless overridden with a reason"
        }
        ContraindicationTier::ReferForClinicianReview => {
            "refer for review: proceed only with a reason"
        }
    }
}

/// Whether a decision still stands on the chart's facts.
pub fn currency(current: bool) -> &'static str {
    if current {
        "current"
    } else {
        "out of date: the chart's facts changed since; decide again"
    }
}

/// A records request's status.
pub fn request_status(received: bool) -> &'static str {
    if received {
        "received"
    } else {
        "requested"
    }
}

/// One line of the letter to the diagnosing physician: exactly what is needed, with
/// the date a record must be newer than.
pub fn request_line(item: &RequestItem) -> String {
    match item {
        RequestItem::Record {
            kind,
            dated_on_or_after,
            on_file,
        } => {
            let name = record_requirement(*kind).name;
            let since = long_date(*dated_on_or_after);
            match on_file {
                Some(dated) => format!(
                    "An up-to-date {name}, dated {since} or later (the one we hold is of {}).",
                    long_date(*dated)
                ),
                None => format!("The {name}, dated {since} or later."),
            }
        }
        RequestItem::Diagnosis => {
            "A confirmed diagnosis of the cause of the pain (the condition and its ICD-10-CM code if known).".into()
        }
        RequestItem::DiagnosingProfessional { code } => {
            format!("Who diagnosed {code}: name and qualification.")
        }
        RequestItem::DiagnosisDate { code } => format!("The date on which {code} was diagnosed."),
        RequestItem::PainOnset => "When the pain began (the date, or as near as is known).".into(),
        RequestItem::TreatmentDuration { treatment } => {
            format!("How long {treatment} was tried.")
        }
        RequestItem::TreatmentStopReason { treatment } => format!(
            "Why {treatment} was stopped: ineffective, not tolerated, or lost its effect."
        ),
        RequestItem::ConventionalTreatments { found, required } => format!(
            "The treatments tried for this pain, each with how long and why it was stopped (we hold {found} of the {required} kinds of treatment we need to see)."
        ),
    }
}

/// A date for the work list and letters.
pub fn date(date: Date) -> String {
    long_date(date)
}
