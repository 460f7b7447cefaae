package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
	"github.com/planb-ruhr/meldestelle/storage"
)

// secretCmd runs `meldestelle secret init`: for a deployment from before
// the server secret existed, it creates the secret file, shows the keys
// and settings it is about to trust, and after the operator confirms
// MACs them and keys the audit chain from the next entry on. The server
// must be stopped.
func secretCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "init" {
		return errors.New("usage: meldestelle secret init [-data DIR] [-secret-file PATH] [-yes] [-lost]")
	}
	var c config
	fs := c.sharedFlags("secret init", stderr, os.LookupEnv)
	yes := fs.Bool("yes", false, "trust what is listed without asking (for scripts)")
	lost := fs.Bool("lost", false, "the deployment had a secret and the file is lost for good (no copy anywhere): adopt a new one; audit entries keyed with the old one can then only be checked for their links")
	if err := fs.parse(args[1:]); err != nil {
		return err
	}
	path := c.secretPath()
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("%s exists already: this deployment has its secret", path)
	}
	db, err := storage.Open(c.data)
	if err != nil {
		return err
	}
	defer db.Close()
	secret, err := vault.CreateSecret(path)
	if err != nil {
		return err
	}
	anchor := reporting.NewAnchor(secret)
	db.SetAuditKey(anchor.AuditKey())
	office := reporting.NewOffice(db, vault.NewKDF(1), vault.DefaultParams, anchor, now)
	defer office.Close()
	in := bufio.NewReader(stdin)
	var from int64
	var keyErr error
	err = office.AdoptSecret(ctx, func(trusted []string) bool {
		fmt.Fprintln(stdout, "These keys and settings will be trusted as they are now. Compare them with what you know (team names, users, key fingerprints from earlier `audit verify` heads or notes):")
		for _, t := range trusted {
			fmt.Fprintln(stdout, "  "+t)
		}
		if !*yes {
			fmt.Fprint(stdout, "Trust them? Type yes: ")
			line, _ := in.ReadString('\n')
			if strings.TrimSpace(line) != "yes" {
				return false
			}
		}
		return true
	}, func(ctx context.Context) error {
		from, keyErr = db.KeyAuditChain(ctx, *lost)
		return keyErr
	})
	if keyErr != nil {
		err = keyErr
	}
	if err == nil {
		{
			fmt.Fprintf(stdout, "Secret written to %s (mode 0600). The audit chain is keyed from entry %d on.\nBack the file up NOW, next to the recovery key, and never into a database backup.\n", path, from)
			return nil
		}
	}
	// Nothing was trusted (or writing failed): the new file must not
	// linger, or the next start would take it for the deployment's secret.
	os.Remove(path)
	if errors.Is(err, storage.ErrAuditKeyLost) {
		return errors.New("this deployment already had a secret: restore its file from your copy; only if it is lost for good, run `meldestelle secret init -lost` (README, section \"Server secret\")")
	}
	if reporting.ErrorCode(err) == reporting.EConflict {
		return errors.New("not confirmed; nothing was changed")
	}
	return err
}
