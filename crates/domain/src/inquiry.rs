//! An inquiry: a person in pain asking the clinic for help (SPEC §1 step 1).
//! `InquiryForm` holds what was typed; `InquiryForm::validate` turns it into a
//! `NewInquiry` or into field errors that name the field and the rule.

use std::fmt;
use std::str::FromStr;

use jiff::civil::Time;

use crate::contact::{Email, PhoneNumber};
use crate::person_name::{NameError, PersonName};

/// How an inquiry reached the clinic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Web,
    Email,
    Sms,
    Voice,
}

/// How the person would like to be contacted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PreferredChannel {
    Phone,
    Text,
    Email,
}

/// Where it hurts, in the words a person uses. The clinician codes the
/// diagnosis later (ICD-10-CM); this is only the person's own account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PainArea {
    Back,
    Headache,
    Joints,
    Fibromyalgia,
    Endometriosis,
    Crps,
    Other,
}

/// How long the pain has lasted, as the person tells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PainDuration {
    UnderThreeMonths,
    ThreeToSixMonths,
    SixToTwelveMonths,
    OneToFiveYears,
    OverFiveYears,
    NotSure,
}

/// Days of the week a contact window applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Days {
    Weekdays,
    Weekends,
    EveryDay,
}

/// A best time to be reached, in the person's own time zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactWindow {
    pub days: Days,
    pub start: Time,
    pub end: Time,
}

/// A validated inquiry, ready to store.
#[derive(Clone, Debug, PartialEq)]
pub struct NewInquiry {
    pub channel: Channel,
    pub name: String,
    pub phone: Option<PhoneNumber>,
    pub email: Option<Email>,
    pub preferred_channel: PreferredChannel,
    pub windows: Vec<ContactWindow>,
    /// IANA time zone name, checked against the time zone database.
    pub time_zone: String,
    /// Where the pain is and how long it has lasted, as the person said;
    /// `None` when they were not asked (a booking or a text opened the
    /// thread): unknown stays unknown, never a made-up answer.
    pub pain_area: Option<PainArea>,
    pub pain_duration: Option<PainDuration>,
    pub message: String,
    pub consent_to_contact: bool,
}

/// The inquiry form as typed. Every field is kept so that an invalid form can
/// be shown again with what the person wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InquiryForm {
    pub name: String,
    pub phone: String,
    pub email: String,
    pub preferred_channel: String,
    pub window_days: String,
    pub window_start: String,
    pub window_end: String,
    pub time_zone: String,
    pub pain_area: String,
    pub pain_duration: String,
    pub message: String,
    pub consent: bool,
}

/// One field's error: the form field's name and the rule it broke.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// The longest free text we accept, so one request cannot fill the disk.
pub const MESSAGE_MAX_CHARS: usize = 4000;
pub use crate::person_name::NAME_MAX_CHARS;

impl InquiryForm {
    /// Checks every field and reports every error at once, in the order of
    /// the form. Phone numbers without a country code are read in
    /// `clinic_region`.
    pub fn validate(&self, clinic_region: &str) -> Result<NewInquiry, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = name_field(&self.name, &mut errors);
        let (phone, email) = contact_fields(&self.phone, &self.email, clinic_region, &mut errors);
        if self.phone.trim().is_empty() && self.email.trim().is_empty() {
            errors.push(FieldError {
                field: "phone",
                message: "give a phone number or an e-mail address, so we can reach you".into(),
            });
        }
        let preferred_channel = self.preferred_channel_field(&mut errors);
        let windows = self.window_fields(&mut errors);
        let time_zone = self.time_zone_field(&mut errors);
        let pain_area = self.pain_area_field(&mut errors);
        let pain_duration = self.pain_duration_field(&mut errors);
        let message = self.message_field(&mut errors);
        if !self.consent {
            errors.push(FieldError {
                field: "consent",
                message: "we need your permission to contact you".into(),
            });
        }

        match (preferred_channel, pain_area, pain_duration) {
            (Some(preferred_channel), Some(pain_area), Some(pain_duration))
                if errors.is_empty() =>
            {
                Ok(NewInquiry {
                    channel: Channel::Web,
                    name,
                    phone,
                    email,
                    preferred_channel,
                    windows,
                    time_zone,
                    pain_area: Some(pain_area),
                    pain_duration: Some(pain_duration),
                    message,
                    consent_to_contact: true,
                })
            }
            _ => Err(errors),
        }
    }

    /// The channel the person prefers, and the contact detail it needs.
    fn preferred_channel_field(&self, errors: &mut Vec<FieldError>) -> Option<PreferredChannel> {
        let Ok(channel) = self.preferred_channel.parse::<PreferredChannel>() else {
            errors.push(FieldError {
                field: "preferred_channel",
                message: "choose phone call, text message or e-mail".into(),
            });
            return None;
        };
        match channel {
            PreferredChannel::Phone | PreferredChannel::Text if self.phone.trim().is_empty() => {
                errors.push(FieldError {
                    field: "phone",
                    message: "is needed to call or text you".into(),
                });
            }
            PreferredChannel::Email if self.email.trim().is_empty() => {
                errors.push(FieldError {
                    field: "email",
                    message: "is needed to write to you".into(),
                });
            }
            _ => {}
        }
        Some(channel)
    }

    /// The one best-time window the form offers; it is required.
    fn window_fields(&self, errors: &mut Vec<FieldError>) -> Vec<ContactWindow> {
        let any_window_field = !self.window_days.trim().is_empty()
            || !self.window_start.trim().is_empty()
            || !self.window_end.trim().is_empty();
        if !any_window_field {
            errors.push(FieldError {
                field: "window_days",
                message: "tell us when we may call: choose days and a time range".into(),
            });
            return Vec::new();
        }
        match parse_window(&self.window_days, &self.window_start, &self.window_end) {
            Ok(window) => vec![window],
            Err(error) => {
                errors.push(error);
                Vec::new()
            }
        }
    }

    /// The person's IANA time zone, known to the time zone database.
    fn time_zone_field(&self, errors: &mut Vec<FieldError>) -> String {
        let time_zone = self.time_zone.trim().to_owned();
        if time_zone.is_empty() {
            errors.push(FieldError {
                field: "time_zone",
                message: "is required, so we call at your local time".into(),
            });
        } else if jiff::tz::TimeZone::get(&time_zone).is_err() {
            errors.push(FieldError {
                field: "time_zone",
                message: format!(
                    "`{time_zone}` is not a known time zone (IANA name, e.g. America/Chicago)"
                ),
            });
        }
        time_zone
    }

    fn pain_area_field(&self, errors: &mut Vec<FieldError>) -> Option<PainArea> {
        let area = self.pain_area.parse::<PainArea>().ok();
        if area.is_none() {
            errors.push(FieldError {
                field: "pain_area",
                message: "choose where the pain is (or \"other\")".into(),
            });
        }
        area
    }

    fn pain_duration_field(&self, errors: &mut Vec<FieldError>) -> Option<PainDuration> {
        let duration = self.pain_duration.parse::<PainDuration>().ok();
        if duration.is_none() {
            errors.push(FieldError {
                field: "pain_duration",
                message: "choose how long the pain has lasted".into(),
            });
        }
        duration
    }

    fn message_field(&self, errors: &mut Vec<FieldError>) -> String {
        let message = self.message.trim().to_owned();
        if message.chars().count() > MESSAGE_MAX_CHARS {
            errors.push(FieldError {
                field: "message",
                message: format!("must be at most {MESSAGE_MAX_CHARS} characters"),
            });
        }
        message
    }
}

/// The `name` field of a public form, checked by [`PersonName::parse`]; the
/// trimmed text (empty when refused) and any error appended to `errors`.
pub(crate) fn name_field(typed: &str, errors: &mut Vec<FieldError>) -> String {
    match PersonName::parse(typed) {
        Ok(name) => name.into_string(),
        Err(NameError::Empty) => {
            errors.push(FieldError {
                field: "name",
                message: "is required: tell us what to call you".into(),
            });
            String::new()
        }
        Err(error) => {
            errors.push(FieldError {
                field: "name",
                message: error.to_string(),
            });
            String::new()
        }
    }
}

/// The optional `phone` and `email` fields of a public form, each parsed when
/// given (a phone without a country code is read in `clinic_region`).
pub(crate) fn contact_fields(
    phone: &str,
    email: &str,
    clinic_region: &str,
    errors: &mut Vec<FieldError>,
) -> (Option<PhoneNumber>, Option<Email>) {
    let phone = match phone.trim() {
        "" => None,
        typed => PhoneNumber::parse(typed, clinic_region)
            .map_err(|err| {
                errors.push(FieldError {
                    field: "phone",
                    message: err.to_string(),
                })
            })
            .ok(),
    };
    let email = match email.trim() {
        "" => None,
        typed => Email::parse(typed)
            .map_err(|err| {
                errors.push(FieldError {
                    field: "email",
                    message: err.to_string(),
                })
            })
            .ok(),
    };
    (phone, email)
}

/// Parses one contact window from its three form fields.
pub fn parse_window(days: &str, start: &str, end: &str) -> Result<ContactWindow, FieldError> {
    let days = days.parse::<Days>().map_err(|()| FieldError {
        field: "window_days",
        message: "choose weekdays, weekends or every day".into(),
    })?;
    let start = parse_time(start).ok_or_else(|| FieldError {
        field: "window_start",
        message: "must be a time of day such as 17:00".into(),
    })?;
    let end = parse_time(end).ok_or_else(|| FieldError {
        field: "window_end",
        message: "must be a time of day such as 19:00".into(),
    })?;
    if end <= start {
        return Err(FieldError {
            field: "window_end",
            message: "must be later than the start of the window".into(),
        });
    }
    Ok(ContactWindow { days, start, end })
}

fn parse_time(typed: &str) -> Option<Time> {
    let typed = typed.trim();
    let (hour, minute) = typed.split_once(':')?;
    let hour: i8 = hour.parse().ok()?;
    let minute: i8 = minute.parse().ok()?;
    Time::new(hour, minute, 0, 0).ok()
}

impl fmt::Display for ContactWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {:02}:{:02}-{:02}:{:02}",
            self.days.as_str(),
            self.start.hour(),
            self.start.minute(),
            self.end.hour(),
            self.end.minute()
        )
    }
}

impl FromStr for ContactWindow {
    type Err = FieldError;

    /// Reads the stored form, e.g. `weekdays 17:00-19:00`.
    fn from_str(s: &str) -> Result<ContactWindow, FieldError> {
        let bad = || FieldError {
            field: "windows",
            message: format!("`{s}` is not a window like `weekdays 17:00-19:00`"),
        };
        let (days, range) = s.split_once(' ').ok_or_else(bad)?;
        let (start, end) = range.split_once('-').ok_or_else(bad)?;
        parse_window(days, start, end)
    }
}

/// Generates `as_str` / `label` / `FromStr` for a closed set of form values.
macro_rules! form_values {
    ($ty:ty { $($variant:ident => ($code:literal, $label:literal)),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$(<$ty>::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $(<$ty>::$variant => $code),+ }
            }

            pub fn label(self) -> &'static str {
                match self { $(<$ty>::$variant => $label),+ }
            }
        }

        impl FromStr for $ty {
            type Err = ();

            fn from_str(s: &str) -> Result<$ty, ()> {
                match s.trim() { $($code => Ok(<$ty>::$variant),)+ _ => Err(()) }
            }
        }
    };
}

form_values!(Channel {
    Web => ("web", "Web form"),
    Email => ("email", "E-mail"),
    Sms => ("sms", "Text message"),
    Voice => ("voice", "Phone call"),
});

form_values!(PreferredChannel {
    Phone => ("phone", "Phone call"),
    Text => ("text", "Text message"),
    Email => ("email", "E-mail"),
});

form_values!(PainArea {
    Back => ("back", "Back"),
    Headache => ("headache", "Headaches"),
    Joints => ("joints", "Joints"),
    Fibromyalgia => ("fibromyalgia", "Fibromyalgia"),
    Endometriosis => ("endometriosis", "Endometriosis"),
    Crps => ("crps", "Complex regional pain syndrome (CRPS)"),
    Other => ("other", "Somewhere else"),
});

form_values!(PainDuration {
    UnderThreeMonths => ("under-3-months", "Less than 3 months"),
    ThreeToSixMonths => ("3-6-months", "3 to 6 months"),
    SixToTwelveMonths => ("6-12-months", "6 to 12 months"),
    OneToFiveYears => ("1-5-years", "1 to 5 years"),
    OverFiveYears => ("over-5-years", "More than 5 years"),
    NotSure => ("not-sure", "Not sure"),
});

form_values!(Days {
    Weekdays => ("weekdays", "Weekdays"),
    Weekends => ("weekends", "Weekends"),
    EveryDay => ("every-day", "Every day"),
});

#[cfg(test)]
mod tests {
    use super::*;

    fn valid_form() -> InquiryForm {
        InquiryForm {
            name: "Ana López".into(),
            phone: "(503) 725-3000".into(),
            email: String::new(),
            preferred_channel: "phone".into(),
            window_days: "weekdays".into(),
            window_start: "17:00".into(),
            window_end: "19:00".into(),
            time_zone: "America/Los_Angeles".into(),
            pain_area: "back".into(),
            pain_duration: "1-5-years".into(),
            message: "Lower back pain since a fall.".into(),
            consent: true,
        }
    }

    fn fields(form: &InquiryForm) -> Vec<&'static str> {
        match form.validate("US") {
            Ok(_) => vec![],
            Err(errors) => errors.iter().map(|e| e.field).collect(),
        }
    }

    #[test]
    fn a_complete_form_is_accepted_and_normalised() {
        let inquiry = valid_form().validate("US").unwrap();
        assert_eq!(inquiry.phone.unwrap().as_e164(), "+15037253000");
        assert_eq!(inquiry.windows[0].to_string(), "weekdays 17:00-19:00");
    }

    #[test]
    fn each_bad_field_is_named() {
        let check = |change: fn(&mut InquiryForm), expected: &[&str]| {
            let mut form = valid_form();
            change(&mut form);
            assert_eq!(fields(&form), expected);
        };
        check(|f| f.name = "  ".into(), &["name"]);
        check(|f| f.phone = "12".into(), &["phone"]);
        check(|f| f.phone = String::new(), &["phone", "phone"]);
        check(|f| f.email = "ana@".into(), &["email"]);
        check(
            |f| f.preferred_channel = "pigeon".into(),
            &["preferred_channel"],
        );
        check(|f| f.window_end = "16:00".into(), &["window_end"]);
        check(|f| f.window_start = "25:00".into(), &["window_start"]);
        check(|f| f.time_zone = "Mars/Olympus".into(), &["time_zone"]);
        check(|f| f.pain_area = String::new(), &["pain_area"]);
        check(|f| f.pain_duration = "forever".into(), &["pain_duration"]);
        check(|f| f.consent = false, &["consent"]);
        check(
            |f| f.message = "x".repeat(MESSAGE_MAX_CHARS + 1),
            &["message"],
        );
    }

    #[test]
    fn windows_round_trip_through_their_stored_form() {
        let window: ContactWindow = "weekends 09:30-12:00".parse().unwrap();
        assert_eq!(window.to_string(), "weekends 09:30-12:00");
        assert!("weekends 12:00-09:30".parse::<ContactWindow>().is_err());
    }

    #[test]
    fn a_name_with_control_or_invisible_characters_is_refused() {
        for name in ["Ana\u{0}López", "Ana\u{202E}zepóL", "Ana\u{200D}López"] {
            let mut form = valid_form();
            form.name = name.into();
            let Err(errors) = form.validate("US") else {
                panic!("accepted {name:?}");
            };
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!(errors[0].field, "name");
            assert!(
                errors[0]
                    .message
                    .starts_with("must not contain control or invisible formatting characters"),
                "{errors:?}"
            );
        }
    }
}
