//! The demo's documented infusion sessions (SPEC §1 step 5): every past
//! session of the demo's history, each with its order and second check, the
//! pre-start checklist, baseline vitals, the start, vitals every 15 minutes,
//! the stop, recovery, the modified Aldrete score, discharge to the named
//! escort and the clinician's sign-off; now and then an alarm (acknowledged,
//! with the action taken), an adverse event with ondansetron or a lowered
//! rate, an early stop, or a first Aldrete of 8 that holds the discharge.
//!
//! Written in bulk (`SessionBatch`): each step is planned by the same pure
//! code as a step documented live (`sessions::plan_entry`, so the alarms
//! come from respite-clinical's alarm rule, the Aldrete totals from
//! `Instrument::ModifiedAldrete`, the delivered dose from its delivery
//! code) and the rows go in with multi-row INSERTs inside the demo's first
//! transaction. That runs before the register (demo/register.rs) is
//! written from the sessions' totals, which are then the delivered totals:
//! each session's administration is what its pump delivered.
//!
//! Audit: none. The demo's history is seeded data, and like every other
//! seeded row (patients, observations, the register) it is written without
//! audit entries; the audit trail starts with the visitor's first request.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};
use respite_clinical::dosing::units::{MgPerKgPerHour, Minutes};
use respite_clinical::dosing::ProtocolStep;
use respite_clinical::instruments::Answers;
use respite_clinical::session::{SessionState, VitalSigns};
use respite_domain::access::Role;

use super::{DemoClock, SplitMix64};
use crate::orders::{steps_json, InfusionOrderRecord, OrderCheckRecord};
use crate::session_batch::{
    insert_sql, keep_prepared, move_sequences_past, rows_per_insert, SessionBatch,
};
use crate::sessions::{InfusionSession, SessionEntry};
use crate::{from_millis, to_millis, Engine, Store, StoreError, StoreResult};

/// A documented session worth opening first, and what it shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExampleSession {
    pub id: i64,
    pub demonstrates: &'static str,
}

/// What the history holds: how many sessions, and a few to open.
#[derive(Default)]
pub(super) struct DocumentedHistory {
    pub(super) sessions: usize,
    pub(super) examples: Vec<ExampleSession>,
}

/// The demo's bag concentration (dosing.md's example: 10 mg/mL).
const CONCENTRATION_MG_ML: f64 = 10.0;
const BAG_ML: f64 = 250.0;
const ESCORTS: [&str; 16] = [
    "Sam Rivera",
    "Lee Okafor",
    "Maria Jensen",
    "Tom Ahlberg",
    "Ruth Cohen",
    "Ben Tanaka",
    "Alex Moreau",
    "Joy Mensah",
    "Chris Novak",
    "Dana Silva",
    "Kim Larsen",
    "Noor Haddad",
    "Pat Walker",
    "Eva Fischer",
    "Jon Kowalski",
    "Mia Singh",
];

fn minutes(at: Timestamp, n: i64) -> StoreResult<Timestamp> {
    at.checked_add(SignedDuration::from_mins(n))
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("demo sessions: {what}"))
}

/// Documents every past session of the demo's history in `conn` (the seed's
/// transaction).
pub(super) async fn seed_sessions(
    conn: &mut sqlx::AnyConnection,
    store: &Store,
    clock: &DemoClock,
) -> StoreResult<DocumentedHistory> {
    let (Some(nurse), Some(clinician)) = (
        staff_of(conn, "nurse").await?,
        staff_of(conn, "clinician").await?,
    ) else {
        return Ok(DocumentedHistory::default());
    };
    let sessions: Vec<(i64, i64, i64, String, f64, i64)> = sqlx::query_as(
        "SELECT id, patient_id, started_at, protocol, total_mg, minutes FROM infusion_sessions \
         WHERE started_at < $1 AND state IS NULL AND minutes > 0 ORDER BY started_at, id",
    )
    .bind(to_millis(clock.now))
    .fetch_all(&mut *conn)
    .await?;
    let protocols = store.protocol_versions().await?;
    let Some(fallback) = protocols
        .iter()
        .find(|p| p.key == "clinic-outpatient-series")
        .or(protocols.first())
    else {
        return Ok(DocumentedHistory::default());
    };
    // The chart's observations taken at each session: its weight and the
    // baseline the session's vital signs vary around.
    let rows: Vec<(i64, i64, String, f64)> = sqlx::query_as(
        "SELECT patient_id, observed_at, code, value FROM observations \
         WHERE code IN ('29463-7', '8867-4', '8480-6', '8462-4', '59408-5')",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut observed: HashMap<(i64, i64, String), f64> = HashMap::new();
    for (patient, at, code, value) in rows {
        observed.insert((patient, at, code), value);
    }
    let (last_order,): (Option<i64>,) = sqlx::query_as("SELECT MAX(id) FROM infusion_orders")
        .fetch_one(&mut *conn)
        .await?;
    let mut order_id = last_order.unwrap_or(0);

    let mut batch = SessionBatch::new(conn, store.alarm_thresholds().await?).await?;
    let mut orders = Vec::with_capacity(sessions.len());
    let mut features = Vec::with_capacity(sessions.len());
    for (index, (session_id, patient_id, started_ms, protocol, total_mg, length)) in
        sessions.into_iter().enumerate()
    {
        let started = from_millis(started_ms)?;
        let look = |code: &str, otherwise: f64| {
            observed
                .get(&(patient_id, started_ms, code.to_owned()))
                .copied()
                .unwrap_or(otherwise)
        };
        let body = Baseline {
            weight_kg: look("29463-7", 70.0),
            heart_rate: look("8867-4", 74.0),
            systolic: look("8480-6", 124.0),
            diastolic: look("8462-4", 78.0),
            saturation: look("59408-5", 97.0),
        };
        let version = protocols
            .iter()
            .find(|p| p.protocol.name == protocol)
            .unwrap_or(fallback);
        order_id += 1;
        // The session's own total over its own minutes, as one steady rate,
        // the pump set to its 0.1 mL/h.
        let rate_mg_h = total_mg * 60.0 / length as f64;
        let pump_ml_h = (rate_mg_h / CONCENTRATION_MG_ML * 10.0).round() / 10.0;
        let ordered_at = minutes(started, -60)?;
        let checked_at = minutes(started, -40)?;
        let order = InfusionOrderRecord {
            id: order_id,
            patient_id,
            protocol: version.clone(),
            steps: vec![ProtocolStep::Infusion {
                rate: MgPerKgPerHour::new(rate_mg_h / body.weight_kg)
                    .map_err(|_| corrupt("rate"))?,
                duration: Minutes::new(length as f64).map_err(|_| corrupt("minutes"))?,
            }],
            concentration_mg_ml: CONCENTRATION_MG_ML,
            bag_ml: BAG_ML,
            weight_kg: body.weight_kg,
            weight_observed_at: minutes(ordered_at, -15)?,
            dosing_weight_kg: body.weight_kg,
            total_mg,
            total_ml: total_mg / CONCENTRATION_MG_ML,
            max_rate_mg_h: rate_mg_h,
            max_pump_ml_h: rate_mg_h / CONCENTRATION_MG_ML,
            target_ng_ml: None,
            ordered_by_id: clinician.0,
            ordered_by: clinician.1.clone(),
            ordered_at,
            overrides: Vec::new(),
            check: Some(OrderCheckRecord {
                drug: "racemic".into(),
                concentration_mg_ml: CONCENTRATION_MG_ML,
                weight_kg: body.weight_kg,
                pump_ml_h,
                checked_by: nurse.1.clone(),
                checked_at,
            }),
        };
        let opened_at = minutes(started, -30)?;
        let mut session = InfusionSession {
            id: session_id,
            patient_id,
            patient_name: String::new(),
            mrn: String::new(),
            order_id,
            state: SessionState::Checklist,
            version: 1,
            protocol,
            opened_by: nurse.1.clone(),
            opened_at,
            consent: false,
            iv_access: false,
            escort_name: None,
            escort_phone: None,
            escort_confirmed: false,
            second_check: true,
            infusion_started_at: None,
            stopped_at: None,
            discharged_at: None,
            signed_off_by: None,
            signed_off_at: None,
            total_mg: 0.0,
            minutes: 0,
            events: Vec::new(),
            alarms: Vec::new(),
        };
        let rescue = version
            .rescue_drugs
            .iter()
            .find(|d| d.contains("ondansetron"))
            .cloned();
        let plan = SessionPlan::new(index, length, pump_ml_h, &body, rescue);
        for (offset, role, mut entry) in plan.script() {
            if let SessionEntry::AcknowledgeAlarm { alarm_id, .. } = &mut entry {
                *alarm_id = batch.last_alarm_id().unwrap_or_default();
            }
            let by = if role == Role::Clinician {
                (clinician.0, role, clinician.1.as_str())
            } else {
                (nurse.0, role, nurse.1.as_str())
            };
            batch
                .record(&mut session, &order, &entry, by, minutes(started, offset)?)
                .map_err(|refusal| corrupt(&format!("session {session_id}: {refusal:?}")))?;
        }
        features.push((session_id, plan.incident, plan.slow_to_wake));
        orders.push(order);
        batch.finish(session, nurse.0);
    }
    let documented = batch.len();
    insert_orders(conn, store.engine(), &orders, nurse.0).await?;
    batch.write(conn, store.engine()).await?;
    move_sequences_past(
        conn,
        store.engine(),
        &["infusion_orders", "infusion_order_checks"],
    )
    .await?;
    Ok(DocumentedHistory {
        sessions: documented,
        examples: examples(&features),
    })
}

/// The newest session of each kind a visitor may want to see.
fn examples(features: &[(i64, Incident, bool)]) -> Vec<ExampleSession> {
    let newest = |wanted: &dyn Fn(&(i64, Incident, bool)) -> bool, demonstrates| {
        features
            .iter()
            .rev()
            .find(|f| wanted(f))
            .map(|(id, _, _)| ExampleSession {
                id: *id,
                demonstrates,
            })
    };
    [
        newest(&|f| f.1 == Incident::None && !f.2, "uneventful"),
        newest(
            &|f| matches!(f.1, Incident::Alarm(_)),
            "an alarm acknowledged, the action taken",
        ),
        newest(
            &|f| f.1 == Incident::Nausea,
            "nausea treated with ondansetron",
        ),
        newest(
            &|f| f.1 == Incident::Dissociation,
            "dissociation, the rate lowered",
        ),
        newest(&|f| f.2, "an Aldrete of 8 holds the discharge"),
    ]
    .into_iter()
    .flatten()
    .collect()
}

async fn insert_orders(
    conn: &mut sqlx::AnyConnection,
    engine: Engine,
    orders: &[InfusionOrderRecord],
    checked_by: i64,
) -> StoreResult<()> {
    for chunk in orders.chunks(rows_per_insert(16)) {
        let sql = insert_sql(
            "infusion_orders (id, patient_id, protocol_version_id, steps, concentration_mg_ml, \
             bag_ml, weight_kg, weight_observed_at, dosing_weight_kg, total_mg, total_ml, \
             max_rate_mg_h, max_pump_ml_h, target_ng_ml, ordered_by, ordered_at)",
            16,
            chunk.len(),
        );
        let mut query = sqlx::query(&sql).persistent(keep_prepared(engine));
        for o in chunk {
            query = query
                .bind(o.id)
                .bind(o.patient_id)
                .bind(o.protocol.id)
                .bind(steps_json(&o.steps).to_string())
                .bind(o.concentration_mg_ml)
                .bind(o.bag_ml)
                .bind(o.weight_kg)
                .bind(to_millis(o.weight_observed_at))
                .bind(o.dosing_weight_kg)
                .bind(o.total_mg)
                .bind(o.total_ml)
                .bind(o.max_rate_mg_h)
                .bind(o.max_pump_ml_h)
                .bind(o.target_ng_ml)
                .bind(o.ordered_by_id)
                .bind(to_millis(o.ordered_at));
        }
        query.execute(&mut *conn).await?;
    }
    let checks: Vec<(i64, &OrderCheckRecord)> = orders
        .iter()
        .filter_map(|o| o.check.as_ref().map(|c| (o.id, c)))
        .collect();
    for chunk in checks.chunks(rows_per_insert(7)) {
        let sql = insert_sql(
            "infusion_order_checks (order_id, drug, concentration_mg_ml, weight_kg, pump_ml_h, \
             checked_by, checked_at)",
            7,
            chunk.len(),
        );
        let mut query = sqlx::query(&sql).persistent(keep_prepared(engine));
        for (order_id, c) in chunk {
            query = query
                .bind(*order_id)
                .bind(c.drug.clone())
                .bind(c.concentration_mg_ml)
                .bind(c.weight_kg)
                .bind(c.pump_ml_h)
                .bind(checked_by)
                .bind(to_millis(c.checked_at));
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The first active staff member of `role`: id and display name.
async fn staff_of(
    conn: &mut sqlx::AnyConnection,
    role: &str,
) -> StoreResult<Option<(i64, String)>> {
    Ok(sqlx::query_as(
        "SELECT id, display_name FROM staff_users WHERE role = $1 AND active = 1 \
         ORDER BY id LIMIT 1",
    )
    .bind(role)
    .fetch_optional(&mut *conn)
    .await?)
}

/// The patient's own values that day (the chart's observations).
struct Baseline {
    weight_kg: f64,
    heart_rate: f64,
    systolic: f64,
    diastolic: f64,
    saturation: f64,
}

/// What out of the ordinary happens in a session (at most one).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Incident {
    None,
    /// A vital sign beyond the clinic's threshold.
    Alarm(AlarmKind),
    Dissociation,
    Nausea,
    Anxiety,
    /// Stopped early at the patient's request.
    EarlyStop,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum AlarmKind {
    Hypertension,
    Tachycardia,
    Desaturation,
}

/// One session's script, drawn from its own generator (so that the rest of
/// the demo does not move when it changes).
struct SessionPlan {
    rng: std::cell::RefCell<SplitMix64>,
    index: usize,
    length: i64,
    pump_ml_h: f64,
    systolic: f64,
    diastolic: f64,
    heart_rate: f64,
    saturation: f64,
    pain: f64,
    rescue: Option<String>,
    incident: Incident,
    /// Minutes from the start of the 15-minute round where the incident
    /// happens.
    incident_at: i64,
    slow_to_wake: bool,
}

impl SessionPlan {
    fn new(
        index: usize,
        length: i64,
        pump_ml_h: f64,
        body: &Baseline,
        rescue: Option<String>,
    ) -> SessionPlan {
        let mut rng = SplitMix64(0x5e55_1075 ^ ((index as u64 + 1) << 24));
        // A handful of alarms across the clinic (about one session in 40),
        // a few more adverse events; most sessions are uneventful.
        let roll = rng.below(1000);
        let incident = match roll {
            0..=24 => Incident::Alarm(
                [
                    AlarmKind::Hypertension,
                    AlarmKind::Tachycardia,
                    AlarmKind::Desaturation,
                ][rng.below(3) as usize],
            ),
            25..=89 => Incident::Dissociation,
            90..=159 if rescue.is_some() => Incident::Nausea,
            160..=189 => Incident::Anxiety,
            190..=201 => Incident::EarlyStop,
            _ => Incident::None,
        };
        let incident_at = 15 * (2 + rng.below(5) as i64);
        let slow_to_wake = rng.chance(0.1);
        let pain = 5.0 + rng.below(4) as f64;
        SessionPlan {
            rng: std::cell::RefCell::new(rng),
            index,
            length,
            pump_ml_h,
            systolic: body.systolic,
            diastolic: body.diastolic,
            heart_rate: body.heart_rate,
            saturation: body.saturation,
            pain,
            rescue,
            incident,
            incident_at,
            slow_to_wake,
        }
    }

    fn below(&self, n: u64) -> f64 {
        self.rng.borrow_mut().below(n) as f64
    }

    /// Vital signs during the infusion: ketamine raises blood pressure and
    /// heart rate a little (dosing.md, "Monitoring"); the pain eases.
    fn running(&self, minute: i64) -> VitalSigns {
        let relief = (minute as f64 / 45.0).min(4.0);
        VitalSigns {
            systolic: self.systolic + 4.0 + self.below(10),
            diastolic: self.diastolic + self.below(6),
            heart_rate: self.heart_rate + 2.0 + self.below(8),
            oxygen_saturation: (self.saturation - self.below(2)).max(94.0),
            respiratory_rate: 12.0 + self.below(5),
            pain_nrs: Some((self.pain - relief).round().max(1.0)),
        }
    }

    /// Vital signs at rest (baseline, recovery).
    fn resting(&self, pain: f64) -> VitalSigns {
        VitalSigns {
            systolic: self.systolic + self.below(5) - 2.0,
            diastolic: self.diastolic + self.below(3) - 1.0,
            heart_rate: self.heart_rate + self.below(5) - 2.0,
            oxygen_saturation: self.saturation,
            respiratory_rate: 12.0 + self.below(4),
            pain_nrs: Some(pain),
        }
    }

    fn pump(&self, fraction: f64) -> f64 {
        ((self.pump_ml_h * fraction * 10.0).round() / 10.0).max(0.1)
    }

    /// (minutes from the start, who, what), in order.
    fn script(&self) -> Vec<(i64, Role, SessionEntry)> {
        let nurse = |at: i64, entry: SessionEntry| (at, Role::Nurse, entry);
        let escort = ESCORTS[self.index * 7 % ESCORTS.len()];
        let phone = if self.index.is_multiple_of(3) {
            String::new()
        } else {
            format!("(503) 555-{:04}", 100 + self.index % 900)
        };
        let mut script = vec![
            nurse(
                -25,
                SessionEntry::Checklist {
                    consent: true,
                    iv_access: true,
                    escort_name: escort.into(),
                    escort_phone: phone,
                    escort_confirmed: true,
                },
            ),
            nurse(-10, SessionEntry::Vitals(self.resting(self.pain))),
            nurse(
                0,
                SessionEntry::Start {
                    pump_ml_h: self.pump_ml_h,
                    bolus_mg: None,
                },
            ),
        ];
        let stop_at = if self.incident == Incident::EarlyStop {
            self.incident_at + 60
        } else {
            self.length
        };
        let mut round = 15;
        while round < stop_at {
            let vitals = self.running(round);
            if round == self.incident_at {
                self.incident_round(round, vitals, &mut script);
            } else {
                script.push(nurse(round, SessionEntry::Vitals(vitals)));
            }
            round += 15;
        }
        let end_pain = (self.pain - (stop_at as f64 / 45.0).min(4.0))
            .round()
            .max(1.0);
        script.push(nurse(
            stop_at,
            SessionEntry::Stop {
                reason: if self.incident == Incident::EarlyStop {
                    "Stopped early at the patient's request: tired, mild headache".into()
                } else {
                    "End of the ordered infusion".into()
                },
            },
        ));
        script.push(nurse(stop_at + 2, SessionEntry::BeginRecovery));
        script.push(nurse(
            stop_at + 15,
            SessionEntry::Vitals(self.resting(end_pain)),
        ));
        let full = if self.index.is_multiple_of(3) { 9 } else { 10 };
        let mut discharge_at = stop_at + 25 + self.below(3) as i64 * 5;
        if self.slow_to_wake {
            script.push(nurse(stop_at + 20, SessionEntry::Aldrete(aldrete(8))));
            script.push(nurse(
                stop_at + 21,
                SessionEntry::Note {
                    text: "Drowsy, rousable to voice: discharge held, Aldrete again in 15 \
                           minutes"
                        .into(),
                },
            ));
            script.push(nurse(
                stop_at + 30,
                SessionEntry::Vitals(self.resting(end_pain)),
            ));
            script.push(nurse(stop_at + 35, SessionEntry::Aldrete(aldrete(full))));
            discharge_at += 20;
        } else {
            script.push(nurse(stop_at + 20, SessionEntry::Aldrete(aldrete(full))));
        }
        script.push(nurse(
            discharge_at,
            SessionEntry::Discharge {
                escort_name: escort.into(),
            },
        ));
        script.push((
            discharge_at + 30 + self.below(5) as i64 * 20,
            Role::Clinician,
            SessionEntry::SignOff {
                note: self.sign_off_note(end_pain),
            },
        ));
        script
    }

    /// The 15-minute round where the session's incident happens.
    fn incident_round(
        &self,
        at: i64,
        mut vitals: VitalSigns,
        script: &mut Vec<(i64, Role, SessionEntry)>,
    ) {
        let nurse = |at: i64, entry: SessionEntry| (at, Role::Nurse, entry);
        let acknowledge = |at: i64, action: &str| {
            nurse(
                at,
                SessionEntry::AcknowledgeAlarm {
                    alarm_id: 0,
                    action_taken: action.into(),
                },
            )
        };
        let recheck = self.running(at + 5);
        match self.incident {
            Incident::Alarm(AlarmKind::Hypertension) => {
                // Above the clinic's 180 mm Hg (dosing.md's default).
                vitals.systolic = 182.0 + self.below(9);
                vitals.diastolic = 98.0 + self.below(6);
                script.push(nurse(at, SessionEntry::Vitals(vitals)));
                script.push(acknowledge(
                    at + 2,
                    "Reassured, lights dimmed; clinician informed, rate lowered by a quarter",
                ));
                script.push(nurse(
                    at + 3,
                    SessionEntry::ChangeRate {
                        pump_ml_h: self.pump(0.75),
                        reason: "Blood pressure above 180: lowered by a quarter (clinician)".into(),
                    },
                ));
                script.push(nurse(at + 8, SessionEntry::Vitals(recheck)));
            }
            Incident::Alarm(AlarmKind::Tachycardia) => {
                // Above the clinic's 120 /min (dosing.md's default).
                vitals.heart_rate = 122.0 + self.below(8);
                script.push(nurse(at, SessionEntry::Vitals(vitals)));
                script.push(acknowledge(
                    at + 2,
                    "Anxious: reassured and coached breathing; clinician informed",
                ));
                script.push(nurse(at + 7, SessionEntry::Vitals(recheck)));
            }
            Incident::Alarm(AlarmKind::Desaturation) => {
                // Below the clinic's 92 % (dosing.md's default).
                vitals.oxygen_saturation = 90.0 + self.below(2);
                vitals.respiratory_rate = 10.0;
                script.push(nurse(at, SessionEntry::Vitals(vitals)));
                script.push(acknowledge(
                    at + 1,
                    "Drowsy, shallow breathing: roused, chin lift, oxygen 2 L/min by nasal \
                     cannula",
                ));
                script.push(nurse(at + 5, SessionEntry::Vitals(recheck)));
            }
            Incident::Dissociation => {
                script.push(nurse(at, SessionEntry::Vitals(vitals)));
                script.push(nurse(
                    at + 2,
                    SessionEntry::AdverseEvent {
                        code: "dissociation".into(),
                        description: "Feels far away and finds it unpleasant; reassured".into(),
                    },
                ));
                script.push(nurse(
                    at + 3,
                    SessionEntry::ChangeRate {
                        pump_ml_h: self.pump(0.75),
                        reason: "Dissociation: lowered by a quarter".into(),
                    },
                ));
                script.push(nurse(at + 8, SessionEntry::Vitals(recheck)));
            }
            Incident::Nausea => {
                script.push(nurse(at, SessionEntry::Vitals(vitals)));
                script.push(nurse(
                    at + 2,
                    SessionEntry::AdverseEvent {
                        code: "nausea-vomiting".into(),
                        description: "Nauseated, no vomiting".into(),
                    },
                ));
                if let Some(drug) = &self.rescue {
                    script.push(nurse(
                        at + 4,
                        SessionEntry::RescueDrug {
                            drug: drug.clone(),
                            dose_mg: 4.0,
                            reason: "Nausea".into(),
                            vial: None,
                        },
                    ));
                }
            }
            Incident::Anxiety => {
                script.push(nurse(at, SessionEntry::Vitals(vitals)));
                script.push(nurse(
                    at + 1,
                    SessionEntry::AdverseEvent {
                        code: "anxiety-agitation".into(),
                        description: "Anxious as the effects began; reassured, music on; \
                                      settled without a drug"
                            .into(),
                    },
                ));
            }
            Incident::EarlyStop | Incident::None => {
                script.push(nurse(at, SessionEntry::Vitals(vitals)));
            }
        }
    }

    fn sign_off_note(&self, end_pain: f64) -> String {
        let said = match self.incident {
            Incident::Alarm(AlarmKind::Hypertension) => {
                "Blood pressure above 180 settled at the lower rate; check it before the next \
                 session"
                    .to_owned()
            }
            Incident::Alarm(AlarmKind::Tachycardia) => {
                "Brief tachycardia with anxiety, settled with reassurance".to_owned()
            }
            Incident::Alarm(AlarmKind::Desaturation) => {
                "Brief desaturation while drowsy, settled with oxygen; watch closely next time"
                    .to_owned()
            }
            Incident::Dissociation => {
                "Dissociation eased at the lower rate; start a quarter lower next time if it \
                 recurs"
                    .to_owned()
            }
            Incident::Nausea => {
                "Nausea settled with ondansetron; offer it before the next session".to_owned()
            }
            Incident::Anxiety => "Anxious at the start, settled without medication".to_owned(),
            Incident::EarlyStop => {
                "Stopped early at the patient's request; discuss at the next visit".to_owned()
            }
            Incident::None => match self.index % 4 {
                0 => "Uneventful; next session as planned".to_owned(),
                1 => format!("Tolerated well; pain {} → {end_pain}", self.pain),
                2 => "Comfortable throughout; continue the series".to_owned(),
                _ => "No concerns; same dose next time".to_owned(),
            },
        };
        if self.slow_to_wake {
            format!("{said}. Slow to wake (Aldrete 8), discharged after re-scoring")
        } else {
            said
        }
    }
}

/// Modified Aldrete answers totalling `total` (8, 9 or 10): below 10 the
/// patient is drowsy (consciousness 1), at 8 also unsteady (activity 1).
fn aldrete(total: i32) -> Answers {
    let mut answers = Answers::new();
    for item in ["respiration", "circulation", "oxygen-saturation"] {
        answers.insert(item, 2);
    }
    answers.insert("consciousness", if total < 10 { 1 } else { 2 });
    answers.insert("activity", if total < 9 { 1 } else { 2 });
    answers
}
