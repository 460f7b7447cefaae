-- Revocation that holds (issue 9): when a member leaves a team, the team's
-- key is rotated. The replaced private key is kept here, sealed to the
-- public key that replaced it (successor_key), so whoever holds the
-- current key opens every earlier one by walking back the chain, and with
-- it the cases sealed before the rotation. A former member holds only keys
-- from before they left; this table opens nothing for them.
CREATE TABLE team_previous_keys (
    team_id       INTEGER NOT NULL REFERENCES teams(id),
    public_key    BLOB NOT NULL, -- the replaced key's public half
    successor_key BLOB NOT NULL, -- the public key it is sealed to
    wrapped       BLOB NOT NULL, -- its private half, sealed to successor_key
    PRIMARY KEY (team_id, public_key)
) STRICT;
