//! Words for the screening pages: the verdict, each criterion's status, and
//! what is missing phrased as the next thing to do.

use jiff::civil::Date;
use respite_clinical::screening::{
    CriterionStatus, Decision, MatchedBy, MissingItem, RecordKind, RecordWindows,
};

use super::chart::record_kind;

/// The verdict's headline.
pub fn decision(decision: Decision) -> &'static str {
    match decision {
        Decision::Eligible => "Eligible — clinician decision needed",
        Decision::NeedsInformation => "Needs information",
        Decision::ReferForClinicianReview => "Refer for clinician review",
        Decision::NotEligible => "Not eligible",
        Decision::NotEligibleUnlessOverridden => {
            "Not eligible unless a clinician overrides with a reason"
        }
    }
}

/// One sentence under the headline.
pub fn decision_explained(decision: Decision) -> &'static str {
    match decision {
        Decision::Eligible => {
            "Every criterion is met on the chart's evidence. A clinician makes the final decision."
        }
        Decision::NeedsInformation => {
            "Something the screening needs is missing or out of date: see the next steps."
        }
        Decision::ReferForClinicianReview => {
            "A relative contraindication, an interaction or a judgement call needs a clinician's review."
        }
        Decision::NotEligible => {
            "A criterion is not met, or an absolute contraindication is present: no override."
        }
        Decision::NotEligibleUnlessOverridden => {
            "A contraindication is present that a clinician may override, with a reason, only after review."
        }
    }
}

/// The CSS class of the verdict banner.
pub fn decision_class(decision: Decision) -> &'static str {
    match decision {
        Decision::Eligible => "verdict eligible",
        Decision::NeedsInformation => "verdict missing",
        Decision::ReferForClinicianReview => "verdict review",
        Decision::NotEligible | Decision::NotEligibleUnlessOverridden => "verdict not-eligible",
    }
}

pub fn status(status: CriterionStatus) -> &'static str {
    match status {
        CriterionStatus::Met => "met",
        CriterionStatus::Missing => "information missing",
        CriterionStatus::ReviewNeeded => "clinician review",
        CriterionStatus::NotMetUnlessOverridden => "not met unless overridden",
        CriterionStatus::NotMet => "not met",
    }
}

pub fn status_class(status: CriterionStatus) -> &'static str {
    match status {
        CriterionStatus::Met => "badge current",
        CriterionStatus::Missing => "badge missing",
        CriterionStatus::ReviewNeeded => "badge review",
        CriterionStatus::NotMetUnlessOverridden | CriterionStatus::NotMet => "badge stale",
    }
}

/// How an interaction was matched: "RxNorm ingredient 6470" or "name lorazepam".
pub fn matched_by(matched: &MatchedBy) -> String {
    match matched {
        MatchedBy::RxNormIngredient(code) => format!("RxNorm ingredient {code}"),
        MatchedBy::Name(name) => format!("name \"{name}\""),
    }
}

/// What the next action refers to.
pub struct ActionContext<'a> {
    /// Who diagnosed the condition ("Dr. Ada Osei"), when the chart says.
    pub physician: Option<&'a str>,
    pub windows: &'a RecordWindows,
    pub today: Date,
}

impl ActionContext<'_> {
    fn physician(&self) -> String {
        match self.physician {
            Some(name) if !name.trim().is_empty() => name.trim().to_owned(),
            _ => "the patient's physician".to_owned(),
        }
    }

    /// Records dated after this day are current today.
    fn newer_than(&self, kind: RecordKind) -> Date {
        let oldest = self.windows.oldest_current(kind, self.today);
        oldest.yesterday().unwrap_or(oldest)
    }
}

/// What is missing, as the next thing somebody does.
pub fn next_action(item: &MissingItem, cx: &ActionContext<'_>) -> String {
    match item {
        MissingItem::PainOnsetDate => "Record when the pain began (ask the patient; an estimate \
             is fine, marked as estimated)."
            .into(),
        MissingItem::PainOnsetInFuture { onset } => {
            format!("Correct the pain onset date: {onset} is after today.")
        }
        MissingItem::Diagnosis => format!(
            "Ask {} for the diagnosis letter, then record the coded diagnosis (ICD-10-CM), who \
             made it and when.",
            cx.physician()
        ),
        MissingItem::DiagnosingProfessional { code } => match cx.physician {
            Some(name) if !name.trim().is_empty() => format!(
                "Record the qualification of {}, who diagnosed {code} (physician, nurse \
                 practitioner, physician assistant, or which other).",
                name.trim()
            ),
            _ => format!(
                "Record who diagnosed {code} and their qualification (physician, nurse \
                 practitioner, physician assistant)."
            ),
        },
        MissingItem::DiagnosisDate { code } => {
            format!(
                "Ask {} when {code} was diagnosed, and record the date.",
                cx.physician()
            )
        }
        MissingItem::DiagnosisDateInFuture { code, date } => {
            format!("Correct the diagnosis date of {code}: {date} is after today.")
        }
        MissingItem::RetiredCode { code, replaced_by } => {
            format!("Recode {code}: it is a retired ICD-10-CM code; use {replaced_by}.")
        }
        MissingItem::Record { kind } => missing_record(*kind, cx),
        MissingItem::StaleRecord {
            kind,
            dated,
            current_until,
        } => stale_record(*kind, *dated, *current_until, cx),
        MissingItem::RecordDatedInFuture { kind, dated } => format!(
            "Correct the date of the {}: {dated} is after today.",
            record_kind(*kind)
        ),
        MissingItem::TreatmentDuration { treatment } => format!(
            "Record how long {treatment} was tried (start and stop dates, or the number of days)."
        ),
        MissingItem::TreatmentStopReason { treatment } => format!(
            "Record why {treatment} was stopped: ineffective, not tolerated, or lost effect."
        ),
        MissingItem::MoreConventionalClasses { found, required } => {
            let more = required.saturating_sub(*found);
            format!(
                "Document {more} more class{} of conventional treatment that failed, was not \
                 tolerated or lost effect ({found} of {required} documented) — ask the patient \
                 and {}.",
                if more == 1 { "" } else { "es" },
                cx.physician()
            )
        }
        MissingItem::ContraindicationReview => {
            "Review the contraindications with the patient and record the review.".into()
        }
        MissingItem::ContraindicationReviewInFuture { reviewed_on } => format!(
            "Correct the date of the contraindication review: {reviewed_on} is after today."
        ),
    }
}

fn missing_record(kind: RecordKind, cx: &ActionContext<'_>) -> String {
    match kind {
        RecordKind::MedicationList => {
            "Take the medication list (current and past) with the patient and record it.".into()
        }
        RecordKind::Allergies => {
            "Ask about allergies and intolerances and record them, or record “no known allergies”."
                .into()
        }
        RecordKind::ProblemList => {
            "Record the problem list and history, or mark it reviewed.".into()
        }
        RecordKind::VitalSigns => {
            "Measure blood pressure and weight (with the other vital signs) and record them.".into()
        }
        RecordKind::DiagnosisLetter => format!(
            "Ask {} for the referral / diagnosis letter, then upload it.",
            cx.physician()
        ),
        RecordKind::Ecg => "Obtain a baseline ECG and upload the report (required by the \
             pre-infusion risks)."
            .into(),
        RecordKind::LiverFunctionTests => "Order liver function tests and upload the results \
             (required by the pre-infusion risks)."
            .into(),
    }
}

fn stale_record(kind: RecordKind, dated: Date, until: Date, cx: &ActionContext<'_>) -> String {
    let since = until.tomorrow().unwrap_or(until);
    let newer = cx.newer_than(kind);
    match kind {
        RecordKind::DiagnosisLetter => format!(
            "Ask {} for records newer than {newer} (the letter on file is dated {dated}, stale \
             since {since}).",
            cx.physician()
        ),
        RecordKind::Ecg | RecordKind::LiverFunctionTests => format!(
            "Repeat the {} or obtain one newer than {newer} (on file: {dated}, stale since \
             {since}).",
            record_kind(kind)
        ),
        RecordKind::VitalSigns => format!(
            "Measure blood pressure and weight again (last recorded {dated}, stale since {since})."
        ),
        RecordKind::MedicationList | RecordKind::Allergies | RecordKind::ProblemList => format!(
            "Review the {} with the patient and record it, or mark it reviewed (on file: {dated}, \
             stale since {since}).",
            record_kind(kind)
        ),
    }
}
