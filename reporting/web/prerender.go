package web

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/dchest/captcha"
	"github.com/gin-gonic/gin"

	"github.com/planb-ruhr/meldestelle/i18n"
	"github.com/planb-ruhr/meldestelle/reporting"
)

// prerendered is a page rendered once per language, split around every
// place its captcha ID or its submission token goes. The empty report form
// and the empty receipt form differ from one GET to the next only in
// those values, so a GET writes the parts with fresh values between them
// instead of running some 250 template actions (issue 8, item 6). Nothing
// of the page's layout is assumed: the values are found wherever the
// template put them.
//
// The source language is rendered when the site is built, so a template
// that cannot be pre-rendered stops the start or the admin's change; the
// others on their first request. A start, and an admin's change of the
// languages or the identity, would otherwise render 14 languages twice
// for pages most of which nobody asks for that day.
type prerendered struct {
	byLang map[string]*prerenderSlot // fixed once built; the slots fill in
}

// prerenderSlot is one language's page, rendered once on first use.
type prerenderSlot struct {
	once   sync.Once
	render func() (prerenderedPage, error)
	page   prerenderedPage
	err    error
}

// prerenderedPage is one language's page: slots[i] says which value
// (slotCaptcha or slotSubmission) goes between parts[i] and parts[i+1].
type prerenderedPage struct {
	parts [][]byte
	slots []int
}

// The values a pre-rendered page is split around.
const (
	slotCaptcha    = iota // the captcha ID
	slotSubmission        // the report form's submission token
	slotCount
)

// prerender prepares page in every language of site with the view that
// build returns for a captcha ID and a submission token, and renders the
// source language at once.
func (s *Server) prerender(page string, site *publicSite, build func(captchaID, token string) view) (*prerendered, error) {
	p := &prerendered{byLang: map[string]*prerenderSlot{}}
	for _, l := range site.languages {
		p.byLang[l.Code] = &prerenderSlot{render: func() (prerenderedPage, error) { return s.renderSplit(page, l.Code, site, build) }}
	}
	if slot := p.byLang[i18n.Source]; slot != nil {
		if _, err := slot.get(); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// get returns the slot's page, rendering it on first use.
func (slot *prerenderSlot) get() (prerenderedPage, error) {
	slot.once.Do(func() { slot.page, slot.err = slot.render() })
	return slot.page, slot.err
}

// renderSplit renders page in one language twice, with two sets of random
// placeholders, and insists that both split into the very same parts: a
// placeholder that occurred in the page text, or a value the template
// escaped, would otherwise put a wrong page into every GET.
func (s *Server) renderSplit(page, code string, site *publicSite, build func(captchaID, token string) view) (prerenderedPage, error) {
	a := [slotCount]string{placeholder(), placeholder()}
	b := [slotCount]string{placeholder(), placeholder()}
	va, vb := build(a[slotCaptcha], a[slotSubmission]), build(b[slotCaptcha], b[slotSubmission])
	va.Languages, vb.Languages = site.languages, site.languages
	va.Identity, vb.Identity = &site.identity, &site.identity
	va.Logo, vb.Logo = &site.logo, &site.logo
	pa, err := s.execute(code, page, va)
	if err != nil {
		return prerenderedPage{}, fmt.Errorf("prerender %s: %w", page, err)
	}
	pb, err := s.execute(code, page, vb)
	if err != nil {
		return prerenderedPage{}, fmt.Errorf("prerender %s: %w", page, err)
	}
	one, other := splitAt(pa, a), splitAt(pb, b)
	if len(one.parts) != len(other.parts) || !slices.Equal(one.slots, other.slots) {
		return prerenderedPage{}, fmt.Errorf("prerender %s (%s): the values occur %d and %d times", page, code, len(one.slots), len(other.slots))
	}
	for i := range one.parts {
		if !bytes.Equal(one.parts[i], other.parts[i]) {
			return prerenderedPage{}, fmt.Errorf("prerender %s (%s): the page depends on the captcha ID beyond its places", page, code)
		}
	}
	captchas := 0
	for _, k := range one.slots {
		if k == slotCaptcha {
			captchas++
		}
	}
	if s.cfg.CaptchaOff != (captchas == 0) {
		return prerenderedPage{}, fmt.Errorf("prerender %s (%s): %d places for the captcha ID with the captcha off=%t", page, code, captchas, s.cfg.CaptchaOff)
	}
	return one, nil
}

// splitAt splits a page at every occurrence of the placeholders.
func splitAt(page []byte, ph [slotCount]string) prerenderedPage {
	var out prerenderedPage
	for {
		at, kind := -1, 0
		for k, v := range ph {
			if i := bytes.Index(page, []byte(v)); i >= 0 && (at < 0 || i < at) {
				at, kind = i, k
			}
		}
		if at < 0 {
			out.parts = append(out.parts, page)
			return out
		}
		out.parts = append(out.parts, page[:at])
		out.slots = append(out.slots, kind)
		page = page[at+len(ph[kind]):]
	}
}

// placeholder returns a random alphanumeric stand-in for a captcha ID or
// a token: alphanumeric, so that html/template leaves it as it is in
// every context, as it leaves a real one.
func placeholder() string {
	return "captchaIDplaceholder" + rand.Text()
}

// write sends the page in c's language with captchaID and token in their
// places; on an error nothing is written and the caller renders the page
// through the template. It refuses a value that is not
// purely alphanumeric: the template would have escaped it, the parts
// would not, so such a value goes to the template instead. dchest/captcha
// makes only alphanumeric IDs and Submissions.Issue alphanumeric tokens;
// this is checked, not trusted.
func (p *prerendered) write(c *gin.Context, status int, captchaID, token string) error {
	slot, ok := p.byLang[lang(c)]
	if !ok || !alphanumeric(captchaID) || !alphanumeric(token) {
		return errNotPrerendered
	}
	page, err := slot.get()
	if err != nil {
		return err
	}
	values := [slotCount]string{captchaID, token}
	// One write of the whole page, put together in a pooled buffer: a
	// writer that grows its own buffer (the test recorder; any writer
	// before the first flush) would otherwise grow it once per part.
	buf := pagePool.Get().(*[]byte)
	b := (*buf)[:0]
	for i, part := range page.parts {
		if i > 0 {
			b = append(b, values[page.slots[i-1]]...)
		}
		b = append(b, part...)
	}
	writeHTMLHeader(c, status)
	c.Writer.Write(b)
	*buf = b
	pagePool.Put(buf)
	return nil
}

// errNotPrerendered: the page is not pre-rendered for this language or
// these values; the template renders it.
var errNotPrerendered = errors.New("web: page not pre-rendered")

// pagePool holds the buffers write puts pages together in. The writer
// does not keep the slice after Write returns, so it can be used again.
var pagePool = sync.Pool{New: func() any { b := make([]byte, 0, 32<<10); return &b }}

func alphanumeric(s string) bool {
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		default:
			return false
		}
	}
	return true
}

// newCaptchaID makes a captcha for one form, or returns "" when the
// captcha is off.
func (s *Server) newCaptchaID() string {
	if s.cfg.CaptchaOff {
		return ""
	}
	return captcha.New()
}

// emptyForms are the pre-rendered empty forms.
type emptyForms struct {
	report, followup *prerendered
}

// prerenderForms renders the empty report form and the empty receipt form
// of every language the site offers, with its switcher and its footer: at
// start and whenever an admin changes the languages or the identity.
func (s *Server) prerenderForms(site *publicSite) (emptyForms, error) {
	var (
		e          emptyForms
		err1, err2 error
	)
	e.report, err1 = s.prerender("form", site, func(id, token string) view { return s.formView(reporting.ReportForm{}, nil, id, token) })
	e.followup, err2 = s.prerender("followup", site, func(id, _ string) view { return s.followupFormView(followupFormData{}, id) })
	return e, errors.Join(err1, err2)
}
