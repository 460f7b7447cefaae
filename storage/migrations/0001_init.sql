-- The first schema: deployment settings, teams and their keys, office users
-- and sessions, and reports. Every column that holds report content, a
-- contact, or a private key holds a ciphertext.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;

CREATE TABLE teams (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    public_key     BLOB NOT NULL,
    municipalities TEXT NOT NULL -- comma-separated municipality codes
) STRICT;

-- A team's private key sealed to the recovery key pair (whose public half
-- is the setting 'recovery_public_key').
CREATE TABLE recovery_envelopes (
    team_id INTEGER PRIMARY KEY REFERENCES teams(id),
    wrapped BLOB NOT NULL
) STRICT;

CREATE TABLE users (
    id                 INTEGER PRIMARY KEY,
    name               TEXT NOT NULL UNIQUE,
    role               TEXT NOT NULL CHECK (role IN ('admin', 'counsellor', 'statistician')),
    salt               BLOB NOT NULL,
    kdf_params         TEXT NOT NULL,
    verifier_hash      BLOB NOT NULL,
    public_key         BLOB NOT NULL, -- the user's X25519 key: team keys are sealed to it
    private_key_wrapped BLOB NOT NULL, -- wrapped under the password's key-encryption key
    totp_secret_sealed BLOB,
    disabled           INTEGER NOT NULL DEFAULT 0
) STRICT;

-- A team's private key sealed to each member's public key.
CREATE TABLE user_team_keys (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    team_id INTEGER NOT NULL REFERENCES teams(id),
    wrapped BLOB NOT NULL,
    PRIMARY KEY (user_id, team_id)
) STRICT;

CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created    INTEGER NOT NULL, -- unix seconds
    last_seen  INTEGER NOT NULL
) STRICT;

-- Case numbers run per year: 2026-0001, 2026-0002, ...
CREATE TABLE case_counters (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
) STRICT;

CREATE TABLE reports (
    id           TEXT PRIMARY KEY,
    case_no      TEXT NOT NULL UNIQUE,
    team_id      INTEGER NOT NULL REFERENCES teams(id),
    received_on  TEXT NOT NULL, -- a date, never a time of day
    lookup_hash  BLOB NOT NULL UNIQUE,
    kdf_params   TEXT NOT NULL,
    sealed_key   BLOB NOT NULL,
    reporter_key BLOB NOT NULL,
    content      BLOB NOT NULL,
    status       TEXT NOT NULL,
    assignee     INTEGER REFERENCES users(id),
    language     TEXT NOT NULL
) STRICT;

-- Lists are per team, newest (highest rowid) first.
CREATE INDEX reports_team ON reports (team_id);
