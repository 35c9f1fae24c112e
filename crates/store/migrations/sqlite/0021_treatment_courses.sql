-- One summary per treated patient for the clinic-wide results (SPEC §1 step
-- 6; docs/outcomes.md, "Scale"): respite-clinical's assessment of the course
-- (outcomes::assess_course) with the facts it was judged from, so that the
-- page reads one row per patient instead of every pain report. Only facts
-- that do not depend on the time of reading are kept: durability is censored
-- at the last report, never at "now".
CREATE TABLE treatment_courses (
    patient_id           BIGINT NOT NULL PRIMARY KEY REFERENCES patients(id),
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
    baseline             REAL,
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
-- from course_refresh_clock (SQLite has no sequences), so a mark removed and
-- made again never reuses a value.
CREATE TABLE course_refresh (
    patient_id BIGINT NOT NULL PRIMARY KEY,
    seq        BIGINT NOT NULL
);
CREATE TABLE course_refresh_clock (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL
);
INSERT INTO course_refresh_clock (id, seq) VALUES (1, 0);

-- Pain: LOINC 72514-3 (shared/clinical/instruments.md) in observations and
-- questionnaire scores; sessions and diagnoses: every change.
CREATE TRIGGER observations_course_insert AFTER INSERT ON observations
WHEN NEW.code_system = 'http://loinc.org' AND NEW.code = '72514-3'
BEGIN
    UPDATE course_refresh_clock SET seq = seq + 1 WHERE id = 1;
    INSERT INTO course_refresh (patient_id, seq)
    VALUES (NEW.patient_id, (SELECT seq FROM course_refresh_clock WHERE id = 1))
    ON CONFLICT (patient_id) DO UPDATE SET seq = excluded.seq;
END;
CREATE TRIGGER observations_course_update_new AFTER UPDATE ON observations
WHEN NEW.code_system = 'http://loinc.org' AND NEW.code = '72514-3'
BEGIN
    UPDATE course_refresh_clock SET seq = seq + 1 WHERE id = 1;
    INSERT INTO course_refresh (patient_id, seq)
    VALUES (NEW.patient_id, (SELECT seq FROM course_refresh_clock WHERE id = 1))
    ON CONFLICT (patient_id) DO UPDATE SET seq = excluded.seq;
END;
CREATE TRIGGER observations_course_update_old AFTER UPDATE ON observations
WHEN OLD.code_system = 'http://loinc.org' AND OLD.code = '72514-3'
BEGIN
    UPDATE course_refresh_clock SET seq = seq + 1 WHERE id = 1;
    INSERT INTO course_refresh (patient_id, seq)
    VALUES (OLD.patient_id, (SELECT seq FROM course_refresh_clock WHERE id = 1))
    ON CONFLICT (patient_id) DO UPDATE SET seq = excluded.seq;
END;
CREATE TRIGGER observations_course_delete AFTER DELETE ON observations
WHEN OLD.code_system = 'http://loinc.org' AND OLD.code = '72514-3'
BEGIN
    UPDATE course_refresh_clock SET seq = seq + 1 WHERE id = 1;
    INSERT INTO course_refresh (patient_id, seq)
    VALUES (OLD.patient_id, (SELECT seq FROM course_refresh_clock WHERE id = 1))
    ON CONFLICT (patient_id) DO UPDATE SET seq = excluded.seq;
END;

CREATE TRIGGER score_observations_course_insert AFTER INSERT ON score_observations
WHEN NEW.code_system = 'http://loinc.org' AND NEW.code = '72514-3'
BEGIN
    UPDATE course_refresh_clock SET seq = seq + 1 WHERE id = 1;
    INSERT INTO course_refresh (patient_id, seq)
    VALUES (NEW.patient_id, (SELECT seq FROM course_refresh_clock WHERE id = 1))
    ON CONFLICT (patient_id) DO UPDATE SET seq = excluded.seq;
END;
CREATE TRIGGER score_observations_course_update_new AFTER UPDATE ON score_observations
WHEN NEW.code_system = 'http://loinc.org' AND NEW.code = '72514-3'
BEGIN
    UPDATE course_refresh_clock SET seq = seq + 1 WHERE id = 1;
    INSERT INTO course_refresh (patient_id, seq)
    VALUES (NEW.patient_id, (SELECT seq FROM course_refresh_clock WHERE id = 1))
    ON CONFLICT (patient_id) DO UPDATE SET seq = excluded.seq;
END;
CREATE TRIGGER score_observations_course_update_old AFTER UPDATE ON score_observations
WHEN OLD.code_system = 'http://loinc.org' AND OLD.code = '72514-3'
BEGIN
    UPDATE course_refresh_clock SET seq = seq + 1 WHERE id = 1;
    INSERT INTO course_refresh (patient_id, seq)
    VALUES (OLD.patient_id, (SELECT seq FROM course_refresh_clock WHERE id = 1))
    ON CONFLICT (patient_id) DO UPDATE SET seq = excluded.seq;
END;
CREATE TRIGGER score_observations_course_delete AFTER DELETE ON score_observations
WHEN OLD.code_system = 'http://loinc.org' AND OLD.code = '72514-3'
BEGIN
    UPDATE course_refresh_clock SET seq = seq + 1 WHERE id = 1;
    INSERT INTO course_refresh (patient_id, seq)
    VALUES (OLD.patient_id, (SELECT seq FROM course_refresh_clock WHERE id = 1))
    ON CONFLICT (patient_id) DO UPDATE SET seq = excluded.seq;
END;

CREATE TRIGGER infusion_sessions_course_insert AFTER INSERT ON infusion_sessions
BEGIN
    UPDATE course_refresh_clock SET seq = seq + 1 WHERE id = 1;
    INSERT INTO course_refresh (patient_id, seq)
    VALUES (NEW.patient_id, (SELECT seq FROM course_refresh_clock WHERE id = 1))
    ON CONFLICT (patient_id) DO UPDATE SET seq = excluded.seq;
END;
CREATE TRIGGER infusion_sessions_course_update_new AFTER UPDATE ON infusion_sessions
BEGIN
    UPDATE course_refresh_clock SET seq = seq + 1 WHERE id = 1;
    INSERT INTO course_refresh (patient_id, seq)
    VALUES (NEW.patient_id, (SELECT seq FROM course_refresh_clock WHERE id = 1))
    ON CONFLICT (patient_id) DO UPDATE SET seq = excluded.seq;
END;
CREATE TRIGGER infusion_sessions_course_update_old AFTER UPDATE ON infusion_sessions
BEGIN
    UPDATE course_refresh_clock SET seq = seq + 1 WHERE id = 1;
    INSERT INTO course_refresh (patient_id, seq)
    VALUES (OLD.patient_id, (SELECT seq FROM course_refresh_clock WHERE id = 1))
    ON CONFLICT (patient_id) DO UPDATE SET seq = excluded.seq;
END;
CREATE TRIGGER infusion_sessions_course_delete AFTER DELETE ON infusion_sessions
BEGIN
    UPDATE course_refresh_clock SET seq = seq + 1 WHERE id = 1;
    INSERT INTO course_refresh (patient_id, seq)
    VALUES (OLD.patient_id, (SELECT seq FROM course_refresh_clock WHERE id = 1))
    ON CONFLICT (patient_id) DO UPDATE SET seq = excluded.seq;
END;

CREATE TRIGGER conditions_course_insert AFTER INSERT ON conditions
BEGIN
    UPDATE course_refresh_clock SET seq = seq + 1 WHERE id = 1;
    INSERT INTO course_refresh (patient_id, seq)
    VALUES (NEW.patient_id, (SELECT seq FROM course_refresh_clock WHERE id = 1))
    ON CONFLICT (patient_id) DO UPDATE SET seq = excluded.seq;
END;
CREATE TRIGGER conditions_course_update_new AFTER UPDATE ON conditions
BEGIN
    UPDATE course_refresh_clock SET seq = seq + 1 WHERE id = 1;
    INSERT INTO course_refresh (patient_id, seq)
    VALUES (NEW.patient_id, (SELECT seq FROM course_refresh_clock WHERE id = 1))
    ON CONFLICT (patient_id) DO UPDATE SET seq = excluded.seq;
END;
CREATE TRIGGER conditions_course_update_old AFTER UPDATE ON conditions
BEGIN
    UPDATE course_refresh_clock SET seq = seq + 1 WHERE id = 1;
    INSERT INTO course_refresh (patient_id, seq)
    VALUES (OLD.patient_id, (SELECT seq FROM course_refresh_clock WHERE id = 1))
    ON CONFLICT (patient_id) DO UPDATE SET seq = excluded.seq;
END;
CREATE TRIGGER conditions_course_delete AFTER DELETE ON conditions
BEGIN
    UPDATE course_refresh_clock SET seq = seq + 1 WHERE id = 1;
    INSERT INTO course_refresh (patient_id, seq)
    VALUES (OLD.patient_id, (SELECT seq FROM course_refresh_clock WHERE id = 1))
    ON CONFLICT (patient_id) DO UPDATE SET seq = excluded.seq;
END;

-- Every patient treated before this migration: computed on the first read.
UPDATE course_refresh_clock SET seq = seq + 1 WHERE id = 1;
INSERT INTO course_refresh (patient_id, seq)
SELECT DISTINCT patient_id, (SELECT seq FROM course_refresh_clock WHERE id = 1)
FROM infusion_sessions;
