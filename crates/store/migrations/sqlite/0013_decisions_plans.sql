-- The clinician's screening decision, records requests to the diagnosing
-- physician, and the multimodal treatment plan (SPEC §1 steps 3 and 4).
-- Times are Unix milliseconds; calendar dates ISO 8601 text.

-- A signed decision; the newest per patient is the one in force. The facts
-- fingerprint is the screening facts' at signing: when the chart's facts
-- differ, the decision is out of date.
CREATE TABLE screening_decisions (
    id                INTEGER PRIMARY KEY,
    patient_id        INTEGER NOT NULL REFERENCES patients(id),
    outcome           TEXT NOT NULL CHECK (outcome IN ('eligible', 'not-eligible', 'deferred')),
    reason            TEXT NOT NULL,
    engine_verdict    TEXT NOT NULL,
    facts_fingerprint TEXT NOT NULL,
    signed_by         INTEGER NOT NULL REFERENCES staff_users(id),
    signed_at         INTEGER NOT NULL
);
CREATE INDEX screening_decisions_patient ON screening_decisions(patient_id, signed_at);

-- A contraindication the decision overrides, with the clinician's reason.
CREATE TABLE screening_decision_overrides (
    id                INTEGER PRIMARY KEY,
    decision_id       INTEGER NOT NULL REFERENCES screening_decisions(id),
    contraindication  TEXT NOT NULL,
    tier              TEXT NOT NULL,
    reason            TEXT NOT NULL
);
CREATE INDEX screening_decision_overrides_decision ON screening_decision_overrides(decision_id);

-- A letter asking the diagnosing physician for what screening lacks; the
-- items are the letter's lines as sent.
CREATE TABLE records_requests (
    id                INTEGER PRIMARY KEY,
    patient_id        INTEGER NOT NULL REFERENCES patients(id),
    physician_name    TEXT NOT NULL,
    physician_address TEXT NOT NULL,
    items             TEXT NOT NULL,
    note              TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('requested', 'received')),
    requested_by      INTEGER NOT NULL REFERENCES staff_users(id),
    requested_at      INTEGER NOT NULL,
    received_by       INTEGER REFERENCES staff_users(id),
    received_at       INTEGER
);
CREATE INDEX records_requests_patient ON records_requests(patient_id, requested_at);
CREATE INDEX records_requests_status ON records_requests(status, requested_at);

-- One version of a patient's plan (FHIR CarePlan; the version is its
-- meta.versionId). A change writes a new version; old ones stay readable.
CREATE TABLE treatment_plans (
    id                INTEGER PRIMARY KEY,
    patient_id        INTEGER NOT NULL REFERENCES patients(id),
    version           INTEGER NOT NULL,
    title             TEXT NOT NULL,
    addresses         TEXT NOT NULL,
    note              TEXT NOT NULL,
    review_on         TEXT NOT NULL,
    author_user_id    INTEGER NOT NULL REFERENCES staff_users(id),
    created_at        INTEGER NOT NULL,
    UNIQUE (patient_id, version)
);
CREATE INDEX treatment_plans_review ON treatment_plans(review_on);

-- CarePlan.goal (FHIR Goal): what the plan aims for, with its source.
CREATE TABLE treatment_plan_goals (
    id                INTEGER PRIMARY KEY,
    plan_id           INTEGER NOT NULL REFERENCES treatment_plans(id),
    position          INTEGER NOT NULL,
    template          TEXT NOT NULL,
    description       TEXT NOT NULL,
    measure           TEXT NOT NULL,
    target            TEXT NOT NULL,
    source            TEXT NOT NULL
);
CREATE INDEX treatment_plan_goals_plan ON treatment_plan_goals(plan_id, position);

-- CarePlan.activity.detail: one component of the multimodal plan.
CREATE TABLE treatment_plan_activities (
    id                INTEGER PRIMARY KEY,
    plan_id           INTEGER NOT NULL REFERENCES treatment_plans(id),
    position          INTEGER NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('ketamine-series', 'medication', 'physical',
                          'non-medicinal', 'underlying-condition')),
    status            TEXT NOT NULL CHECK (status IN ('not-started', 'scheduled', 'in-progress',
                          'completed', 'cancelled')),
    description       TEXT NOT NULL,
    protocol_id       TEXT,
    sessions          INTEGER,
    duration          TEXT NOT NULL
);
CREATE INDEX treatment_plan_activities_plan ON treatment_plan_activities(plan_id, position);
