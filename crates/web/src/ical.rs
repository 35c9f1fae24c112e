//! iCalendar (RFC 5545) for consultations: the .ics of a confirmation and
//! each staff member's feed. Times are written in UTC with `Z` (RFC 5545
//! §3.3.5 form #2), so no VTIMEZONE is needed and a daylight-saving change
//! cannot shift an event; calendar programs show them in their own zone.

use jiff::Timestamp;
use respite_domain::booking::ConsultationStatus;

/// One event.
pub struct Event {
    pub uid: String,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub summary: String,
    pub description: String,
    pub cancelled: bool,
    /// SEQUENCE (§3.8.7.4): raised by each move and by the cancellation, so
    /// that a calendar program takes this version over an earlier one of
    /// the same UID.
    pub sequence: i64,
}

/// The iTIP method of a calendar (RFC 5546 §1.4): an event published, or
/// its cancellation (§3.2.5: METHOD:CANCEL, the same UID, a higher
/// SEQUENCE, STATUS:CANCELLED).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Publish,
    Cancel,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Publish => "PUBLISH",
            Method::Cancel => "CANCEL",
        }
    }
}

/// The person's own event for their consultation: the `.ics` of the
/// confirmation page and of the confirmation e-mail.
pub fn person_event(clinic_name: &str, record: &respite_store::ConsultationRecord) -> Event {
    Event {
        uid: format!("consultation-{}@respite", record.id),
        starts_at: record.starts_at,
        ends_at: record.starts_at + jiff::SignedDuration::from_mins(record.minutes),
        summary: format!("Free phone consultation, {clinic_name}"),
        description: format!(
            "{} will call you. To change or cancel, use the link in your confirmation.",
            record.staff_name
        ),
        cancelled: record.status == ConsultationStatus::Cancelled,
        sequence: record.sequence,
    }
}

/// A VCALENDAR with `events`, CRLF line ends, long lines folded (§3.1).
pub fn calendar(name: &str, events: &[Event], now: Timestamp) -> String {
    calendar_with(name, Method::Publish, events, now)
}

/// A VCALENDAR of `method` with `events`.
pub fn calendar_with(name: &str, method: Method, events: &[Event], now: Timestamp) -> String {
    let mut lines = vec![
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//Respite//Consultations//EN".to_owned(),
        "CALSCALE:GREGORIAN".to_owned(),
        format!("METHOD:{}", method.as_str()),
        format!("X-WR-CALNAME:{}", text(name)),
    ];
    for event in events {
        lines.push("BEGIN:VEVENT".to_owned());
        lines.push(format!("UID:{}", text(&event.uid)));
        lines.push(format!("DTSTAMP:{}", utc(now)));
        lines.push(format!("SEQUENCE:{}", event.sequence));
        lines.push(format!("DTSTART:{}", utc(event.starts_at)));
        lines.push(format!("DTEND:{}", utc(event.ends_at)));
        lines.push(format!("SUMMARY:{}", text(&event.summary)));
        if !event.description.is_empty() {
            lines.push(format!("DESCRIPTION:{}", text(&event.description)));
        }
        let status = if event.cancelled {
            "CANCELLED"
        } else {
            "CONFIRMED"
        };
        lines.push(format!("STATUS:{status}"));
        lines.push("END:VEVENT".to_owned());
    }
    lines.push("END:VCALENDAR".to_owned());
    let mut out = String::new();
    for line in lines {
        fold(&line, &mut out);
    }
    out
}

fn utc(at: Timestamp) -> String {
    at.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// TEXT value escaping (§3.3.11).
fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds a content line at 75 octets, never inside a UTF-8 character.
fn fold(line: &str, out: &mut String) {
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_escaped_and_folded_at_75_octets() {
        let event = Event {
            uid: "consultation-1@respite".into(),
            starts_at: "2026-11-01T09:30Z".parse().unwrap(),
            ends_at: "2026-11-01T09:45Z".parse().unwrap(),
            summary: "Call; Ana, López".into(),
            description: "ü".repeat(60),
            cancelled: false,
            sequence: 0,
        };
        let ics = calendar("Feed", &[event], "2026-10-01T00:00Z".parse().unwrap());
        assert!(ics.contains("SUMMARY:Call\\; Ana\\, López\r\n"));
        assert!(ics.contains("DTSTART:20261101T093000Z\r\n"));
        for line in ics.split("\r\n") {
            assert!(line.len() <= 75, "{line}");
        }
    }

    #[test]
    fn a_cancellation_is_the_same_event_under_method_cancel() {
        let event = Event {
            uid: "consultation-7@respite".into(),
            starts_at: "2026-11-01T09:30Z".parse().unwrap(),
            ends_at: "2026-11-01T09:45Z".parse().unwrap(),
            summary: "Call".into(),
            description: String::new(),
            cancelled: true,
            sequence: 2,
        };
        let ics = calendar_with(
            "Feed",
            Method::Cancel,
            &[event],
            "2026-10-01T00:00Z".parse().unwrap(),
        );
        // RFC 5546 §3.2.5: METHOD:CANCEL, the UID, a SEQUENCE, STATUS:CANCELLED.
        for line in [
            "METHOD:CANCEL\r\n",
            "UID:consultation-7@respite\r\n",
            "SEQUENCE:2\r\n",
            "STATUS:CANCELLED\r\n",
        ] {
            assert!(ics.contains(line), "{line}: {ics}");
        }
        assert!(!ics.contains("METHOD:PUBLISH"));
    }
}
