package web_test

import (
	"bytes"
	"html"
	"net/http"
	"regexp"
	"testing"

	"github.com/planb-ruhr/meldestelle/i18n"
	"github.com/planb-ruhr/meldestelle/reporting/web/captchaaudio"
)

var audioSrcPattern = regexp.MustCompile(`<audio controls preload="none" src="([^"]+)"`)

// The form's audio captcha speaks the page's language: the player's source
// on a /bg/ page is Bulgarian audio built from the Bulgarian digit set for
// that captcha, and differs from the English audio of the same captcha.
func TestCaptchaAudioSpeaksThePageLanguage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	for _, lang := range []string{"bg", "tr", "ar", "de"} {
		t.Run(lang, func(t *testing.T) {
			if _, ok := i18n.Lookup(lang); !ok {
				t.Fatalf("%s is not a public language", lang)
			}
			resp, page := get(t, e.URL+"/"+lang+"/")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("/%s/: status %d", lang, resp.StatusCode)
			}
			id := captchaID(t, page)
			m := audioSrcPattern.FindStringSubmatch(page)
			if m == nil {
				t.Fatalf("no audio player on /%s/", lang)
			}
			src := html.UnescapeString(m[1])
			if want := "/captcha/" + id + "." + lang + ".wav"; src != want {
				t.Fatalf("audio src %q, want %q", src, want)
			}
			if !bytes.Contains([]byte(page), []byte(`href="`+src+`" download`)) {
				t.Errorf("no download link to %s", src)
			}
			resp, got := get(t, e.URL+src)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "audio/wav" || resp.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("%s: status %d, type %q, cache %q", src, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
			}
			var want bytes.Buffer
			if err := e.Audio.Write(&want, lang, id, captchas.Get(id, false)); err != nil {
				t.Fatal(err)
			}
			if got != want.String() {
				t.Errorf("%s is not the %s audio of this captcha's digits (%d bytes, want %d)", src, lang, len(got), want.Len())
			}
			_, en := get(t, e.URL+"/captcha/"+id+".en.wav")
			if en == got {
				t.Errorf("%s audio is the English one", lang)
			}
			// Listening is not answering: the captcha is still there.
			if captchas.Solve(id) == "" {
				t.Error("fetching the audio used up the captcha")
			}
		})
	}
}

// The old link without a language stays English; an unknown language is
// as unknown as an unknown captcha, and the form's field takes any digits.
func TestCaptchaAudioLanguages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	_, page := get(t, e.URL+"/de/")
	id := captchaID(t, page)
	if bytes.Contains([]byte(page), []byte(`pattern=`)) {
		t.Error("the captcha field has a pattern: browsers refuse Arabic-Indic digits with it")
	}
	_, old := get(t, e.URL+"/captcha/"+id+".wav")
	if _, en := get(t, e.URL+"/captcha/"+id+".en.wav"); en != old {
		t.Error("/captcha/{id}.wav is not the English audio")
	}
	for _, name := range []string{id + ".xx.wav", id + ".voices.wav", id + "..wav", id + ".de.png", "unknown.de.wav", id + ".de.de.wav"} {
		if resp, _ := get(t, e.URL+"/captcha/"+name); resp.StatusCode != http.StatusNotFound {
			t.Errorf("/captcha/%s: status %d, want 404", name, resp.StatusCode)
		}
	}
}

// Every public language has digits of its own to listen to: a language
// added without a voice set would get English audio under its own name.
func TestEveryPublicLanguageHasItsOwnAudio(t *testing.T) {
	t.Parallel()
	for _, l := range i18n.Languages {
		want := l.Code
		if l.Code == "ls" { // Leichte Sprache is German
			want = "de"
		}
		if got := captchaaudio.Speaks(l.Code); got != want {
			t.Errorf("captcha audio for %s speaks %s", l.Code, got)
		}
	}
}
