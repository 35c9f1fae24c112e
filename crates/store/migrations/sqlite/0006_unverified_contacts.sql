-- Addresses a contact brought to an existing thread (SPEC §1 step 1, §5: details from
-- an unauthenticated channel never change where a thread's messages go).
-- Kept for staff to see, used for nothing, until staff confirm one with the
-- person on a call: then it becomes the thread's address (verified_at,
-- verified_by) with consent recorded as "staff-verified".
CREATE TABLE unverified_contacts (
    id             INTEGER PRIMARY KEY,
    inquiry_id     INTEGER NOT NULL REFERENCES inquiries(id),
    kind           TEXT NOT NULL CHECK (kind IN ('phone', 'email')),
    address        TEXT NOT NULL,
    -- The way in that brought it: web, booking, sms, voice, email.
    came_by        TEXT NOT NULL,
    received_at    INTEGER NOT NULL,
    verified_at    INTEGER,
    verified_by    INTEGER REFERENCES staff_users(id),
    UNIQUE (inquiry_id, kind, address)
);

-- Where a public booking came from (the client's IP address), so that one
-- source cannot hoard the clinic's slots; NULL for staff bookings.
ALTER TABLE consultations ADD COLUMN source_address TEXT;
CREATE INDEX consultations_source ON consultations(source_address, booked_at);
