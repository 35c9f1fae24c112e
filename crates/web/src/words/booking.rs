//! Words for the booking pages: consultations, what happened to them in a
//! person's thread, why someone is to be called back, and the answers a
//! booking never asked for ("not given", never a made-up answer).

use respite_domain::booking::{ConsultationEventKind, ConsultationStatus};
use respite_domain::inquiry::{PainArea, PainDuration};
use respite_domain::thread::{CallbackReason, InquiryStatus};

/// Where a person's thread stands, as staff read it.
pub fn inquiry_status(status: InquiryStatus) -> &'static str {
    match status {
        InquiryStatus::New => "New: not yet contacted",
        InquiryStatus::Contacted => "In contact: to call back or book",
        InquiryStatus::ConsultationBooked => "Consultation booked",
        InquiryStatus::Closed => "Closed",
    }
}

/// What staff read for a consultation's status.
pub fn consultation_status(status: ConsultationStatus) -> &'static str {
    match status {
        ConsultationStatus::Booked => "Booked",
        ConsultationStatus::Held => "Held",
        ConsultationStatus::NoShow => "Missed (no-show)",
        ConsultationStatus::Cancelled => "Cancelled",
    }
}

/// What a person reads for their own consultation's status.
pub fn consultation_status_for_person(status: ConsultationStatus) -> &'static str {
    match status {
        ConsultationStatus::Booked => "booked",
        ConsultationStatus::Held => "held",
        ConsultationStatus::NoShow => "missed",
        ConsultationStatus::Cancelled => "cancelled",
    }
}

/// Why someone is to be called back, as the callback list says it.
pub fn callback_reason(reason: CallbackReason) -> &'static str {
    match reason {
        CallbackReason::Inquiry => "New inquiry",
        CallbackReason::MissedCall => "Missed call",
        CallbackReason::Voicemail => "Voicemail",
        CallbackReason::CancelledConsultation => "Consultation cancelled: find a new time",
        CallbackReason::MissedConsultation => "Consultation missed: call to rebook",
    }
}

/// One event of a consultation, as the thread tells it: `what` happened,
/// `who` did it (a staff member's name, or the person by their link),
/// `when` the call was (or is) and, for a move, from when.
pub fn consultation_event(
    kind: ConsultationEventKind,
    who: Option<&str>,
    when: &str,
    moved_from: Option<&str>,
) -> String {
    let by = match who {
        Some(name) => format!("by {name}"),
        None => "by the person, with the link of their confirmation".to_owned(),
    };
    match kind {
        ConsultationEventKind::Booked => match who {
            Some(name) => format!("Consultation booked for {when} by {name}"),
            None => format!("Consultation booked for {when} by the person, on the public page"),
        },
        ConsultationEventKind::Moved => format!(
            "Consultation moved from {} to {when} {by}",
            moved_from.unwrap_or("an earlier time")
        ),
        ConsultationEventKind::Cancelled => {
            format!("Consultation of {when} cancelled {by}; to call back")
        }
        ConsultationEventKind::NoShow => format!(
            "Consultation of {when} missed: the person was not reached (marked by {}); to call back",
            who.unwrap_or("staff")
        ),
        ConsultationEventKind::Held => format!(
            "Consultation of {when} held (marked by {})",
            who.unwrap_or("staff")
        ),
    }
}

/// Where the pain is, as stored; "not given" when nobody asked.
pub fn pain_area(stored: Option<&str>) -> &'static str {
    match stored.map(str::parse::<PainArea>) {
        Some(Ok(area)) => area.label(),
        Some(Err(())) => "not recognised",
        None => "not given",
    }
}

/// How long the pain has lasted, as stored; "not given" when nobody asked.
pub fn pain_duration(stored: Option<&str>) -> &'static str {
    match stored.map(str::parse::<PainDuration>) {
        Some(Ok(duration)) => duration.label(),
        Some(Err(())) => "not recognised",
        None => "not given",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_answers_read_not_given() {
        assert_eq!(pain_area(None), "not given");
        assert_eq!(pain_duration(None), "not given");
        assert_ne!(pain_area(Some("back")), "back");
        assert_ne!(pain_duration(Some("1-5-years")), "1-5-years");
    }

    #[test]
    fn no_status_reads_as_its_code() {
        for status in ConsultationStatus::ALL {
            assert_ne!(consultation_status(status), status.as_str());
        }
        for reason in CallbackReason::ALL {
            assert_ne!(callback_reason(reason), reason.as_str());
        }
    }
}
