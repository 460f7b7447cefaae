package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
	"github.com/planb-ruhr/meldestelle/storage"
)

// audit runs `meldestelle audit verify`: it walks the audit log's hash
// chain and fails when an entry was altered, removed or cut off the end.
func audit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return errors.New("usage: meldestelle audit verify [-data DIR]")
	}
	var c config
	fs := c.sharedFlags("audit verify", stderr, os.LookupEnv)
	if err := fs.parse(args[1:]); err != nil {
		return err
	}
	db, err := storage.Open(c.data)
	if err != nil {
		return err
	}
	defer db.Close()
	// The chain's HMACs are keyed with the server secret: without the
	// file, anyone who can write the database could recompute them after
	// deleting an entry. So verifying needs the file too.
	secret, err := vault.LoadSecret(c.secretPath())
	if errors.Is(err, vault.ErrNoSecret) {
		return fmt.Errorf("no server secret at %s: `audit verify` needs it (-secret-file / MELDESTELLE_SECRET_FILE)", c.secretPath())
	} else if err != nil {
		return err
	}
	db.SetAuditKey(reporting.NewAnchor(secret).AuditKey())
	if _, err := db.VerifyAudit(ctx); err != nil {
		if reporting.ErrorCode(err) == reporting.EConflict {
			return errors.New(reporting.MessageID(err))
		}
		return err
	}
	last, n, err := db.AuditEntries(ctx, "", reporting.Page{Limit: 1})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "audit log intact: %d entries\n", n)
	// The chain proves nothing against someone who rewrites every hash
	// after an edit; the head, noted somewhere else (a paper log, a
	// monitoring system), does: a later head must extend it.
	if len(last) > 0 {
		fmt.Fprintf(stdout, "head: entry %d, hash %x\n", last[0].ID, last[0].Hash)
		fmt.Fprintln(stdout, "Keep this head outside the server (paper log, monitoring): the next verify must show the same entry and hash or a later entry; anything else means entries were cut off the end.")
	}
	return nil
}
