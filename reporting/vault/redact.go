package vault

import (
	"fmt"
	"io"
)

// Key types print as their name and "REDACTED" with every fmt verb (%v,
// %+v, %#v, %s, %x, %q, %d…): Format wins over String and GoString in fmt,
// so a key that slips into a log line, an error or a test failure shows
// no byte of itself. Receipt.String still gives the digits for the one
// page that shows them to the reporter; only fmt redacts.

func redact(f fmt.State, name string) { io.WriteString(f, name+"{REDACTED}") }

// Format redacts the key for fmt.
func (k Key) Format(f fmt.State, _ rune) { redact(f, "vault.Key") }

// Format redacts the key pair for fmt; the public half is no secret but
// is left out too, so that nobody has to check which half was printed.
func (kp KeyPair) Format(f fmt.State, _ rune) { redact(f, "vault.KeyPair") }

// Format redacts the credentials for fmt (the KEK opens the user's keys,
// the verifier is what the database compares against).
func (c Credentials) Format(f fmt.State, _ rune) { redact(f, "vault.Credentials") }

// Format redacts the reporter's access for fmt.
func (a ReporterAccess) Format(f fmt.State, _ rune) { redact(f, "vault.ReporterAccess") }

// Format redacts the keyring for fmt.
func (r *Keyring) Format(f fmt.State, _ rune) { redact(f, "vault.Keyring") }

// Format redacts the receipt for fmt: it is the reporter's only key to
// their report.
func (r Receipt) Format(f fmt.State, _ rune) { redact(f, "vault.Receipt") }
