//! Words for the values every area shows: phone numbers, statuses, how a
//! person came in and how they like to be reached, where and how long it
//! hurts, best-time windows, stated durations, units and observation values.
//! Each function takes the stored code (or the domain value) and returns what
//! a person reads; an unknown code is shown as it is rather than hidden, so
//! that a new code shows up in the raw-code scan of the browser tests.

use std::borrow::Borrow;

use respite_clinical::instruments::{Code, Instrument};
use respite_domain::booking::ConsultationStatus;
use respite_domain::inquiry::{ContactWindow, Days, PainArea, PainDuration, PreferredChannel};
use respite_domain::thread::{CallbackReason, ClosedReason, InquiryStatus};
use respite_domain::PhoneNumber;

/// A stored E.164 number as people write it: national format in the
/// clinic's own country (`(312) 555-0147` for a US clinic), international
/// elsewhere (`+44 20 7946 0958`). A value that is not E.164 is shown as
/// stored.
pub fn phone(e164: &str, clinic_region: &str) -> String {
    match PhoneNumber::from_e164(e164) {
        Ok(number) => number.for_people(clinic_region),
        Err(_) => e164.to_owned(),
    }
}

/// Where an inquiry stands, for staff.
pub fn inquiry_status(status: impl Borrow<InquiryStatus>) -> &'static str {
    match status.borrow() {
        InquiryStatus::New => "New: not yet contacted",
        InquiryStatus::Contacted => "In contact: to call back or book",
        InquiryStatus::ConsultationBooked => "Consultation booked",
        InquiryStatus::Closed => "Closed",
    }
}

/// Why a thread was closed.
pub fn closed_reason(reason: impl Borrow<ClosedReason>) -> &'static str {
    match reason.borrow() {
        ClosedReason::Booked => "booked",
        ClosedReason::NotACandidate => "not a candidate",
        ClosedReason::NoAnswer => "no answer after repeated calls",
        ClosedReason::AskedToStop => "asked us to stop",
    }
}

/// Where a phone consultation stands.
pub fn consultation_status(status: impl Borrow<ConsultationStatus>) -> &'static str {
    match status.borrow() {
        ConsultationStatus::Booked => "Booked",
        ConsultationStatus::Held => "Held",
        ConsultationStatus::NoShow => "Missed (no-show)",
        ConsultationStatus::Cancelled => "Cancelled",
    }
}

/// Why someone is to be called back.
pub fn callback_reason(reason: impl Borrow<CallbackReason>) -> &'static str {
    match reason.borrow() {
        CallbackReason::Inquiry => "Asked for a call",
        CallbackReason::MissedCall => "Missed call",
        CallbackReason::Voicemail => "Voicemail",
        CallbackReason::CancelledConsultation => "Consultation cancelled: find a new time",
        CallbackReason::MissedConsultation => "Consultation missed: call to rebook",
    }
}

/// How a message or an inquiry came in or went out (`web`, `email`, `sms`,
/// `voice`).
pub fn channel(code: &str) -> &str {
    match code {
        "web" => "web form",
        "email" => "e-mail",
        "sms" => "text message",
        "voice" => "phone call",
        "booking" => "booking page",
        other => other,
    }
}

/// How a person would like to be contacted.
pub fn preferred_channel(code: &str) -> &str {
    match code.parse::<PreferredChannel>() {
        Ok(channel) => channel.label(),
        Err(()) => code,
    }
}

/// Where it hurts, as the person said; "not given" when nobody asked.
pub fn pain_area(stored: Option<&str>) -> &'static str {
    match stored.map(str::parse::<PainArea>) {
        Some(Ok(area)) => area.label(),
        Some(Err(())) => "not recognised",
        None => "not given",
    }
}

/// How long it has hurt, as the person said; "not given" when nobody asked.
pub fn pain_duration(stored: Option<&str>) -> &'static str {
    match stored
        .filter(|code| !code.is_empty())
        .map(str::parse::<PainDuration>)
    {
        Some(Ok(duration)) => duration.label(),
        Some(Err(())) => "not recognised",
        None => "not given",
    }
}

/// Where it hurts and for how long, e.g. "Back, 1 to 5 years".
pub fn pain(area: Option<&str>, duration: Option<&str>) -> String {
    format!(
        "{}, {}",
        pain_area(area),
        pain_duration(duration).to_lowercase()
    )
}

/// Stored best-time windows (`every-day 14:00-16:00; weekdays 17:00-19:00`)
/// as people say them: "every day, 2–4 pm; weekdays, 5–7 pm". An empty text
/// is "not given"; a window that cannot be read is shown as stored.
pub fn windows(stored: &str) -> String {
    if stored.trim().is_empty() {
        return "not given".to_owned();
    }
    stored
        .split(';')
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(|w| match w.parse::<ContactWindow>() {
            Ok(window) => window_words(&window),
            Err(_) => w.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// One window, e.g. "weekdays, 5:30–7 pm".
pub fn window_words(window: &ContactWindow) -> String {
    let days = match window.days {
        Days::Weekdays => "weekdays",
        Days::Weekends => "weekends",
        Days::EveryDay => "every day",
    };
    format!("{days}, {}", time_range(window.start, window.end))
}

/// A span of the day on a 12-hour clock, the half of the day said once when
/// both ends share it: "2–4 pm", "11 am–1 pm", "9:30 am–noon".
pub fn time_range(start: jiff::civil::Time, end: jiff::civil::Time) -> String {
    let (start_text, start_half) = clock(start);
    let (end_text, end_half) = clock(end);
    let end_words = join_half(&end_text, end_half);
    if start_half == end_half && start_half.is_some() {
        format!("{start_text}–{end_words}")
    } else {
        format!("{}–{end_words}", join_half(&start_text, start_half))
    }
}

fn join_half(text: &str, half: Option<&str>) -> String {
    match half {
        Some(half) => format!("{text} {half}"),
        None => text.to_owned(),
    }
}

/// A time on a 12-hour clock and its half of the day; noon and midnight are
/// words of their own.
fn clock(time: jiff::civil::Time) -> (String, Option<&'static str>) {
    let (hour, minute) = (time.hour(), time.minute());
    match (hour, minute) {
        (12, 0) => return ("noon".to_owned(), None),
        (0, 0) => return ("midnight".to_owned(), None),
        _ => {}
    }
    let half = if hour < 12 { "am" } else { "pm" };
    let twelve = match hour % 12 {
        0 => 12,
        h => h,
    };
    let text = if minute == 0 {
        twelve.to_string()
    } else {
        format!("{twelve}:{minute:02}")
    };
    (text, Some(half))
}

/// A stated duration, e.g. "1 year", "3 months".
pub fn stated_duration(amount: impl Borrow<i64>, unit: &str) -> String {
    let amount = *amount.borrow();
    let singular = match unit {
        "weeks" => "week",
        "months" => "month",
        "years" => "year",
        other => other,
    };
    if amount == 1 {
        format!("1 {singular}")
    } else {
        format!("{amount} {unit}")
    }
}

/// The next step a consultation note records; an unknown code is shown as
/// unknown, never raw.
pub fn next_step(code: &str) -> &'static str {
    match code {
        "send-records-request" => "Send a records request",
        "book-screening-visit" => "Book a screening visit",
        "not-a-candidate" => "Not a candidate",
        _ => "Next step not recognised",
    }
}

/// The outcome of a callback attempt.
pub fn attempt_outcome(code: &str) -> &str {
    respite_domain::callbacks::AttemptOutcome::ALL
        .iter()
        .find(|o| o.as_str() == code)
        .map_or(code, |o| o.label())
}

/// A stored role (`front-desk`, `nurse`, …) or an audit trail's actor role
/// (`public`, `none`) in words.
pub fn role(code: &str) -> &str {
    match code {
        "public" => "Public (no sign-in)",
        "none" => "Not signed in",
        other => respite_domain::Role::ALL
            .iter()
            .find(|r| r.as_str() == other)
            .map_or(other, |r| r.label()),
    }
}

/// An audit entry's action.
pub fn audit_action(code: &str) -> &str {
    match code {
        "read" => "Read",
        "search" => "Search",
        "create" => "Create",
        "update" => "Update",
        "delete" => "Delete",
        "export" => "Export",
        "witness" => "Witness",
        other => other,
    }
}

/// An audit entry's outcome.
pub fn audit_outcome(code: &str) -> &str {
    match code {
        "success" => "Success",
        "denied" => "Denied",
        "invalid" => "Refused input",
        "error" => "Error",
        other => other,
    }
}

/// An audit entry's resource type, in the words of the staff pages.
pub fn resource_type(code: &str) -> &str {
    match code {
        "Appointment" => "Consultation",
        "CallbackTask" => "Callback",
        "ConsultationNote" => "Consultation note",
        "Communication" => "Message",
        "AuditEvent" => "Audit trail",
        "Organization" => "Clinic settings",
        "DrugRegister" => "Controlled-substance register",
        "QuestionnaireAssignment" => "Scheduled questionnaires",
        "MeasureReport" => "Clinic-wide results",
        other => other,
    }
}

/// A UCUM unit code (SPEC §4) in words: `mm[Hg]` → "mmHg", `/min` → "per
/// minute", `Cel` → "°C". Annotations (`{score}`) have no unit to say; see
/// [`observation_value`] for what a score is out of.
pub fn unit(ucum: &str) -> &str {
    match ucum {
        "mm[Hg]" => "mmHg",
        "/min" => "per minute",
        "/h" => "per hour",
        "Cel" => "°C",
        "[degF]" => "°F",
        "kg" => "kg",
        "g" => "g",
        "cm" => "cm",
        "m" => "m",
        "%" => "%",
        "mg" => "mg",
        "ug" => "µg",
        "mL" => "mL",
        "mL/h" => "mL per hour",
        "mg/kg" => "mg per kg",
        "mg/kg/h" => "mg per kg per hour",
        "ug/kg/min" => "µg per kg per minute",
        "mg/h" => "mg per hour",
        "mg/mL" => "mg per mL",
        "kg/m2" => "kg/m²",
        "min" => "minutes",
        "h" => "hours",
        "a" => "years",
        "{score}" | "1" | "{#}" => "",
        other => other,
    }
}

/// An observation's value with its unit in words. A rate names what beats or
/// breathes (LOINC 8867-4 heart rate, 9279-1 respiratory rate); a score names
/// its instrument and range, from the instrument definitions of
/// `respite-clinical` (shared/clinical/instruments.md): "12 out of 27 (PHQ-9
/// total)".
pub fn observation_value(loinc: &str, value: impl Borrow<f64>, ucum: &str) -> String {
    let number = number(*value.borrow());
    match (loinc, ucum) {
        ("8867-4", "/min") => return format!("{number} beats per minute"),
        ("9279-1", "/min") => return format!("{number} breaths per minute"),
        _ => {}
    }
    if ucum.starts_with('{') || ucum == "1" {
        return match score_scale(loinc) {
            // "7 out of 21 (GAD-7 total)"; a name with brackets of its
            // own after a comma: "8 out of 10, Pain intensity (NRS)".
            Some((name, highest)) if name.contains('(') => {
                format!("{number} out of {}, {name}", self::number(highest))
            }
            Some((name, highest)) => {
                format!("{number} out of {} ({name})", self::number(highest))
            }
            None => format!("{number} points"),
        };
    }
    match unit(ucum) {
        "" => number,
        "%" => format!("{number}%"),
        words => format!("{number} {words}"),
    }
}

/// A number without a needless ".0".
pub fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        let text = format!("{value:.1}");
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// The name and highest value of the instrument scale coded `loinc`.
fn score_scale(loinc: &str) -> Option<(&'static str, f64)> {
    Instrument::ALL.iter().find_map(|instrument| {
        instrument.definition().scales.iter().find_map(|scale| {
            matches!(scale.code, Code::Loinc { code, .. } if code == loinc)
                .then_some((scale.name, scale.highest))
        })
    })
}

/// A time zone in words: the name people in the zone use (US zones as the
/// clinic's staff and patients say them), else "City time" from the IANA
/// name's last part. The IANA name stays in forms and `data-` attributes.
pub fn time_zone(iana: &str) -> String {
    let known = match iana {
        "America/New_York" => Some("Eastern Time"),
        "America/Chicago" => Some("Central Time"),
        "America/Denver" => Some("Mountain Time"),
        "America/Phoenix" => Some("Arizona Time"),
        "America/Los_Angeles" => Some("Pacific Time"),
        "America/Anchorage" => Some("Alaska Time"),
        "Pacific/Honolulu" => Some("Hawaii Time"),
        "America/Puerto_Rico" => Some("Atlantic Time (Puerto Rico)"),
        "Europe/London" => Some("UK time"),
        "Europe/Berlin" => Some("Central European Time"),
        "Asia/Kolkata" => Some("India Standard Time"),
        "Australia/Sydney" => Some("Sydney time"),
        "UTC" | "Etc/UTC" => Some("UTC"),
        _ => None,
    };
    match known {
        Some(words) => words.to_owned(),
        None => match iana.rsplit('/').next().filter(|city| !city.is_empty()) {
            Some(city) if iana.contains('/') => format!("{} time", city.replace('_', " ")),
            _ => iana.to_owned(),
        },
    }
}

/// Text with its first letter raised ("this time was just taken…" → "This
/// time was just taken…"; "midazolam (benzodiazepine) is…" → "Midazolam…").
pub fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_national_at_home_and_international_abroad() {
        assert_eq!(phone("+13125550147", "US"), "(312) 555-0147");
        assert_eq!(phone("+442079460958", "US"), "+44 20 7946 0958");
        assert_eq!(phone("not a number", "US"), "not a number");
    }

    #[test]
    fn windows_read_as_people_say_them() {
        let check = |stored: &str, words: &str| assert_eq!(windows(stored), words, "{stored}");
        check("every-day 14:00-16:00", "every day, 2–4 pm");
        check(
            "weekdays 17:30-19:00; weekends 11:00-13:00",
            "weekdays, 5:30–7 pm; weekends, 11 am–1 pm",
        );
        check("weekdays 09:00-12:00", "weekdays, 9 am–noon");
        check("", "not given");
    }

    #[test]
    fn codes_become_words() {
        assert_eq!(
            inquiry_status(InquiryStatus::ConsultationBooked),
            "Consultation booked"
        );
        assert_eq!(pain_duration(Some("1-5-years")), "1 to 5 years");
        assert_eq!(
            pain(Some("back"), Some("over-5-years")),
            "Back, more than 5 years"
        );
        assert_eq!(channel("sms"), "text message");
        assert_eq!(stated_duration(1, "years"), "1 year");
        assert_eq!(stated_duration(3, "months"), "3 months");
        assert_eq!(attempt_outcome("left-voicemail"), "Left voicemail");
    }

    #[test]
    fn units_and_scores_are_written_out() {
        let check = |code, value, unit, words: &str| {
            assert_eq!(observation_value(code, value, unit), words, "{code} {unit}")
        };
        check("8480-6", 120.0, "mm[Hg]", "120 mmHg");
        check("29463-7", 72.5, "kg", "72.5 kg");
        check("8867-4", 64.0, "/min", "64 beats per minute");
        check("9279-1", 14.0, "/min", "14 breaths per minute");
        check("59408-5", 97.0, "%", "97%");
        check("44261-6", 12.0, "{score}", "12 out of 27 (PHQ-9 total)");
        check(
            "72514-3",
            8.0,
            "{score}",
            "8 out of 10, Pain intensity (NRS)",
        );
        check("0000-0", 3.0, "{score}", "3 points");
    }

    #[test]
    fn time_zones_read_as_people_say_them() {
        assert_eq!(super::time_zone("America/Chicago"), "Central Time");
        assert_eq!(
            super::time_zone("America/Argentina/Buenos_Aires"),
            "Buenos Aires time"
        );
        assert_eq!(super::time_zone("UTC"), "UTC");
    }
}
