package main

import (
	"context"
	"errors"
	"io"
)

// recoverAdmin runs `meldestelle recover`: with the recovery key it creates
// a new admin who holds every team's key. (Issue 3, accounts work.)
func recoverAdmin(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return errors.New("recover: not built yet")
}
