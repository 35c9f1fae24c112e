//! Questionnaires on schedule: which instruments a patient answers and when
//! (issue's "questionnaires on schedule", SPEC §1 step 6).
//!
//! Which: NRS, PEG, PHQ-9 and GAD-7 for everyone; the Oswestry Disability
//! Index for back pain, HIT-6 for headache, the FIQR for fibromyalgia (by the
//! chart's ICD-10-CM codes, `shared/clinical/codes.md`; the instrument for
//! each condition from `shared/clinical/instruments.md`), and the BPI short
//! form where the clinic chooses it. An instrument whose wording is licensed
//! (`Licence::Licensed`: BPI, ODI, HIT-6, FIQR, instruments.md "Licensing") is
//! assigned only when the clinic has recorded its licence: without one the
//! clinic may not put the items in front of a patient.
//!
//! When: at baseline, before each infusion, 1, 7, 14 and 28 days after a
//! series of infusions ends, then monthly until the next series. These are
//! the clinic's settings with these defaults (the timepoints are ours,
//! chosen to measure relief and how long it lasts, outcomes.md
//! "Durability"; they are not from a guideline).
//!
//! Everything here is a pure function of the settings, the patient's
//! history and the day: the caller (a job) gathers the facts and stores the
//! assignments, keyed by [`Timepoint::key`] so that one timepoint is
//! assigned once.

use std::collections::BTreeSet;
use std::fmt;

use jiff::civil::Date;
use jiff::ToSpan;

use super::{Instrument, Licence};
use crate::outcomes::{infusion_series, SeriesSettings};
use crate::screening::codes::normalize_code;

/// The conditions that add a condition-specific instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConditionGroup {
    /// Low back pain, lumbar degenerative disc disease, scoliosis → ODI.
    BackPain,
    /// Tension-type, migraine, cluster headache, eye strain → HIT-6.
    Headache,
    /// Fibromyalgia → FIQR.
    Fibromyalgia,
}

impl ConditionGroup {
    /// The instrument this condition adds (instruments.md: ODI "back pain",
    /// HIT-6 "headache impact", FIQR "fibromyalgia impact").
    pub fn instrument(self) -> Instrument {
        match self {
            ConditionGroup::BackPain => Instrument::OswestryDisabilityIndex,
            ConditionGroup::Headache => Instrument::Hit6,
            ConditionGroup::Fibromyalgia => Instrument::Fiqr,
        }
    }

    /// The group an ICD-10-CM code falls in, if any (codes.md, "Conditions
    /// the seed names": M54.50/51/59 low back pain, M51.36-/M51.37- lumbar
    /// and lumbosacral disc disease, M41 scoliosis; G44.2 tension-type,
    /// G43 migraine, G44.0 cluster headache, H53.14 eye strain; M79.7
    /// fibromyalgia).
    pub fn of_code(code: &str) -> Option<ConditionGroup> {
        let code = normalize_code(code);
        const GROUPS: [(&str, ConditionGroup); 10] = [
            ("M5450", ConditionGroup::BackPain),
            ("M5451", ConditionGroup::BackPain),
            ("M5459", ConditionGroup::BackPain),
            ("M5136", ConditionGroup::BackPain),
            ("M5137", ConditionGroup::BackPain),
            ("M41", ConditionGroup::BackPain),
            ("G442", ConditionGroup::Headache),
            ("G43", ConditionGroup::Headache),
            ("G440", ConditionGroup::Headache),
            ("M797", ConditionGroup::Fibromyalgia),
        ];
        if code.starts_with("H5314") {
            return Some(ConditionGroup::Headache);
        }
        GROUPS
            .iter()
            .find(|(prefix, _)| code.starts_with(prefix))
            .map(|(_, group)| *group)
    }

    /// The groups of a chart's diagnosis codes.
    pub fn of_codes<'a>(codes: impl IntoIterator<Item = &'a str>) -> BTreeSet<ConditionGroup> {
        codes
            .into_iter()
            .filter_map(ConditionGroup::of_code)
            .collect()
    }
}

/// A moment at which a patient answers their questionnaires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Timepoint {
    /// Before treatment starts (the baseline of outcomes.md).
    Baseline,
    /// Before the infusion on this day.
    BeforeInfusion(Date),
    /// `day` days after the series that ended on `ended`.
    AfterSeries { ended: Date, day: u16 },
    /// `month` months after the series that ended on `ended` (from 2 on:
    /// the 28-day timepoint is the first month's).
    Monthly { ended: Date, month: u16 },
}

impl Timepoint {
    /// The stable key stored with an assignment: one timepoint of one
    /// instrument is assigned once. E.g. `baseline`, `infusion:2026-11-02`,
    /// `series:2026-11-20:day:7`, `series:2026-11-20:month:3`.
    pub fn key(&self) -> String {
        match self {
            Timepoint::Baseline => "baseline".to_owned(),
            Timepoint::BeforeInfusion(on) => format!("infusion:{on}"),
            Timepoint::AfterSeries { ended, day } => format!("series:{ended}:day:{day}"),
            Timepoint::Monthly { ended, month } => format!("series:{ended}:month:{month}"),
        }
    }

    /// The timepoint of a key made by [`Timepoint::key`].
    pub fn parse(key: &str) -> Option<Timepoint> {
        if key == "baseline" {
            return Some(Timepoint::Baseline);
        }
        if let Some(on) = key.strip_prefix("infusion:") {
            return on.parse().ok().map(Timepoint::BeforeInfusion);
        }
        let rest = key.strip_prefix("series:")?;
        let mut parts = rest.split(':');
        let ended: Date = parts.next()?.parse().ok()?;
        let unit = parts.next()?;
        let n: u16 = parts.next()?.parse().ok()?;
        if parts.next().is_some() {
            return None;
        }
        match unit {
            "day" => Some(Timepoint::AfterSeries { ended, day: n }),
            "month" => Some(Timepoint::Monthly { ended, month: n }),
            _ => None,
        }
    }

    /// The kind of timepoint, as the clinic's settings switch them.
    pub fn kind(&self) -> TimepointKind {
        match self {
            Timepoint::Baseline => TimepointKind::Baseline,
            Timepoint::BeforeInfusion(_) => TimepointKind::BeforeInfusion,
            Timepoint::AfterSeries { day, .. } => TimepointKind::AfterSeries(*day),
            Timepoint::Monthly { .. } => TimepointKind::Monthly,
        }
    }
}

impl fmt::Display for Timepoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

/// A kind of timepoint the clinic can switch on or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TimepointKind {
    Baseline,
    BeforeInfusion,
    /// So many days after a series ends.
    AfterSeries(u16),
    Monthly,
}

impl TimepointKind {
    /// The defaults, in order: baseline, before each infusion, 1, 7, 14 and
    /// 28 days after a series, then monthly.
    pub const DEFAULTS: [TimepointKind; 7] = [
        TimepointKind::Baseline,
        TimepointKind::BeforeInfusion,
        TimepointKind::AfterSeries(1),
        TimepointKind::AfterSeries(7),
        TimepointKind::AfterSeries(14),
        TimepointKind::AfterSeries(28),
        TimepointKind::Monthly,
    ];

    /// The key stored in the clinic's settings: `baseline`,
    /// `before-infusion`, `after-series-7`, `monthly`.
    pub fn key(self) -> String {
        match self {
            TimepointKind::Baseline => "baseline".to_owned(),
            TimepointKind::BeforeInfusion => "before-infusion".to_owned(),
            TimepointKind::AfterSeries(day) => format!("after-series-{day}"),
            TimepointKind::Monthly => "monthly".to_owned(),
        }
    }

    /// The kind of a key made by [`TimepointKind::key`].
    pub fn parse(key: &str) -> Option<TimepointKind> {
        match key {
            "baseline" => Some(TimepointKind::Baseline),
            "before-infusion" => Some(TimepointKind::BeforeInfusion),
            "monthly" => Some(TimepointKind::Monthly),
            other => {
                let day: u16 = other.strip_prefix("after-series-")?.parse().ok()?;
                (1..=MAX_AFTER_SERIES_DAY)
                    .contains(&day)
                    .then_some(TimepointKind::AfterSeries(day))
            }
        }
    }
}

/// The last day after a series the clinic may schedule a timepoint on
/// (after it the monthly timepoints take over).
pub const MAX_AFTER_SERIES_DAY: u16 = 180;

/// The clinic's schedule settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleSettings {
    /// The instruments the clinic uses; a condition-specific one is given
    /// only to patients with that condition.
    pub instruments: BTreeSet<Instrument>,
    /// The timepoints the clinic uses.
    pub timepoints: BTreeSet<TimepointKind>,
    /// The licensed instruments whose licence the clinic has recorded.
    pub licences: BTreeSet<Instrument>,
    /// Infusions at most this many days apart belong to one series: the
    /// outcomes' `SeriesSettings`, so that the schedule and the outcome
    /// pages see the same series.
    pub series_gap_days: i32,
    /// Days a post-series or monthly questionnaire stays open for answers
    /// (ours).
    pub answer_window_days: i32,
}

impl Default for ScheduleSettings {
    fn default() -> ScheduleSettings {
        ScheduleSettings {
            instruments: [
                Instrument::PainNumericRating,
                Instrument::Peg,
                Instrument::Phq9,
                Instrument::Gad7,
                Instrument::OswestryDisabilityIndex,
                Instrument::Hit6,
                Instrument::Fiqr,
                Instrument::BriefPainInventory,
            ]
            .into_iter()
            .collect(),
            timepoints: TimepointKind::DEFAULTS.into_iter().collect(),
            licences: BTreeSet::new(),
            series_gap_days: i32::from(SeriesSettings::default().max_gap_days),
            answer_window_days: 7,
        }
    }
}

/// Why an instrument the clinic chose is not given to a patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotGiven {
    /// Licensed wording, and the clinic has recorded no licence.
    NoLicence,
    /// Condition-specific, and the chart has no such condition.
    NotTheCondition,
}

/// Whether `instrument` is given to a patient with these conditions.
pub fn given(
    settings: &ScheduleSettings,
    instrument: Instrument,
    conditions: &BTreeSet<ConditionGroup>,
) -> Result<(), NotGiven> {
    let condition = [
        ConditionGroup::BackPain,
        ConditionGroup::Headache,
        ConditionGroup::Fibromyalgia,
    ]
    .into_iter()
    .find(|group| group.instrument() == instrument);
    if let Some(group) = condition {
        if !conditions.contains(&group) {
            return Err(NotGiven::NotTheCondition);
        }
    }
    if matches!(instrument.definition().licence, Licence::Licensed { .. })
        && !settings.licences.contains(&instrument)
    {
        return Err(NotGiven::NoLicence);
    }
    Ok(())
}

/// The instruments a patient with these conditions answers, in the order
/// the clinic lists them. The discharge score (Aldrete) is never a
/// patient's questionnaire.
pub fn instruments_for(
    settings: &ScheduleSettings,
    conditions: &BTreeSet<ConditionGroup>,
) -> Vec<Instrument> {
    settings
        .instruments
        .iter()
        .copied()
        .filter(|i| *i != Instrument::ModifiedAldrete)
        .filter(|i| given(settings, *i, conditions).is_ok())
        .collect()
}

/// What the schedule needs to know of a patient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientHistory {
    /// The day the patient's care with the clinic started (the treatment
    /// plan's date): the baseline is due then.
    pub start: Date,
    /// The days of the patient's infusions, given and planned.
    pub infusions: Vec<Date>,
    /// The patient's condition groups (from the chart's codes).
    pub conditions: BTreeSet<ConditionGroup>,
}

/// One timepoint with the days it is due and closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduledTimepoint {
    pub timepoint: Timepoint,
    /// The day the questionnaires are assigned and reminded of.
    pub due: Date,
    /// The first day they no longer count for this timepoint: a
    /// questionnaire not assigned by then is not assigned (it would
    /// measure something else), and one not answered by then is missed.
    pub closes: Date,
}

/// One questionnaire the schedule wants answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduledQuestionnaire {
    pub instrument: Instrument,
    pub timepoint: Timepoint,
    pub due: Date,
    pub closes: Date,
}

/// The days infusion series ended on, as known on `today`: the series are
/// `outcomes::infusion_series`'s (the one grouping of sessions, here by
/// day); a series has ended once its last infusion is in the past (an
/// infusion given or planned within `gap_days` would have joined it).
pub fn series_ends(infusions: &[Date], gap_days: i32, today: Date) -> Vec<Date> {
    let midnight = |day: &Date| day.to_zoned(jiff::tz::TimeZone::UTC).ok();
    let sessions: Vec<jiff::Timestamp> = infusions
        .iter()
        .filter_map(midnight)
        .map(|zoned| zoned.timestamp())
        .collect();
    let settings = SeriesSettings {
        max_gap_days: u16::try_from(gap_days.max(0)).unwrap_or(u16::MAX),
    };
    infusion_series(&sessions, &settings)
        .into_iter()
        .map(|series| series.last_session.to_zoned(jiff::tz::TimeZone::UTC).date())
        .filter(|day| *day < today)
        .collect()
}

/// Every timepoint of a patient's schedule that is due on or before
/// `until`, in order of due day.
pub fn timepoints(
    settings: &ScheduleSettings,
    history: &PatientHistory,
    until: Date,
) -> Vec<ScheduledTimepoint> {
    let on = |kind| settings.timepoints.contains(&kind);
    let window = settings.answer_window_days.max(1);
    let mut infusions = history.infusions.clone();
    infusions.sort();
    infusions.dedup();
    let mut out = Vec::new();
    let first_infusion = infusions.first().copied();
    if on(TimepointKind::Baseline) {
        // The baseline must come before the first infusion (outcomes.md,
        // "Baseline": the scores before the first infusion).
        let closes = first_infusion.unwrap_or(date_add(history.start, window));
        let closes = closes.max(date_add(history.start, 1));
        out.push(ScheduledTimepoint {
            timepoint: Timepoint::Baseline,
            due: history.start,
            closes,
        });
    }
    if on(TimepointKind::BeforeInfusion) {
        for day in &infusions {
            // Due the day before, answered up to the infusion's own day.
            out.push(ScheduledTimepoint {
                timepoint: Timepoint::BeforeInfusion(*day),
                due: date_add(*day, -1),
                closes: date_add(*day, 1),
            });
        }
    }
    let mut after_days: Vec<u16> = settings
        .timepoints
        .iter()
        .filter_map(|kind| match kind {
            TimepointKind::AfterSeries(day) => Some(*day),
            _ => None,
        })
        .collect();
    after_days.sort();
    for ended in series_ends(&infusions, settings.series_gap_days, until) {
        // The next series (its first infusion) ends this one's follow-up.
        let next_infusion = infusions.iter().copied().find(|day| *day > ended);
        let before_next = |due: Date| next_infusion.is_none_or(|next| due < date_add(next, -1));
        for day in &after_days {
            let due = date_add(ended, i32::from(*day));
            if !before_next(due) {
                continue;
            }
            out.push(ScheduledTimepoint {
                timepoint: Timepoint::AfterSeries { ended, day: *day },
                due,
                closes: date_add(due, window),
            });
        }
        if on(TimepointKind::Monthly) {
            // Month 1 is the 28-day timepoint; from month 2 on, the same
            // day of each later month.
            let mut month: u16 = 2;
            loop {
                let due = ended
                    .checked_add(i32::from(month).months())
                    .unwrap_or(Date::MAX);
                if due > until || !before_next(due) {
                    break;
                }
                out.push(ScheduledTimepoint {
                    timepoint: Timepoint::Monthly { ended, month },
                    due,
                    closes: date_add(due, window),
                });
                month += 1;
            }
        }
    }
    out.retain(|t| t.due <= until);
    out.sort_by_key(|t| (t.due, t.timepoint));
    out
}

/// The questionnaires to assign on `today`: every instrument the patient
/// answers at every timepoint due by today and not yet closed, that is not
/// in `assigned` (instrument and [`Timepoint::key`]), in order of due day.
pub fn due_questionnaires(
    settings: &ScheduleSettings,
    history: &PatientHistory,
    assigned: &BTreeSet<(Instrument, String)>,
    today: Date,
) -> Vec<ScheduledQuestionnaire> {
    let instruments = instruments_for(settings, &history.conditions);
    let mut due = Vec::new();
    for point in timepoints(settings, history, today) {
        if today >= point.closes {
            continue;
        }
        let key = point.timepoint.key();
        for instrument in &instruments {
            if assigned.contains(&(*instrument, key.clone())) {
                continue;
            }
            due.push(ScheduledQuestionnaire {
                instrument: *instrument,
                timepoint: point.timepoint,
                due: point.due,
                closes: point.closes,
            });
        }
    }
    due
}

/// The next timepoint after `today`, if the schedule knows one (the monthly
/// timepoints are known one at a time; a series not yet ended has none).
pub fn next_timepoint(
    settings: &ScheduleSettings,
    history: &PatientHistory,
    today: Date,
) -> Option<ScheduledTimepoint> {
    // Looking 13 months ahead finds the next monthly timepoint; a series
    // that ends later is not known yet.
    let horizon = today.checked_add(13.months()).unwrap_or(Date::MAX);
    let mut points = timepoints(settings, history, horizon);
    points.retain(|p| p.due > today);
    // A series end computed with the horizon's "today" is not known now.
    let known_ends = series_ends(&history.infusions, settings.series_gap_days, today);
    points.retain(|p| match p.timepoint {
        Timepoint::AfterSeries { ended, .. } | Timepoint::Monthly { ended, .. } => {
            known_ends.contains(&ended)
        }
        _ => true,
    });
    points.into_iter().next()
}

fn date_add(day: Date, days: i32) -> Date {
    day.checked_add(days.days())
        .unwrap_or(if days < 0 { Date::MIN } else { Date::MAX })
}

#[cfg(test)]
mod tests;
