package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/storage"
)

// stats runs `meldestelle stats -year Y -format csv|json`: the year's
// suppressed tables on standard output, from the statistical records only.
func stats(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c config
	fs := c.sharedFlags("stats", stderr, os.LookupEnv)
	year := fs.Int("year", now().Year(), "year the cases were received")
	format := fs.String("format", "csv", "output format: csv or json")
	table := fs.String("table", "", "csv: only this table (e.g. ground, ground_area)")
	c.statsKSetting(fs)
	if err := fs.parse(args); err != nil {
		return err
	}
	if *format != "csv" && *format != "json" {
		return errors.New("stats: -format must be csv or json")
	}
	db, err := storage.Open(c.data)
	if err != nil {
		return err
	}
	defer db.Close()
	st, err := reporting.YearStatistics(ctx, db, *year, c.statsK)
	if err != nil {
		if reporting.ErrorCode(err) != "" {
			return fmt.Errorf("stats: %s", reporting.MessageID(err))
		}
		return err
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	if err := reporting.WriteStatsCSV(stdout, st, *table); err != nil {
		if reporting.ErrorCode(err) == reporting.ENotFound {
			return fmt.Errorf("stats: no table %q", *table)
		}
		return err
	}
	return nil
}
