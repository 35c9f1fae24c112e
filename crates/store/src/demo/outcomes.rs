//! The demo's months of answered questionnaires (SPEC §1 step 6, §3 `respite
//! demo`: "months of outcomes"), made the way the portal makes them: each
//! questionnaire is assigned and submitted through the portal's own storage
//! code (`assign_in` and `submit_in`, the bodies of `Store::assign_questionnaire`
//! and `Store::submit_questionnaire`, here in one transaction so that the
//! demo starts quickly), its answers scored by respite-clinical
//! (`Instrument::score`, then `new_scores`), never a number of its own. The
//! one PHQ-9 that raises a safety alert goes through the Store functions
//! themselves, answer by answer (`save_answer`), as in the portal.
//!
//! The schedule is the clinic's default (NRS, PEG, PHQ-9 and GAD-7 for
//! everyone; at baseline, before each infusion, 1, 7, 14 and 28 days after
//! a series, then monthly, with a pain rating every two weeks between).
//! The licensed condition-specific instruments (ODI, HIT-6, FIQR) are not
//! answered in the portal until the clinic loads their wording, so the demo
//! has none. Among the treated: responders whose relief holds, responders
//! whose relief fades (durability ends), and non-responders. Exactly one
//! PHQ-9 answers item 9 with 1, answered item by item as in the portal, so
//! that one safety alert is open when the demo starts; one PHQ-9 leaves
//! item 9 out ("safety status unknown"). Deterministic: its own generator
//! with a fixed seed, dates from the demo's clock.

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use respite_clinical::instruments::{Answers, Instrument};

use super::{add_days, DemoClock, SpectrumPatient, SplitMix64};
use crate::portal::{assign_in, new_scores, submit_in, AnswerRecord, NewSafetyAlert};
use crate::{Store, StoreError, StoreResult};

/// What the rest of the demo decided about one patient's treatment.
pub(super) struct Course {
    pub patient_id: i64,
    /// The infusion sessions' start times, oldest first (empty: untreated).
    pub sessions: Vec<Timestamp>,
    /// Pain on NRS-11 before treatment, 5.5–8.4.
    pub baseline_pain: f64,
    pub responds: bool,
}

/// How the demo's questionnaires came out, for the start-up message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutcomesSummary {
    pub questionnaires: usize,
    pub open_safety_alerts: usize,
    /// One patient of each course, for the start-up message.
    pub showcase: Vec<SpectrumPatient>,
}

/// The job kind the web layer's escalation runs as (pages/portal.rs
/// `ESCALATION_JOB`); the store cannot name the web layer's constant.
const ESCALATION_JOB: &str = "safety-escalation";
/// The clinic's default time to acknowledge (pages/portal.rs).
const ACK_MINUTES: i64 = 60;
const ASSIGNED_BY: &str = "nurse@demo.respite.test";

/// How a responder's relief runs after the series.
#[derive(Clone, Copy, PartialEq)]
enum Relief {
    /// Holds near its peak for months.
    Holds,
    /// Fades to nothing over `days` days: durability ends.
    Fades { days: f64 },
    /// Never reaches a 30 % reduction.
    None,
}

#[derive(Clone, Copy)]
struct Patient {
    id: i64,
    baseline_pain: f64,
    /// Peak relief, a fraction of baseline pain.
    peak: f64,
    relief: Relief,
    /// PHQ-9 and GAD-7 totals before treatment.
    mood: f64,
    worry: f64,
}

/// Answers every demo patient's questionnaires.
pub(super) async fn seed(
    store: &Store,
    clock: &DemoClock,
    courses: &[Course],
) -> StoreResult<OutcomesSummary> {
    let mut rng = SplitMix64(0x0c0e_5eed_2026);
    let mut demo = Outcomes {
        tx: store.pool.begin().await?,
        clock,
        summary: OutcomesSummary::default(),
        alert: None,
        unknown_safety: None,
    };
    let mut showcase: Vec<(i64, &'static str)> = Vec::new();
    for (n, course) in courses.iter().enumerate() {
        // The first patient (RSP-001000) is the one the portal's demo signs
        // in as (demo/portal.rs): a responder whose relief holds, so that
        // their progress page shows what relief looks like.
        let portal_patient = n == 0 && !course.sessions.is_empty();
        let responds = course.responds || portal_patient;
        let relief = if !responds {
            Relief::None
        } else if portal_patient {
            Relief::Holds
        } else if rng.chance(0.4) {
            Relief::Fades {
                days: 40.0 + rng.below(50) as f64,
            }
        } else {
            Relief::Holds
        };
        let peak = if responds {
            0.4 + rng.below(25) as f64 / 100.0 // 40–64 %
        } else {
            rng.below(20) as f64 / 100.0 // 0–19 %
        };
        let patient = Patient {
            id: course.patient_id,
            baseline_pain: course.baseline_pain,
            peak,
            relief,
            mood: 6.0 + rng.below(11) as f64,
            worry: 5.0 + rng.below(10) as f64,
        };
        if course.sessions.is_empty() {
            demo.untreated(&mut rng, &patient).await?;
        } else {
            demo.treated(&mut rng, &patient, &course.sessions).await?;
            let kind = match relief {
                Relief::Holds => "responder, relief holds",
                Relief::Fades { .. } => "responder, relief fades: durability ends",
                Relief::None => "not a responder",
            };
            if !showcase.iter().any(|(_, k)| *k == kind) {
                showcase.push((patient.id, kind));
            }
        }
    }
    if let Some(id) = demo.unknown_safety {
        showcase.push((
            id,
            "a PHQ-9 with the safety question unanswered: safety status unknown",
        ));
    }
    if let Some(patient) = &demo.alert {
        showcase.push((
            patient.id,
            "a PHQ-9 today with item 9 answered: the open safety alert",
        ));
    }
    for (id, kind) in showcase {
        let (mrn, given, family): (String, String, String) =
            sqlx::query_as("SELECT mrn, given_name, family_name FROM patients WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *demo.tx)
                .await?;
        demo.summary.showcase.push(SpectrumPatient {
            mrn,
            name: format!("{given} {family}"),
            demonstrates: kind,
        });
    }
    let Outcomes {
        tx,
        mut summary,
        alert,
        ..
    } = demo;
    tx.commit().await?;
    if let Some(patient) = alert {
        phq9_with_safety_alert(store, &mut rng, &patient, clock.now).await?;
        summary.questionnaires += 1;
        summary.open_safety_alerts += 1;
    }
    Ok(summary)
}

struct Outcomes<'a> {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    clock: &'a DemoClock,
    summary: OutcomesSummary,
    /// The patient whose PHQ-9 today raises the open safety alert.
    alert: Option<Patient>,
    /// The patient whose one PHQ-9 leaves item 9 out.
    unknown_safety: Option<i64>,
}

/// Which questionnaires are answered at a time point.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Set {
    /// The pain rating alone.
    Pain,
    /// Pain and PEG.
    PainAndPeg,
    /// NRS, PEG, PHQ-9 and GAD-7.
    Full,
}

impl Outcomes<'_> {
    /// Before treatment, or not treated: the full set monthly for three
    /// months (no infusion, so no baseline and no change to judge).
    async fn untreated(&mut self, rng: &mut SplitMix64, patient: &Patient) -> StoreResult<()> {
        for days_ago in [88, 58, 28] {
            let at = self.evening(rng, self.clock.days(-days_ago)?)?;
            self.answer_set(rng, patient, at, Set::Full, 0.0).await?;
        }
        Ok(())
    }

    async fn treated(
        &mut self,
        rng: &mut SplitMix64,
        patient: &Patient,
        sessions: &[Timestamp],
    ) -> StoreResult<()> {
        let (Some(first), Some(last)) = (sessions.first(), sessions.last()) else {
            return Ok(());
        };
        let first_day = self.date_of(*first);
        let last_day = self.date_of(*last);
        // Baseline: two full sets in the 14 days before the first infusion
        // (the baseline window, outcomes.md).
        for before in [-13, -6] {
            let at = self.evening(rng, add_days(first_day, before)?)?;
            self.answer_set(rng, patient, at, Set::Full, 0.0).await?;
        }
        // Before each infusion: the pain rating, half an hour before; relief
        // builds over the series.
        for (n, session) in sessions.iter().enumerate() {
            let at = *session - SignedDuration::from_mins(30);
            let building = patient.peak * n as f64 / sessions.len() as f64;
            self.answer_set(rng, patient, at, Set::Pain, building)
                .await?;
        }
        // After the series: days 1, 7, 14 and 28, then the full set monthly
        // and the pain rating every two weeks between.
        let mut points: Vec<(i64, Set)> = vec![
            (1, Set::Pain),
            (7, Set::PainAndPeg),
            (14, Set::Pain),
            (28, Set::Full),
        ];
        let mut day = 42;
        while day <= 400 {
            let set = if (day - 28) % 28 == 0 {
                Set::Full
            } else {
                Set::Pain
            };
            points.push((day, set));
            day += 14;
        }
        let today = self.clock.today;
        for (after, set) in points {
            let date = add_days(last_day, after)?;
            if date >= today {
                break;
            }
            let at = self.evening(rng, date)?;
            let relief = relief_after(patient, after as f64);
            self.answer_set(rng, patient, at, set, relief).await?;
        }
        // The one PHQ-9 with item 9 answered 1, today: a non-responder whose
        // mood is low; answered item by item as in the portal, raising the
        // alert a clinician must acknowledge.
        if self.alert.is_none() && patient.relief == Relief::None && patient.mood >= 12.0 {
            self.alert = Some(*patient);
        }
        Ok(())
    }

    /// The questionnaires of `set` at `at`, with `relief` (a fraction of
    /// baseline pain) as the patient's state.
    async fn answer_set(
        &mut self,
        rng: &mut SplitMix64,
        patient: &Patient,
        at: Timestamp,
        set: Set,
        relief: f64,
    ) -> StoreResult<()> {
        let pain = noisy(rng, patient.baseline_pain * (1.0 - relief), 0.5, 10);
        self.submit(
            patient.id,
            Instrument::PainNumericRating,
            &[("1", pain)],
            at,
        )
        .await?;
        if set == Set::Pain {
            return Ok(());
        }
        // PEG: pain on average, and how much it interfered with enjoyment of
        // life and general activity, near the pain rating.
        let peg = [
            ("1", pain),
            ("2", noisy(rng, f64::from(pain), 1.0, 10)),
            ("3", noisy(rng, f64::from(pain) + 0.5, 1.0, 10)),
        ];
        let at = at + SignedDuration::from_mins(2);
        self.submit(patient.id, Instrument::Peg, &peg, at).await?;
        if set == Set::PainAndPeg {
            return Ok(());
        }
        // Mood and worry ease with relief, less than pain does.
        let mood = (patient.mood * (1.0 - 0.7 * relief) + rng.below(5) as f64 - 2.0).max(0.0);
        let mut phq = spread(rng, mood, 8, 3);
        // Now and then a PHQ-9 item is left out: the total is prorated.
        if rng.chance(0.03) {
            phq.remove(rng.below(8) as usize);
        }
        let mut answers: Vec<(String, i32)> = phq;
        let item9_left_out =
            self.unknown_safety.is_none() && matches!(patient.relief, Relief::Fades { .. });
        if item9_left_out {
            // One PHQ-9 leaves the safety question out: shown as "safety
            // status unknown", never as zero.
            self.unknown_safety = Some(patient.id);
        } else {
            answers.push(("9".to_owned(), 0));
        }
        answers.push(("10".to_owned(), (mood / 7.0).floor().min(3.0) as i32));
        let refs: Vec<(&str, i32)> = answers.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        let at = at + SignedDuration::from_mins(4);
        self.submit(patient.id, Instrument::Phq9, &refs, at).await?;
        let worry = (patient.worry * (1.0 - 0.5 * relief) + rng.below(3) as f64 - 1.0).max(0.0);
        let gad = spread(rng, worry, 7, 3);
        let refs: Vec<(&str, i32)> = gad.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        let at = at + SignedDuration::from_mins(3);
        self.submit(patient.id, Instrument::Gad7, &refs, at).await
    }

    /// Assigns and submits one questionnaire as the portal does; scored by
    /// respite-clinical.
    async fn submit(
        &mut self,
        patient_id: i64,
        instrument: Instrument,
        answers: &[(&str, i32)],
        at: Timestamp,
    ) -> StoreResult<()> {
        let (records, scores) = scored(instrument, answers)?;
        let assigned = at - SignedDuration::from_hours(2);
        let id = assign_in(
            &mut self.tx,
            patient_id,
            instrument.id(),
            "portal",
            ASSIGNED_BY,
            assigned,
        )
        .await?;
        submit_in(&mut self.tx, patient_id, id, &records, &scores, None, at).await?;
        self.summary.questionnaires += 1;
        Ok(())
    }

    fn date_of(&self, at: Timestamp) -> Date {
        at.to_zoned(self.clock.tz.clone()).date()
    }

    /// An evening time on `date`, when people fill in forms at home.
    fn evening(&self, rng: &mut SplitMix64, date: Date) -> StoreResult<Timestamp> {
        self.clock.at(date, 19, rng.below(59) as i8)
    }
}

/// A PHQ-9 answered item by item 25 minutes before `now` through the
/// portal's Store functions (`save_answer`, as the portal's answer handler),
/// item 9 answered 1 raising the safety alert with its escalation, then
/// submitted (`submit_questionnaire`).
async fn phq9_with_safety_alert(
    store: &Store,
    rng: &mut SplitMix64,
    patient: &Patient,
    now: Timestamp,
) -> StoreResult<()> {
    let at = now - SignedDuration::from_mins(25);
    let assigned = at - SignedDuration::from_hours(3);
    let id = store
        .assign_questionnaire(patient.id, "phq-9", "portal", ASSIGNED_BY, assigned)
        .await?;
    let mut answers = spread(rng, patient.mood + 2.0, 8, 3);
    answers.push(("9".to_owned(), 1));
    answers.push(("10".to_owned(), 2));
    let alert = NewSafetyAlert {
        answer: 1,
        due_at: at + SignedDuration::from_mins(ACK_MINUTES),
        escalation_job_kind: ESCALATION_JOB.to_owned(),
    };
    for (n, (item, value)) in answers.iter().enumerate() {
        let when = at - SignedDuration::from_secs(20 * (answers.len() - n) as i64);
        let raise = (item == "9").then_some(&alert);
        store
            .save_answer(patient.id, id, item, *value, raise, when)
            .await?;
    }
    let refs: Vec<(&str, i32)> = answers.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let (_, scores) = scored(Instrument::Phq9, &refs)?;
    store
        .submit_questionnaire(patient.id, id, &[], &scores, Some(&alert), at)
        .await?;
    Ok(())
}

/// Relief `days` after the series for this patient.
fn relief_after(patient: &Patient, days: f64) -> f64 {
    match patient.relief {
        Relief::Holds => patient.peak * (1.0 - days / 1000.0),
        Relief::Fades { days: over } => patient.peak * (1.0 - days / over).max(0.0),
        Relief::None => patient.peak,
    }
}

/// A whole-number answer near `value`, within ±`spread`, on 0..=`highest`.
fn noisy(rng: &mut SplitMix64, value: f64, spread: f64, highest: i32) -> i32 {
    let step = rng.below(21) as f64 / 10.0 - 1.0; // −1.0 … 1.0
    ((value + step * spread).round() as i32).clamp(0, highest)
}

/// A total spread over items "1".."=`items`" (each 0..=`highest`), starting
/// at a random item, so that the items add up to the total (capped).
fn spread(rng: &mut SplitMix64, total: f64, items: usize, highest: i32) -> Vec<(String, i32)> {
    let total = (total.round() as i32).clamp(0, highest * items as i32);
    let mut values = vec![0; items];
    let start = rng.below(items as u64) as usize;
    let mut left = total;
    let mut n = 0;
    while left > 0 {
        let slot = (start + n) % items;
        if values[slot] < highest {
            values[slot] += 1;
            left -= 1;
        }
        n += 1;
    }
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| ((i + 1).to_string(), v))
        .collect()
}

/// The answers as stored and respite-clinical's scores of them.
fn scored(
    instrument: Instrument,
    answers: &[(&str, i32)],
) -> StoreResult<(Vec<AnswerRecord>, Vec<crate::portal::NewScore>)> {
    let mut given = Answers::new();
    let mut records = Vec::new();
    for (item, value) in answers {
        given.insert((*item).to_owned(), *value);
        records.push(AnswerRecord {
            link_id: (*item).to_owned(),
            value: *value,
        });
    }
    let scored = instrument
        .score(&given)
        .map_err(|err| StoreError::Corrupt(format!("demo answers: {err}")))?;
    Ok((records, new_scores(&scored)))
}
