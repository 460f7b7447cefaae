package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/planb-ruhr/meldestelle/storage"
)

// backup runs `meldestelle backup [-data DIR] PATH`, or `backup verify
// FILE` (restore.go). The first is a consistent copy of
// the database, taken while the server keeps running, into a new file
// (never over an existing one) with mode 0600.
func backup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "verify" {
		return backupVerify(ctx, args[1:], stdout, stderr)
	}
	var c config
	fs := c.sharedFlags("backup", stderr, os.LookupEnv)
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: meldestelle backup [-data DIR] PATH")
	}
	db, err := storage.Open(c.data)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Backup(ctx, fs.Arg(0)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s\n", fs.Arg(0))
	return nil
}
