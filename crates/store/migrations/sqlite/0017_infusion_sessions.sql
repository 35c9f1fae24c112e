-- The infusion session as the nurse documents it (SPEC §1 step 5): the
-- thin `infusion_sessions` of 0001 (patient, start, protocol, total mg,
-- minutes; read by the register and the demo) gains its order, its state
-- and a version, and a timeline of appended events: the pre-start
-- checklist, pump events (start, pause, resume, rate change, bolus, stop),
-- vital signs (LOINC-coded, codes.md), alarms and their acknowledgement,
-- adverse events, rescue drugs, Aldrete, discharge and sign-off. Every
-- action bumps `version` (`WHERE version = $expected`), so that a stale
-- edit from a second device is refused, never lost. Times are Unix ms.

ALTER TABLE infusion_sessions ADD COLUMN order_id INTEGER REFERENCES infusion_orders(id);
ALTER TABLE infusion_sessions ADD COLUMN state TEXT;
ALTER TABLE infusion_sessions ADD COLUMN version INTEGER;
ALTER TABLE infusion_sessions ADD COLUMN opened_by INTEGER REFERENCES staff_users(id);
ALTER TABLE infusion_sessions ADD COLUMN opened_at INTEGER;
ALTER TABLE infusion_sessions ADD COLUMN consent INTEGER;
ALTER TABLE infusion_sessions ADD COLUMN iv_access INTEGER;
ALTER TABLE infusion_sessions ADD COLUMN escort_name TEXT;
ALTER TABLE infusion_sessions ADD COLUMN escort_phone TEXT;
ALTER TABLE infusion_sessions ADD COLUMN escort_confirmed INTEGER;
ALTER TABLE infusion_sessions ADD COLUMN infusion_started_at INTEGER;
ALTER TABLE infusion_sessions ADD COLUMN stopped_at INTEGER;
ALTER TABLE infusion_sessions ADD COLUMN discharged_at INTEGER;
ALTER TABLE infusion_sessions ADD COLUMN signed_off_by INTEGER REFERENCES staff_users(id);
ALTER TABLE infusion_sessions ADD COLUMN signed_off_at INTEGER;
-- One session per order.
CREATE UNIQUE INDEX infusion_sessions_order ON infusion_sessions(order_id);

-- The session's timeline, appended to and never edited. Which columns an
-- event uses depends on its kind; `note` holds its reason, description,
-- action taken or note.
CREATE TABLE infusion_session_events (
    id          INTEGER PRIMARY KEY,
    session_id  INTEGER NOT NULL REFERENCES infusion_sessions(id),
    kind        TEXT NOT NULL,
    at          INTEGER NOT NULL,
    recorded_by INTEGER NOT NULL REFERENCES staff_users(id),
    rate_mg_h   REAL,
    pump_ml_h   REAL,
    amount_mg   REAL,
    over_min    REAL,
    code        TEXT,
    drug        TEXT,
    score       REAL,
    answers     TEXT,
    alarm_id    INTEGER,
    note        TEXT NOT NULL
);
CREATE INDEX infusion_session_events_session ON infusion_session_events(session_id, at, id);
-- An alarm is acknowledged once.
CREATE UNIQUE INDEX infusion_session_events_one_ack ON infusion_session_events(alarm_id) WHERE kind = 'alarm-acknowledged';

-- The values of a vitals event, one row per LOINC code (UCUM unit).
CREATE TABLE infusion_session_vitals (
    id       INTEGER PRIMARY KEY,
    event_id INTEGER NOT NULL REFERENCES infusion_session_events(id),
    loinc    TEXT NOT NULL,
    value    REAL NOT NULL,
    unit     TEXT NOT NULL
);
CREATE INDEX infusion_session_vitals_event ON infusion_session_vitals(event_id);

-- A vital sign beyond the clinic's threshold when it was recorded.
CREATE TABLE infusion_session_alarms (
    id          INTEGER PRIMARY KEY,
    session_id  INTEGER NOT NULL REFERENCES infusion_sessions(id),
    event_id    INTEGER NOT NULL REFERENCES infusion_session_events(id),
    loinc       TEXT NOT NULL,
    value       REAL NOT NULL,
    limit_value REAL NOT NULL,
    direction   TEXT NOT NULL CHECK (direction IN ('above', 'below'))
);
CREATE INDEX infusion_session_alarms_session ON infusion_session_alarms(session_id);

-- The clinic's alarm thresholds (dosing.md's defaults until changed).
CREATE TABLE infusion_alarm_settings (
    id                      INTEGER PRIMARY KEY CHECK (id = 1),
    systolic_above          REAL NOT NULL,
    systolic_below          REAL NOT NULL,
    heart_rate_above        REAL NOT NULL,
    heart_rate_below        REAL NOT NULL,
    oxygen_saturation_below REAL NOT NULL,
    respiratory_rate_below  REAL NOT NULL,
    updated_by              INTEGER REFERENCES staff_users(id),
    updated_at              INTEGER
);
INSERT INTO infusion_alarm_settings (id, systolic_above, systolic_below, heart_rate_above,
    heart_rate_below, oxygen_saturation_below, respiratory_rate_below)
    VALUES (1, 180, 90, 120, 50, 92, 10);
