package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/planb-ruhr/meldestelle/i18n"
	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/templates"
)

// pageNames lists the page templates: every .html file but the layout
// and the partials (*.partial.html), each parsed together with layout.html
// and the partials.
func pageNames() ([]string, error) {
	files, err := fs.Glob(templates.FS, "*.html")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, f := range files {
		if f != "layout.html" && !strings.HasSuffix(f, partialSuffix) {
			names = append(names, strings.TrimSuffix(f, ".html"))
		}
	}
	return names, nil
}

// partialSuffix marks a template that defines a piece other pages
// include; it is no page of its own.
const partialSuffix = ".partial.html"

// pages holds one parsed template set per language and page. Each
// language's set has its own "t" function bound, so two requests in two
// languages can never mix, and no request pays for a Clone.
//
// Every page is parsed in German at start, so a broken template stops the
// start; the other languages' sets are parsed on first use. Parsing all
// of them up front would hold every office page in fourteen languages
// that the office never shows, some 60 MB (issue 10).
type pages struct {
	tr       *i18n.Bundle
	names    []string
	partials []string
	mu       sync.Mutex
	byLang   map[string]map[string]*template.Template
}

// parsed holds the pages of each bundle the process has built a server
// with. A template set depends on nothing but the bundle, the language
// and the embedded files, so servers on one bundle can share it: a
// program builds one server, but the tests build hundreds, and parsing
// was most of the time each took to start. In a program with one bundle
// it holds exactly what its server would hold anyway.
var parsed sync.Map // *i18n.Bundle → *pages

// pagesFor returns the bundle's pages, parsed on first use.
func pagesFor(tr *i18n.Bundle) (*pages, error) {
	if p, ok := parsed.Load(tr); ok {
		return p.(*pages), nil
	}
	p, err := loadPages(tr)
	if err != nil {
		return nil, err
	}
	shared, _ := parsed.LoadOrStore(tr, p)
	return shared.(*pages), nil
}

func loadPages(tr *i18n.Bundle) (*pages, error) {
	names, err := pageNames()
	if err != nil {
		return nil, err
	}
	partials, err := fs.Glob(templates.FS, "*"+partialSuffix)
	if err != nil {
		return nil, err
	}
	p := &pages{tr: tr, names: names, partials: partials, byLang: map[string]map[string]*template.Template{}}
	for _, name := range names {
		if _, err := p.get(i18n.Source, name); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// get returns the template set of a page in a language, parsing it on
// first use.
func (p *pages) get(lang, name string) (*template.Template, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t := p.byLang[lang][name]; t != nil {
		return t, nil
	}
	if !slices.Contains(p.names, name) {
		return nil, fmt.Errorf("web: no template %s", name)
	}
	t, err := template.New(name).Funcs(funcs(p.tr, lang)).ParseFS(templates.FS, append([]string{"layout.html", name + ".html"}, p.partials...)...)
	if err != nil {
		return nil, fmt.Errorf("web: template %s: %w", name, err)
	}
	if p.byLang[lang] == nil {
		p.byLang[lang] = map[string]*template.Template{}
	}
	p.byLang[lang][name] = t
	return t, nil
}

func funcs(tr *i18n.Bundle, lang string) template.FuncMap {
	// Messages without placeholders are the same on every page: kept
	// after their first lookup, since a list page asks for a label
	// hundreds of times (issue 13: the template was a third of the list's
	// server time). Only the bundle's own texts are kept, nothing typed.
	var plain sync.Map // message ID → text
	t := func(id string, kv ...any) string {
		if len(kv) == 0 {
			if s, ok := plain.Load(id); ok {
				return s.(string)
			}
			s := tr.T(lang, id, nil)
			plain.Store(id, s)
			return s
		}
		data := make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			data[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return tr.T(lang, id, data)
	}
	fm := template.FuncMap{
		"t": t,
		// label translates a vocabulary code: label "ground" "racism".
		"label": func(kind, code string) string { return t(kind + "." + code) },
		"has":   func(list []string, v string) bool { return slices.Contains(list, v) },
		// can asks the role rule (reporting.Can) whether a role may do a
		// permission named as in Go without "Perm": can $role "Audit".
		// The navigation shows what the routes let through, no more. An
		// unknown name fails the render rather than hiding a link.
		"can": func(role, name string) (bool, error) {
			p, ok := reporting.PermissionNamed(name)
			if !ok {
				return false, fmt.Errorf("web: no permission %q", name)
			}
			return reporting.Can(role, p), nil
		},
		// captchaBox is the dot of the "captcha" partial: the captcha's ID,
		// the page's language (for the audio), the answer typed before a
		// language switch, the form's errors, the hint above and an
		// optional hint below.
		"captchaBox": func(id, lang, answer string, errs map[string]string, hint, after string) captchaBox {
			return captchaBox{ID: id, Lang: lang, Answer: answer, Errors: errs, Hint: hint, After: after}
		},
		// tn translates a plural message for count, which it shows as
		// {{.Count}} in the language's digits: tn "statistics.cases" 3.
		"tn": func(id string, count int, kv ...any) string {
			data := make(map[string]any, len(kv)/2)
			for i := 0; i+1 < len(kv); i += 2 {
				data[fmt.Sprint(kv[i])] = kv[i+1]
			}
			return tr.Plural(lang, id, count, data)
		},
		// ltr isolates a date or code put into a message as left to right
		// (U+2066 … U+2069, what <bdi dir="ltr"> is in markup), so that
		// 2026-05-01 reads the same in an Arabic or Persian sentence.
		"ltr": func(s string) string { return "\u2066" + s + "\u2069" },
		// localTime writes an instant in the office's time zone with the
		// zone named (issue 13): localTime $.Zone .At. The zone comes from
		// the view, not from here: these functions are shared by every
		// server on the bundle, and the zone is the office's setting.
		"localTime": func(zone *time.Location, at time.Time) string { return localTime(lang, zone, at, false) },
		// localSeconds is localTime with seconds, for the audit log.
		"localSeconds": func(zone *time.Location, at time.Time) string { return localTime(lang, zone, at, true) },
		// htmlLang is the HTML lang attribute for a language code: a
		// report written on the Leichte Sprache page is German.
		"htmlLang": func(code string) string {
			if l, ok := i18n.Lookup(code); ok {
				return l.HTMLLang()
			}
			return code
		},
		// num writes a number by the language's CLDR rules: 20.000.
		"num": func(n int) string { return tr.Number(lang, n) },
		// year writes a year without a thousands separator.
		"year": func(y int) string { return tr.Year(lang, y) },
		// subgroundsOf picks the sub-grounds of one ground out of a list,
		// so each ground is shown with its own.
		"subgroundsOf": func(ground string, subs []string) []string {
			var out []string
			for _, s := range subs {
				if slices.Contains(reporting.SubgroundsOf[ground], s) {
					out = append(out, s)
				}
			}
			return out
		},
		// lines splits an admin's multi-line text into its lines: an
		// address shown line by line.
		"lines": reporting.Lines,
		// tel is the tel: link of a phone number as the admin typed it.
		// Safe as a URL: reporting.PhoneURI keeps only digits and a plus.
		"tel": func(phone string) template.URL { return template.URL(reporting.PhoneURI(phone)) },
		// errorSummary is the dot of the "errors" partial: the form's
		// errors in the order of fields, each "name" or "name=target id"
		// (the control the link moves to; the name itself by default).
		// Errors of fields not named come last, in name order, so that no
		// error is left out of the summary.
		"errorSummary": func(errs map[string]string, fields ...string) errorSummary {
			return newErrorSummary(t, errs, fields)
		},
		// errs builds an error map: errs "totp" .Error.
		"errs": fieldErrs,
		// fieldAria marks a control whose field has an error for assistive
		// technology: aria-invalid, and aria-describedby naming the error
		// message's id. Built from the template's own constant names, so
		// the attribute text is trusted.
		"fieldAria": func(errs map[string]string, field, errID string) template.HTMLAttr {
			if _, ok := errs[field]; !ok {
				return ""
			}
			return template.HTMLAttr(` aria-invalid="true" aria-describedby="` + template.HTMLEscapeString(errID) + `"`)
		},
		// fieldError translates the error of one form field, or "".
		"fieldError": func(errs map[string]string, field string) string {
			if id, ok := errs[field]; ok {
				return t(id)
			}
			return ""
		},
	}
	for name, f := range partialFuncs(t) {
		fm[name] = f
	}
	return fm
}

// germanZones are the German names of the zones' abbreviations that have
// one: a German office reads "MESZ", not "CEST".
var germanZones = map[string]string{"CET": "MEZ", "CEST": "MESZ"}

// localTime writes at in zone, in the way the language writes dates,
// followed by the zone's abbreviation for that instant ("CEST" in
// summer, "CET" in winter; "+03" where the zone has no letters). A nil
// zone is UTC, and says so: a time is never shown without its zone. The
// zero time is "".
func localTime(lang string, zone *time.Location, at time.Time, seconds bool) string {
	if at.IsZero() {
		return ""
	}
	if zone == nil {
		zone = time.UTC
	}
	at = at.In(zone)
	layout := "2006-01-02 15:04"
	if lang == i18n.Source {
		layout = "02.01.2006, 15:04"
	}
	if seconds {
		layout += ":05"
	}
	abbr, _ := at.Zone()
	if lang == i18n.Source {
		if de, ok := germanZones[abbr]; ok {
			abbr = de
		}
	}
	return at.Format(layout) + " " + abbr
}

// captchaBox is what the "captcha" partial shows.
type captchaBox struct {
	ID, Hint, After string
	Lang            string // the page's language: the audio speaks it
	// Answer is the answer typed before a language switch.
	Answer string
	Errors map[string]string
}

// view is what every page template gets.
type view struct {
	Lang      i18n.Language
	Languages []i18n.Language
	Path      string // the path after the language segment, for the switcher
	// Switch makes the switcher a row of buttons of the page's form, so
	// that nothing typed is lost (public_languages.go); nil: links.
	Switch *languageSwitch
	// Chooser: the language chooser page, which lists the languages
	// itself instead of a switcher.
	Chooser bool
	Title   string // message ID of the page title
	// Failed: the page is a form sent back with errors; its title starts
	// with "Error:", the first thing a screen reader says (WCAG 3.3.1).
	Failed  bool
	Office  bool // office page: office navigation, no language switcher
	Session *reporting.OfficeSession
	// Zone is the office's time zone, in which office pages show their
	// times (localTime); render fills it in on office pages.
	Zone *time.Location
	// Integrity lists the integrity failures since start (reporting.Anchor),
	// shown to admins on every office page until the process restarts.
	Integrity []string
	// Identity is who runs the service, for the footer and the pages
	// about the office; execute fills it in from the public side's state.
	Identity *reporting.Identity
	// Logo is the office's logo (the zero Logo: none), filled in with
	// Identity.
	Logo *reporting.Logo
	// Emergency shows the short emergency line (the form pages).
	Emergency bool
	Data      any
}

// render writes a page in the request's language. The page is rendered into
// a buffer first, so a template error becomes a clean 500 instead of half a
// page. HTML responses are never stored by browsers or proxies: a report
// page left in a library computer's cache would tell the next user too
// much.
func (s *Server) render(c *gin.Context, status int, page string, v view) {
	v.Office = strings.HasPrefix(c.Request.URL.Path, "/office")
	// Every form sent back with errors answers 422 (401: the login).
	v.Failed = v.Failed || status == http.StatusUnprocessableEntity || status == http.StatusUnauthorized
	if sess, ok := c.Get(sessionKey); ok {
		v.Session = sess.(*reporting.OfficeSession)
		// A swapped key or a rogue team means someone wrote to the
		// database: the admins must hear of it where they look anyway.
		if v.Session.Can(reporting.PermIntegrity) {
			v.Integrity = s.sessions.IntegrityAlerts()
		}
	}
	if v.Office && v.Zone == nil {
		zone, err := s.settings.OfficeZone(c.Request.Context())
		if err != nil {
			// The page still shows, its times in UTC, named as such.
			s.log(c).Error("office time zone", "request_id", requestID(c), "err", err)
		}
		v.Zone = zone
	}
	body, err := s.execute(lang(c), page, v)
	if err != nil {
		s.log(c).Error("render", "request_id", requestID(c), "page", page, "err", err)
		c.Header("Cache-Control", "no-store")
		c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("Internal error.\n"))
		return
	}
	writeHTMLHeader(c, status)
	c.Writer.Write(body)
}

// writeHTMLHeader sets what every HTML page is sent with; the template
// render and the pre-rendered pages (prerender.go) share it, so the two
// cannot answer differently.
func writeHTMLHeader(c *gin.Context, status int) {
	h := c.Writer.Header()
	// Shared, canonical and full (len == cap): set without allocating,
	// and an Add elsewhere would copy rather than write into them.
	h["Cache-Control"] = noStore
	h["Content-Type"] = contentTypeHTML
	c.Status(status)
}

var (
	noStore         = []string{"no-store"}
	contentTypeHTML = []string{"text/html; charset=utf-8"}
)

// execute renders page in the language code, with the language fields
// of v filled in.
func (s *Server) execute(code, page string, v view) ([]byte, error) {
	v.Lang, _ = i18n.Lookup(code)
	if v.Languages == nil {
		v.Languages = s.site().languages
	}
	if v.Identity == nil {
		site := s.site()
		v.Identity, v.Logo = &site.identity, &site.logo
	}
	var buf bytes.Buffer
	t, err := s.pages.get(code, page)
	if err != nil {
		return nil, err
	}
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		return nil, fmt.Errorf("render %s: %w", page, err)
	}
	return buf.Bytes(), nil
}

// errorPage shows a translated error page. Internal error text never
// reaches it: only message IDs.
func (s *Server) errorPage(c *gin.Context, status int, messageID string) {
	if c.GetString(langKey) == "" { // before the language was known
		c.Set(langKey, s.pathLanguage(c))
	}
	s.render(c, status, "error", view{Title: "error.title", Data: messageID})
}

// fail answers an error from the domain: application errors by their code,
// anything else as an internal error, logged with the request ID.
func (s *Server) fail(c *gin.Context, err error) {
	switch reporting.ErrorCode(err) {
	case reporting.ENotFound:
		s.errorPage(c, http.StatusNotFound, "error.not_found")
	case reporting.EUnauthorized:
		c.Redirect(http.StatusSeeOther, "/office/login")
	case reporting.EInvalid, reporting.EConflict:
		s.errorPage(c, http.StatusBadRequest, reporting.MessageID(err))
	case reporting.EAltered:
		// Stored data changed outside the application (the domain has
		// audited it): the page says so in plain words, the log keeps it.
		s.log(c).Error("altered data refused", "request_id", requestID(c), "route", c.FullPath(), "err", err)
		s.errorPage(c, http.StatusConflict, reporting.MessageID(err))
	default:
		s.log(c).Error("internal error", "request_id", requestID(c), "route", c.FullPath(), "err", err)
		s.errorPage(c, http.StatusInternalServerError, "error.internal")
	}
}
