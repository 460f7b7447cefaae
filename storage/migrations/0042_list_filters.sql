-- Issue 13: the case list filters by sub-ground and area of life. The
-- record keeps them as comma-separated codes; one row per code makes each
-- filter an index lookup, as classification_grounds does for grounds.
-- Plain codes of the statistical record only, nothing from the content.
CREATE TABLE classification_codes (
    dim       TEXT NOT NULL CHECK (dim IN ('subground', 'area')),
    code      TEXT NOT NULL,
    report_id TEXT NOT NULL REFERENCES classifications(report_id) ON DELETE CASCADE,
    PRIMARY KEY (dim, code, report_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX classification_codes_report ON classification_codes (report_id);

WITH RECURSIVE split(report_id, dim, code, rest) AS (
    SELECT report_id, 'subground', '', subgrounds || ',' FROM classifications
    UNION ALL
    SELECT report_id, 'area', '', areas || ',' FROM classifications
    UNION ALL
    SELECT report_id, dim, substr(rest, 1, instr(rest, ',') - 1), substr(rest, instr(rest, ',') + 1)
    FROM split WHERE rest <> ''
)
INSERT OR IGNORE INTO classification_codes (dim, code, report_id)
SELECT dim, code, report_id FROM split WHERE code <> '';

-- Unread cases are few: a partial index finds them without a scan.
CREATE INDEX reports_reporter_unread ON reports (team_id) WHERE reporter_unread <> 0;
