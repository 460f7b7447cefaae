package storage

import "time"

// OnCheckpoint makes f see each checkpoint attempt's result (busy flag,
// frames in the -wal, frames moved back), so that tests know when a
// reader blocked one.
func (db *DB) OnCheckpoint(f func(busy, logFrames, moved int)) { db.checkpointed = f }

// SetCheckpointPatience shortens how long Checkpoint retries, so that a
// test of giving up does not wait five seconds.
func (db *DB) SetCheckpointPatience(d time.Duration) { db.checkpointPatience = d }
