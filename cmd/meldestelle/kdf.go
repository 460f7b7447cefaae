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

// kdfCmd runs `meldestelle kdf raise`: stronger argon2id parameters for
// the receipts of new reports. A command rather than a serve flag: the
// change is made once, on purpose, audited and MACed with the server
// secret, and can only go up; a flag would be re-read at every start,
// where a mistyped value would have to be refused anyway. Old reports keep
// their parameters until their reporter's next follow-up re-derives them;
// the server picks the new parameters up at its next start (until then
// it keeps using the old ones, which stay in use, so nothing breaks).
func kdfCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const usage = "usage: meldestelle kdf raise -memory-kib N -time T [-threads P] [-data DIR] [-secret-file PATH]"
	if len(args) == 0 || args[0] != "raise" {
		return errors.New(usage)
	}
	var c config
	fs := c.sharedFlags("kdf raise", stderr, os.LookupEnv)
	memory := fs.Uint("memory-kib", 0, "argon2id memory per receipt derivation, KiB (at least the current value)")
	passes := fs.Uint("time", 0, "argon2id passes (at least the current value)")
	threads := fs.Uint("threads", uint(vault.DefaultParams.Threads), "argon2id lanes")
	if err := fs.parse(args[1:]); err != nil {
		return err
	}
	if *memory == 0 || *passes == 0 || *threads == 0 || *memory > 4<<20 || *passes > 100 || *threads > 255 {
		return errors.New(usage + " (memory 1 KiB–4 GiB, time 1–100, threads 1–255)")
	}
	p := vault.Params{MemoryKiB: uint32(*memory), Time: uint32(*passes), Threads: uint8(*threads)}
	if _, err := vault.ParseParams(p.String()); err != nil {
		return err
	}
	// The settings are MACed with the server secret: without the file
	// nothing can be raised (nor lowered by anyone else).
	secret, err := vault.LoadSecret(c.secretPath())
	if err != nil {
		return fmt.Errorf("server secret: %w", err)
	}
	db, err := storage.Open(c.data)
	if err != nil {
		return err
	}
	defer db.Close()
	anchor := reporting.NewAnchor(secret)
	db.SetAuditKey(anchor.AuditKey())
	sets, err := reporting.RaiseReceiptParams(ctx, db, anchor, vault.Floor(vault.DefaultParams), p, now())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "New reports get receipts derived with %s after the server's next start.\n", p)
	fmt.Fprintf(stdout, "Parameter sets in use: %d. Until every old report's reporter has come back once, an unknown receipt costs one argon2id per set.\n", len(sets))
	if p.MemoryKiB > vault.DefaultParams.MemoryKiB {
		fmt.Fprintf(stdout, "Each derivation now takes %d MiB: -memory-limit auto counts %d MiB per -kdf-concurrency slot; set -memory-limit by hand.\n", p.MemoryKiB/1024, vault.DefaultParams.MemoryKiB/1024)
	}
	return nil
}
