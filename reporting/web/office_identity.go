package web

import (
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// identityRoutes registers the pages about the office and the admin's
// page that sets what they show (issue 11).
func (s *Server) identityRoutes(pub, admin *gin.RouterGroup) {
	pub.GET("/contact", s.contact)
	pub.GET("/imprint", s.imprint)
	admin.GET("/settings/identity", s.identityPage)
	admin.POST("/settings/identity", s.identitySave)
}

// identityData is the settings page: the fields in their groups, with
// the values as typed or stored and each field's error.
type identityData struct {
	Groups []identityGroup
	Errors map[string]string
	Saved  bool
}

// identityGroup is one fieldset of the settings page.
type identityGroup struct {
	Legend string // message ID
	Inputs []identityInput
}

// identityInput is one field of the settings page.
type identityInput struct {
	reporting.IdentityField
	Value string
	Error string // message ID, or ""
	Max   int    // maxlength: the domain's limit
	Hint  bool   // the field has a hint (identity.hint.<name>)
}

// identityLayout groups the form's fields into fieldsets.
var identityLayout = []struct {
	legend string
	fields []string
}{
	{"identity.legend.contact", []string{"name", "address", "phone", "email", "hours"}},
	{"identity.legend.imprint", []string{"responsible", "legal_form", "register"}},
	{"identity.legend.dpo", []string{"dpo_name", "dpo_contact"}},
	{"identity.legend.authority", []string{"authority_name", "authority_address"}},
	{"identity.legend.emergency", []string{"counselling"}},
}

// identityHints are the fields with a hint below their label.
var identityHints = []string{"name", "address", "hours", "responsible", "register", "dpo_contact", "authority_name", "counselling"}

func newIdentityData(f reporting.Identity, errs map[string]string) identityData {
	byName := map[string]reporting.IdentityField{}
	for _, fd := range reporting.IdentityFields() {
		byName[fd.Name] = fd
	}
	d := identityData{Errors: errs}
	for _, g := range identityLayout {
		grp := identityGroup{Legend: g.legend}
		for _, name := range g.fields {
			fd := byName[name]
			in := identityInput{IdentityField: fd, Value: f.Field(name), Error: errs[name], Max: reporting.MaxIdentityLine,
				Hint: slices.Contains(identityHints, name)}
			if fd.Multiline {
				in.Max = reporting.MaxIdentityText
			}
			grp.Inputs = append(grp.Inputs, in)
		}
		d.Groups = append(d.Groups, grp)
	}
	return d
}

func (s *Server) identityRender(c *gin.Context, status int, d identityData) {
	s.render(c, status, "identity", view{Title: "identity.title", Data: d})
}

// identityPage shows the identity as stored.
func (s *Server) identityPage(c *gin.Context) {
	id, err := s.office.Identity(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	d := newIdentityData(id, nil)
	d.Saved = c.Query("done") == "saved"
	s.identityRender(c, http.StatusOK, d)
}

// identitySave stores the identity and renders the public side anew: the
// footer is in the pre-rendered forms too. On an error the page comes
// back with everything as typed and the messages next to the fields.
func (s *Server) identitySave(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		s.badBody(c, err)
		return
	}
	var f reporting.Identity
	for _, fd := range reporting.IdentityFields() {
		f.SetField(fd.Name, c.Request.PostForm.Get(fd.Name))
	}
	id, err := s.office.SetIdentity(c.Request.Context(), session(c), f)
	if errs := reporting.FieldErrors(err); errs != nil {
		s.identityRender(c, http.StatusUnprocessableEntity, newIdentityData(f, errs))
		return
	}
	if err == nil {
		err = s.setIdentity(id)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/office/settings/identity?done=saved")
}
