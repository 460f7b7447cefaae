// Package i18n holds Meldestelle's translations (go-i18n message files in
// TOML, embedded), negotiates the language of a request and tells the text
// direction of each language.
package i18n

import (
	"cmp"
	"embed"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/number"
)

//go:embed locales/*.toml
var locales embed.FS

// Source is the language every message is written in first; the others are
// translations of it and fall back to it.
const Source = "de"

// Language is one language the public pages are offered in.
type Language struct {
	Code string // path segment and message-file suffix: /ar/, public.ar.toml
	Name string // the language's name in itself, for the switcher
	RTL  bool   // written right to left
	html string // the HTML lang attribute, when it is not Code
	// tag is the go-i18n bundle's tag, which picks the CLDR plural rules.
	tag language.Tag
	// format is the CLDR locale of numbers and percentages.
	format language.Tag
}

// Dir returns the value for the HTML dir attribute.
func (l Language) Dir() string {
	if l.RTL {
		return "rtl"
	}
	return "ltr"
}

// HTMLLang returns the value for the HTML lang attribute: Leichte Sprache
// is German to screen readers, spell checkers and hyphenation.
func (l Language) HTMLLang() string {
	if l.html != "" {
		return l.html
	}
	return l.Code
}

func lang(code, name string, rtl bool, tag, format string) Language {
	return Language{Code: code, Name: name, RTL: rtl,
		tag: language.MustParse(tag), format: language.MustParse(format)}
}

// Languages are the public languages, in the switcher's order.
var Languages = []Language{
	lang("de", "Deutsch", false, "de", "de"),
	// Leichte Sprache is no language of its own in BCP 47: German rules.
	{Code: "ls", Name: "Leichte Sprache", html: "de", tag: language.German, format: language.German},
	lang("en", "English", false, "en", "en"),
	lang("tr", "Türkçe", false, "tr", "tr"),
	// Arabic and Persian pages write Latin digits, as the captcha picture
	// and the receipt code do: one kind of digit on the page (CLDR's
	// numbering-system extension; typed Arabic-Indic digits are accepted).
	lang("ar", "العربية", true, "ar", "ar-u-nu-latn"),
	lang("fa", "فارسی / دری", true, "fa", "fa-u-nu-latn"),
	lang("ku", "Kurdî (Kurmancî)", false, "ku", "ku"),
	lang("ru", "Русский", false, "ru", "ru"),
	lang("uk", "Українська", false, "uk", "uk"),
	lang("ro", "Română", false, "ro", "ro"),
	lang("bg", "Български", false, "bg", "bg"),
	lang("sr", "Srpski / Bosanski / Hrvatski", false, "sr-Latn", "sr-Latn"),
	// CLDR has no Romani: go-i18n gives the constructed-language tag
	// "art" the one/other plural rule, which is Romani's too; numbers are
	// written as in Romania, where most of our Romani readers come from.
	lang("rom", "Romanes", false, "art-x-rom", "ro"),
	lang("pl", "Polski", false, "pl", "pl"),
}

// OfficeLanguages are the languages of the counsellors' back office.
var OfficeLanguages = []string{"de", "en"}

// Lookup returns the public language with the given code.
func Lookup(code string) (Language, bool) {
	i := slices.IndexFunc(Languages, func(l Language) bool { return l.Code == code })
	if i < 0 {
		return Language{}, false
	}
	return Languages[i], true
}

// Bundle holds every translation, one go-i18n bundle per language.
//
// One bundle each, not one for all: go-i18n picks a language with a
// matcher that would serve Leichte Sprache's messages as German and
// Bosnian readers' as Croatian; in its own bundle a language can only
// match itself, and a missing message falls back to German explicitly.
type Bundle struct {
	localizers map[string]*goi18n.Localizer
	formats    map[string]language.Tag
}

// Load reads the embedded message files.
func Load() (*Bundle, error) {
	return load(locales)
}

func load(fsys fs.FS) (*Bundle, error) {
	names, err := fs.Glob(fsys, "locales/*.toml")
	if err != nil {
		return nil, err
	}
	bundles := map[string]*goi18n.Bundle{}
	b := &Bundle{localizers: map[string]*goi18n.Localizer{}, formats: map[string]language.Tag{}}
	for _, l := range Languages {
		bundles[l.Code] = goi18n.NewBundle(l.tag)
		b.formats[l.Code] = l.format
	}
	for _, name := range names {
		base := path.Base(name)
		stem := strings.TrimSuffix(base, ".toml")
		code := stem[strings.LastIndexByte(stem, '.')+1:]
		l, ok := Lookup(code)
		gb := bundles[code]
		if !ok || gb == nil {
			return nil, fmt.Errorf("i18n: %s: no language %q", name, code)
		}
		buf, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", name, err)
		}
		if _, err := gb.ParseMessageBytes(l.tag, buf, toml.Unmarshal); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", name, err)
		}
	}
	for code, gb := range bundles {
		l, _ := Lookup(code)
		b.localizers[code] = goi18n.NewLocalizer(gb, l.tag.String())
	}
	return b, nil
}

// T returns the message id in language lang, filled with data (a map or a
// struct for the message's {{.Placeholders}}). A message missing in lang
// falls back to German; one missing everywhere shows its ID, so a gap is
// visible instead of a blank.
func (b *Bundle) T(lang, id string, data any) string {
	return b.localize(lang, &goi18n.LocalizeConfig{MessageID: id, TemplateData: data})
}

// Plural returns the plural message id for count in language lang, with
// count formatted by CLDR's rules as {{.Count}} next to data's other
// placeholders: "3 حالات", never "3 حالة".
func (b *Bundle) Plural(lang, id string, count int, data map[string]any) string {
	d := make(map[string]any, len(data)+1)
	for k, v := range data {
		d[k] = v
	}
	d["Count"] = b.Number(lang, count)
	return b.localize(lang, &goi18n.LocalizeConfig{MessageID: id, TemplateData: d, PluralCount: count})
}

func (b *Bundle) localize(lang string, lc *goi18n.LocalizeConfig) string {
	if l, ok := b.localizers[lang]; ok {
		if s, err := l.Localize(lc); err == nil {
			return s
		}
	}
	s, err := b.localizers[Source].Localize(lc)
	if err != nil && s == "" {
		return lc.MessageID
	}
	return s
}

// Number formats n by the CLDR rules of lang: 20.000 in German, 20,000 in
// English and Arabic.
func (b *Bundle) Number(lang string, n int) string {
	return message.NewPrinter(b.format(lang)).Sprint(number.Decimal(n))
}

// Year writes a year in lang's digits, without a thousands separator.
func (b *Bundle) Year(lang string, year int) string {
	return message.NewPrinter(b.format(lang)).Sprint(number.Decimal(year, number.NoSeparator()))
}

// Percent formats a share given in percent (12.5 for an eighth) with one
// decimal by the CLDR rules of lang: "12,5 %" in German, "%12,5" in
// Turkish.
func (b *Bundle) Percent(lang string, share float64) string {
	return message.NewPrinter(b.format(lang)).Sprint(number.Percent(share/100, number.Scale(1)))
}

func (b *Bundle) format(lang string) language.Tag {
	if t, ok := b.formats[lang]; ok {
		return t
	}
	return language.German
}

// Related languages that readers of one of ours read as their own. Only
// these, and the same base language, count as a match: a Kurdish reader
// must not be sent a Turkish page, nor a Sorani reader (ckb, Arabic
// script) the Kurmancî one in Latin letters, because a matcher thinks
// them close.
var related = map[string]string{
	"prs": "fa",  // Dari
	"kmr": "ku",  // Kurmancî
	"bs":  "sr",  // Bosnian
	"hr":  "sr",  // Croatian
	"sh":  "sr",  // Serbo-Croatian
	"cnr": "sr",  // Montenegrin
	"rmy": "rom", // Vlax Romani
	"rmn": "rom", // Balkan Romani
	"rmc": "rom", // Carpathian Romani
	"mo":  "ro",  // Moldovan
}

// codeOf returns the public language code that serves a reader of tag,
// or "" when none does.
func codeOf(tag language.Tag) string {
	base, conf := tag.Base()
	if conf == language.No {
		return ""
	}
	b := base.String()
	if script, c := tag.Script(); b == "ku" && c == language.Exact && script.String() == "Arab" {
		return "" // Kurdish in Arabic letters is Sorani's script, not ours
	}
	if c, ok := related[b]; ok {
		return c
	}
	if _, ok := Lookup(b); ok {
		return b
	}
	return ""
}

// Negotiate picks the offered language code the browser's Accept-Language
// header wants most, counting related languages (Dari for Farsi, Bosnian
// for Serbian, Vlax Romani for Romani), and reports false when it wants
// none of them. Each entry of the header is read on its own, so one
// malformed entry does not discard the rest.
func Negotiate(acceptLanguage string, offered []string) (string, bool) {
	type wish struct {
		code string
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
		if code := codeOf(t); code != "" {
			wishes = append(wishes, wish{code: code, q: q})
		}
	}
	slices.SortStableFunc(wishes, func(a, b wish) int { return cmp.Compare(b.q, a.q) })
	for _, w := range wishes {
		if slices.Contains(offered, w.code) {
			return w.code, true
		}
	}
	return "", false
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

// Status returns how far the public messages of a language can be
// trusted, as the first line of its public message file says: "source",
// "draft, …" or "reviewed by …". The office shows it next to each
// language, so an admin decides with the facts.
func Status(code string) string {
	b, err := fs.ReadFile(locales, "locales/"+PublicFile+"."+code+".toml")
	if err != nil {
		return ""
	}
	first, _, _ := strings.Cut(string(b), "\n")
	status, _ := strings.CutPrefix(first, "# Status: ")
	return strings.TrimSpace(status)
}

// PublicMessages returns every public message of a language by ID (the
// "other" form of plural ones), from the public file and each feature's
// public-* file: what a test compares pages against.
func PublicMessages(code string) (map[string]string, error) {
	names, err := fs.Glob(locales, "locales/*."+code+".toml")
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, n := range names {
		stem := strings.TrimSuffix(path.Base(n), "."+code+".toml")
		if !IsPublicArea(stem) {
			continue
		}
		msgs, err := messages(locales, stem, code)
		if err != nil {
			return nil, err
		}
		maps.Copy(out, msgs)
	}
	return out, nil
}
