//! The free 15-minute phone consultation's record (SPEC §1 step 2): a short
//! structured note taken during the call.
//! `ConsultationNoteForm::validate` turns what staff typed into a
//! `ConsultationNote` or into field errors that name the field and the rule.
//!
//! These are the person's own words, taken over the phone: a stated
//! diagnosis is not yet a verified one, and an onset computed from "about two
//! years" is an estimate. Screening (respite-clinical) decides later, from
//! records.

use std::fmt;
use std::str::FromStr;

use jiff::civil::Date;

use crate::inquiry::FieldError;

/// A validated consultation note, ready to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsultationNote {
    pub pain_location: String,
    pub pain_duration: StatedDuration,
    /// The diagnosis the person reports, if any.
    pub diagnosis: Option<StatedDiagnosis>,
    pub treatments_tried: Vec<TreatmentTried>,
    pub hopes: String,
    pub red_flags: String,
    pub next_step: NextStep,
}

/// A diagnosis as the person reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatedDiagnosis {
    pub description: String,
    /// Who made it, e.g. "Dr Ruiz, neurologist".
    pub diagnosed_by: String,
    pub diagnosed_on: Option<Date>,
    /// ICD-10-CM code when staff can tell it (from a letter, say).
    pub icd10cm_code: Option<String>,
}

/// One conventional treatment tried, and why it stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreatmentTried {
    pub treatment: String,
    pub why_stopped: String,
}

impl fmt::Display for TreatmentTried {
    /// The stored form, one per line: `Physiotherapy: no lasting relief`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.treatment, self.why_stopped)
    }
}

/// What happens after the call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NextStep {
    SendRecordsRequest,
    BookScreeningVisit,
    NotACandidate { reason: String },
}

impl NextStep {
    pub const CODES: &'static [(&'static str, &'static str)] = &[
        ("send-records-request", "Send a records request"),
        ("book-screening-visit", "Book a screening visit"),
        ("not-a-candidate", "Not a candidate (give the reason)"),
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            NextStep::SendRecordsRequest => "send-records-request",
            NextStep::BookScreeningVisit => "book-screening-visit",
            NextStep::NotACandidate { .. } => "not-a-candidate",
        }
    }
}

/// How long the pain has lasted, as stated: "about 2 years".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatedDuration {
    amount: u16,
    unit: DurationUnit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DurationUnit {
    Weeks,
    Months,
    Years,
}

impl DurationUnit {
    pub const ALL: &'static [DurationUnit] = &[
        DurationUnit::Weeks,
        DurationUnit::Months,
        DurationUnit::Years,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DurationUnit::Weeks => "weeks",
            DurationUnit::Months => "months",
            DurationUnit::Years => "years",
        }
    }
}

impl FromStr for DurationUnit {
    type Err = ();

    fn from_str(s: &str) -> Result<DurationUnit, ()> {
        DurationUnit::ALL
            .iter()
            .copied()
            .find(|unit| unit.as_str() == s.trim())
            .ok_or(())
    }
}

/// No one has had pain for longer than a human lifetime: 120 years bounds a
/// stated duration (a typing check, not a clinical rule).
const LONGEST_STATED_DAYS: i64 = 120 * 366;

impl StatedDuration {
    pub fn new(amount: u16, unit: DurationUnit) -> Result<StatedDuration, FieldError> {
        let days = i64::from(amount)
            * match unit {
                DurationUnit::Weeks => 7,
                DurationUnit::Months => 31,
                DurationUnit::Years => 366,
            };
        if amount == 0 || days > LONGEST_STATED_DAYS {
            return Err(FieldError {
                field: "pain_duration_amount",
                message: "must be a whole number from 1 up to 120 years".into(),
            });
        }
        Ok(StatedDuration { amount, unit })
    }

    pub fn amount(self) -> u16 {
        self.amount
    }

    pub fn unit(self) -> DurationUnit {
        self.unit
    }

    /// The onset this duration implies when stated on `stated_on`: an
    /// estimate, never a recorded date, and to be stored as such.
    pub fn estimated_onset(self, stated_on: Date) -> Option<Date> {
        let amount = i64::from(self.amount);
        let span = match self.unit {
            DurationUnit::Weeks => jiff::Span::new().weeks(amount),
            DurationUnit::Months => jiff::Span::new().months(amount),
            DurationUnit::Years => jiff::Span::new().years(amount),
        };
        stated_on.checked_sub(span).ok()
    }
}

impl fmt::Display for StatedDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.unit.as_str())
    }
}

/// The note form as typed; every field is kept to show an invalid form again.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConsultationNoteForm {
    pub pain_location: String,
    pub pain_duration_amount: String,
    pub pain_duration_unit: String,
    pub diagnosis: String,
    pub diagnosed_by: String,
    pub diagnosed_on: String,
    pub icd10cm_code: String,
    pub treatments_tried: String,
    pub hopes: String,
    pub red_flags: String,
    pub next_step: String,
    pub not_candidate_reason: String,
}

/// Longest short answer (location, diagnosis, who) and longest free text.
pub const SHORT_TEXT_MAX_CHARS: usize = 200;
pub const LONG_TEXT_MAX_CHARS: usize = 4000;

impl ConsultationNoteForm {
    /// Checks every field and reports every error at once, in the order of
    /// the form. `today` (the clinic's date) bounds the diagnosis date.
    pub fn validate(&self, today: Date) -> Result<ConsultationNote, Vec<FieldError>> {
        let mut errors = Vec::new();
        let pain_location = short_text("pain_location", &self.pain_location, &mut errors);
        if pain_location.is_empty() {
            fail(
                &mut errors,
                "pain_location",
                "is required: where is the pain?",
            );
        }
        let pain_duration = self.pain_duration_fields(&mut errors);
        let diagnosis = self.diagnosis_fields(today, &mut errors);
        let treatments_tried = self.treatments_tried_field(&mut errors);
        let hopes = long_text("hopes", &self.hopes, &mut errors);
        let red_flags = long_text("red_flags", &self.red_flags, &mut errors);
        let next_step = self.next_step_fields(&mut errors);

        match (pain_duration, next_step) {
            (Some(pain_duration), Some(next_step)) if errors.is_empty() => Ok(ConsultationNote {
                pain_location,
                pain_duration,
                diagnosis,
                treatments_tried,
                hopes,
                red_flags,
                next_step,
            }),
            _ => Err(errors),
        }
    }

    /// "About 18 months": a whole number and a unit, within a lifetime.
    fn pain_duration_fields(&self, errors: &mut Vec<FieldError>) -> Option<StatedDuration> {
        let amount = match self.pain_duration_amount.trim() {
            "" => {
                fail(
                    errors,
                    "pain_duration_amount",
                    "is required: how long has it lasted?",
                );
                None
            }
            typed => {
                let amount = typed.parse::<u16>().ok();
                if amount.is_none() {
                    fail(
                        errors,
                        "pain_duration_amount",
                        "must be a whole number, e.g. 18",
                    );
                }
                amount
            }
        };
        let unit = self.pain_duration_unit.parse::<DurationUnit>().ok();
        if unit.is_none() {
            fail(
                errors,
                "pain_duration_unit",
                "choose weeks, months or years",
            );
        }
        match StatedDuration::new(amount?, unit?) {
            Ok(duration) => Some(duration),
            Err(error) => {
                errors.push(error);
                None
            }
        }
    }

    /// The diagnosis the person reports, with who made it (required), when and
    /// its code (optional); none of these without a diagnosis.
    fn diagnosis_fields(
        &self,
        today: Date,
        errors: &mut Vec<FieldError>,
    ) -> Option<StatedDiagnosis> {
        let description = short_text("diagnosis", &self.diagnosis, errors);
        let diagnosed_by = short_text("diagnosed_by", &self.diagnosed_by, errors);
        let diagnosed_on = self.diagnosed_on_field(today, errors);
        let icd10cm_code = self.icd10cm_code_field(errors);
        if description.is_empty() {
            for (field, typed) in [
                ("diagnosed_by", diagnosed_by.as_str()),
                ("diagnosed_on", self.diagnosed_on.trim()),
                ("icd10cm_code", self.icd10cm_code.trim()),
            ] {
                if !typed.is_empty() {
                    fail(
                        errors,
                        field,
                        "belongs to a diagnosis: give the diagnosis too",
                    );
                }
            }
            return None;
        }
        if diagnosed_by.is_empty() {
            fail(
                errors,
                "diagnosed_by",
                "is required with a diagnosis: who made it?",
            );
        }
        Some(StatedDiagnosis {
            description,
            diagnosed_by,
            diagnosed_on,
            icd10cm_code,
        })
    }

    fn diagnosed_on_field(&self, today: Date, errors: &mut Vec<FieldError>) -> Option<Date> {
        match self.diagnosed_on.trim() {
            "" => None,
            typed => match typed.parse::<Date>() {
                Ok(date) if date <= today => Some(date),
                Ok(_) => {
                    fail(errors, "diagnosed_on", "cannot be in the future");
                    None
                }
                Err(_) => {
                    fail(errors, "diagnosed_on", "must be a date like 2023-04-30");
                    None
                }
            },
        }
    }

    fn icd10cm_code_field(&self, errors: &mut Vec<FieldError>) -> Option<String> {
        let typed = self.icd10cm_code.trim();
        if typed.is_empty() {
            return None;
        }
        let code = typed.to_ascii_uppercase();
        if !is_icd10cm_shaped(&code) {
            fail(
                errors,
                "icd10cm_code",
                "must look like an ICD-10-CM code, e.g. M54.50 or G43.909",
            );
            return None;
        }
        Some(code)
    }

    /// One treatment per line: `Gabapentin: made me dizzy`; blank lines skipped.
    fn treatments_tried_field(&self, errors: &mut Vec<FieldError>) -> Vec<TreatmentTried> {
        let treatments_tried = long_text("treatments_tried", &self.treatments_tried, errors);
        let mut treatments = Vec::new();
        for (number, line) in treatments_tried.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            match line.split_once(':') {
                Some((treatment, why))
                    if !treatment.trim().is_empty() && !why.trim().is_empty() =>
                {
                    treatments.push(TreatmentTried {
                        treatment: treatment.trim().to_owned(),
                        why_stopped: why.trim().to_owned(),
                    });
                }
                _ => fail(
                    errors,
                    "treatments_tried",
                    format!(
                        "line {}: write the treatment, a colon, and why it stopped, \
                         e.g. \"Gabapentin: made me dizzy\"",
                        number + 1
                    ),
                ),
            }
        }
        treatments
    }

    /// The next step; "not a candidate" needs its reason, and only it has one.
    fn next_step_fields(&self, errors: &mut Vec<FieldError>) -> Option<NextStep> {
        let reason = long_text("not_candidate_reason", &self.not_candidate_reason, errors);
        let next_step = match self.next_step.trim() {
            "send-records-request" => Some(NextStep::SendRecordsRequest),
            "book-screening-visit" => Some(NextStep::BookScreeningVisit),
            "not-a-candidate" if reason.is_empty() => {
                fail(
                    errors,
                    "not_candidate_reason",
                    "is required when the person is not a candidate",
                );
                None
            }
            "not-a-candidate" => Some(NextStep::NotACandidate {
                reason: reason.clone(),
            }),
            _ => {
                fail(
                    errors,
                    "next_step",
                    "choose send records request, book screening visit or not a candidate",
                );
                None
            }
        };
        if !reason.is_empty() && !matches!(next_step, Some(NextStep::NotACandidate { .. })) {
            fail(
                errors,
                "not_candidate_reason",
                "is only for \"not a candidate\"; clear it or change the next step",
            );
        }
        next_step
    }
}

impl ConsultationNote {
    /// The onset the stated duration implies, counted back from
    /// `stated_on`, when it falls after the stated diagnosis date: a pain
    /// diagnosed before it began means the duration or the date was heard
    /// or typed wrong. `(estimated onset, diagnosed on)`, for staff to check.
    pub fn onset_after_diagnosis(&self, stated_on: Date) -> Option<(Date, Date)> {
        let diagnosed_on = self.diagnosis.as_ref()?.diagnosed_on?;
        let onset = self.pain_duration.estimated_onset(stated_on)?;
        (onset > diagnosed_on).then_some((onset, diagnosed_on))
    }
}

/// The front desk's record of the consultation call (SPEC §2: contact
/// data, never the clinical part): whether the person was reached, whether
/// a visit was booked, and what they asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallRecord {
    pub reached: bool,
    pub booked: bool,
    pub asked: String,
}

/// The call record form as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallRecordForm {
    /// `yes` or `no`.
    pub reached: String,
    /// `yes` or `no`.
    pub booked: String,
    pub asked: String,
}

impl CallRecordForm {
    /// Checks every field and reports every error at once.
    pub fn validate(&self) -> Result<CallRecord, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut yes_no = |field: &'static str, typed: &str, question: &str| match typed.trim() {
            "yes" => Some(true),
            "no" => Some(false),
            _ => {
                fail(&mut errors, field, format!("choose yes or no: {question}"));
                None
            }
        };
        let reached = yes_no("reached", &self.reached, "was the person reached?");
        let booked = yes_no("booked", &self.booked, "was a visit booked on the call?");
        let asked = long_text("asked", &self.asked, &mut errors);
        if booked == Some(true) && reached == Some(false) {
            fail(
                &mut errors,
                "booked",
                "a visit can be booked only with a person who was reached",
            );
        }
        match (reached, booked) {
            (Some(reached), Some(booked)) if errors.is_empty() => Ok(CallRecord {
                reached,
                booked,
                asked,
            }),
            _ => Err(errors),
        }
    }
}

fn fail(errors: &mut Vec<FieldError>, field: &'static str, message: impl Into<String>) {
    errors.push(FieldError {
        field,
        message: message.into(),
    });
}

/// A short answer (location, diagnosis, who), trimmed.
fn short_text(field: &'static str, typed: &str, errors: &mut Vec<FieldError>) -> String {
    bounded_text(field, typed, SHORT_TEXT_MAX_CHARS, errors)
}

/// A free-text answer, trimmed.
fn long_text(field: &'static str, typed: &str, errors: &mut Vec<FieldError>) -> String {
    bounded_text(field, typed, LONG_TEXT_MAX_CHARS, errors)
}

fn bounded_text(
    field: &'static str,
    typed: &str,
    max_chars: usize,
    errors: &mut Vec<FieldError>,
) -> String {
    let text = typed.trim().to_owned();
    if text.chars().count() > max_chars {
        fail(
            errors,
            field,
            format!("must be at most {max_chars} characters"),
        );
    }
    text
}

/// The shape of an ICD-10-CM code (CMS, ICD-10-CM Official Guidelines for
/// Coding and Reporting, Section I.A: 3 to 7 characters, the first a letter,
/// the second a digit, a decimal point after the third). Whether the code
/// exists is for the clinician and the screening code table to judge.
fn is_icd10cm_shaped(code: &str) -> bool {
    let (category, rest) = match code.split_once('.') {
        Some((category, rest)) => (category, Some(rest)),
        None => (code, None),
    };
    let bytes = category.as_bytes();
    let category_ok = bytes.len() == 3
        && bytes[0].is_ascii_uppercase()
        && bytes[1].is_ascii_digit()
        && bytes[2].is_ascii_alphanumeric();
    let rest_ok = rest.is_none_or(|rest| {
        (1..=4).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_alphanumeric())
    });
    category_ok && rest_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn valid_form() -> ConsultationNoteForm {
        ConsultationNoteForm {
            pain_location: "Lower back, left leg".into(),
            pain_duration_amount: "2".into(),
            pain_duration_unit: "years".into(),
            diagnosis: "Lumbar radiculopathy".into(),
            diagnosed_by: "Dr Ruiz, neurologist".into(),
            diagnosed_on: "2024-05-10".into(),
            icd10cm_code: "m54.16".into(),
            treatments_tried: "Physiotherapy: no lasting relief\n\nGabapentin: dizziness".into(),
            hopes: "Walk the dog again".into(),
            red_flags: String::new(),
            next_step: "book-screening-visit".into(),
            not_candidate_reason: String::new(),
        }
    }

    const TODAY: Date = date(2026, 11, 25);

    #[test]
    fn a_complete_note_is_accepted() {
        let note = valid_form().validate(TODAY).unwrap();
        let diagnosis = note.diagnosis.unwrap();
        assert_eq!(diagnosis.icd10cm_code.as_deref(), Some("M54.16"));
        assert_eq!(note.treatments_tried.len(), 2);
        assert_eq!(
            note.treatments_tried[1].to_string(),
            "Gabapentin: dizziness"
        );
        assert_eq!(note.pain_duration.to_string(), "2 years");
    }

    #[test]
    fn each_bad_field_is_named() {
        let check = |change: fn(&mut ConsultationNoteForm), expected: &[&str]| {
            let mut form = valid_form();
            change(&mut form);
            let fields: Vec<_> = match form.validate(TODAY) {
                Ok(_) => vec![],
                Err(errors) => errors.iter().map(|e| e.field).collect(),
            };
            assert_eq!(fields, expected);
        };
        check(|f| f.pain_location = " ".into(), &["pain_location"]);
        check(
            |f| f.pain_duration_amount = "two".into(),
            &["pain_duration_amount"],
        );
        check(
            |f| f.pain_duration_amount = "0".into(),
            &["pain_duration_amount"],
        );
        check(
            |f| f.pain_duration_amount = "121".into(),
            &["pain_duration_amount"],
        );
        check(
            |f| f.pain_duration_unit = "days".into(),
            &["pain_duration_unit"],
        );
        check(|f| f.diagnosed_by = String::new(), &["diagnosed_by"]);
        check(|f| f.diagnosed_on = "2027-01-01".into(), &["diagnosed_on"]);
        check(|f| f.diagnosed_on = "May 2024".into(), &["diagnosed_on"]);
        check(|f| f.icd10cm_code = "back pain".into(), &["icd10cm_code"]);
        check(|f| f.icd10cm_code = "M5".into(), &["icd10cm_code"]);
        check(
            |f| f.diagnosis = String::new(),
            &["diagnosed_by", "diagnosed_on", "icd10cm_code"],
        );
        check(
            |f| f.treatments_tried = "Physiotherapy".into(),
            &["treatments_tried"],
        );
        check(|f| f.next_step = "wait".into(), &["next_step"]);
        check(
            |f| f.next_step = "not-a-candidate".into(),
            &["not_candidate_reason"],
        );
        check(
            |f| f.not_candidate_reason = "why".into(),
            &["not_candidate_reason"],
        );
        check(
            |f| f.hopes = "x".repeat(LONG_TEXT_MAX_CHARS + 1),
            &["hopes"],
        );
    }

    #[test]
    fn onset_is_estimated_back_from_the_stated_duration() {
        let check = |amount: u16, unit: DurationUnit, expected: Date| {
            let stated = StatedDuration::new(amount, unit).unwrap();
            assert_eq!(stated.estimated_onset(TODAY), Some(expected), "{stated}");
        };
        check(2, DurationUnit::Years, date(2024, 11, 25));
        check(18, DurationUnit::Months, date(2025, 5, 25));
        check(6, DurationUnit::Weeks, date(2026, 10, 14)); // 42 days back
                                                           // 31 March minus one month: no 31 February, jiff clamps to the 28th.
        let stated = StatedDuration::new(1, DurationUnit::Months).unwrap();
        assert_eq!(
            stated.estimated_onset(date(2026, 3, 31)),
            Some(date(2026, 2, 28))
        );
    }

    #[test]
    fn an_onset_after_the_diagnosis_date_is_flagged() {
        // Stated on 2026-11-25: "2 years" puts the onset at 2024-11-25.
        let mut form = valid_form();
        form.diagnosed_on = "2024-05-10".into();
        let note = form.validate(TODAY).unwrap();
        assert_eq!(
            note.onset_after_diagnosis(TODAY),
            Some((date(2024, 11, 25), date(2024, 5, 10)))
        );
        form.diagnosed_on = "2025-01-10".into();
        assert_eq!(
            form.validate(TODAY).unwrap().onset_after_diagnosis(TODAY),
            None
        );
        form.diagnosed_on = String::new();
        assert_eq!(
            form.validate(TODAY).unwrap().onset_after_diagnosis(TODAY),
            None
        );
    }

    #[test]
    fn a_call_record_needs_both_answers_and_no_booking_without_reaching() {
        let form = |reached: &str, booked: &str| CallRecordForm {
            reached: reached.into(),
            booked: booked.into(),
            asked: "  How long is a session?  ".into(),
        };
        assert_eq!(
            form("yes", "no").validate(),
            Ok(CallRecord {
                reached: true,
                booked: false,
                asked: "How long is a session?".into()
            })
        );
        let fields = |f: CallRecordForm| -> Vec<&str> {
            f.validate().unwrap_err().iter().map(|e| e.field).collect()
        };
        assert_eq!(fields(form("", "maybe")), ["reached", "booked"]);
        assert_eq!(fields(form("no", "yes")), ["booked"]);
    }

    #[test]
    fn icd10cm_shapes() {
        for ok in ["M54.5", "M54.50", "G43.909", "M79.7", "S33.5XXA", "N80"] {
            assert!(is_icd10cm_shaped(ok), "{ok}");
        }
        for bad in ["", "M5", "54.5", "M54.", "M54.12345", "MM4.1", "M54-5"] {
            assert!(!is_icd10cm_shaped(bad), "{bad}");
        }
    }
}
