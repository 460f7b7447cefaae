package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"
)

func TestZZLayoutDebug(t *testing.T) {
	ctx := newBrowser(t)
	e := newEnv(t, options{})
	onPhone(t, ctx, phoneWidth, phoneHeight)
	for _, lang := range []string{"de", "en"} {
		browserRun(t, ctx, "open", chromedp.NavigateResponse(e.URL+"/"+lang+"/"))
		out := evalJS[[]string](t, ctx, "m", `(() => { const o=[]; for (const el of document.querySelectorAll('header.site, header.site > *, main > *, #report-form > *, .captcha > *')) { const r=el.getBoundingClientRect(); o.push(el.tagName+'.'+el.className+'#'+el.id+' '+Math.round(r.top+scrollY)+'+'+Math.round(r.height)); } return o; })()`)
		for _, l := range out {
			t.Log(lang, l)
		}
	}
	saveScreenshot(t, ctx, "dbg.png")
}
