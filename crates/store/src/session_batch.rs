//! Many documented sessions written at once: the demo's history of past
//! infusions (demo/sessions.rs). Each entry is planned by the same pure step
//! as the live write (`sessions::plan_entry`: respite-clinical's session
//! states, vital-sign alarm rule, modified Aldrete score and delivered dose),
//! folded into the session held in memory exactly as reading it back after
//! the live write would show it, and the rows are written at the end with
//! multi-row INSERTs in the caller's transaction, instead of one transaction
//! (and one re-read of the session) per step.
//!
//! Row ids are given here, from the tables' current maximum, so that an
//! acknowledgement can name its alarm before either is written; on
//! PostgreSQL the identity sequences are then moved past them.

use std::collections::HashMap;

use jiff::Timestamp;
use respite_clinical::session::{AlarmThresholds, VitalAlarm, VitalKind};
use respite_domain::access::Role;

use crate::orders::InfusionOrderRecord;
use crate::sessions::{
    plan_entry, InfusionSession, PlannedEvent, SessionAlarm, SessionColumn, SessionEntry,
    SessionRefusal,
};
use crate::{to_millis, Engine, StoreResult};

/// Bound parameters per multi-row INSERT. SQLite looks each `$N` up in a
/// list as it parses, so a statement's cost grows with the square of its
/// parameters: a few hundred is the sweet spot (measured on the demo).
const PARAMETERS_PER_INSERT: usize = 120;

/// How many rows of `columns` columns one INSERT takes.
pub(crate) fn rows_per_insert(columns: usize) -> usize {
    (PARAMETERS_PER_INSERT / columns).max(1)
}

/// Whether to keep a multi-row INSERT prepared for the next chunk. Not on
/// PostgreSQL: which columns are NULL differs from row to row, and it
/// would keep the parameter types of the first execution (a NULL's) for
/// the statement (see `Store::record_session_entry`).
pub(crate) fn keep_prepared(engine: Engine) -> bool {
    engine == Engine::Sqlite
}

/// The sessions documented so far and the rows they write.
pub(crate) struct SessionBatch {
    thresholds: AlarmThresholds,
    next_event_id: i64,
    next_alarm_id: i64,
    /// Events in the order recorded; acknowledgements apart, written after
    /// the alarms they name.
    events: Vec<EventRow>,
    acknowledgements: Vec<EventRow>,
    alarms: Vec<AlarmRow>,
    sessions: Vec<SessionRow>,
    /// Who signed each session off.
    signers: HashMap<i64, i64>,
}

struct EventRow {
    id: i64,
    session_id: i64,
    at: Timestamp,
    by_user_id: i64,
    event: PlannedEvent,
}

struct AlarmRow {
    id: i64,
    session_id: i64,
    event_id: i64,
    alarm: VitalAlarm,
}

/// The session row as the last entry leaves it.
struct SessionRow {
    session: InfusionSession,
    opened_by: i64,
    signed_off_by: Option<i64>,
}

impl SessionBatch {
    /// A batch whose rows follow those already in `conn`'s tables.
    pub(crate) async fn new(
        conn: &mut sqlx::AnyConnection,
        thresholds: AlarmThresholds,
    ) -> StoreResult<SessionBatch> {
        let (events,): (Option<i64>,) =
            sqlx::query_as("SELECT MAX(id) FROM infusion_session_events")
                .fetch_one(&mut *conn)
                .await?;
        let (alarms,): (Option<i64>,) =
            sqlx::query_as("SELECT MAX(id) FROM infusion_session_alarms")
                .fetch_one(&mut *conn)
                .await?;
        Ok(SessionBatch {
            thresholds,
            next_event_id: events.unwrap_or(0) + 1,
            next_alarm_id: alarms.unwrap_or(0) + 1,
            events: Vec::new(),
            acknowledgements: Vec::new(),
            alarms: Vec::new(),
            sessions: Vec::new(),
            signers: HashMap::new(),
        })
    }

    /// The id the next alarm raised gets (to acknowledge it by).
    pub(crate) fn last_alarm_id(&self) -> Option<i64> {
        self.alarms.last().map(|a| a.id)
    }

    /// Records `entry` on `session` (held in memory, opened by the caller)
    /// as the live write would, or says why the live write would refuse it.
    pub(crate) fn record(
        &mut self,
        session: &mut InfusionSession,
        order: &InfusionOrderRecord,
        entry: &SessionEntry,
        (by_user_id, by_role, by_name): (i64, Role, &str),
        at: Timestamp,
    ) -> Result<(), SessionRefusal> {
        let planned = plan_entry(
            session,
            order,
            entry,
            (by_user_id, by_role, at),
            &self.thresholds,
        )?;
        if planned.write.rescue.is_some() {
            // A controlled rescue drug is drawn from the register in the
            // live write's transaction; this batch writes no register rows,
            // so it takes none (the demo gives ondansetron only).
            return Err(SessionRefusal::RescueNotInRegister);
        }
        session.state = planned.next;
        session.version += 1;
        for column in &planned.write.columns {
            column.apply(session, by_name);
            if let SessionColumn::SignedOff { by_user_id, .. } = column {
                self.signers.insert(session.id, *by_user_id);
            }
        }
        for event in planned.write.events {
            let id = self.next_event_id;
            self.next_event_id += 1;
            session.events.push(event.as_recorded(id, at, by_name));
            for alarm in &event.alarms {
                let alarm_id = self.next_alarm_id;
                self.next_alarm_id += 1;
                session.alarms.push(SessionAlarm {
                    id: alarm_id,
                    event_id: id,
                    at,
                    kind: alarm.kind,
                    value: alarm.value,
                    limit: alarm.limit,
                    direction: alarm.direction,
                    acknowledged: None,
                });
                self.alarms.push(AlarmRow {
                    id: alarm_id,
                    session_id: session.id,
                    event_id: id,
                    alarm: *alarm,
                });
            }
            let row = EventRow {
                id,
                session_id: session.id,
                at,
                by_user_id,
                event,
            };
            if row.event.kind == "alarm-acknowledged" {
                if let Some(alarm) = session
                    .alarms
                    .iter_mut()
                    .find(|a| Some(a.id) == row.event.alarm_id)
                {
                    alarm.acknowledged = Some(crate::sessions::AlarmAcknowledgement {
                        by: by_name.to_owned(),
                        at,
                        action_taken: row.event.note.clone(),
                    });
                }
                self.acknowledgements.push(row);
            } else {
                self.events.push(row);
            }
        }
        Ok(())
    }

    /// Ends `session`, opened by `opened_by`: its row is written as it now
    /// stands.
    pub(crate) fn finish(&mut self, session: InfusionSession, opened_by: i64) {
        let signed_off_by = self.signers.get(&session.id).copied();
        self.sessions.push(SessionRow {
            session,
            opened_by,
            signed_off_by,
        });
    }

    /// How many sessions the batch holds.
    pub(crate) fn len(&self) -> usize {
        self.sessions.len()
    }

    /// Writes every row in `conn` (the caller's transaction).
    pub(crate) async fn write(
        self,
        conn: &mut sqlx::AnyConnection,
        engine: Engine,
    ) -> StoreResult<()> {
        for row in &self.sessions {
            let s = &row.session;
            let millis = |at: Option<Timestamp>| at.map(to_millis);
            sqlx::query(
                "UPDATE infusion_sessions SET order_id = $1, state = $2, version = $3, \
                 opened_by = $4, opened_at = $5, consent = $6, iv_access = $7, escort_name = $8, \
                 escort_phone = $9, escort_confirmed = $10, infusion_started_at = $11, \
                 started_at = COALESCE($11, started_at), stopped_at = $12, discharged_at = $13, \
                 signed_off_by = $14, signed_off_at = $15, total_mg = $16, minutes = $17 \
                 WHERE id = $18",
            )
            .persistent(false)
            .bind(s.order_id)
            .bind(s.state.code())
            .bind(s.version)
            .bind(row.opened_by)
            .bind(to_millis(s.opened_at))
            .bind(i64::from(s.consent))
            .bind(i64::from(s.iv_access))
            .bind(s.escort_name.clone())
            .bind(s.escort_phone.clone())
            .bind(i64::from(s.escort_confirmed))
            .bind(millis(s.infusion_started_at))
            .bind(millis(s.stopped_at))
            .bind(millis(s.discharged_at))
            .bind(row.signed_off_by)
            .bind(millis(s.signed_off_at))
            .bind(s.total_mg)
            .bind(s.minutes)
            .bind(s.id)
            .execute(&mut *conn)
            .await?;
        }
        insert_events(conn, engine, &self.events).await?;
        let vitals: Vec<(i64, VitalKind, f64)> = self
            .events
            .iter()
            .flat_map(|e| e.event.vitals.iter().map(|(kind, v)| (e.id, *kind, *v)))
            .collect();
        for chunk in vitals.chunks(rows_per_insert(4)) {
            let sql = insert_sql(
                "infusion_session_vitals (event_id, loinc, value, unit)",
                4,
                chunk.len(),
            );
            let mut query = sqlx::query(&sql).persistent(keep_prepared(engine));
            for (event_id, kind, value) in chunk {
                query = query
                    .bind(*event_id)
                    .bind(kind.loinc())
                    .bind(*value)
                    .bind(kind.ucum());
            }
            query.execute(&mut *conn).await?;
        }
        for chunk in self.alarms.chunks(rows_per_insert(7)) {
            let sql = insert_sql(
                "infusion_session_alarms (id, session_id, event_id, loinc, value, limit_value, \
                 direction)",
                7,
                chunk.len(),
            );
            let mut query = sqlx::query(&sql).persistent(keep_prepared(engine));
            for row in chunk {
                query = query
                    .bind(row.id)
                    .bind(row.session_id)
                    .bind(row.event_id)
                    .bind(row.alarm.kind.loinc())
                    .bind(row.alarm.value)
                    .bind(row.alarm.limit)
                    .bind(row.alarm.direction.code());
            }
            query.execute(&mut *conn).await?;
        }
        insert_events(conn, engine, &self.acknowledgements).await?;
        move_sequences_past(
            conn,
            engine,
            &["infusion_session_events", "infusion_session_alarms"],
        )
        .await?;
        Ok(())
    }
}

async fn insert_events(
    conn: &mut sqlx::AnyConnection,
    engine: Engine,
    rows: &[EventRow],
) -> StoreResult<()> {
    for chunk in rows.chunks(rows_per_insert(15)) {
        let sql = insert_sql(
            "infusion_session_events (id, session_id, kind, at, recorded_by, rate_mg_h, \
             pump_ml_h, amount_mg, over_min, code, drug, score, answers, alarm_id, note)",
            15,
            chunk.len(),
        );
        let mut query = sqlx::query(&sql).persistent(keep_prepared(engine));
        for row in chunk {
            let e = &row.event;
            query = query
                .bind(row.id)
                .bind(row.session_id)
                .bind(e.kind)
                .bind(to_millis(row.at))
                .bind(row.by_user_id)
                .bind(e.rate_mg_h)
                .bind(e.pump_ml_h)
                .bind(e.amount_mg)
                .bind(e.over_min)
                .bind(e.code.clone())
                .bind(e.drug.clone())
                .bind(e.score)
                .bind(e.answers.clone())
                .bind(e.alarm_id)
                .bind(e.note.clone());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// After rows written with the ids given here, each table's identity
/// sequence moves past its largest id (PostgreSQL only: SQLite's next rowid
/// is the table's largest plus one anyway).
pub(crate) async fn move_sequences_past(
    conn: &mut sqlx::AnyConnection,
    engine: Engine,
    tables: &[&str],
) -> StoreResult<()> {
    if engine != Engine::Postgres {
        return Ok(());
    }
    for table in tables {
        sqlx::query(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
             (SELECT COALESCE(MAX(id), 1) FROM {table}))"
        ))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// `INSERT INTO {into} VALUES ($1, …), (…)`: `rows` rows of `columns`
/// numbered parameters.
pub(crate) fn insert_sql(into: &str, columns: usize, rows: usize) -> String {
    let mut sql = format!("INSERT INTO {into} VALUES ");
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..columns {
            if column > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", row * columns + column + 1));
        }
        sql.push(')');
    }
    sql
}
