-- One summary per treated patient for the clinic-wide results (SPEC §1 step
-- 6; docs/outcomes.md, "Scale"): respite-clinical's assessment of the course
-- (outcomes::assess_course) with the facts it was judged from, so that the
-- page reads one row per patient instead of every pain report. Only facts
-- that do not depend on the time of reading are kept: durability is censored
-- at the last report, never at "now".
CREATE TABLE treatment_courses (
    patient_id           BIGINT PRIMARY KEY REFERENCES patients(id),
    first_infusion_at    BIGINT NOT NULL,
    series_end_at        BIGINT NOT NULL,
    -- The protocol of the first infusion.
    protocol             TEXT NOT NULL,
    -- The condition groups of the current diagnoses, one bit each
    -- (store/src/courses.rs, `group_bit`).
    condition_groups     BIGINT NOT NULL,
    -- The baseline window the assessment used (BaselineSettings).
    baseline_window_days BIGINT NOT NULL,
    outcome              TEXT NOT NULL
        CHECK (outcome IN ('no-baseline', 'awaiting-report', 'assessed')),
    baseline             DOUBLE PRECISION,
    -- IMMPACT class of the first report at or after the series end.
    pain_change          TEXT
        CHECK (pain_change IN ('none', 'minimal', 'moderate', 'substantial')),
    durability           TEXT
        CHECK (durability IN ('not-a-responder', 'returned', 'still-relieved')),
    -- Days to the return of pain, or to censoring at the last report.
    durability_days      BIGINT,
    -- First report after the series (not a responder), the first report of
    -- pain back (returned) or the last report (still relieved).
    durability_at        BIGINT,
    -- The second consecutive report that confirmed the return of pain.
    confirmed_at         BIGINT,
    computed_at          BIGINT NOT NULL
);
CREATE INDEX treatment_courses_first_infusion ON treatment_courses(first_infusion_at);

-- Patients whose summary may be out of date. Marked by the triggers below on
-- every write to what a course is read from, whatever code path writes it;
-- the store recomputes a marked patient and removes the mark only if its seq
-- is unchanged, so a write racing the recomputation is never lost. seq comes
-- from a sequence, so a mark removed and made again never reuses a value.
CREATE TABLE course_refresh (
    patient_id BIGINT PRIMARY KEY,
    seq        BIGINT NOT NULL
);
CREATE SEQUENCE course_refresh_seq;

-- Marks the patients of the changed rows (statement-level, set-based: a bulk
-- insert marks each patient once). Pain: LOINC 72514-3
-- (shared/clinical/instruments.md) in observations and questionnaire scores;
-- sessions and diagnoses: every change.
CREATE FUNCTION course_refresh_mark() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        IF TG_TABLE_NAME IN ('observations', 'score_observations') THEN
            INSERT INTO course_refresh (patient_id, seq)
            SELECT p.patient_id, nextval('course_refresh_seq')
            FROM (SELECT DISTINCT patient_id FROM new_rows
                  WHERE code_system = 'http://loinc.org' AND code = '72514-3') p
            ON CONFLICT (patient_id) DO UPDATE SET seq = excluded.seq;
        ELSE
            INSERT INTO course_refresh (patient_id, seq)
            SELECT p.patient_id, nextval('course_refresh_seq')
            FROM (SELECT DISTINCT patient_id FROM new_rows) p
            ON CONFLICT (patient_id) DO UPDATE SET seq = excluded.seq;
        END IF;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        IF TG_TABLE_NAME IN ('observations', 'score_observations') THEN
            INSERT INTO course_refresh (patient_id, seq)
            SELECT p.patient_id, nextval('course_refresh_seq')
            FROM (SELECT DISTINCT patient_id FROM old_rows
                  WHERE code_system = 'http://loinc.org' AND code = '72514-3') p
            ON CONFLICT (patient_id) DO UPDATE SET seq = excluded.seq;
        ELSE
            INSERT INTO course_refresh (patient_id, seq)
            SELECT p.patient_id, nextval('course_refresh_seq')
            FROM (SELECT DISTINCT patient_id FROM old_rows) p
            ON CONFLICT (patient_id) DO UPDATE SET seq = excluded.seq;
        END IF;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER observations_course_insert AFTER INSERT ON observations
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION course_refresh_mark();
CREATE TRIGGER observations_course_update AFTER UPDATE ON observations
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION course_refresh_mark();
CREATE TRIGGER observations_course_delete AFTER DELETE ON observations
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION course_refresh_mark();

CREATE TRIGGER score_observations_course_insert AFTER INSERT ON score_observations
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION course_refresh_mark();
CREATE TRIGGER score_observations_course_update AFTER UPDATE ON score_observations
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION course_refresh_mark();
CREATE TRIGGER score_observations_course_delete AFTER DELETE ON score_observations
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION course_refresh_mark();

CREATE TRIGGER infusion_sessions_course_insert AFTER INSERT ON infusion_sessions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION course_refresh_mark();
CREATE TRIGGER infusion_sessions_course_update AFTER UPDATE ON infusion_sessions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION course_refresh_mark();
CREATE TRIGGER infusion_sessions_course_delete AFTER DELETE ON infusion_sessions
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION course_refresh_mark();

CREATE TRIGGER conditions_course_insert AFTER INSERT ON conditions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION course_refresh_mark();
CREATE TRIGGER conditions_course_update AFTER UPDATE ON conditions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION course_refresh_mark();
CREATE TRIGGER conditions_course_delete AFTER DELETE ON conditions
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION course_refresh_mark();

-- Every patient treated before this migration: computed on the first read.
INSERT INTO course_refresh (patient_id, seq)
SELECT p.patient_id, nextval('course_refresh_seq')
FROM (SELECT DISTINCT patient_id FROM infusion_sessions) p;
