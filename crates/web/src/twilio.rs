//! Twilio's webhook signature and TwiML replies.
//!
//! The signature (Twilio, "Webhooks security", section "Validating signatures
//! from Twilio"): take the full URL of the request, append each POST
//! parameter's name and value, the parameters sorted by name (and, for a
//! repeated name, by value, as Twilio's own validators do), with no
//! separators; sign that string with HMAC-SHA1 keyed by the account's auth
//! token; Base64-encode the digest. It arrives in `X-Twilio-Signature`.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// The header Twilio puts its signature in.
pub const SIGNATURE_HEADER: &str = "x-twilio-signature";

/// The signature Twilio computes for a request to `url` with `params`.
pub fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut mac = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Whether `given` is the signature of this request, compared in constant
/// time.
pub fn verify(auth_token: &str, url: &str, params: &[(String, String)], given: &str) -> bool {
    let expected = signature(auth_token, url, params);
    let (a, b) = (expected.as_bytes(), given.trim().as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A TwiML document: `<Response>` around `verbs` (already TwiML).
pub fn response(verbs: &str) -> String {
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>{verbs}</Response>")
}

/// `<Message>` with `text`, escaped.
pub fn message(text: &str) -> String {
    format!("<Message>{}</Message>", xml_escape(text))
}

/// `<Say>` with `text`, escaped.
pub fn say(text: &str) -> String {
    format!("<Say>{}</Say>", xml_escape(text))
}

pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// Twilio's published example: the request validator tests of the
    /// official twilio-python library (tests/unit/test_request_validator.py),
    /// auth token "12345", the same URL and parameters, and the signatures
    /// Twilio's own code expects.
    #[test]
    fn signatures_match_twilios_published_examples() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let call = params(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
            ("Caller", "+14158675309"),
        ]);
        let check = |url: &str, params: &[(String, String)], expected: &str| {
            assert_eq!(signature("12345", url, params), expected, "{url}");
            assert!(verify("12345", url, params, expected));
        };
        check(url, &call, "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
        // The same URL with the default port written out.
        check(
            "https://mycompany.com:443/myapp.php?foo=1&bar=2",
            &call,
            "kvajT1Ptam85bY51eRf/AJRuM3w=",
        );
        check(
            "http://mycompany.com:80/myapp.php?foo=1&bar=2",
            &call,
            "0ZXoZLH/DfblKGATFgpif+LLRf4=",
        );
        // A repeated parameter name: values sorted too.
        let repeated = params(&[
            ("Sid", "CA123"),
            ("SidAccount", "AC123"),
            ("Digits", "5678"),
            ("Digits", "1234"),
        ]);
        check(url, &repeated, "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
    }

    #[test]
    fn a_changed_parameter_token_or_url_fails() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let mut call = params(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
            ("Caller", "+14158675309"),
        ]);
        let good = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
        assert!(!verify("12346", url, &call, good));
        assert!(!verify(
            "12345",
            "https://mycompany.com/myapp.php",
            &call,
            good
        ));
        assert!(!verify("12345", url, &call, ""));
        call[1].1 = "1235".into();
        assert!(!verify("12345", url, &call, good));
    }

    #[test]
    fn twiml_text_is_escaped() {
        assert_eq!(
            message("A & B <clinic>"),
            "<Message>A &amp; B &lt;clinic&gt;</Message>"
        );
    }
}
