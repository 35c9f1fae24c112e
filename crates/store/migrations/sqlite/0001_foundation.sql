-- Foundation schema (SQLite). Times are Unix milliseconds (UTC); calendar
-- dates are ISO 8601 text (YYYY-MM-DD). Flags are 0/1 integers.

CREATE TABLE clinic_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE staff_users (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('front-desk', 'nurse', 'clinician', 'admin')),
    password_hash TEXT NOT NULL,
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL
);

CREATE TABLE staff_sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES staff_users(id),
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
CREATE INDEX staff_sessions_user ON staff_sessions(user_id);

CREATE TABLE login_failures (
    id     INTEGER PRIMARY KEY,
    email  TEXT NOT NULL,
    at     INTEGER NOT NULL
);
CREATE INDEX login_failures_email_at ON login_failures(email, at);

CREATE TABLE inquiries (
    id                INTEGER PRIMARY KEY,
    received_at       INTEGER NOT NULL,
    channel           TEXT NOT NULL CHECK (channel IN ('web', 'email', 'sms', 'voice')),
    name              TEXT NOT NULL,
    phone_e164        TEXT,
    email             TEXT,
    preferred_channel TEXT NOT NULL,
    contact_windows   TEXT NOT NULL,
    time_zone         TEXT NOT NULL,
    pain_area         TEXT NOT NULL,
    pain_duration     TEXT NOT NULL,
    message           TEXT NOT NULL,
    consent_at        INTEGER,
    status            TEXT NOT NULL DEFAULT 'new'
        CHECK (status IN ('new', 'contacted', 'consultation-booked', 'closed')),
    -- Why a closed thread was closed; required exactly when status = closed.
    closed_reason     TEXT
        CHECK (closed_reason IN ('booked', 'not-a-candidate', 'no-answer', 'asked-to-stop')),
    patient_id        INTEGER REFERENCES patients(id)
);
CREATE INDEX inquiries_status_received ON inquiries(status, received_at);
CREATE INDEX inquiries_phone ON inquiries(phone_e164);
CREATE INDEX inquiries_email ON inquiries(email);

-- Someone to call back: every new inquiry, a missed call, a voicemail.
CREATE TABLE callback_tasks (
    id             INTEGER PRIMARY KEY,
    inquiry_id     INTEGER NOT NULL REFERENCES inquiries(id),
    created_at     INTEGER NOT NULL,
    reason         TEXT NOT NULL CHECK (reason IN ('inquiry', 'missed-call', 'voicemail')),
    phone_e164     TEXT,
    recording_url  TEXT,
    done_at        INTEGER
);
CREATE INDEX callback_tasks_open ON callback_tasks(done_at, created_at);

CREATE TABLE patients (
    id           INTEGER PRIMARY KEY,
    mrn          TEXT NOT NULL UNIQUE,
    given_name   TEXT NOT NULL,
    family_name  TEXT NOT NULL,
    birth_date   TEXT NOT NULL,
    sex          TEXT NOT NULL CHECK (sex IN ('female', 'male', 'other', 'unknown')),
    phone_e164   TEXT,
    email        TEXT,
    time_zone    TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX patients_family_name ON patients(family_name);

CREATE TABLE conditions (
    id            INTEGER PRIMARY KEY,
    patient_id    INTEGER NOT NULL REFERENCES patients(id),
    icd10cm_code  TEXT NOT NULL,
    display       TEXT NOT NULL,
    onset_date    TEXT NOT NULL,
    diagnosed_by  TEXT NOT NULL,
    diagnosed_on  TEXT NOT NULL
);
CREATE INDEX conditions_patient ON conditions(patient_id);

CREATE TABLE consultations (
    id             INTEGER PRIMARY KEY,
    inquiry_id     INTEGER REFERENCES inquiries(id),
    patient_id     INTEGER REFERENCES patients(id),
    staff_user_id  INTEGER NOT NULL REFERENCES staff_users(id),
    starts_at      INTEGER NOT NULL,
    minutes        INTEGER NOT NULL DEFAULT 15,
    status         TEXT NOT NULL CHECK (status IN ('booked', 'held', 'no-show', 'cancelled')),
    note           TEXT NOT NULL DEFAULT ''
);
CREATE INDEX consultations_starts ON consultations(starts_at);

-- Patient-reported scores and vital signs, coded (LOINC or a local code).
CREATE TABLE observations (
    id          INTEGER PRIMARY KEY,
    patient_id  INTEGER NOT NULL REFERENCES patients(id),
    observed_at INTEGER NOT NULL,
    code_system TEXT NOT NULL,
    code        TEXT NOT NULL,
    display     TEXT NOT NULL,
    value       REAL NOT NULL,
    unit        TEXT NOT NULL
);
CREATE INDEX observations_patient_time ON observations(patient_id, observed_at);

CREATE TABLE infusion_sessions (
    id           INTEGER PRIMARY KEY,
    patient_id   INTEGER NOT NULL REFERENCES patients(id),
    started_at   INTEGER NOT NULL,
    protocol     TEXT NOT NULL,
    total_mg     REAL NOT NULL,
    minutes      INTEGER NOT NULL
);
CREATE INDEX infusion_sessions_patient ON infusion_sessions(patient_id, started_at);

-- The audit trail: append-only and hash-chained (each entry's hash covers the
-- previous entry's hash), so a changed or removed row breaks the chain.
CREATE TABLE audit_log (
    seq            INTEGER PRIMARY KEY,
    at             INTEGER NOT NULL,
    actor          TEXT NOT NULL,
    actor_role     TEXT NOT NULL,
    action         TEXT NOT NULL,
    resource_type  TEXT NOT NULL,
    resource_id    TEXT NOT NULL,
    source_address TEXT NOT NULL,
    outcome        TEXT NOT NULL,
    prev_hash      TEXT NOT NULL,
    hash           TEXT NOT NULL UNIQUE
);
CREATE INDEX audit_log_at ON audit_log(at);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
