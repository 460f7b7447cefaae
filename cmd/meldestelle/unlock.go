package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// unlock runs `meldestelle unlock -user NAME`: it resets the user's failed
// logins and lifts every login lock on the account, the shared one of
// unknown clients and those of known devices, and writes an audit entry.
// It is the way back in for a deployment whose only admin has no browser
// the server knows while a stranger keeps the shared lock closed; whoever
// can run it holds the server and its database already.
func unlock(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c config
	fs := c.sharedFlags("unlock", stderr, os.LookupEnv)
	user := fs.String("user", "", "name of the office user to unlock (required)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *user == "" {
		return errors.New("unlock needs -user NAME")
	}
	d, err := c.services(ctx, reporting.NotifierConfig{})
	if err != nil {
		return err
	}
	defer d.Close()
	err = d.Accounts.UnlockLoginByName(ctx, *user)
	if reporting.ErrorCode(err) == reporting.ENotFound {
		return fmt.Errorf("unlock: no office user %q; nothing was changed", *user)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Login of %q unlocked. The event is in the audit log.\n", *user)
	return nil
}
