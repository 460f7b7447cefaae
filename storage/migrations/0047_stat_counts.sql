-- Year statistics without scanning the records (issue 14): per-year
-- aggregate counts of the statistical records, kept by triggers.
--
-- Why triggers and not Go code at the write: a record (classifications
-- row) is written by the triage save, changed by re-classification,
-- deleted by a withdrawal, and may get new writers later (a one-save
-- triage, imports). A trigger on the record table runs in the same
-- transaction as every one of these writes, whichever Go function makes
-- it, so the counts cannot be forgotten and cannot drift: a failed write
-- rolls its counts back with it. What the other paths do to the record,
-- checked for this migration: intake writes no record (a report counts
-- from its first triage); the retention sweep blanks the report row and
-- keeps the record (its counts stay); a transfer changes reports.team_id
-- only, and statistics do not depend on the team; closing a case sets
-- closed_on/closing_reason, which statistics do not count (the update
-- trigger ignores those columns).
--
-- A record counts in the year it was received (received_year, 0009); a
-- record whose year is still NULL (the 0009 trigger sets it right after
-- the insert) counts from the moment it is set.
--
-- stat_counts holds, per received year:
--   dim 'cases'                 the number of records (code '' )
--   dim = a one-dimensional table ID ('ground', 'racism', 'area', 'form',
--         'incident_type', 'municipality', 'reporter_role', 'agg',
--         'intervention'): records per code; a multi-valued dimension
--         counts every code of a record, a single one counts ''
--         (not decided yet) as 'undecided'
--   dim 'ground_area', 'ground_municipality': records per pair of codes
--         (code × code2), every pair of the record's codes
-- exactly what reporting.YearStatistics used to count in Go. A count that
-- drops to 0 is deleted (see below); a missing row reads as 0.
CREATE TABLE stat_counts (
    year  INTEGER NOT NULL,
    dim   TEXT NOT NULL,
    code  TEXT NOT NULL,
    code2 TEXT NOT NULL,
    n     INTEGER NOT NULL,
    PRIMARY KEY (year, dim, code, code2)
) STRICT, WITHOUT ROWID;

-- stat_delta is a work table that is always empty after a statement: a
-- row inserted here (+1 for a new record state, −1 for an old one) is
-- counted into stat_counts by the trigger below and deleted again. The
-- counting is written once, here, instead of three times (insert,
-- update, delete of a record).
CREATE TABLE stat_delta (
    sign          INTEGER NOT NULL, -- +1 or −1
    year          INTEGER NOT NULL,
    municipality  TEXT NOT NULL,
    grounds       TEXT NOT NULL,
    subgrounds    TEXT NOT NULL,
    areas         TEXT NOT NULL,
    forms         TEXT NOT NULL,
    incident_type TEXT NOT NULL,
    reporter_role TEXT NOT NULL,
    agg_relevant  TEXT NOT NULL,
    interventions TEXT NOT NULL
) STRICT;

-- Multi-valued columns are comma-separated codes from the vocabulary
-- (lower-case letters and '_'); '["' || replace(x, ',', '","') || '"]'
-- makes them a JSON array for json_each (CTEs are not allowed in
-- triggers). A code with a quote would make the JSON invalid and the
-- write fail as a whole: loud, never a wrong count.
CREATE TRIGGER stat_delta_count AFTER INSERT ON stat_delta
BEGIN
    INSERT INTO stat_counts (year, dim, code, code2, n)
    VALUES (NEW.year, 'cases', '', '', NEW.sign),
           (NEW.year, 'incident_type', CASE NEW.incident_type WHEN '' THEN 'undecided' ELSE NEW.incident_type END, '', NEW.sign),
           (NEW.year, 'municipality', CASE NEW.municipality WHEN '' THEN 'undecided' ELSE NEW.municipality END, '', NEW.sign),
           (NEW.year, 'reporter_role', CASE NEW.reporter_role WHEN '' THEN 'undecided' ELSE NEW.reporter_role END, '', NEW.sign),
           (NEW.year, 'agg', CASE NEW.agg_relevant WHEN '' THEN 'undecided' ELSE NEW.agg_relevant END, '', NEW.sign)
    ON CONFLICT DO UPDATE SET n = n + excluded.n;

    INSERT INTO stat_counts (year, dim, code, code2, n)
    SELECT NEW.year, d.dim, j.value, '', NEW.sign
    FROM (SELECT 'ground' AS dim, NEW.grounds AS codes
          UNION ALL SELECT 'racism', NEW.subgrounds
          UNION ALL SELECT 'area', NEW.areas
          UNION ALL SELECT 'form', NEW.forms
          UNION ALL SELECT 'intervention', NEW.interventions) d,
         json_each('["' || replace(d.codes, ',', '","') || '"]') j
    WHERE d.codes <> '' AND j.value <> ''
    ON CONFLICT DO UPDATE SET n = n + excluded.n;

    INSERT INTO stat_counts (year, dim, code, code2, n)
    SELECT NEW.year, 'ground_area', g.value, a.value, NEW.sign
    FROM json_each('["' || replace(NEW.grounds, ',', '","') || '"]') g,
         json_each('["' || replace(NEW.areas, ',', '","') || '"]') a
    WHERE NEW.grounds <> '' AND NEW.areas <> '' AND g.value <> '' AND a.value <> ''
    ON CONFLICT DO UPDATE SET n = n + excluded.n;

    INSERT INTO stat_counts (year, dim, code, code2, n)
    SELECT NEW.year, 'ground_municipality', g.value,
           CASE NEW.municipality WHEN '' THEN 'undecided' ELSE NEW.municipality END, NEW.sign
    FROM json_each('["' || replace(NEW.grounds, ',', '","') || '"]') g
    WHERE NEW.grounds <> '' AND g.value <> ''
    ON CONFLICT DO UPDATE SET n = n + excluded.n;

    -- A count back at 0 loses its row: a withdrawn report must leave no
    -- trace, and a row (year, ground_municipality, a, b, 0) would still
    -- say that a case with that rare pair once existed. Only a removal
    -- (sign −1) can bring a count to 0; a year has a few hundred rows.
    DELETE FROM stat_counts WHERE NEW.sign < 0 AND year = NEW.year AND n = 0;

    DELETE FROM stat_delta WHERE rowid = NEW.rowid;
END;

CREATE TRIGGER stat_counts_record_insert AFTER INSERT ON classifications
WHEN NEW.received_year IS NOT NULL
BEGIN
    INSERT INTO stat_delta VALUES (1, NEW.received_year, NEW.municipality, NEW.grounds, NEW.subgrounds, NEW.areas,
        NEW.forms, NEW.incident_type, NEW.reporter_role, NEW.agg_relevant, NEW.interventions);
END;

CREATE TRIGGER stat_counts_record_delete AFTER DELETE ON classifications
WHEN OLD.received_year IS NOT NULL
BEGIN
    INSERT INTO stat_delta VALUES (-1, OLD.received_year, OLD.municipality, OLD.grounds, OLD.subgrounds, OLD.areas,
        OLD.forms, OLD.incident_type, OLD.reporter_role, OLD.agg_relevant, OLD.interventions);
END;

-- Only the counted columns; a re-save with the same codes (the upsert
-- sets every column) changes nothing.
CREATE TRIGGER stat_counts_record_update AFTER UPDATE OF received_year, municipality, grounds, subgrounds, areas,
    forms, incident_type, reporter_role, agg_relevant, interventions ON classifications
WHEN OLD.received_year IS NOT NEW.received_year OR OLD.municipality IS NOT NEW.municipality
  OR OLD.grounds IS NOT NEW.grounds OR OLD.subgrounds IS NOT NEW.subgrounds OR OLD.areas IS NOT NEW.areas
  OR OLD.forms IS NOT NEW.forms OR OLD.incident_type IS NOT NEW.incident_type
  OR OLD.reporter_role IS NOT NEW.reporter_role OR OLD.agg_relevant IS NOT NEW.agg_relevant
  OR OLD.interventions IS NOT NEW.interventions
BEGIN
    INSERT INTO stat_delta SELECT -1, OLD.received_year, OLD.municipality, OLD.grounds, OLD.subgrounds, OLD.areas,
        OLD.forms, OLD.incident_type, OLD.reporter_role, OLD.agg_relevant, OLD.interventions
    WHERE OLD.received_year IS NOT NULL;
    INSERT INTO stat_delta SELECT 1, NEW.received_year, NEW.municipality, NEW.grounds, NEW.subgrounds, NEW.areas,
        NEW.forms, NEW.incident_type, NEW.reporter_role, NEW.agg_relevant, NEW.interventions
    WHERE NEW.received_year IS NOT NULL;
END;

-- The records written before this migration, counted by the same trigger.
INSERT INTO stat_delta
SELECT 1, received_year, municipality, grounds, subgrounds, areas, forms, incident_type, reporter_role,
       agg_relevant, interventions
FROM classifications WHERE received_year IS NOT NULL;
