-- Attachments of follow-up messages (issue 4): a file the reporter sends
-- with a message keeps its report_id (so withdrawal and retention find it
-- as before) and names its message. NULL: a file of the report itself.
-- No foreign key on purpose, as for report_id: the files stream in before
-- the message row exists and are only shown once it does.
ALTER TABLE attachments ADD COLUMN message_id TEXT;
CREATE INDEX attachments_message ON attachments (message_id) WHERE message_id IS NOT NULL;
