//! A raw e-mail read into what an inquiry needs.
//!
//! Decisions: the text is the first text/plain part; a message with only
//! HTML is converted to text crudely (mail-parser's `body_text` strips the
//! tags), which keeps every word a person wrote; a message with no text at
//! all (only attachments, or empty) is refused with
//! [`InboundError::NoTextPart`] and nothing is stored. The subject is kept
//! as the first line of the stored body (`Subject: …`), since the thread has
//! one body per message.

use mail_parser::{Address, MessageParser};
use respite_domain::{Email, PhoneNumber};

/// An inbound e-mail, ready for the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboundEmail {
    pub from: Email,
    pub subject: String,
    pub text: String,
    /// The Message-ID without angle brackets, when the message has one.
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    /// Phone numbers written in the subject or text, E.164, in order, once.
    pub phones: Vec<PhoneNumber>,
}

impl InboundEmail {
    /// The body the thread stores: subject line, blank line, text.
    pub fn thread_body(&self) -> String {
        format!("Subject: {}\n\n{}", self.subject, self.text.trim())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InboundError {
    #[error("message: not an RFC 5322 message (no header could be read)")]
    Unreadable,
    #[error("from: the message has no sender address")]
    NoSender,
    #[error("from: the sender address is not a valid e-mail address")]
    BadSender,
    #[error(
        "body: the message has no text part (neither text/plain nor text/html); nothing was stored"
    )]
    NoTextPart,
}

/// Reads `raw`; phone numbers without a country code are read in
/// `region` (ISO 3166-1 alpha-2).
pub fn parse(raw: &[u8], region: &str) -> Result<InboundEmail, InboundError> {
    let message = MessageParser::default()
        .parse(raw)
        .ok_or(InboundError::Unreadable)?;
    if message.headers().is_empty() {
        return Err(InboundError::Unreadable);
    }
    let sender = message
        .from()
        .and_then(first_address)
        .ok_or(InboundError::NoSender)?;
    let from = Email::parse(sender).map_err(|_| InboundError::BadSender)?;
    let subject = message.subject().unwrap_or("").trim().to_owned();
    let text = message
        .body_text(0)
        .map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty())
        .ok_or(InboundError::NoTextPart)?;
    let message_id = message.message_id().map(str::to_owned);
    let in_reply_to = message.in_reply_to().as_text().map(str::to_owned);
    let mut phones = phone_numbers(&subject, region);
    for phone in phone_numbers(&text, region) {
        if !phones.contains(&phone) {
            phones.push(phone);
        }
    }
    Ok(InboundEmail {
        from,
        subject,
        text,
        message_id,
        in_reply_to,
        phones,
    })
}

fn first_address<'a>(address: &'a Address<'a>) -> Option<&'a str> {
    address.first().and_then(|a| a.address())
}

/// The phone numbers in `text`: each run of digits and the characters
/// people write between them (`+ ( ) - . space`) with 7 to 15 digits
/// (E.164's maximum) that `PhoneNumber::parse` accepts.
pub fn phone_numbers(text: &str, region: &str) -> Vec<PhoneNumber> {
    let mut found: Vec<PhoneNumber> = Vec::new();
    let mut run = String::new();
    let mut flush = |run: &mut String| {
        let candidate = run.trim_matches(|c: char| !(c.is_ascii_digit() || c == '+' || c == '('));
        let digits = candidate.chars().filter(char::is_ascii_digit).count();
        if (7..=15).contains(&digits) {
            if let Ok(phone) = PhoneNumber::parse(candidate, region) {
                if !found.contains(&phone) {
                    found.push(phone);
                }
            }
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() || matches!(c, '+' | '(' | ')' | '-' | '.' | ' ') {
            run.push(c);
        } else {
            flush(&mut run);
        }
    }
    flush(&mut run);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    type Expected<'a> =
        Result<(&'a str, &'a str, &'a str, Option<&'a str>, &'a [&'a str]), InboundError>;

    fn check(raw: &str, expected: Expected<'_>) {
        let got = parse(raw.as_bytes(), "US").map(|m| {
            (
                m.from.as_str().to_owned(),
                m.subject,
                m.text,
                m.message_id,
                m.phones
                    .iter()
                    .map(|p| p.as_e164().to_owned())
                    .collect::<Vec<_>>(),
            )
        });
        let expected = expected.map(|(from, subject, text, id, phones)| {
            (
                from.to_owned(),
                subject.to_owned(),
                text.to_owned(),
                id.map(str::to_owned),
                phones.iter().map(|p| (*p).to_owned()).collect::<Vec<_>>(),
            )
        });
        assert_eq!(got, expected, "{raw}");
    }

    #[test]
    fn messages_read_into_inquiry_facts() {
        check(
            "From: Ann Lee <ann@example.org>\r\nSubject: Back pain\r\nMessage-ID: <a1@example.org>\r\n\r\nPlease call me at (415) 555-2671 after 5.\r\n",
            Ok(("ann@example.org", "Back pain", "Please call me at (415) 555-2671 after 5.", Some("a1@example.org"), &["+14155552671"])),
        );
        check(
            "From: b@example.org\r\nSubject: Hi\r\nMIME-Version: 1.0\r\nContent-Type: text/html\r\n\r\n<p>Call <b>+44 20 7946 0958</b></p>\r\n",
            Ok(("b@example.org", "Hi", "Call +44 20 7946 0958", None, &["+442079460958"])),
        );
        check(
            "From: c@example.org\r\nSubject: only a file\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n",
            Err(InboundError::NoTextPart),
        );
        check(
            "Subject: nobody\r\n\r\nhello\r\n",
            Err(InboundError::NoSender),
        );
        check(
            "From: not an address\r\n\r\nhello\r\n",
            Err(InboundError::NoSender),
        );
        check("From: x@\r\n\r\nhello\r\n", Err(InboundError::BadSender));
    }

    #[test]
    fn short_digit_runs_are_not_phone_numbers() {
        let phones = phone_numbers("pain 7/10 since 2019, ref 12345", "US");
        assert!(phones.is_empty(), "{phones:?}");
    }
}
