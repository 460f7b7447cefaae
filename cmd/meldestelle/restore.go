package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/planb-ruhr/meldestelle/storage"
)

// errProblems ends a command that printed its problems, one a line, on
// standard output: the exit code says "not sound", the lines say why.
var errProblems = errors.New("problems found (listed above)")

// backupVerify runs `meldestelle backup verify FILE`: the file's
// integrity, schema version and counts, read without changing it.
func backupVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("backup verify", stderr, os.LookupEnv)
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: meldestelle backup verify FILE")
	}
	in, problems, err := verifyFile(ctx, fs.Arg(0))
	if err != nil {
		return err
	}
	printInspection(stdout, fs.Arg(0), in)
	for _, p := range problems {
		fmt.Fprintln(stdout, "problem:", p)
	}
	if len(problems) > 0 {
		return errProblems
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}

// verifyFile inspects a database file and lists what makes it unfit to
// restore: damage, tables that cannot be read, a schema newer than this
// binary. A file that is no database at all is a problem too, not an
// error: the operator needs the one line, not a driver's message.
func verifyFile(ctx context.Context, path string) (storage.Inspection, []string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return storage.Inspection{}, nil, fmt.Errorf("backup verify: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return storage.Inspection{}, []string{fmt.Sprintf("%s is not a regular file", path)}, nil
	}
	in, err := storage.Inspect(ctx, path)
	if err != nil {
		return in, []string{fmt.Sprintf("%s cannot be read as a Meldestelle database: %v", path, err)}, nil
	}
	problems := in.Problems
	if len(in.Schema.Unknown) > 0 {
		problems = append(problems, "schema: "+in.Schema.String()+"; restore it with that version or a newer one")
	}
	return in, problems, nil
}

// printInspection writes what verify and restore found.
func printInspection(w io.Writer, path string, in storage.Inspection) {
	fmt.Fprintf(w, "file: %s\n", path)
	if len(in.Problems) == 0 {
		fmt.Fprintln(w, "integrity: ok")
	}
	fmt.Fprintf(w, "schema: %s\n", in.Schema)
	fmt.Fprintf(w, "reports: %d\nusers: %d\nteams: %d\naudit entries: %d\n", in.Reports, in.Users, in.Teams, in.AuditEntries)
}

// restore runs `meldestelle restore [-data DIR] FILE`: it verifies the
// backup, then copies it into a data directory that holds no database.
// It never overwrites one: a restore over the live data would destroy
// every report received since the backup, and the operator must decide
// that by moving the old file away, not by a typo.
func restore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c config
	fs := c.sharedFlags("restore", stderr, os.LookupEnv)
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: meldestelle restore [-data DIR] FILE")
	}
	src := fs.Arg(0)
	in, problems, err := verifyFile(ctx, src)
	if err != nil {
		return err
	}
	printInspection(stdout, src, in)
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(stdout, "problem:", p)
		}
		return fmt.Errorf("restore: %s did not verify; nothing was restored", src)
	}
	dst := filepath.Join(c.data, storage.FileName)
	for _, name := range []string{dst, dst + "-wal", dst + "-shm"} {
		if _, err := os.Lstat(name); err == nil {
			return fmt.Errorf("restore: %s exists: the data directory holds a database already; stop the service and move the data directory's meldestelle.db* files away first (nothing was restored)", name)
		} else if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("restore: %w", err)
		}
	}
	// 0700 like storage.Open makes it: the database shows who was
	// received when.
	if err := os.MkdirAll(c.data, 0o700); err != nil {
		return fmt.Errorf("restore: data directory: %w", err)
	}
	if err := os.Chmod(c.data, 0o700); err != nil {
		return fmt.Errorf("restore: data directory: %w", err)
	}
	if err := copyNew(src, dst); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	fmt.Fprintf(stdout, "\nrestored to %s (mode 0600)\n\n", dst)
	secret := c.secretPath()
	if _, err := os.Stat(secret); err == nil {
		fmt.Fprintf(stdout, "The server secret is at %s; it must be the one of the deployment this backup comes from.\n", secret)
	} else {
		fmt.Fprintf(stdout, "Not in the backup, by design; put it back before the start:\n  - the server secret: copy it from where you keep it with the recovery key to %s\n    (mode 0600, owned by the service user). Without it the service refuses to start.\n", secret)
	}
	fmt.Fprintf(stdout, "The recovery key stays offline; it is needed only if every admin's password is lost (meldestelle recover).\n"+
		"The files must belong to the service user: chown -R <user> %s\n"+
		"Then start the service; users log in again with their passwords.\n", c.data)
	return nil
}

// copyNew copies src to dst, which must not exist, with mode 0600: it is
// written under a temporary name, flushed, and linked to dst, which fails
// rather than replace a file that appeared meanwhile.
func copyNew(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".restoring"
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return err
	}
	if err := os.Link(tmp, dst); err != nil {
		return err
	}
	return syncFile(filepath.Dir(dst))
}
