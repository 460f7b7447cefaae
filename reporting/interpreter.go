package reporting

import (
	"context"
	"regexp"
	"strings"

	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// AlteredInterpreter is the kind of an interpreter mark that did not open
// (AlteredItem): shown as altered, the rest of the case page stays usable.
const AlteredInterpreter = "interpreter"

// purposeInterpreter is the AD purpose of a case's interpreter mark.
const purposeInterpreter = "interpreter"

// maxLanguageCode bounds a language code typed by a counsellor (BCP 47
// allows more, no interpreter needs it).
const maxLanguageCode = 35

// languageCode is what a typed language code may look like: a BCP 47
// primary tag of two or three letters with up to three subtags ("ku",
// "rom", "sr-Latn", "ar-SY"); the office's own codes (i18n) fit it too.
var languageCode = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$`)

// InterpreterStore keeps the "interpreter needed" mark of a case, sealed.
type InterpreterStore interface {
	// Interpreter returns a case's sealed mark; nil when it has none.
	// ENotFound if there is no such case.
	Interpreter(ctx context.Context, reportID string) ([]byte, error)
	// SetInterpreter stores a case's sealed mark, or clears it with nil,
	// if the case still belongs to team teamID and has its content;
	// EConflict otherwise.
	SetInterpreter(ctx context.Context, reportID string, teamID int64, sealed []byte) error
}

// InterpreterForm is the "interpreter needed" form as typed.
type InterpreterForm struct {
	Needed   bool
	Language string // a language code: one of the office's (i18n) or any other
}

// interpreterAD binds a mark to its case: copied onto another case's row
// it does not open.
func interpreterAD(reportID string) vault.AD {
	return vault.AD{Purpose: purposeInterpreter, Row: reportID}
}

// Validate checks the form and returns the language to store ("" when no
// interpreter is needed), or field errors under "interpreter_language".
func (f InterpreterForm) Validate() (string, error) {
	if !f.Needed {
		return "", nil
	}
	lang := strings.TrimSpace(f.Language)
	if primary, rest, ok := strings.Cut(lang, "-"); ok {
		lang = strings.ToLower(primary) + "-" + rest
	} else {
		lang = strings.ToLower(lang)
	}
	switch {
	case lang == "":
		return "", fieldErrors{"interpreter_language": "error.interpreter.language.required"}.err()
	case len(lang) > maxLanguageCode || !languageCode.MatchString(lang):
		return "", fieldErrors{"interpreter_language": "error.interpreter.language.invalid"}.err()
	}
	return lang, nil
}

// SetInterpreter marks a case "interpreter needed" with a language, or
// removes the mark. The language is sealed under the case's data key:
// which language a reporter speaks narrows who they are, and the report's
// own language is sealed with its content for the same reason. For that
// reason too the audit entry says only "set" or "cleared", never the
// language (audit details are plain text).
func (cs *Cases) SetInterpreter(ctx context.Context, s *OfficeSession, id string, f InterpreterForm) error {
	r, team, err := openCase(ctx, cs.store, s, id)
	if err != nil {
		return opError("set interpreter", err)
	}
	lang, err := f.Validate()
	if err != nil {
		return err
	}
	// Sealed before the unit of work: it holds the only writer.
	var sealed []byte
	detail := "cleared"
	if lang != "" {
		dk, err := dataKey(team, r)
		if err != nil {
			return opError("set interpreter", err)
		}
		sealed, detail = dk.Seal([]byte(lang), interpreterAD(id)), "set"
	}
	return opError("set interpreter", cs.audited(ctx, s, AuditInterpreter, id, detail, func(ctx context.Context) error {
		return cs.store.SetInterpreter(ctx, id, r.TeamID, sealed)
	}))
}

// interpreter opens a case's mark: the language, "" for none. A mark
// that does not open under the case's key and row is returned as an
// altered item, to be shown and audited as such.
func (cs *Cases) interpreter(ctx context.Context, team *vault.KeyPair, r CaseRow) (string, []AlteredItem, error) {
	sealed, err := cs.store.Interpreter(ctx, r.ID)
	if err != nil || len(sealed) == 0 || r.ContentDeletedOn != "" {
		return "", nil, err
	}
	dk, err := dataKey(team, r)
	if err != nil {
		return "", nil, err
	}
	lang, err := dk.Open(sealed, interpreterAD(r.ID))
	if err != nil {
		return "", []AlteredItem{{AlteredInterpreter, r.ID}}, nil
	}
	return string(lang), nil, nil
}
