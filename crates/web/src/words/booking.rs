//! Words for the booking pages: a consultation's status as the person reads
//! it, and what happened to it in a person's thread. Statuses, callback
//! reasons and the pain's "not given" are shared: see [`super::common`].

use respite_domain::booking::{ConsultationEventKind, ConsultationStatus};

/// What a person reads for their own consultation's status.
pub fn consultation_status_for_person(status: ConsultationStatus) -> &'static str {
    match status {
        ConsultationStatus::Booked => "booked",
        ConsultationStatus::Held => "held",
        ConsultationStatus::NoShow => "missed",
        ConsultationStatus::Cancelled => "cancelled",
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::words::common::{callback_reason, consultation_status, pain_area, pain_duration};
    use respite_domain::thread::CallbackReason;

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
