//go:build linux || darwin || freebsd || netbsd || openbsd

package main

import (
	"io/fs"
	"syscall"

	"golang.org/x/sys/unix"
)

// fileOwner returns the user ID that owns a file.
func fileOwner(fi fs.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}

// diskFree returns the bytes an unprivileged process may still write on
// the file system holding path.
func diskFree(path string) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, err
	}
	return uint64(st.Bavail) * uint64(st.Bsize), nil
}
