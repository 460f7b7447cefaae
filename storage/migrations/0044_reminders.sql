-- Reminders (Wiedervorlage, issue 13): at most one open reminder per case.
-- The due day is plain, so that "due today and overdue" is one indexed
-- query; the reason is case content and sealed to the team's public key
-- like a note (AD binds the case, the due day, the author and the time),
-- never stored in plain. team_id names the team it is sealed to.
CREATE TABLE reminders (
    report_id TEXT PRIMARY KEY REFERENCES reports(id),
    team_id   INTEGER NOT NULL REFERENCES teams(id),
    due       TEXT NOT NULL,  -- a date (YYYY-MM-DD), never a time of day
    user_id   INTEGER NOT NULL REFERENCES users(id),
    at        TEXT NOT NULL,  -- when it was set, RFC 3339, UTC
    reason    BLOB NOT NULL
) STRICT;
CREATE INDEX reminders_due ON reminders (team_id, due);

-- A reminder is sealed to the team that held the case when it was set; a
-- case moved to another team could not open it there, so it goes with the
-- move (the new team sets its own).
CREATE TRIGGER reminders_follow_transfer AFTER UPDATE OF team_id ON reports
WHEN NEW.team_id <> OLD.team_id
BEGIN
    DELETE FROM reminders WHERE report_id = NEW.id;
END;

-- The last day each person was sent the reminder mail: at most one a day.
CREATE TABLE reminder_mails (
    user_id INTEGER PRIMARY KEY REFERENCES users(id),
    day     TEXT NOT NULL
) STRICT;
