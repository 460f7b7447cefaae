package reporting_test

import (
	"maps"
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// validIdentity is an identity every field of which passes.
func validIdentity() reporting.Identity {
	return reporting.Identity{
		Name: "PLANB Ruhr e. V.", Address: "Beispielstraße 1\n44787 Bochum", Phone: "+49 234 123 456-0",
		Hours: "Mo–Do 9–16 Uhr", Email: "beratung@example.org", Responsible: "Erika Muster",
		LegalForm: "eingetragener Verein", Register: "Amtsgericht Bochum, VR 1234",
		DPOName: "Max Schutz", DPOContact: "datenschutz@example.org",
		AuthorityName: reporting.DefaultAuthorityName, AuthorityAddress: reporting.DefaultAuthorityAddress,
		Counselling: "Opferschutz Bochum: 0234 111\nFrauenhaus: 0234 222",
	}
}

// Before an admin saved anything the supervisory authority of North
// Rhine-Westphalia is named; a saved identity comes back as saved, and
// the audit log names the fields that changed (not their values).
func TestIdentityStoredAndAudited(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	_, s := e.login(t)
	ctx := t.Context()

	id, err := e.settings.Identity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if id.AuthorityName != reporting.DefaultAuthorityName || !strings.Contains(id.AuthorityAddress, "40213 Düsseldorf") || id.Name != "" {
		t.Fatalf("default identity = %+v", id)
	}

	want := validIdentity()
	typed := want
	typed.Name = "  " + want.Name + "  "
	typed.Address = strings.ReplaceAll(want.Address, "\n", "\r\n")
	if _, err := e.settings.SetIdentity(ctx, s, typed); err != nil {
		t.Fatalf("SetIdentity: %v", err)
	}
	got, err := e.settings.Identity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("stored identity\n got %+v\nwant %+v", got, want)
	}
	entries, _, err := e.auditTrail.AuditLog(ctx, s, "", reporting.Page{Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 || entries[0].Action != reporting.AuditSettings || entries[0].UserName != adminName ||
		!strings.HasPrefix(entries[0].Detail, "identity:") || !strings.Contains(entries[0].Detail, "name") ||
		strings.Contains(entries[0].Detail, "Bochum") {
		t.Fatalf("newest audit entry = %+v", entries[0])
	}

	// Only the phone changes: the entry names only the phone.
	next := want
	next.Phone = "0234 999"
	if _, err := e.settings.SetIdentity(ctx, s, next); err != nil {
		t.Fatal(err)
	}
	entries, _, _ = e.auditTrail.AuditLog(ctx, s, "", reporting.Page{Limit: 1})
	if entries[0].Detail != "identity:phone" {
		t.Fatalf("audit detail = %q, want identity:phone", entries[0].Detail)
	}
}

// Each bad field is refused with its own message, the others pass.
func TestIdentityValidation(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	_, s := e.login(t)
	long := strings.Repeat("x", reporting.MaxIdentityLine+1)
	for _, tc := range []struct {
		name  string
		edit  func(*reporting.Identity)
		field string
		msg   string
	}{
		{"no name", func(i *reporting.Identity) { i.Name = "  " }, "name", "identity.error.required"},
		{"long name", func(i *reporting.Identity) { i.Name = long }, "name", "identity.error.too_long"},
		{"line break in a line", func(i *reporting.Identity) { i.Phone = "0234\n1" }, "phone", "identity.error.characters"},
		{"bidi override", func(i *reporting.Identity) { i.Address = "Straße 1\u202e" }, "address", "identity.error.characters"},
		{"phone without digits", func(i *reporting.Identity) { i.Phone = "call us" }, "phone", "identity.error.phone"},
		{"e-mail with a name", func(i *reporting.Identity) { i.Email = "Beratung <b@example.org>" }, "email", "identity.error.email"},
		{"not an e-mail", func(i *reporting.Identity) { i.Email = "beratung" }, "email", "identity.error.email"},
		{"too many numbers", func(i *reporting.Identity) { i.Counselling = strings.Repeat("1\n", reporting.MaxCounsellingLines+1) }, "counselling", "identity.error.counselling"},
		{"no authority", func(i *reporting.Identity) { i.AuthorityName = "" }, "authority_name", "identity.error.required"},
		{"long address", func(i *reporting.Identity) { i.Address = strings.Repeat("y", reporting.MaxIdentityText+1) }, "address", "identity.error.too_long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := validIdentity()
			tc.edit(&f)
			_, err := e.settings.SetIdentity(t.Context(), s, f)
			errs := reporting.FieldErrors(err)
			if want := map[string]string{tc.field: tc.msg}; !maps.Equal(errs, want) {
				t.Fatalf("errors = %v, want %v", errs, want)
			}
		})
	}
	if got, _ := e.settings.Identity(t.Context()); got.Name != "" {
		t.Fatalf("a refused identity was stored: %+v", got)
	}
}

// Only an admin sets the identity.
func TestIdentityAdminsOnly(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	_, s := e.login(t)
	counsellor := *s
	counsellor.User.Role = reporting.RoleCounsellor
	if _, err := e.settings.SetIdentity(t.Context(), &counsellor, validIdentity()); reporting.ErrorCode(err) != reporting.ENotFound {
		t.Fatalf("a counsellor's SetIdentity: %v, want not found", err)
	}
}

// A tel: link carries only the number's digits and a leading plus.
func TestPhoneURI(t *testing.T) {
	for in, want := range map[string]string{
		"+49 (234) 123 456-0":      "tel:+492341234560",
		"0234 / 12 34":             "tel:02341234",
		"javascript:alert(1)":      "tel:1",
		"call us":                  "",
		"+":                        "",
		"12+34":                    "tel:1234",
		"\u0660\u0661 not ascii 5": "tel:5",
	} {
		if got := reporting.PhoneURI(in); got != want {
			t.Errorf("PhoneURI(%q) = %q, want %q", in, got, want)
		}
	}
}
