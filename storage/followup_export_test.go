package storage

// WithdrawDeletes exposes the tables a withdrawal empties, for the test
// that every table referring to a report is among them.
var WithdrawDeletes = withdrawDeletes
