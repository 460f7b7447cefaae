package storage

import "database/sql"

// WriteConn exposes the single-connection writer pool, so that tests can
// check the PRAGMAs really in effect on it.
func (db *DB) WriteConn() *sql.DB { return db.write }

// ReadConn exposes the read pool, for the same reason.
func (db *DB) ReadConn() *sql.DB { return db.read }

// SetDriveMax changes the largest set a list query starts from, so that
// a small fixture exercises both plans; it returns the restore.
func SetDriveMax(n int) func() {
	old := driveMax
	driveMax = n
	return func() { driveMax = old }
}
