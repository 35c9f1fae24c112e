-- The clinic as its public pages show it: name, telephone, e-mail, address,
-- opening hours and privacy notice (SPEC §2: clinic settings are the
-- administrator's). One row, id 1; until an administrator saves it the pages
-- show the server's configured name and no contact details. Phone numbers
-- are E.164 (SPEC §4), written for people by the web layer.
CREATE TABLE clinic_profile (
    id             BIGINT PRIMARY KEY CHECK (id = 1),
    name           TEXT NOT NULL,
    phone_e164     TEXT NOT NULL DEFAULT '',
    email          TEXT NOT NULL DEFAULT '',
    address        TEXT NOT NULL DEFAULT '',
    hours          TEXT NOT NULL DEFAULT '',
    privacy_notice TEXT NOT NULL DEFAULT '',
    updated_at     BIGINT NOT NULL,
    updated_by     TEXT NOT NULL
);
