//! The infusion session as the nurse documents it (SPEC §1 step 5; the rules
//! are respite-clinical's `session` module). A session is opened from an
//! order whose second check is recorded; every action then appends to its
//! timeline in one transaction with its audit entry, guarded by the
//! session's version (`UPDATE … SET version = version + 1 WHERE id = $1 AND
//! version = $2`): an edit made from a page that is no longer current — a
//! second tablet, a reloaded form — is refused as stale, never lost.
//!
//! Every write is planned first by a pure step (`plan_entry`: the state
//! machine, the alarm rule, the Aldrete score, the delivered dose, as
//! respite-clinical decides them) and then executed: one entry at a time
//! here, many at once for the demo's history (`session_batch.rs`), so that
//! both write the same rows.
//!
//! The thin `infusion_sessions` row of 0001 stays what the register and the
//! chart read: its `total_mg` and `minutes` follow the delivered infusion,
//! so that the register's administration is prefilled with what the pump
//! gave.

use jiff::Timestamp;
use respite_clinical::instruments::{Answers, Instrument};
use respite_clinical::session::{
    alarms, delivered, discharge_refusals, vitals_due, ActionRefused, AlarmDirection,
    AlarmThresholds, ChecklistItem, DeliveredInfusion, DeliveryError, DischargeFacts,
    DischargeRefusal, PreStartChecklist, PumpEvent, PumpEventKind, SessionAction, SessionState,
    ThresholdError, VitalKind, VitalSigns, VitalsDue,
};
use respite_domain::access::Role;

use crate::orders::InfusionOrderRecord;
use crate::register::{rescue_draw_in, RescueDraw, RescueDrawRefusal};
use crate::{from_millis, is_unique_violation, to_millis, Store, StoreError, StoreResult};
use respite_clinical::register::DrugAmount;
use respite_clinical::session::{RescueDrug, RescueRefusal};

/// Adverse events the session form offers (dosing.md, "Monitoring":
/// psychotomimetic effects, the vital-sign alarms' conditions, nausea, for
/// which the rescue drugs are named); "other" takes a description.
pub const ADVERSE_EVENT_CODES: [&str; 7] = [
    "dissociation",
    "anxiety-agitation",
    "nausea-vomiting",
    "hypertension",
    "tachycardia",
    "desaturation",
    "other",
];

/// A session, whole: its row, its timeline and its alarms.
#[derive(Clone, Debug)]
pub struct InfusionSession {
    pub id: i64,
    pub patient_id: i64,
    pub patient_name: String,
    pub mrn: String,
    pub order_id: i64,
    pub state: SessionState,
    pub version: i64,
    pub protocol: String,
    pub opened_by: String,
    pub opened_at: Timestamp,
    pub consent: bool,
    pub iv_access: bool,
    pub escort_name: Option<String>,
    pub escort_phone: Option<String>,
    pub escort_confirmed: bool,
    pub second_check: bool,
    pub infusion_started_at: Option<Timestamp>,
    pub stopped_at: Option<Timestamp>,
    pub discharged_at: Option<Timestamp>,
    pub signed_off_by: Option<String>,
    pub signed_off_at: Option<Timestamp>,
    pub total_mg: f64,
    pub minutes: i64,
    pub events: Vec<SessionEvent>,
    pub alarms: Vec<SessionAlarm>,
}

/// One event of the timeline.
#[derive(Clone, Debug)]
pub struct SessionEvent {
    pub id: i64,
    pub kind: String,
    pub at: Timestamp,
    pub recorded_by: String,
    pub rate_mg_h: Option<f64>,
    pub pump_ml_h: Option<f64>,
    pub amount_mg: Option<f64>,
    pub over_min: Option<f64>,
    pub code: Option<String>,
    pub drug: Option<String>,
    pub score: Option<f64>,
    pub answers: Option<Answers>,
    pub alarm_id: Option<i64>,
    pub note: String,
    /// A vitals event's values.
    pub vitals: Vec<(VitalKind, f64)>,
}

/// A vital sign beyond its threshold, and its acknowledgement.
#[derive(Clone, Debug)]
pub struct SessionAlarm {
    pub id: i64,
    pub event_id: i64,
    pub at: Timestamp,
    pub kind: VitalKind,
    pub value: f64,
    pub limit: f64,
    pub direction: AlarmDirection,
    pub acknowledged: Option<AlarmAcknowledgement>,
}

#[derive(Clone, Debug)]
pub struct AlarmAcknowledgement {
    pub by: String,
    pub at: Timestamp,
    pub action_taken: String,
}

/// A session in a list.
#[derive(Clone, Debug)]
pub struct SessionSummary {
    pub id: i64,
    pub patient_id: i64,
    pub patient_name: String,
    pub mrn: String,
    pub state: SessionState,
    pub protocol: String,
    pub opened_at: Timestamp,
    pub total_mg: f64,
    pub open_alarms: i64,
}

/// What the nurse (or clinician) records.
#[derive(Clone, Debug)]
pub enum SessionEntry {
    Checklist {
        consent: bool,
        iv_access: bool,
        escort_name: String,
        escort_phone: String,
        escort_confirmed: bool,
    },
    /// The pump starts at `pump_ml_h`; the loading bolus given, if any.
    Start {
        pump_ml_h: f64,
        bolus_mg: Option<f64>,
    },
    Pause {
        reason: String,
    },
    Resume {
        reason: String,
    },
    ChangeRate {
        pump_ml_h: f64,
        reason: String,
    },
    Stop {
        reason: String,
    },
    Vitals(VitalSigns),
    AcknowledgeAlarm {
        alarm_id: i64,
        action_taken: String,
    },
    AdverseEvent {
        code: String,
        description: String,
    },
    /// A rescue drug the protocol allows; a controlled one (midazolam) is
    /// drawn from a register vial of it in the same transaction.
    RescueDrug {
        drug: String,
        dose_mg: f64,
        reason: String,
        vial: Option<RescueVialDraw>,
    },
    BeginRecovery,
    Aldrete(Answers),
    Discharge {
        escort_name: String,
    },
    SignOff {
        note: String,
    },
    Note {
        text: String,
    },
}

impl SessionEntry {
    pub fn action(&self) -> SessionAction {
        match self {
            SessionEntry::Checklist { .. } => SessionAction::Checklist,
            SessionEntry::Start { .. } => SessionAction::Start,
            SessionEntry::Pause { .. } => SessionAction::Pause,
            SessionEntry::Resume { .. } => SessionAction::Resume,
            SessionEntry::ChangeRate { .. } => SessionAction::ChangeRate,
            SessionEntry::Stop { .. } => SessionAction::Stop,
            SessionEntry::Vitals(_) => SessionAction::Vitals,
            SessionEntry::AcknowledgeAlarm { .. } => SessionAction::AcknowledgeAlarm,
            SessionEntry::AdverseEvent { .. } => SessionAction::AdverseEvent,
            SessionEntry::RescueDrug { .. } => SessionAction::RescueDrug,
            SessionEntry::BeginRecovery => SessionAction::BeginRecovery,
            SessionEntry::Aldrete(_) => SessionAction::Aldrete,
            SessionEntry::Discharge { .. } => SessionAction::Discharge,
            SessionEntry::SignOff { .. } => SessionAction::SignOff,
            SessionEntry::Note { .. } => SessionAction::Note,
        }
    }
}

/// The register vial a controlled rescue dose is drawn from, and how much.
#[derive(Clone, Copy, Debug)]
pub struct RescueVialDraw {
    pub vial_id: i64,
    /// What is drawn (mg): at least the dose; the rest is wasted later.
    pub drawn_mg: f64,
    /// The clinic's date today (an expired vial is not drawn).
    pub today: jiff::civil::Date,
}

/// Why an action was refused; each names the rule.
#[derive(Clone, Debug, PartialEq)]
pub enum SessionRefusal {
    NoSuchSession,
    NoSuchOrder,
    /// The order's second check is not recorded.
    OrderNotChecked,
    /// The order has a session already.
    SessionExists(i64),
    NotClinicalStaff,
    /// Only a clinician signs off (dosing.md, Discharge).
    NotAClinician,
    /// Someone saved the session meanwhile: it is at version `latest`.
    Stale {
        latest: i64,
    },
    Action(ActionRefused),
    Checklist(Vec<ChecklistItem>),
    /// A field left empty that the action needs.
    Required(&'static str),
    /// A rate above the ordered maximum (the order, with its overrides, is
    /// the hard limit: SPEC §5 "Dose limits are hard stops").
    RateAboveOrder {
        rate_mg_h: f64,
        max_mg_h: f64,
    },
    BolusAboveOrder {
        mg: f64,
        max_mg: f64,
    },
    Implausible {
        field: &'static str,
        value: f64,
    },
    NoSuchAlarm,
    AlarmAcknowledged,
    UnknownAdverseEvent,
    /// A rescue drug the protocol does not allow.
    RescueNotAllowed {
        allowed: Vec<String>,
    },
    /// The rescue drug's draw breaks a rule (respite_clinical's
    /// `check_rescue_draw`).
    Rescue(RescueRefusal),
    /// A vial named for a drug the catalogue does not know as controlled.
    RescueNotInRegister,
    /// The vial named is not in the register.
    NoSuchVial,
    AldreteIncomplete,
    Discharge(Vec<DischargeRefusal>),
    Timeline(DeliveryError),
}

impl InfusionSession {
    /// The checklist as respite-clinical checks it.
    pub fn checklist(&self) -> PreStartChecklist {
        let baseline: Vec<&SessionEvent> = self
            .events
            .iter()
            .filter(|e| e.kind == "vitals")
            .take_while(|e| self.infusion_started_at.is_none_or(|start| e.at <= start))
            .collect();
        PreStartChecklist {
            consent: self.consent,
            escort_name: self.escort_name.clone(),
            escort_confirmed: self.escort_confirmed,
            iv_access: self.iv_access,
            baseline_vitals: !baseline.is_empty(),
            baseline_pain: baseline
                .iter()
                .any(|e| e.vitals.iter().any(|(k, _)| *k == VitalKind::PainNrs)),
            second_check: self.second_check,
        }
    }

    /// The pump events, in minutes from the start of the infusion.
    pub fn pump_events(&self) -> Vec<PumpEvent> {
        let Some(start) = self.infusion_started_at else {
            return Vec::new();
        };
        self.events
            .iter()
            .filter_map(|e| pump_event(e, start))
            .collect()
    }

    /// What the pump delivered up to `now` (or the stop).
    pub fn delivered(&self, now: Timestamp) -> Result<DeliveredInfusion, DeliveryError> {
        let until = match (self.infusion_started_at, self.stopped_at) {
            (Some(start), Some(stop)) => minutes_between(start, stop),
            (Some(start), None) => minutes_between(start, now),
            (None, _) => 0.0,
        };
        delivered(&self.pump_events(), until)
    }

    pub fn last_vitals_at(&self) -> Option<Timestamp> {
        self.events
            .iter()
            .rev()
            .find(|e| e.kind == "vitals")
            .map(|e| e.at)
    }

    /// The last change of the rate the patient receives: the start, a
    /// pause, a resume, a rate change or the stop (dosing.md: vitals "at
    /// any change of rate").
    pub fn last_rate_change_at(&self) -> Option<Timestamp> {
        self.events
            .iter()
            .rev()
            .find(|e| {
                matches!(
                    e.kind.as_str(),
                    "start" | "pause" | "resume" | "rate-change" | "stop"
                )
            })
            .map(|e| e.at)
    }

    pub fn vitals_due(&self) -> Option<VitalsDue> {
        vitals_due(
            self.state,
            self.last_vitals_at(),
            self.last_rate_change_at(),
        )
    }

    pub fn open_alarms(&self) -> Vec<&SessionAlarm> {
        self.alarms
            .iter()
            .filter(|a| a.acknowledged.is_none())
            .collect()
    }

    pub fn latest_aldrete(&self) -> Option<&SessionEvent> {
        self.events.iter().rev().find(|e| e.kind == "aldrete")
    }

    pub fn discharge_facts(&self) -> DischargeFacts {
        DischargeFacts {
            latest_aldrete: self.latest_aldrete().and_then(|e| e.answers.clone()),
            escort_name: self.escort_name.clone(),
            open_alarms: self.open_alarms().len(),
        }
    }
}

fn minutes_between(from: Timestamp, to: Timestamp) -> f64 {
    ((to.as_millisecond() - from.as_millisecond()) as f64 / 60_000.0).max(0.0)
}

fn pump_event(e: &SessionEvent, start: Timestamp) -> Option<PumpEvent> {
    let kind = match e.kind.as_str() {
        "start" => PumpEventKind::Start {
            rate_mg_h: e.rate_mg_h?,
        },
        "pause" => PumpEventKind::Pause,
        "resume" => PumpEventKind::Resume,
        "rate-change" => PumpEventKind::RateChange {
            rate_mg_h: e.rate_mg_h?,
        },
        "bolus" => PumpEventKind::Bolus {
            mg: e.amount_mg?,
            over_min: e.over_min.unwrap_or(0.0),
        },
        "stop" => PumpEventKind::Stop,
        _ => return None,
    };
    Some(PumpEvent {
        at_min: minutes_between(start, e.at),
        kind,
    })
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("infusion session: {what}"))
}

fn answers_text(answers: &Answers) -> String {
    answers
        .iter()
        .map(|(item, value)| format!("{item}={value}"))
        .collect::<Vec<_>>()
        .join(";")
}

fn answers_from_text(text: &str) -> Answers {
    let mut answers = Answers::new();
    for pair in text.split(';') {
        if let Some((item, value)) = pair.split_once('=') {
            if let Ok(value) = value.parse() {
                answers.insert(item, value);
            }
        }
    }
    answers
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: i64,
    patient_id: i64,
    patient_name: String,
    mrn: String,
    order_id: Option<i64>,
    state: Option<String>,
    version: Option<i64>,
    protocol: String,
    opened_by: Option<String>,
    opened_at: Option<i64>,
    consent: Option<i64>,
    iv_access: Option<i64>,
    escort_name: Option<String>,
    escort_phone: Option<String>,
    escort_confirmed: Option<i64>,
    second_check: i64,
    infusion_started_at: Option<i64>,
    stopped_at: Option<i64>,
    discharged_at: Option<i64>,
    signed_off_by: Option<String>,
    signed_off_at: Option<i64>,
    total_mg: f64,
    minutes: i64,
}

type SummaryRow = (i64, i64, String, String, String, String, i64, f64, i64);

fn summary_of(
    (id, patient_id, patient_name, mrn, state, protocol, opened_at, total_mg, open): SummaryRow,
) -> StoreResult<SessionSummary> {
    Ok(SessionSummary {
        id,
        patient_id,
        patient_name,
        mrn,
        state: SessionState::from_code(&state).ok_or_else(|| corrupt("state"))?,
        protocol,
        opened_at: from_millis(opened_at)?,
        total_mg,
        open_alarms: open,
    })
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    kind: String,
    at: i64,
    recorded_by: String,
    rate_mg_h: Option<f64>,
    pump_ml_h: Option<f64>,
    amount_mg: Option<f64>,
    over_min: Option<f64>,
    code: Option<String>,
    drug: Option<String>,
    score: Option<f64>,
    answers: Option<String>,
    alarm_id: Option<i64>,
    note: String,
}

#[derive(sqlx::FromRow)]
struct AlarmRow {
    id: i64,
    event_id: i64,
    at: i64,
    loinc: String,
    value: f64,
    limit_value: f64,
    direction: String,
    ack_by: Option<String>,
    ack_at: Option<i64>,
    ack_note: Option<String>,
}

fn optional_time(ms: Option<i64>) -> StoreResult<Option<Timestamp>> {
    ms.map(from_millis).transpose()
}

/// A reason or description: trimmed, required, at most 2000 characters.
fn required(text: &str, field: &'static str) -> Result<String, SessionRefusal> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > 2000 {
        return Err(SessionRefusal::Required(field));
    }
    Ok(text.to_owned())
}

/// The ordered loading bolus in mg (the order's bolus per kg × its dosing
/// weight), if the order has one.
pub fn ordered_bolus_mg(order: &InfusionOrderRecord) -> Option<(f64, f64)> {
    order.steps.iter().find_map(|step| match step {
        respite_clinical::dosing::ProtocolStep::Bolus { dose, over } => {
            Some((dose.value() * order.dosing_weight_kg, over.value()))
        }
        _ => None,
    })
}

/// The ordered first infusion rate, as the pump is set (mL/h).
pub fn ordered_pump_ml_h(order: &InfusionOrderRecord) -> Option<f64> {
    order.steps.iter().find_map(|step| match step {
        respite_clinical::dosing::ProtocolStep::Infusion { rate, .. } => {
            let mg_h = rate.value() * order.dosing_weight_kg;
            Some((mg_h / order.concentration_mg_ml * 10.0).round() / 10.0)
        }
        _ => None,
    })
}

const SESSION_SELECT: &str = "SELECT s.id, s.patient_id, \
     p.family_name || ', ' || p.given_name AS patient_name, p.mrn, s.order_id, s.state, \
     s.version, s.protocol, u.display_name AS opened_by, s.opened_at, s.consent, s.iv_access, \
     s.escort_name, s.escort_phone, s.escort_confirmed, \
     (SELECT COUNT(*) FROM infusion_order_checks c WHERE c.order_id = s.order_id) AS second_check, \
     s.infusion_started_at, s.stopped_at, s.discharged_at, v.display_name AS signed_off_by, \
     s.signed_off_at, s.total_mg, s.minutes \
     FROM infusion_sessions s JOIN patients p ON p.id = s.patient_id \
     LEFT JOIN staff_users u ON u.id = s.opened_by \
     LEFT JOIN staff_users v ON v.id = s.signed_off_by";

impl Store {
    /// Opens the session of a checked order (its pre-start checklist):
    /// refused when the order has no second check or has a session already.
    pub async fn open_infusion_session(
        &self,
        order_id: i64,
        by_user_id: i64,
        by_role: Role,
        at: Timestamp,
    ) -> StoreResult<Result<i64, SessionRefusal>> {
        if !matches!(by_role, Role::Nurse | Role::Clinician) {
            return Ok(Err(SessionRefusal::NotClinicalStaff));
        }
        let Some(order) = self.infusion_order(order_id).await? else {
            return Ok(Err(SessionRefusal::NoSuchOrder));
        };
        if order.check.is_none() {
            return Ok(Err(SessionRefusal::OrderNotChecked));
        }
        if let Some(existing) = self.session_of_order(order_id).await? {
            return Ok(Err(SessionRefusal::SessionExists(existing)));
        }
        let mut tx = self.begin_write().await?;
        let inserted: Result<(i64,), sqlx::Error> = sqlx::query_as(
            "INSERT INTO infusion_sessions (patient_id, started_at, protocol, total_mg, minutes, \
             order_id, state, version, opened_by, opened_at, consent, iv_access, \
             escort_confirmed) VALUES ($1, $2, $3, 0, 0, $4, 'checklist', 1, $5, $6, 0, 0, 0) \
             RETURNING id",
        )
        .bind(order.patient_id)
        .bind(to_millis(at))
        .bind(&order.protocol.protocol.name)
        .bind(order_id)
        .bind(by_user_id)
        .bind(to_millis(at))
        .fetch_one(&mut *tx)
        .await;
        let id = match inserted {
            Err(e) if is_unique_violation(&e) => {
                drop(tx);
                let existing = self.session_of_order(order_id).await?.unwrap_or_default();
                return Ok(Err(SessionRefusal::SessionExists(existing)));
            }
            other => other?.0,
        };
        self.commit(tx, Some(&id.to_string())).await?;
        Ok(Ok(id))
    }

    /// The session opened from an order, if any.
    pub async fn session_of_order(&self, order_id: i64) -> StoreResult<Option<i64>> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT id FROM infusion_sessions WHERE order_id = $1")
                .bind(order_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(id,)| id))
    }

    /// A documented session, whole; None for no such session or one of the
    /// totals-only rows of before (no state).
    pub async fn infusion_session(&self, id: i64) -> StoreResult<Option<InfusionSession>> {
        let row: Option<SessionRow> = sqlx::query_as(&format!("{SESSION_SELECT} WHERE s.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let (Some(state), Some(version), Some(order_id)) = (
            row.state.as_deref().and_then(SessionState::from_code),
            row.version,
            row.order_id,
        ) else {
            return Ok(None);
        };
        let events: Vec<EventRow> = sqlx::query_as(
            "SELECT e.id, e.kind, e.at, u.display_name AS recorded_by, e.rate_mg_h, e.pump_ml_h, \
             e.amount_mg, e.over_min, e.code, e.drug, e.score, e.answers, e.alarm_id, e.note \
             FROM infusion_session_events e JOIN staff_users u ON u.id = e.recorded_by \
             WHERE e.session_id = $1 ORDER BY e.at, e.id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let values: Vec<(i64, String, f64)> = sqlx::query_as(
            "SELECT v.event_id, v.loinc, v.value FROM infusion_session_vitals v \
             JOIN infusion_session_events e ON e.id = v.event_id \
             WHERE e.session_id = $1 ORDER BY v.id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let alarm_rows: Vec<AlarmRow> = sqlx::query_as(
            "SELECT a.id, a.event_id, e.at, a.loinc, a.value, a.limit_value, a.direction, \
             u.display_name AS ack_by, k.at AS ack_at, k.note AS ack_note \
             FROM infusion_session_alarms a \
             JOIN infusion_session_events e ON e.id = a.event_id \
             LEFT JOIN infusion_session_events k ON k.alarm_id = a.id \
               AND k.kind = 'alarm-acknowledged' \
             LEFT JOIN staff_users u ON u.id = k.recorded_by \
             WHERE a.session_id = $1 ORDER BY a.id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let mut timeline = Vec::with_capacity(events.len());
        for e in events {
            let vitals = values
                .iter()
                .filter(|(event_id, _, _)| *event_id == e.id)
                .filter_map(|(_, loinc, value)| Some((VitalKind::from_loinc(loinc)?, *value)))
                .collect();
            timeline.push(SessionEvent {
                id: e.id,
                kind: e.kind,
                at: from_millis(e.at)?,
                recorded_by: e.recorded_by,
                rate_mg_h: e.rate_mg_h,
                pump_ml_h: e.pump_ml_h,
                amount_mg: e.amount_mg,
                over_min: e.over_min,
                code: e.code,
                drug: e.drug,
                score: e.score,
                answers: e.answers.as_deref().map(answers_from_text),
                alarm_id: e.alarm_id,
                note: e.note,
                vitals,
            });
        }
        let mut session_alarms = Vec::with_capacity(alarm_rows.len());
        for a in alarm_rows {
            session_alarms.push(SessionAlarm {
                id: a.id,
                event_id: a.event_id,
                at: from_millis(a.at)?,
                kind: VitalKind::from_loinc(&a.loinc).ok_or_else(|| corrupt("alarm code"))?,
                value: a.value,
                limit: a.limit_value,
                direction: AlarmDirection::from_code(&a.direction)
                    .ok_or_else(|| corrupt("alarm direction"))?,
                acknowledged: match (a.ack_by, a.ack_at) {
                    (Some(by), Some(at)) => Some(AlarmAcknowledgement {
                        by,
                        at: from_millis(at)?,
                        action_taken: a.ack_note.unwrap_or_default(),
                    }),
                    _ => None,
                },
            });
        }
        Ok(Some(InfusionSession {
            id: row.id,
            patient_id: row.patient_id,
            patient_name: row.patient_name,
            mrn: row.mrn,
            order_id,
            state,
            version,
            protocol: row.protocol,
            opened_by: row.opened_by.unwrap_or_default(),
            opened_at: from_millis(row.opened_at.unwrap_or_default())?,
            consent: row.consent == Some(1),
            iv_access: row.iv_access == Some(1),
            escort_name: row.escort_name,
            escort_phone: row.escort_phone,
            escort_confirmed: row.escort_confirmed == Some(1),
            second_check: row.second_check > 0,
            infusion_started_at: optional_time(row.infusion_started_at)?,
            stopped_at: optional_time(row.stopped_at)?,
            discharged_at: optional_time(row.discharged_at)?,
            signed_off_by: row.signed_off_by,
            signed_off_at: optional_time(row.signed_off_at)?,
            total_mg: row.total_mg,
            minutes: row.minutes,
            events: timeline,
            alarms: session_alarms,
        }))
    }

    /// Documented sessions opened since `since` or not yet signed off,
    /// newest first: the nurses' list of the day.
    pub async fn infusion_sessions_since(
        &self,
        since: Timestamp,
    ) -> StoreResult<Vec<SessionSummary>> {
        let rows: Vec<SummaryRow> = sqlx::query_as(
            "SELECT s.id, s.patient_id, p.family_name || ', ' || p.given_name, p.mrn, \
                 s.state, s.protocol, s.opened_at, s.total_mg, \
                 (SELECT COUNT(*) FROM infusion_session_alarms a WHERE a.session_id = s.id \
                  AND NOT EXISTS (SELECT 1 FROM infusion_session_events k \
                  WHERE k.alarm_id = a.id AND k.kind = 'alarm-acknowledged')) \
                 FROM infusion_sessions s JOIN patients p ON p.id = s.patient_id \
                 WHERE s.state IS NOT NULL AND (s.opened_at >= $1 OR s.state <> 'signed-off') \
                 ORDER BY s.opened_at DESC, s.id DESC LIMIT 200",
        )
        .bind(to_millis(since))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(summary_of).collect()
    }

    /// The latest `limit` sessions signed off before `before`, newest
    /// sign-off first: the history below the day's list.
    pub async fn signed_off_sessions_before(
        &self,
        before: Timestamp,
        limit: i64,
    ) -> StoreResult<Vec<SessionSummary>> {
        let rows: Vec<SummaryRow> = sqlx::query_as(
            "SELECT s.id, s.patient_id, p.family_name || ', ' || p.given_name, p.mrn, \
                 s.state, s.protocol, s.opened_at, s.total_mg, 0 \
                 FROM infusion_sessions s JOIN patients p ON p.id = s.patient_id \
                 WHERE s.state = 'signed-off' AND s.opened_at < $1 \
                 ORDER BY s.signed_off_at DESC, s.id DESC LIMIT $2",
        )
        .bind(to_millis(before))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(summary_of).collect()
    }

    /// The clinic's alarm thresholds (dosing.md's defaults until saved).
    pub async fn alarm_thresholds(&self) -> StoreResult<AlarmThresholds> {
        let row: Option<(f64, f64, f64, f64, f64, f64)> = sqlx::query_as(
            "SELECT systolic_above, systolic_below, heart_rate_above, heart_rate_below, \
             oxygen_saturation_below, respiratory_rate_below FROM infusion_alarm_settings \
             WHERE id = 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some((sa, sb, ha, hb, o, r)) => AlarmThresholds {
                systolic_above: sa,
                systolic_below: sb,
                heart_rate_above: ha,
                heart_rate_below: hb,
                oxygen_saturation_below: o,
                respiratory_rate_below: r,
            },
            None => AlarmThresholds::default(),
        })
    }

    /// Saves the clinic's alarm thresholds (an administrator's setting).
    pub async fn save_alarm_thresholds(
        &self,
        thresholds: &AlarmThresholds,
        by_user_id: i64,
        at: Timestamp,
    ) -> StoreResult<Result<(), ThresholdError>> {
        if let Err(e) = thresholds.validate() {
            return Ok(Err(e));
        }
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE infusion_alarm_settings SET systolic_above = $1, systolic_below = $2, \
             heart_rate_above = $3, heart_rate_below = $4, oxygen_saturation_below = $5, \
             respiratory_rate_below = $6, updated_by = $7, updated_at = $8 WHERE id = 1",
        )
        .bind(thresholds.systolic_above)
        .bind(thresholds.systolic_below)
        .bind(thresholds.heart_rate_above)
        .bind(thresholds.heart_rate_below)
        .bind(thresholds.oxygen_saturation_below)
        .bind(thresholds.respiratory_rate_below)
        .bind(by_user_id)
        .bind(to_millis(at))
        .execute(&mut *tx)
        .await?;
        self.commit(tx, Some("alarm-thresholds")).await?;
        Ok(Ok(()))
    }

    /// Records one action on a session, made from the page at version
    /// `expected_version`: checked against the session's state and
    /// respite-clinical's rules, then appended with its audit entry in one
    /// transaction that also bumps the version. Returns the new version.
    pub async fn record_session_entry(
        &self,
        session_id: i64,
        expected_version: i64,
        entry: &SessionEntry,
        by_user_id: i64,
        by_role: Role,
        at: Timestamp,
    ) -> StoreResult<Result<i64, SessionRefusal>> {
        if !matches!(by_role, Role::Nurse | Role::Clinician) {
            return Ok(Err(SessionRefusal::NotClinicalStaff));
        }
        let Some(session) = self.infusion_session(session_id).await? else {
            return Ok(Err(SessionRefusal::NoSuchSession));
        };
        if session.version != expected_version {
            return Ok(Err(SessionRefusal::Stale {
                latest: session.version,
            }));
        }
        let order = self
            .infusion_order(session.order_id)
            .await?
            .ok_or_else(|| corrupt("session's order"))?;
        let thresholds = self.alarm_thresholds().await?;
        let by = (by_user_id, by_role, at);
        let planned = match plan_entry(&session, &order, entry, by, &thresholds) {
            Ok(planned) => planned,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let mut tx = self.begin_write().await?;
        let bumped = sqlx::query(
            "UPDATE infusion_sessions SET version = version + 1, state = $3 \
             WHERE id = $1 AND version = $2",
        )
        .bind(session_id)
        .bind(expected_version)
        .bind(planned.next.code())
        .execute(&mut *tx)
        .await?;
        if bumped.rows_affected() != 1 {
            drop(tx);
            let latest = self
                .infusion_session(session_id)
                .await?
                .map(|s| s.version)
                .unwrap_or_default();
            return Ok(Err(SessionRefusal::Stale { latest }));
        }
        if let Some(rescue) = planned.write.rescue {
            // The vial is locked, its drug, expiry and balance checked, and
            // the draw and administration appended here: the session's
            // event, the register's entries and the audit entry commit
            // together or not at all.
            match rescue_draw_in(&mut tx, self.engine, rescue, by_user_id, at).await? {
                Ok(_) => {}
                Err(refusal) => {
                    drop(tx);
                    return Ok(Err(match refusal {
                        RescueDrawRefusal::NoSuchVial => SessionRefusal::NoSuchVial,
                        RescueDrawRefusal::Rule(rule) => SessionRefusal::Rescue(rule),
                    }));
                }
            }
        }
        for (sql, value) in planned
            .write
            .columns
            .iter()
            .flat_map(SessionColumn::assignments)
        {
            let query = format!("UPDATE infusion_sessions SET {sql} WHERE id = $2");
            let q = sqlx::query(&query);
            let q = match value {
                Column::Int(v) => q.bind(v),
                Column::Real(v) => q.bind(v),
                Column::Text(v) => q.bind(v),
            };
            q.bind(session_id).execute(&mut *tx).await?;
        }
        for event in &planned.write.events {
            let (event_id,): (i64,) = sqlx::query_as(
                "INSERT INTO infusion_session_events (session_id, kind, at, recorded_by, \
                 rate_mg_h, pump_ml_h, amount_mg, over_min, code, drug, score, answers, \
                 alarm_id, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
                 $13, $14) RETURNING id",
            )
            // Not cached: which columns are NULL differs from one kind of
            // event to the next, and PostgreSQL would keep the parameter
            // types of the first execution (a NULL's) for the statement.
            .persistent(false)
            .bind(session_id)
            .bind(event.kind)
            .bind(to_millis(at))
            .bind(by_user_id)
            .bind(event.rate_mg_h)
            .bind(event.pump_ml_h)
            .bind(event.amount_mg)
            .bind(event.over_min)
            .bind(event.code.clone())
            .bind(event.drug.clone())
            .bind(event.score)
            .bind(event.answers.clone())
            .bind(event.alarm_id)
            .bind(&event.note)
            .fetch_one(&mut *tx)
            .await?;
            for (kind, value) in &event.vitals {
                sqlx::query(
                    "INSERT INTO infusion_session_vitals (event_id, loinc, value, unit) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(event_id)
                .bind(kind.loinc())
                .bind(*value)
                .bind(kind.ucum())
                .execute(&mut *tx)
                .await?;
            }
            for alarm in &event.alarms {
                sqlx::query(
                    "INSERT INTO infusion_session_alarms (session_id, event_id, loinc, value, \
                     limit_value, direction) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(session_id)
                .bind(event_id)
                .bind(alarm.kind.loinc())
                .bind(alarm.value)
                .bind(alarm.limit)
                .bind(alarm.direction.code())
                .execute(&mut *tx)
                .await?;
            }
        }
        self.commit(tx, Some(&session_id.to_string())).await?;
        Ok(Ok(expected_version + 1))
    }
}

/// A bound value of a live `UPDATE infusion_sessions SET column = $1`.
enum Column {
    Int(i64),
    Real(f64),
    Text(String),
}

/// A change an entry makes to the session's own row.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SessionColumn {
    Consent(bool),
    IvAccess(bool),
    EscortName(String),
    EscortPhone(String),
    EscortConfirmed(bool),
    /// The pump started; also the row's `started_at`, which the register
    /// and the chart read.
    InfusionStartedAt(Timestamp),
    StoppedAt(Timestamp),
    DischargedAt(Timestamp),
    SignedOff {
        by_user_id: i64,
        at: Timestamp,
    },
    /// What the pump has delivered so far (register units: whole µg).
    TotalMg(f64),
    Minutes(i64),
}

impl SessionColumn {
    /// The `column = $1` assignments the live write runs, with their values.
    fn assignments(&self) -> Vec<(&'static str, Column)> {
        let flag = |on: &bool| Column::Int(i64::from(*on));
        match self {
            SessionColumn::Consent(on) => vec![("consent = $1", flag(on))],
            SessionColumn::IvAccess(on) => vec![("iv_access = $1", flag(on))],
            SessionColumn::EscortName(name) => {
                vec![("escort_name = $1", Column::Text(name.clone()))]
            }
            SessionColumn::EscortPhone(phone) => {
                vec![("escort_phone = $1", Column::Text(phone.clone()))]
            }
            SessionColumn::EscortConfirmed(on) => vec![("escort_confirmed = $1", flag(on))],
            SessionColumn::InfusionStartedAt(at) => vec![
                ("infusion_started_at = $1", Column::Int(to_millis(*at))),
                ("started_at = $1", Column::Int(to_millis(*at))),
            ],
            SessionColumn::StoppedAt(at) => vec![("stopped_at = $1", Column::Int(to_millis(*at)))],
            SessionColumn::DischargedAt(at) => {
                vec![("discharged_at = $1", Column::Int(to_millis(*at)))]
            }
            SessionColumn::SignedOff { by_user_id, at } => vec![
                ("signed_off_at = $1", Column::Int(to_millis(*at))),
                ("signed_off_by = $1", Column::Int(*by_user_id)),
            ],
            SessionColumn::TotalMg(mg) => vec![("total_mg = $1", Column::Real(*mg))],
            SessionColumn::Minutes(n) => vec![("minutes = $1", Column::Int(*n))],
        }
    }

    /// The same change made to a session held in memory, as reading the
    /// row back after the live write would show it; `by_name` is the
    /// display name of whoever records it.
    pub(crate) fn apply(&self, session: &mut InfusionSession, by_name: &str) {
        match self {
            SessionColumn::Consent(on) => session.consent = *on,
            SessionColumn::IvAccess(on) => session.iv_access = *on,
            SessionColumn::EscortName(name) => session.escort_name = Some(name.clone()),
            SessionColumn::EscortPhone(phone) => session.escort_phone = Some(phone.clone()),
            SessionColumn::EscortConfirmed(on) => session.escort_confirmed = *on,
            SessionColumn::InfusionStartedAt(at) => session.infusion_started_at = Some(*at),
            SessionColumn::StoppedAt(at) => session.stopped_at = Some(*at),
            SessionColumn::DischargedAt(at) => session.discharged_at = Some(*at),
            SessionColumn::SignedOff { at, .. } => {
                session.signed_off_at = Some(*at);
                session.signed_off_by = Some(by_name.to_owned());
            }
            SessionColumn::TotalMg(mg) => session.total_mg = *mg,
            SessionColumn::Minutes(n) => session.minutes = *n,
        }
    }
}

/// One event an entry appends, with its vital values and the alarms they
/// raise.
#[derive(Default)]
pub(crate) struct PlannedEvent {
    pub(crate) kind: &'static str,
    pub(crate) rate_mg_h: Option<f64>,
    pub(crate) pump_ml_h: Option<f64>,
    pub(crate) amount_mg: Option<f64>,
    pub(crate) over_min: Option<f64>,
    pub(crate) code: Option<String>,
    pub(crate) drug: Option<String>,
    pub(crate) score: Option<f64>,
    pub(crate) answers: Option<String>,
    pub(crate) alarm_id: Option<i64>,
    pub(crate) note: String,
    pub(crate) vitals: Vec<(VitalKind, f64)>,
    pub(crate) alarms: Vec<respite_clinical::session::VitalAlarm>,
}

impl PlannedEvent {
    /// The event as the timeline reads it back, once stored as `id`.
    pub(crate) fn as_recorded(&self, id: i64, at: Timestamp, by_name: &str) -> SessionEvent {
        SessionEvent {
            id,
            kind: self.kind.to_owned(),
            at,
            recorded_by: by_name.to_owned(),
            rate_mg_h: self.rate_mg_h,
            pump_ml_h: self.pump_ml_h,
            amount_mg: self.amount_mg,
            over_min: self.over_min,
            code: self.code.clone(),
            drug: self.drug.clone(),
            score: self.score,
            answers: self.answers.as_deref().map(answers_from_text),
            alarm_id: self.alarm_id,
            note: self.note.clone(),
            vitals: self.vitals.clone(),
        }
    }
}

/// What one entry writes: the row's changes and the appended events.
#[derive(Default)]
pub(crate) struct PlannedWrite {
    pub(crate) columns: Vec<SessionColumn>,
    pub(crate) events: Vec<PlannedEvent>,
    /// A controlled rescue dose's draw and administration, written in the
    /// same transaction (the vial is locked and checked there).
    pub(crate) rescue: Option<RescueDraw>,
}

/// The register's part of a rescue drug, as far as it can be checked
/// before the vial is locked: a controlled drug names a vial, one not
/// controlled none, and the draw holds the dose.
fn plan_rescue_draw(
    session: &InfusionSession,
    label: &str,
    dose_mg: f64,
    vial: Option<RescueVialDraw>,
) -> Result<Option<RescueDraw>, SessionRefusal> {
    let Some(drug) = RescueDrug::recognise(label) else {
        // A drug the catalogue does not know is not the register's.
        return match vial {
            Some(_) => Err(SessionRefusal::RescueNotInRegister),
            None => Ok(None),
        };
    };
    let Some(vial) = vial else {
        return match drug.register_drug() {
            Some(controlled) => Err(SessionRefusal::Rescue(RescueRefusal::VialRequired(
                controlled,
            ))),
            None => Ok(None),
        };
    };
    if drug.register_drug().is_none() {
        return Err(SessionRefusal::Rescue(RescueRefusal::NotControlled(drug)));
    }
    if !(vial.drawn_mg.is_finite() && vial.drawn_mg > 0.0 && vial.drawn_mg <= 100.0) {
        return Err(SessionRefusal::Implausible {
            field: "drawn_mg",
            value: vial.drawn_mg,
        });
    }
    let amount = |mg: f64, field| {
        DrugAmount::from_mg(mg).map_err(|_| SessionRefusal::Implausible { field, value: mg })
    };
    let dose = amount(dose_mg, "dose_mg")?;
    let drawn = amount(vial.drawn_mg, "drawn_mg")?;
    if dose > drawn {
        return Err(SessionRefusal::Rescue(RescueRefusal::DoseAboveDraw {
            dose,
            drawn,
        }));
    }
    Ok(Some(RescueDraw {
        vial_id: vial.vial_id,
        drug,
        dose,
        drawn,
        today: vial.today,
        patient_id: session.patient_id,
        session_id: session.id,
    }))
}

/// An entry checked and worked out, not yet written: the session's next
/// state and what to write. The live write ([`Store::record_session_entry`])
/// and the demo's bulk write (`session_batch.rs`) both start here.
pub(crate) struct PlannedEntry {
    pub(crate) next: SessionState,
    pub(crate) write: PlannedWrite,
}

/// Checks `entry` against the session's state, the order and
/// respite-clinical's rules (the state machine, the vital-sign alarm rule,
/// the modified Aldrete score, the delivered dose), and works out what it
/// writes. Pure: no I/O.
pub(crate) fn plan_entry(
    session: &InfusionSession,
    order: &InfusionOrderRecord,
    entry: &SessionEntry,
    by: (i64, Role, Timestamp),
    thresholds: &AlarmThresholds,
) -> Result<PlannedEntry, SessionRefusal> {
    if !matches!(by.1, Role::Nurse | Role::Clinician) {
        return Err(SessionRefusal::NotClinicalStaff);
    }
    let next = session
        .state
        .after(entry.action())
        .map_err(SessionRefusal::Action)?;
    let write = plan_write(session, order, entry, by, thresholds)?;
    Ok(PlannedEntry { next, write })
}

fn plan_write(
    session: &InfusionSession,
    order: &InfusionOrderRecord,
    entry: &SessionEntry,
    (by_user_id, by_role, at): (i64, Role, Timestamp),
    thresholds: &AlarmThresholds,
) -> Result<PlannedWrite, SessionRefusal> {
    let mut write = PlannedWrite::default();
    let concentration = order.concentration_mg_ml;
    let rate_of = |pump_ml_h: f64| -> Result<f64, SessionRefusal> {
        if !(pump_ml_h.is_finite() && pump_ml_h > 0.0 && pump_ml_h <= 1000.0) {
            return Err(SessionRefusal::Implausible {
                field: "pump_ml_h",
                value: pump_ml_h,
            });
        }
        let rate = pump_ml_h * concentration;
        if !respite_clinical::session::within_order(rate, order.max_rate_mg_h, concentration) {
            return Err(SessionRefusal::RateAboveOrder {
                rate_mg_h: rate,
                max_mg_h: order.max_rate_mg_h,
            });
        }
        Ok(rate)
    };
    let mut pump: Option<PumpEventKind> = None;
    match entry {
        SessionEntry::Checklist {
            consent,
            iv_access,
            escort_name,
            escort_phone,
            escort_confirmed,
        } => {
            let name = escort_name.trim();
            let phone = escort_phone.trim();
            if name.chars().count() > 200 || phone.chars().count() > 40 {
                return Err(SessionRefusal::Required("escort_name"));
            }
            write.columns = vec![
                SessionColumn::Consent(*consent),
                SessionColumn::IvAccess(*iv_access),
                SessionColumn::EscortName(name.to_owned()),
                SessionColumn::EscortPhone(phone.to_owned()),
                SessionColumn::EscortConfirmed(*escort_confirmed && !name.is_empty()),
            ];
            write.events.push(PlannedEvent {
                kind: "checklist",
                note: String::new(),
                ..Default::default()
            });
        }
        SessionEntry::Start {
            pump_ml_h,
            bolus_mg,
        } => {
            let missing = session.checklist().missing();
            if !missing.is_empty() {
                return Err(SessionRefusal::Checklist(missing));
            }
            let rate = rate_of(*pump_ml_h)?;
            write.columns = vec![SessionColumn::InfusionStartedAt(at)];
            write.events.push(PlannedEvent {
                kind: "start",
                rate_mg_h: Some(rate),
                pump_ml_h: Some(*pump_ml_h),
                ..Default::default()
            });
            if let Some(mg) = bolus_mg.filter(|mg| *mg > 0.0) {
                let (max_mg, over) = ordered_bolus_mg(order).unwrap_or((0.0, 0.0));
                if !respite_clinical::session::within_order(mg, max_mg, concentration) {
                    return Err(SessionRefusal::BolusAboveOrder { mg, max_mg });
                }
                write.events.push(PlannedEvent {
                    kind: "bolus",
                    amount_mg: Some(mg),
                    over_min: Some(over),
                    note: "loading bolus as ordered".into(),
                    ..Default::default()
                });
            }
            // The delivered total starts from the start (the bolus counts).
            pump = Some(PumpEventKind::Start { rate_mg_h: rate });
        }
        SessionEntry::Pause { reason } => {
            write.events.push(PlannedEvent {
                kind: "pause",
                note: required(reason, "reason")?,
                ..Default::default()
            });
            pump = Some(PumpEventKind::Pause);
        }
        SessionEntry::Resume { reason } => {
            write.events.push(PlannedEvent {
                kind: "resume",
                note: required(reason, "reason")?,
                ..Default::default()
            });
            pump = Some(PumpEventKind::Resume);
        }
        SessionEntry::ChangeRate { pump_ml_h, reason } => {
            let note = required(reason, "reason")?;
            let rate = rate_of(*pump_ml_h)?;
            write.events.push(PlannedEvent {
                kind: "rate-change",
                rate_mg_h: Some(rate),
                pump_ml_h: Some(*pump_ml_h),
                note,
                ..Default::default()
            });
            pump = Some(PumpEventKind::RateChange { rate_mg_h: rate });
        }
        SessionEntry::Stop { reason } => {
            write.events.push(PlannedEvent {
                kind: "stop",
                note: required(reason, "reason")?,
                ..Default::default()
            });
            write.columns.push(SessionColumn::StoppedAt(at));
            pump = Some(PumpEventKind::Stop);
        }
        SessionEntry::Vitals(vitals) => {
            if let Some((kind, value)) = vitals.implausible() {
                return Err(SessionRefusal::Implausible {
                    field: vital_field(kind),
                    value,
                });
            }
            write.events.push(PlannedEvent {
                kind: "vitals",
                vitals: vitals.values(),
                alarms: alarms(vitals, thresholds),
                ..Default::default()
            });
        }
        SessionEntry::AcknowledgeAlarm {
            alarm_id,
            action_taken,
        } => {
            let note = required(action_taken, "action_taken")?;
            let Some(alarm) = session.alarms.iter().find(|a| a.id == *alarm_id) else {
                return Err(SessionRefusal::NoSuchAlarm);
            };
            if alarm.acknowledged.is_some() {
                return Err(SessionRefusal::AlarmAcknowledged);
            }
            write.events.push(PlannedEvent {
                kind: "alarm-acknowledged",
                alarm_id: Some(*alarm_id),
                note,
                ..Default::default()
            });
        }
        SessionEntry::AdverseEvent { code, description } => {
            if !ADVERSE_EVENT_CODES.contains(&code.as_str()) {
                return Err(SessionRefusal::UnknownAdverseEvent);
            }
            write.events.push(PlannedEvent {
                kind: "adverse-event",
                code: Some(code.clone()),
                note: required(description, "description")?,
                ..Default::default()
            });
        }
        SessionEntry::RescueDrug {
            drug,
            dose_mg,
            reason,
            vial,
        } => {
            let allowed = &order.protocol.rescue_drugs;
            if !allowed.iter().any(|a| a == drug) {
                return Err(SessionRefusal::RescueNotAllowed {
                    allowed: allowed.clone(),
                });
            }
            if !(dose_mg.is_finite() && *dose_mg > 0.0 && *dose_mg <= 100.0) {
                return Err(SessionRefusal::Implausible {
                    field: "dose_mg",
                    value: *dose_mg,
                });
            }
            let note = required(reason, "reason")?;
            write.rescue = plan_rescue_draw(session, drug, *dose_mg, *vial)?;
            write.events.push(PlannedEvent {
                kind: "rescue-drug",
                drug: Some(drug.clone()),
                amount_mg: Some(*dose_mg),
                note,
                ..Default::default()
            });
        }
        SessionEntry::BeginRecovery => write.events.push(PlannedEvent {
            kind: "recovery",
            ..Default::default()
        }),
        SessionEntry::Aldrete(answers) => {
            let scored = Instrument::ModifiedAldrete
                .score(answers)
                .map_err(|_| SessionRefusal::AldreteIncomplete)?;
            let Some(total) = scored.value("total") else {
                return Err(SessionRefusal::AldreteIncomplete);
            };
            write.events.push(PlannedEvent {
                kind: "aldrete",
                score: Some(total),
                answers: Some(answers_text(answers)),
                ..Default::default()
            });
        }
        SessionEntry::Discharge { escort_name } => {
            let refusals = discharge_refusals(&session.discharge_facts());
            if !refusals.is_empty() {
                return Err(SessionRefusal::Discharge(refusals));
            }
            let named = session.escort_name.as_deref().unwrap_or_default();
            let given = required(escort_name, "escort_name")?;
            write.columns.push(SessionColumn::DischargedAt(at));
            write.events.push(PlannedEvent {
                kind: "discharge",
                note: if given.eq_ignore_ascii_case(named) {
                    given
                } else {
                    // Another adult than the one named: recorded as such.
                    format!("{given} (named at the checklist: {named})")
                },
                ..Default::default()
            });
        }
        SessionEntry::SignOff { note } => {
            if by_role != Role::Clinician {
                return Err(SessionRefusal::NotAClinician);
            }
            write
                .columns
                .push(SessionColumn::SignedOff { by_user_id, at });
            write.events.push(PlannedEvent {
                kind: "sign-off",
                note: note.trim().to_owned(),
                ..Default::default()
            });
        }
        SessionEntry::Note { text } => write.events.push(PlannedEvent {
            kind: "note",
            note: required(text, "note")?,
            ..Default::default()
        }),
    }
    if let Some(kind) = pump {
        let start = session.infusion_started_at.unwrap_or(at);
        let mut events = session.pump_events();
        let at_min = minutes_between(start, at);
        events.push(PumpEvent { at_min, kind });
        if let Some(bolus) = write.events.iter().find(|e| e.kind == "bolus") {
            events.push(PumpEvent {
                at_min,
                kind: PumpEventKind::Bolus {
                    mg: bolus.amount_mg.unwrap_or_default(),
                    over_min: bolus.over_min.unwrap_or_default(),
                },
            });
        }
        let so_far = delivered(&events, at_min).map_err(SessionRefusal::Timeline)?;
        write
            .columns
            .push(SessionColumn::TotalMg(round_mg(so_far.total_mg)));
        write.columns.push(SessionColumn::Minutes(
            so_far.infusion_minutes.round() as i64
        ));
    }
    Ok(write)
}

/// The delivered total as the register holds it: whole micrograms.
fn round_mg(mg: f64) -> f64 {
    (mg * 1000.0).round() / 1000.0
}

/// The form field of a vital sign.
pub fn vital_field(kind: VitalKind) -> &'static str {
    match kind {
        VitalKind::Systolic => "systolic",
        VitalKind::Diastolic => "diastolic",
        VitalKind::HeartRate => "heart_rate",
        VitalKind::OxygenSaturation => "oxygen_saturation",
        VitalKind::RespiratoryRate => "respiratory_rate",
        VitalKind::PainNrs => "pain_nrs",
    }
}
