-- Integrity anchor (issue 9): MACs under keys derived from the server
-- secret, which lives in its own file outside the database. A database
-- writer without that file cannot make a valid MAC, so a swapped public
-- key, a rogue team or a changed security setting is refused when read.
-- NULL: not MACed (a row from before the secret was adopted); the domain
-- treats it as a mismatch. `meldestelle secret init` MACs the rows of an
-- existing deployment once, after showing the operator what it trusts.
ALTER TABLE teams ADD COLUMN mac BLOB;    -- over name, public key, municipalities
ALTER TABLE users ADD COLUMN mac BLOB;    -- over name, salt, public key
ALTER TABLE settings ADD COLUMN mac BLOB; -- over key and value, for security settings
