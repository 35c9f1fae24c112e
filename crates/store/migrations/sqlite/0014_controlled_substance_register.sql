-- The controlled-substance register (SPEC §1 step 5): ketamine is DEA
-- Schedule III (21 CFR 1308.13); 21 CFR 1304 asks records of receipt,
-- administration and a biennial inventory (1304.11, 1304.22(c)), kept at
-- least two years. shared/clinical/dosing.md, "Controlled substance (US)".
--
-- Append-only: a correction is a new entry naming the one it corrects. The
-- triggers below refuse UPDATE and DELETE on the register's tables, so that
-- no code path (and no one with a plain SQL prompt who has not dropped them)
-- edits or removes a record. Amounts are whole micrograms (exact sums).

-- The register's one setting (clinic settings, SPEC §2: the administrator's):
-- whether a waste needs a second licensed witness (state and clinic
-- practice; on by default, dosing.md). Until saved, the default holds.
CREATE TABLE register_settings (
    id                     INTEGER PRIMARY KEY CHECK (id = 1),
    waste_witness_required INTEGER NOT NULL CHECK (waste_witness_required IN (0, 1)),
    updated_at             INTEGER NOT NULL,
    updated_by             TEXT NOT NULL
);

-- One row per vial received, with what its label says.
CREATE TABLE register_vials (
    id                      INTEGER PRIMARY KEY,
    ndc                     TEXT NOT NULL,
    lot                     TEXT NOT NULL,
    expiry                  TEXT NOT NULL,
    concentration_mg_per_ml REAL NOT NULL CHECK (concentration_mg_per_ml > 0),
    volume_ml               REAL NOT NULL CHECK (volume_ml > 0),
    content_ug              INTEGER NOT NULL CHECK (content_ug > 0),
    supplier                TEXT NOT NULL,
    received_at             INTEGER NOT NULL,
    received_by             INTEGER NOT NULL REFERENCES staff_users(id)
);
CREATE INDEX register_vials_lot ON register_vials(ndc, lot);

-- A dated count: an end-of-day count, or the biennial inventory taken at the
-- opening or the close of business (21 CFR 1304.11(a)).
CREATE TABLE register_counts (
    id        INTEGER PRIMARY KEY,
    kind      TEXT NOT NULL CHECK (kind IN ('end-of-day', 'biennial')),
    business  TEXT NOT NULL CHECK (business IN ('opening', 'close')),
    taken_at  INTEGER NOT NULL,
    taken_by  INTEGER NOT NULL REFERENCES staff_users(id),
    note      TEXT NOT NULL
);

-- Every event of a vial, in order, with the vial's running balance after it.
-- change_ug is what the entry does to the balance (+ receipt, − draw or a
-- waste from the vial, ± correction or resolution, 0 otherwise); amount_ug
-- what the entry is about (the dose given, the amount wasted, the count).
CREATE TABLE register_entries (
    id          INTEGER PRIMARY KEY,
    vial_id     INTEGER NOT NULL REFERENCES register_vials(id),
    kind        TEXT NOT NULL CHECK (kind IN ('receipt', 'draw', 'administration', 'waste', 'count', 'correction', 'resolution')),
    at          INTEGER NOT NULL,
    recorded_by INTEGER NOT NULL REFERENCES staff_users(id),
    change_ug   INTEGER NOT NULL,
    amount_ug   INTEGER NOT NULL CHECK (amount_ug >= 0),
    balance_ug  INTEGER NOT NULL CHECK (balance_ug >= 0),
    patient_id  INTEGER REFERENCES patients(id),
    session_id  INTEGER REFERENCES infusion_sessions(id),
    draw_id     INTEGER REFERENCES register_entries(id),
    witness_id  INTEGER REFERENCES staff_users(id),
    count_id    INTEGER REFERENCES register_counts(id),
    corrects_id INTEGER REFERENCES register_entries(id),
    note        TEXT NOT NULL
);
CREATE INDEX register_entries_vial ON register_entries(vial_id, id);
CREATE INDEX register_entries_draw ON register_entries(draw_id);
CREATE INDEX register_entries_session ON register_entries(session_id);
-- A discrepancy (a count) is resolved once.
CREATE UNIQUE INDEX register_entries_one_resolution ON register_entries(corrects_id) WHERE kind = 'resolution';

CREATE TRIGGER register_vials_no_update BEFORE UPDATE ON register_vials
BEGIN SELECT RAISE(ABORT, 'the controlled-substance register is append-only'); END;
CREATE TRIGGER register_vials_no_delete BEFORE DELETE ON register_vials
BEGIN SELECT RAISE(ABORT, 'the controlled-substance register is append-only'); END;
CREATE TRIGGER register_counts_no_update BEFORE UPDATE ON register_counts
BEGIN SELECT RAISE(ABORT, 'the controlled-substance register is append-only'); END;
CREATE TRIGGER register_counts_no_delete BEFORE DELETE ON register_counts
BEGIN SELECT RAISE(ABORT, 'the controlled-substance register is append-only'); END;
CREATE TRIGGER register_entries_no_update BEFORE UPDATE ON register_entries
BEGIN SELECT RAISE(ABORT, 'the controlled-substance register is append-only'); END;
CREATE TRIGGER register_entries_no_delete BEFORE DELETE ON register_entries
BEGIN SELECT RAISE(ABORT, 'the controlled-substance register is append-only'); END;
