-- Issue 13: the reporter's wish and "has contact" as working flags of the
-- case, so that the list filters them without decrypting every case.
-- The report keeps both sealed as before; the office copies them here
-- when a counsellor triages or opens the case (reporting/triage.go,
-- Cases.CaseFile), as it keeps the classification plain. wish is the code
-- ('' for none chosen), has_contact 0 or 1: never the contact itself.
-- NULL wish: not copied yet (a new case nobody has opened, or one
-- triaged before this migration): the list finds those by decrypting.
ALTER TABLE reports ADD COLUMN wish TEXT;
ALTER TABLE reports ADD COLUMN has_contact INTEGER CHECK (has_contact IN (0, 1));

-- "How many cases of my teams have this wish / a contact" is one index
-- range, and the IDs come from the index alone.
CREATE INDEX reports_work_wish ON reports (team_id, wish, id) WHERE wish IS NOT NULL;
CREATE INDEX reports_work_contact ON reports (team_id, has_contact, id) WHERE has_contact IS NOT NULL;
-- The cases still to be decrypted for these filters: not copied yet and
-- with content left (retention's deleted cases have nothing to match).
CREATE INDEX reports_work_unflagged ON reports (team_id, id) WHERE wish IS NULL AND content_deleted_on IS NULL;

-- A list that starts from a set of IDs checks every condition in
-- reports_by_id (0046) without reading the wide row: it now carries the
-- flags too.
DROP INDEX reports_by_id;
CREATE INDEX reports_by_id ON reports (id, team_id, status, assignee, deadline_week, received_on,
    reporter_unread, awaiting_reporter, case_no, wish, has_contact, content_deleted_on);
