-- Messaging (issue 5, items 1 and 5): every text, call and e-mail of a
-- person's thread, SMS opt-outs (STOP/START), and consent per channel.

-- One row per message or call event, in or out. `external_id` is the
-- provider's id (Twilio MessageSid, CallSid plus event, e-mail Message-ID):
-- unique per channel, so a webhook delivered twice stores one message.
CREATE TABLE messages (
    id            INTEGER PRIMARY KEY,
    inquiry_id    INTEGER NOT NULL REFERENCES inquiries(id),
    at            INTEGER NOT NULL,
    direction     TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    channel       TEXT NOT NULL CHECK (channel IN ('sms', 'voice', 'email')),
    from_address  TEXT NOT NULL,
    to_address    TEXT NOT NULL,
    body          TEXT NOT NULL,
    external_id   TEXT NOT NULL,
    recording_url TEXT,
    in_reply_to   TEXT,
    UNIQUE (channel, external_id)
);
CREATE INDEX messages_inquiry_at ON messages(inquiry_id, at);

-- A number that texted STOP: `opted_out_at` is set, and cleared by START.
CREATE TABLE sms_opt_outs (
    phone_e164   TEXT PRIMARY KEY,
    opted_out_at INTEGER,
    updated_at   INTEGER NOT NULL
);

-- Consent to be contacted, per address and channel, append-only: the latest
-- row for an address and channel is the one in force.
CREATE TABLE contact_consents (
    id          INTEGER PRIMARY KEY,
    inquiry_id  INTEGER REFERENCES inquiries(id),
    address     TEXT NOT NULL,
    channel     TEXT NOT NULL CHECK (channel IN ('sms', 'voice', 'email')),
    granted     INTEGER NOT NULL CHECK (granted IN (0, 1)),
    at          INTEGER NOT NULL,
    source      TEXT NOT NULL
);
CREATE INDEX contact_consents_address ON contact_consents(address, channel, at);
