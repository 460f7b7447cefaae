-- Notifications: an office user's own e-mail address, and the outbox of
-- e-mails waiting to be sent.

-- Optional; set by the user themself. NULL: no notifications.
ALTER TABLE users ADD COLUMN email TEXT;

-- One e-mail to one recipient. The mail says only that something new
-- arrived for a team, never what. Rows are deleted once sent, so the list
-- of who was told what and when is not kept longer than needed.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,          -- unix seconds
    last_error_code TEXT NOT NULL DEFAULT '',  -- a short code, never the server's text
    sent_at         INTEGER                    -- unix seconds; the row is purged soon after
) STRICT;

CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL;
