-- Attachments of reports: each file sealed in 64 KiB chunks under its own
-- key, which is wrapped under the report's data key. Name, type and size
-- are sealed too (meta). report_id has no foreign key on purpose: a new
-- report's files are stored (complete = 0 until sealed to the end) before
-- the report row exists, and are only shown once it does.
CREATE TABLE attachments (
    id          TEXT PRIMARY KEY,
    report_id   TEXT NOT NULL,
    wrapped_key BLOB NOT NULL,
    meta        BLOB, -- sealed JSON {name, type, size}; NULL until complete
    complete    INTEGER NOT NULL DEFAULT 0,
    seq         INTEGER NOT NULL -- upload order within the report
) STRICT;
CREATE INDEX attachments_report ON attachments (report_id);

CREATE TABLE attachment_chunks (
    attachment_id TEXT NOT NULL REFERENCES attachments(id) ON DELETE CASCADE,
    idx           INTEGER NOT NULL,
    data          BLOB NOT NULL,
    PRIMARY KEY (attachment_id, idx)
) STRICT;
