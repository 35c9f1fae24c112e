//! The free 15-minute phone consultation: which slots are open, and the
//! public booking form.
//!
//! Slots come from three things: the clinic's opening hours per weekday,
//! its holidays (whole days, in the clinic's zone), and each consulting
//! staff member's weekly availability. A slot is open when it lies inside
//! both the clinic's hours and the staff member's on a day that is not a
//! holiday, starts after `now`, and is not taken.
//!
//! Daylight saving: hours are wall-clock times in the clinic's zone. The
//! start of an interval is read with jiff's *compatible* rule (a time in a
//! spring-forward gap is the moment of the jump; a time shown twice in the
//! autumn fold is its first showing) and the end as its *later* showing, and
//! slots are then counted in absolute 15-minute steps, so a night with a jump
//! has as many slots as real time allows and never a slot twice.

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};

use crate::contact::{Email, PhoneNumber};
use crate::inquiry::{contact_fields, name_field, FieldError};

/// Length of the free phone consultation (SPEC §1 step 2: "Free 15-minute phone
/// consultation").
pub const SLOT_MINUTES: i64 = 15;

/// The clinic is open on `weekday` from `opens` to `closes` (wall clock).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpeningHours {
    pub weekday: Weekday,
    pub opens: Time,
    pub closes: Time,
}

/// A staff member takes consultations on `weekday` from `starts` to `ends`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffAvailability {
    pub staff_user_id: i64,
    pub weekday: Weekday,
    pub starts: Time,
    pub ends: Time,
}

/// Everything that decides which slots exist.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schedule {
    pub opening_hours: Vec<OpeningHours>,
    pub holidays: Vec<Date>,
    pub availability: Vec<StaffAvailability>,
}

/// One 15-minute consultation slot with one staff member.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slot {
    pub starts_at: Timestamp,
    pub staff_user_id: i64,
}

impl Slot {
    /// The slot's form value: `STAFF_ID@UNIX_MILLISECONDS`.
    pub fn key(&self) -> String {
        format!("{}@{}", self.staff_user_id, self.starts_at.as_millisecond())
    }

    /// Reads a form value written by [`Slot::key`].
    pub fn parse(value: &str) -> Result<Slot, FieldError> {
        let bad = || FieldError {
            field: "slot",
            message: "choose one of the listed times".into(),
        };
        let (staff, millis) = value.trim().split_once('@').ok_or_else(bad)?;
        let staff_user_id: i64 = staff.parse().map_err(|_| bad())?;
        let millis: i64 = millis.parse().map_err(|_| bad())?;
        let starts_at = Timestamp::from_millisecond(millis).map_err(|_| bad())?;
        Ok(Slot {
            starts_at,
            staff_user_id,
        })
    }

    pub fn ends_at(&self) -> Timestamp {
        self.starts_at + SignedDuration::from_mins(SLOT_MINUTES)
    }
}

/// Why a chosen slot cannot be booked (before the database is asked whether
/// someone else holds it).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SlotError {
    #[error("slot: this time has already passed; choose a later one")]
    Past,
    #[error(
        "slot: the clinic offers no consultation at this time; choose one of the listed times"
    )]
    NotOffered,
}

/// The open slots from `now` over `days` calendar days in the clinic's zone
/// (today first), earliest first, leaving out `taken`.
pub fn open_slots(
    schedule: &Schedule,
    clinic_zone: &TimeZone,
    now: Timestamp,
    days: i64,
    taken: &[Slot],
) -> Vec<Slot> {
    let today = now.to_zoned(clinic_zone.clone()).date();
    let step = SignedDuration::from_mins(SLOT_MINUTES);
    let mut slots = Vec::new();
    for offset in 0..days.max(0) {
        let Ok(date) = today.checked_add(offset.days()) else {
            break;
        };
        if schedule.holidays.contains(&date) {
            continue;
        }
        let weekday = date.weekday();
        for hours in schedule
            .opening_hours
            .iter()
            .filter(|h| h.weekday == weekday)
        {
            for staff in schedule
                .availability
                .iter()
                .filter(|a| a.weekday == weekday)
            {
                let start = hours.opens.max(staff.starts);
                let end = hours.closes.min(staff.ends);
                if start >= end {
                    continue;
                }
                let (Ok(first), Ok(last)) = (
                    clinic_zone
                        .to_ambiguous_timestamp(date.to_datetime(start))
                        .compatible(),
                    clinic_zone
                        .to_ambiguous_timestamp(date.to_datetime(end))
                        .later(),
                ) else {
                    continue;
                };
                let mut at = first;
                while at + step <= last {
                    let slot = Slot {
                        starts_at: at,
                        staff_user_id: staff.staff_user_id,
                    };
                    if at > now && !taken.contains(&slot) && !slots.contains(&slot) {
                        slots.push(slot);
                    }
                    at += step;
                }
            }
        }
    }
    slots.sort();
    slots
}

/// Whether `slot` is one the schedule offers after `now`, within `days`.
pub fn check_slot(
    schedule: &Schedule,
    clinic_zone: &TimeZone,
    now: Timestamp,
    days: i64,
    slot: Slot,
) -> Result<(), SlotError> {
    if slot.starts_at <= now {
        return Err(SlotError::Past);
    }
    if open_slots(schedule, clinic_zone, now, days, &[]).contains(&slot) {
        Ok(())
    } else {
        Err(SlotError::NotOffered)
    }
}

/// Why a booking without a phone number is refused, in the person's words.
pub const PHONE_NEEDED: &str = "please give the number we should call you on, as the \
     consultation is a phone call (if you would rather write, use the message form on the clinic \
     page instead)";

/// The public booking form as posted.
#[derive(Clone, Debug, Default)]
pub struct BookingForm {
    pub name: String,
    pub phone: String,
    pub email: String,
    pub time_zone: String,
    pub slot: String,
    pub consent: bool,
}

/// A validated booking request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewBooking {
    pub name: String,
    pub phone: Option<PhoneNumber>,
    pub email: Option<Email>,
    /// The person's IANA zone, in which their times are shown.
    pub time_zone: String,
    pub slot: Slot,
}

impl BookingForm {
    /// Checks every field and reports every error at once.
    pub fn validate(&self, clinic_region: &str) -> Result<NewBooking, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = name_field(&self.name, &mut errors);
        let (phone, email) = contact_fields(&self.phone, &self.email, clinic_region, &mut errors);
        let mut fail = |field: &'static str, message: String| {
            errors.push(FieldError { field, message });
        };
        // The consultation is a phone call (SPEC §1 step 2): without a
        // number there is nobody to call, whatever the confirmation says.
        if self.phone.trim().is_empty() {
            fail("phone", PHONE_NEEDED.into());
        }
        let time_zone = self.time_zone.trim().to_owned();
        if TimeZone::get(&time_zone).is_err() {
            fail(
                "time_zone",
                "choose your time zone from the list (an IANA name such as America/Chicago)".into(),
            );
        }
        if !self.consent {
            fail(
                "consent",
                "please agree that we may contact you about this consultation".into(),
            );
        }
        let slot = Slot::parse(&self.slot)
            .map_err(|err| fail(err.field, err.message))
            .ok();
        match (slot, errors.is_empty()) {
            (Some(slot), true) => Ok(NewBooking {
                name,
                phone,
                email,
                time_zone,
                slot,
            }),
            _ => Err(errors),
        }
    }
}

/// Where a consultation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConsultationStatus {
    Booked,
    Held,
    NoShow,
    Cancelled,
}

impl ConsultationStatus {
    pub const ALL: [ConsultationStatus; 4] = [
        ConsultationStatus::Booked,
        ConsultationStatus::Held,
        ConsultationStatus::NoShow,
        ConsultationStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConsultationStatus::Booked => "booked",
            ConsultationStatus::Held => "held",
            ConsultationStatus::NoShow => "no-show",
            ConsultationStatus::Cancelled => "cancelled",
        }
    }

    /// Reads a status written by [`ConsultationStatus::as_str`].
    pub fn parse(text: &str) -> Option<ConsultationStatus> {
        ConsultationStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

impl std::fmt::Display for ConsultationStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Compares with the stored word.
impl PartialEq<&str> for ConsultationStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// What happened to a consultation, as an event of the person's thread
/// (SPEC §1 step 2: booking, rescheduling and no-shows are handled).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConsultationEventKind {
    Booked,
    Moved,
    Cancelled,
    NoShow,
    Held,
}

impl ConsultationEventKind {
    pub const ALL: [ConsultationEventKind; 5] = [
        ConsultationEventKind::Booked,
        ConsultationEventKind::Moved,
        ConsultationEventKind::Cancelled,
        ConsultationEventKind::NoShow,
        ConsultationEventKind::Held,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConsultationEventKind::Booked => "booked",
            ConsultationEventKind::Moved => "moved",
            ConsultationEventKind::Cancelled => "cancelled",
            ConsultationEventKind::NoShow => "no-show",
            ConsultationEventKind::Held => "held",
        }
    }

    pub fn parse(text: &str) -> Option<ConsultationEventKind> {
        ConsultationEventKind::ALL
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

/// Staff's reason for cancelling a consultation: required, one line's
/// worth (at most 500 characters), kept in the thread.
pub fn cancel_reason(text: &str) -> Result<String, FieldError> {
    let reason = text.trim();
    if reason.is_empty() {
        return Err(FieldError {
            field: "reason",
            message: "say why the consultation is cancelled (the person's thread keeps it)".into(),
        });
    }
    if reason.chars().count() > 500 {
        return Err(FieldError {
            field: "reason",
            message: "keep the reason to 500 characters or fewer".into(),
        });
    }
    if reason
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(FieldError {
            field: "reason",
            message: "must be plain text, without control characters".into(),
        });
    }
    Ok(reason.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};

    fn la() -> TimeZone {
        TimeZone::get("America/Los_Angeles").unwrap()
    }

    fn schedule(open: Time, close: Time, staff: &[(i64, Time, Time)]) -> Schedule {
        let every = [
            Weekday::Monday,
            Weekday::Tuesday,
            Weekday::Wednesday,
            Weekday::Thursday,
            Weekday::Friday,
            Weekday::Saturday,
            Weekday::Sunday,
        ];
        Schedule {
            opening_hours: every
                .iter()
                .map(|&weekday| OpeningHours {
                    weekday,
                    opens: open,
                    closes: close,
                })
                .collect(),
            holidays: Vec::new(),
            availability: every
                .iter()
                .flat_map(|&weekday| {
                    staff
                        .iter()
                        .map(move |&(id, starts, ends)| StaffAvailability {
                            staff_user_id: id,
                            weekday,
                            starts,
                            ends,
                        })
                })
                .collect(),
        }
    }

    fn starts(slots: &[Slot]) -> Vec<String> {
        slots
            .iter()
            .map(|s| format!("{}#{}", s.starts_at, s.staff_user_id))
            .collect()
    }

    #[test]
    fn slots_lie_inside_clinic_and_staff_hours_and_skip_the_past() {
        // Wednesday 25 Nov 2026, 09:20 PST (17:20Z). Clinic 09:00–10:00,
        // staff 7 from 08:00 to 09:45 and staff 9 from 09:30.
        let plan = schedule(
            time(9, 0, 0, 0),
            time(10, 0, 0, 0),
            &[
                (7, time(8, 0, 0, 0), time(9, 45, 0, 0)),
                (9, time(9, 30, 0, 0), time(17, 0, 0, 0)),
            ],
        );
        let now: Timestamp = "2026-11-25T17:20Z".parse().unwrap();
        let slots = open_slots(&plan, &la(), now, 1, &[]);
        assert_eq!(
            starts(&slots),
            [
                "2026-11-25T17:30:00Z#7",
                "2026-11-25T17:30:00Z#9",
                "2026-11-25T17:45:00Z#9",
            ]
        );
    }

    #[test]
    fn taken_slots_and_holidays_are_left_out() {
        let mut plan = schedule(
            time(9, 0, 0, 0),
            time(9, 30, 0, 0),
            &[(1, time(0, 0, 0, 0), time(23, 0, 0, 0))],
        );
        plan.holidays.push(date(2026, 11, 26)); // Thanksgiving
        let now: Timestamp = "2026-11-25T08:00Z".parse().unwrap();
        let taken = [Slot {
            starts_at: "2026-11-25T17:00Z".parse().unwrap(),
            staff_user_id: 1,
        }];
        let slots = open_slots(&plan, &la(), now, 3, &taken);
        assert_eq!(
            starts(&slots),
            [
                "2026-11-25T17:15:00Z#1",
                "2026-11-27T17:00:00Z#1",
                "2026-11-27T17:15:00Z#1",
            ]
        );
    }

    #[test]
    fn daylight_saving_days_count_real_time() {
        // Los Angeles: 8 March 2026 02:00 PST jumps to 03:00 PDT; 1 November
        // 2026 02:00 PDT falls back to 01:00 PST. Hours 01:00–03:30.
        let plan = schedule(
            time(1, 0, 0, 0),
            time(3, 30, 0, 0),
            &[(1, time(0, 0, 0, 0), time(23, 0, 0, 0))],
        );
        let now: Timestamp = "2026-03-08T08:30Z".parse().unwrap();
        let spring = open_slots(&plan, &la(), now, 1, &[]);
        // 01:00 PST = 09:00Z up to 03:30 PDT = 10:30Z: 1.5 real hours.
        assert_eq!(spring.len(), 6);
        assert_eq!(starts(&spring)[0], "2026-03-08T09:00:00Z#1");
        assert_eq!(starts(&spring)[5], "2026-03-08T10:15:00Z#1");
        let now: Timestamp = "2026-11-01T07:30Z".parse().unwrap();
        let autumn = open_slots(&plan, &la(), now, 1, &[]);
        // 01:00 PDT = 08:00Z up to 03:30 PST = 11:30Z: 3.5 real hours.
        assert_eq!(autumn.len(), 14);
        assert_eq!(starts(&autumn)[0], "2026-11-01T08:00:00Z#1");
        assert_eq!(starts(&autumn)[13], "2026-11-01T11:15:00Z#1");
    }

    #[test]
    fn a_chosen_slot_must_be_offered_and_in_the_future() {
        let plan = schedule(
            time(9, 0, 0, 0),
            time(10, 0, 0, 0),
            &[(1, time(9, 0, 0, 0), time(10, 0, 0, 0))],
        );
        let now: Timestamp = "2026-11-25T17:20Z".parse().unwrap();
        let check = |at: &str, staff: i64| {
            check_slot(
                &plan,
                &la(),
                now,
                14,
                Slot {
                    starts_at: at.parse().unwrap(),
                    staff_user_id: staff,
                },
            )
        };
        assert_eq!(check("2026-11-25T17:30Z", 1), Ok(()));
        assert_eq!(check("2026-11-25T17:15Z", 1), Err(SlotError::Past));
        assert_eq!(check("2026-11-25T17:40Z", 1), Err(SlotError::NotOffered));
        assert_eq!(check("2026-11-25T17:30Z", 2), Err(SlotError::NotOffered));
    }

    #[test]
    fn the_booking_form_names_each_bad_field() {
        let check = |form: BookingForm, expected: &[&str]| {
            let fields: Vec<&str> = match form.validate("US") {
                Ok(_) => Vec::new(),
                Err(errors) => errors.iter().map(|e| e.field).collect(),
            };
            assert_eq!(fields, expected, "{form:?}");
        };
        let good = BookingForm {
            name: "Ana López".into(),
            phone: "(503) 725-3000".into(),
            email: String::new(),
            time_zone: "America/Chicago".into(),
            slot: "3@1795626000000".into(),
            consent: true,
        };
        check(good.clone(), &[]);
        check(
            BookingForm {
                name: " ".into(),
                ..good.clone()
            },
            &["name"],
        );
        check(
            BookingForm {
                phone: String::new(),
                ..good.clone()
            },
            &["phone"],
        );
        check(
            BookingForm {
                phone: "12".into(),
                ..good.clone()
            },
            &["phone"],
        );
        check(
            BookingForm {
                time_zone: "Mars/Base".into(),
                ..good.clone()
            },
            &["time_zone"],
        );
        check(
            BookingForm {
                consent: false,
                ..good.clone()
            },
            &["consent"],
        );
        check(
            BookingForm {
                slot: "tomorrow".into(),
                ..good.clone()
            },
            &["slot"],
        );
        check(
            BookingForm {
                slot: "3@99999999999999999999".into(),
                ..good
            },
            &["slot"],
        );
    }

    #[test]
    fn a_phone_consultation_needs_a_phone_number_even_with_an_email() {
        let form = BookingForm {
            name: "Ana López".into(),
            phone: " ".into(),
            email: "ana@example.org".into(),
            time_zone: "America/Chicago".into(),
            slot: "3@1795626000000".into(),
            consent: true,
        };
        let errors = form.validate("US").expect_err("refused");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "phone");
        assert!(
            errors[0].message.contains("phone call"),
            "{}",
            errors[0].message
        );
    }

    #[test]
    fn a_cancel_reason_is_required_plain_and_short() {
        assert_eq!(cancel_reason("  Staff ill ").as_deref(), Ok("Staff ill"));
        for bad in ["", "   ", "a\u{7}b"] {
            assert_eq!(cancel_reason(bad).unwrap_err().field, "reason", "{bad:?}");
        }
        assert!(cancel_reason(&"x".repeat(501)).is_err());
        for kind in ConsultationEventKind::ALL {
            assert_eq!(ConsultationEventKind::parse(kind.as_str()), Some(kind));
        }
    }
}

/// The longest lead time of a reminder: two weeks before the call.
pub const REMINDER_MAX_LEAD_HOURS: i64 = 14 * 24;

/// Reads the reminder lead times, a comma-separated list such as `24h,1h`
/// or `48h,90m` (hours `h` or minutes `m`, each from 5 minutes to two
/// weeks, no repeats), or `none` for no reminders. Largest first.
pub fn parse_reminder_leads(text: &str) -> Result<Vec<SignedDuration>, String> {
    let rule = "must be a comma-separated list like 24h,1h (hours h or minutes m, \
                each from 5m to 336h, no repeats), or none";
    let text = text.trim();
    if text.eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    let mut leads = Vec::new();
    for item in text.split(',') {
        let item = item.trim();
        let (number, minutes_per) = if let Some(n) = item.strip_suffix('h') {
            (n, 60)
        } else if let Some(n) = item.strip_suffix('m') {
            (n, 1)
        } else {
            return Err(rule.to_owned());
        };
        let n: i64 = number.parse().map_err(|_| rule)?;
        let minutes = n.checked_mul(minutes_per).ok_or(rule)?;
        if !(5..=REMINDER_MAX_LEAD_HOURS * 60).contains(&minutes) {
            return Err(rule.to_owned());
        }
        let lead = SignedDuration::from_mins(minutes);
        if leads.contains(&lead) {
            return Err(rule.to_owned());
        }
        leads.push(lead);
    }
    leads.sort_by(|a, b| b.cmp(a));
    Ok(leads)
}

/// Hours in which no text goes to a person, on their own clock: from
/// `starts` (e.g. 21:00) to `ends` the next morning (e.g. 08:00).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuietHours {
    pub starts: Time,
    pub ends: Time,
}

impl Default for QuietHours {
    /// 21:00–08:00: the US TCPA's calling window is 08:00–21:00 local time
    /// (47 CFR 64.1200(c)(1)); texts follow the same rule here.
    fn default() -> QuietHours {
        QuietHours {
            starts: Time::constant(21, 0, 0, 0),
            ends: Time::constant(8, 0, 0, 0),
        }
    }
}

impl QuietHours {
    /// Reads `HH:MM-HH:MM` (24-hour, e.g. `21:00-08:00`); the hours may
    /// run past midnight but must not be empty.
    pub fn parse(text: &str) -> Result<QuietHours, String> {
        let rule = "must be HH:MM-HH:MM, e.g. 21:00-08:00, with two different times";
        let (starts, ends) = text.trim().split_once('-').ok_or(rule)?;
        let time = |t: &str| -> Result<Time, String> {
            let t = t.trim();
            let (h, m) = t.split_once(':').ok_or(rule)?;
            if h.len() != 2 || m.len() != 2 {
                return Err(rule.to_owned());
            }
            let hour: i8 = h.parse().map_err(|_| rule)?;
            let minute: i8 = m.parse().map_err(|_| rule)?;
            Time::new(hour, minute, 0, 0).map_err(|_| rule.to_owned())
        };
        let hours = QuietHours {
            starts: time(starts)?,
            ends: time(ends)?,
        };
        if hours.starts == hours.ends {
            return Err(rule.to_owned());
        }
        Ok(hours)
    }

    fn contains(&self, time: Time) -> bool {
        if self.starts <= self.ends {
            self.starts <= time && time < self.ends
        } else {
            time >= self.starts || time < self.ends
        }
    }
}

/// When a text meant for `wanted` may go out to a person in `zone`: then,
/// unless that is in their quiet hours, in which case at the quiet hours'
/// end (the next morning's 08:00). `None` when that is not before
/// `deadline` (the appointment), so the text is skipped.
pub fn text_time(
    wanted: Timestamp,
    zone: &TimeZone,
    quiet: QuietHours,
    deadline: Timestamp,
) -> Option<Timestamp> {
    let local = wanted.to_zoned(zone.clone());
    let at = if quiet.contains(local.time()) {
        let mut date = local.date();
        if local.time() >= quiet.ends {
            date = date.tomorrow().ok()?;
        }
        zone.to_ambiguous_timestamp(date.to_datetime(quiet.ends))
            .compatible()
            .ok()?
    } else {
        wanted
    };
    (at < deadline).then_some(at)
}

#[cfg(test)]
mod quiet_tests {
    use super::*;

    #[test]
    fn texts_in_the_night_move_to_the_morning_or_are_skipped() {
        let check = |wanted: &str, zone: &str, deadline: &str, expected: Option<&str>| {
            let tz = TimeZone::get(zone).unwrap();
            let got = text_time(
                wanted.parse().unwrap(),
                &tz,
                QuietHours::default(),
                deadline.parse().unwrap(),
            );
            assert_eq!(
                got,
                expected.map(|e| e.parse().unwrap()),
                "{wanted} in {zone}"
            );
        };
        // 12:00 CST: daytime, unchanged.
        check(
            "2026-11-22T18:00Z",
            "America/Chicago",
            "2026-11-23T18:00Z",
            Some("2026-11-22T18:00Z"),
        );
        // 23:30 IST Sunday → 08:00 IST Monday = 02:30Z.
        check(
            "2026-11-22T18:00Z",
            "Asia/Kolkata",
            "2026-11-23T18:00Z",
            Some("2026-11-23T02:30Z"),
        );
        // 05:00 IST Monday → 08:00 IST the same morning.
        check(
            "2026-11-22T23:30Z",
            "Asia/Kolkata",
            "2026-11-23T18:00Z",
            Some("2026-11-23T02:30Z"),
        );
        // 22:30 IST Monday → 08:00 Tuesday, after the 23:30 IST call: skipped.
        check(
            "2026-11-23T17:00Z",
            "Asia/Kolkata",
            "2026-11-23T18:00Z",
            None,
        );
        // Exactly 21:00 is quiet; 20:59 is not; 08:00 is not.
        check(
            "2026-11-23T03:00Z",
            "America/Chicago",
            "2026-11-24T18:00Z",
            Some("2026-11-23T14:00Z"),
        );
        check(
            "2026-11-23T02:59Z",
            "America/Chicago",
            "2026-11-24T18:00Z",
            Some("2026-11-23T02:59Z"),
        );
        check(
            "2026-11-23T14:00Z",
            "America/Chicago",
            "2026-11-24T18:00Z",
            Some("2026-11-23T14:00Z"),
        );
        // The night of the autumn change in Los Angeles: 23:00 PDT on
        // 31 October → 08:00 PST on 1 November = 16:00Z.
        check(
            "2026-11-01T06:00Z",
            "America/Los_Angeles",
            "2026-11-02T00:00Z",
            Some("2026-11-01T16:00Z"),
        );
    }

    #[test]
    fn reminder_leads_parse_and_refuse_what_cannot_be_a_reminder() {
        let hours = |h| SignedDuration::from_hours(h);
        assert_eq!(
            parse_reminder_leads("24h,1h"),
            Ok(vec![hours(24), hours(1)])
        );
        assert_eq!(
            parse_reminder_leads(" 90m , 48h "),
            Ok(vec![hours(48), SignedDuration::from_mins(90)])
        );
        assert_eq!(parse_reminder_leads("none"), Ok(Vec::new()));
        for bad in [
            "", "24", "1d", "4m", "337h", "24h,24h", "60m,1h", "-1h", "h", "24h;1h",
        ] {
            let err = parse_reminder_leads(bad).unwrap_err();
            assert!(
                err.starts_with("must be a comma-separated list"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn quiet_hours_parse_across_midnight_and_refuse_nonsense() {
        assert_eq!(QuietHours::parse("21:00-08:00"), Ok(QuietHours::default()));
        let day = QuietHours::parse("12:30-13:30").unwrap();
        assert!(day.contains(Time::constant(13, 0, 0, 0)));
        assert!(!day.contains(Time::constant(14, 0, 0, 0)));
        for bad in [
            "",
            "21:00",
            "21-08",
            "9:00-08:00",
            "25:00-08:00",
            "21:00-21:00",
            "21:60-08:00",
        ] {
            assert!(QuietHours::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_booking_form_refuses_invisible_characters_in_the_name() {
        for name in ["Ana\u{0}López", "Ana\u{202E}zepóL", "Ana\u{200D}López"] {
            let form = BookingForm {
                name: name.into(),
                phone: "(503) 725-3000".into(),
                email: String::new(),
                time_zone: "America/Chicago".into(),
                slot: "3@1795626000000".into(),
                consent: true,
            };
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
