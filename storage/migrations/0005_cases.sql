-- Case work: the statistical record, the status history, internal notes,
-- and what the case list filters and sorts on.

-- The incident day (the record keeps only year and month) and the AGG
-- claim deadline derived from the record, so that the list can filter and
-- sort on it. Both go with the case, not with the statistical record.
ALTER TABLE reports ADD COLUMN incident_day INTEGER;
ALTER TABLE reports ADD COLUMN deadline TEXT; -- a date; NULL when none applies

-- The statistical record: plain, coarse codes (CLASSIFICATION.md) set by
-- counsellors at triage, kept after the case content is deleted.
-- Multi-valued dimensions are comma-separated codes in vocabulary order.
CREATE TABLE classifications (
    report_id      TEXT PRIMARY KEY REFERENCES reports(id),
    year           INTEGER, -- of the incident; NULL when unknown
    month          INTEGER,
    municipality   TEXT NOT NULL,
    grounds        TEXT NOT NULL,
    subgrounds     TEXT NOT NULL,
    areas          TEXT NOT NULL,
    subareas       TEXT NOT NULL,
    forms          TEXT NOT NULL,
    level          TEXT NOT NULL, -- '' until decided
    incident_type  TEXT NOT NULL,
    reporter_role  TEXT NOT NULL,
    agg_relevant   TEXT NOT NULL,
    interventions  TEXT NOT NULL,
    closed_on      TEXT, -- a date while the case is closed
    closing_reason TEXT NOT NULL DEFAULT ''
) STRICT;

-- One row per ground of a record, so that the list's ground filter is an
-- index lookup rather than a text search through every record.
CREATE TABLE classification_grounds (
    ground    TEXT NOT NULL,
    report_id TEXT NOT NULL REFERENCES classifications(report_id) ON DELETE CASCADE,
    PRIMARY KEY (ground, report_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE status_history (
    id          INTEGER PRIMARY KEY,
    report_id   TEXT NOT NULL REFERENCES reports(id),
    at          TEXT NOT NULL, -- RFC 3339, UTC: office actions, not reporters
    user_id     INTEGER NOT NULL REFERENCES users(id),
    from_status TEXT NOT NULL,
    to_status   TEXT NOT NULL
) STRICT;
CREATE INDEX status_history_report ON status_history (report_id, id);

-- Counsellors' internal notes, sealed to the team's public key (not under
-- the report's data key, which the reporter's receipt opens).
CREATE TABLE notes (
    id        TEXT PRIMARY KEY, -- random UUID, part of the ciphertext's AD
    report_id TEXT NOT NULL REFERENCES reports(id),
    user_id   INTEGER NOT NULL REFERENCES users(id),
    at        TEXT NOT NULL, -- RFC 3339, UTC
    body      BLOB NOT NULL
) STRICT;
CREATE INDEX notes_report ON notes (report_id, at);

-- The case list. reports_list holds every column the list filters on, so
-- that counting and choosing a page never read the report rows (which
-- carry the ciphertexts); only the 50 rows of the page are read.
-- reports_team_received serves the default order (newest first) without
-- sorting; the record's municipality and grounds are filtered by index.
CREATE INDEX reports_list ON reports (team_id, status, assignee, deadline, received_on, case_no, id);
CREATE INDEX reports_team_received ON reports (team_id, received_on);
CREATE INDEX classifications_municipality ON classifications (municipality, report_id);
