package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/planb-ruhr/meldestelle/i18n"
	"github.com/planb-ruhr/meldestelle/reporting"
)

// recoverAdmin runs `meldestelle recover -recovery-key-stdin -admin NAME`:
// it reads the recovery key from the first line of standard input and the
// new admin's password from the second, opens every team key with the
// recovery key and creates a new admin who holds them all. Both secrets
// come on stdin, never as arguments, which other users of the machine can
// read in the process list. A wrong recovery key changes nothing.
func recoverAdmin(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var c config
	fs := c.sharedFlags("recover", stderr, os.LookupEnv)
	admin := fs.String("admin", "", "name of the new admin (required)")
	keyStdin := fs.Bool("recovery-key-stdin", false, "read the recovery key from the first line of standard input and the new admin's password from the second (required)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *admin == "" || !*keyStdin {
		return errors.New("recover needs -admin NAME and -recovery-key-stdin")
	}
	in := bufio.NewReader(stdin)
	line := func() (string, error) {
		s, err := in.ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", err
		}
		return strings.TrimRight(s, "\r\n"), nil
	}
	key, err := line()
	if err != nil {
		return err
	}
	password, err := line()
	if err != nil {
		return err
	}

	d, err := c.services(ctx, reporting.NotifierConfig{})
	if err != nil {
		return err
	}
	defer d.Close()
	tr, err := i18n.Load()
	if err != nil {
		return err
	}
	res, err := d.Accounts.Recover(ctx, key, *admin, password)
	if errs := reporting.FieldErrors(err); errs != nil {
		for field, id := range errs {
			fmt.Fprintf(stderr, "%s: %s\n", field, tr.T("en", id, nil))
		}
		return errors.New("recover refused; nothing was changed")
	}
	if code := reporting.ErrorCode(err); code != "" {
		return fmt.Errorf("%s Nothing was changed.", tr.T("en", reporting.MessageID(err), nil))
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Admin %q created with the recovery key. They hold the keys of %d team(s): %s.\nThe event is in the audit log. Log in at /office/login.\n",
		res.Admin, len(res.Teams), strings.Join(res.Teams, ", "))
	return nil
}
