//! Words for the public pages: the clinic around every page (name, phone,
//! e-mail, address, hours, privacy notice), written for people from the
//! clinic settings, and the public wording of a refused form field.

use respite_domain::clinic::{ClinicProfile, DEFAULT_PRIVACY_NOTICE};
use respite_store::ClinicProfileRecord;

/// The clinic as every public page shows it (`public_base.html`).
#[derive(Clone, Debug)]
pub struct ClinicFacts {
    pub name: String,
    /// The number as people write it, e.g. "(503) 555-0100".
    pub phone: Option<String>,
    /// The same number for a `tel:` link (E.164).
    pub phone_link: Option<String>,
    pub email: Option<String>,
    pub address_lines: Vec<String>,
    pub hours_lines: Vec<String>,
    /// The privacy notice's paragraphs; the first is on every page.
    pub privacy: Vec<String>,
}

impl ClinicFacts {
    /// The stored settings, or, until an administrator saves them, the
    /// configured name, no contact details and the product's own notice.
    pub fn from_settings(
        stored: Option<&ClinicProfileRecord>,
        configured_name: &str,
        clinic_region: &str,
    ) -> ClinicFacts {
        match stored {
            Some(record) => ClinicFacts::of(&record.profile, clinic_region),
            None => ClinicFacts {
                name: configured_name.to_owned(),
                phone: None,
                phone_link: None,
                email: None,
                address_lines: Vec::new(),
                hours_lines: Vec::new(),
                privacy: paragraphs(DEFAULT_PRIVACY_NOTICE),
            },
        }
    }

    fn of(profile: &ClinicProfile, clinic_region: &str) -> ClinicFacts {
        ClinicFacts {
            name: profile.name.clone(),
            phone: profile.phone.as_ref().map(|p| p.for_people(clinic_region)),
            phone_link: profile.phone.as_ref().map(|p| p.as_e164().to_owned()),
            email: profile.email.as_ref().map(|e| e.as_str().to_owned()),
            address_lines: lines(&profile.address),
            hours_lines: lines(&profile.hours),
            privacy: paragraphs(&profile.privacy_notice),
        }
    }

    /// The first paragraph of the privacy notice, for every page's footer.
    pub fn privacy_summary(&self) -> &str {
        self.privacy.first().map_or("", String::as_str)
    }

    /// Whether the clinic gave any way to reach it besides the forms.
    pub fn has_contacts(&self) -> bool {
        self.phone.is_some() || self.email.is_some() || !self.address_lines.is_empty()
    }
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Paragraphs separated by a blank line, each one line.
pub fn paragraphs(text: &str) -> Vec<String> {
    text.replace("\r\n", "\n")
        .split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect()
}

/// The name of a form field as the public pages say it, for an error
/// summary that leads to the field ("Choose a time", not "slot"). The
/// field's own name stays in the markup (`data-field`, the link's target).
pub fn field_label(field: &str) -> &str {
    match field {
        "slot" => "Choose a time",
        "name" => "Your name",
        "phone" => "Phone",
        "email" => "E-mail",
        "consent" => "Permission to contact you",
        "time_zone" => "Time zone",
        "token" => "Your booking link",
        "source" => "Bookings from this connection",
        "preferred_channel" => "How should we reach you?",
        "window_days" | "window_start" | "window_end" | "windows" => "Best time to reach you",
        "pain_area" => "Where is the pain?",
        "pain_duration" => "How long has it lasted?",
        "message" => "Your message",
        "address" => "Address",
        "hours" => "Opening hours",
        "privacy_notice" => "Privacy notice",
        "inquiry" => "Inquiry",
        "status" => "Status",
        "contact" => "Contact",
        "callback" => "Callback",
        "consultation_note" => "Consultation note",
        "closed_reason" => "Reason for closing",
        "weekday" => "Weekday",
        "day" => "Day",
        "starts" => "Start",
        "outcome" => "Outcome",
        "body" => "Message",
        "subject" => "Subject",
        "given_name" => "Given name",
        "family_name" => "Family name",
        "birth_date" => "Date of birth",
        "sex" => "Sex",
        "note" => "Note",
        "form" => "Form",
        other => crate::words::register::field_label(other),
    }
}

/// Where on the booking page the error summary's link for `field` leads:
/// the field itself, or the nearest thing to it.
pub fn field_anchor(field: &str) -> &str {
    match field {
        "slot" => "slots",
        "time_zone" => "zone",
        "source" | "token" | "inquiry" => "book",
        other => other,
    }
}

/// A refusal written for people: the rule with its first letter raised
/// ("this time was just taken…" → "This time was just taken…").
pub fn sentence(message: &str) -> String {
    super::common::capitalised(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_are_split_on_blank_lines_and_joined_within() {
        assert_eq!(
            paragraphs("One\nline.\n\n\nTwo."),
            vec!["One line.".to_owned(), "Two.".to_owned()]
        );
    }

    #[test]
    fn refusals_read_as_sentences_with_the_field_in_words() {
        assert_eq!(field_label("slot"), "Choose a time");
        assert_eq!(sentence("this time was taken"), "This time was taken");
    }
}
