-- Issue 13, list speed: the unread filter reads its cases' IDs from the
-- partial index alone. With the IDs in the index the set no longer reads
-- each unread report's wide row (its sealed content) just for its ID.
DROP INDEX reports_reporter_unread;
CREATE INDEX reports_reporter_unread ON reports (team_id, id) WHERE reporter_unread <> 0;
