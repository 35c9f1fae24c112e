-- The patient portal (SPEC §1 step 6, §2 patient role): sign-in links,
-- sessions and passwords of patients; questionnaires assigned to a patient,
-- their answers (FHIR QuestionnaireResponse's shape: item linkId + answer)
-- and the score observations derived from them by respite-clinical; and the
-- PHQ-9 item 9 safety alerts clinicians acknowledge.

-- A single-use sign-in link. The invite is made from the chart; the job that
-- sends it makes the token, stores only its SHA-256 here, and starts the
-- expiry. used_at is set once, by the sign-in that spends it.
CREATE TABLE portal_links (
    id          INTEGER PRIMARY KEY,
    patient_id  INTEGER NOT NULL REFERENCES patients(id),
    channel     TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
    created_at  INTEGER NOT NULL,
    created_by  TEXT NOT NULL,
    token_hash  TEXT UNIQUE,
    sent_at     INTEGER,
    expires_at  INTEGER,
    used_at     INTEGER
);
CREATE INDEX portal_links_patient ON portal_links(patient_id);

CREATE TABLE portal_sessions (
    token_hash   TEXT NOT NULL PRIMARY KEY,
    patient_id   INTEGER NOT NULL REFERENCES patients(id),
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
CREATE INDEX portal_sessions_patient ON portal_sessions(patient_id);

-- A password the patient chose after signing in by a link (argon2id).
CREATE TABLE portal_passwords (
    patient_id    INTEGER PRIMARY KEY REFERENCES patients(id),
    password_hash TEXT NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE questionnaire_assignments (
    id           INTEGER PRIMARY KEY,
    patient_id   INTEGER NOT NULL REFERENCES patients(id),
    instrument   TEXT NOT NULL,
    source       TEXT NOT NULL CHECK (source IN ('portal', 'paper')),
    assigned_at  INTEGER NOT NULL,
    assigned_by  TEXT NOT NULL,
    submitted_at INTEGER
);
CREATE INDEX questionnaire_assignments_patient ON questionnaire_assignments(patient_id, assigned_at);

-- One answer per item, saved as it is given (save as you go).
CREATE TABLE questionnaire_answers (
    assignment_id INTEGER NOT NULL REFERENCES questionnaire_assignments(id),
    link_id       TEXT NOT NULL,
    value         INTEGER NOT NULL,
    answered_at   INTEGER NOT NULL,
    PRIMARY KEY (assignment_id, link_id)
);

-- A score of a submitted questionnaire: a LOINC-coded observation (or the
-- instrument's local code), its value or why it has none, and whether the
-- instrument's missing-answer rule was applied.
CREATE TABLE score_observations (
    id            INTEGER PRIMARY KEY,
    assignment_id INTEGER NOT NULL REFERENCES questionnaire_assignments(id),
    patient_id    INTEGER NOT NULL REFERENCES patients(id),
    scale         TEXT NOT NULL,
    code_system   TEXT NOT NULL,
    code          TEXT NOT NULL,
    value         REAL,
    band          TEXT,
    prorated      INTEGER NOT NULL DEFAULT 0,
    missing_items TEXT NOT NULL DEFAULT '',
    rule          TEXT NOT NULL DEFAULT '',
    effective_at  INTEGER NOT NULL
);
CREATE INDEX score_observations_patient ON score_observations(patient_id, effective_at);

-- PHQ-9 item 9 answered 1 or more: a clinician acknowledges it with the
-- action taken before due_at; otherwise it escalates once (escalated_at is
-- claimed by one conditional UPDATE).
CREATE TABLE safety_alerts (
    id              INTEGER PRIMARY KEY,
    patient_id      INTEGER NOT NULL REFERENCES patients(id),
    assignment_id   INTEGER NOT NULL UNIQUE REFERENCES questionnaire_assignments(id),
    answer          INTEGER NOT NULL,
    raised_at       INTEGER NOT NULL,
    due_at          INTEGER NOT NULL,
    acknowledged_at INTEGER,
    acknowledged_by TEXT,
    action_taken    TEXT,
    escalated_at    INTEGER,
    escalation      TEXT
);
CREATE INDEX safety_alerts_open ON safety_alerts(acknowledged_at, raised_at);
