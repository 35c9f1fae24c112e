-- A person who writes again through the web form, or books from the public
-- page, joins their open thread: that contact is kept as a message of
-- channel 'web' (issue 5: one thread per person, across channels).
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt,
-- with the same columns, rows and index. Nothing references `messages`.
CREATE TABLE messages_new (
    id            INTEGER PRIMARY KEY,
    inquiry_id    INTEGER NOT NULL REFERENCES inquiries(id),
    at            INTEGER NOT NULL,
    direction     TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    channel       TEXT NOT NULL CHECK (channel IN ('sms', 'voice', 'email', 'web')),
    from_address  TEXT NOT NULL,
    to_address    TEXT NOT NULL,
    body          TEXT NOT NULL,
    external_id   TEXT NOT NULL,
    recording_url TEXT,
    in_reply_to   TEXT,
    UNIQUE (channel, external_id)
);
INSERT INTO messages_new (id, inquiry_id, at, direction, channel, from_address, to_address,
                          body, external_id, recording_url, in_reply_to)
    SELECT id, inquiry_id, at, direction, channel, from_address, to_address,
           body, external_id, recording_url, in_reply_to
    FROM messages;
DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;
CREATE INDEX messages_inquiry_at ON messages(inquiry_id, at);
