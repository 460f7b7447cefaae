package reporting

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Error codes. The web layer maps them to HTTP statuses; anything that is
// not an *Error is an internal error and is shown as "internal error"
// without its text.
const (
	EInvalid      = "invalid"      // input failed validation
	ENotFound     = "not_found"    // no such thing, or not for you
	EUnauthorized = "unauthorized" // wrong credentials or no session
	EConflict     = "conflict"     // the state does not allow it
)

// Error is an application error: a code, a translatable message ID, and for
// validation errors the message ID of each field that failed.
type Error struct {
	Code      string
	MessageID string
	Fields    map[string]string // form field name → message ID
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return "reporting: " + e.Code + ": " + e.MessageID
	}
	return "reporting: " + e.Code + ": " + strings.Join(slices.Sorted(maps.Keys(e.Fields)), ",")
}

// Errorf returns an application error with a code and a message ID.
func Errorf(code, messageID string) *Error { return &Error{Code: code, MessageID: messageID} }

// ErrorCode returns the code of an application error, or "" for any other
// error (which callers must treat as internal).
func ErrorCode(err error) string {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return ""
}

// MessageID returns the message ID of an application error, or
// "error.internal" for any other error.
func MessageID(err error) string {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.MessageID
	}
	return "error.internal"
}

// FieldErrors returns the per-field message IDs of a validation error.
func FieldErrors(err error) map[string]string {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Fields
	}
	return nil
}

// fieldErrors collects validation failures by field.
type fieldErrors map[string]string

func (f fieldErrors) add(field, messageID string) {
	if _, ok := f[field]; !ok { // the first problem of a field is the one shown
		f[field] = messageID
	}
}

func (f fieldErrors) err() error {
	if len(f) == 0 {
		return nil
	}
	return &Error{Code: EInvalid, MessageID: "error.form", Fields: f}
}

// opError names the operation on an error that leaves a service: a coded
// *Error (and nil) comes back unchanged, since the web layer shows its
// message and must still find its code; anything else (a store or vault
// failure) is wrapped as "op: err", so a log line says what was being done.
func opError(op string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := errors.AsType[*Error](err); ok {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}
