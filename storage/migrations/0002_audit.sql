-- The audit log: who did what to which case and when, never content.
-- Each row's hash covers the row and the previous row's hash, so editing
-- or removing a row breaks the chain; settings 'audit_head' holds the last
-- id and hash, so cutting rows off the end shows too.
CREATE TABLE audit (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,    -- RFC 3339, UTC: office actions, not reporters
    user_id   INTEGER,          -- NULL for the system (start-up, scheduled jobs)
    user_name TEXT NOT NULL,    -- kept as it was, so renaming cannot rewrite history
    action    TEXT NOT NULL,
    report_id TEXT,
    detail    TEXT NOT NULL,    -- codes only, e.g. "new→triage"
    prev_hash BLOB NOT NULL,
    hash      BLOB NOT NULL
) STRICT;

CREATE INDEX audit_report ON audit (report_id) WHERE report_id IS NOT NULL;
