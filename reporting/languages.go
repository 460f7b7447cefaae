package reporting

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// SettingsStore is what the Settings service reads and writes: plain
// (not MACed) settings and the audit log. storage.DB implements it.
type SettingsStore interface {
	AuditStore
	// Setting returns a deployment setting, or an ENotFound error.
	Setting(ctx context.Context, key string) ([]byte, error)
	// PutSetting stores or replaces a setting.
	PutSetting(ctx context.Context, key string, value []byte) error
}

// Settings keeps the office's public face: its identity and logo
// (identity.go) and which public languages are offered. None of it is a
// security setting, so none is MACed (see each setting's comment).
type Settings struct {
	auditor
	store SettingsStore
}

// NewSettings returns the settings service.
func NewSettings(store SettingsStore, now func() time.Time) *Settings {
	return &Settings{auditor: auditor{log: store, now: now}, store: store}
}

// settingLanguagesOff lists, as a JSON array of codes, the public
// languages an admin has switched off. The list of those off, not of
// those on, so that a language added in a later version is offered
// until someone decides otherwise.
//
// Not MACed like the security settings: a database writer who switches
// a language off hides a page, which the office sees at once, and can do
// far worse than that anyway.
const settingLanguagesOff = "public_languages_off"

// PublicLanguagesOff returns the codes of the public languages switched
// off; none before anyone chose.
func (st *Settings) PublicLanguagesOff(ctx context.Context) ([]string, error) {
	raw, err := st.store.Setting(ctx, settingLanguagesOff)
	if ErrorCode(err) == ENotFound {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("public languages: %w", err)
	}
	var off []string
	if err := json.Unmarshal(raw, &off); err != nil {
		return nil, fmt.Errorf("public languages: %w", err)
	}
	return off, nil
}

// SetPublicLanguages stores which of the known public languages are
// offered (admins only) and returns the codes now switched off. At least
// one stays on: a reporting service with no language is no service.
func (st *Settings) SetPublicLanguages(ctx context.Context, s *OfficeSession, known, on []string) ([]string, error) {
	if err := allow(s, PermSettings); err != nil {
		return nil, err
	}
	off := []string{}
	for _, code := range known {
		if !slices.Contains(on, code) {
			off = append(off, code)
		}
	}
	if len(off) == len(known) {
		return nil, fieldErrors{"languages": "languages.error.none"}.err()
	}
	raw, _ := json.Marshal(off)
	err := st.audited(ctx, s, AuditSettings, "", "languages_off="+strings.Join(off, ","), func(ctx context.Context) error {
		return st.store.PutSetting(ctx, settingLanguagesOff, raw)
	})
	if err != nil {
		return nil, fmt.Errorf("public languages: %w", err)
	}
	return off, nil
}
