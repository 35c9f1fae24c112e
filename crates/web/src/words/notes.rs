//! Words of the consultation's two records: the front desk's call record
//! and the clinical note (SPEC §2), their versions and next steps.

use respite_domain::consultation::DurationUnit;
use respite_domain::inquiry::{PainArea, PainDuration};

/// The unit choices of the note's form, in words.
pub fn unit_label(unit: DurationUnit) -> &'static str {
    match unit {
        DurationUnit::Weeks => "weeks",
        DurationUnit::Months => "months",
        DurationUnit::Years => "years",
    }
}

pub fn yes_no(answer: bool) -> &'static str {
    if answer {
        "Yes"
    } else {
        "No"
    }
}

/// The unit the inquiry's duration suggests for the note's form (the
/// amount stays for staff to ask: a range is not an answer).
pub fn suggested_unit(duration: &str) -> &'static str {
    match duration.parse::<PainDuration>() {
        Ok(PainDuration::OneToFiveYears | PainDuration::OverFiveYears) => "years",
        _ => "months",
    }
}

/// Where the pain is, prefilled from the inquiry's area.
pub fn suggested_location(area: &str) -> String {
    match area.parse::<PainArea>() {
        Ok(PainArea::Other) | Err(()) => String::new(),
        Ok(area) => area.label().to_owned(),
    }
}

/// The flag of an estimated onset after the diagnosis date.
pub fn onset_after_diagnosis(onset: jiff::civil::Date, diagnosed: jiff::civil::Date) -> String {
    format!(
        "Check the dates: the stated duration puts the onset at about {onset}, \
         after the diagnosis on {diagnosed}. The pain cannot have been diagnosed \
         before it began: ask again how long it has lasted, or when it was diagnosed."
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::words::common::{next_step, pain, stated_duration};

    #[test]
    fn every_next_step_of_the_form_has_words() {
        for (code, _) in respite_domain::consultation::NextStep::CODES {
            assert_ne!(next_step(code), "Next step not recognised", "{code}");
        }
    }

    #[test]
    fn codes_become_words() {
        assert_eq!(next_step("book-screening-visit"), "Book a screening visit");
        assert_eq!(next_step("not-a-candidate"), "Not a candidate");
        assert_eq!(stated_duration(1, "years"), "1 year");
        assert_eq!(stated_duration(18, "months"), "18 months");
        assert_eq!(pain(Some("back"), Some("1-5-years")), "Back, 1 to 5 years");
        assert_eq!(suggested_unit("over-5-years"), "years");
        assert_eq!(suggested_location("other"), "");
    }
}
