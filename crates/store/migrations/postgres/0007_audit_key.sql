-- Keyed audit chain: each new entry's hash is an HMAC under a key the
-- database does not hold; `key_id` names that key (empty for the entries
-- hashed with plain SHA-256 before this migration), `entry_count` is the
-- entry's place in the chain (the number of entries up to it), covered by
-- its hash so that a removed entry shows. Adding columns does not fire the
-- append-only triggers.
ALTER TABLE audit_log ADD COLUMN key_id TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN entry_count BIGINT NOT NULL DEFAULT 0;
