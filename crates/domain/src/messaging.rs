//! Messages between the clinic and a person: the channels a message travels
//! by, the SMS keywords people use to stop and restart texts, and consent.

use std::fmt;

/// A channel a message or call travels by (the web form is not one: it is
/// an inquiry, not a message).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageChannel {
    Sms,
    Voice,
    Email,
}

impl MessageChannel {
    pub const ALL: [MessageChannel; 3] = [
        MessageChannel::Sms,
        MessageChannel::Voice,
        MessageChannel::Email,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MessageChannel::Sms => "sms",
            MessageChannel::Voice => "voice",
            MessageChannel::Email => "email",
        }
    }

    pub fn parse(text: &str) -> Option<MessageChannel> {
        MessageChannel::ALL
            .into_iter()
            .find(|channel| channel.as_str() == text)
    }
}

impl fmt::Display for MessageChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A keyword that, sent alone in a text, changes what the clinic may send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmsKeyword {
    /// Opt out of every further text.
    Stop,
    /// Opt in again after a stop.
    Start,
    /// Ask who is texting and how to reach them.
    Help,
}

impl SmsKeyword {
    /// The keyword a text consists of, if any. Case and surrounding
    /// whitespace and punctuation do not matter; a keyword inside a sentence
    /// is not one ("please don't stop calling" is a message). The words are
    /// Twilio's default opt-out, opt-in and help keywords (Twilio, "Twilio
    /// support for opt-out keywords (SMS STOP filtering)"), which follow the
    /// CTIA Messaging Principles and Best Practices (2019), §5.
    pub fn parse(body: &str) -> Option<SmsKeyword> {
        let word = body
            .trim()
            .trim_matches(|c: char| c.is_ascii_punctuation() || c.is_whitespace())
            .to_ascii_uppercase();
        match word.as_str() {
            "STOP" | "STOPALL" | "UNSUBSCRIBE" | "CANCEL" | "END" | "QUIT" | "OPTOUT"
            | "REVOKE" => Some(SmsKeyword::Stop),
            "START" | "UNSTOP" | "YES" => Some(SmsKeyword::Start),
            "HELP" | "INFO" => Some(SmsKeyword::Help),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_whole_texts_in_any_case() {
        let check = |body: &str, expected: Option<SmsKeyword>| {
            assert_eq!(SmsKeyword::parse(body), expected, "{body:?}");
        };
        check("STOP", Some(SmsKeyword::Stop));
        check(" stop. ", Some(SmsKeyword::Stop));
        check("Unsubscribe", Some(SmsKeyword::Stop));
        check("STOPALL", Some(SmsKeyword::Stop));
        check("cancel", Some(SmsKeyword::Stop));
        check("end", Some(SmsKeyword::Stop));
        check("quit", Some(SmsKeyword::Stop));
        check("start", Some(SmsKeyword::Start));
        check("UNSTOP", Some(SmsKeyword::Start));
        check("yes", Some(SmsKeyword::Start));
        check("help", Some(SmsKeyword::Help));
        check("please don't stop calling", None);
        check("stop the pain", None);
        check("", None);
    }

    #[test]
    fn channels_round_trip() {
        for channel in MessageChannel::ALL {
            assert_eq!(MessageChannel::parse(channel.as_str()), Some(channel));
        }
        assert_eq!(MessageChannel::parse("fax"), None);
    }
}
