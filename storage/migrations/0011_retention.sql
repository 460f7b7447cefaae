-- Retention (issue 5): the day a report's content was deleted on schedule.
-- The row itself stays with its case number, team, received_on and status:
-- it is what the statistical record and the status history refer to. Its
-- ciphertexts and keys become empty blobs (the columns stay NOT NULL) and
-- its lookup hash random, so the receipt finds nothing any more.
ALTER TABLE reports ADD COLUMN content_deleted_on TEXT; -- a date; NULL while the content is there
