-- A team whose key could not be rotated when a member lost it (issue 9):
-- the acting admin did not hold the key, so the user's copy was deleted
-- but the key stayed. rotate_pending marks the team; the next login of a
-- member holding the key rotates it and clears the mark in the same
-- transaction. The mark is not under the team row's MAC: a database
-- writer clearing it only delays a rotation, and such a writer can keep
-- any key from being used anyway.
ALTER TABLE teams ADD COLUMN rotate_pending INTEGER NOT NULL DEFAULT 0;
