package web

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"

	"github.com/dchest/captcha"
	"github.com/gin-gonic/gin"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// prerendered is a page rendered once per language at start, split around
// every place its captcha ID goes. The empty report form and the empty
// receipt form differ from one GET to the next only in that ID, so a GET
// writes the parts with a fresh ID between them instead of running some
// 250 template actions (issue 8, item 6). Nothing of the page's layout is
// assumed: the ID is found wherever the template put it.
type prerendered struct {
	byLang map[string][][]byte
}

// prerender renders page in every language with the view that build
// returns for a captcha ID. It renders twice, with two random
// placeholders, and insists that both split into the very same parts: a
// placeholder that occurred in the page text, or an ID the template
// escaped, would otherwise put a wrong page into every GET.
func (s *Server) prerender(page string, site *publicSite, build func(captchaID string) view) (*prerendered, error) {
	p := &prerendered{byLang: map[string][][]byte{}}
	a, b := placeholder(), placeholder()
	for _, l := range site.languages {
		va, vb := build(a), build(b)
		va.Languages, vb.Languages = site.languages, site.languages
		va.Identity, vb.Identity = &site.identity, &site.identity
		va.Logo, vb.Logo = &site.logo, &site.logo
		pa, err := s.execute(l.Code, page, va)
		if err != nil {
			return nil, fmt.Errorf("prerender %s: %w", page, err)
		}
		pb, err := s.execute(l.Code, page, vb)
		if err != nil {
			return nil, fmt.Errorf("prerender %s: %w", page, err)
		}
		parts := bytes.Split(pa, []byte(a))
		other := bytes.Split(pb, []byte(b))
		if len(parts) != len(other) {
			return nil, fmt.Errorf("prerender %s (%s): the captcha ID occurs %d and %d times", page, l.Code, len(parts)-1, len(other)-1)
		}
		for i := range parts {
			if !bytes.Equal(parts[i], other[i]) {
				return nil, fmt.Errorf("prerender %s (%s): the page depends on the captcha ID beyond its places", page, l.Code)
			}
		}
		if s.cfg.CaptchaOff != (len(parts) == 1) {
			return nil, fmt.Errorf("prerender %s (%s): %d places for the captcha ID with the captcha off=%t", page, l.Code, len(parts)-1, s.cfg.CaptchaOff)
		}
		p.byLang[l.Code] = parts
	}
	return p, nil
}

// placeholder returns a random alphanumeric stand-in for a captcha ID:
// alphanumeric, so that html/template leaves it as it is in every context,
// as it leaves a real ID.
func placeholder() string {
	return "captchaIDplaceholder" + rand.Text()
}

// write sends the page in c's language with captchaID in its places and
// reports whether it did. It refuses an ID that is not purely
// alphanumeric: the template would have escaped it, the parts would not,
// so such an ID goes to the template instead. dchest/captcha makes only
// alphanumeric IDs; this is checked, not trusted.
func (p *prerendered) write(c *gin.Context, status int, captchaID string) bool {
	parts, ok := p.byLang[lang(c)]
	if !ok || !alphanumeric(captchaID) {
		return false
	}
	// One write of the whole page, put together in a pooled buffer: a
	// writer that grows its own buffer (the test recorder; any writer
	// before the first flush) would otherwise grow it once per part.
	buf := pagePool.Get().(*[]byte)
	b := (*buf)[:0]
	for i, part := range parts {
		if i > 0 {
			b = append(b, captchaID...)
		}
		b = append(b, part...)
	}
	writeHTMLHeader(c, status)
	c.Writer.Write(b)
	*buf = b
	pagePool.Put(buf)
	return true
}

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
	e.report, err1 = s.prerender("form", site, func(id string) view { return s.formView(reporting.ReportForm{}, nil, id) })
	e.followup, err2 = s.prerender("followup", site, func(id string) view { return s.followupFormView(followupFormData{}, id) })
	return e, errors.Join(err1, err2)
}
