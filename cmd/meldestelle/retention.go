package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// retention runs `meldestelle retention -dry-run`: the cases whose content
// is due for deletion, one per line, without deleting anything. Without
// -dry-run it sweeps now, as serve does at start and daily.
func retention(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c config
	fs := c.sharedFlags("retention", stderr, os.LookupEnv)
	dry := fs.Bool("dry-run", false, "only list the cases whose content is due, delete nothing")
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return errors.New("retention: unexpected arguments")
	}
	d, err := c.services(ctx, reporting.NotifierConfig{})
	if err != nil {
		return err
	}
	defer d.Close()
	if !*dry {
		n, err := d.Retention.RetentionSweep(ctx, now())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "content of %d case(s) deleted\n", n)
		return nil
	}
	due, err := d.Retention.RetentionPlan(ctx, now())
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "case\treason\tstatus\tsince\tdue_on")
	for _, d := range due {
		fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\t%s\n", d.CaseNo, d.Reason, d.Status, d.Since, d.DueOn)
	}
	fmt.Fprintf(stdout, "%d case(s) due\n", len(due))
	return nil
}
