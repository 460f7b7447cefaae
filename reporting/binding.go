package reporting

import (
	"context"
	"errors"

	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// Ciphertext binding (issue 9, item 5). A message, a note and a file's
// key and meta data are sealed under a version 2 AD (vault.AD.Bind) that
// binds what their row says about them besides its ID: a message's author
// and day, a note's author and time, the message a file belongs to. A
// database writer who changes such a column (a counsellor's answer turned
// into the reporter's, a file moved to another message) makes the item
// refuse to open; it is then shown as altered, never with the changed
// meaning.
//
// Rows written before version 2 keep opening under their version 1 AD:
// re-sealing them in a migration would need every team's key, which the
// server never holds at once, so they are read both ways while every
// write is version 2. A version 2 ciphertext never opens under a version 1
// AD (the AD encodings differ in their version byte), so no one can turn
// a bound row into an unbound one; only rows that were never bound stay
// as changeable as they were.

// AuditAltered records that a stored item did not open under what its row
// says: the detail names the kind ("message", "note", "attachment") and
// the item's ID, never content.
const AuditAltered = "altered"

// EAltered is the code of an error about stored data that was changed
// outside the application: the item is refused, not shown changed.
const EAltered = "altered"

// Kinds of items whose binding is checked, for audit details and logs.
const (
	AlteredMessage    = "message"
	AlteredNote       = "note"
	AlteredAttachment = "attachment"
)

// AlteredItem names one stored item that did not open.
type AlteredItem struct {
	Kind string // one of the Altered* kinds
	ID   string
}

// openBound opens ct under the version 2 AD v2, or, for a row written
// before version 2, under its version 1 AD v1. Either may succeed; a
// version 2 ciphertext cannot open under v1 (see the comment above).
func openBound[T any](open func([]byte, vault.AD) (T, error), ct []byte, v2, v1 vault.AD) (T, error) {
	out, err := open(ct, v2)
	if err == nil {
		return out, nil
	}
	return open(ct, v1)
}

// isAltered reports whether err means that a ciphertext did not open, as
// opposed to a failure of the database or the context.
func isAltered(err error) bool { return errors.Is(err, vault.ErrOpen) }

// auditAltered writes one audit entry per altered item of case id. It is
// written with the office session that came upon the items: the entry
// says who saw the case refuse them. The entries commit together, and
// with the unit of work ctx runs in, if any (the opening they belong to).
func (a auditor) auditAltered(ctx context.Context, s *OfficeSession, id string, items []AlteredItem) error {
	if len(items) == 0 {
		return nil
	}
	return a.log.Atomically(ctx, func(ctx context.Context) error {
		for _, it := range items {
			if err := a.audit(ctx, s, AuditAltered, id, it.Kind+" "+it.ID); err != nil {
				return err
			}
		}
		return nil
	})
}
