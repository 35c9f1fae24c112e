//! The demo's documented infusion sessions (SPEC §1 step 5): the most recent
//! past sessions of the demo's history, each with its order and second
//! check, replayed through the session store (`Store::record_session_entry`):
//! the pre-start checklist, baseline vitals, the start, vitals every 15
//! minutes (a few alarming and acknowledged), an adverse event with a
//! rescue drug now and then, the stop, recovery, the modified Aldrete score,
//! discharge to the named escort and the clinician's sign-off. Each replays
//! the session's own total and minutes as one steady rate, so that the
//! register's administration (demo/register.rs, written from those totals)
//! still matches and the register still reconciles.
//!
//! Older sessions stay totals only (the chart lists them without a link):
//! replaying all of them would slow the demo's start-up for no visitor's
//! benefit.

use jiff::{SignedDuration, Timestamp};
use respite_clinical::dosing::units::{MgPerKgPerHour, Minutes};
use respite_clinical::dosing::ProtocolStep;
use respite_clinical::instruments::Answers;
use respite_clinical::session::VitalSigns;
use respite_domain::access::Role;

use super::DemoClock;
use crate::orders::steps_json;
use crate::sessions::SessionEntry;
use crate::{to_millis, Store, StoreError, StoreResult};

/// How many of the latest past sessions are documented step by step.
const DOCUMENTED_SESSIONS: usize = 4;
/// The demo's bag concentration (dosing.md's example: 10 mg/mL).
const CONCENTRATION_MG_ML: f64 = 10.0;
const ESCORTS: [&str; 4] = ["Sam Rivera", "Lee Okafor", "Maria Jensen", "Tom Ahlberg"];

fn minutes(at: Timestamp, n: i64) -> StoreResult<Timestamp> {
    at.checked_add(SignedDuration::from_mins(n))
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn aldrete(total: i32) -> Answers {
    let mut left = total;
    let mut answers = Answers::new();
    for item in [
        "activity",
        "respiration",
        "circulation",
        "consciousness",
        "oxygen-saturation",
    ] {
        let value = left.min(2);
        answers.insert(item, value);
        left -= value;
    }
    answers
}

/// Documents the latest past sessions; returns how many.
pub(super) async fn seed_sessions(store: &Store, clock: &DemoClock) -> StoreResult<Vec<i64>> {
    let staff = |role: &'static str| async move {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT id FROM staff_users WHERE role = $1 ORDER BY id LIMIT 1")
                .bind(role)
                .fetch_optional(&store.pool)
                .await?;
        Ok::<_, StoreError>(row.map(|(id,)| id))
    };
    let (Some(nurse), Some(clinician)) = (staff("nurse").await?, staff("clinician").await?) else {
        return Ok(Vec::new());
    };
    let yesterday = minutes(clock.now, -24 * 60)?;
    let sessions: Vec<(i64, i64, i64, String, f64, i64)> = sqlx::query_as(
        "SELECT id, patient_id, started_at, protocol, total_mg, minutes FROM infusion_sessions \
         WHERE started_at < $1 AND state IS NULL AND minutes > 0 \
         ORDER BY started_at DESC, id DESC LIMIT $2",
    )
    .bind(to_millis(yesterday))
    .bind(DOCUMENTED_SESSIONS as i64)
    .fetch_all(&store.pool)
    .await?;
    let mut documented = Vec::new();
    for (index, (session_id, patient_id, started_ms, protocol, total_mg, length)) in
        sessions.into_iter().enumerate()
    {
        let started = crate::from_millis(started_ms)?;
        document(
            store,
            (nurse, clinician),
            index,
            (session_id, patient_id, started, &protocol, total_mg, length),
        )
        .await?;
        documented.push(session_id);
    }
    Ok(documented)
}

async fn document(
    store: &Store,
    (nurse, clinician): (i64, i64),
    index: usize,
    (session_id, patient_id, started, protocol, total_mg, length): (
        i64,
        i64,
        Timestamp,
        &str,
        f64,
        i64,
    ),
) -> StoreResult<()> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("demo sessions: {what}"));
    let version: Option<(i64,)> = sqlx::query_as(
        "SELECT id FROM infusion_protocol_versions WHERE name = $1 ORDER BY version DESC LIMIT 1",
    )
    .bind(protocol)
    .fetch_optional(&store.pool)
    .await?;
    let version = match version {
        Some((id,)) => id,
        None => {
            let (id,): (i64,) =
                sqlx::query_as("SELECT id FROM infusion_protocol_versions ORDER BY id LIMIT 1")
                    .fetch_one(&store.pool)
                    .await?;
            id
        }
    };
    let weight: Option<(f64,)> = sqlx::query_as(
        "SELECT value FROM observations WHERE patient_id = $1 AND code = '29463-7' \
         AND observed_at <= $2 ORDER BY observed_at DESC LIMIT 1",
    )
    .bind(patient_id)
    .bind(to_millis(started))
    .fetch_optional(&store.pool)
    .await?;
    let weight = weight.map(|(kg,)| kg).unwrap_or(70.0);
    // The session's own total over its own minutes, as one steady rate.
    let rate_mg_h = total_mg * 60.0 / length as f64;
    let pump = rate_mg_h / CONCENTRATION_MG_ML;
    let steps = vec![ProtocolStep::Infusion {
        rate: MgPerKgPerHour::new(rate_mg_h / weight).map_err(|_| corrupt("rate"))?,
        duration: Minutes::new(length as f64).map_err(|_| corrupt("minutes"))?,
    }];
    let ordered_at = minutes(started, -24 * 60)?;
    let (order_id,): (i64,) = sqlx::query_as(
        "INSERT INTO infusion_orders (patient_id, protocol_version_id, steps, \
         concentration_mg_ml, bag_ml, weight_kg, weight_observed_at, dosing_weight_kg, \
         total_mg, total_ml, max_rate_mg_h, max_pump_ml_h, target_ng_ml, ordered_by, \
         ordered_at) VALUES ($1, $2, $3, $4, 250, $5, $6, $5, $7, $8, $9, $10, NULL, $11, $12) \
         RETURNING id",
    )
    .bind(patient_id)
    .bind(version)
    .bind(steps_json(&steps).to_string())
    .bind(CONCENTRATION_MG_ML)
    .bind(weight)
    .bind(to_millis(ordered_at))
    .bind(total_mg)
    .bind(total_mg / CONCENTRATION_MG_ML)
    .bind(rate_mg_h)
    .bind(pump)
    .bind(clinician)
    .bind(to_millis(ordered_at))
    .fetch_one(&store.pool)
    .await?;
    sqlx::query(
        "INSERT INTO infusion_order_checks (order_id, drug, concentration_mg_ml, weight_kg, \
         pump_ml_h, checked_by, checked_at) VALUES ($1, 'racemic', $2, $3, $4, $5, $6)",
    )
    .bind(order_id)
    .bind(CONCENTRATION_MG_ML)
    .bind(weight)
    .bind(pump)
    .bind(nurse)
    .bind(to_millis(minutes(started, -40)?))
    .execute(&store.pool)
    .await?;
    sqlx::query(
        "UPDATE infusion_sessions SET order_id = $1, state = 'checklist', version = 1, \
         opened_by = $2, opened_at = $3, consent = 0, iv_access = 0, escort_confirmed = 0 \
         WHERE id = $4",
    )
    .bind(order_id)
    .bind(nurse)
    .bind(to_millis(minutes(started, -30)?))
    .bind(session_id)
    .execute(&store.pool)
    .await?;

    let rescue: Option<String> = {
        let (drugs,): (String,) =
            sqlx::query_as("SELECT rescue_drugs FROM infusion_protocol_versions WHERE id = $1")
                .bind(version)
                .fetch_one(&store.pool)
                .await?;
        drugs
            .lines()
            .find(|d| d.contains("ondansetron"))
            .map(str::to_owned)
    };
    let escort = ESCORTS[index % ESCORTS.len()];
    let vitals = |systolic: f64, heart_rate: f64, pain: f64| {
        SessionEntry::Vitals(VitalSigns {
            systolic,
            diastolic: (systolic * 0.6).round(),
            heart_rate,
            oxygen_saturation: 97.0,
            respiratory_rate: 14.0,
            pain_nrs: Some(pain),
        })
    };
    // (minutes from the start, who, what).
    let mut script: Vec<(i64, Role, SessionEntry)> = vec![
        (
            -25,
            Role::Nurse,
            SessionEntry::Checklist {
                consent: true,
                iv_access: true,
                escort_name: escort.into(),
                escort_phone: String::new(),
                escort_confirmed: true,
            },
        ),
        (-10, Role::Nurse, vitals(126.0, 74.0, 7.0)),
        (
            0,
            Role::Nurse,
            SessionEntry::Start {
                pump_ml_h: pump,
                bolus_mg: None,
            },
        ),
    ];
    let alarming = index % 3 == 1;
    for k in 1..=(length / 15) {
        let at = k * 15;
        if at >= length {
            break;
        }
        let pain = (6.0 - k as f64).max(2.0);
        if alarming && k == 2 {
            // Above dosing.md's 180 mm Hg: an alarm, acknowledged.
            script.push((at, Role::Nurse, vitals(186.0, 92.0, pain)));
            script.push((
                at + 3,
                Role::Nurse,
                SessionEntry::AcknowledgeAlarm {
                    alarm_id: 0,
                    action_taken: "Reassured, lights dimmed; BP 162/94 on recheck; clinician \
                                   informed"
                        .into(),
                },
            ));
        } else {
            script.push((
                at,
                Role::Nurse,
                vitals(130.0 + (k % 3) as f64 * 4.0, 78.0, pain),
            ));
        }
        if index % 4 == 2 && k == 3 {
            if let Some(drug) = &rescue {
                script.push((
                    at + 2,
                    Role::Nurse,
                    SessionEntry::AdverseEvent {
                        code: "nausea-vomiting".into(),
                        description: "Nauseated, no vomiting".into(),
                    },
                ));
                script.push((
                    at + 4,
                    Role::Nurse,
                    SessionEntry::RescueDrug {
                        drug: drug.clone(),
                        dose_mg: 4.0,
                        reason: "nausea".into(),
                        vial: None,
                    },
                ));
            }
        }
    }
    script.extend([
        (
            length,
            Role::Nurse,
            SessionEntry::Stop {
                reason: "End of the ordered infusion".into(),
            },
        ),
        (length + 2, Role::Nurse, SessionEntry::BeginRecovery),
        (length + 15, Role::Nurse, vitals(124.0, 72.0, 3.0)),
    ]);
    if index.is_multiple_of(3) {
        script.push((length + 20, Role::Nurse, SessionEntry::Aldrete(aldrete(8))));
        script.push((length + 35, Role::Nurse, SessionEntry::Aldrete(aldrete(10))));
    } else {
        script.push((length + 20, Role::Nurse, SessionEntry::Aldrete(aldrete(9))));
    }
    script.extend([
        (
            length + 40,
            Role::Nurse,
            SessionEntry::Discharge {
                escort_name: escort.into(),
            },
        ),
        (
            length + 90,
            Role::Clinician,
            SessionEntry::SignOff {
                note: "Uneventful; next session as planned".into(),
            },
        ),
    ]);
    let mut version = 1;
    for (offset, role, mut entry) in script {
        if let SessionEntry::AcknowledgeAlarm { alarm_id, .. } = &mut entry {
            let open: Option<(i64,)> = sqlx::query_as(
                "SELECT id FROM infusion_session_alarms WHERE session_id = $1 ORDER BY id DESC \
                 LIMIT 1",
            )
            .bind(session_id)
            .fetch_optional(&store.pool)
            .await?;
            *alarm_id = open.map(|(id,)| id).unwrap_or_default();
        }
        let by = if role == Role::Clinician {
            clinician
        } else {
            nurse
        };
        let at = minutes(started, offset)?;
        version = store
            .record_session_entry(session_id, version, &entry, by, role, at)
            .await?
            .map_err(|refusal| corrupt(&format!("{refusal:?}")))?;
    }
    Ok(())
}
