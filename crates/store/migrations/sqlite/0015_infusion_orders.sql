-- Infusion protocols and orders (SPEC §1 step 5): the protocol library in
-- versions, the clinician's order with its dose check, and the second
-- person's check. Nothing here is edited in place: a changed protocol is a new
-- version, an order's check is its own row. Times are Unix milliseconds.

-- One version of a protocol. `definition` is the protocol as respite-clinical
-- reads it (JSON); `active` says whether this version may be ordered. The
-- newest version of a key is the one in force.
CREATE TABLE infusion_protocol_versions (
    id            INTEGER PRIMARY KEY,
    protocol_key  TEXT NOT NULL,
    version       INTEGER NOT NULL,
    name          TEXT NOT NULL,
    definition    TEXT NOT NULL,
    rescue_drugs  TEXT NOT NULL,
    active        INTEGER NOT NULL CHECK (active IN (0, 1)),
    created_by    INTEGER REFERENCES staff_users(id),
    created_at    INTEGER NOT NULL,
    UNIQUE (protocol_key, version)
);

-- The clinic's infusion settings: how old today's weight may be (days).
CREATE TABLE infusion_settings (
    id                  INTEGER PRIMARY KEY CHECK (id = 1),
    weight_max_age_days INTEGER NOT NULL,
    updated_by          INTEGER REFERENCES staff_users(id),
    updated_at          INTEGER
);
INSERT INTO infusion_settings (id, weight_max_age_days) VALUES (1, 1);

-- An order: the protocol version, the steps as ordered (JSON, the
-- protocol's or a target-guided plan's), the weight it was calculated on
-- and the calculation's result as stored for the record.
CREATE TABLE infusion_orders (
    id                  INTEGER PRIMARY KEY,
    patient_id          INTEGER NOT NULL REFERENCES patients(id),
    protocol_version_id INTEGER NOT NULL REFERENCES infusion_protocol_versions(id),
    steps               TEXT NOT NULL,
    concentration_mg_ml REAL NOT NULL,
    bag_ml              REAL NOT NULL,
    weight_kg           REAL NOT NULL,
    weight_observed_at  INTEGER NOT NULL,
    dosing_weight_kg    REAL NOT NULL,
    total_mg            REAL NOT NULL,
    total_ml            REAL NOT NULL,
    max_rate_mg_h       REAL NOT NULL,
    max_pump_ml_h       REAL NOT NULL,
    target_ng_ml        REAL,
    ordered_by          INTEGER NOT NULL REFERENCES staff_users(id),
    ordered_at          INTEGER NOT NULL
);
CREATE INDEX infusion_orders_patient ON infusion_orders(patient_id, ordered_at);

-- A ceiling the order exceeds, with the clinician's override and reason.
CREATE TABLE infusion_order_overrides (
    id            INTEGER PRIMARY KEY,
    order_id      INTEGER NOT NULL REFERENCES infusion_orders(id),
    ceiling       TEXT NOT NULL,
    ceiling_limit REAL NOT NULL,
    order_value   REAL NOT NULL,
    reason        TEXT NOT NULL,
    clinician_id  INTEGER NOT NULL REFERENCES staff_users(id)
);
CREATE INDEX infusion_order_overrides_order ON infusion_order_overrides(order_id);

-- The second person's check of drug, concentration, weight and rate: one
-- per order, never the orderer.
CREATE TABLE infusion_order_checks (
    id                  INTEGER PRIMARY KEY,
    order_id            INTEGER NOT NULL UNIQUE REFERENCES infusion_orders(id),
    drug                TEXT NOT NULL,
    concentration_mg_ml REAL NOT NULL,
    weight_kg           REAL NOT NULL,
    pump_ml_h           REAL NOT NULL,
    checked_by          INTEGER NOT NULL REFERENCES staff_users(id),
    checked_at          INTEGER NOT NULL
);
