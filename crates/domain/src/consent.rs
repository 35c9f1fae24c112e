//! Consent to be contacted, per address and channel: what each way in
//! implies, and what STOP and START do. The store records these decisions
//! (append-only, the latest in force); the senders check them. The SPEC is
//! silent on implied consent, so the policy is written down here and in
//! docs/ARCHITECTURE.md ("Consent"):
//!
//! - the web form's (or public booking's) consent box grants texts and calls
//!   to the number it gives and e-mail to the address it gives — for a
//!   thread it opens; a contact that joins an existing thread changes no
//!   consent (SPEC §5: details from an unauthenticated channel are not
//!   trusted for someone else's thread);
//! - texting, calling or e-mailing the clinic implies consent to an answer
//!   on that channel, unless a decision is recorded already (a "hello" after
//!   STOP does not undo the STOP);
//! - STOP withdraws consent to texts and opts the number out; START grants
//!   it again and opts it back in; HELP changes nothing;
//! - an address staff confirmed with the person on a call is granted
//!   consent with the source [`STAFF_VERIFIED`].

use crate::contact::{Email, PhoneNumber};
use crate::messaging::{MessageChannel, SmsKeyword};
use crate::thread::ContactAddress;

/// The source recorded for the consent box of the web form and booking.
pub const WEB_FORM: &str = "web form";
/// The source recorded for an address staff confirmed with the person.
pub const STAFF_VERIFIED: &str = "staff-verified";

/// What an inbound message does to the person's consent on its channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsentEffect {
    /// Nothing.
    Unchanged,
    /// Contacting the clinic on a channel consents to an answer on it,
    /// unless a consent decision is recorded already.
    ImpliedByContact,
    /// Withdraws consent; on SMS also opts the number out (STOP).
    Withdraw,
    /// Grants consent; on SMS also opts the number in again (START).
    Grant,
}

/// The consent change an inbound message brings, and where it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InboundConsent {
    pub effect: ConsentEffect,
    /// Recorded with the decision, e.g. `text keyword STOP`.
    pub source: &'static str,
}

impl InboundConsent {
    /// What a message on `channel` with `body` implies: a text is read for
    /// the SMS keywords; a call or an e-mail implies consent to an answer.
    pub fn of(channel: MessageChannel, body: &str) -> InboundConsent {
        let (effect, source) = match channel {
            MessageChannel::Sms => match SmsKeyword::parse(body) {
                Some(SmsKeyword::Stop) => (ConsentEffect::Withdraw, "text keyword STOP"),
                Some(SmsKeyword::Start) => (ConsentEffect::Grant, "text keyword START"),
                Some(SmsKeyword::Help) => (ConsentEffect::Unchanged, ""),
                None => (ConsentEffect::ImpliedByContact, "texted the clinic"),
            },
            MessageChannel::Voice => (ConsentEffect::ImpliedByContact, "called the clinic"),
            MessageChannel::Email => (ConsentEffect::ImpliedByContact, "e-mail to the clinic"),
        };
        InboundConsent { effect, source }
    }

    /// The decision to record, given whether one is recorded already for
    /// the address and channel: `None` records nothing.
    pub fn decision(self, already_decided: bool) -> Option<bool> {
        match self.effect {
            ConsentEffect::Unchanged => None,
            ConsentEffect::ImpliedByContact if already_decided => None,
            ConsentEffect::ImpliedByContact | ConsentEffect::Grant => Some(true),
            ConsentEffect::Withdraw => Some(false),
        }
    }

    /// For a text: `Some(true)` opts the number out, `Some(false)` back in;
    /// `None` leaves the opt-out list alone.
    pub fn sms_opt_out(self, channel: MessageChannel) -> Option<bool> {
        if channel != MessageChannel::Sms {
            return None;
        }
        match self.effect {
            ConsentEffect::Withdraw => Some(true),
            ConsentEffect::Grant => Some(false),
            ConsentEffect::Unchanged | ConsentEffect::ImpliedByContact => None,
        }
    }
}

/// The consents the form's consent box grants: texts and calls to its
/// number, e-mail to its address; nothing without the box.
pub fn form_grants(
    consent_box: bool,
    phone: Option<&PhoneNumber>,
    email: Option<&Email>,
) -> Vec<(ContactAddress, MessageChannel)> {
    if !consent_box {
        return Vec::new();
    }
    let mut grants = Vec::new();
    if let Some(phone) = phone {
        for channel in [MessageChannel::Sms, MessageChannel::Voice] {
            grants.push((ContactAddress::Phone(phone.clone()), channel));
        }
    }
    if let Some(email) = email {
        grants.push((ContactAddress::Email(email.clone()), MessageChannel::Email));
    }
    grants
}

/// The consents staff record when they confirm a new address with the
/// person on a call: every channel the address serves.
pub fn verified_grants(address: &ContactAddress) -> Vec<MessageChannel> {
    match address {
        ContactAddress::Phone(_) => vec![MessageChannel::Sms, MessageChannel::Voice],
        ContactAddress::Email(_) => vec![MessageChannel::Email],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_way_in_implies_what_the_policy_says() {
        let check = |channel, body: &str, effect, source| {
            let consent = InboundConsent::of(channel, body);
            assert_eq!((consent.effect, consent.source), (effect, source), "{body}");
        };
        use ConsentEffect::*;
        use MessageChannel::*;
        check(Sms, "STOP", Withdraw, "text keyword STOP");
        check(Sms, "start", Grant, "text keyword START");
        check(Sms, "help", Unchanged, "");
        check(Sms, "hello", ImpliedByContact, "texted the clinic");
        check(Voice, "Missed call", ImpliedByContact, "called the clinic");
        check(Email, "STOP", ImpliedByContact, "e-mail to the clinic");
    }

    #[test]
    fn implied_consent_never_overrides_a_recorded_decision() {
        let hello = InboundConsent::of(MessageChannel::Sms, "hello");
        assert_eq!(hello.decision(false), Some(true));
        assert_eq!(hello.decision(true), None);
        let stop = InboundConsent::of(MessageChannel::Sms, "stop");
        assert_eq!(stop.decision(true), Some(false));
        assert_eq!(stop.sms_opt_out(MessageChannel::Sms), Some(true));
        assert_eq!(hello.sms_opt_out(MessageChannel::Sms), None);
    }

    #[test]
    fn the_form_grants_only_with_its_box() {
        let phone = PhoneNumber::parse("+15035550123", "US").unwrap();
        let email = Email::parse("ana@example.org").unwrap();
        assert!(form_grants(false, Some(&phone), Some(&email)).is_empty());
        let grants = form_grants(true, Some(&phone), Some(&email));
        let channels: Vec<_> = grants.iter().map(|(_, c)| c.as_str()).collect();
        assert_eq!(channels, ["sms", "voice", "email"]);
    }
}
