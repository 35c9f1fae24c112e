//! The demo clinic: a realistic, deterministic synthetic practice for
//! `respite demo`. The same anchor date gives the same clinic, row for row.
//! Every person here is invented; names are drawn from common name lists.

mod booking;
mod outcomes;
mod portal;
mod portal_second;
pub mod public;
mod register;
mod sessions;

use jiff::civil::{Date, Time};
use jiff::{tz::TimeZone, Span, Timestamp, ToSpan};
use respite_domain::inquiry::{
    Channel, ContactWindow, Days, NewInquiry, PainArea, PainDuration, PreferredChannel,
};
use respite_domain::{Email, PhoneNumber};

use respite_clinical::dosing::units::{MgPerKgPerHour, MgPerMl, Minutes};
use respite_clinical::dosing::{
    calculate_session, seeded_protocol, DosingSettings, KetamineForm, PatientBody, Protocol,
    ProtocolStep, SessionDose, Vial,
};

mod chart;
mod decisions;
mod orders;

pub use chart::{letter_pdf, SpectrumPatient};
pub use sessions::ExampleSession;

use crate::patients::{insert_patient, NewPatient};
use crate::{to_millis, Store, StoreError, StoreResult};
use respite_domain::thread::{ClosedReason, InquiryStatus};

/// How big the demo clinic is.
#[derive(Clone, Copy, Debug)]
pub struct DemoSize {
    pub patients: usize,
    pub inquiries: usize,
}

impl Default for DemoSize {
    fn default() -> DemoSize {
        DemoSize {
            patients: 240,
            inquiries: 72,
        }
    }
}

/// What the seed wrote, for the start-up message and tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DemoSummary {
    pub patients: usize,
    pub conditions: usize,
    pub observations: usize,
    pub infusion_sessions: usize,
    /// Past sessions documented from the checklist to the sign-off: every
    /// one of the history (demo/sessions.rs).
    pub documented_sessions: usize,
    /// A few of them worth opening (/staff/sessions/{id}), with what each
    /// shows.
    pub example_sessions: Vec<ExampleSession>,
    pub inquiries: usize,
    pub consultations: usize,
    /// Questionnaires answered in the portal over the demo's months.
    pub questionnaires: usize,
    /// PHQ-9 safety alerts waiting for a clinician (exactly one).
    pub open_safety_alerts: usize,
    /// One patient of each outcome course, with what each shows.
    pub outcomes: Vec<SpectrumPatient>,
    /// The named charts of the screening spectrum, with what each shows.
    pub screening_spectrum: Vec<SpectrumPatient>,
    /// The patients with decisions, records requests and plans, with what
    /// each shows.
    pub decisions: Vec<SpectrumPatient>,
}

/// A condition the product must know by code (SPEC §1), with its ICD-10-CM
/// code. Codes and their status from shared/clinical/codes.md; [to check]
/// codes must be confirmed against the CMS/CDC FY2026 tabular before release.
struct DemoCondition {
    code: &'static str,
    display: &'static str,
    area: PainArea,
}

const CONDITIONS: &[DemoCondition] = &[
    // M54.50 low back pain, unspecified [checked] (M54.5 retired 1 Oct 2021).
    DemoCondition { code: "M54.50", display: "Low back pain, unspecified", area: PainArea::Back },
    // M51.360 lumbar disc degeneration with discogenic back pain only [checked].
    DemoCondition { code: "M51.360", display: "Other intervertebral disc degeneration, lumbar region with discogenic back pain only", area: PainArea::Back },
    // M41.9 scoliosis, unspecified [to check].
    DemoCondition { code: "M41.9", display: "Scoliosis, unspecified", area: PainArea::Back },
    // G44.221 chronic tension-type headache, intractable [checked].
    DemoCondition { code: "G44.221", display: "Chronic tension-type headache, intractable", area: PainArea::Headache },
    // H53.149 visual discomfort (asthenopia), unspecified eye [to check].
    DemoCondition { code: "H53.149", display: "Visual discomfort, unspecified eye", area: PainArea::Headache },
    // G43.709 chronic migraine without aura, not intractable [to check].
    DemoCondition { code: "G43.709", display: "Chronic migraine without aura, not intractable, without status migrainosus", area: PainArea::Headache },
    // G44.029 chronic cluster headache, not intractable [checked].
    DemoCondition { code: "G44.029", display: "Chronic cluster headache, not intractable", area: PainArea::Headache },
    // M17.9 osteoarthritis of knee, unspecified [to check].
    DemoCondition { code: "M17.9", display: "Osteoarthritis of knee, unspecified", area: PainArea::Joints },
    // M06.9 rheumatoid arthritis, unspecified [to check].
    DemoCondition { code: "M06.9", display: "Rheumatoid arthritis, unspecified", area: PainArea::Joints },
    // M70.- soft-tissue disorders related to use and overuse; M70.90 [to check].
    DemoCondition { code: "M70.90", display: "Unspecified soft tissue disorder related to use, overuse and pressure of unspecified site", area: PainArea::Joints },
    // Sports injury, chronic sequela: 7th character S [to check].
    DemoCondition { code: "S83.511S", display: "Sprain of anterior cruciate ligament of right knee, sequela", area: PainArea::Joints },
    // M79.7 fibromyalgia [checked, weak].
    DemoCondition { code: "M79.7", display: "Fibromyalgia", area: PainArea::Fibromyalgia },
    // N80.10 endometriosis of pelvic peritoneum, unspecified [checked].
    DemoCondition { code: "N80.10", display: "Endometriosis of pelvic peritoneum, unspecified", area: PainArea::Endometriosis },
    // G90.521 CRPS I of right lower limb [checked].
    DemoCondition { code: "G90.521", display: "Complex regional pain syndrome I of right lower limb", area: PainArea::Crps },
    // G90.511 CRPS I of right upper limb [checked].
    DemoCondition { code: "G90.511", display: "Complex regional pain syndrome I of right upper limb", area: PainArea::Crps },
    // G56.4- causalgia of upper limb (CRPS II) [checked at category].
    DemoCondition { code: "G56.40", display: "Causalgia of unspecified upper limb", area: PainArea::Crps },
];

const GIVEN_FEMALE: &[&str] = &[
    "Ana", "Maria", "Linda", "Grace", "Aisha", "Mei", "Sofia", "Hannah", "Olivia", "Fatima",
    "Rosa", "Emily", "Priya", "Chloe", "Ingrid", "Nadia", "Yuki", "Leah", "Carmen", "Joan",
];
const GIVEN_MALE: &[&str] = &[
    "James", "Daniel", "Omar", "Wei", "Carlos", "Michael", "Samuel", "Ravi", "Thomas", "Kofi",
    "Lucas", "Ethan", "Hiro", "Mateo", "David", "Andre", "Felix", "Tariq", "George", "Paul",
];
const FAMILY: &[&str] = &[
    "Nguyen",
    "Garcia",
    "Smith",
    "Johnson",
    "Okafor",
    "Kim",
    "Patel",
    "Müller",
    "Rossi",
    "Novak",
    "Hernández",
    "Brown",
    "Cohen",
    "Ivanova",
    "Tanaka",
    "Silva",
    "Dubois",
    "Larsen",
    "O'Connor",
    "Haddad",
    "Kowalski",
    "Mensah",
    "Chen",
    "Walker",
    "Lopez",
    "Anderson",
    "Fischer",
    "Singh",
    "Moreau",
    "Jensen",
];
const DIAGNOSED_BY: &[&str] = &[
    "Dr. Helen Park, MD (family medicine)",
    "Dr. Marcus Bell, MD (neurology)",
    "Dr. Priya Raman, DO (rheumatology)",
    "Dr. Jonas Weber, MD (orthopaedics)",
    "Dr. Alicia Torres, MD (gynaecology)",
    "Dr. Samuel Osei, MD (pain medicine)",
];
const TIME_ZONES: &[&str] = &[
    "America/Los_Angeles",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
];
const AREA_CODES: &[&str] = &["503", "971", "360", "206", "541"];

/// The clinic's own time zone in the demo.
pub const DEMO_CLINIC_TIME_ZONE: &str = "America/Los_Angeles";

/// Fills an empty, migrated database with the demo clinic, relative to
/// `now` (so that consultations are past and future whenever it runs).
/// `consulting_staff` are the ids of staff users who hold consultations.
///
/// One generator feeds every step in a fixed order, so the same `now` gives
/// the same rows: patients (each with conditions, an infusion series for some,
/// and six months of questionnaires), then inquiries, consultations and the
/// staff's availability.
pub async fn seed(
    store: &Store,
    now: Timestamp,
    size: DemoSize,
    consulting_staff: &[i64],
) -> StoreResult<DemoSummary> {
    if consulting_staff.is_empty() {
        return Err(StoreError::Corrupt(
            "the demo needs consulting staff".into(),
        ));
    }
    let clock = DemoClock::new(now)?;
    let mut demo = Demo {
        clock: &clock,
        rng: SplitMix64(0x5eed_2026),
        summary: DemoSummary::default(),
        courses: Vec::new(),
    };
    let mut tx = store.pool.begin().await?;
    let created = clock.at(clock.days(-200)?, 9, 0)?;
    for index in 0..size.patients {
        demo.patient(&mut tx, index, created).await?;
    }
    let inquiry_ids = demo.inquiries(&mut tx, size.inquiries).await?;
    demo.consultations(&mut tx, &inquiry_ids, consulting_staff)
        .await?;
    demo.summary.consultations += booking::lifecycle(&mut tx, now, consulting_staff).await?;
    insert_availability(&mut tx, consulting_staff).await?;
    public::clinic_profile(&mut tx, now).await?;
    demo.summary.screening_spectrum = chart::seed_spectrum(&mut tx, &clock).await?;
    // Before the register: it is written from the sessions' delivered totals.
    let history = sessions::seed_sessions(&mut tx, store, &clock).await?;
    demo.summary.documented_sessions = history.sessions;
    demo.summary.example_sessions = history.examples;
    register::seed(&mut tx, &clock).await?;
    portal::portal(&mut tx, now).await?;
    portal_second::second_portal_patient(&mut tx, now).await?;
    tx.commit().await?;
    demo.summary.decisions =
        decisions::seed_decisions(store, &clock, &demo.summary.screening_spectrum).await?;
    let ready = orders::seed_orders(store, &clock, &demo.summary.decisions).await?;
    demo.summary.decisions.extend(ready);
    let answered = outcomes::seed(store, &clock, &demo.courses).await?;
    demo.summary.questionnaires = answered.questionnaires;
    demo.summary.open_safety_alerts = answered.open_safety_alerts;
    demo.summary.outcomes = answered.showcase;
    Ok(demo.summary)
}

/// Dates and times in the clinic's zone, counted from the day the demo runs.
struct DemoClock {
    tz: TimeZone,
    now: Timestamp,
    today: Date,
}

impl DemoClock {
    fn new(now: Timestamp) -> StoreResult<DemoClock> {
        let tz = TimeZone::get(DEMO_CLINIC_TIME_ZONE)
            .map_err(|err| StoreError::Corrupt(err.to_string()))?;
        let today = now.to_zoned(tz.clone()).date();
        Ok(DemoClock { tz, now, today })
    }

    /// `date` at `hour:minute`, clinic time.
    fn at(&self, date: Date, hour: i8, minute: i8) -> StoreResult<Timestamp> {
        date.to_datetime(Time::constant(hour, minute, 0, 0))
            .to_zoned(self.tz.clone())
            .map(|z| z.timestamp())
            .map_err(|err| StoreError::Corrupt(err.to_string()))
    }

    /// `n` days from today (before it when negative).
    fn days(&self, n: i64) -> StoreResult<Date> {
        add_days(self.today, n)
    }
}

fn add_days(date: Date, n: i64) -> StoreResult<Date> {
    date.checked_add(n.days())
        .map_err(|err| StoreError::Corrupt(err.to_string()))
}

/// The seed's state: the clock, the one generator and the running counts.
struct Demo<'a> {
    clock: &'a DemoClock,
    rng: SplitMix64,
    summary: DemoSummary,
    /// Each patient's treatment, for the questionnaires answered after the
    /// rest is written (demo/outcomes.rs).
    courses: Vec<outcomes::Course>,
}

/// One demo patient, as the later steps need them.
struct DemoPatient {
    id: i64,
    index: usize,
    female: bool,
}

impl Demo<'_> {
    /// A patient with their conditions, perhaps an infusion series four months
    /// ago (about 60 %, most of whom respond); their months of questionnaires
    /// are answered afterwards through the portal's code (demo/outcomes.rs).
    async fn patient(
        &mut self,
        conn: &mut sqlx::AnyConnection,
        index: usize,
        created: Timestamp,
    ) -> StoreResult<()> {
        let patient = self.insert_patient(conn, index, created).await?;
        self.conditions(conn, &patient).await?;
        let treated = self.rng.chance(0.6);
        let responds = treated && self.rng.chance(0.65);
        let baseline = 5.5 + self.rng.below(30) as f64 / 10.0; // 5.5 .. 8.4
        let series_start = self.clock.days(-120)?;
        let sessions = if treated {
            self.infusion_series(conn, &patient, series_start).await?
        } else {
            Vec::new()
        };
        self.courses.push(outcomes::Course {
            patient_id: patient.id,
            sessions,
            baseline_pain: baseline,
            responds,
        });
        Ok(())
    }

    async fn insert_patient(
        &mut self,
        conn: &mut sqlx::AnyConnection,
        index: usize,
        created: Timestamp,
    ) -> StoreResult<DemoPatient> {
        let rng = &mut self.rng;
        let female = rng.chance(0.62); // chronic pain is more prevalent in women
        let given = if female {
            rng.pick(GIVEN_FEMALE)
        } else {
            rng.pick(GIVEN_MALE)
        };
        let family = rng.pick(FAMILY);
        let birth = Date::new(
            1948 + rng.below(52) as i16,
            1 + rng.below(12) as i8,
            1 + rng.below(28) as i8,
        )
        .map_err(|err| StoreError::Corrupt(err.to_string()))?;
        let phone = format!("+1{}555{:04}", rng.pick(AREA_CODES), 100 + index % 100);
        let email = format!(
            "{}.{}{}@example.org",
            ascii_lower(given),
            ascii_lower(family),
            index
        );
        let mrn = format!("RSP-{:06}", 1000 + index);
        let id = insert_patient(
            conn,
            &NewPatient {
                mrn: &mrn,
                given_name: given,
                family_name: family,
                birth_date: birth,
                sex: if female { "female" } else { "male" },
                phone_e164: Some(&phone),
                email: Some(&email),
                time_zone: rng.pick(TIME_ZONES),
            },
            created,
        )
        .await?;
        self.summary.patients += 1;
        Ok(DemoPatient { id, index, female })
    }

    /// Patients spread over every condition in turn, then a second one for
    /// about a fifth of them. Endometriosis only for women.
    async fn conditions(
        &mut self,
        conn: &mut sqlx::AnyConnection,
        patient: &DemoPatient,
    ) -> StoreResult<()> {
        let mut conditions = vec![primary_condition(patient)];
        if self.rng.chance(0.2) {
            conditions.push(&CONDITIONS[self.rng.below(CONDITIONS.len() as u64) as usize]);
        }
        for condition in conditions {
            let onset = self.clock.days(-(200 + self.rng.below(3400) as i64))?;
            let diagnosed = add_days(onset, 30 + self.rng.below(120) as i64)?;
            sqlx::query(
                "INSERT INTO conditions (patient_id, icd10cm_code, display, onset_date, \
                 diagnosed_by, diagnosed_on) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(patient.id)
            .bind(condition.code)
            .bind(condition.display)
            .bind(onset.to_string())
            .bind(self.rng.pick(DIAGNOSED_BY))
            .bind(diagnosed.to_string())
            .execute(&mut *conn)
            .await?;
            self.summary.conditions += 1;
        }
        Ok(())
    }

    /// Six sessions from `series_start`, each with its vital signs. The
    /// patient's weight stays within half a kilogram of their own (scales and
    /// a day's meals), their vital signs near their own baseline, and each
    /// session's dose is the protocol's mg/kg for that day's weight, worked
    /// out by the clinic's calculator (`respite_clinical::dosing`) with its
    /// ceilings: never a number of its own.
    async fn infusion_series(
        &mut self,
        conn: &mut sqlx::AnyConnection,
        patient: &DemoPatient,
        series_start: Date,
    ) -> StoreResult<Vec<Timestamp>> {
        let body = DemoBody::of(patient);
        let mut sessions = Vec::new();
        let protocol = demo_protocol(primary_condition(patient).area == PainArea::Crps)?;
        for session in 0..6i64 {
            let date = add_days(series_start, session * 2 + session / 3)?;
            let started = self.clock.at(date, 9 + (patient.index % 4) as i8, 0)?;
            // The same five draws per session as ever, so that the rest of the
            // demo stays row for row what it was; each now moves a value a
            // little around the patient's own.
            let rng = &mut self.rng;
            let weight = round_to_tenth(body.weight_kg + (rng.below(50) as f64 - 24.5) / 50.0);
            let heart_rate = (body.heart_rate + (rng.below(30) as f64 - 14.5) / 5.0).round();
            let systolic = (body.systolic + (rng.below(30) as f64 - 14.5) / 3.0).round();
            let diastolic = (body.diastolic + (rng.below(20) as f64 - 9.5) / 3.0).round();
            let saturation = (body.saturation + (rng.below(5) as f64 - 2.0) / 2.0)
                .round()
                .min(100.0);
            let dose = demo_dose(&protocol, weight)?;
            sqlx::query(
                "INSERT INTO infusion_sessions (patient_id, started_at, protocol, total_mg, \
                 minutes) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(patient.id)
            .bind(to_millis(started))
            .bind(&protocol.name)
            .bind(round_to_tenth(dose.total.value()))
            .bind(dose.duration.value().round() as i64)
            .execute(&mut *conn)
            .await?;
            self.summary.infusion_sessions += 1;
            sessions.push(started);
            for (code, display, value, unit) in [
                ("29463-7", "Body weight", weight, "kg"),
                ("8867-4", "Heart rate", heart_rate, "/min"),
                ("8480-6", "Systolic blood pressure", systolic, "mm[Hg]"),
                ("8462-4", "Diastolic blood pressure", diastolic, "mm[Hg]"),
                (
                    "59408-5",
                    "Oxygen saturation by pulse oximetry",
                    saturation,
                    "%",
                ),
            ] {
                insert_loinc_observation(conn, patient.id, started, code, display, value, unit)
                    .await?;
                self.summary.observations += 1;
            }
        }
        Ok(sessions)
    }

    /// Inquiries from every channel, the oldest handled, the newest waiting;
    /// returns the ids of those with a consultation (booked or closed).
    async fn inquiries(
        &mut self,
        conn: &mut sqlx::AnyConnection,
        count: usize,
    ) -> StoreResult<Vec<i64>> {
        let mut with_consultation = Vec::new();
        for index in 0..count {
            let (inquiry, received) = self.inquiry(index, count)?;
            let status = match index * 10 / count.max(1) {
                0..=3 => InquiryStatus::Closed,
                4..=5 => InquiryStatus::ConsultationBooked,
                6..=7 => InquiryStatus::Contacted,
                _ => InquiryStatus::New,
            };
            let id = insert_inquiry_in(conn, &inquiry, received, status).await?;
            if status == InquiryStatus::ConsultationBooked || status == InquiryStatus::Closed {
                with_consultation.push(id);
            }
            self.summary.inquiries += 1;
        }
        Ok(with_consultation)
    }

    /// The `index`-th of `count` inquiries and when it arrived.
    fn inquiry(&mut self, index: usize, count: usize) -> StoreResult<(NewInquiry, Timestamp)> {
        let rng = &mut self.rng;
        let channel = [Channel::Web, Channel::Email, Channel::Sms, Channel::Voice][index % 4];
        let female = rng.chance(0.6);
        let given = if female {
            rng.pick(GIVEN_FEMALE)
        } else {
            rng.pick(GIVEN_MALE)
        };
        let family = rng.pick(FAMILY);
        let area = [
            PainArea::Back,
            PainArea::Headache,
            PainArea::Joints,
            PainArea::Fibromyalgia,
            PainArea::Endometriosis,
            PainArea::Crps,
            PainArea::Other,
        ][index % 7];
        let phone_text = format!("+1{}555{:04}", rng.pick(AREA_CODES), 200 + index % 100);
        let phone = PhoneNumber::from_e164(&phone_text).ok();
        let email = Email::parse(&format!(
            "{}.{}@example.net",
            ascii_lower(given),
            ascii_lower(family)
        ))
        .ok();
        let (message, duration) = INQUIRY_TEXTS[index % INQUIRY_TEXTS.len()];
        let waiting = count as i64 - index as i64;
        let received = self
            .clock
            .at(
                self.clock.days(-waiting / 2)?,
                8 + (rng.below(12)) as i8,
                rng.below(60) as i8,
            )?
            // Never in the future: the newest arrived in the last few hours.
            .min(self.clock.now - jiff::SignedDuration::from_mins(17 * waiting));
        let inquiry = NewInquiry {
            channel,
            name: format!("{given} {family}"),
            phone: if channel == Channel::Email && matches!(index % 3, 0) {
                None
            } else {
                phone
            },
            email: if matches!(channel, Channel::Sms | Channel::Voice) {
                None
            } else {
                email
            },
            preferred_channel: match channel {
                Channel::Email => PreferredChannel::Email,
                Channel::Sms => PreferredChannel::Text,
                _ => PreferredChannel::Phone,
            },
            windows: vec![ContactWindow {
                days: [Days::Weekdays, Days::Weekends, Days::EveryDay][index % 3],
                start: Time::constant(9 + (index % 9) as i8, 0, 0, 0),
                end: Time::constant(11 + (index % 9) as i8, 0, 0, 0),
            }],
            time_zone: rng.pick(TIME_ZONES).to_owned(),
            pain_area: Some(area),
            pain_duration: Some(duration),
            message: message.to_owned(),
            consent_to_contact: true,
        };
        Ok((inquiry, received))
    }

    /// Free 15-minute consultations: past ones held or missed, future ones
    /// booked, on weekdays between 09:00 and 16:45 clinic time.
    async fn consultations(
        &mut self,
        conn: &mut sqlx::AnyConnection,
        inquiry_ids: &[i64],
        consulting_staff: &[i64],
    ) -> StoreResult<()> {
        for (n, inquiry_id) in inquiry_ids.iter().enumerate() {
            let offset = n as i64 - (inquiry_ids.len() as i64 * 2 / 3);
            let mut date = self.clock.days(offset)?;
            while matches!(
                date.weekday(),
                jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday
            ) {
                date = date
                    .checked_add(Span::new().days(1))
                    .map_err(|err| StoreError::Corrupt(err.to_string()))?;
            }
            let starts = self
                .clock
                .at(date, 9 + (n % 8) as i8, [0, 15, 30, 45][n % 4])?;
            let status = if offset >= 0 {
                "booked"
            } else if n % 7 == 0 {
                "no-show"
            } else {
                "held"
            };
            sqlx::query(
                "INSERT INTO consultations (inquiry_id, staff_user_id, starts_at, minutes, status, note) \
                 VALUES ($1, $2, $3, 15, $4, $5)",
            )
            .bind(inquiry_id)
            .bind(consulting_staff[n % consulting_staff.len()])
            .bind(to_millis(starts))
            .bind(status)
            .bind(if status == "held" { "Free phone consultation held; records requested." } else { "" })
            .execute(&mut *conn)
            .await?;
            self.summary.consultations += 1;
        }
        Ok(())
    }
}

/// A patient's first condition: every condition in turn by index;
/// endometriosis only for women (fibromyalgia instead).
fn primary_condition(patient: &DemoPatient) -> &'static DemoCondition {
    let condition = &CONDITIONS[patient.index % CONDITIONS.len()];
    if condition.area == PainArea::Endometriosis && !patient.female {
        return &CONDITIONS[11]; // fibromyalgia
    }
    condition
}

/// A demo patient's own body: a weight that stays put, and the baseline
/// their vital signs vary around. From a generator of its own per patient,
/// so that the demo's other rows do not move.
struct DemoBody {
    weight_kg: f64,
    heart_rate: f64,
    systolic: f64,
    diastolic: f64,
    saturation: f64,
}

impl DemoBody {
    fn of(patient: &DemoPatient) -> DemoBody {
        let mut rng = SplitMix64(0x00B0_D1E5 ^ ((patient.index as u64 + 1) << 20));
        // Adult outpatients: women 50–88 kg, men 62–98 kg, so that the
        // series below stays inside the clinic's 200 mg session ceiling
        // (shared/clinical/dosing.md) without an override.
        let whole = if patient.female {
            50 + rng.below(38)
        } else {
            62 + rng.below(36)
        };
        DemoBody {
            weight_kg: whole as f64 + rng.below(10) as f64 / 10.0,
            heart_rate: 62.0 + rng.below(24) as f64,
            systolic: 112.0 + rng.below(24) as f64,
            diastolic: 68.0 + rng.below(16) as f64,
            saturation: 96.0 + rng.below(3) as f64,
        }
    }
}

/// The protocol of a demo series. CRPS: the seeded Schwartzman 2009
/// outpatient protocol (0.35 mg/kg/h, at most 25 mg/h, 4 h;
/// shared/clinical/dosing.md). Other conditions: the demo clinic's own
/// outpatient series, as a clinic may add one (a `Protocol` is data):
/// 0.5 mg/kg/h — the low end of the guideline's 0.5–2 mg/kg/h infusion
/// range (Cohen 2018, dosing.md) — for 3.5 h, 1.75 mg/kg a session, which
/// meets the guideline's first-trial target of at least 80 mg over more
/// than 2 h from 46 kg and stays under the default 2 mg/kg and 200 mg
/// session ceilings.
fn demo_protocol(crps: bool) -> StoreResult<Protocol> {
    let missing = |id: &str| StoreError::Corrupt(format!("demo: no seeded protocol {id}"));
    if crps {
        return seeded_protocol("crps-outpatient-10-day").ok_or_else(|| missing("crps"));
    }
    let guideline =
        seeded_protocol("first-trial-guideline").ok_or_else(|| missing("first-trial"))?;
    Ok(Protocol {
        id: "demo-clinic-outpatient-series".into(),
        name: "Outpatient series, 0.5 mg/kg/h for 3.5 h (clinic protocol)".into(),
        indication: "refractory chronic pain, outpatient series".into(),
        steps: vec![ProtocolStep::Infusion {
            rate: MgPerKgPerHour::literal(0.5), // Cohen 2018: 0.5–2 mg/kg/h
            duration: Minutes::literal(210.0),  // 3.5 h: > 2 h, Cohen 2018
        }],
        session_length: Some(Minutes::literal(210.0)),
        sessions_per_series: Some(6),
        minimum_gap_days: Some(1),
        note: "the demo clinic's own protocol within the guideline's range".into(),
        ..guideline
    })
}

/// One session's dose of `protocol` for a patient weighing `weight_kg` that
/// day, from 10 mg/mL racemic ketamine (dosing.md's example vial), against
/// the clinic's default ceilings.
fn demo_dose(protocol: &Protocol, weight_kg: f64) -> StoreResult<SessionDose> {
    let settings = DosingSettings::default();
    let fail = |err: respite_clinical::dosing::DosingError| {
        StoreError::Corrupt(format!("demo dose: {err}"))
    };
    let body = PatientBody::new(weight_kg, None, None, &settings).map_err(fail)?;
    let vial = Vial {
        drug: KetamineForm::Racemic,
        concentration: MgPerMl::literal(10.0),
    };
    calculate_session(protocol, &body, vial, &settings, &[]).map_err(fail)
}

/// `value` to one decimal, the nearest such double (as 87.5, not 87.50000000000001).
fn round_to_tenth(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// Consulting staff take phone consultations on weekdays within the clinic's
/// default hours (migration 0004: 09:00–17:00); the first of them only in the
/// mornings, so that the slot list is not uniform.
async fn insert_availability(
    conn: &mut sqlx::AnyConnection,
    consulting_staff: &[i64],
) -> StoreResult<()> {
    for (n, staff_user_id) in consulting_staff.iter().enumerate() {
        for weekday in 1..=5_i64 {
            sqlx::query(
                "INSERT INTO staff_availability (staff_user_id, weekday, starts, ends) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(staff_user_id)
            .bind(weekday)
            .bind("09:00")
            .bind(if n == 0 { "12:00" } else { "17:00" })
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

const INQUIRY_TEXTS: &[(&str, PainDuration)] = &[
    ("My lower back has hurt every day since a fall at work two years ago. Physio and pills have not helped.", PainDuration::OneToFiveYears),
    ("I get migraines most days of the month. My neurologist mentioned ketamine.", PainDuration::OverFiveYears),
    ("Both knees, osteoarthritis. Injections stopped working.", PainDuration::OverFiveYears),
    ("Fibromyalgia diagnosed last year, I can barely sleep.", PainDuration::OneToFiveYears),
    ("Endometriosis pain even after surgery. Can someone call me in the evening?", PainDuration::SixToTwelveMonths),
    ("CRPS in my right foot after an ankle fracture. Burning pain all the time.", PainDuration::SixToTwelveMonths),
    ("Cluster headaches, chronic. Oxygen helps only a little.", PainDuration::OneToFiveYears),
    ("Pain in my wrist from work, getting worse.", PainDuration::ThreeToSixMonths),
    ("Not sure if this is for me - pain in my hip for a few weeks.", PainDuration::UnderThreeMonths),
];

/// An observation coded in LOINC (every demo observation is).
async fn insert_loinc_observation(
    conn: &mut sqlx::AnyConnection,
    patient_id: i64,
    at: Timestamp,
    code: &str,
    display: &str,
    value: f64,
    unit: &str,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO observations (patient_id, observed_at, code_system, code, display, value, \
         unit) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(patient_id)
    .bind(to_millis(at))
    .bind("http://loinc.org")
    .bind(code)
    .bind(display)
    .bind(value)
    .bind(unit)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn insert_inquiry_in(
    conn: &mut sqlx::AnyConnection,
    inquiry: &NewInquiry,
    received: Timestamp,
    status: InquiryStatus,
) -> StoreResult<i64> {
    use crate::inquiries::create_callback_task;
    use respite_domain::thread::CallbackReason;
    let id = crate::inquiries::insert(conn, inquiry, received, status).await?;
    let phone = inquiry.phone.as_ref().map(|p| p.as_e164());
    match status {
        InquiryStatus::New | InquiryStatus::Contacted => {
            // Calls that reached nobody left a voicemail (a fictional
            // recording address); every other inquiry waits for a callback.
            let (reason, recording) = if inquiry.channel == Channel::Voice {
                (
                    CallbackReason::Voicemail,
                    Some(format!("https://recordings.example.net/demo/{id}.mp3")),
                )
            } else {
                (CallbackReason::Inquiry, None)
            };
            create_callback_task(conn, id, reason, phone, recording.as_deref(), received).await?;
        }
        InquiryStatus::Closed => {
            let reason = [
                ClosedReason::Booked,
                ClosedReason::NotACandidate,
                ClosedReason::NoAnswer,
                ClosedReason::Booked,
            ][(id % 4) as usize];
            crate::inquiries::set_closed_reason(conn, id, reason).await?;
        }
        InquiryStatus::ConsultationBooked => {}
    }
    Ok(id)
}

/// The name as an e-mail local part: accents folded, other marks dropped.
fn ascii_lower(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            'á' | 'à' | 'ä' | 'â' => 'a',
            'é' | 'è' | 'ë' | 'ê' => 'e',
            'í' | 'ì' | 'ï' => 'i',
            'ó' | 'ò' | 'ö' | 'ô' => 'o',
            'ú' | 'ù' | 'ü' => 'u',
            'ñ' => 'n',
            'ç' => 'c',
            other => other,
        })
        .filter(|c| c.is_ascii_alphabetic())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny, fixed generator so that the
/// demo is the same on every machine and every version of every crate.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use respite_clinical::screening::codes::seeded_condition_codes;

    /// The demo only uses diagnosis codes that the screening engine's code
    /// table (shared/clinical/codes.md) knows, and covers every condition
    /// area SPEC §1 names.
    #[test]
    fn every_demo_condition_is_known_to_the_screening_code_table() {
        let table = seeded_condition_codes();
        for condition in CONDITIONS {
            assert!(
                table
                    .iter()
                    .any(|entry| entry.pattern.matches(condition.code)),
                "{} is not in the screening code table",
                condition.code
            );
        }
        for area in PainArea::ALL.iter().filter(|a| **a != PainArea::Other) {
            assert!(
                CONDITIONS.iter().any(|c| c.area == *area),
                "{area:?} has no demo condition"
            );
        }
    }
}
