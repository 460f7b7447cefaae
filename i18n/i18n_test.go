package i18n

import (
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"unicode"
)

// placeholderRE matches a go-template placeholder such as {{.Max}}.
var placeholderRE = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

// actionRE matches any go-template action, placeholder or not.
var actionRE = regexp.MustCompile(`\{\{.*?\}\}`)

// placeholders returns the sorted, distinct placeholder names in s.
func placeholders(s string) []string {
	var names []string
	for _, m := range placeholderRE.FindAllStringSubmatch(s, -1) {
		names = append(names, m[1])
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// checkFile compares file.lang.toml with the German file.lang: same IDs,
// no empty message, the German placeholders kept and no others added. Then
// it renders each of the language's messages through the bundle, so a
// template that does not parse or execute shows up too.
func checkFile(t *testing.T, b *Bundle, file, lang string) {
	t.Helper()
	srcName := file + "." + Source + ".toml"
	name := file + "." + lang + ".toml"

	srcIDs, err := MessageIDs(file, Source)
	if err != nil {
		t.Errorf("%s, the source of %s, cannot be read: %v", srcName, name, err)
		return
	}
	src, err := Messages(file, Source)
	if err != nil {
		t.Errorf("%s: %v", srcName, err)
		return
	}
	ids, err := MessageIDs(file, lang)
	if err != nil {
		t.Errorf("%s is missing or unreadable (every language in the list needs one): %v", name, err)
		return
	}
	msgs, err := Messages(file, lang)
	if err != nil {
		t.Errorf("%s: %v", name, err)
		return
	}

	for _, id := range srcIDs {
		if _, ok := msgs[id]; !ok {
			t.Errorf("%s: missing message %q (German: %q)", name, id, src[id])
		}
	}
	for _, id := range ids {
		if _, ok := src[id]; !ok {
			t.Errorf("%s: message %q is not in %s", name, id, srcName)
		}
	}

	for _, id := range ids {
		msg := msgs[id]
		if msg == "" {
			t.Errorf("%s: message %q is empty", name, id)
			continue
		}
		want, inSource := src[id]
		if !inSource {
			continue // reported above
		}
		srcNames := placeholders(want)
		for _, p := range srcNames {
			if !slices.Contains(placeholders(msg), p) {
				t.Errorf("%s: message %q lacks the placeholder {{.%s}}: %q", name, id, p, msg)
			}
		}
		// Every action in the translation must be one of the German
		// placeholders: anything else renders as "<no value>" or breaks.
		for _, a := range actionRE.FindAllString(msg, -1) {
			m := placeholderRE.FindStringSubmatch(a)
			if m == nil || m[0] != a || !slices.Contains(srcNames, m[1]) {
				t.Errorf("%s: message %q has %s, which the German message does not have", name, id, a)
			}
		}

		// Render it: each placeholder gets a marker that must show up.
		data := map[string]any{}
		for _, p := range srcNames {
			data[p] = "<" + p + ">"
		}
		got := b.T(lang, id, data)
		if got == id {
			t.Errorf("T(%q, %q) returned the ID: the message does not render", lang, id)
			continue
		}
		if strings.Contains(got, "{{") || strings.Contains(got, "<no value>") {
			t.Errorf("T(%q, %q) = %q: placeholder left unfilled", lang, id, got)
		}
		for _, p := range srcNames {
			if !strings.Contains(got, "<"+p+">") {
				t.Errorf("T(%q, %q) = %q: {{.%s}} not filled in", lang, id, got, p)
			}
		}
	}
}

func mustLoad(t *testing.T) *Bundle {
	t.Helper()
	b, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return b
}

func TestPublicMessagesComplete(t *testing.T) {
	b := mustLoad(t)
	for _, stem := range publicStems(t) {
		for _, l := range Languages {
			t.Run(stem+"."+l.Code, func(t *testing.T) { checkFile(t, b, stem, l.Code) })
		}
	}
}

// stems lists the message files by stem: every "X.de.toml".
func stems(t *testing.T) []string {
	t.Helper()
	names, err := fs.Glob(locales, "locales/*."+Source+".toml")
	if err != nil {
		t.Fatal(err)
	}
	var stems []string
	for _, n := range names {
		stems = append(stems, strings.TrimSuffix(strings.TrimPrefix(n, "locales/"), "."+Source+".toml"))
	}
	return stems
}

// publicStems lists the public message files by stem: public and one
// "public-*" per public feature.
func publicStems(t *testing.T) []string {
	t.Helper()
	s := slices.DeleteFunc(stems(t), func(stem string) bool { return !IsPublicArea(stem) })
	if !slices.Contains(s, PublicFile) {
		t.Fatalf("no %s.%s.toml among %v", PublicFile, Source, s)
	}
	return s
}

// officeStems lists the back office's message files by stem: every
// "X.de.toml" but the public ones (office, and one per office feature).
func officeStems(t *testing.T) []string {
	t.Helper()
	s := slices.DeleteFunc(stems(t), IsPublicArea)
	if !slices.Contains(s, OfficeFile) {
		t.Fatalf("no %s.%s.toml among %v", OfficeFile, Source, s)
	}
	return s
}

func TestOfficeMessagesComplete(t *testing.T) {
	b := mustLoad(t)
	for _, stem := range officeStems(t) {
		for _, code := range OfficeLanguages {
			t.Run(stem+"."+code, func(t *testing.T) { checkFile(t, b, stem, code) })
		}
	}
}

// No message ID is defined in two files: the bundle would keep one of
// them silently.
func TestNoDuplicateIDs(t *testing.T) {
	seen := map[string]string{}
	for _, stem := range stems(t) {
		ids, err := MessageIDs(stem, Source)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			if other, ok := seen[id]; ok {
				t.Errorf("message %q is in both %s and %s", id, other, stem)
			}
			seen[id] = stem
		}
	}
}

// Every embedded message file belongs to a language that is offered: a stray
// file would be loaded into the bundle without any completeness check.
func TestNoStrayMessageFiles(t *testing.T) {
	names, err := fs.Glob(locales, "locales/*.toml")
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, stem := range publicStems(t) {
		for _, c := range PublicCodes() {
			known["locales/"+stem+"."+c+".toml"] = true
		}
	}
	for _, stem := range officeStems(t) {
		for _, c := range OfficeLanguages {
			known["locales/"+stem+"."+c+".toml"] = true
		}
	}
	for _, n := range names {
		if !known[n] {
			t.Errorf("%s is embedded, but its language is not in Languages/OfficeLanguages", n)
		}
	}
}

// Every message file says at its top how far it can be trusted: German is
// the source, every other file a draft until a native speaker has reviewed
// it (then "# Status: reviewed by …, DATE"). A file without the line would
// pass for finished.
func TestEveryFileStatesItsStatus(t *testing.T) {
	names, err := fs.Glob(locales, "locales/*.toml")
	if err != nil {
		t.Fatal(err)
	}
	status := regexp.MustCompile(`^# Status: (source|draft|reviewed by .+)`)
	for _, n := range names {
		b, err := fs.ReadFile(locales, n)
		if err != nil {
			t.Fatal(err)
		}
		first, _, _ := strings.Cut(string(b), "\n")
		m := status.FindStringSubmatch(first)
		switch {
		case m == nil:
			t.Errorf("%s: the first line is not a \"# Status:\" line: %q", n, first)
		case strings.HasSuffix(n, "."+Source+".toml") != (m[1] == "source"):
			t.Errorf("%s: status %q, but only the %s files are the source", n, m[1], Source)
		}
	}
}

// The back office names every public language (the case page, the
// language settings) in each office language.
func TestLanguageNames(t *testing.T) {
	b := mustLoad(t)
	for _, office := range OfficeLanguages {
		for _, l := range Languages {
			if got := b.T(office, "language."+l.Code, nil); got == "language."+l.Code || got == "" {
				t.Errorf("T(%q, %q) = %q: the office cannot name this language", office, "language."+l.Code, got)
			}
		}
	}
}

func TestT(t *testing.T) {
	b := mustLoad(t)
	de, err := Messages(PublicFile, Source)
	if err != nil {
		t.Fatal(err)
	}
	ar, err := Messages(PublicFile, "ar")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("arabic", func(t *testing.T) {
		got := b.T("ar", "form.title", nil)
		if got != ar["form.title"] {
			t.Errorf("T(ar, form.title) = %q, want %q", got, ar["form.title"])
		}
		if got == de["form.title"] {
			t.Errorf("T(ar, form.title) = %q is the German text", got)
		}
		if !strings.ContainsFunc(got, func(r rune) bool { return unicode.Is(unicode.Arabic, r) }) {
			t.Errorf("T(ar, form.title) = %q has no Arabic letters", got)
		}
	})

	t.Run("placeholder", func(t *testing.T) {
		for _, l := range Languages {
			got := b.T(l.Code, "form.description.hint", map[string]any{"Max": 20000})
			if !strings.Contains(got, "20000") && !strings.Contains(got, "٢٠٠٠٠") && !strings.Contains(got, "۲۰۰۰۰") {
				t.Errorf("T(%q, form.description.hint, Max=20000) = %q: no 20000", l.Code, got)
			}
			if strings.Contains(got, "{{") || strings.Contains(got, "<no value>") {
				t.Errorf("T(%q, form.description.hint, Max=20000) = %q: placeholder left", l.Code, got)
			}
		}
	})

	t.Run("unknown language falls back to German", func(t *testing.T) {
		for _, lang := range []string{"xx", "fr", "", "AR"} {
			if got := b.T(lang, "form.title", nil); got != de["form.title"] {
				t.Errorf("T(%q, form.title) = %q, want the German %q", lang, got, de["form.title"])
			}
		}
	})

	t.Run("unknown ID shows the ID", func(t *testing.T) {
		for _, lang := range []string{"de", "ar", "xx"} {
			if got := b.T(lang, "no.such.message", nil); got != "no.such.message" {
				t.Errorf("T(%q, no.such.message) = %q, want the ID", lang, got)
			}
		}
	})
}

// A message missing in one language falls back to German, filled in; a
// broken file is reported with its name. Uses a made-up file system.
func TestLoadFallbackAndErrors(t *testing.T) {
	b, err := load(fstest.MapFS{
		"locales/public.de.toml": {Data: []byte("\"a\" = \"A auf Deutsch\"\n\"b\" = \"B: {{.N}} Stück\"\n")},
		"locales/public.ar.toml": {Data: []byte("\"a\" = \"أ بالعربية\"\n")},
	})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	for _, c := range []struct{ lang, id, want string }{
		{"ar", "a", "أ بالعربية"},
		{"ar", "b", "B: 3 Stück"},    // missing in ar
		{"tr", "a", "A auf Deutsch"}, // no tr file at all
		{"de", "b", "B: 3 Stück"},
		{"ar", "c", "c"},
	} {
		if got := b.T(c.lang, c.id, map[string]any{"N": 3}); got != c.want {
			t.Errorf("T(%q, %q) = %q, want %q", c.lang, c.id, got, c.want)
		}
	}

	_, err = load(fstest.MapFS{
		"locales/public.de.toml": {Data: []byte("\"a\" = \"A\"\n")},
		"locales/public.tr.toml": {Data: []byte("\"a\" = \"unterminated\n")},
	})
	if err == nil || !strings.Contains(err.Error(), "public.tr.toml") {
		t.Errorf("load of a broken file: err = %v, want an error naming public.tr.toml", err)
	}
}

func TestNegotiate(t *testing.T) {
	public := PublicCodes()
	const none = "" // the chooser page
	for _, c := range []struct {
		header  string
		offered []string
		want    string
	}{
		{"ar-SA,ar;q=0.9", public, "ar"},
		{"ar-EG", public, "ar"},
		{"tr-TR", public, "tr"},
		{"en-GB,en;q=0.8,de;q=0.5", public, "en"},
		{"fr-FR", public, none},
		{"", public, none},
		{"garbage", public, none},
		{"!!!;q=", public, none},
		{"de-AT", public, "de"},
		{"de;q=0,en", public, "en"}, // q=0 means "not this one"
		{"tr;q=0.1,ar;q=0.2", public, "ar"},
		{"ar", OfficeLanguages, none},
		{"en-US", OfficeLanguages, "en"},
		{"tr-TR,en;q=0.5", OfficeLanguages, "en"},
		// One bad entry does not discard the rest of the header.
		{"ar,xx-!!;q=0.5", public, "ar"},
		{"en;q=abc,ar;q=0.4", public, "ar"},
		// The new languages and their relatives.
		{"fa-IR", public, "fa"},
		{"prs", public, "fa"},
		{"fa-AF", public, "fa"},
		{"ku", public, "ku"},
		{"kmr", public, "ku"},
		{"ku-Latn-TR", public, "ku"},
		{"ru-RU,ru;q=0.9", public, "ru"},
		{"uk-UA", public, "uk"},
		{"ro-RO", public, "ro"},
		{"mo", public, "ro"},
		{"ro-MD", public, "ro"},
		{"bg-BG", public, "bg"},
		{"sr", public, "sr"},
		{"sr-Cyrl-RS", public, "sr"},
		{"sr-Latn", public, "sr"},
		{"bs-BA", public, "sr"},
		{"hr-HR", public, "sr"},
		{"rom", public, "rom"},
		{"rmy", public, "rom"},
		{"rmn", public, "rom"},
		{"rmc", public, "rom"},
		{"pl-PL", public, "pl"},
		// Only the same language or a listed relative counts: no Turkish
		// page for a Kurdish reader, no Kurmancî (Latin) page for a
		// Sorani reader (Arabic script), no Arabic page for Urdu.
		{"ckb", public, none},
		{"ckb-IQ,ar;q=0.5", public, "ar"},
		{"ku-Arab", public, none},
		{"ur-PK", public, none},
		{"ckb,en;q=0.3", public, "en"},
		{"sk", public, none}, // Slovak is not Serbian, nor Polish
		{"mk", public, none}, // nor Macedonian Bulgarian
		// A language switched off by the admin is not offered.
		{"ro-RO,en;q=0.5", []string{"de", "en"}, "en"},
		{"ro-RO", []string{"de", "en"}, none},
	} {
		got, ok := Negotiate(c.header, c.offered)
		if got != c.want || ok != (c.want != none) {
			t.Errorf("Negotiate(%q, %v) = %q, %v; want %q", c.header, c.offered, got, ok, c.want)
		}
	}
}

// Negotiate falls back to the first offered code, which must be German.
func TestSourceFirst(t *testing.T) {
	if got := PublicCodes(); len(got) != len(Languages) || got[0] != Source {
		t.Errorf("PublicCodes() = %v, want the codes of Languages starting with %q", got, Source)
	}
	for i, l := range Languages {
		if PublicCodes()[i] != l.Code {
			t.Errorf("PublicCodes()[%d] = %q, want %q", i, PublicCodes()[i], l.Code)
		}
	}
	if len(OfficeLanguages) == 0 || OfficeLanguages[0] != Source {
		t.Errorf("OfficeLanguages = %v, want %q first", OfficeLanguages, Source)
	}
}

func TestDir(t *testing.T) {
	rtl := []string{"ar", "fa"}
	for _, l := range Languages {
		want := "ltr"
		if slices.Contains(rtl, l.Code) {
			want = "rtl"
		}
		if got := l.Dir(); got != want {
			t.Errorf("%s.Dir() = %q, want %q", l.Code, got, want)
		}
	}
	if got := (Language{}).Dir(); got != "ltr" {
		t.Errorf("Language{}.Dir() = %q, want ltr", got)
	}
}

// The fourteen languages, in order, with their names in their own
// script and the HTML lang attribute a browser and a screen reader need.
func TestLookup(t *testing.T) {
	for _, c := range []struct {
		code, name, html string
		rtl              bool
	}{
		{"de", "Deutsch", "de", false},
		{"ls", "Leichte Sprache", "de", false},
		{"en", "English", "en", false},
		{"tr", "Türkçe", "tr", false},
		{"ar", "العربية", "ar", true},
		{"fa", "فارسی / دری", "fa", true},
		{"ku", "Kurdî (Kurmancî)", "ku", false},
		{"ru", "Русский", "ru", false},
		{"uk", "Українська", "uk", false},
		{"ro", "Română", "ro", false},
		{"bg", "Български", "bg", false},
		{"sr", "Srpski / Bosanski / Hrvatski", "sr", false},
		{"rom", "Romanes", "rom", false},
		{"pl", "Polski", "pl", false},
	} {
		l, ok := Lookup(c.code)
		if !ok || l.Code != c.code || l.Name != c.name || l.RTL != c.rtl || l.HTMLLang() != c.html {
			t.Errorf("Lookup(%q) = %+v (lang %q), %v; want {%s %s %v} lang %q", c.code, l, l.HTMLLang(), ok, c.code, c.name, c.rtl, c.html)
		}
	}
	if len(Languages) != 14 {
		t.Errorf("%d public languages, want 14", len(Languages))
	}
	for _, code := range []string{"", "xx", "fr", "de-DE", "LS"} {
		if l, ok := Lookup(code); ok || l.Code != "" {
			t.Errorf("Lookup(%q) = %+v, %v; want zero, false", code, l, ok)
		}
	}
}

// Plural forms and numbers come from CLDR: the Arabic count of cases
// takes the plural the number needs, German writes 20.000 and 12,5 %.
func TestPluralAndNumbers(t *testing.T) {
	b := mustLoad(t)
	for _, c := range []struct {
		lang  string
		n     int
		wants []string
	}{
		{"de", 1, []string{"1 Fall "}},
		{"de", 3, []string{"3 Fälle"}},
		{"de", 1200, []string{"1.200 Fälle"}},
		{"en", 1, []string{"1 case."}},
		{"en", 1200, []string{"1,200 cases"}},
	} {
		got := b.Plural(c.lang, "statistics.cases", c.n, map[string]any{"Year": "2026"})
		for _, w := range c.wants {
			if !strings.Contains(got, w) || !strings.Contains(got, "2026") {
				t.Errorf("Plural(%s, statistics.cases, %d) = %q, want it to contain %q and 2026", c.lang, c.n, got, w)
			}
		}
	}
	// Every language's plural forms exist for the counts CLDR sorts into
	// different categories, and each shows the count.
	for _, l := range Languages {
		for _, n := range []int{0, 1, 2, 3, 5, 11, 21, 22, 25, 100, 101, 102} {
			got := b.Plural(l.Code, "statistics.cases", n, map[string]any{"Year": "2026"})
			if got == "statistics.cases" || strings.Contains(got, "<no value>") || !strings.Contains(got, b.Number(l.Code, n)) {
				t.Errorf("Plural(%s, statistics.cases, %d) = %q: no count %q", l.Code, n, got, b.Number(l.Code, n))
			}
			// A form the language's CLDR rule needs but the file lacks
			// makes go-i18n fail, and T falls back to German.
			if l.Code != Source && l.Code != "ls" && got == b.Plural(Source, "statistics.cases", n, map[string]any{"Year": "2026"}) {
				t.Errorf("Plural(%s, statistics.cases, %d) = %q is the German text: a plural form is missing", l.Code, n, got)
			}
		}
	}
	for _, c := range []struct {
		lang  string
		share float64
		want  string
	}{
		{"de", 12.5, "12,5\u00a0%"},
		{"de", 0, "0,0\u00a0%"},
		{"en", 12.5, "12.5%"},
		{"tr", 12.5, "%12,5"},
		{"ls", 12.5, "12,5\u00a0%"},
	} {
		if got := b.Percent(c.lang, c.share); got != c.want {
			t.Errorf("Percent(%s, %v) = %q, want %q", c.lang, c.share, got, c.want)
		}
	}
	if got := b.Number("de", 20000); got != "20.000" {
		t.Errorf("Number(de, 20000) = %q, want 20.000", got)
	}
	if got := b.Number("ar", 20000); got != "20,000" {
		t.Errorf("Number(ar, 20000) = %q, want 20,000 (Latin digits, as in the captcha)", got)
	}
}
