// Package i18n holds Meldestelle's translations (go-i18n message files in
// TOML, embedded), negotiates the language of a request and tells the text
// direction of each language.
package i18n

import (
	"cmp"
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed locales/*.toml
var locales embed.FS

// Source is the language every message is written in first; the others are
// translations of it and fall back to it.
const Source = "de"

// Language is one language the public pages are offered in.
type Language struct {
	Code string // BCP 47, also the first path segment: /ar/
	Name string // the language's name in itself, for the switcher
	RTL  bool   // written right to left
}

// Dir returns the value for the HTML dir attribute.
func (l Language) Dir() string {
	if l.RTL {
		return "rtl"
	}
	return "ltr"
}

// Languages are the public languages, in the switcher's order.
var Languages = []Language{
	{Code: "de", Name: "Deutsch"},
	{Code: "en", Name: "English"},
	{Code: "tr", Name: "Türkçe"},
	{Code: "ar", Name: "العربية", RTL: true},
}

// OfficeLanguages are the languages of the counsellors' back office.
var OfficeLanguages = []string{"de", "en"}

// Lookup returns the language with the given code.
func Lookup(code string) (Language, bool) {
	i := slices.IndexFunc(Languages, func(l Language) bool { return l.Code == code })
	if i < 0 {
		return Language{}, false
	}
	return Languages[i], true
}

// Bundle holds every translation and one localizer per language.
type Bundle struct {
	bundle     *goi18n.Bundle
	localizers map[string]*goi18n.Localizer
}

// Load reads the embedded message files.
func Load() (*Bundle, error) {
	return load(locales)
}

func load(fsys fs.FS) (*Bundle, error) {
	b := goi18n.NewBundle(language.MustParse(Source))
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	names, err := fs.Glob(fsys, "locales/*.toml")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		if _, err := b.LoadMessageFileFS(fsys, name); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", name, err)
		}
	}
	bundle := &Bundle{bundle: b, localizers: map[string]*goi18n.Localizer{}}
	for _, l := range Languages {
		bundle.localizers[l.Code] = goi18n.NewLocalizer(b, l.Code, Source)
	}
	return bundle, nil
}

// T returns the message id in language lang, filled with data (a map or a
// struct for the message's {{.Placeholders}}). A message missing in lang
// falls back to German; one missing everywhere shows its ID, so a gap is
// visible instead of a blank.
func (b *Bundle) T(lang, id string, data any) string {
	l, ok := b.localizers[lang]
	if !ok {
		l = b.localizers[Source]
	}
	s, err := l.Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil && s == "" {
		return id
	}
	return s
}

// Negotiate picks the offered language code the browser's Accept-Language
// header wants most, or the first offered one when it wants none of them.
// Each entry of the header is read on its own, so one malformed entry
// does not discard the rest; and only the same base language counts as a
// match: a Kurdish reader must not be sent a Turkish page, nor a Sorani
// reader an Arabic one, because a matcher thinks them close.
func Negotiate(acceptLanguage string, offered []string) string {
	type wish struct {
		base string
		q    float64
	}
	var wishes []wish
	for entry := range strings.SplitSeq(acceptLanguage, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(entry), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			var err error
			if q, err = strconv.ParseFloat(v, 64); err != nil || q < 0 || q > 1 {
				continue
			}
		}
		t, err := language.Parse(strings.TrimSpace(tag))
		if err != nil || q == 0 {
			continue
		}
		base, conf := t.Base()
		if conf == language.No {
			continue
		}
		wishes = append(wishes, wish{base: base.String(), q: q})
	}
	slices.SortStableFunc(wishes, func(a, b wish) int { return cmp.Compare(b.q, a.q) })
	for _, w := range wishes {
		if slices.Contains(offered, w.base) {
			return w.base
		}
	}
	return offered[0]
}

// PublicCodes returns the codes of the public languages.
func PublicCodes() []string {
	codes := make([]string, len(Languages))
	for i, l := range Languages {
		codes[i] = l.Code
	}
	return codes
}

// Message files: public.LANG.toml has what reporters see (in every public
// language), office.LANG.toml the back office (in OfficeLanguages).
const (
	PublicFile = "public"
	OfficeFile = "office"
)

// IsPublicArea reports whether the message file stem (as "public" in
// "public.de.toml") is one that reporters see, needed in every public
// language: the public file itself and each feature's "public-*" file.
// Every other file is the back office's, in OfficeLanguages.
func IsPublicArea(stem string) bool {
	return stem == PublicFile || strings.HasPrefix(stem, PublicFile+"-")
}

// Messages returns the messages of one file (e.g. "public", "ar") by ID,
// for completeness checks.
func Messages(file, lang string) (map[string]string, error) {
	return messages(locales, file, lang)
}

// MessageIDs returns the sorted IDs of the messages in one file.
func MessageIDs(file, lang string) ([]string, error) {
	msgs, err := messages(locales, file, lang)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(msgs))
	for id := range msgs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, nil
}

func messages(fsys fs.FS, file, lang string) (map[string]string, error) {
	name := file + "." + lang + ".toml"
	buf, err := fs.ReadFile(fsys, "locales/"+name)
	if err != nil {
		return nil, err
	}
	f, err := goi18n.ParseMessageFileBytes(buf, name, map[string]goi18n.UnmarshalFunc{"toml": toml.Unmarshal})
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(f.Messages))
	for _, m := range f.Messages {
		out[m.ID] = strings.TrimSpace(m.Other)
	}
	return out, nil
}
