//go:build linux

package main

import (
	"fmt"
	"syscall"
)

// noCoreDumps keeps the server's memory out of core dumps: decrypted team
// keys, data keys and report texts live there, and a core file lands on
// disk, readable by whoever collects crashes, long after the session that
// unlocked them. PR_SET_DUMPABLE 0 also stops other processes of the same
// user from attaching a debugger or reading /proc/PID/mem. The soft
// RLIMIT_CORE is set to 0 too, in case something sets the process dumpable
// again; the systemd unit's LimitCORE=0 sets the hard limit as well.
//
// It returns a function that restores the previous state, so that tests
// running serve in-process leave the test binary as they found it.
func noCoreDumps() (restore func(), err error) {
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_CORE, &old); err != nil {
		return nil, fmt.Errorf("core dumps off: get RLIMIT_CORE: %w", err)
	}
	wasDumpable, err := dumpable()
	if err != nil {
		return nil, err
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{Cur: 0, Max: old.Max}); err != nil {
		return nil, fmt.Errorf("core dumps off: set RLIMIT_CORE: %w", err)
	}
	if err := setDumpable(false); err != nil {
		syscall.Setrlimit(syscall.RLIMIT_CORE, &old)
		return nil, err
	}
	return func() {
		setDumpable(wasDumpable)
		syscall.Setrlimit(syscall.RLIMIT_CORE, &old)
	}, nil
}

// dumpable reads the process's dumpable flag (prctl PR_GET_DUMPABLE).
func dumpable() (bool, error) {
	r, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_GET_DUMPABLE, 0, 0)
	if errno != 0 {
		return false, fmt.Errorf("core dumps off: PR_GET_DUMPABLE: %w", errno)
	}
	return r != 0, nil
}

// setDumpable sets the process's dumpable flag (prctl PR_SET_DUMPABLE).
func setDumpable(on bool) error {
	v := uintptr(0)
	if on {
		v = 1
	}
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_DUMPABLE, v, 0); errno != 0 {
		return fmt.Errorf("core dumps off: PR_SET_DUMPABLE: %w", errno)
	}
	return nil
}
