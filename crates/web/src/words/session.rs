//! The words of the infusion session (SPEC §1 step 5): its states, timeline
//! events, vital signs, alarms, adverse events, refusals and discharge.

use respite_clinical::session::{
    AlarmDirection, ChecklistItem, DischargeRefusal, RescueRefusal, SessionAction, SessionState,
    VitalKind,
};
use respite_store::SessionRefusal;

use super::infusion::number;

pub fn state(state: SessionState) -> &'static str {
    match state {
        SessionState::Checklist => "Pre-start checklist",
        SessionState::Running => "Infusing",
        SessionState::Paused => "Paused",
        SessionState::Stopped => "Stopped",
        SessionState::Recovery => "In recovery",
        SessionState::Discharged => "Discharged, awaiting sign-off",
        SessionState::SignedOff => "Signed off",
    }
}

pub fn action(action: SessionAction) -> &'static str {
    match action {
        SessionAction::Checklist => "changing the checklist",
        SessionAction::Start => "starting the infusion",
        SessionAction::Pause => "pausing",
        SessionAction::Resume => "resuming",
        SessionAction::ChangeRate => "changing the rate",
        SessionAction::Bolus => "a bolus",
        SessionAction::Stop => "stopping",
        SessionAction::Vitals => "recording vital signs",
        SessionAction::AcknowledgeAlarm => "acknowledging an alarm",
        SessionAction::AdverseEvent => "recording an adverse event",
        SessionAction::RescueDrug => "giving a rescue drug",
        SessionAction::BeginRecovery => "moving to recovery",
        SessionAction::Aldrete => "scoring the Aldrete",
        SessionAction::Discharge => "discharging",
        SessionAction::SignOff => "signing off",
        SessionAction::Draw => "drawing from the register",
        SessionAction::Note => "a note",
    }
}

pub fn checklist_item(item: ChecklistItem) -> &'static str {
    match item {
        ChecklistItem::Consent => "Consent to this session on file",
        ChecklistItem::EscortConfirmed => "Escort named and confirmed",
        ChecklistItem::IvAccess => "IV access in place",
        ChecklistItem::BaselineVitals => "Baseline vital signs",
        ChecklistItem::BaselinePain => "Baseline pain (0–10)",
        ChecklistItem::SecondCheck => "Second check of the order",
    }
}

pub fn vital(kind: VitalKind) -> &'static str {
    match kind {
        VitalKind::Systolic => "Systolic",
        VitalKind::Diastolic => "Diastolic",
        VitalKind::HeartRate => "Heart rate",
        VitalKind::OxygenSaturation => "SpO₂",
        VitalKind::RespiratoryRate => "Respiratory rate",
        VitalKind::PainNrs => "Pain",
    }
}

pub fn vital_unit(kind: VitalKind) -> &'static str {
    match kind {
        VitalKind::Systolic | VitalKind::Diastolic => "mm Hg",
        VitalKind::HeartRate | VitalKind::RespiratoryRate => "/min",
        VitalKind::OxygenSaturation => "%",
        VitalKind::PainNrs => "/10",
    }
}

/// A set of vitals on one line: "BP 128/78 mm Hg · HR 72/min · …".
pub fn vitals_line(values: &[(VitalKind, f64)]) -> String {
    let get = |k: VitalKind| values.iter().find(|(v, _)| *v == k).map(|(_, x)| *x);
    let mut parts = Vec::new();
    if let (Some(s), Some(d)) = (get(VitalKind::Systolic), get(VitalKind::Diastolic)) {
        parts.push(format!("BP {}/{} mm Hg", number(s, 0), number(d, 0)));
    }
    for kind in [
        VitalKind::HeartRate,
        VitalKind::OxygenSaturation,
        VitalKind::RespiratoryRate,
        VitalKind::PainNrs,
    ] {
        if let Some(v) = get(kind) {
            let short = match kind {
                VitalKind::HeartRate => "HR",
                VitalKind::OxygenSaturation => "SpO₂",
                VitalKind::RespiratoryRate => "RR",
                _ => "Pain",
            };
            parts.push(format!("{short} {}{}", number(v, 0), vital_unit(kind)));
        }
    }
    parts.join(" · ")
}

/// An alarm: "Systolic 186 mm Hg, above 180".
pub fn alarm(kind: VitalKind, value: f64, limit: f64, direction: AlarmDirection) -> String {
    format!(
        "{} {} {}: {} the alarm limit of {}",
        vital(kind),
        number(value, 0),
        vital_unit(kind),
        match direction {
            AlarmDirection::Above => "above",
            AlarmDirection::Below => "below",
        },
        number(limit, 0)
    )
}

/// A modified Aldrete total and whether it meets discharge criteria
/// (respite-clinical decides; ≥ 9, Aldrete 1995).
pub fn aldrete(total: f64, ready: bool) -> String {
    if ready {
        format!("{} of 10: meets discharge criteria", number(total, 0))
    } else {
        format!(
            "{} of 10: does not meet discharge criteria (9 or more)",
            number(total, 0)
        )
    }
}

pub fn adverse_event(code: &str) -> &'static str {
    match code {
        "dissociation" => "Distressing dissociation or hallucinations",
        "anxiety-agitation" => "Anxiety or agitation",
        "nausea-vomiting" => "Nausea or vomiting",
        "hypertension" => "Raised blood pressure",
        "tachycardia" => "Fast heart rate",
        "desaturation" => "Low oxygen saturation",
        _ => "Other",
    }
}

/// The timeline's event kind in words.
pub fn event_kind(kind: &str) -> &'static str {
    match kind {
        "checklist" => "Checklist updated",
        "start" => "Infusion started",
        "bolus" => "Bolus",
        "pause" => "Paused",
        "resume" => "Resumed",
        "rate-change" => "Rate changed",
        "stop" => "Infusion stopped",
        "vitals" => "Vital signs",
        "alarm-acknowledged" => "Alarm acknowledged",
        "adverse-event" => "Adverse event",
        "rescue-drug" => "Rescue drug given",
        "recovery" => "Moved to recovery",
        "aldrete" => "Modified Aldrete score",
        "discharge" => "Discharged",
        "sign-off" => "Signed off",
        "note" => "Note",
        _ => "Entry",
    }
}

pub fn discharge_refusal(refusal: &DischargeRefusal) -> String {
    match refusal {
        DischargeRefusal::NoAldrete => "No modified Aldrete score is recorded yet.".into(),
        DischargeRefusal::AldreteBelowNine { score: Some(score) } => format!(
            "The modified Aldrete score is {} of 10: discharge needs 9 or more (Aldrete 1995). \
             Keep observing and score again.",
            number(*score, 0)
        ),
        DischargeRefusal::AldreteBelowNine { score: None } => {
            "The modified Aldrete score is incomplete: every criterion must be assessed.".into()
        }
        DischargeRefusal::NoEscort => {
            "No escort is named: the patient goes home only with a responsible adult.".into()
        }
        DischargeRefusal::OpenAlarms(1) => "One alarm is not yet acknowledged.".into(),
        DischargeRefusal::OpenAlarms(n) => format!("{n} alarms are not yet acknowledged."),
    }
}

fn field_words(field: &str) -> &'static str {
    match field {
        "reason" => "Reason",
        "action_taken" => "Action taken",
        "description" => "Description",
        "escort_name" => "Escort's name",
        "note" => "Note",
        "pump_ml_h" => "Pump rate",
        "dose_mg" => "Dose",
        "drawn_mg" => "Amount drawn",
        "vial" => "Vial",
        "systolic" => "Systolic",
        "diastolic" => "Diastolic",
        "heart_rate" => "Heart rate",
        "oxygen_saturation" => "SpO₂",
        "respiratory_rate" => "Respiratory rate",
        "pain_nrs" => "Pain",
        _ => "A field",
    }
}

/// A refusal in words, and the form field it is about.
pub fn refusal(refusal: &SessionRefusal) -> (&'static str, String) {
    match refusal {
        SessionRefusal::NoSuchSession => ("session", "There is no such session.".into()),
        SessionRefusal::NoSuchOrder => ("order", "There is no such order.".into()),
        SessionRefusal::OrderNotChecked => (
            "order",
            "The order's second check is not recorded: another nurse or clinician must verify \
             it before a session can be opened."
                .into(),
        ),
        SessionRefusal::SessionExists(_) => ("order", "This order has a session already.".into()),
        SessionRefusal::NotClinicalStaff => (
            "session",
            "Only a nurse or a clinician documents a session.".into(),
        ),
        SessionRefusal::NotAClinician => {
            ("session", "Only a clinician signs off a session.".into())
        }
        SessionRefusal::Stale { .. } => (
            "version",
            "Someone recorded on this session since you opened the page, so your entry was not \
             saved. The page now shows the session as it is: check it, then enter yours again."
                .into(),
        ),
        SessionRefusal::Action(refused) => (
            "action",
            format!(
                "Not possible now: {} while the session is “{}”.",
                action(refused.action),
                state(refused.state).to_lowercase()
            ),
        ),
        SessionRefusal::Checklist(missing) => (
            "checklist",
            format!(
                "The infusion cannot start until the checklist is complete. Missing: {}.",
                missing
                    .iter()
                    .map(|i| checklist_item(*i).to_lowercase())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        ),
        SessionRefusal::Required(field) => (field, format!("{} is required.", field_words(field))),
        SessionRefusal::RateAboveOrder {
            rate_mg_h,
            max_mg_h,
        } => (
            "pump_ml_h",
            format!(
                "{} mg/h is above the ordered maximum of {} mg/h: a higher rate needs a new order.",
                number(*rate_mg_h, 1),
                number(*max_mg_h, 1)
            ),
        ),
        SessionRefusal::BolusAboveOrder { mg, max_mg } => (
            "bolus_mg",
            format!(
                "A bolus of {} mg is above the ordered {} mg.",
                number(*mg, 1),
                number(*max_mg, 1)
            ),
        ),
        SessionRefusal::Implausible { field, value } => (
            field,
            format!(
                "{}: {} is not a possible value; check the entry.",
                field_words(field),
                number(*value, 1)
            ),
        ),
        SessionRefusal::NoSuchAlarm => ("alarm", "There is no such alarm on this session.".into()),
        SessionRefusal::AlarmAcknowledged => {
            ("alarm", "This alarm has been acknowledged already.".into())
        }
        SessionRefusal::UnknownAdverseEvent => (
            "code",
            "Choose the kind of adverse event from the list.".into(),
        ),
        SessionRefusal::RescueNotAllowed { allowed } => (
            "drug",
            format!(
                "This protocol does not allow that rescue drug. Allowed: {}.",
                allowed.join("; ")
            ),
        ),
        SessionRefusal::Rescue(rule) => rescue_refusal(rule),
        SessionRefusal::RescueNotInRegister => (
            "vial",
            "Vial: the register holds no vials of that drug; leave the vial empty.".into(),
        ),
        SessionRefusal::NoSuchVial => (
            "vial",
            "Vial: there is no such vial in the register; choose one on hand.".into(),
        ),
        SessionRefusal::AldreteIncomplete => {
            ("aldrete", "Assess all five Aldrete criteria.".into())
        }
        SessionRefusal::Discharge(refusals) => (
            "discharge",
            format!(
                "Discharge refused. {}",
                refusals
                    .iter()
                    .map(discharge_refusal)
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        ),
        SessionRefusal::Timeline(_) => (
            "action",
            "The timeline does not allow this entry; reload the session.".into(),
        ),
    }
}

/// A protocol's controlled rescue drug, for the rescue form's hint.
pub fn controlled_rescue(label: &str, drug: respite_clinical::register::RegisterDrug) -> String {
    format!(
        "{} is controlled, {}: drawn from a vial of {} in the register",
        super::common::capitalised(label),
        crate::words::register::schedule(drug.schedule()),
        crate::words::register::drug(drug).to_lowercase()
    )
}

/// The session's (ketamine) draw refused for a vial of another drug.
pub fn not_ketamine(drug: respite_clinical::register::RegisterDrug) -> String {
    format!(
        "Vial: that is a vial of {}; the infusion's draw is of ketamine. A rescue dose of {} is \
         drawn with the rescue drug's entry.",
        crate::words::register::drug(drug).to_lowercase(),
        crate::words::register::drug(drug).to_lowercase()
    )
}

/// Why a rescue drug's draw was refused: the field and the rule.
pub fn rescue_refusal(rule: &RescueRefusal) -> (&'static str, String) {
    use crate::words::register::{drug, schedule};
    let lower = |d| drug(d).to_lowercase();
    match *rule {
        RescueRefusal::VialRequired(d) => (
            "vial",
            format!(
                "Vial: {} is a controlled substance, {}: choose the vial of {} you draw the dose from.",
                lower(d),
                schedule(d.schedule()),
                lower(d)
            ),
        ),
        RescueRefusal::NotControlled(d) => (
            "vial",
            format!(
                "Vial: {} is not a controlled substance and is not drawn from the register; leave the vial empty.",
                d.ingredient()
            ),
        ),
        RescueRefusal::WrongDrug(wrong) => (
            "vial",
            format!(
                "Vial: that is a vial of {}; a dose of {} is drawn from a vial of {}.",
                lower(wrong.vial),
                lower(wrong.wanted),
                lower(wrong.wanted)
            ),
        ),
        RescueRefusal::Expired => (
            "vial",
            "Vial: that vial is past its expiry date; choose another.".into(),
        ),
        RescueRefusal::DoseAboveDraw { dose, drawn } => (
            "drawn_mg",
            format!("Amount drawn: the dose of {dose} is more than the {drawn} drawn."),
        ),
        RescueRefusal::DrawAboveBalance { drawn, balance } => (
            "drawn_mg",
            format!("Amount drawn: {drawn} is more than the vial holds ({balance})."),
        ),
        RescueRefusal::NothingDrawn => (
            "drawn_mg",
            "Amount drawn: must be more than 0 mg.".into(),
        ),
    }
}

/// A length of time: "25 min", "3 h 05 min".
pub fn duration(minutes: f64) -> String {
    let minutes = minutes.max(0.0).floor() as i64;
    if minutes < 60 {
        format!("{minutes} min")
    } else {
        format!("{} h {:02} min", minutes / 60, minutes % 60)
    }
}

/// The label of a session form's field, for its error message.
pub fn field_label(key: &str) -> &'static str {
    match key {
        "systolic" => "Systolic",
        "diastolic" => "Diastolic",
        "heart_rate" => "Heart rate",
        "oxygen_saturation" => "SpO₂",
        "respiratory_rate" => "Respiratory rate",
        "pain_nrs" => "Pain",
        "pump_ml_h" => "Pump rate",
        "bolus_mg" => "Bolus",
        "dose_mg" => "Dose",
        "drawn_mg" => "Amount drawn",
        "vial" => "Vial",
        "amount_ml" => "Amount",
        "amount_mg" => "Amount",
        "version" => "Version",
        _ => "A field",
    }
}

/// A refused alarm threshold in words.
pub fn threshold_error(e: &respite_clinical::session::ThresholdError) -> String {
    use respite_clinical::session::ThresholdError;
    match e {
        ThresholdError::OutOfRange { field, lo, hi } => format!(
            "{}: must be between {} and {}.",
            threshold_label(field),
            number(*lo, 0),
            number(*hi, 0)
        ),
        ThresholdError::LowNotBelowHigh { field } => format!(
            "{}: the low alarm must be below the high alarm.",
            threshold_label(field)
        ),
    }
}

fn threshold_label(field: &str) -> &'static str {
    match field {
        "systolic_above" | "systolic_below" => "Systolic",
        "heart_rate_above" | "heart_rate_below" => "Heart rate",
        "oxygen_saturation_below" => "SpO₂",
        _ => "Respiratory rate",
    }
}
