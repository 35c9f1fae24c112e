//! Best-time callbacks (SPEC §1 step 2: staff call back "inside the person's
//! best-time windows (in the person's time zone)"): when a person's next
//! contact window opens, in their own IANA time zone, and whether a callback
//! is overdue.
//!
//! # What a window means on a day the clocks change
//!
//! A window such as `weekdays 17:00-19:00` is read as wall-clock times on the
//! person's own clock: on each matching local date, the window is the span of
//! real time during which that clock shows a time from `start` up to (not
//! including) `end`. On the two days a year when the clock jumps, that gives:
//!
//! - **Gap** (spring forward, e.g. New York 2026-03-08, 02:00 → 03:00): a
//!   wall time inside the gap never shows. A start or end inside it is the
//!   moment of the jump, the first instant the clock shows a later time. So
//!   01:30–03:00 lasts 30 real minutes that day, and 02:15–02:45 does not
//!   occur at all (it is skipped, not shifted to 03:15–03:45, which the
//!   person never offered).
//! - **Fold** (fall back, e.g. New York 2026-11-01, 02:00 → 01:00): a wall
//!   time inside the fold shows twice. A start is its *first* showing and an
//!   end its *second*, so the window runs from the first moment the clock
//!   enters it until the last moment it leaves it (01:30–03:00 lasts 2½ real
//!   hours that day). The half hour 01:00–01:30 of the second pass lies
//!   inside that span although its wall time is not; we accept calling then
//!   rather than split one window into two.
//!
//! # Overdue
//!
//! A callback is *overdue* at `now` when, since its reference instant (the
//! latest attempt on the callback, or its creation when there was none), a
//! whole occurrence of one of the person's windows has opened and closed:
//! the first occurrence that *starts* at or after the reference instant
//! ended at or before `now`. A window already open when the callback was
//! created does not count (the front desk may not have had a fair chance),
//! and each attempt starts the clock again. A person who gave no window is
//! never flagged: there is no promise to break.

use jiff::civil::{Date, DateTime, Weekday};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::Timestamp;

use crate::inquiry::{ContactWindow, Days, FieldError};

/// One occurrence of a window in real time: `start` inclusive, `end`
/// exclusive, `start < end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Opening {
    pub start: Timestamp,
    pub end: Timestamp,
}

/// The next time the person may be called: the start of the next window
/// occurrence, or `now` itself while a window is open, and when that
/// occurrence closes. `None` when no window is given.
pub fn next_opening(windows: &[ContactWindow], tz: &TimeZone, now: Timestamp) -> Option<Opening> {
    let occurrence = occurrences_around(windows, tz, now)
        .into_iter()
        .find(|o| now < o.end)?;
    Some(Opening {
        start: occurrence.start.max(now),
        end: occurrence.end,
    })
}

/// Whether a callback whose clock started at `since` (its latest attempt, or
/// its creation) is overdue at `now`; see the module documentation.
pub fn is_overdue(
    windows: &[ContactWindow],
    tz: &TimeZone,
    since: Timestamp,
    now: Timestamp,
) -> bool {
    occurrences_around(windows, tz, since)
        .into_iter()
        .find(|o| since <= o.start)
        .is_some_and(|o| o.end <= now)
}

/// How many unanswered calls (no answer, voicemail) the front desk makes
/// before a callback closes the thread as "no answer": for a new inquiry,
/// and again, counted afresh, after a cancelled or missed consultation. A
/// clinic setting, not a clinical rule; default 3, at most 10 (more calls
/// than that to someone who does not answer is pestering, not care).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallbackTries(u8);

impl CallbackTries {
    pub const MAX: u8 = 10;

    /// Reads the setting: a whole number from 1 to [`CallbackTries::MAX`].
    pub fn parse(text: &str) -> Result<CallbackTries, String> {
        let max = CallbackTries::MAX;
        let rule = || format!("a whole number of calls from 1 to {max}, e.g. 3");
        let n: u8 = text.trim().parse().map_err(|_| rule())?;
        if (1..=max).contains(&n) {
            Ok(CallbackTries(n))
        } else {
            Err(rule())
        }
    }

    pub fn get(self) -> i64 {
        i64::from(self.0)
    }
}

impl Default for CallbackTries {
    fn default() -> CallbackTries {
        CallbackTries(3)
    }
}

/// What came of one attempt to reach a person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptOutcome {
    Reached,
    NoAnswer,
    LeftVoicemail,
    WrongNumber,
    AskedToStop,
}

impl AttemptOutcome {
    pub const ALL: &'static [AttemptOutcome] = &[
        AttemptOutcome::Reached,
        AttemptOutcome::NoAnswer,
        AttemptOutcome::LeftVoicemail,
        AttemptOutcome::WrongNumber,
        AttemptOutcome::AskedToStop,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Reached => "reached",
            AttemptOutcome::NoAnswer => "no-answer",
            AttemptOutcome::LeftVoicemail => "left-voicemail",
            AttemptOutcome::WrongNumber => "wrong-number",
            AttemptOutcome::AskedToStop => "asked-to-stop",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AttemptOutcome::Reached => "Reached",
            AttemptOutcome::NoAnswer => "No answer",
            AttemptOutcome::LeftVoicemail => "Left voicemail",
            AttemptOutcome::WrongNumber => "Wrong number",
            AttemptOutcome::AskedToStop => "Asked us to stop",
        }
    }

    /// Whether the person did not pick up: these count towards closing the
    /// thread as "no answer" (a voicemail left is still a call unanswered).
    pub fn is_unanswered(self) -> bool {
        matches!(
            self,
            AttemptOutcome::NoAnswer | AttemptOutcome::LeftVoicemail
        )
    }
}

impl std::str::FromStr for AttemptOutcome {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<AttemptOutcome, FieldError> {
        AttemptOutcome::ALL
            .iter()
            .copied()
            .find(|o| o.as_str() == s.trim())
            .ok_or_else(|| FieldError {
                field: "outcome",
                message: "choose reached, no answer, left voicemail, wrong number or asked to stop"
                    .into(),
            })
    }
}

/// Whether a call at `at` falls inside one of the person's windows, read on
/// their own clock in `tz` (a wall time, as the module documentation
/// says): the staff booking page marks such slots and warns about the
/// others. No window given: nothing is inside, and nothing is promised.
pub fn within_windows(windows: &[ContactWindow], tz: &TimeZone, at: Timestamp) -> bool {
    let local = at.to_zoned(tz.clone());
    let time = local.time();
    windows
        .iter()
        .any(|w| w.days.includes(local.weekday()) && w.start <= time && time < w.end)
}

/// Reads the stored form of a person's windows, `weekdays 17:00-19:00;
/// weekends 09:00-12:00` (possibly empty).
pub fn parse_windows(stored: &str) -> Result<Vec<ContactWindow>, FieldError> {
    stored
        .split(';')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(str::parse)
        .collect()
}

impl Days {
    /// Whether the window applies on `weekday`.
    pub fn includes(self, weekday: Weekday) -> bool {
        let weekend = matches!(weekday, Weekday::Saturday | Weekday::Sunday);
        match self {
            Days::Weekdays => !weekend,
            Days::Weekends => weekend,
            Days::EveryDay => true,
        }
    }
}

/// Every window occurrence on the local dates from the day before `at` to
/// eight days after, by start. Windows repeat at least weekly, so the first
/// occurrence ending after `at` is always among them.
fn occurrences_around(windows: &[ContactWindow], tz: &TimeZone, at: Timestamp) -> Vec<Opening> {
    let today = at.to_zoned(tz.clone()).date();
    let mut found = Vec::new();
    for offset in -1..=8 {
        let Ok(date) = today.checked_add(jiff::Span::new().days(offset)) else {
            continue;
        };
        for window in windows {
            if let Some(occurrence) = occurrence_on(window, tz, date) {
                found.push(occurrence);
            }
        }
    }
    found.sort_by_key(|o| (o.start, o.end));
    found
}

/// The window on one local date, or `None` when it does not apply that day
/// or lies wholly inside a daylight-saving gap.
fn occurrence_on(window: &ContactWindow, tz: &TimeZone, date: Date) -> Option<Opening> {
    if !window.days.includes(date.weekday()) {
        return None;
    }
    let start = instant(tz, date.to_datetime(window.start), FoldSide::First)?;
    let end = instant(tz, date.to_datetime(window.end), FoldSide::Second)?;
    (start < end).then_some(Opening { start, end })
}

#[derive(Clone, Copy)]
enum FoldSide {
    First,
    Second,
}

/// The instant a wall-clock time shows on the person's clock: in a gap, the
/// moment of the jump; in a fold, its first or second showing.
fn instant(tz: &TimeZone, wall: DateTime, fold: FoldSide) -> Option<Timestamp> {
    let ambiguous = tz.to_ambiguous_timestamp(wall);
    match ambiguous.offset() {
        AmbiguousOffset::Unambiguous { .. } => ambiguous.compatible().ok(),
        AmbiguousOffset::Gap { after, .. } => {
            // Read with the later offset, the wall time falls just before
            // the jump; the next transition is the jump itself.
            let before_jump = after.to_timestamp(wall).ok()?;
            tz.following(before_jump).next().map(|t| t.timestamp())
        }
        AmbiguousOffset::Fold { .. } => match fold {
            FoldSide::First => ambiguous.earlier().ok(),
            FoldSide::Second => ambiguous.later().ok(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn windows(text: &str) -> Vec<ContactWindow> {
        parse_windows(text).unwrap()
    }

    /// One row of the table: the person's windows and zone, `now`, and the
    /// opening expected, written out by hand in UTC.
    fn check(stored: &str, zone: &str, now: &str, expected: Option<(&str, &str)>) {
        let tz = TimeZone::get(zone).unwrap();
        let got = next_opening(&windows(stored), &tz, ts(now));
        let expected = expected.map(|(start, end)| Opening {
            start: ts(start),
            end: ts(end),
        });
        assert_eq!(got, expected, "{stored} in {zone} at {now}");
    }

    // Calendar facts used below (tzdb rules, 2026): New York springs forward
    // on Sunday 8 March at 02:00 EST (07:00Z) and falls back on Sunday
    // 1 November at 02:00 EDT (06:00Z); London springs forward on Sunday
    // 29 March at 01:00 GMT (01:00Z) and falls back on Sunday 25 October at
    // 02:00 BST (01:00Z). 1 January 2026 is a Thursday; 25 November 2026 a
    // Wednesday.

    #[test]
    fn new_york_spring_forward() {
        // 01:30 EST = 06:30Z; the clock jumps 01:59:59 EST → 03:00 EDT, and
        // 03:00 EDT = 07:00Z: the window lasts 30 real minutes.
        check(
            "every-day 01:30-03:00",
            "America/New_York",
            "2026-03-08T05:00Z", // midnight EST
            Some(("2026-03-08T06:30Z", "2026-03-08T07:00Z")),
        );
        // 02:15-02:45 never shows on 8 March: skipped. On 9 March (EDT,
        // UTC-4) 02:15 = 06:15Z and 02:45 = 06:45Z.
        check(
            "every-day 02:15-02:45",
            "America/New_York",
            "2026-03-08T05:00Z",
            Some(("2026-03-09T06:15Z", "2026-03-09T06:45Z")),
        );
        // A start inside the gap opens at the jump (07:00Z); 04:00 EDT = 08:00Z.
        check(
            "every-day 02:30-04:00",
            "America/New_York",
            "2026-03-08T05:00Z",
            Some(("2026-03-08T07:00Z", "2026-03-08T08:00Z")),
        );
        // A weekday window the Monday after: 17:00 EDT = 21:00Z, not 22:00Z.
        check(
            "weekdays 17:00-19:00",
            "America/New_York",
            "2026-03-08T12:00Z",
            Some(("2026-03-09T21:00Z", "2026-03-09T23:00Z")),
        );
    }

    #[test]
    fn new_york_fall_back() {
        // 01:30 shows first at 01:30 EDT = 05:30Z; 03:00 EST = 08:00Z: the
        // window lasts 2½ real hours on 1 November.
        check(
            "every-day 01:30-03:00",
            "America/New_York",
            "2026-11-01T04:00Z", // midnight EDT
            Some(("2026-11-01T05:30Z", "2026-11-01T08:00Z")),
        );
        // An end inside the fold is its second showing: 01:15 EST = 06:15Z.
        check(
            "every-day 00:30-01:15",
            "America/New_York",
            "2026-11-01T04:00Z",
            Some(("2026-11-01T04:30Z", "2026-11-01T06:15Z")),
        );
        // At 05:45Z the clock shows 01:45 EDT: inside, open now.
        check(
            "every-day 01:30-03:00",
            "America/New_York",
            "2026-11-01T05:45Z",
            Some(("2026-11-01T05:45Z", "2026-11-01T08:00Z")),
        );
    }

    #[test]
    fn london_both_changes() {
        // Sunday 29 March: 00:30 GMT = 00:30Z; 01:30 is in the gap
        // (01:00 GMT → 02:00 BST), so the window closes at the jump, 01:00Z.
        check(
            "weekends 00:30-01:30",
            "Europe/London",
            "2026-03-29T00:00Z",
            Some(("2026-03-29T00:30Z", "2026-03-29T01:00Z")),
        );
        // Sunday 25 October at 00:00Z the clock shows 01:00 BST: the window
        // 01:00-01:30 is open, and stays open until 01:30 GMT = 01:30Z.
        check(
            "every-day 01:00-01:30",
            "Europe/London",
            "2026-10-25T00:00Z",
            Some(("2026-10-25T00:00Z", "2026-10-25T01:30Z")),
        );
        // The Monday after, GMT = UTC: 09:00-10:00 is 09:00Z-10:00Z.
        check(
            "weekdays 09:00-10:00",
            "Europe/London",
            "2026-10-25T12:00Z",
            Some(("2026-10-26T09:00Z", "2026-10-26T10:00Z")),
        );
    }

    #[test]
    fn zones_without_daylight_saving() {
        // Phoenix is MST (UTC-7) all year, also on New York's change day.
        // Sunday 08:00 MST → Monday 9 March 09:00 MST = 16:00Z.
        check(
            "weekdays 09:00-11:00",
            "America/Phoenix",
            "2026-03-08T15:00Z",
            Some(("2026-03-09T16:00Z", "2026-03-09T18:00Z")),
        );
        // Kolkata is UTC+05:30. Wednesday 25 November 12:00Z = 17:30 IST;
        // next weekend day Saturday 28th, 10:00 IST = 04:30Z.
        check(
            "weekends 10:00-12:00",
            "Asia/Kolkata",
            "2026-11-25T12:00Z",
            Some(("2026-11-28T04:30Z", "2026-11-28T06:30Z")),
        );
    }

    #[test]
    fn weekdays_and_weekends() {
        // Thursday 26 November 19:30 EST (00:30Z Friday): next is Friday
        // 17:00 EST = 22:00Z.
        check(
            "weekdays 17:00-19:00",
            "America/New_York",
            "2026-11-27T00:30Z",
            Some(("2026-11-27T22:00Z", "2026-11-28T00:00Z")),
        );
        // Friday 19:30 EST: the weekend is skipped, Monday 30th 22:00Z.
        check(
            "weekdays 17:00-19:00",
            "America/New_York",
            "2026-11-28T00:30Z",
            Some(("2026-11-30T22:00Z", "2026-12-01T00:00Z")),
        );
        // The end is exclusive: at Monday 19:00 EST the window has closed.
        check(
            "weekdays 17:00-19:00",
            "America/New_York",
            "2026-12-01T00:00Z",
            Some(("2026-12-01T22:00Z", "2026-12-02T00:00Z")),
        );
        // Two windows, Chicago (CST, UTC-6). Friday 17:30 CST: inside the
        // weekday window, open now until 19:00 CST = 01:00Z.
        check(
            "weekdays 17:00-19:00; weekends 09:00-12:00",
            "America/Chicago",
            "2026-11-27T23:30Z",
            Some(("2026-11-27T23:30Z", "2026-11-28T01:00Z")),
        );
        // Friday 20:00 CST: next is Saturday 09:00 CST = 15:00Z.
        check(
            "weekdays 17:00-19:00; weekends 09:00-12:00",
            "America/Chicago",
            "2026-11-28T02:00Z",
            Some(("2026-11-28T15:00Z", "2026-11-28T18:00Z")),
        );
        // No window given: no opening.
        check("", "America/Chicago", "2026-11-28T02:00Z", None);
    }

    #[test]
    fn overdue_after_a_whole_window_without_an_attempt() {
        let ny = TimeZone::get("America/New_York").unwrap();
        let evenings = windows("weekdays 17:00-19:00");
        let check = |since: &str, now: &str, expected: bool| {
            assert_eq!(
                is_overdue(&evenings, &ny, ts(since), ts(now)),
                expected,
                "since {since}, now {now}"
            );
        };
        // Created Monday 30 November 18:00 EST (23:00Z), inside that day's
        // window, which does not count. The next, Tuesday 22:00Z-00:00Z:
        check("2026-11-30T23:00Z", "2026-12-01T23:30Z", false); // still open
        check("2026-11-30T23:00Z", "2026-12-02T00:00Z", true); // just closed
                                                               // An attempt on Tuesday 17:10 EST (22:10Z) restarts the clock: the
                                                               // next whole window is Wednesday 22:00Z-00:00Z.
        check("2026-12-01T22:10Z", "2026-12-02T01:00Z", false);
        check("2026-12-01T22:10Z", "2026-12-03T00:00Z", true);

        // Across the spring gap: 02:15-02:45 does not occur on 8 March, so a
        // callback created on the 7th at 12:00Z is not overdue on the 8th;
        // it is once 9 March 02:45 EDT (06:45Z) has passed.
        let night = windows("every-day 02:15-02:45");
        assert!(!is_overdue(
            &night,
            &ny,
            ts("2026-03-07T12:00Z"),
            ts("2026-03-08T08:00Z")
        ));
        assert!(is_overdue(
            &night,
            &ny,
            ts("2026-03-07T12:00Z"),
            ts("2026-03-09T06:45Z")
        ));
        // Without windows, never overdue.
        assert!(!is_overdue(
            &[],
            &ny,
            ts("2026-01-01T00:00Z"),
            ts("2026-12-01T00:00Z")
        ));
    }

    #[test]
    fn stored_windows_are_read_and_bad_ones_named() {
        assert_eq!(
            windows("weekdays 17:00-19:00; weekends 09:00-12:00").len(),
            2
        );
        assert_eq!(windows("  ").len(), 0);
        let err = parse_windows("weekdays 17:00-19:00; sometimes").unwrap_err();
        assert_eq!(err.field, "windows");
    }

    #[test]
    fn callback_tries_are_a_whole_number_from_one_to_ten() {
        assert_eq!(CallbackTries::default().get(), 3);
        assert_eq!(CallbackTries::parse(" 5 ").map(CallbackTries::get), Ok(5));
        assert_eq!(CallbackTries::parse("10").map(CallbackTries::get), Ok(10));
        for bad in ["0", "11", "-1", "three", "", "2.5"] {
            let err = CallbackTries::parse(bad).expect_err(bad);
            assert!(err.contains("from 1 to 10"), "{bad}: {err}");
        }
    }

    #[test]
    fn a_slot_is_within_windows_on_the_person_s_own_clock() {
        let windows = parse_windows("weekdays 17:00-19:00").unwrap();
        let chicago = TimeZone::get("America/Chicago").unwrap();
        // Monday 30 November 2026, 17:30 in Chicago is 23:30 UTC.
        let inside: Timestamp = "2026-11-30T23:30Z".parse().unwrap();
        assert!(within_windows(&windows, &chicago, inside));
        // 19:00 is the window's end, not inside it.
        let at_end: Timestamp = "2026-12-01T01:00Z".parse().unwrap();
        assert!(!within_windows(&windows, &chicago, at_end));
        // The same instant is 15:30 in Los Angeles: outside there.
        let la = TimeZone::get("America/Los_Angeles").unwrap();
        assert!(!within_windows(&windows, &la, inside));
        // Saturday is not a weekday.
        let saturday: Timestamp = "2026-11-28T23:30Z".parse().unwrap();
        assert!(!within_windows(&windows, &chicago, saturday));
        assert!(!within_windows(&[], &chicago, inside));
    }
}
