-- A person who writes again through the web form, or books from the public
-- page, joins their open thread: that contact is kept as a message of
-- channel 'web' (issue 5: one thread per person, across channels).
ALTER TABLE messages DROP CONSTRAINT messages_channel_check;
ALTER TABLE messages ADD CONSTRAINT messages_channel_check
    CHECK (channel IN ('sms', 'voice', 'email', 'web'));
