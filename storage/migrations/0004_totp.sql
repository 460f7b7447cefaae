-- Two-factor login (TOTP, RFC 6238). The secret itself lives in
-- users.totp_secret_sealed (0001), sealed under the password's KEK; NULL
-- there means two-factor is off.

-- The last TOTP time step (unix time / 30 s) that was accepted for the
-- user. A code is only accepted for a later step, so a code seen over a
-- shoulder or in a proxy log cannot be used a second time.
ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;

-- One-time recovery codes, as SHA-256 hashes only; a row is deleted when
-- its code is used.
CREATE TABLE totp_recovery_codes (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    hash    BLOB NOT NULL,
    PRIMARY KEY (user_id, hash)
) STRICT;
