package web

import (
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// identityRoutes registers the pages about the office and the admin's
// page that sets what they show (issue 11).
func (s *Server) identityRoutes(e *gin.Engine, pub, settings *gin.RouterGroup) {
	e.GET("/logo/:version", s.logo)
	pub.GET("/contact", s.contact)
	pub.GET("/imprint", s.imprint)
	settings.GET("/settings/identity", s.identityPage)
	settings.POST("/settings/identity", s.identitySave)
	settings.POST("/settings/identity/logo", s.logoSave)
}

// identityData is the settings page: the fields in their groups, with
// the values as typed or stored and each field's error.
type identityData struct {
	Groups []identityGroup
	Errors map[string]string
	Saved  bool
	// Logo is the logo shown now (the zero Logo: none); MaxLogoKiB its
	// size limit, for the hint.
	Logo       reporting.Logo
	MaxLogoKiB int
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
	d.Logo, d.MaxLogoKiB = s.site().logo, reporting.MaxLogoSize>>10
	s.render(c, status, "identity", view{Title: "identity.title", Data: d})
}

// identityPage shows the identity as stored.
func (s *Server) identityPage(c *gin.Context) {
	id, err := s.settings.Identity(c.Request.Context())
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
	id, err := s.settings.SetIdentity(c.Request.Context(), session(c), f)
	if errs := reporting.FieldErrors(err); errs != nil {
		s.identityRender(c, http.StatusUnprocessableEntity, newIdentityData(f, errs))
		return
	}
	if err == nil {
		err = s.changeSite(func(p *publicSite) { p.identity = id })
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/office/settings/identity?done=saved")
}

// logoSave stores or removes the logo (a form of its own, multipart,
// within the office's body limit) and renders the public side anew.
func (s *Server) logoSave(c *gin.Context) {
	ctx := c.Request.Context()
	refuse := func(messageID string) {
		id, err := s.settings.Identity(ctx)
		if err != nil {
			s.fail(c, err)
			return
		}
		s.identityRender(c, http.StatusUnprocessableEntity, newIdentityData(id, map[string]string{"logo": messageID}))
	}
	// MaxOfficeBody in memory: the body cannot be larger, so no file
	// part is ever written to disk.
	if err := c.Request.ParseMultipartForm(MaxOfficeBody); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			refuse("identity.error.logo_size")
			return
		}
		s.badBody(c, err)
		return
	}
	var (
		logo reporting.Logo
		err  error
	)
	if c.Request.PostForm.Get("remove") != "" {
		err = s.settings.RemoveLogo(ctx, session(c))
	} else {
		f, _, ferr := c.Request.FormFile("logo")
		if ferr != nil {
			refuse("identity.error.logo_empty")
			return
		}
		defer f.Close()
		logo, err = s.settings.SetLogo(ctx, session(c), f)
	}
	if errs := reporting.FieldErrors(err); errs != nil {
		refuse(errs["logo"])
		return
	}
	if err == nil {
		err = s.changeSite(func(p *publicSite) { p.logo = logo })
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/office/settings/identity?done=saved")
}

// logo serves the office's logo from memory. Its URL names its content,
// so the current one may be cached for long; an old URL gets the current
// logo, uncached.
func (s *Server) logo(c *gin.Context) {
	l := s.site().logo
	if len(l.Data) == 0 {
		s.errorPage(c, http.StatusNotFound, "error.not_found")
		return
	}
	if c.Param("version") == l.Version {
		c.Header("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		c.Header("Cache-Control", "no-cache")
	}
	c.Header("Content-Length", strconv.Itoa(len(l.Data)))
	c.Data(http.StatusOK, l.Type, l.Data)
}
