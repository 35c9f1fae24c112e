-- Failed sign-ins are counted per account *and* source address, so that an
-- attacker's failures slow the attacker without locking the account for the
-- person who knows the password (docs/SECURITY.md, "Sign-in throttle").
-- Rows from before this migration have no source ('').
ALTER TABLE login_failures ADD COLUMN source TEXT NOT NULL DEFAULT '';
CREATE INDEX login_failures_email_source_at ON login_failures(email, source, at);
-- Rows older than the window are pruned by time.
CREATE INDEX login_failures_at ON login_failures(at);
