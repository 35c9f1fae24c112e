//! The clinic as its public pages show it: name, telephone, e-mail,
//! address, opening hours and privacy notice — clinic settings, the
//! administrator's (SPEC §2). [`ClinicProfileForm`] holds what was typed;
//! [`ClinicProfileForm::validate`] turns it into a [`ClinicProfile`] or into
//! field errors that name the field and the rule.

use crate::contact::{Email, PhoneNumber};
use crate::inquiry::FieldError;
use crate::person_name::{is_invisible_or_control, PersonName};

/// The longest address, in characters.
pub const ADDRESS_MAX_CHARS: usize = 300;
/// The longest opening hours text, in characters.
pub const HOURS_MAX_CHARS: usize = 500;
/// The longest privacy notice, in characters.
pub const PRIVACY_NOTICE_MAX_CHARS: usize = 8000;

/// The privacy notice of a clinic that has not written its own: what the
/// product does with what a visitor sends (SPEC §1 step 1, §2 roles, §1
/// step 7 audit). A clinic replaces it in its settings.
pub const DEFAULT_PRIVACY_NOTICE: &str = "We use what you send us (your name, how to reach you and what you tell us about your pain) only to answer you, to arrange your care and as the law requires. We never sell it or use it for advertising.

Your health information is protected under HIPAA. Staff see only what their work needs, and every look at a record is logged.

You may ask for a copy of what we hold about you, ask us to correct it, or ask us to stop contacting you at any time: reply STOP to a text, or call or write to the front desk. Our full Notice of Privacy Practices is available at the front desk.";

/// A clinic's public details that passed the rules below.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClinicProfile {
    pub name: String,
    pub phone: Option<PhoneNumber>,
    pub email: Option<Email>,
    /// One line per line of the postal address.
    pub address: String,
    /// One line per line as the clinic writes it, e.g. "Monday to Friday, 8 am to 5 pm".
    pub hours: String,
    /// Paragraphs separated by a blank line; the first is shown on every
    /// public page, the whole on the privacy page.
    pub privacy_notice: String,
}

/// The settings form as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClinicProfileForm {
    pub name: String,
    pub phone: String,
    pub email: String,
    pub address: String,
    pub hours: String,
    pub privacy_notice: String,
}

impl ClinicProfileForm {
    /// Checks every field and reports every error at once, in the order of
    /// the form. A phone number without a country code is read in
    /// `clinic_region`.
    pub fn validate(&self, clinic_region: &str) -> Result<ClinicProfile, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = match PersonName::parse(&self.name) {
            Ok(name) => name.into_string(),
            Err(err) => {
                errors.push(FieldError {
                    field: "name",
                    message: format!("{err}: the clinic's name as people know it"),
                });
                String::new()
            }
        };
        let phone = if self.phone.trim().is_empty() {
            None
        } else {
            PhoneNumber::parse(&self.phone, clinic_region)
                .map_err(|err| {
                    errors.push(FieldError {
                        field: "phone",
                        message: err.to_string(),
                    })
                })
                .ok()
        };
        let email = if self.email.trim().is_empty() {
            None
        } else {
            Email::parse(&self.email)
                .map_err(|err| {
                    errors.push(FieldError {
                        field: "email",
                        message: err.to_string(),
                    })
                })
                .ok()
        };
        let address = text_field("address", &self.address, ADDRESS_MAX_CHARS, &mut errors);
        let hours = text_field("hours", &self.hours, HOURS_MAX_CHARS, &mut errors);
        let privacy_notice = text_field(
            "privacy_notice",
            &self.privacy_notice,
            PRIVACY_NOTICE_MAX_CHARS,
            &mut errors,
        );
        if privacy_notice.is_empty() && !errors.iter().any(|e| e.field == "privacy_notice") {
            errors.push(FieldError {
                field: "privacy_notice",
                message: "is required: the public pages show it to every visitor".into(),
            });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ClinicProfile {
            name,
            phone,
            email,
            address,
            hours,
            privacy_notice,
        })
    }
}

impl From<&ClinicProfile> for ClinicProfileForm {
    fn from(profile: &ClinicProfile) -> ClinicProfileForm {
        ClinicProfileForm {
            name: profile.name.clone(),
            phone: profile
                .phone
                .as_ref()
                .map(|p| p.as_e164().to_owned())
                .unwrap_or_default(),
            email: profile
                .email
                .as_ref()
                .map(|e| e.as_str().to_owned())
                .unwrap_or_default(),
            address: profile.address.clone(),
            hours: profile.hours.clone(),
            privacy_notice: profile.privacy_notice.clone(),
        }
    }
}

/// Multi-line text: trimmed, line endings made `\n`, trailing space of each
/// line dropped, at most `max` characters, no control or invisible
/// formatting characters other than the line breaks.
fn text_field(
    field: &'static str,
    typed: &str,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> String {
    let text = typed
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_owned();
    if text.chars().count() > max {
        errors.push(FieldError {
            field,
            message: format!("must be at most {max} characters"),
        });
        return String::new();
    }
    if let Some(c) = text
        .chars()
        .find(|&c| c != '\n' && is_invisible_or_control(c))
    {
        errors.push(FieldError {
            field,
            message: format!(
                "must not contain control or invisible formatting characters (found U+{:04X})",
                u32::from(c)
            ),
        });
        return String::new();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> ClinicProfileForm {
        ClinicProfileForm {
            name: "  Lakeside Pain Clinic ".into(),
            phone: "(312) 555-0147".into(),
            email: "Front.Desk@Lakeside.EXAMPLE".into(),
            address: "1 Main St\r\nSuite 2  \r\nChicago, IL 60601\r\n".into(),
            hours: "Monday to Friday, 8 am to 5 pm".into(),
            privacy_notice: "We keep what you tell us private.".into(),
        }
    }

    fn fields(form: &ClinicProfileForm) -> Vec<&'static str> {
        match form.validate("US") {
            Ok(_) => vec![],
            Err(errors) => errors.iter().map(|e| e.field).collect(),
        }
    }

    #[test]
    fn a_complete_form_is_accepted_and_normalised() {
        let profile = form().validate("US").unwrap();
        assert_eq!(profile.name, "Lakeside Pain Clinic");
        assert_eq!(profile.phone.unwrap().as_e164(), "+13125550147");
        assert_eq!(
            profile.email.unwrap().as_str(),
            "Front.Desk@lakeside.example"
        );
        assert_eq!(profile.address, "1 Main St\nSuite 2\nChicago, IL 60601");
    }

    #[test]
    fn contacts_are_optional_but_the_name_and_notice_are_not() {
        let empty = ClinicProfileForm {
            phone: String::new(),
            email: String::new(),
            address: String::new(),
            hours: String::new(),
            ..form()
        };
        assert!(empty.validate("US").is_ok());
        let nameless = ClinicProfileForm {
            name: " ".into(),
            privacy_notice: String::new(),
            ..form()
        };
        assert_eq!(fields(&nameless), ["name", "privacy_notice"]);
    }

    #[test]
    fn each_field_names_its_rule() {
        let bad = ClinicProfileForm {
            phone: "12".into(),
            email: "nobody".into(),
            address: "x".repeat(ADDRESS_MAX_CHARS + 1),
            hours: "Mon\u{202E}Fri".into(),
            ..form()
        };
        assert_eq!(fields(&bad), ["phone", "email", "address", "hours"]);
    }
}
