-- Issue 13: every plain filter of the case list at page 1 in a few
-- milliseconds on 100,000 cases (storage/cases.go, CaseList, says how the
-- query uses these). Plain columns only; nothing from the content.

-- A report's list columns by its ID: a filter that starts from a set of
-- report IDs (a sub-ground, a reminder, a reporter's message) checks the
-- team, status and order columns here instead of reading the wide row
-- with its ciphertexts.
CREATE INDEX reports_by_id ON reports (id, team_id, status, assignee, deadline_week, received_on,
    reporter_unread, awaiting_reporter, case_no);

-- The team of a record's codes and grounds, so that "how many cases of my
-- teams have this area" is one index range, not a look-up per case. Kept
-- by the triggers below; the report's row stays the source.
ALTER TABLE classification_codes ADD COLUMN team_id INTEGER;
ALTER TABLE classification_grounds ADD COLUMN team_id INTEGER;
UPDATE classification_codes SET team_id = (SELECT team_id FROM reports WHERE id = report_id);
UPDATE classification_grounds SET team_id = (SELECT team_id FROM reports WHERE id = report_id);
CREATE INDEX classification_codes_team ON classification_codes (dim, code, team_id);
CREATE INDEX classification_grounds_team ON classification_grounds (ground, team_id);

CREATE TRIGGER classification_codes_set_team AFTER INSERT ON classification_codes
BEGIN
    UPDATE classification_codes SET team_id = (SELECT team_id FROM reports WHERE id = NEW.report_id)
    WHERE dim = NEW.dim AND code = NEW.code AND report_id = NEW.report_id;
END;
CREATE TRIGGER classification_grounds_set_team AFTER INSERT ON classification_grounds
BEGIN
    UPDATE classification_grounds SET team_id = (SELECT team_id FROM reports WHERE id = NEW.report_id)
    WHERE ground = NEW.ground AND report_id = NEW.report_id;
END;
-- A transfer moves the codes along (rare: a scan of the grounds is fine).
CREATE TRIGGER classification_team_follows_transfer AFTER UPDATE OF team_id ON reports
WHEN NEW.team_id <> OLD.team_id
BEGIN
    UPDATE classification_codes SET team_id = NEW.team_id WHERE report_id = NEW.id;
    UPDATE classification_grounds SET team_id = NEW.team_id WHERE report_id = NEW.id;
END;

-- "Waiting for our reply" starts from the cases a reporter wrote in.
CREATE INDEX messages_from_reporter ON messages (report_id) WHERE author = 'reporter';
