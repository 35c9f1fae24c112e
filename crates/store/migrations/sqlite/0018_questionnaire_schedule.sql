-- Questionnaires on schedule (SPEC §1 step 6): an assignment the schedule
-- made names its timepoint (respite-clinical's Timepoint::key, e.g.
-- `baseline`, `infusion:2026-03-02`, `series:2026-03-06:day:7`), the day
-- it is due and the first day it no longer counts. One timepoint of one
-- instrument is assigned once per patient: the unique index is the claim,
-- so two servers running the schedule job insert it once.
ALTER TABLE questionnaire_assignments ADD COLUMN timepoint TEXT;
ALTER TABLE questionnaire_assignments ADD COLUMN due_on TEXT;
ALTER TABLE questionnaire_assignments ADD COLUMN closes_on TEXT;
CREATE UNIQUE INDEX questionnaire_assignments_timepoint
    ON questionnaire_assignments(patient_id, instrument, timepoint)
    WHERE timepoint IS NOT NULL;

-- The clinic's licence of an instrument whose wording is licensed (BPI,
-- ODI, HIT-6, FIQR; shared/clinical/instruments.md "Licensing"): without a
-- row here the schedule does not assign the instrument.
CREATE TABLE questionnaire_licences (
    instrument  TEXT NOT NULL PRIMARY KEY,
    holder      TEXT NOT NULL,
    terms       TEXT NOT NULL,
    licensed_on TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at INTEGER NOT NULL
);
