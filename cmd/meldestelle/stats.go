package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/storage"
)

// statsKFlag registers -stats-k (env MELDESTELLE_STATS_K): counts from 1
// to k−1 are published as "<k". Values below 3 are refused when used.
func statsKFlag(fs *flag.FlagSet) *int {
	k, err := strconv.Atoi(env("MELDESTELLE_STATS_K", strconv.Itoa(reporting.StatsK)))
	if err != nil {
		k = 0 // refused by CheckStatsK, with a message, instead of silently 5
	}
	return fs.Int("stats-k", k, "statistics: counts below k are published as <k; at least 3 (env MELDESTELLE_STATS_K)")
}

// statsKError says why a k is refused.
func statsKError(k int) error {
	if reporting.CheckStatsK(k) != nil {
		return fmt.Errorf("statistics threshold k=%d refused: it must be at least %d", k, reporting.MinStatsK)
	}
	return nil
}

// stats runs `meldestelle stats -year Y -format csv|json`: the year's
// suppressed tables on standard output, from the statistical records only.
func stats(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c config
	fs := flag.NewFlagSet("stats", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.flags(fs)
	year := fs.Int("year", now().Year(), "year the cases were received")
	format := fs.String("format", "csv", "output format: csv or json")
	table := fs.String("table", "", "csv: only this table (e.g. ground, ground_area)")
	k := statsKFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := statsKError(*k); err != nil {
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
	st, err := reporting.YearStatistics(ctx, db, *year, *k)
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
