//! Questionnaires on schedule in words: timepoints (for the patient and for
//! staff), the kinds of timepoint the clinic switches, the reminder
//! channel, why an instrument is not given, and a scheduled questionnaire's
//! state. The schedule itself is respite-clinical's.

use jiff::civil::Date;
use respite_clinical::instruments::schedule::{NotGiven, Timepoint, TimepointKind};

use super::plan::long_date;

/// A timepoint in the patient's words: "Before you start treatment",
/// "Before your infusion on 2 March 2026", "7 days after your infusions
/// ended on 6 March 2026", "3 months after your infusions ended …".
pub fn timepoint_for_patient(key: &str) -> String {
    match Timepoint::parse(key) {
        Some(Timepoint::Baseline) => "Before you start treatment".to_owned(),
        Some(Timepoint::BeforeInfusion(on)) => {
            format!("Before your infusion on {}", long_date(on))
        }
        Some(Timepoint::AfterSeries { ended, day }) => format!(
            "{} after your infusions ended on {}",
            days(day),
            long_date(ended)
        ),
        Some(Timepoint::Monthly { ended, month }) => format!(
            "{month} months after your infusions ended on {}",
            long_date(ended)
        ),
        None => "Asked by your care team".to_owned(),
    }
}

/// A timepoint for staff: "Baseline", "Before the infusion of 2 March
/// 2026", "Day 7 after the series ended 6 March 2026", "Month 3 after …".
pub fn timepoint_for_staff(key: &str) -> String {
    match Timepoint::parse(key) {
        Some(Timepoint::Baseline) => "Baseline".to_owned(),
        Some(Timepoint::BeforeInfusion(on)) => {
            format!("Before the infusion of {}", long_date(on))
        }
        Some(Timepoint::AfterSeries { ended, day }) => {
            format!("Day {day} after the series that ended {}", long_date(ended))
        }
        Some(Timepoint::Monthly { ended, month }) => format!(
            "Month {month} after the series that ended {}",
            long_date(ended)
        ),
        None => "Assigned by staff".to_owned(),
    }
}

/// A kind of timepoint on the settings page.
pub fn timepoint_kind(kind: TimepointKind) -> String {
    match kind {
        TimepointKind::Baseline => "At baseline, before treatment starts".to_owned(),
        TimepointKind::BeforeInfusion => "Before each infusion (due the day before)".to_owned(),
        TimepointKind::AfterSeries(day) => format!("{} after a series ends", days(day)),
        TimepointKind::Monthly => {
            "Monthly after a series, from the second month until the next series".to_owned()
        }
    }
}

/// "1 day", "7 days".
fn days(n: u16) -> String {
    if n == 1 {
        "1 day".to_owned()
    } else {
        format!("{n} days")
    }
}

/// The reminder channel preference codes, in the order the settings page
/// offers them.
pub const REMINDER_CHANNELS: [&str; 5] =
    ["sms-then-email", "email-then-sms", "sms", "email", "none"];

/// A reminder channel preference in words.
pub fn reminder_channel(code: &str) -> &'static str {
    match code {
        "sms-then-email" => {
            "Text message; e-mail when the patient has no phone or no consent to texts"
        }
        "email-then-sms" => {
            "E-mail; text message when the patient has no e-mail or no consent to e-mail"
        }
        "sms" => "Text message only",
        "email" => "E-mail only",
        "none" => "No reminders (the portal still lists what is due)",
        _ => "Unknown channel",
    }
}

/// Why a chosen instrument is not given to a patient.
pub fn not_given(reason: NotGiven) -> &'static str {
    match reason {
        NotGiven::NoLicence => "not assigned, as the clinic has recorded no licence for it",
        NotGiven::NotTheCondition => "only for patients with the condition it measures",
    }
}

/// A scheduled questionnaire's state for staff, on `today`.
pub fn scheduled_state(submitted: bool, closes_on: Date, today: Date) -> &'static str {
    if submitted {
        "Answered"
    } else if today >= closes_on {
        "Missed"
    } else {
        "Open"
    }
}

/// A due day for the patient: "Due today", "Due since 2 March 2026",
/// "Due by 9 March 2026".
pub fn due(due_on: Date, closes_on: Date, today: Date) -> String {
    let last = closes_on.yesterday().unwrap_or(closes_on);
    if due_on == today {
        format!("Due today; please answer by {}", long_date(last))
    } else if due_on < today {
        format!(
            "Due since {}; please answer by {}",
            long_date(due_on),
            long_date(last)
        )
    } else {
        format!("Due {}", long_date(due_on))
    }
}

/// A licence record in words, under a licensed instrument's questions.
pub fn licence_record(holder: &str, terms: &str, licensed_on: &str) -> String {
    let on = licensed_on
        .parse::<Date>()
        .map(long_date)
        .unwrap_or_else(|_| licensed_on.to_owned());
    format!("Used by {holder} under licence ({terms}), granted {on}.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timepoints_in_words() {
        assert_eq!(
            timepoint_for_patient("baseline"),
            "Before you start treatment"
        );
        assert_eq!(
            timepoint_for_patient("series:2026-03-06:day:7"),
            "7 days after your infusions ended on 6 March 2026"
        );
        assert_eq!(
            timepoint_for_staff("infusion:2026-03-02"),
            "Before the infusion of 2 March 2026"
        );
        assert_eq!(timepoint_for_patient("bogus"), "Asked by your care team");
    }
}
