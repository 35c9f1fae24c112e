//! Infusion protocols and orders (SPEC §1 step 5). The protocol library is
//! kept in versions (a change is a new version, never an edit); an order is
//! stored only after `respite_clinical::dosing::calculate_session` accepted
//! it against the clinic's ceilings, with any ceiling it exceeds overridden
//! by a clinician with a reason (SPEC §2: "dose overrides with reason" are
//! the clinician's). These checks are made here, in the one transaction that
//! writes the order, whatever page or command asks: no path stores an order
//! above a ceiling without a clinician's override.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use respite_clinical::dosing::units::{
    MgPerHour, MgPerKg, MgPerKgPerHour, MgPerMl, Milligrams, Minutes,
};
use respite_clinical::dosing::{
    calculate_session, seeded_protocols, Ceiling, ClinicianOverride, DosingError, DosingSettings,
    DosingWeightBasis, Evidence, KetamineForm, LimitValue, PatientBody, Protocol, ProtocolStep,
    ProtocolUse, SessionDose, Sex, TrialTarget, Verification, Vial,
};
use respite_clinical::screening::decision::ClinicianOutcome;
use respite_domain::access::Role;
use serde_json::{json, Value};

use crate::chart::VitalSign;
use crate::{from_millis, is_unique_violation, to_millis, Store, StoreError, StoreResult};

/// One stored version of a protocol.
#[derive(Clone, Debug)]
pub struct ProtocolVersionRecord {
    pub id: i64,
    pub key: String,
    pub version: i64,
    pub protocol: Protocol,
    /// The rescue drugs the protocol allows (dosing.md, "Monitoring").
    pub rescue_drugs: Vec<String>,
    pub active: bool,
    pub created_by: Option<String>,
    pub created_at: Timestamp,
}

/// A new version of a protocol, as an administrator writes it.
#[derive(Clone, Debug)]
pub struct NewProtocolVersion {
    pub protocol: Protocol,
    pub rescue_drugs: Vec<String>,
    pub active: bool,
}

/// The clinic's infusion settings.
#[derive(Clone, Debug)]
pub struct InfusionSettings {
    /// Today's weight must have been measured within this many days (a
    /// clinic setting; default 1, i.e. today or yesterday).
    pub weight_max_age_days: i64,
}

/// The latest body weight in the chart.
#[derive(Clone, Copy, Debug)]
pub struct WeightReading {
    pub kg: f64,
    pub observed_at: Timestamp,
}

/// What an order is made of. The weight is not given: the store reads the
/// chart's latest weight itself.
#[derive(Clone, Debug)]
pub struct NewInfusionOrder<'a> {
    pub patient_id: i64,
    pub protocol_version_id: i64,
    /// The steps as ordered: the protocol's own, or a target-guided plan.
    pub steps: Vec<ProtocolStep>,
    pub concentration_mg_ml: f64,
    pub bag_ml: f64,
    pub target_ng_ml: Option<f64>,
    /// The reason for exceeding a ceiling, when the orderer overrides.
    pub override_reason: Option<&'a str>,
    pub orderer_id: i64,
    pub orderer_role: Role,
    pub at: Timestamp,
}

/// Why an order was refused. Each names what is missing or which rule.
#[derive(Clone, Debug, PartialEq)]
pub enum OrderRefusal {
    NoSuchPatient,
    NoDecision,
    DecisionNotEligible,
    DecisionOutOfDate,
    NoPlan,
    NoWeight,
    WeightTooOld {
        days: i64,
        max_days: i64,
    },
    NoSuchProtocol,
    ProtocolInactive,
    /// Only a clinician orders and overrides (SPEC §2).
    NotAClinician,
    /// The order exceeds a ceiling and no clinician's reason was given.
    Dosing(DosingError),
}

/// Everything the order page needs to know before ordering.
#[derive(Clone, Debug)]
pub struct OrderReadiness {
    pub refusals: Vec<OrderRefusal>,
    pub weight: Option<WeightReading>,
    pub height_cm: Option<f64>,
    pub settings: InfusionSettings,
}

/// A stored order, whole.
#[derive(Clone, Debug)]
pub struct InfusionOrderRecord {
    pub id: i64,
    pub patient_id: i64,
    pub protocol: ProtocolVersionRecord,
    pub steps: Vec<ProtocolStep>,
    pub concentration_mg_ml: f64,
    pub bag_ml: f64,
    pub weight_kg: f64,
    pub weight_observed_at: Timestamp,
    pub dosing_weight_kg: f64,
    pub total_mg: f64,
    pub total_ml: f64,
    pub max_rate_mg_h: f64,
    pub max_pump_ml_h: f64,
    pub target_ng_ml: Option<f64>,
    pub ordered_by_id: i64,
    pub ordered_by: String,
    pub ordered_at: Timestamp,
    pub overrides: Vec<OrderOverrideRecord>,
    pub check: Option<OrderCheckRecord>,
}

/// A ceiling an order exceeds, with its override.
#[derive(Clone, Debug)]
pub struct OrderOverrideRecord {
    pub ceiling: String,
    pub ceiling_limit: f64,
    pub order_value: f64,
    pub reason: String,
    pub clinician: String,
}

/// The second person's check.
#[derive(Clone, Debug)]
pub struct OrderCheckRecord {
    pub drug: String,
    pub concentration_mg_ml: f64,
    pub weight_kg: f64,
    pub pump_ml_h: f64,
    pub checked_by: String,
    pub checked_at: Timestamp,
}

/// What the second person confirms, as they read it off the drug and pump.
#[derive(Clone, Copy, Debug)]
pub struct OrderCheck {
    pub concentration_mg_ml: f64,
    pub weight_kg: f64,
    pub pump_ml_h: f64,
}

/// Why a check was refused.
#[derive(Clone, Debug, PartialEq)]
pub enum CheckRefusal {
    NoSuchOrder,
    /// The second person must not be the orderer.
    Orderer,
    /// Only nurses and clinicians check.
    NotClinicalStaff,
    AlreadyChecked,
    /// What was read differs from the order (field name).
    Mismatch(&'static str),
}

// ---------------------------------------------------------------------------
// Protocol definitions as JSON (stored; read back into respite-clinical's type).

fn form_code(form: KetamineForm) -> &'static str {
    match form {
        KetamineForm::Racemic => "racemic",
        KetamineForm::Esketamine => "esketamine",
    }
}

fn basis_code(basis: DosingWeightBasis) -> &'static str {
    match basis {
        DosingWeightBasis::Actual => "actual",
        DosingWeightBasis::Ideal => "ideal",
        DosingWeightBasis::Adjusted => "adjusted",
    }
}

/// The steps as JSON.
pub fn steps_json(steps: &[ProtocolStep]) -> Value {
    Value::Array(
        steps
            .iter()
            .map(|step| match step {
                ProtocolStep::Bolus { dose, over } => json!({
                    "kind": "bolus", "mg_per_kg": dose.value(), "over_min": over.value()
                }),
                ProtocolStep::Infusion { rate, duration } => json!({
                    "kind": "infusion", "mg_per_kg_per_h": rate.value(),
                    "duration_min": duration.value()
                }),
            })
            .collect(),
    )
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("infusion protocol: {what}"))
}

fn number(value: &Value, field: &str) -> StoreResult<f64> {
    value
        .get(field)
        .and_then(Value::as_f64)
        .ok_or_else(|| corrupt(field))
}

fn optional(value: &Value, field: &str) -> Option<f64> {
    value.get(field).and_then(Value::as_f64)
}

fn text(value: &Value, field: &str) -> String {
    value
        .get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The steps from JSON.
pub fn steps_from_json(value: &Value) -> StoreResult<Vec<ProtocolStep>> {
    let quantity = |e: respite_clinical::dosing::QuantityError| corrupt(&e.to_string());
    value
        .as_array()
        .ok_or_else(|| corrupt("steps"))?
        .iter()
        .map(|step| match step.get("kind").and_then(Value::as_str) {
            Some("bolus") => Ok(ProtocolStep::Bolus {
                dose: MgPerKg::new(number(step, "mg_per_kg")?).map_err(quantity)?,
                over: Minutes::new(number(step, "over_min")?).map_err(quantity)?,
            }),
            Some("infusion") => Ok(ProtocolStep::Infusion {
                rate: MgPerKgPerHour::new(number(step, "mg_per_kg_per_h")?).map_err(quantity)?,
                duration: Minutes::new(number(step, "duration_min")?).map_err(quantity)?,
            }),
            _ => Err(corrupt("step kind")),
        })
        .collect()
}

/// A protocol as stored JSON.
pub fn protocol_json(protocol: &Protocol) -> Value {
    json!({
        "name": protocol.name,
        "indication": protocol.indication,
        "drug": form_code(protocol.drug),
        "weight_basis": basis_code(protocol.weight_basis),
        "steps": steps_json(&protocol.steps),
        "session_length_min": protocol.session_length.map(|m| m.value()),
        "sessions_per_series": protocol.sessions_per_series,
        "minimum_gap_days": protocol.minimum_gap_days,
        "rate_cap_mg_h": protocol.rate_cap.map(|r| r.value()),
        "session_cap_mg": protocol.session_cap.map(|m| m.value()),
        "trial_target": protocol.trial_target.map(|t| json!({
            "minimum_total_mg": t.minimum_total.value(), "longer_than_min": t.longer_than.value()
        })),
        "premedication": protocol.premedication,
        "orderable": protocol.usage == ProtocolUse::Orderable,
        "evidence": {
            "condition": protocol.evidence.condition,
            "strength": protocol.evidence.strength,
            "grade": protocol.evidence.grade.map(String::from),
            "source": protocol.evidence.source,
        },
        "source": protocol.source,
        "checked": protocol.verification == Verification::Checked,
        "note": protocol.note,
    })
}

/// A protocol from its stored JSON.
pub fn protocol_from_json(key: &str, value: &Value) -> StoreResult<Protocol> {
    let quantity = |e: respite_clinical::dosing::QuantityError| corrupt(&e.to_string());
    let minutes = |v: Option<f64>| v.map(Minutes::new).transpose().map_err(quantity);
    let evidence = value.get("evidence").ok_or_else(|| corrupt("evidence"))?;
    Ok(Protocol {
        id: key.to_owned(),
        name: text(value, "name"),
        indication: text(value, "indication"),
        drug: match value.get("drug").and_then(Value::as_str) {
            Some("racemic") => KetamineForm::Racemic,
            Some("esketamine") => KetamineForm::Esketamine,
            _ => return Err(corrupt("drug")),
        },
        weight_basis: match value.get("weight_basis").and_then(Value::as_str) {
            Some("actual") => DosingWeightBasis::Actual,
            Some("ideal") => DosingWeightBasis::Ideal,
            Some("adjusted") => DosingWeightBasis::Adjusted,
            _ => return Err(corrupt("weight_basis")),
        },
        steps: steps_from_json(value.get("steps").unwrap_or(&Value::Null))?,
        session_length: minutes(optional(value, "session_length_min"))?,
        sessions_per_series: optional(value, "sessions_per_series").map(|n| n as u32),
        minimum_gap_days: optional(value, "minimum_gap_days").map(|n| n as u32),
        rate_cap: optional(value, "rate_cap_mg_h")
            .map(MgPerHour::new)
            .transpose()
            .map_err(quantity)?,
        session_cap: optional(value, "session_cap_mg")
            .map(Milligrams::new)
            .transpose()
            .map_err(quantity)?,
        trial_target: match value.get("trial_target") {
            Some(t) if t.is_object() => Some(TrialTarget {
                minimum_total: Milligrams::new(number(t, "minimum_total_mg")?).map_err(quantity)?,
                longer_than: Minutes::new(number(t, "longer_than_min")?).map_err(quantity)?,
            }),
            _ => None,
        },
        premedication: text(value, "premedication"),
        usage: if value.get("orderable").and_then(Value::as_bool) == Some(true) {
            ProtocolUse::Orderable
        } else {
            ProtocolUse::ReferenceOnly
        },
        evidence: Evidence {
            condition: text(evidence, "condition"),
            strength: text(evidence, "strength"),
            grade: evidence
                .get("grade")
                .and_then(Value::as_str)
                .and_then(|g| g.chars().next()),
            source: text(evidence, "source"),
        },
        source: text(value, "source"),
        verification: if value.get("checked").and_then(Value::as_bool) == Some(true) {
            Verification::Checked
        } else {
            Verification::ToCheck
        },
        note: text(value, "note"),
    })
}

/// The clinic's own orderable protocol seeded beside the library's: an
/// outpatient series at 0.5 mg/kg/h for 3.5 h, within Cohen 2018's range
/// (0.5–2 mg/kg/h, a first trial ≥ 80 mg over > 2 h; shared/clinical/dosing.md),
/// with a loading bolus of 0.2 mg/kg, below the 0.35 mg/kg bolus ceiling.
fn clinic_series_protocol() -> Option<Protocol> {
    let guideline = seeded_protocols()
        .into_iter()
        .find(|p| p.id == "first-trial-guideline")?;
    Some(Protocol {
        id: "clinic-outpatient-series".into(),
        name: "Outpatient series, 0.2 mg/kg bolus then 0.5 mg/kg/h for 3.5 h (clinic protocol)"
            .into(),
        indication: "refractory chronic pain, outpatient series".into(),
        steps: vec![
            ProtocolStep::Bolus {
                dose: MgPerKg::literal(0.2), // ≤ 0.35 mg/kg, Cohen 2018
                over: Minutes::literal(5.0), // ours: a slow push
            },
            ProtocolStep::Infusion {
                rate: MgPerKgPerHour::literal(0.5), // Cohen 2018: 0.5–2 mg/kg/h
                duration: Minutes::literal(205.0),  // with the bolus 3.5 h: > 2 h, Cohen 2018
            },
        ],
        session_length: Some(Minutes::literal(210.0)),
        sessions_per_series: Some(6),
        minimum_gap_days: Some(1),
        usage: ProtocolUse::Orderable,
        note: "the clinic's own protocol within the guideline's range".into(),
        ..guideline
    })
}

/// Rescue drugs a seeded protocol allows: dosing.md, "Monitoring": a
/// benzodiazepine or an α2-agonist for distressing psychotomimetic effects;
/// an antiemetic (ondansetron) [to check].
fn seeded_rescue_drugs() -> Vec<String> {
    vec![
        "midazolam (benzodiazepine)".into(),
        "clonidine (α2-agonist)".into(),
        "ondansetron (antiemetic)".into(),
    ]
}

#[derive(sqlx::FromRow)]
struct ProtocolRow {
    id: i64,
    protocol_key: String,
    version: i64,
    definition: String,
    rescue_drugs: String,
    active: i64,
    created_by: Option<String>,
    created_at: i64,
}

const PROTOCOL_COLUMNS: &str = "p.id, p.protocol_key, p.version, p.definition, p.rescue_drugs, \
     p.active, u.display_name AS created_by, p.created_at \
     FROM infusion_protocol_versions p LEFT JOIN staff_users u ON u.id = p.created_by";

fn protocol_record(row: ProtocolRow) -> StoreResult<ProtocolVersionRecord> {
    let definition: Value =
        serde_json::from_str(&row.definition).map_err(|e| corrupt(&e.to_string()))?;
    Ok(ProtocolVersionRecord {
        id: row.id,
        protocol: protocol_from_json(&row.protocol_key, &definition)?,
        key: row.protocol_key,
        version: row.version,
        rescue_drugs: row
            .rescue_drugs
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned)
            .collect(),
        active: row.active != 0,
        created_by: row.created_by,
        created_at: from_millis(row.created_at)?,
    })
}

#[derive(sqlx::FromRow)]
struct OrderRow {
    id: i64,
    patient_id: i64,
    protocol_version_id: i64,
    steps: String,
    concentration_mg_ml: f64,
    bag_ml: f64,
    weight_kg: f64,
    weight_observed_at: i64,
    dosing_weight_kg: f64,
    total_mg: f64,
    total_ml: f64,
    max_rate_mg_h: f64,
    max_pump_ml_h: f64,
    target_ng_ml: Option<f64>,
    ordered_by: i64,
    ordered_by_name: String,
    ordered_at: i64,
}

/// The ceiling's code as stored.
pub fn ceiling_code(ceiling: Ceiling) -> &'static str {
    match ceiling {
        Ceiling::BolusPerKg => "bolus-per-kg",
        Ceiling::InfusionRatePerKg => "rate-per-kg",
        Ceiling::InfusionRateAbsolute => "rate-absolute",
        Ceiling::SessionPerKg => "session-per-kg",
        Ceiling::SessionAbsolute => "session-absolute",
    }
}

fn limit_number(value: LimitValue) -> f64 {
    match value {
        LimitValue::MgPerKg(v) => v.value(),
        LimitValue::MgPerKgPerHour(v) => v.value(),
        LimitValue::MgPerHour(v) => v.value(),
        LimitValue::Milligrams(v) => v.value(),
    }
}

/// The overrides a clinician's reason grants for `breaches`: each exceeded
/// ceiling raised to the highest value that exceeded it (dosing.md:
/// "Exceeding any ceiling requires a clinician override with a written
/// reason"). respite-clinical still refuses any beyond its maximum.
pub fn overrides_for(
    error: &DosingError,
    clinician_id: i64,
    reason: &str,
) -> Option<Vec<ClinicianOverride>> {
    let DosingError::CeilingsExceeded(breaches) = error else {
        return None;
    };
    let mut highest: Vec<(Ceiling, LimitValue)> = Vec::new();
    for breach in breaches {
        match highest.iter_mut().find(|(c, _)| *c == breach.ceiling) {
            Some((_, value)) if limit_number(breach.value) > limit_number(*value) => {
                *value = breach.value
            }
            Some(_) => {}
            None => highest.push((breach.ceiling, breach.value)),
        }
    }
    highest
        .into_iter()
        .map(|(ceiling, value)| {
            ClinicianOverride::new(ceiling, value, &clinician_id.to_string(), reason).ok()
        })
        .collect()
}

/// Calculates an order as the store will check it: without overrides, or,
/// when a reason is given, with the overrides it grants. The page shows what
/// this returns; the store refuses what it refuses.
pub fn calculate_order(
    protocol: &Protocol,
    steps: &[ProtocolStep],
    body: &PatientBody,
    concentration_mg_ml: f64,
    settings: &DosingSettings,
    override_by: Option<(i64, &str)>,
) -> Result<SessionDose, DosingError> {
    let ordered = Protocol {
        steps: steps.to_vec(),
        ..protocol.clone()
    };
    let vial = Vial {
        drug: protocol.drug,
        concentration: MgPerMl::new(concentration_mg_ml)?,
    };
    match calculate_session(&ordered, body, vial, settings, &[]) {
        Err(error) => match override_by {
            Some((clinician, reason)) if !reason.trim().is_empty() => {
                match overrides_for(&error, clinician, reason) {
                    Some(overrides) => {
                        calculate_session(&ordered, body, vial, settings, &overrides)
                    }
                    None => Err(error),
                }
            }
            _ => Err(error),
        },
        ok => ok,
    }
}

/// The patient's body for dosing from the chart's sex code.
pub fn body_for(
    weight_kg: f64,
    height_cm: Option<f64>,
    sex: &str,
    settings: &DosingSettings,
) -> Result<PatientBody, DosingError> {
    let sex = match sex {
        "female" => Some(Sex::Female),
        "male" => Some(Sex::Male),
        _ => None,
    };
    PatientBody::new(weight_kg, height_cm, sex, settings)
}

fn step_maxima(dose: &SessionDose) -> (f64, f64) {
    dose.steps
        .iter()
        .filter_map(|s| match s {
            respite_clinical::dosing::CalculatedStep::Infusion {
                rate, pump_rate, ..
            } => Some((rate.value(), pump_rate.value())),
            _ => None,
        })
        .fold((0.0, 0.0), |(r, p), (r2, p2)| (r.max(r2), p.max(p2)))
}

impl Store {
    /// Writes the seeded protocols as version 1 when the library is empty
    /// (dosing.md's protocols, respite-clinical's `seeded_protocols`, and the
    /// clinic's own series): active when respite-clinical may calculate them.
    pub async fn seed_protocols(&self, at: Timestamp) -> StoreResult<()> {
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM infusion_protocol_versions")
            .fetch_one(&self.pool)
            .await?;
        if count > 0 {
            return Ok(());
        }
        let mut protocols = seeded_protocols();
        protocols.extend(clinic_series_protocol());
        for protocol in protocols {
            let active = protocol.usage == ProtocolUse::Orderable;
            let insert = self
                .insert_protocol_version(
                    None,
                    &NewProtocolVersion {
                        protocol,
                        rescue_drugs: seeded_rescue_drugs(),
                        active,
                    },
                    at,
                )
                .await;
            insert?;
        }
        Ok(())
    }

    /// Adds a version of a protocol (the next number for its key); the
    /// earlier versions stay as they were.
    pub async fn insert_protocol_version(
        &self,
        by_user_id: Option<i64>,
        new: &NewProtocolVersion,
        at: Timestamp,
    ) -> StoreResult<i64> {
        let mut tx = self.begin_write().await?;
        let (latest,): (Option<i64>,) = sqlx::query_as(
            "SELECT MAX(version) FROM infusion_protocol_versions WHERE protocol_key = $1",
        )
        .bind(&new.protocol.id)
        .fetch_one(&mut *tx)
        .await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO infusion_protocol_versions (protocol_key, version, name, definition, \
             rescue_drugs, active, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(&new.protocol.id)
        .bind(latest.unwrap_or(0) + 1)
        .bind(&new.protocol.name)
        .bind(protocol_json(&new.protocol).to_string())
        .bind(new.rescue_drugs.join("\n"))
        .bind(i64::from(new.active))
        .bind(by_user_id)
        .bind(to_millis(at))
        .fetch_one(&mut *tx)
        .await?;
        // The audit entry names the path's record (the version changed from).
        self.commit(tx, None).await?;
        Ok(id)
    }

    /// Every version of every protocol, newest version of each key first.
    pub async fn protocol_versions(&self) -> StoreResult<Vec<ProtocolVersionRecord>> {
        let rows: Vec<ProtocolRow> = sqlx::query_as(&format!(
            "SELECT {PROTOCOL_COLUMNS} ORDER BY p.protocol_key, p.version DESC"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(protocol_record).collect()
    }

    /// The version in force of each protocol (its newest).
    pub async fn current_protocols(&self) -> StoreResult<Vec<ProtocolVersionRecord>> {
        let mut all = self.protocol_versions().await?;
        all.dedup_by(|later, earlier| later.key == earlier.key);
        Ok(all)
    }

    pub async fn protocol_version(&self, id: i64) -> StoreResult<Option<ProtocolVersionRecord>> {
        let row: Option<ProtocolRow> =
            sqlx::query_as(&format!("SELECT {PROTOCOL_COLUMNS} WHERE p.id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(protocol_record).transpose()
    }

    pub async fn infusion_settings(&self) -> StoreResult<InfusionSettings> {
        let (days,): (i64,) =
            sqlx::query_as("SELECT weight_max_age_days FROM infusion_settings WHERE id = 1")
                .fetch_one(&self.pool)
                .await?;
        Ok(InfusionSettings {
            weight_max_age_days: days,
        })
    }

    pub async fn update_infusion_settings(
        &self,
        settings: &InfusionSettings,
        by_user_id: i64,
        at: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE infusion_settings SET weight_max_age_days = $1, updated_by = $2, \
             updated_at = $3 WHERE id = 1",
        )
        .bind(settings.weight_max_age_days)
        .bind(by_user_id)
        .bind(to_millis(at))
        .execute(&mut *tx)
        .await?;
        self.commit(tx, Some("infusion-settings")).await
    }

    async fn latest_vital(
        &self,
        conn: &mut sqlx::AnyConnection,
        patient_id: i64,
        sign: VitalSign,
    ) -> StoreResult<Option<(f64, i64)>> {
        Ok(sqlx::query_as(
            "SELECT value, observed_at FROM observations WHERE patient_id = $1 AND code = $2 \
             ORDER BY observed_at DESC, id DESC LIMIT 1",
        )
        .bind(patient_id)
        .bind(sign.loinc())
        .fetch_optional(conn)
        .await?)
    }

    /// What stands between this patient and an order today: the screening
    /// decision (eligible and current), a plan, and a weight measured within
    /// the clinic's number of days.
    pub async fn order_readiness(
        &self,
        patient_id: i64,
        today: Date,
        zone: &TimeZone,
    ) -> StoreResult<OrderReadiness> {
        let mut refusals = Vec::new();
        match self
            .current_screening_decision(patient_id, today, zone)
            .await?
        {
            None => refusals.push(OrderRefusal::NoDecision),
            Some(d) if d.decision.outcome != ClinicianOutcome::Eligible => {
                refusals.push(OrderRefusal::DecisionNotEligible)
            }
            Some(d) if !d.current => refusals.push(OrderRefusal::DecisionOutOfDate),
            Some(_) => {}
        }
        if self.current_treatment_plan(patient_id).await?.is_none() {
            refusals.push(OrderRefusal::NoPlan);
        }
        let settings = self.infusion_settings().await?;
        let mut conn = self.pool.acquire().await?;
        let weight = self
            .latest_vital(&mut conn, patient_id, VitalSign::BodyWeight)
            .await?;
        let height = self
            .latest_vital(&mut conn, patient_id, VitalSign::BodyHeight)
            .await?;
        drop(conn);
        let weight = match weight {
            None => {
                refusals.push(OrderRefusal::NoWeight);
                None
            }
            Some((kg, at)) => {
                let observed_at = from_millis(at)?;
                let measured = observed_at.to_zoned(zone.clone()).date();
                let days = (today - measured).get_days() as i64;
                if days > settings.weight_max_age_days {
                    refusals.push(OrderRefusal::WeightTooOld {
                        days,
                        max_days: settings.weight_max_age_days,
                    });
                }
                Some(WeightReading { kg, observed_at })
            }
        };
        Ok(OrderReadiness {
            refusals,
            weight,
            height_cm: height.map(|(cm, _)| cm),
            settings,
        })
    }

    /// Stores an order after every check of this module's header, in one
    /// transaction with its audit entry. `Ok(Err(_))` names why it was
    /// refused; nothing is written then.
    pub async fn create_infusion_order(
        &self,
        new: &NewInfusionOrder<'_>,
        today: Date,
        zone: &TimeZone,
    ) -> StoreResult<Result<i64, OrderRefusal>> {
        // SPEC §2: infusion orders and dose overrides are the clinician's.
        if new.orderer_role != Role::Clinician {
            return Ok(Err(OrderRefusal::NotAClinician));
        }
        let Some(patient) = self.patient(new.patient_id).await? else {
            return Ok(Err(OrderRefusal::NoSuchPatient));
        };
        let readiness = self.order_readiness(new.patient_id, today, zone).await?;
        if let Some(refusal) = readiness.refusals.into_iter().next() {
            return Ok(Err(refusal));
        }
        let Some(weight) = readiness.weight else {
            return Ok(Err(OrderRefusal::NoWeight));
        };
        let Some(protocol) = self.protocol_version(new.protocol_version_id).await? else {
            return Ok(Err(OrderRefusal::NoSuchProtocol));
        };
        let in_force = self
            .current_protocols()
            .await?
            .into_iter()
            .any(|p| p.id == protocol.id && p.active);
        if !in_force {
            return Ok(Err(OrderRefusal::ProtocolInactive));
        }
        let settings = DosingSettings::default();
        let body = match body_for(weight.kg, readiness.height_cm, &patient.sex, &settings) {
            Ok(body) => body,
            Err(e) => return Ok(Err(OrderRefusal::Dosing(e))),
        };
        let dose = match calculate_order(
            &protocol.protocol,
            &new.steps,
            &body,
            new.concentration_mg_ml,
            &settings,
            new.override_reason.map(|r| (new.orderer_id, r)),
        ) {
            Ok(dose) => dose,
            Err(e) => return Ok(Err(OrderRefusal::Dosing(e))),
        };
        let (max_rate, max_pump) = step_maxima(&dose);
        let mut tx = self.begin_write().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO infusion_orders (patient_id, protocol_version_id, steps, \
             concentration_mg_ml, bag_ml, weight_kg, weight_observed_at, dosing_weight_kg, \
             total_mg, total_ml, max_rate_mg_h, max_pump_ml_h, target_ng_ml, ordered_by, \
             ordered_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
             $15) RETURNING id",
        )
        .bind(new.patient_id)
        .bind(protocol.id)
        .bind(steps_json(&new.steps).to_string())
        .bind(new.concentration_mg_ml)
        .bind(new.bag_ml)
        .bind(weight.kg)
        .bind(to_millis(weight.observed_at))
        .bind(dose.dosing_weight.weight.value())
        .bind(dose.total.value())
        .bind(dose.total_volume.value())
        .bind(max_rate)
        .bind(max_pump)
        .bind(new.target_ng_ml)
        .bind(new.orderer_id)
        .bind(to_millis(new.at))
        .fetch_one(&mut *tx)
        .await?;
        for applied in &dose.overrides_applied {
            sqlx::query(
                "INSERT INTO infusion_order_overrides (order_id, ceiling, ceiling_limit, \
                 order_value, reason, clinician_id) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(ceiling_code(applied.granted.ceiling()))
            .bind(limit_number(applied.ceiling_limit))
            .bind(limit_number(applied.value))
            .bind(applied.granted.reason())
            .bind(new.orderer_id)
            .execute(&mut *tx)
            .await?;
        }
        self.commit(tx, Some(&new.patient_id.to_string())).await?;
        Ok(Ok(id))
    }

    /// An order, whole.
    pub async fn infusion_order(&self, id: i64) -> StoreResult<Option<InfusionOrderRecord>> {
        let row: Option<OrderRow> = sqlx::query_as(
            "SELECT o.id, o.patient_id, o.protocol_version_id, o.steps, o.concentration_mg_ml, \
             o.bag_ml, o.weight_kg, o.weight_observed_at, o.dosing_weight_kg, o.total_mg, \
             o.total_ml, o.max_rate_mg_h, o.max_pump_ml_h, o.target_ng_ml, o.ordered_by, \
             u.display_name AS ordered_by_name, o.ordered_at \
             FROM infusion_orders o JOIN staff_users u ON u.id = o.ordered_by WHERE o.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let protocol = self
            .protocol_version(row.protocol_version_id)
            .await?
            .ok_or_else(|| corrupt("order's protocol version"))?;
        let overrides: Vec<(String, f64, f64, String, String)> = sqlx::query_as(
            "SELECT v.ceiling, v.ceiling_limit, v.order_value, v.reason, u.display_name \
             FROM infusion_order_overrides v JOIN staff_users u ON u.id = v.clinician_id \
             WHERE v.order_id = $1 ORDER BY v.id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let check: Option<(String, f64, f64, f64, String, i64)> = sqlx::query_as(
            "SELECT c.drug, c.concentration_mg_ml, c.weight_kg, c.pump_ml_h, u.display_name, \
             c.checked_at FROM infusion_order_checks c JOIN staff_users u ON u.id = c.checked_by \
             WHERE c.order_id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let steps: Value = serde_json::from_str(&row.steps).map_err(|e| corrupt(&e.to_string()))?;
        Ok(Some(InfusionOrderRecord {
            id: row.id,
            patient_id: row.patient_id,
            protocol,
            steps: steps_from_json(&steps)?,
            concentration_mg_ml: row.concentration_mg_ml,
            bag_ml: row.bag_ml,
            weight_kg: row.weight_kg,
            weight_observed_at: from_millis(row.weight_observed_at)?,
            dosing_weight_kg: row.dosing_weight_kg,
            total_mg: row.total_mg,
            total_ml: row.total_ml,
            max_rate_mg_h: row.max_rate_mg_h,
            max_pump_ml_h: row.max_pump_ml_h,
            target_ng_ml: row.target_ng_ml,
            ordered_by_id: row.ordered_by,
            ordered_by: row.ordered_by_name,
            ordered_at: from_millis(row.ordered_at)?,
            overrides: overrides
                .into_iter()
                .map(|(ceiling, ceiling_limit, order_value, reason, clinician)| {
                    OrderOverrideRecord {
                        ceiling,
                        ceiling_limit,
                        order_value,
                        reason,
                        clinician,
                    }
                })
                .collect(),
            check: check
                .map(
                    |(drug, concentration_mg_ml, weight_kg, pump_ml_h, by, at)| {
                        Ok::<_, StoreError>(OrderCheckRecord {
                            drug,
                            concentration_mg_ml,
                            weight_kg,
                            pump_ml_h,
                            checked_by: by,
                            checked_at: from_millis(at)?,
                        })
                    },
                )
                .transpose()?,
        }))
    }

    /// The patient's orders, newest first (ids).
    pub async fn infusion_orders_of(&self, patient_id: i64) -> StoreResult<Vec<i64>> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT id FROM infusion_orders WHERE patient_id = $1 ORDER BY ordered_at DESC, id DESC",
        )
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// Records the second person's check: a nurse or clinician who is not
    /// the orderer reads drug, concentration, weight and pump rate off what
    /// they hold, and each must match the order (dosing.md: a second-person
    /// check; SPEC §1 step 5).
    pub async fn check_infusion_order(
        &self,
        order_id: i64,
        check: &OrderCheck,
        by_user_id: i64,
        by_role: Role,
        at: Timestamp,
    ) -> StoreResult<Result<(), CheckRefusal>> {
        if !matches!(by_role, Role::Nurse | Role::Clinician) {
            return Ok(Err(CheckRefusal::NotClinicalStaff));
        }
        let Some(order) = self.infusion_order(order_id).await? else {
            return Ok(Err(CheckRefusal::NoSuchOrder));
        };
        if order.ordered_by_id == by_user_id {
            return Ok(Err(CheckRefusal::Orderer));
        }
        if order.check.is_some() {
            return Ok(Err(CheckRefusal::AlreadyChecked));
        }
        // What was read matches the order to the pump's resolution (0.1 mL/h
        // and 0.1 kg, dosing.md's example pump setting).
        let same = |a: f64, b: f64| (a - b).abs() < 0.05 + 1e-9;
        if !same(check.concentration_mg_ml, order.concentration_mg_ml) {
            return Ok(Err(CheckRefusal::Mismatch("concentration_mg_ml")));
        }
        if !same(check.weight_kg, order.weight_kg) {
            return Ok(Err(CheckRefusal::Mismatch("weight_kg")));
        }
        if !same(check.pump_ml_h, order.max_pump_ml_h) {
            return Ok(Err(CheckRefusal::Mismatch("pump_ml_h")));
        }
        let mut tx = self.begin_write().await?;
        let insert = sqlx::query(
            "INSERT INTO infusion_order_checks (order_id, drug, concentration_mg_ml, weight_kg, \
             pump_ml_h, checked_by, checked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(order_id)
        .bind(form_code(order.protocol.protocol.drug))
        .bind(check.concentration_mg_ml)
        .bind(check.weight_kg)
        .bind(check.pump_ml_h)
        .bind(by_user_id)
        .bind(to_millis(at))
        .execute(&mut *tx)
        .await;
        match insert {
            Err(e) if is_unique_violation(&e) => return Ok(Err(CheckRefusal::AlreadyChecked)),
            other => {
                other?;
            }
        }
        self.commit(tx, None).await?;
        Ok(Ok(()))
    }
}
