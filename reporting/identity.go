package reporting

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"net/http"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The office's public identity (issue 11): who runs the service, how to
// reach it, its Impressum, its data protection officer and the
// supervisory authority a reporter may complain to. Every public page
// shows the contact; the contact, Impressum and privacy pages show the
// rest, as the admin typed it.
//
// Not MACed like the security settings: it is public text that the
// office sees on every public page, and a database writer who changes it
// can do far worse anyway.
const settingIdentity = "public_identity"

// The default supervisory authority: the office is in North
// Rhine-Westphalia, whose data protection authority hears complaints.
const (
	DefaultAuthorityName    = "Landesbeauftragte für Datenschutz und Informationsfreiheit Nordrhein-Westfalen"
	DefaultAuthorityAddress = "Kavalleriestraße 2–4\n40213 Düsseldorf"
)

// Field length limits, in characters: a line is a name, a number or an
// address line, a text a few lines. Bounded, because every public page
// carries the contact.
const (
	MaxIdentityLine = 200
	MaxIdentityText = 1000
	// MaxCounsellingLines bounds the local counselling numbers.
	MaxCounsellingLines = 10
)

// Identity is the office's public identity. The JSON form is the stored
// setting; every field is text as the admin typed it.
type Identity struct {
	Name    string `json:"name"`    // the office (and controller) as the public knows it
	Address string `json:"address"` // postal address, one line per line
	Phone   string `json:"phone"`
	Hours   string `json:"hours"` // opening hours, free text
	Email   string `json:"email"`
	// Impressum details (§ 5 DDG), free text each.
	Responsible string `json:"responsible"` // the person responsible for the content
	LegalForm   string `json:"legal_form"`
	Register    string `json:"register"` // register court and number
	// The data protection officer.
	DPOName    string `json:"dpo_name"`
	DPOContact string `json:"dpo_contact"`
	// The supervisory authority a reporter may complain to.
	AuthorityName    string `json:"authority_name"`
	AuthorityAddress string `json:"authority_address"`
	// Counselling lists local counselling numbers for emergencies, one
	// entry a line, shown next to 110 and 112 on the form pages.
	Counselling string `json:"counselling"`
}

// DefaultIdentity is the identity before an admin entered one: nothing
// but the supervisory authority, which is the same for every office in
// North Rhine-Westphalia.
func DefaultIdentity() Identity {
	return Identity{AuthorityName: DefaultAuthorityName, AuthorityAddress: DefaultAuthorityAddress}
}

// Lines splits a multi-line field into its non-empty lines, for an
// address or a list.
func Lines(s string) []string {
	var out []string
	for l := range strings.Lines(s) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// PhoneURI is the tel: target of a phone number as typed: its digits,
// with a leading +, or "" when it has no digit. Only digits and the plus
// come through, so the link cannot carry anything but a number.
func PhoneURI(phone string) string {
	var b strings.Builder
	for i, r := range strings.TrimSpace(phone) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		}
	}
	if strings.Trim(b.String(), "+") == "" {
		return ""
	}
	return "tel:" + b.String()
}

// identityField is one field of the form: its name in the form and the
// JSON, where its value is, whether it may have several lines, and
// whether it must be filled.
type identityField struct {
	name      string
	value     func(*Identity) *string
	multiline bool
	required  bool
}

var identityFields = []identityField{
	{"name", func(i *Identity) *string { return &i.Name }, false, true},
	{"address", func(i *Identity) *string { return &i.Address }, true, false},
	{"phone", func(i *Identity) *string { return &i.Phone }, false, false},
	{"hours", func(i *Identity) *string { return &i.Hours }, true, false},
	{"email", func(i *Identity) *string { return &i.Email }, false, false},
	{"responsible", func(i *Identity) *string { return &i.Responsible }, true, false},
	{"legal_form", func(i *Identity) *string { return &i.LegalForm }, false, false},
	{"register", func(i *Identity) *string { return &i.Register }, true, false},
	{"dpo_name", func(i *Identity) *string { return &i.DPOName }, false, false},
	{"dpo_contact", func(i *Identity) *string { return &i.DPOContact }, true, false},
	{"authority_name", func(i *Identity) *string { return &i.AuthorityName }, false, true},
	{"authority_address", func(i *Identity) *string { return &i.AuthorityAddress }, true, true},
	{"counselling", func(i *Identity) *string { return &i.Counselling }, true, false},
}

// IdentityField describes one field of the identity form.
type IdentityField struct {
	Name      string // in the form and in the JSON
	Multiline bool   // several lines (a textarea), up to MaxIdentityText
	Required  bool
}

// IdentityFields lists the form's fields, in the order of the form.
func IdentityFields() []IdentityField {
	out := make([]IdentityField, len(identityFields))
	for i, f := range identityFields {
		out[i] = IdentityField{Name: f.name, Multiline: f.multiline, Required: f.required}
	}
	return out
}

// Field returns the value of the field named name, "" for an unknown
// name.
func (i Identity) Field(name string) string {
	for _, f := range identityFields {
		if f.name == name {
			return *f.value(&i)
		}
	}
	return ""
}

// SetField sets the field of the form named name; unknown names are
// ignored.
func (i *Identity) SetField(name, value string) {
	for _, f := range identityFields {
		if f.name == name {
			*f.value(i) = value
		}
	}
}

// normalize trims every field and makes line ends \n.
func (i Identity) normalize() Identity {
	for _, f := range identityFields {
		p := f.value(&i)
		*p = strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(*p, "\r\n", "\n"), "\r", "\n"))
	}
	return i
}

// validate checks a normalized identity field by field.
func (i Identity) validate() error {
	errs := fieldErrors{}
	for _, f := range identityFields {
		v := *f.value(&i)
		limit := MaxIdentityLine
		if f.multiline {
			limit = MaxIdentityText
		}
		switch {
		case f.required && v == "":
			errs.add(f.name, "identity.error.required")
		case !utf8.ValidString(v) || utf8.RuneCountInString(v) > limit:
			errs.add(f.name, "identity.error.too_long")
		case !plainText(v, f.multiline):
			errs.add(f.name, "identity.error.characters")
		}
	}
	if i.Phone != "" && PhoneURI(i.Phone) == "" {
		errs.add("phone", "identity.error.phone")
	}
	if i.Email != "" {
		// A bare address only: it becomes a mailto: link on every page.
		if a, err := mail.ParseAddress(i.Email); err != nil || a.Address != i.Email || a.Name != "" {
			errs.add("email", "identity.error.email")
		}
	}
	if len(Lines(i.Counselling)) > MaxCounsellingLines {
		errs.add("counselling", "identity.error.counselling")
	}
	return errs.err()
}

// plainText refuses control and format characters (a bidi override
// would turn an address around on every page), and line breaks in a
// one-line field.
func plainText(s string, multiline bool) bool {
	for _, r := range s {
		if r == '\n' && multiline {
			continue
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return false
		}
	}
	return true
}

// Identity returns the office's public identity: the default before an
// admin saved one.
func (st *Settings) Identity(ctx context.Context) (Identity, error) {
	raw, err := st.store.Setting(ctx, settingIdentity)
	if ErrorCode(err) == ENotFound {
		return DefaultIdentity(), nil
	}
	if err != nil {
		return Identity{}, fmt.Errorf("identity: %w", err)
	}
	var id Identity
	if err := json.Unmarshal(raw, &id); err != nil {
		return Identity{}, fmt.Errorf("identity: %w", err)
	}
	return id, nil
}

// SetIdentity validates and stores the public identity (admins only) and
// returns it as stored. The change and its audit entry, which names the
// fields that changed, commit together.
func (st *Settings) SetIdentity(ctx context.Context, s *OfficeSession, f Identity) (Identity, error) {
	if err := allow(s, PermSettings); err != nil {
		return Identity{}, err
	}
	id := f.normalize()
	if err := id.validate(); err != nil {
		return Identity{}, err
	}
	old, err := st.Identity(ctx)
	if err != nil {
		return Identity{}, err
	}
	var changed []string
	for _, fd := range identityFields {
		if *fd.value(&old) != *fd.value(&id) {
			changed = append(changed, fd.name)
		}
	}
	if len(changed) == 0 {
		return id, nil // nothing to record
	}
	raw, err := json.Marshal(id)
	if err != nil {
		return Identity{}, fmt.Errorf("identity: %w", err)
	}
	// The field names, not the values: the log says who changed what
	// when; the values are on the public pages.
	if err := st.putAudited(ctx, s, settingIdentity, raw, "identity:"+strings.Join(changed, ",")); err != nil {
		return Identity{}, err
	}
	return id, nil
}

// settingLogo holds the office's logo, in its own setting so that the
// identity stays small to read.
const settingLogo = "public_logo"

// Logo limits: a header logo, small enough to sit in memory and go out
// with the office's own body limit.
const (
	MaxLogoSize = 48 << 10
	MaxLogoSide = 2000 // pixels, either side
)

// Logo is the office's logo as served: PNG or JPEG, decoded and encoded
// afresh like a reporter's photo, so no metadata and nothing but pixels
// reach the public pages. The zero Logo is none.
type Logo struct {
	Type   string `json:"type"`
	Data   []byte `json:"data"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	// Version names the content, for a URL that can be cached: made once
	// when the logo is stored, not at every page.
	Version string `json:"version"`
}

// Logo returns the office's logo, the zero Logo when there is none.
func (st *Settings) Logo(ctx context.Context) (Logo, error) {
	raw, err := st.store.Setting(ctx, settingLogo)
	if ErrorCode(err) == ENotFound {
		return Logo{}, nil
	}
	if err != nil {
		return Logo{}, fmt.Errorf("logo: %w", err)
	}
	var l Logo
	if err := json.Unmarshal(raw, &l); err != nil {
		return Logo{}, fmt.Errorf("logo: %w", err)
	}
	return l, nil
}

// SetLogo cleans and stores the office's logo (admins only) and returns
// it. Refusals are field errors of "logo".
func (st *Settings) SetLogo(ctx context.Context, s *OfficeSession, body io.Reader) (Logo, error) {
	if err := allow(s, PermSettings); err != nil {
		return Logo{}, err
	}
	l, err := cleanLogo(body)
	if err != nil {
		return Logo{}, err
	}
	raw, err := json.Marshal(l)
	if err != nil {
		return Logo{}, fmt.Errorf("logo: %w", err)
	}
	if err := st.putAudited(ctx, s, settingLogo, raw, "identity:logo"); err != nil {
		return Logo{}, err
	}
	return l, nil
}

// RemoveLogo removes the office's logo (admins only).
func (st *Settings) RemoveLogo(ctx context.Context, s *OfficeSession) error {
	if err := allow(s, PermSettings); err != nil {
		return err
	}
	// An empty object, not an empty value: the column is NOT NULL, and
	// a driver may bind an empty blob as NULL.
	return st.putAudited(ctx, s, settingLogo, []byte("{}"), "identity:logo removed")
}

// putAudited stores a setting with its audit entry in one unit of work.
func (st *Settings) putAudited(ctx context.Context, s *OfficeSession, key string, value []byte, detail string) error {
	err := st.audited(ctx, s, AuditSettings, "", detail, func(ctx context.Context) error {
		return st.store.PutSetting(ctx, key, value)
	})
	if err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	return nil
}

// cleanLogo reads a logo, tells its type by its content and encodes its
// pixels afresh through the attachments' image cleaning, with its limits
// against decompression bombs.
func cleanLogo(body io.Reader) (Logo, error) {
	raw, err := io.ReadAll(io.LimitReader(body, MaxLogoSize+1))
	if err != nil {
		return Logo{}, fmt.Errorf("logo: %w", err)
	}
	switch {
	case len(raw) == 0:
		return Logo{}, fieldErrors{"logo": "identity.error.logo_empty"}.err()
	case len(raw) > MaxLogoSize:
		return Logo{}, fieldErrors{"logo": "identity.error.logo_size"}.err()
	}
	// The content decides, not the name or the type the browser sent.
	typ := http.DetectContentType(raw)
	if typ != TypePNG && typ != TypeJPEG {
		return Logo{}, fieldErrors{"logo": "identity.error.logo_type"}.err()
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(raw))
	if err != nil {
		return Logo{}, fieldErrors{"logo": "identity.error.logo_broken"}.err()
	}
	if cfg.Width > MaxLogoSide || cfg.Height > MaxLogoSide {
		return Logo{}, fieldErrors{"logo": "identity.error.logo_pixels"}.err()
	}
	clean, err := reencode(bytes.NewReader(raw), typ)
	if ErrorCode(err) == EInvalid {
		return Logo{}, fieldErrors{"logo": "identity.error.logo_broken"}.err()
	}
	if err != nil {
		return Logo{}, fmt.Errorf("logo: %w", err)
	}
	sum := sha256.Sum256(clean)
	return Logo{Type: typ, Data: clean, Width: cfg.Width, Height: cfg.Height, Version: hex.EncodeToString(sum[:6])}, nil
}
