-- Statistics: the year a case was received, kept in the statistical
-- record itself, and the published yearly snapshots.

-- The record's own `year` is the year of the incident (NULL when
-- unknown). Statistics count cases taken on by the year they were
-- received, so the record keeps that year too: copied from the report
-- row when the record is first written, so it survives the deletion of
-- the report's content (and needs no join with the report rows).
ALTER TABLE classifications ADD COLUMN received_year INTEGER;
UPDATE classifications SET received_year =
    (SELECT CAST(substr(received_on, 1, 4) AS INTEGER) FROM reports WHERE reports.id = classifications.report_id);
CREATE TRIGGER classifications_received_year AFTER INSERT ON classifications
WHEN NEW.received_year IS NULL
BEGIN
    UPDATE classifications SET received_year =
        (SELECT CAST(substr(received_on, 1, 4) AS INTEGER) FROM reports WHERE reports.id = NEW.report_id)
    WHERE report_id = NEW.report_id;
END;
CREATE INDEX classifications_received_year ON classifications (received_year);

-- A published year: the already suppressed tables as JSON, frozen.
CREATE TABLE statistics_published (
    year         INTEGER PRIMARY KEY,
    published_at TEXT NOT NULL, -- RFC 3339, UTC
    tables       TEXT NOT NULL
) STRICT;
