//! The multimodal treatment plan (SPEC §1 step 4), in the shape of FHIR R4 CarePlan so
//! that an export maps it one to one: goals (CarePlan.goal → Goal, with a measure and a
//! target), activities (CarePlan.activity.detail, with a kind and a FHIR status), a
//! review date (CarePlan.period.end) and a version (meta.versionId).
//!
//! Goals come from [`GOAL_TEMPLATES`], each a published threshold with its source
//! (shared/clinical/outcomes.md), or are written by the clinician with the patient (a
//! functional goal: "walk to the shop and back"). A ketamine series names an orderable
//! protocol of the seeded library and a number of sessions within its series.
//!
//! Pure: [`check_plan`] turns a draft into a [`CheckedPlan`] or names every field it
//! refuses, and never touches storage.

use jiff::civil::Date;
use jiff::ToSpan;

use crate::dosing::protocols::{seeded_protocol, seeded_protocols, Protocol, ProtocolUse};
use crate::dosing::Verification;

/// The longest free text of one goal or activity.
pub const TEXT_MAX_CHARS: usize = 500;
/// The longest note of the plan.
pub const NOTE_MAX_CHARS: usize = 4000;
/// The review date is at most this many months ahead: a plan nobody looks at for a year
/// is not a plan (ours, not from the literature).
pub const REVIEW_WITHIN_MONTHS: i64 = 12;
/// Sessions of a series whose protocol names no series length (ours: the longest
/// seeded series, Schwartzman 2009's 10 daily infusions).
pub const SESSIONS_MAX_WITHOUT_SERIES: u32 = 10;

/// A kind of activity: SPEC §1 step 4's components of multimodal care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActivityKind {
    /// Ketamine infusions: a protocol and a number of sessions.
    KetamineSeries,
    /// Medication (NSAIDs, analgesics): what, and for how long.
    Medication,
    /// Physical measures: cold packs, heat, physiotherapy.
    PhysicalMeasure,
    /// Non-medicinal means: exercise, CBT, sleep hygiene.
    NonMedicinal,
    /// What treats the underlying condition.
    UnderlyingCondition,
}

impl ActivityKind {
    pub const ALL: [ActivityKind; 5] = [
        ActivityKind::KetamineSeries,
        ActivityKind::Medication,
        ActivityKind::PhysicalMeasure,
        ActivityKind::NonMedicinal,
        ActivityKind::UnderlyingCondition,
    ];

    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            ActivityKind::KetamineSeries => "ketamine-series",
            ActivityKind::Medication => "medication",
            ActivityKind::PhysicalMeasure => "physical",
            ActivityKind::NonMedicinal => "non-medicinal",
            ActivityKind::UnderlyingCondition => "underlying-condition",
        }
    }

    pub fn from_code(code: &str) -> Option<ActivityKind> {
        ActivityKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// FHIR CarePlan.activity.detail.kind: a medication or infusion is a
    /// MedicationRequest, the rest ServiceRequests.
    pub fn fhir_kind(self) -> &'static str {
        match self {
            ActivityKind::KetamineSeries | ActivityKind::Medication => "MedicationRequest",
            _ => "ServiceRequest",
        }
    }
}

/// FHIR R4 CarePlan.activity.detail.status (value set care-plan-activity-status), the
/// codes a clinic uses; `on-hold`, `stopped`, `unknown` and `entered-in-error` are not
/// offered (a change is a new version instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActivityStatus {
    NotStarted,
    Scheduled,
    InProgress,
    Completed,
    Cancelled,
}

impl ActivityStatus {
    pub const ALL: [ActivityStatus; 5] = [
        ActivityStatus::NotStarted,
        ActivityStatus::Scheduled,
        ActivityStatus::InProgress,
        ActivityStatus::Completed,
        ActivityStatus::Cancelled,
    ];

    /// The FHIR code, also the stored one.
    pub fn code(self) -> &'static str {
        match self {
            ActivityStatus::NotStarted => "not-started",
            ActivityStatus::Scheduled => "scheduled",
            ActivityStatus::InProgress => "in-progress",
            ActivityStatus::Completed => "completed",
            ActivityStatus::Cancelled => "cancelled",
        }
    }

    pub fn from_code(code: &str) -> Option<ActivityStatus> {
        ActivityStatus::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// A goal with a published threshold (FHIR Goal.target: measure and detail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoalTemplate {
    pub id: &'static str,
    /// What is measured: the instrument and its code (LOINC, or our local code where
    /// none exists, shared/clinical/instruments.md).
    pub measure: &'static str,
    /// The target, as the clinic reads it.
    pub target: &'static str,
    pub source: &'static str,
    pub verification: Verification,
}

/// The goal a clinician writes with the patient, in their own words.
pub const CUSTOM_GOAL: &str = "custom";

/// Goals with published thresholds, from shared/clinical/outcomes.md and
/// instruments.md; each cites its source.
pub const GOAL_TEMPLATES: [GoalTemplate; 6] = [
    GoalTemplate {
        id: "pain-reduction-30",
        measure: "Pain intensity, NRS-11 (LOINC 72514-3)",
        target: "at least 30 % lower than baseline",
        // IMMPACT "moderately important" change, the usual responder threshold.
        source: "Dworkin RH et al. (IMMPACT) J Pain 2008;9:105–121; Farrar JT et al. Pain \
                 2001;94:149–158",
        verification: Verification::Checked,
    },
    GoalTemplate {
        id: "pain-reduction-50",
        measure: "Pain intensity, NRS-11 (LOINC 72514-3)",
        target: "at least 50 % lower than baseline",
        // IMMPACT "substantial" change.
        source: "Dworkin RH et al. (IMMPACT) J Pain 2008;9:105–121",
        verification: Verification::Checked,
    },
    GoalTemplate {
        id: "pain-at-most-4",
        measure: "Pain intensity, NRS-11 (LOINC 72514-3)",
        target: "4 or lower (mild pain)",
        // Cut points 1–4 mild, 5–6 moderate, 7–10 severe. Not in shared/clinical/ yet.
        source: "Serlin RC et al. Pain 1995;61:277–284 (mild pain 1–4)",
        verification: Verification::ToCheck,
    },
    GoalTemplate {
        id: "peg-reduction-30",
        measure: "PEG score (local code respite-peg-score; no LOINC code exists)",
        target: "at least 30 % lower than baseline",
        // PEG: Krebs 2009. The 30 % threshold is IMMPACT's for pain intensity, applied
        // to the PEG by analogy: said so wherever it is shown.
        source: "Krebs EE et al. J Gen Intern Med 2009;24:733–738 (PEG); 30 % threshold by \
                 analogy from Dworkin RH et al. J Pain 2008;9:105–121",
        verification: Verification::Checked,
    },
    GoalTemplate {
        id: "bpi-interference-1",
        measure: "BPI interference (LOINC 77565-0)",
        target: "at least 1 point lower than baseline",
        source: "Dworkin RH et al. (IMMPACT) J Pain 2008;9:105–121",
        verification: Verification::Checked,
    },
    GoalTemplate {
        id: "phq9-remission",
        measure: "PHQ-9 total (LOINC 44261-6)",
        target: "below 5 (remission)",
        source: "Kroenke K et al. J Gen Intern Med 2001;16:606–613 and later PHQ literature",
        verification: Verification::ToCheck,
    },
];

pub fn goal_template(id: &str) -> Option<&'static GoalTemplate> {
    GOAL_TEMPLATES.iter().find(|t| t.id == id)
}

/// The protocols a series may name: the seeded library's orderable ones (the
/// calculator refuses the reference-only ones, dosing/protocols.rs).
pub fn orderable_protocols() -> Vec<Protocol> {
    seeded_protocols()
        .into_iter()
        .filter(|p| p.usage == ProtocolUse::Orderable)
        .collect()
}

/// A goal as written on the form.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GoalDraft {
    /// A template id, or [`CUSTOM_GOAL`].
    pub template: String,
    /// The custom goal's words (ignored for a template).
    pub description: String,
}

/// An activity as written on the form.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ActivityDraft {
    pub kind: String,
    pub status: String,
    /// What: the medicine and dose, the measure, the exercise.
    pub description: String,
    /// The ketamine series' protocol id.
    pub protocol: String,
    pub sessions: String,
    /// How long or how often: "4 weeks", "twice a week for 8 weeks".
    pub duration: String,
}

/// The plan as written on the form.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PlanDraft {
    pub title: String,
    /// The condition(s) the plan addresses, in words.
    pub addresses: String,
    pub goals: Vec<GoalDraft>,
    pub activities: Vec<ActivityDraft>,
    pub review_on: String,
    pub note: String,
}

/// A checked goal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Goal {
    /// A template id or [`CUSTOM_GOAL`].
    pub template: String,
    pub description: String,
    pub measure: String,
    pub target: String,
    pub source: String,
}

/// A checked activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    pub kind: ActivityKind,
    pub status: ActivityStatus,
    pub description: String,
    pub protocol: Option<String>,
    pub sessions: Option<u32>,
    pub duration: String,
}

/// A plan that keeps every rule of [`check_plan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedPlan {
    pub title: String,
    pub addresses: String,
    pub goals: Vec<Goal>,
    pub activities: Vec<Activity>,
    pub review_on: Date,
    pub note: String,
}

impl CheckedPlan {
    /// The components of SPEC §1 step 4 the plan does not hold (shown to the clinician
    /// as a reminder, not refused: not every patient needs every component).
    pub fn absent_kinds(&self) -> Vec<ActivityKind> {
        ActivityKind::ALL
            .into_iter()
            .filter(|k| !self.activities.iter().any(|a| a.kind == *k))
            .collect()
    }
}

/// A refused field: `field` is the form's name for it (`goal_2`, `activity_1_sessions`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError {
    pub field: String,
    pub message: String,
}

/// Checks a draft written on `today`. Empty goal and activity rows are skipped.
pub fn check_plan(draft: &PlanDraft, today: Date) -> Result<CheckedPlan, Vec<PlanError>> {
    let mut errors: Vec<PlanError> = Vec::new();
    fn push(errors: &mut Vec<PlanError>, field: String, message: &str) {
        errors.push(PlanError {
            field,
            message: message.to_owned(),
        });
    }
    macro_rules! refuse {
        ($field:expr, $message:expr $(,)?) => {
            push(&mut errors, $field, $message)
        };
    }
    let title = draft.title.trim().to_owned();
    if title.is_empty() {
        refuse!("title".into(), "is required");
    } else if title.chars().count() > TEXT_MAX_CHARS {
        refuse!("title".into(), "must be at most 500 characters");
    }
    let addresses = draft.addresses.trim().to_owned();
    if addresses.chars().count() > TEXT_MAX_CHARS {
        refuse!("addresses".into(), "must be at most 500 characters");
    }
    let note = draft.note.trim().to_owned();
    if note.chars().count() > NOTE_MAX_CHARS {
        refuse!("note".into(), "must be at most 4000 characters");
    }

    let mut goals = Vec::new();
    for (i, goal) in draft.goals.iter().enumerate() {
        let field = format!("goal_{}", i + 1);
        let template = goal.template.trim();
        let description = goal.description.trim();
        if template.is_empty() {
            if !description.is_empty() {
                refuse!(
                    field,
                    "choose a goal, or \"our own goal\" for the words written"
                );
            }
            continue;
        }
        if template == CUSTOM_GOAL {
            if description.is_empty() {
                refuse!(
                    format!("{field}_description"),
                    "is required for a goal of your own",
                );
            } else if description.chars().count() > TEXT_MAX_CHARS {
                refuse!(
                    format!("{field}_description"),
                    "must be at most 500 characters",
                );
            } else {
                goals.push(Goal {
                    template: CUSTOM_GOAL.into(),
                    description: description.to_owned(),
                    measure: "agreed with the patient".into(),
                    target: description.to_owned(),
                    source: "agreed with the patient".into(),
                });
            }
            continue;
        }
        match goal_template(template) {
            Some(t) => {
                if goals.iter().any(|g: &Goal| g.template == t.id) {
                    refuse!(field, "is listed twice");
                    continue;
                }
                goals.push(Goal {
                    template: t.id.into(),
                    description: format!("{}: {}", t.measure, t.target),
                    measure: t.measure.into(),
                    target: t.target.into(),
                    source: t.source.into(),
                });
            }
            None => refuse!(field, "is not one of the listed goals"),
        }
    }
    if goals.is_empty() && !errors.iter().any(|e| e.field.starts_with("goal_")) {
        refuse!("goal_1".into(), "a plan needs at least one goal");
    }

    let mut activities = Vec::new();
    for (i, a) in draft.activities.iter().enumerate() {
        let field = |name: &str| format!("activity_{}_{name}", i + 1);
        let description = a.description.trim();
        let duration = a.duration.trim();
        if a.kind.trim().is_empty() {
            if !description.is_empty() || !a.protocol.trim().is_empty() {
                refuse!(field("kind"), "choose what kind of care this is");
            }
            continue;
        }
        let Some(kind) = ActivityKind::from_code(a.kind.trim()) else {
            refuse!(field("kind"), "is not one of the listed kinds");
            continue;
        };
        let status = match ActivityStatus::from_code(a.status.trim()) {
            Some(s) => s,
            None if a.status.trim().is_empty() => ActivityStatus::NotStarted,
            None => {
                refuse!(field("status"), "is not one of the listed statuses");
                continue;
            }
        };
        if duration.chars().count() > TEXT_MAX_CHARS {
            refuse!(field("duration"), "must be at most 500 characters");
        }
        if description.chars().count() > TEXT_MAX_CHARS {
            refuse!(field("description"), "must be at most 500 characters");
            continue;
        }
        let (protocol, sessions, description) = if kind == ActivityKind::KetamineSeries {
            let Some(protocol) =
                seeded_protocol(a.protocol.trim()).filter(|p| p.usage == ProtocolUse::Orderable)
            else {
                refuse!(
                    field("protocol"),
                    "choose one of the orderable protocols of the library",
                );
                continue;
            };
            // Within the protocol's own series (e.g. 10 daily sessions, Schwartzman
            // 2009; one trial then reassess, Cohen 2018).
            let most = protocol
                .sessions_per_series
                .unwrap_or(SESSIONS_MAX_WITHOUT_SERIES);
            let sessions = match a.sessions.trim().parse::<u32>() {
                Ok(n) if 1 <= n && n <= most => n,
                _ => {
                    refuse!(
                        field("sessions"),
                        &format!("must be a whole number from 1 to {most} (the protocol's series)"),
                    );
                    continue;
                }
            };
            let description = if description.is_empty() {
                protocol.name.clone()
            } else {
                description.to_owned()
            };
            (Some(protocol.id), Some(sessions), description)
        } else {
            if description.is_empty() {
                refuse!(field("description"), "is required: say what");
                continue;
            }
            if kind == ActivityKind::Medication && duration.is_empty() {
                refuse!(
                    field("duration"),
                    "is required for a medication: say how long"
                );
                continue;
            }
            (None, None, description.to_owned())
        };
        activities.push(Activity {
            kind,
            status,
            description,
            protocol,
            sessions,
            duration: duration.to_owned(),
        });
    }
    if activities.is_empty() && !errors.iter().any(|e| e.field.starts_with("activity_")) {
        refuse!(
            "activity_1_kind".into(),
            "a plan needs at least one component",
        );
    }

    let review_on = match draft.review_on.trim().parse::<Date>() {
        Ok(date) => {
            let latest = today
                .checked_add(REVIEW_WITHIN_MONTHS.months())
                .unwrap_or(Date::MAX);
            if date <= today {
                refuse!("review_on".into(), "must be after today");
                None
            } else if date > latest {
                refuse!(
                    "review_on".into(),
                    &format!("must be within {REVIEW_WITHIN_MONTHS} months (by {latest})"),
                );
                None
            } else {
                Some(date)
            }
        }
        Err(_) => {
            refuse!("review_on".into(), "must be a date like 2027-02-27");
            None
        }
    };
    match review_on {
        Some(review_on) if errors.is_empty() => Ok(CheckedPlan {
            title,
            addresses,
            goals,
            activities,
            review_on,
            note,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    fn draft() -> PlanDraft {
        PlanDraft {
            title: "CRPS, right leg".into(),
            addresses: "G90.521 CRPS I of right lower limb".into(),
            goals: vec![
                GoalDraft {
                    template: "pain-at-most-4".into(),
                    description: String::new(),
                },
                GoalDraft {
                    template: CUSTOM_GOAL.into(),
                    description: "walk to the shop and back".into(),
                },
            ],
            activities: vec![
                ActivityDraft {
                    kind: "ketamine-series".into(),
                    status: "scheduled".into(),
                    protocol: "crps-outpatient-10-day".into(),
                    sessions: "10".into(),
                    ..Default::default()
                },
                ActivityDraft {
                    kind: "medication".into(),
                    status: "in-progress".into(),
                    description: "ibuprofen 400 mg three times a day with food".into(),
                    duration: "4 weeks".into(),
                    ..Default::default()
                },
            ],
            review_on: "2027-02-27".into(),
            note: String::new(),
        }
    }

    fn errors_of(draft: &PlanDraft) -> Vec<(String, String)> {
        check_plan(draft, date(2026, 11, 27))
            .unwrap_err()
            .into_iter()
            .map(|e| (e.field, e.message))
            .collect()
    }

    #[test]
    fn a_complete_draft_becomes_a_plan_with_sourced_goals() {
        let plan = check_plan(&draft(), date(2026, 11, 27)).unwrap();
        assert_eq!(plan.goals[0].source, GOAL_TEMPLATES[2].source);
        assert_eq!(plan.goals[1].template, CUSTOM_GOAL);
        assert_eq!(plan.activities[0].sessions, Some(10));
        assert_eq!(
            plan.activities[0].description,
            "CRPS, outpatient 10-day (Schwartzman 2009)"
        );
        assert_eq!(plan.activities[1].status, ActivityStatus::InProgress);
        assert_eq!(
            plan.absent_kinds(),
            vec![
                ActivityKind::PhysicalMeasure,
                ActivityKind::NonMedicinal,
                ActivityKind::UnderlyingCondition
            ]
        );
    }

    #[test]
    fn a_series_names_an_orderable_protocol_and_sessions_within_its_series() {
        let mut d = draft();
        d.activities[0].sessions = "11".into(); // Schwartzman 2009: 10 sessions
        assert_eq!(
            errors_of(&d),
            vec![(
                "activity_1_sessions".into(),
                "must be a whole number from 1 to 10 (the protocol's series)".into()
            )]
        );
        d.activities[0].sessions = "1".into();
        d.activities[0].protocol = "crps-continuous-esketamine".into(); // reference only
        assert_eq!(errors_of(&d)[0].0, "activity_1_protocol");
    }

    #[test]
    fn medication_needs_what_and_how_long_and_review_a_date_ahead() {
        let mut d = draft();
        d.activities[1].duration = " ".into();
        d.review_on = "2026-11-27".into();
        assert_eq!(
            errors_of(&d),
            vec![
                (
                    "activity_2_duration".into(),
                    "is required for a medication: say how long".into()
                ),
                ("review_on".into(), "must be after today".into()),
            ]
        );
        let mut d = draft();
        d.review_on = "2027-11-28".into();
        assert_eq!(
            errors_of(&d),
            vec![(
                "review_on".into(),
                "must be within 12 months (by 2027-11-27)".into()
            )]
        );
    }

    #[test]
    fn a_plan_needs_a_goal_and_a_component() {
        let d = PlanDraft {
            title: "x".into(),
            review_on: "2027-01-01".into(),
            ..Default::default()
        };
        assert_eq!(
            errors_of(&d),
            vec![
                ("goal_1".into(), "a plan needs at least one goal".into()),
                (
                    "activity_1_kind".into(),
                    "a plan needs at least one component".into()
                ),
            ]
        );
    }

    #[test]
    fn codes_round_trip() {
        for k in ActivityKind::ALL {
            assert_eq!(ActivityKind::from_code(k.code()), Some(k));
        }
        for s in ActivityStatus::ALL {
            assert_eq!(ActivityStatus::from_code(s.code()), Some(s));
        }
    }
}
