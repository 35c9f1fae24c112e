-- Booking the free 15-minute phone consultation (issue 5, item 3).
-- Times of day are 'HH:MM' wall-clock text in the clinic's zone; weekdays
-- are ISO (Monday 1 … Sunday 7).

CREATE TABLE clinic_opening_hours (
    id       INTEGER PRIMARY KEY,
    weekday  INTEGER NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    opens    TEXT NOT NULL,
    closes   TEXT NOT NULL,
    CHECK (opens < closes)
);
-- A default a clinic changes: weekdays 09:00–17:00.
INSERT INTO clinic_opening_hours (weekday, opens, closes) VALUES
    (1, '09:00', '17:00'), (2, '09:00', '17:00'), (3, '09:00', '17:00'),
    (4, '09:00', '17:00'), (5, '09:00', '17:00');

-- Whole days closed, as ISO dates in the clinic's zone.
CREATE TABLE clinic_holidays (
    day   TEXT PRIMARY KEY,
    name  TEXT NOT NULL DEFAULT ''
);

-- When each consulting staff member takes consultations, weekly.
CREATE TABLE staff_availability (
    id             INTEGER PRIMARY KEY,
    staff_user_id  INTEGER NOT NULL REFERENCES staff_users(id),
    weekday        INTEGER NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    starts         TEXT NOT NULL,
    ends           TEXT NOT NULL,
    CHECK (starts < ends)
);
CREATE INDEX staff_availability_user ON staff_availability(staff_user_id);

-- The person's own zone (their times are shown in it) and who booked.
ALTER TABLE consultations ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
ALTER TABLE consultations ADD COLUMN booked_at INTEGER;
ALTER TABLE consultations ADD COLUMN booked_by TEXT NOT NULL DEFAULT '';

-- No double booking: one consultation that is not cancelled per staff
-- member and start. The database decides between concurrent bookings.
CREATE UNIQUE INDEX consultations_one_per_slot
    ON consultations(staff_user_id, starts_at) WHERE status <> 'cancelled';

-- The secret in the address of each staff member's iCalendar feed
-- (/ical/SECRET.ics), made on first use.
ALTER TABLE staff_users ADD COLUMN calendar_secret TEXT;
CREATE UNIQUE INDEX staff_users_calendar_secret ON staff_users(calendar_secret);

-- Work to do later (confirmation texts, reminders), kept in the database so
-- that it survives restarts and any server can do it. A job is claimed by
-- setting locked_until (a lease); done_at is set when it is finished,
-- successfully or for good. The idempotency key makes a job unique: the
-- same reminder is never enqueued twice.
CREATE TABLE jobs (
    id               INTEGER PRIMARY KEY,
    kind             TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL UNIQUE,
    consultation_id  INTEGER REFERENCES consultations(id),
    run_at           INTEGER NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    locked_until     INTEGER,
    done_at          INTEGER,
    last_error       TEXT,
    created_at       INTEGER NOT NULL
);
CREATE INDEX jobs_due ON jobs(done_at, run_at);
