-- Accounts: login throttling, the day of the last login, and invitations.
--
-- An invited user has a users row from the moment of the invitation (so
-- that team keys can be sealed to their public key right away), but an
-- empty verifier_hash and private_key_wrapped until they accept: no
-- password derives an empty verifier, so nobody can log in as them.

-- Failed logins since the last success; from the fifth on, the account
-- is locked until locked_until (unix seconds, 0: not locked).
ALTER TABLE users ADD COLUMN failed_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until INTEGER NOT NULL DEFAULT 0;
-- The day of the last successful login ("2026-05-20"), never a time.
ALTER TABLE users ADD COLUMN last_login TEXT;

-- A pending invitation: only the SHA-256 of the link's token, and the
-- user's private key wrapped under a key derived from the token. The row
-- goes when the invitation is accepted, withdrawn or found expired.
CREATE TABLE invitations (
    user_id             INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    token_hash          BLOB NOT NULL UNIQUE,
    private_key_wrapped BLOB NOT NULL,
    expires             INTEGER NOT NULL, -- unix seconds
    created_by          INTEGER REFERENCES users(id) ON DELETE SET NULL
) STRICT;
