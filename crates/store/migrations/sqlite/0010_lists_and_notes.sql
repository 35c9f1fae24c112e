-- Lists that page, and the consultation note split and versioned.

-- Keyset pagination (docs/ARCHITECTURE.md, "Lists"): each list's order has an
-- index that ends in the row's id, so "the rows after this one" is a range of
-- one index on both engines, never an OFFSET that shifts under inserts.
CREATE INDEX patients_name_order ON patients(family_name, given_name, id);
CREATE INDEX inquiries_status_order ON inquiries(status, received_at, id);
-- The audit page filters by who and by resource, newest first.
CREATE INDEX audit_log_actor_seq ON audit_log(actor, seq);
CREATE INDEX audit_log_resource_seq ON audit_log(resource_type, seq);
-- Patients found by condition code (a prefix such as M54 or G90.5).
CREATE INDEX conditions_code ON conditions(icd10cm_code, patient_id);

-- The clinical note (SPEC §2: nurses and clinicians) is versioned: an edit adds
-- version n + 1 and every earlier version stays readable. Notes written before
-- this migration are numbered in the order they were written.
ALTER TABLE consultation_notes ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
UPDATE consultation_notes SET version = (
    SELECT COUNT(*) FROM consultation_notes n
    WHERE n.inquiry_id = consultation_notes.inquiry_id
      AND (n.at < consultation_notes.at
           OR (n.at = consultation_notes.at AND n.id <= consultation_notes.id)));
CREATE UNIQUE INDEX consultation_notes_version ON consultation_notes(inquiry_id, version);

-- The front desk's record of the consultation call (SPEC §2: contact data, no
-- clinical notes): whether the person was reached, whether a visit was booked
-- on the call, and what the person asked. Versioned like the clinical note.
CREATE TABLE consultation_calls (
    id              INTEGER PRIMARY KEY,
    inquiry_id      INTEGER NOT NULL REFERENCES inquiries(id),
    version         INTEGER NOT NULL CHECK (version > 0),
    author_user_id  INTEGER NOT NULL REFERENCES staff_users(id),
    at              INTEGER NOT NULL,
    reached         INTEGER NOT NULL CHECK (reached IN (0, 1)),
    booked          INTEGER NOT NULL CHECK (booked IN (0, 1)),
    asked           TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX consultation_calls_version ON consultation_calls(inquiry_id, version);
