//! Words for the plan pages: the kinds and statuses of care, the goals' labels, the
//! plain-words text the patient reads (SPEC §1 step 4: the plan is shared with the
//! patient; the portal shows this text), and the lines of the letter to the physician.

use respite_clinical::dosing::protocols::seeded_protocol;
use respite_clinical::plan::{
    goal_template, Activity, ActivityKind, ActivityStatus, Goal, CUSTOM_GOAL, GOAL_TEMPLATES,
};
use respite_store::TreatmentPlanRecord;

/// A kind of care, for staff.
pub fn activity_kind(kind: ActivityKind) -> &'static str {
    match kind {
        ActivityKind::KetamineSeries => "Ketamine infusion series",
        ActivityKind::Medication => "Medication",
        ActivityKind::PhysicalMeasure => "Physical measures",
        ActivityKind::NonMedicinal => "Non-medicinal care",
        ActivityKind::UnderlyingCondition => "Treatment of the underlying condition",
    }
}

/// What a kind of care covers, as a hint on the form.
pub fn activity_kind_hint(kind: ActivityKind) -> &'static str {
    match kind {
        ActivityKind::KetamineSeries => "a protocol of the library and the number of sessions",
        ActivityKind::Medication => "NSAIDs, analgesics: what, the dose, and for how long",
        ActivityKind::PhysicalMeasure => "cold packs, heat, physiotherapy",
        ActivityKind::NonMedicinal => "exercise, CBT, sleep hygiene",
        ActivityKind::UnderlyingCondition => "what treats the cause, and who provides it",
    }
}

/// A status of care, for staff.
pub fn activity_status(status: ActivityStatus) -> &'static str {
    match status {
        ActivityStatus::NotStarted => "not started",
        ActivityStatus::Scheduled => "scheduled",
        ActivityStatus::InProgress => "in progress",
        ActivityStatus::Completed => "completed",
        ActivityStatus::Cancelled => "cancelled",
    }
}

/// A status of care, for the patient.
fn activity_status_for_patient(status: ActivityStatus) -> &'static str {
    match status {
        ActivityStatus::NotStarted => "not started yet",
        ActivityStatus::Scheduled => "booked",
        ActivityStatus::InProgress => "under way",
        ActivityStatus::Completed => "done",
        ActivityStatus::Cancelled => "stopped",
    }
}

/// The label of a goal choice on the form.
pub fn goal_choice(template: &str) -> String {
    if template == CUSTOM_GOAL {
        return "Our own goal (write it below)".into();
    }
    match goal_template(template) {
        Some(t) => format!("{}: {}", t.measure, t.target),
        None => template.to_owned(),
    }
}

/// The goal choices of the form: (value, label), templates then the custom goal.
pub fn goal_choices() -> Vec<(&'static str, String)> {
    GOAL_TEMPLATES
        .iter()
        .map(|t| t.id)
        .chain([CUSTOM_GOAL])
        .map(|id| (id, goal_choice(id)))
        .collect()
}

/// A protocol's name, or its id when the library no longer holds it.
pub fn protocol_name(id: &str) -> String {
    seeded_protocol(id).map_or_else(|| id.to_owned(), |p| p.name)
}

/// One activity in a line, for staff and the physician: what, how many, how long.
pub fn activity_line(a: &Activity) -> String {
    let mut line = a.description.clone();
    if let (Some(protocol), Some(sessions)) = (&a.protocol, a.sessions) {
        let name = protocol_name(protocol);
        if a.description != name {
            line = format!("{line} ({name})");
        }
        line.push_str(&format!(", {}", sessions_words(sessions)));
    }
    if !a.duration.is_empty() {
        line.push_str(&format!(", {}", a.duration));
    }
    line
}

fn sessions_words(n: u32) -> String {
    if n == 1 {
        "1 session".into()
    } else {
        format!("{n} sessions")
    }
}

/// A goal for staff and the physician: measure, target and source.
pub fn goal_line(g: &Goal) -> String {
    if g.template == CUSTOM_GOAL {
        format!("{} (agreed with the patient)", g.description)
    } else {
        format!("{}: {} (source: {})", g.measure, g.target, g.source)
    }
}

/// A goal in the patient's words.
fn goal_for_patient(g: &Goal) -> String {
    match g.template.as_str() {
        "pain-reduction-30" => {
            "Your pain about a third lower than before treatment (on the 0 to 10 scale you fill in)."
                .into()
        }
        "pain-reduction-50" => "Your pain about half of what it was before treatment.".into(),
        "pain-at-most-4" => {
            "Your pain at 4 or lower on the 0 to 10 scale: mild pain that lets you get on with your day."
                .into()
        }
        "peg-reduction-30" => {
            "Pain getting in the way of your enjoyment of life and your daily activities about a third less than before."
                .into()
        }
        "bpi-interference-1" => {
            "Pain getting in the way of your activities, mood, walking, work, relationships, sleep and enjoyment a little less (at least one point on the 0 to 10 scale)."
                .into()
        }
        "phq9-remission" => "Your mood back to normal: few or no signs of depression.".into(),
        _ => g.description.clone(),
    }
}

/// An activity in the patient's words.
fn activity_for_patient(a: &Activity) -> String {
    let status = activity_status_for_patient(a.status);
    let how_long = if a.duration.is_empty() {
        String::new()
    } else {
        format!(" ({})", a.duration)
    };
    match a.kind {
        ActivityKind::KetamineSeries => {
            let sessions = a.sessions.map_or_else(String::new, |n| {
                if n == 1 {
                    "one ketamine infusion".into()
                } else {
                    format!("a series of {n} ketamine infusions")
                }
            });
            format!(
                "{}: a slow drip into a vein at the clinic, at a low dose for pain, while a nurse watches over you{how_long}. Status: {status}.",
                super::common::capitalised(&sessions)
            )
        }
        ActivityKind::Medication => {
            format!("Medicine: {}{how_long}. Status: {status}.", a.description)
        }
        ActivityKind::PhysicalMeasure => format!(
            "Things you can do for your body: {}{how_long}. Status: {status}.",
            a.description
        ),
        ActivityKind::NonMedicinal => format!(
            "Everyday habits and support: {}{how_long}. Status: {status}.",
            a.description
        ),
        ActivityKind::UnderlyingCondition => format!(
            "Treating the cause of your pain: {}{how_long}. Status: {status}.",
            a.description
        ),
    }
}

/// The plan in plain words, for the patient: paragraphs, in the order they read.
pub fn patient_text(plan: &TreatmentPlanRecord) -> Vec<String> {
    let mut text = vec![format!(
        "This is your pain care plan, written by {} on your behalf. It puts several kinds of care together, because pain that lasts is best treated from more than one side.",
        plan.author
    )];
    if !plan.goals.is_empty() {
        text.push("What we are aiming for together:".into());
        text.extend(
            plan.goals
                .iter()
                .map(|g| format!("• {}", goal_for_patient(g))),
        );
    }
    let active: Vec<&Activity> = plan
        .activities
        .iter()
        .filter(|a| a.status != ActivityStatus::Cancelled)
        .collect();
    if !active.is_empty() {
        text.push("What we will do:".into());
        text.extend(
            active
                .iter()
                .map(|a| format!("• {}", activity_for_patient(a))),
        );
    }
    text.push(format!(
        "We will look at the plan again with you by {}. Until then, tell us if anything changes: new medicines, side effects, or pain that gets worse.",
        long_date(plan.review_on)
    ));
    text
}

/// A date as people write it: 27 February 2027.
pub fn long_date(date: jiff::civil::Date) -> String {
    date.strftime("%-d %B %Y").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_goal_template_has_words_for_the_patient() {
        for t in GOAL_TEMPLATES {
            let goal = Goal {
                template: t.id.into(),
                description: "fallback".into(),
                measure: t.measure.into(),
                target: t.target.into(),
                source: t.source.into(),
            };
            assert_ne!(goal_for_patient(&goal), "fallback", "{}", t.id);
        }
    }
}
