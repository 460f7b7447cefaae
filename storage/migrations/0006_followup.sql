-- Follow-up: messages between reporter and counsellors, and two plain
-- markers on a report for the case list.

-- A message of the thread between reporter and counsellors. The body is
-- sealed under the report's data key (AD "message", report_id/id), so the
-- reporter's receipt opens it as well as the team's key. Only the day is
-- kept, never a time: when a reporter writes is nobody's business.
CREATE TABLE messages (
    id        TEXT PRIMARY KEY, -- random UUID, part of the ciphertext's AD
    report_id TEXT NOT NULL REFERENCES reports(id),
    author    TEXT NOT NULL CHECK (author IN ('reporter', 'counsellor')),
    day       TEXT NOT NULL, -- a date ("2026-11-24"), never a time of day
    body      BLOB NOT NULL
) STRICT;
CREATE INDEX messages_report ON messages (report_id, day);

-- reporter_unread: the reporter wrote and no counsellor has opened the
-- case since. awaiting_reporter: the last message is a counsellor's.
ALTER TABLE reports ADD COLUMN reporter_unread INTEGER NOT NULL DEFAULT 0;
ALTER TABLE reports ADD COLUMN awaiting_reporter INTEGER NOT NULL DEFAULT 0;
