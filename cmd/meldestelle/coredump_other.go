//go:build !linux

package main

// noCoreDumps does nothing outside Linux: prctl does not exist there, and
// the service is deployed on Linux (see README, LimitCORE=0).
func noCoreDumps() (restore func(), err error) { return func() {}, nil }
