//go:build linux

package main

import (
	"syscall"
	"testing"
)

// After noCoreDumps the process is not dumpable and its soft core limit
// is 0, so a crash leaves no core file with keys in it; restore gives the
// test binary its state back.
func TestNoCoreDumps(t *testing.T) {
	var before syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_CORE, &before); err != nil {
		t.Fatal(err)
	}
	wasDumpable, err := dumpable()
	if err != nil {
		t.Fatal(err)
	}
	restore, err := noCoreDumps()
	if err != nil {
		t.Fatalf("noCoreDumps: %v", err)
	}
	if d, err := dumpable(); err != nil || d {
		t.Errorf("PR_GET_DUMPABLE after noCoreDumps = %t, %v; want not dumpable", d, err)
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_CORE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur != 0 {
		t.Errorf("RLIMIT_CORE soft limit after noCoreDumps = %d, want 0", lim.Cur)
	}
	restore()
	if d, _ := dumpable(); d != wasDumpable {
		t.Errorf("dumpable after restore = %t, want %t", d, wasDumpable)
	}
	if err := syscall.Getrlimit(syscall.RLIMIT_CORE, &lim); err != nil || lim != before {
		t.Errorf("RLIMIT_CORE after restore = %+v, want %+v", lim, before)
	}
}
