-- Login throttling by device (OWASP "device cookies").
--
-- users.failed_count and users.locked_until remain the account's shared
-- counter: the one every client without a known device cookie spends, so
-- a stranger's failures lock out only unknown clients. A browser that
-- completed a login (password and second factor) holds a device cookie;
-- only the SHA-256 of its random token is stored here, with the device's
-- own failure counter and lock. A device cookie authenticates nothing: it
-- only decides whose counter an attempt spends.
CREATE TABLE login_devices (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash   BLOB NOT NULL UNIQUE,
    failed_count INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER NOT NULL DEFAULT 0, -- unix seconds, 0: not locked
    created      INTEGER NOT NULL,           -- unix seconds
    last_used    INTEGER NOT NULL            -- unix seconds of the last successful login
) STRICT;
CREATE INDEX login_devices_user ON login_devices (user_id, last_used);
