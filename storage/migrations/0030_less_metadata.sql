-- Less metadata (issue 9, item 6): no plaintext column of a report says
-- more than the incident month.
--
-- The exact incident day is sealed under the report's data key
-- (dates_sealed, AD "case-dates", report_id), written when a counsellor
-- saves the triage form. The AGG deadline is a function of the record and
-- that day, so it is not stored exactly at all: the case list filters and
-- sorts on the Monday of the deadline's week (deadline_week), and shows
-- the exact date after decrypting the rows of its page.
ALTER TABLE reports ADD COLUMN deadline_week TEXT; -- a Monday; NULL when no deadline applies
ALTER TABLE reports ADD COLUMN dates_sealed BLOB;  -- NULL until triage

-- The bucket of every existing deadline; then the exact deadline goes:
-- it can be computed again from the record and the incident day.
-- strftime('%w') is 0 for Sunday, so (w + 6) % 7 days back is Monday.
UPDATE reports SET deadline_week =
    date(deadline, '-' || ((CAST(strftime('%w', deadline) AS INTEGER) + 6) % 7) || ' days')
    WHERE deadline IS NOT NULL;
UPDATE reports SET deadline = NULL;

-- The plaintext incident_day of existing rows cannot be sealed here: the
-- server does not hold the data keys at rest. It is sealed and cleared
-- the next time a counsellor opens the case or saves its triage form
-- (reporting/cases.go, moveDates); new records never write it.

-- The report's language has always been part of the sealed content (the
-- "language" field of its JSON), so the plaintext copy goes at once. The
-- column stays (NOT NULL) and is written as '' from now on.
UPDATE reports SET language = '';

-- The list's covering index, on the week instead of the exact deadline.
DROP INDEX reports_list;
CREATE INDEX reports_list ON reports (team_id, status, assignee, deadline_week, received_on, case_no, id);
