-- Best-time callbacks and the consultation record (issue 5, items 2 and 4).
-- 0002 belongs to the messaging channels; this file only adds.

-- Each call (or other) attempt to reach a person, and what came of it.
CREATE TABLE contact_attempts (
    id                INTEGER PRIMARY KEY,
    inquiry_id        INTEGER NOT NULL REFERENCES inquiries(id),
    callback_task_id  INTEGER REFERENCES callback_tasks(id),
    staff_user_id     INTEGER NOT NULL REFERENCES staff_users(id),
    at                INTEGER NOT NULL,
    outcome           TEXT NOT NULL
        CHECK (outcome IN ('reached', 'no-answer', 'left-voicemail', 'wrong-number', 'asked-to-stop')),
    note              TEXT NOT NULL DEFAULT ''
);
CREATE INDEX contact_attempts_inquiry ON contact_attempts(inquiry_id, at);
CREATE INDEX contact_attempts_task ON contact_attempts(callback_task_id, at);

-- The structured note of the free phone consultation: the person's own
-- account. Treatments are one per line, "treatment: why it stopped".
CREATE TABLE consultation_notes (
    id                    INTEGER PRIMARY KEY,
    inquiry_id            INTEGER NOT NULL REFERENCES inquiries(id),
    author_user_id        INTEGER NOT NULL REFERENCES staff_users(id),
    at                    INTEGER NOT NULL,
    pain_location         TEXT NOT NULL,
    pain_duration_amount  INTEGER NOT NULL CHECK (pain_duration_amount > 0),
    pain_duration_unit    TEXT NOT NULL CHECK (pain_duration_unit IN ('weeks', 'months', 'years')),
    diagnosis             TEXT,
    diagnosed_by          TEXT,
    diagnosed_on          TEXT,
    icd10cm_code          TEXT,
    treatments_tried      TEXT NOT NULL DEFAULT '',
    hopes                 TEXT NOT NULL DEFAULT '',
    red_flags             TEXT NOT NULL DEFAULT '',
    next_step             TEXT NOT NULL
        CHECK (next_step IN ('send-records-request', 'book-screening-visit', 'not-a-candidate')),
    not_candidate_reason  TEXT,
    CHECK ((next_step = 'not-a-candidate') = (not_candidate_reason IS NOT NULL)),
    CHECK ((diagnosis IS NULL) = (diagnosed_by IS NULL))
);
CREATE INDEX consultation_notes_inquiry ON consultation_notes(inquiry_id, at);

-- A condition carried over from a consultation: its onset is estimated from
-- the stated duration (1), not a recorded date (0). Its code may be empty
-- ('') until a clinician codes it.
ALTER TABLE conditions ADD COLUMN onset_estimated INTEGER NOT NULL DEFAULT 0;

-- One chart per inquiry, at most.
CREATE UNIQUE INDEX inquiries_patient ON inquiries(patient_id);
