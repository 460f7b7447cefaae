-- Reply templates (issue 13): boilerplate answers admins keep per public
-- language ("we received your report …"), offered next to the case
-- page's composer. Office text, not case content: no reporter's words are
-- in it, so it is stored in plain like the office's identity. A
-- counsellor's message made from one is sealed like any other message.
CREATE TABLE reply_templates (
    id       INTEGER PRIMARY KEY,
    language TEXT NOT NULL,  -- a public language code (i18n)
    title    TEXT NOT NULL,
    body     TEXT NOT NULL
) STRICT;
CREATE INDEX reply_templates_language ON reply_templates (language, title);
