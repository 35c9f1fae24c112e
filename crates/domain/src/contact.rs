//! Contact details: phone numbers normalised to E.164 (ITU-T E.164, via
//! libphonenumber's metadata) and e-mail addresses.

use std::fmt;

/// A valid phone number in E.164 form, e.g. `+15035550123`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("is empty")]
    Empty,
    #[error("is not a phone number we can read; write it with its area code, e.g. (503) 555-0123 or +44 20 7946 0958")]
    Unreadable,
    #[error("is not a valid number for its country; check the digits")]
    Invalid,
}

impl PhoneNumber {
    /// Parses a number as people type it. Numbers without a leading `+` are
    /// read in `default_region` (ISO 3166-1 alpha-2, e.g. "US"), the clinic's
    /// country.
    pub fn parse(input: &str, default_region: &str) -> Result<PhoneNumber, PhoneError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(PhoneError::Empty);
        }
        let region = default_region.parse::<phonenumber::country::Id>().ok();
        let number = phonenumber::parse(region, input).map_err(|_| PhoneError::Unreadable)?;
        if !phonenumber::is_valid(&number) {
            return Err(PhoneError::Invalid);
        }
        Ok(PhoneNumber(
            number.format().mode(phonenumber::Mode::E164).to_string(),
        ))
    }

    /// Rebuilds a number that was stored in E.164 form.
    pub fn from_e164(stored: &str) -> Result<PhoneNumber, PhoneError> {
        if !stored.starts_with('+') {
            return Err(PhoneError::Unreadable);
        }
        PhoneNumber::parse(stored, "US")
    }

    pub fn as_e164(&self) -> &str {
        &self.0
    }

    /// The number as people write it: in national format when it belongs
    /// to `clinic_region` (ISO 3166-1 alpha-2), e.g. `(312) 555-0147` for a
    /// US clinic, and in international format otherwise, e.g.
    /// `+44 20 7946 0958` (libphonenumber's formats, ITU-T E.123).
    pub fn for_people(&self, clinic_region: &str) -> String {
        let Ok(number) = phonenumber::parse(None, &self.0) else {
            return self.0.clone();
        };
        let home = clinic_region.parse::<phonenumber::country::Id>().ok();
        let mode = if home.is_some() && number.country().id() == home {
            phonenumber::Mode::National
        } else {
            phonenumber::Mode::International
        };
        number.format().mode(mode).to_string()
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An e-mail address, trimmed, with its domain lower-cased. Checked for the
/// shape `local@domain.tld` only: the real check is whether mail arrives.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("is empty")]
    Empty,
    #[error("must look like name@example.org")]
    Malformed,
    #[error("is longer than 254 characters")]
    TooLong,
}

impl Email {
    pub fn parse(input: &str) -> Result<Email, EmailError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(EmailError::Empty);
        }
        // RFC 5321 §4.5.3.1: a path is at most 256 octets, so an address 254.
        if input.len() > 254 {
            return Err(EmailError::TooLong);
        }
        let Some((local, domain)) = input.rsplit_once('@') else {
            return Err(EmailError::Malformed);
        };
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local
                .chars()
                .any(|c| c.is_whitespace() || c == '@' || c.is_control());
        if !domain_ok || !local_ok {
            return Err(EmailError::Malformed);
        }
        Ok(Email(format!("{local}@{}", domain.to_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_nationally_at_home_and_internationally_abroad() {
        let chicago = PhoneNumber::from_e164("+13125550147").unwrap();
        assert_eq!(chicago.for_people("US"), "(312) 555-0147");
        assert_eq!(chicago.for_people("GB"), "+1 312-555-0147");
        let london = PhoneNumber::from_e164("+442079460958").unwrap();
        assert_eq!(london.for_people("US"), "+44 20 7946 0958");
        assert_eq!(london.for_people("GB"), "020 7946 0958");
    }

    #[test]
    fn us_numbers_as_typed_become_e164() {
        // 555-01xx numbers are reserved for fiction but valid in format; use
        // a real-shaped Oregon number instead.
        for typed in [
            "(503) 725-3000",
            "503-725-3000",
            "+1 503 725 3000",
            "1 (503) 725 3000",
        ] {
            assert_eq!(
                PhoneNumber::parse(typed, "US").map(|p| p.0),
                Ok("+15037253000".to_owned()),
                "{typed}"
            );
        }
    }

    #[test]
    fn foreign_numbers_keep_their_country() {
        assert_eq!(
            PhoneNumber::parse("+44 20 7946 0958", "US").map(|p| p.0),
            Ok("+442079460958".to_owned())
        );
    }

    #[test]
    fn bad_phone_numbers_are_refused() {
        assert_eq!(PhoneNumber::parse("  ", "US"), Err(PhoneError::Empty));
        assert_eq!(
            PhoneNumber::parse("call me", "US"),
            Err(PhoneError::Unreadable)
        );
        assert_eq!(PhoneNumber::parse("123", "US"), Err(PhoneError::Invalid));
    }

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse(" Ana.Lopez@Example.ORG ").map(|e| e.0),
            Ok("Ana.Lopez@example.org".to_owned())
        );
        for bad in [
            "ana",
            "ana@",
            "@example.org",
            "ana@example",
            "ana@exa mple.org",
            "a b@example.org",
        ] {
            assert_eq!(Email::parse(bad), Err(EmailError::Malformed), "{bad}");
        }
        assert_eq!(Email::parse(""), Err(EmailError::Empty));
    }
}
