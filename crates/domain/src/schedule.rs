//! The administrator's forms for the consultation schedule: the clinic's
//! opening hours of one weekday, a holiday, and a staff member's weekly
//! availability. Each form is checked here, every error at once, each naming
//! its field; what comes out is what [`crate::booking::open_slots`] reads.
//!
//! Rules, all times wall-clock in the clinic's zone:
//! - a time of day is `HH:MM`, 24-hour (what a browser's time input sends);
//! - an interval ends at least one consultation ([`SLOT_MINUTES`]) after it
//!   starts, so that it can offer a slot at all;
//! - intervals of one weekday do not overlap (touching is fine: 09:00–12:00
//!   and 12:00–17:00);
//! - a staff member's availability lies within the clinic's hours of that
//!   weekday, from its first opening to its last closing, and offers at least
//!   one slot inside them. A break in the clinic's hours may fall inside it
//!   (09:00–17:00 across a lunch closing): no slot is offered in the break.
//!   When the hours shrink later, availability left outside them is kept and
//!   flagged by [`outside_opening_hours`] rather than deleted, so that an
//!   administrator who narrows the hours for a while loses nothing;
//! - a holiday is a valid date, not before today, with a name of at most
//!   [`HOLIDAY_NAME_MAX_CHARS`] characters.
//!
//! Nothing here touches a booked consultation: the schedule decides which
//! slots are offered to new bookings only.

use jiff::civil::{Date, Time, Weekday};

use crate::booking::{OpeningHours, StaffAvailability, SLOT_MINUTES};
use crate::inquiry::FieldError;

/// The most opening intervals one weekday holds (e.g. a morning and an
/// afternoon, with room to spare).
pub const MAX_INTERVALS_PER_DAY: usize = 4;

/// The longest holiday name.
pub const HOLIDAY_NAME_MAX_CHARS: usize = 100;

/// The field names of the opening-hours form, row by row.
pub const OPENS_FIELDS: [&str; MAX_INTERVALS_PER_DAY] =
    ["opens_1", "opens_2", "opens_3", "opens_4"];
pub const CLOSES_FIELDS: [&str; MAX_INTERVALS_PER_DAY] =
    ["closes_1", "closes_2", "closes_3", "closes_4"];

/// The days of the week, Monday first, as forms name them.
pub const WEEKDAYS: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

/// A weekday's value in a form, e.g. `monday`.
pub fn weekday_value(weekday: Weekday) -> &'static str {
    match weekday {
        Weekday::Monday => "monday",
        Weekday::Tuesday => "tuesday",
        Weekday::Wednesday => "wednesday",
        Weekday::Thursday => "thursday",
        Weekday::Friday => "friday",
        Weekday::Saturday => "saturday",
        Weekday::Sunday => "sunday",
    }
}

/// A weekday's name for people, e.g. `Monday`.
pub fn weekday_label(weekday: Weekday) -> &'static str {
    match weekday {
        Weekday::Monday => "Monday",
        Weekday::Tuesday => "Tuesday",
        Weekday::Wednesday => "Wednesday",
        Weekday::Thursday => "Thursday",
        Weekday::Friday => "Friday",
        Weekday::Saturday => "Saturday",
        Weekday::Sunday => "Sunday",
    }
}

/// Reads a weekday written by [`weekday_value`].
pub fn parse_weekday(text: &str) -> Result<Weekday, FieldError> {
    WEEKDAYS
        .into_iter()
        .find(|&day| weekday_value(day) == text.trim())
        .ok_or_else(|| FieldError {
            field: "weekday",
            message: "choose a day of the week from the list".into(),
        })
}

/// Reads a time of day written `HH:MM` (24-hour). The message names the rule.
pub fn parse_time_of_day(text: &str) -> Result<Time, String> {
    let bad = || format!("must be a time of day written HH:MM (24-hour), e.g. 09:00; got `{text}`");
    let text = text.trim();
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| bytes[range].iter().all(u8::is_ascii_digit);
    if bytes.len() != 5 || bytes[2] != b':' || !digits(0..2) || !digits(3..5) {
        return Err(bad());
    }
    let hour: i8 = text[0..2].parse().map_err(|_| bad())?;
    let minute: i8 = text[3..5].parse().map_err(|_| bad())?;
    // Two ASCII digits each: never negative.
    if hour > 23 || minute > 59 {
        return Err(bad());
    }
    Time::new(hour, minute, 0, 0).map_err(|_| bad())
}

/// A time of day as forms and the database write it, `HH:MM`.
pub fn hhmm(time: Time) -> String {
    time.strftime("%H:%M").to_string()
}

/// The opening-hours form of one weekday as posted: up to
/// [`MAX_INTERVALS_PER_DAY`] rows; a row with both times empty is unused,
/// and a day with every row empty is closed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpeningHoursForm {
    pub weekday: String,
    pub opens: [String; MAX_INTERVALS_PER_DAY],
    pub closes: [String; MAX_INTERVALS_PER_DAY],
}

/// The new opening hours of one weekday (empty: closed), earliest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeekdayHours {
    pub weekday: Weekday,
    pub hours: Vec<OpeningHours>,
}

impl OpeningHoursForm {
    /// Checks every row and reports every error at once.
    pub fn validate(&self) -> Result<WeekdayHours, Vec<FieldError>> {
        let mut errors = Vec::new();
        let weekday = parse_weekday(&self.weekday)
            .map_err(|err| errors.push(err))
            .ok();
        // (row, opens, closes) of each well-formed row.
        let mut intervals: Vec<(usize, Time, Time)> = Vec::new();
        for row in 0..MAX_INTERVALS_PER_DAY {
            let (opens, closes) = (self.opens[row].trim(), self.closes[row].trim());
            if opens.is_empty() && closes.is_empty() {
                continue;
            }
            if let Some((starts, ends)) = interval(
                opens,
                closes,
                (OPENS_FIELDS[row], CLOSES_FIELDS[row]),
                "the clinic opens",
                &mut errors,
            ) {
                intervals.push((row, starts, ends));
            }
        }
        intervals.sort_by_key(|&(_, starts, _)| starts);
        // Each overlap is reported once, on the row further down the form.
        let mut blamed = Vec::new();
        for pair in intervals.windows(2) {
            let (earlier, later) = (pair[0], pair[1]);
            if later.1 < earlier.2 {
                let (row, other) = if later.0 > earlier.0 {
                    (later.0, earlier)
                } else {
                    (earlier.0, later)
                };
                if blamed.contains(&row) {
                    continue;
                }
                blamed.push(row);
                errors.push(FieldError {
                    field: OPENS_FIELDS[row],
                    message: format!(
                        "overlaps the interval {}–{}: intervals of one day must not overlap",
                        hhmm(other.1),
                        hhmm(other.2)
                    ),
                });
            }
        }
        match (weekday, errors.is_empty()) {
            (Some(weekday), true) => Ok(WeekdayHours {
                weekday,
                hours: intervals
                    .into_iter()
                    .map(|(_, opens, closes)| OpeningHours {
                        weekday,
                        opens,
                        closes,
                    })
                    .collect(),
            }),
            _ => Err(errors),
        }
    }
}

/// The add-a-holiday form as posted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HolidayForm {
    /// ISO date, `YYYY-MM-DD` (what a browser's date input sends).
    pub day: String,
    pub name: String,
}

/// A whole day the clinic is closed, in its zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holiday {
    pub day: Date,
    pub name: String,
}

impl HolidayForm {
    /// Checks both fields; `today` is the clinic's date now.
    pub fn validate(&self, today: Date) -> Result<Holiday, Vec<FieldError>> {
        let mut errors = Vec::new();
        let day = match parse_date(&self.day) {
            Ok(day) if day < today => {
                errors.push(FieldError {
                    field: "day",
                    message: format!("must not be in the past (today is {today})"),
                });
                None
            }
            Ok(day) => Some(day),
            Err(message) => {
                errors.push(FieldError {
                    field: "day",
                    message,
                });
                None
            }
        };
        let name = self.name.trim().to_owned();
        if name.is_empty() {
            errors.push(FieldError {
                field: "name",
                message: "is required, e.g. Thanksgiving Day".into(),
            });
        } else if name.chars().count() > HOLIDAY_NAME_MAX_CHARS {
            errors.push(FieldError {
                field: "name",
                message: format!("must be at most {HOLIDAY_NAME_MAX_CHARS} characters"),
            });
        }
        match (day, errors.is_empty()) {
            (Some(day), true) => Ok(Holiday { day, name }),
            _ => Err(errors),
        }
    }
}

/// Reads an ISO date `YYYY-MM-DD`; the message names the rule.
pub fn parse_date(text: &str) -> Result<Date, String> {
    let text = text.trim();
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !shaped {
        return Err(format!(
            "must be a date written YYYY-MM-DD, e.g. 2026-12-24; got `{text}`"
        ));
    }
    text.parse()
        .map_err(|_| format!("`{text}` is not a date in the calendar"))
}

/// The add-availability form as posted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AvailabilityForm {
    pub staff_user_id: String,
    pub weekday: String,
    pub starts: String,
    pub ends: String,
}

impl AvailabilityForm {
    /// Checks the form against the staff who consult (`consulting_staff`,
    /// their user ids), the clinic's opening hours and the availability
    /// already recorded.
    pub fn validate(
        &self,
        consulting_staff: &[i64],
        opening_hours: &[OpeningHours],
        existing: &[StaffAvailability],
    ) -> Result<StaffAvailability, Vec<FieldError>> {
        let mut errors = Vec::new();
        let staff_user_id = match self.staff_user_id.trim().parse::<i64>() {
            Ok(id) if consulting_staff.contains(&id) => Some(id),
            _ => {
                errors.push(FieldError {
                    field: "staff_user_id",
                    message: "choose a staff member who takes consultations from the list".into(),
                });
                None
            }
        };
        let weekday = parse_weekday(&self.weekday)
            .map_err(|err| errors.push(err))
            .ok();
        let times = interval(
            self.starts.trim(),
            self.ends.trim(),
            ("starts", "ends"),
            "availability starts",
            &mut errors,
        );
        let (Some(staff_user_id), Some(weekday), Some((starts, ends))) =
            (staff_user_id, weekday, times)
        else {
            return Err(errors);
        };
        let wanted = StaffAvailability {
            staff_user_id,
            weekday,
            starts,
            ends,
        };
        if let Some(error) = outside_opening_hours(&wanted, opening_hours) {
            errors.push(error);
        }
        if let Some(other) = existing.iter().find(|a| {
            a.staff_user_id == staff_user_id
                && a.weekday == weekday
                && a.starts < ends
                && starts < a.ends
        }) {
            errors.push(FieldError {
                field: "starts",
                message: format!(
                    "overlaps this staff member's {} {}–{}: intervals of one day must not overlap",
                    weekday_label(weekday),
                    hhmm(other.starts),
                    hhmm(other.ends)
                ),
            });
        }
        if errors.is_empty() {
            Ok(wanted)
        } else {
            Err(errors)
        }
    }
}

/// Why `availability` does not fit the clinic's hours of its weekday, or
/// `None` when it does (see the module documentation for the rule). Also
/// used to flag recorded availability after the hours changed.
pub fn outside_opening_hours(
    availability: &StaffAvailability,
    opening_hours: &[OpeningHours],
) -> Option<FieldError> {
    let day: Vec<&OpeningHours> = opening_hours
        .iter()
        .filter(|h| h.weekday == availability.weekday)
        .collect();
    let label = weekday_label(availability.weekday);
    let (Some(first), Some(last)) = (
        day.iter().map(|h| h.opens).min(),
        day.iter().map(|h| h.closes).max(),
    ) else {
        return Some(FieldError {
            field: "weekday",
            message: format!("the clinic is closed on {label}s: set its opening hours first"),
        });
    };
    let span = format!("{}–{}", hhmm(first), hhmm(last));
    if availability.starts < first {
        return Some(FieldError {
            field: "starts",
            message: format!("must not be before the clinic opens on {label}s ({span})"),
        });
    }
    if availability.ends > last {
        return Some(FieldError {
            field: "ends",
            message: format!("must not be after the clinic closes on {label}s ({span})"),
        });
    }
    let offers_a_slot = day.iter().any(|h| {
        let (from, to) = (
            h.opens.max(availability.starts),
            h.closes.min(availability.ends),
        );
        from < to && minutes(from, to) >= SLOT_MINUTES
    });
    if !offers_a_slot {
        return Some(FieldError {
            field: "starts",
            message: format!(
                "lies in a break of the clinic's {label} hours: no consultation could be offered"
            ),
        });
    }
    None
}

/// Reads a `from`–`to` pair of times into `errors`' fields `fields`.
fn interval(
    from: &str,
    to: &str,
    fields: (&'static str, &'static str),
    what_starts: &str,
    errors: &mut Vec<FieldError>,
) -> Option<(Time, Time)> {
    let mut read = |text: &str, field: &'static str| {
        if text.is_empty() {
            errors.push(FieldError {
                field,
                message: "is required: give both times of the interval".into(),
            });
            return None;
        }
        parse_time_of_day(text)
            .map_err(|message| errors.push(FieldError { field, message }))
            .ok()
    };
    let (starts, ends) = (read(from, fields.0), read(to, fields.1));
    let (starts, ends) = (starts?, ends?);
    if ends <= starts {
        errors.push(FieldError {
            field: fields.1,
            message: format!("must be after {what_starts} ({})", hhmm(starts)),
        });
        return None;
    }
    if minutes(starts, ends) < SLOT_MINUTES {
        errors.push(FieldError {
            field: fields.1,
            message: format!(
                "must be at least {SLOT_MINUTES} minutes after {what_starts} ({}): one consultation is {SLOT_MINUTES} minutes",
                hhmm(starts)
            ),
        });
        return None;
    }
    Some((starts, ends))
}

fn minutes(from: Time, to: Time) -> i64 {
    let of = |t: Time| i64::from(t.hour()) * 60 + i64::from(t.minute());
    of(to) - of(from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};

    fn fields(result: Result<impl std::fmt::Debug, Vec<FieldError>>) -> Vec<&'static str> {
        match result {
            Ok(_) => Vec::new(),
            Err(errors) => errors.iter().map(|e| e.field).collect(),
        }
    }

    fn hours_form(weekday: &str, rows: &[(&str, &str)]) -> OpeningHoursForm {
        let mut form = OpeningHoursForm {
            weekday: weekday.into(),
            ..OpeningHoursForm::default()
        };
        for (n, (opens, closes)) in rows.iter().enumerate() {
            form.opens[n] = (*opens).into();
            form.closes[n] = (*closes).into();
        }
        form
    }

    #[test]
    fn times_of_day_are_hh_mm_24_hour() {
        let check = |text: &str, expected: Option<Time>| {
            assert_eq!(parse_time_of_day(text).ok(), expected, "{text:?}");
        };
        check("09:00", Some(time(9, 0, 0, 0)));
        check("00:00", Some(time(0, 0, 0, 0)));
        check("23:59", Some(time(23, 59, 0, 0)));
        check(" 17:30 ", Some(time(17, 30, 0, 0)));
        for bad in [
            "9:00",
            "09:0",
            "24:00",
            "12:60",
            "0900",
            "09.00",
            "9am",
            "",
            "+9:00",
            "09:00:00",
            "ab:cd",
            "٠٩:٠٠",
        ] {
            check(bad, None);
        }
        assert!(parse_time_of_day("25:00").unwrap_err().contains("HH:MM"));
    }

    #[test]
    fn opening_hours_of_a_day_name_each_bad_row() {
        let check = |form: OpeningHoursForm, expected: &[&str]| {
            assert_eq!(fields(form.validate()), expected, "{form:?}");
        };
        // Morning and afternoon, given out of order: accepted, sorted.
        let split = hours_form("monday", &[("13:00", "17:00"), ("09:00", "12:00")]);
        let hours = split.validate().unwrap();
        assert_eq!(hours.weekday, Weekday::Monday);
        assert_eq!(
            hours
                .hours
                .iter()
                .map(|h| (hhmm(h.opens), hhmm(h.closes)))
                .collect::<Vec<_>>(),
            [
                ("09:00".to_owned(), "12:00".to_owned()),
                ("13:00".to_owned(), "17:00".to_owned())
            ]
        );
        // Every row empty: closed that day.
        assert_eq!(hours_form("sunday", &[]).validate().unwrap().hours, []);
        // Touching intervals do not overlap.
        check(
            hours_form("monday", &[("09:00", "12:00"), ("12:00", "17:00")]),
            &[],
        );
        check(hours_form("someday", &[("09:00", "12:00")]), &["weekday"]);
        check(hours_form("monday", &[("9", "12:00")]), &["opens_1"]);
        check(hours_form("monday", &[("09:00", "")]), &["closes_1"]);
        check(hours_form("monday", &[("", "12:00")]), &["opens_1"]);
        check(hours_form("monday", &[("12:00", "09:00")]), &["closes_1"]);
        check(hours_form("monday", &[("12:00", "12:00")]), &["closes_1"]);
        check(hours_form("monday", &[("12:00", "12:10")]), &["closes_1"]);
        check(
            hours_form("monday", &[("09:00", "13:00"), ("12:30", "17:00")]),
            &["opens_2"],
        );
        check(
            hours_form(
                "monday",
                &[
                    ("08:00", "09:00"),
                    ("10:00", "11:00"),
                    ("x", "y"),
                    ("08:30", "10:30"),
                ],
            ),
            &["opens_3", "closes_3", "opens_4"],
        );
        let message = hours_form("monday", &[("12:00", "09:00")])
            .validate()
            .unwrap_err()[0]
            .message
            .clone();
        assert_eq!(message, "must be after the clinic opens (12:00)");
    }

    #[test]
    fn a_holiday_is_a_real_date_from_today_with_a_short_name() {
        let today = date(2026, 11, 23);
        let check = |day: &str, name: &str, expected: &[&str]| {
            let form = HolidayForm {
                day: day.into(),
                name: name.into(),
            };
            assert_eq!(fields(form.validate(today)), expected, "{day} {name}");
        };
        check("2026-11-26", "Thanksgiving Day", &[]);
        check("2026-11-23", "Today counts", &[]);
        check("2026-11-22", "Yesterday", &["day"]);
        check("2026-02-30", "No such day", &["day"]);
        check("26-11-2026", "Wrong order", &["day"]);
        check("", "Empty", &["day"]);
        check("2026-12-24", "  ", &["name"]);
        check("2026-12-24", &"x".repeat(100), &[]);
        check("2026-12-24", &"é".repeat(101), &["name"]);
        check("tomorrow", "", &["day", "name"]);
        let holiday = HolidayForm {
            day: " 2026-12-25 ".into(),
            name: " Christmas Day ".into(),
        }
        .validate(today)
        .unwrap();
        assert_eq!(
            holiday,
            Holiday {
                day: date(2026, 12, 25),
                name: "Christmas Day".into()
            }
        );
    }

    #[test]
    fn availability_lies_in_the_clinics_hours_and_overlaps_nothing() {
        // Mondays 09:00–12:00 and 13:00–17:00; closed on Sundays.
        let hours = [
            OpeningHours {
                weekday: Weekday::Monday,
                opens: time(9, 0, 0, 0),
                closes: time(12, 0, 0, 0),
            },
            OpeningHours {
                weekday: Weekday::Monday,
                opens: time(13, 0, 0, 0),
                closes: time(17, 0, 0, 0),
            },
        ];
        let existing = [StaffAvailability {
            staff_user_id: 7,
            weekday: Weekday::Monday,
            starts: time(9, 0, 0, 0),
            ends: time(10, 0, 0, 0),
        }];
        let check = |staff: &str, weekday: &str, starts: &str, ends: &str, expected: &[&str]| {
            let form = AvailabilityForm {
                staff_user_id: staff.into(),
                weekday: weekday.into(),
                starts: starts.into(),
                ends: ends.into(),
            };
            assert_eq!(
                fields(form.validate(&[7, 8], &hours, &existing)),
                expected,
                "{form:?}"
            );
        };
        check("7", "monday", "10:00", "12:00", &[]);
        // Across the lunch break: allowed, the break offers no slot.
        check("8", "monday", "09:00", "17:00", &[]);
        // Another staff member may take the same hours.
        check("8", "monday", "09:00", "10:00", &[]);
        check("7", "monday", "09:30", "11:00", &["starts"]);
        check("7", "monday", "08:00", "09:00", &["starts"]);
        check("7", "monday", "16:00", "18:00", &["ends"]);
        check("7", "monday", "12:00", "13:00", &["starts"]);
        check("7", "sunday", "10:00", "12:00", &["weekday"]);
        check("9", "monday", "10:00", "12:00", &["staff_user_id"]);
        check("", "monday", "10:00", "12:00", &["staff_user_id"]);
        check("7", "", "10:00", "12:00", &["weekday"]);
        check("7", "monday", "10:00", "10:05", &["ends"]);
        check("7", "monday", "11:00", "10:00", &["ends"]);
        check("7", "monday", "10 am", "", &["starts", "ends"]);
        check(
            "x",
            "x",
            "x",
            "x",
            &["staff_user_id", "weekday", "starts", "ends"],
        );
    }

    #[test]
    fn availability_left_outside_shrunk_hours_is_flagged() {
        let available = StaffAvailability {
            staff_user_id: 1,
            weekday: Weekday::Friday,
            starts: time(9, 0, 0, 0),
            ends: time(17, 0, 0, 0),
        };
        let friday = |opens, closes| OpeningHours {
            weekday: Weekday::Friday,
            opens: time(opens, 0, 0, 0),
            closes: time(closes, 0, 0, 0),
        };
        assert_eq!(outside_opening_hours(&available, &[friday(9, 17)]), None);
        assert_eq!(
            outside_opening_hours(&available, &[friday(9, 13)])
                .unwrap()
                .message,
            "must not be after the clinic closes on Fridays (09:00–13:00)"
        );
        assert_eq!(
            outside_opening_hours(&available, &[]).unwrap().field,
            "weekday"
        );
    }
}
