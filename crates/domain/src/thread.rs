//! A person's thread: the one inquiry every way in (web form, public
//! booking, text, call, e-mail) joins while it is open (SPEC §1 step 1), its
//! status, why it closed, why someone is to be called back, and the rule for
//! when a contact is the thread's own person.

use std::fmt;

use crate::contact::{Email, PhoneNumber};
use crate::inquiry::ContactWindow;

/// Where a thread stands in the front-door queue (SPEC §1 step 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InquiryStatus {
    New,
    Contacted,
    ConsultationBooked,
    Closed,
}

impl InquiryStatus {
    pub const ALL: [InquiryStatus; 4] = [
        InquiryStatus::New,
        InquiryStatus::Contacted,
        InquiryStatus::ConsultationBooked,
        InquiryStatus::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InquiryStatus::New => "new",
            InquiryStatus::Contacted => "contacted",
            InquiryStatus::ConsultationBooked => "consultation-booked",
            InquiryStatus::Closed => "closed",
        }
    }

    /// Reads a status written by [`InquiryStatus::as_str`].
    pub fn parse(text: &str) -> Option<InquiryStatus> {
        InquiryStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether a callback attempt still moves the thread on: it is neither
    /// booked nor closed.
    pub fn awaits_contact(self) -> bool {
        matches!(self, InquiryStatus::New | InquiryStatus::Contacted)
    }
}

impl fmt::Display for InquiryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Compares with the stored word, so that `status == "closed"` reads as
/// the stored text does.
impl PartialEq<&str> for InquiryStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Why a thread was closed (SPEC §1 step 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClosedReason {
    Booked,
    NotACandidate,
    NoAnswer,
    AskedToStop,
}

impl ClosedReason {
    pub const ALL: [ClosedReason; 4] = [
        ClosedReason::Booked,
        ClosedReason::NotACandidate,
        ClosedReason::NoAnswer,
        ClosedReason::AskedToStop,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ClosedReason::Booked => "booked",
            ClosedReason::NotACandidate => "not-a-candidate",
            ClosedReason::NoAnswer => "no-answer",
            ClosedReason::AskedToStop => "asked-to-stop",
        }
    }

    pub fn parse(text: &str) -> Option<ClosedReason> {
        ClosedReason::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

/// Why someone is to be called back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CallbackReason {
    Inquiry,
    MissedCall,
    Voicemail,
    /// The person's consultation was cancelled (by them or by the clinic):
    /// someone calls to find a new time (SPEC §1 step 2, nobody lost).
    CancelledConsultation,
    /// The person was not reached at their consultation.
    MissedConsultation,
}

impl CallbackReason {
    pub const ALL: [CallbackReason; 5] = [
        CallbackReason::Inquiry,
        CallbackReason::MissedCall,
        CallbackReason::Voicemail,
        CallbackReason::CancelledConsultation,
        CallbackReason::MissedConsultation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CallbackReason::Inquiry => "inquiry",
            CallbackReason::MissedCall => "missed-call",
            CallbackReason::Voicemail => "voicemail",
            CallbackReason::CancelledConsultation => "cancelled-consultation",
            CallbackReason::MissedConsultation => "missed-consultation",
        }
    }

    pub fn parse(text: &str) -> Option<CallbackReason> {
        CallbackReason::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

impl fmt::Display for CallbackReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a person can be reached: the key of their thread.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ContactAddress {
    Phone(PhoneNumber),
    Email(Email),
}

impl ContactAddress {
    pub fn as_str(&self) -> &str {
        match self {
            ContactAddress::Phone(phone) => phone.as_e164(),
            ContactAddress::Email(email) => email.as_str(),
        }
    }

    /// `phone` or `email`: the thread's field this address would fill.
    pub fn kind(&self) -> &'static str {
        match self {
            ContactAddress::Phone(_) => "phone",
            ContactAddress::Email(_) => "email",
        }
    }
}

/// Whether `name` is the thread's own (`thread_name`), ignoring case and
/// spacing. Only a contact that gives the thread's own name may rewrite its
/// details (best times, time zone, pain): a number typed by mistake must not
/// rewrite someone else's thread.
pub fn same_person(thread_name: &str, name: &str) -> bool {
    let fold = |text: &str| {
        text.split_whitespace()
            .map(str::to_lowercase)
            .collect::<Vec<_>>()
            .join(" ")
    };
    fold(thread_name) == fold(name)
}

/// The best times as stored and shown, e.g.
/// `weekdays 17:00-19:00; weekends 10:00-12:00`.
pub fn windows_text(windows: &[ContactWindow]) -> String {
    windows
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_words_round_trip() {
        for status in InquiryStatus::ALL {
            assert_eq!(InquiryStatus::parse(status.as_str()), Some(status));
        }
        for reason in ClosedReason::ALL {
            assert_eq!(ClosedReason::parse(reason.as_str()), Some(reason));
        }
        for reason in CallbackReason::ALL {
            assert_eq!(CallbackReason::parse(reason.as_str()), Some(reason));
        }
        assert_eq!(InquiryStatus::parse("open"), None);
        assert!(InquiryStatus::Closed == "closed");
    }

    #[test]
    fn the_same_person_ignores_case_and_spacing_only() {
        assert!(same_person("Ana López", " ana   LÓPEZ "));
        assert!(!same_person("Ana López", "Ana Lopez"));
        assert!(!same_person("Ana López", "Carl Doe"));
    }
}
