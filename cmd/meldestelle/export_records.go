package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// exportRecords runs `meldestelle export-records -year Y [-format csv|json]
// [-k K] [-o FILE]`: the year's statistical records, made k-anonymous,
// for the NRW reporting network (docs/network-export.md). The export is
// audited as the system before anything is written.
func exportRecords(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c config
	fs := c.sharedFlags("export-records", stderr, os.LookupEnv)
	year := fs.Int("year", now().Year(), "year the cases were received")
	format := fs.String("format", "csv", "output format: csv or json")
	k := fs.Int("k", 0, "k-anonymity: every combination of the quasi-identifiers occurs at least k times; 0 = the statistics k (-stats-k), a smaller one is refused")
	out := fs.String("o", "", "write to this file instead of standard output (created with mode 0600)")
	c.statsKSetting(fs)
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return errors.New("export-records: unexpected arguments")
	}
	if *format != "csv" && *format != "json" {
		return errors.New("export-records: -format must be csv or json")
	}
	if *k != 0 && *k < c.statsK {
		return fmt.Errorf("export-records: -k %d is below the statistics k %d", *k, c.statsK)
	}
	d, err := c.services(ctx, reporting.NotifierConfig{})
	if err != nil {
		return err
	}
	defer d.Close()
	x, err := d.NetworkExports.ExportAsSystem(ctx, *year, *k, *format)
	if err != nil {
		if reporting.ErrorCode(err) != "" {
			return fmt.Errorf("export-records: %s", reporting.MessageID(err))
		}
		return err
	}
	w := stdout
	if *out != "" {
		// 0600: the rows are coarse, but they are the office's records
		// and are meant for the network, not for every user of the host.
		f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("export-records: %w", err)
		}
		defer f.Close()
		w = f
	}
	write := reporting.WriteNetworkCSV
	if *format == "json" {
		write = reporting.WriteNetworkJSON
	}
	if err := write(w, x); err != nil {
		return fmt.Errorf("export-records: %w", err)
	}
	if f, ok := w.(*os.File); ok && *out != "" {
		if err := f.Close(); err != nil {
			return fmt.Errorf("export-records: %w", err)
		}
	}
	fmt.Fprintf(stderr, "%d row(s) of %d record(s), %d suppressed, k=%d\n", len(x.Rows), x.Records, x.Suppressed, x.K)
	return nil
}
