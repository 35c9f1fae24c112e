-- The chart holds what screening needs (SPEC §1.3; shared/clinical/screening.md):
-- problems with their codes and who diagnosed them, medications current and
-- past (the conventional treatments tried), allergies, vital signs, the
-- contraindication review, pre-infusion risks and documents. Every entry
-- says who entered it (staff user) and when (Unix ms); a wrong problem,
-- medication, allergy or document is never deleted but marked entered in
-- error (when, by whom, why) and leaves what the chart shows and screening
-- reads. Dates that describe the clinical fact are ISO text (YYYY-MM-DD).
-- Codes are kebab-case text.

-- The clinic's ICD-10-CM table (shared/clinical/codes.md): a problem's code
-- must be in it. ICD-10-CM changes every 1 October, so each row names its
-- release, and a clinic can add rows. verification: checked | to-check.
CREATE TABLE condition_codes (
    code            TEXT NOT NULL PRIMARY KEY,
    display         TEXT NOT NULL,
    snomed_ct       TEXT,
    system_version  TEXT NOT NULL,
    verification    TEXT NOT NULL CHECK (verification IN ('checked', 'to-check'))
);
INSERT INTO condition_codes (code, display, snomed_ct, system_version, verification) VALUES
    ('M54.50', 'Low back pain, unspecified', '279039007', 'ICD-10-CM FY2025', 'checked'),
    ('M54.51', 'Vertebrogenic low back pain', '279039007', 'ICD-10-CM FY2025', 'checked'),
    ('M54.59', 'Other low back pain', '279039007', 'ICD-10-CM FY2025', 'checked'),
    ('M51.360', 'Other intervertebral disc degeneration, lumbar region with discogenic back pain only', '77547008', 'ICD-10-CM FY2025', 'checked'),
    ('M51.370', 'Other intervertebral disc degeneration, lumbosacral region with discogenic back pain only', '77547008', 'ICD-10-CM FY2025', 'checked'),
    ('M41.9', 'Scoliosis, unspecified', '298382003', 'ICD-10-CM FY2025', 'to-check'),
    ('G44.221', 'Chronic tension-type headache, intractable', '398057008', 'ICD-10-CM FY2025', 'checked'),
    ('G44.229', 'Chronic tension-type headache, not intractable', '398057008', 'ICD-10-CM FY2025', 'to-check'),
    ('H53.149', 'Visual discomfort, unspecified', NULL, 'ICD-10-CM FY2025', 'to-check'),
    ('G43.709', 'Chronic migraine without aura, not intractable, without status migrainosus', '37796009', 'ICD-10-CM FY2025', 'to-check'),
    ('G43.719', 'Chronic migraine without aura, intractable, without status migrainosus', '37796009', 'ICD-10-CM FY2025', 'to-check'),
    ('G44.001', 'Cluster headache syndrome, unspecified, intractable', '193031009', 'ICD-10-CM FY2025', 'checked'),
    ('G44.009', 'Cluster headache syndrome, unspecified, not intractable', '193031009', 'ICD-10-CM FY2025', 'checked'),
    ('G44.011', 'Episodic cluster headache, intractable', '193031009', 'ICD-10-CM FY2025', 'checked'),
    ('G44.019', 'Episodic cluster headache, not intractable', '193031009', 'ICD-10-CM FY2025', 'checked'),
    ('G44.021', 'Chronic cluster headache, intractable', '193031009', 'ICD-10-CM FY2025', 'checked'),
    ('G44.029', 'Chronic cluster headache, not intractable', '193031009', 'ICD-10-CM FY2025', 'checked'),
    ('M16.9', 'Osteoarthritis of hip, unspecified', '396275006', 'ICD-10-CM FY2025', 'to-check'),
    ('M17.9', 'Osteoarthritis of knee, unspecified', '396275006', 'ICD-10-CM FY2025', 'to-check'),
    ('M19.90', 'Unspecified osteoarthritis, unspecified site', '396275006', 'ICD-10-CM FY2025', 'to-check'),
    ('M06.9', 'Rheumatoid arthritis, unspecified', '69896004', 'ICD-10-CM FY2025', 'to-check'),
    ('M70.90', 'Unspecified soft tissue disorder related to use, overuse and pressure of unspecified site', NULL, 'ICD-10-CM FY2025', 'to-check'),
    ('S83.511S', 'Sprain of anterior cruciate ligament of right knee, sequela', NULL, 'ICD-10-CM FY2025', 'to-check'),
    ('M79.7', 'Fibromyalgia', '203082005', 'ICD-10-CM FY2025', 'checked'),
    ('N80.109', 'Endometriosis of ovary, unspecified', '129103003', 'ICD-10-CM FY2025', 'checked'),
    ('N80.9', 'Endometriosis, unspecified', '129103003', 'ICD-10-CM FY2025', 'checked'),
    ('G90.50', 'Complex regional pain syndrome I, unspecified', '128200000', 'ICD-10-CM FY2025', 'checked'),
    ('G90.511', 'Complex regional pain syndrome I of right upper limb', '128200000', 'ICD-10-CM FY2025', 'checked'),
    ('G90.512', 'Complex regional pain syndrome I of left upper limb', '128200000', 'ICD-10-CM FY2025', 'checked'),
    ('G90.513', 'Complex regional pain syndrome I of upper limb, bilateral', '128200000', 'ICD-10-CM FY2025', 'checked'),
    ('G90.519', 'Complex regional pain syndrome I of unspecified upper limb', '128200000', 'ICD-10-CM FY2025', 'checked'),
    ('G90.521', 'Complex regional pain syndrome I of right lower limb', '128200000', 'ICD-10-CM FY2025', 'checked'),
    ('G90.522', 'Complex regional pain syndrome I of left lower limb', '128200000', 'ICD-10-CM FY2025', 'checked'),
    ('G90.523', 'Complex regional pain syndrome I of lower limb, bilateral', '128200000', 'ICD-10-CM FY2025', 'checked'),
    ('G90.529', 'Complex regional pain syndrome I of unspecified lower limb', '128200000', 'ICD-10-CM FY2025', 'checked'),
    ('G90.59', 'Complex regional pain syndrome I of other specified site', '128200000', 'ICD-10-CM FY2025', 'checked'),
    ('G89.21', 'Chronic pain due to trauma', '82423001', 'ICD-10-CM FY2025', 'checked'),
    ('G89.29', 'Other chronic pain', '82423001', 'ICD-10-CM FY2025', 'checked'),
    ('G89.4', 'Chronic pain syndrome', '82423001', 'ICD-10-CM FY2025', 'checked');

-- Problems: the existing conditions table grows the screening's facts.
-- diagnosed_by_qualification: physician | nurse-practitioner |
-- physician-assistant | other (then qualification_other says which) | ''
-- (not recorded: conditions made from a consultation note).
ALTER TABLE conditions ADD COLUMN snomed_ct TEXT;
ALTER TABLE conditions ADD COLUMN code_system_version TEXT NOT NULL DEFAULT '';
ALTER TABLE conditions ADD COLUMN diagnosed_by_qualification TEXT NOT NULL DEFAULT '';
ALTER TABLE conditions ADD COLUMN qualification_other TEXT NOT NULL DEFAULT '';
ALTER TABLE conditions ADD COLUMN recorded_on TEXT NOT NULL DEFAULT '';
ALTER TABLE conditions ADD COLUMN entered_by_user_id INTEGER REFERENCES staff_users(id);
ALTER TABLE conditions ADD COLUMN entered_at INTEGER;
ALTER TABLE conditions ADD COLUMN entered_in_error_at INTEGER;
ALTER TABLE conditions ADD COLUMN entered_in_error_by_user_id INTEGER REFERENCES staff_users(id);
ALTER TABLE conditions ADD COLUMN entered_in_error_reason TEXT NOT NULL DEFAULT '';

-- Medications and other treatments, current and past. A row with a
-- treatment_class is a pain treatment (conventional care tried: class,
-- how long, why stopped). rxnorm_code is as entered (a product or an
-- ingredient); rxnorm_ingredient is the ingredient it maps to
-- (screening.md: products map to their ingredient before matching).
-- Duration: stopped_on - started_on, or tried_for_days when dates are
-- not known. recorded_on: the date the information is from.
CREATE TABLE medications (
    id                  INTEGER PRIMARY KEY,
    patient_id          INTEGER NOT NULL REFERENCES patients(id),
    name                TEXT NOT NULL,
    rxnorm_code         TEXT,
    rxnorm_ingredient   TEXT,
    dose                TEXT NOT NULL DEFAULT '',
    started_on          TEXT,
    stopped_on          TEXT,
    tried_for_days      INTEGER CHECK (tried_for_days > 0),
    treatment_class     TEXT,
    stop_reason         TEXT CHECK (stop_reason IN ('ineffective', 'not-tolerated', 'tolerance', 'other')),
    stop_reason_note    TEXT NOT NULL DEFAULT '',
    recorded_on         TEXT NOT NULL,
    entered_by_user_id  INTEGER REFERENCES staff_users(id),
    entered_at          INTEGER NOT NULL,
    entered_in_error_at         INTEGER,
    entered_in_error_by_user_id INTEGER REFERENCES staff_users(id),
    entered_in_error_reason     TEXT NOT NULL DEFAULT '',
    CHECK (started_on IS NULL OR stopped_on IS NULL OR started_on <= stopped_on)
);
CREATE INDEX medications_patient ON medications(patient_id);

-- Allergies and intolerances (FHIR AllergyIntolerance's type, category and
-- criticality). A ketamine allergy is the label's absolute contraindication.
CREATE TABLE allergies (
    id                  INTEGER PRIMARY KEY,
    patient_id          INTEGER NOT NULL REFERENCES patients(id),
    substance           TEXT NOT NULL,
    rxnorm_code         TEXT,
    rxnorm_ingredient   TEXT,
    kind                TEXT NOT NULL CHECK (kind IN ('allergy', 'intolerance')),
    category            TEXT NOT NULL CHECK (category IN ('medication', 'food', 'environment', 'biologic')),
    criticality         TEXT NOT NULL CHECK (criticality IN ('low', 'high', 'unable-to-assess')),
    reaction            TEXT NOT NULL DEFAULT '',
    recorded_on         TEXT NOT NULL,
    entered_by_user_id  INTEGER REFERENCES staff_users(id),
    entered_at          INTEGER NOT NULL,
    entered_in_error_at         INTEGER,
    entered_in_error_by_user_id INTEGER REFERENCES staff_users(id),
    entered_in_error_reason     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX allergies_patient ON allergies(patient_id);

-- "Reviewed, nothing to add" for a list (e.g. no known allergies): the
-- list is current from reviewed_on. list: medications | allergies | problems.
CREATE TABLE chart_list_reviews (
    id                  INTEGER PRIMARY KEY,
    patient_id          INTEGER NOT NULL REFERENCES patients(id),
    list                TEXT NOT NULL CHECK (list IN ('medications', 'allergies', 'problems')),
    reviewed_on         TEXT NOT NULL,
    entered_by_user_id  INTEGER REFERENCES staff_users(id),
    entered_at          INTEGER NOT NULL
);
CREATE INDEX chart_list_reviews_patient ON chart_list_reviews(patient_id, list);

-- Vital signs, weight and height stay in observations (LOINC codes,
-- UCUM units; shared/clinical/codes.md); entries now say who entered them.
ALTER TABLE observations ADD COLUMN entered_by_user_id INTEGER REFERENCES staff_users(id);
ALTER TABLE observations ADD COLUMN entered_at INTEGER;

-- The contraindication review: every contraindication of screening.md
-- considered on reviewed_on, each present or not. The newest review counts.
CREATE TABLE contraindication_reviews (
    id                  INTEGER PRIMARY KEY,
    patient_id          INTEGER NOT NULL REFERENCES patients(id),
    reviewed_on         TEXT NOT NULL,
    note                TEXT NOT NULL DEFAULT '',
    entered_by_user_id  INTEGER REFERENCES staff_users(id),
    entered_at          INTEGER NOT NULL
);
CREATE INDEX contraindication_reviews_patient ON contraindication_reviews(patient_id);
CREATE TABLE contraindication_review_findings (
    review_id         INTEGER NOT NULL REFERENCES contraindication_reviews(id),
    contraindication  TEXT NOT NULL,
    present           INTEGER NOT NULL CHECK (present IN (0, 1)),
    PRIMARY KEY (review_id, contraindication)
);

-- Pre-infusion risks that make an ECG or liver tests required (Cohen
-- 2018). The newest assessment counts.
CREATE TABLE pre_infusion_risk_assessments (
    id                      INTEGER PRIMARY KEY,
    patient_id              INTEGER NOT NULL REFERENCES patients(id),
    assessed_on             TEXT NOT NULL,
    cardiovascular_risk     INTEGER NOT NULL CHECK (cardiovascular_risk IN (0, 1)),
    liver_risk              INTEGER NOT NULL CHECK (liver_risk IN (0, 1)),
    high_dose_frequent      INTEGER NOT NULL CHECK (high_dose_frequent IN (0, 1)),
    note                    TEXT NOT NULL DEFAULT '',
    entered_by_user_id      INTEGER REFERENCES staff_users(id),
    entered_at              INTEGER NOT NULL
);
CREATE INDEX pre_infusion_risk_assessments_patient ON pre_infusion_risk_assessments(patient_id);

-- Documents: the referral letter, outside records, ECG and liver test
-- reports. The content is stored here so that backups hold it; its type
-- was checked by its first bytes, not by its name.
CREATE TABLE chart_documents (
    id                  INTEGER PRIMARY KEY,
    patient_id          INTEGER NOT NULL REFERENCES patients(id),
    kind                TEXT NOT NULL CHECK (kind IN ('referral-letter', 'outside-records', 'ecg', 'liver-function-tests', 'other')),
    document_date       TEXT NOT NULL,
    title               TEXT NOT NULL,
    author              TEXT NOT NULL DEFAULT '',
    file_name           TEXT NOT NULL,
    media_type          TEXT NOT NULL CHECK (media_type IN ('application/pdf', 'image/png', 'image/jpeg')),
    size_bytes          INTEGER NOT NULL,
    sha256              TEXT NOT NULL,
    content             BLOB NOT NULL,
    entered_by_user_id  INTEGER REFERENCES staff_users(id),
    entered_at          INTEGER NOT NULL,
    entered_in_error_at         INTEGER,
    entered_in_error_by_user_id INTEGER REFERENCES staff_users(id),
    entered_in_error_reason     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX chart_documents_patient ON chart_documents(patient_id);

-- The clinic's screening settings (screening.md: "a clinic may change them;
-- the setting and who changed it are audited"). One row.
CREATE TABLE screening_settings (
    id                            INTEGER PRIMARY KEY CHECK (id = 1),
    minimum_conventional_classes  INTEGER NOT NULL CHECK (minimum_conventional_classes BETWEEN 1 AND 10),
    max_upload_bytes              INTEGER NOT NULL CHECK (max_upload_bytes > 0),
    updated_by_user_id            INTEGER REFERENCES staff_users(id),
    updated_at                    INTEGER
);
-- Defaults: 2 classes (screening.md, ours); uploads up to 10 MiB (ours).
INSERT INTO screening_settings (id, minimum_conventional_classes, max_upload_bytes) VALUES (1, 2, 10485760);

-- Freshness window per record kind (defaults ours, screening.md "Record freshness").
CREATE TABLE screening_record_windows (
    record_kind  TEXT NOT NULL PRIMARY KEY,
    amount       INTEGER NOT NULL CHECK (amount > 0),
    unit         TEXT NOT NULL CHECK (unit IN ('days', 'months'))
);
INSERT INTO screening_record_windows (record_kind, amount, unit) VALUES
    ('medication-list', 90, 'days'),
    ('allergies', 365, 'days'),
    ('problem-list', 365, 'days'),
    ('vital-signs', 30, 'days'),
    ('diagnosis-letter', 12, 'months'),
    ('ecg', 12, 'months'),
    ('liver-function-tests', 90, 'days');

-- The tier of each contraindication (screening.md, "Contraindications").
CREATE TABLE screening_contraindication_tiers (
    contraindication  TEXT NOT NULL PRIMARY KEY,
    tier              TEXT NOT NULL CHECK (tier IN ('absolute', 'not-eligible-unless-overridden', 'refer-for-review'))
);
INSERT INTO screening_contraindication_tiers (contraindication, tier) VALUES
    ('poorly-controlled-cardiovascular-disease', 'not-eligible-unless-overridden'),
    ('pregnancy', 'not-eligible-unless-overridden'),
    ('active-psychosis', 'not-eligible-unless-overridden'),
    ('severe-hepatic-disease', 'not-eligible-unless-overridden'),
    ('moderate-hepatic-disease', 'refer-for-review'),
    ('elevated-intracranial-pressure', 'refer-for-review'),
    ('elevated-intraocular-pressure', 'refer-for-review'),
    ('active-substance-abuse', 'refer-for-review'),
    ('ketamine-hypersensitivity', 'absolute'),
    ('significant-blood-pressure-rise-hazard', 'not-eligible-unless-overridden');
