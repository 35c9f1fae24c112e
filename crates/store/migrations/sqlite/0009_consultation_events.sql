-- Consultations that can be moved, cancelled and held, and nobody lost
-- after a cancellation or a no-show (SPEC §1 step 2).
--
-- 1. What happened to a person's consultations, as events of their thread:
--    booked, moved (from → to), cancelled (by the person's link or by staff,
--    with staff's reason), no-show, held. `staff_user_id` is NULL when the
--    person did it by their link.
CREATE TABLE consultation_events (
    id               INTEGER PRIMARY KEY,
    inquiry_id       INTEGER NOT NULL REFERENCES inquiries(id),
    consultation_id  INTEGER NOT NULL REFERENCES consultations(id),
    at               INTEGER NOT NULL,
    kind             TEXT NOT NULL
        CHECK (kind IN ('booked', 'moved', 'cancelled', 'no-show', 'held')),
    staff_user_id    INTEGER REFERENCES staff_users(id),
    -- A move's earlier start; NULL for every other kind.
    previous_starts_at INTEGER,
    starts_at        INTEGER NOT NULL,
    reason           TEXT NOT NULL DEFAULT ''
);
CREATE INDEX consultation_events_inquiry ON consultation_events(inquiry_id, at);

-- 2. The iCalendar SEQUENCE (RFC 5545 §3.8.7.4) of a consultation's event:
--    raised by each move and by the cancellation, so that a calendar
--    program applies the latest `.ics` of the same UID.
ALTER TABLE consultations ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0;

-- 3. A callback after a cancelled or missed consultation names it. SQLite
--    cannot change a CHECK in place, and `callback_tasks` is referenced
--    (contact_attempts): the table is rebuilt with foreign keys deferred to
--    the commit, and its rows are inserted again after the new table has
--    its name, which satisfies the references they had.
PRAGMA defer_foreign_keys = ON;
CREATE TEMP TABLE callback_tasks_copy AS SELECT * FROM callback_tasks;
CREATE TABLE callback_tasks_new (
    id               INTEGER PRIMARY KEY,
    inquiry_id       INTEGER NOT NULL REFERENCES inquiries(id),
    created_at       INTEGER NOT NULL,
    reason           TEXT NOT NULL CHECK (reason IN ('inquiry', 'missed-call', 'voicemail',
                                                     'cancelled-consultation', 'missed-consultation')),
    phone_e164       TEXT,
    recording_url    TEXT,
    done_at          INTEGER,
    consultation_id  INTEGER REFERENCES consultations(id)
);
DROP TABLE callback_tasks;
ALTER TABLE callback_tasks_new RENAME TO callback_tasks;
INSERT INTO callback_tasks (id, inquiry_id, created_at, reason, phone_e164, recording_url, done_at)
    SELECT id, inquiry_id, created_at, reason, phone_e164, recording_url, done_at
    FROM temp.callback_tasks_copy;
DROP TABLE temp.callback_tasks_copy;
CREATE INDEX callback_tasks_open ON callback_tasks(done_at, created_at);

-- 4. A booking that opens a thread does not know where the pain is or how
--    long it has lasted: unknown stays unknown (NULL), never a made-up
--    answer. `inquiries` is rebuilt the same way (many tables reference it).
CREATE TEMP TABLE inquiries_copy AS SELECT * FROM inquiries;
CREATE TABLE inquiries_new (
    id                INTEGER PRIMARY KEY,
    received_at       INTEGER NOT NULL,
    channel           TEXT NOT NULL CHECK (channel IN ('web', 'email', 'sms', 'voice')),
    name              TEXT NOT NULL,
    phone_e164        TEXT,
    email             TEXT,
    preferred_channel TEXT NOT NULL,
    contact_windows   TEXT NOT NULL,
    time_zone         TEXT NOT NULL,
    pain_area         TEXT,
    pain_duration     TEXT,
    message           TEXT NOT NULL,
    consent_at        INTEGER,
    status            TEXT NOT NULL DEFAULT 'new'
        CHECK (status IN ('new', 'contacted', 'consultation-booked', 'closed')),
    -- Why a closed thread was closed; required exactly when status = closed.
    closed_reason     TEXT
        CHECK (closed_reason IN ('booked', 'not-a-candidate', 'no-answer', 'asked-to-stop')),
    patient_id        INTEGER REFERENCES patients(id)
);
DROP TABLE inquiries;
ALTER TABLE inquiries_new RENAME TO inquiries;
INSERT INTO inquiries (id, received_at, channel, name, phone_e164, email, preferred_channel,
                       contact_windows, time_zone, pain_area, pain_duration, message, consent_at,
                       status, closed_reason, patient_id)
    SELECT id, received_at, channel, name, phone_e164, email, preferred_channel,
           contact_windows, time_zone, pain_area, pain_duration, message, consent_at,
           status, closed_reason, patient_id
    FROM temp.inquiries_copy;
DROP TABLE temp.inquiries_copy;
CREATE INDEX inquiries_status_received ON inquiries(status, received_at);
CREATE INDEX inquiries_phone ON inquiries(phone_e164);
CREATE INDEX inquiries_email ON inquiries(email);
CREATE UNIQUE INDEX inquiries_patient ON inquiries(patient_id);
-- What the earlier bookings, texts, calls and e-mails made up ("other",
-- "not sure", with no best times; a booking with no message either) was
-- never said by anyone: it becomes unknown.
UPDATE inquiries SET pain_area = NULL, pain_duration = NULL
    WHERE pain_area = 'other' AND pain_duration = 'not-sure' AND contact_windows = ''
      AND (channel <> 'web' OR message = '');
