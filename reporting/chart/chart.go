// Package chart draws horizontal bar charts as SVG, on the server, for
// pages that run no script: the public statistics and the office's
// yearly report.
//
// Every label sits on its own lines ABOVE its bar, never beside it, so
// that no label can run into a bar or into another label, whatever its
// length or language. Labels are wrapped here, by a conservative width
// estimate, because SVG text does not wrap by itself. The geometry is
// computed first (Layout) and drawn second (SVG), so that tests can check
// the boxes without a browser.
package chart

import (
	"bytes"
	"encoding/xml"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Geometry in SVG user units. The SVG scales to its box (CSS width 100 %);
// Width is chosen so that one unit is about one CSS pixel on a 390 px
// phone, where the text must stay readable.
const (
	Width      = 360
	fontSize   = 14
	lineHeight = 21
	barHeight  = 14
	prevHeight = 7
	gap        = 10 // between one bar's block and the next label
	// charWidth is a conservative estimate of one character's advance at
	// fontSize: wider than the average of Latin, Cyrillic and Arabic text
	// in a sans-serif font, so that estimated lines are never too short.
	charWidth = 0.7 * fontSize
	// valueRoom is kept free right of the longest bar for its value
	// (up to 9 characters: "1.234.567", "<5", "100,0 %").
	valueRoom  = 9*charWidth + 6
	hiddenBarW = 28 // a hidden cell's bar: fixed, so its length tells nothing
	// pad keeps glyphs that overhang their advance ("Î", italic
	// forms) inside the chart.
	pad = 3
)

// Bar is one row of a chart.
type Bar struct {
	Label string
	Value string // the text at the bar's end: "12", "<5", "x"
	N     int    // the count; ignored when Hidden
	// Hidden marks a suppressed cell: drawn as an empty dashed bar of a
	// fixed length, because a length would give the count away.
	Hidden bool
	// Prev is last year's value, drawn as a second, thinner bar when
	// HasPrev is set.
	HasPrev    bool
	Prev       int
	PrevValue  string
	PrevHidden bool
}

// Chart is a bar chart to draw.
type Chart struct {
	// ID names the chart's elements; unique within the page.
	ID string
	// LabelledBy is the ID of the element that names the chart (the
	// table's caption): the table is the accessible form of the chart.
	LabelledBy string
	// RTL mirrors the chart for Arabic and Farsi: labels and bars start
	// at the right.
	RTL bool
	// Legend names the two bars when there is a comparison: this year
	// and last year ("2025", "2024").
	Legend [2]string
	Bars   []Bar
}

// Box is a rectangle in SVG units.
type Box struct{ X, Y, W, H float64 }

// Overlaps tells whether two boxes share an inner point.
func (a Box) Overlaps(b Box) bool {
	return a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H
}

// Text is a text of one or more lines, anchored at X.
type Text struct {
	Lines  []string
	X, Y   float64 // the first line's baseline
	Anchor string  // "start" or "end", for a left-to-right reading of X
	Class  string
	Box    Box // the estimated extent of all lines
}

// Rect is a bar.
type Rect struct {
	Box
	Class string
}

// Layout is the chart's geometry.
type Layout struct {
	Width, Height float64
	Texts         []Text
	Rects         []Rect
	Labels        []int // indexes into Texts of the bar labels
}

// textWidth estimates the advance of s.
func textWidth(s string) float64 { return float64(utf8.RuneCountInString(s)) * charWidth }

// Wrap breaks s into lines of at most width units by the estimate,
// at spaces; a word longer than a line is cut.
func Wrap(s string, width float64) []string {
	max := int(width/charWidth + 1e-9)
	if max < 1 {
		max = 1
	}
	var lines []string
	var line []rune
	for _, w := range strings.Fields(s) {
		word := []rune(w)
		for len(word) > max { // a word longer than a line: cut it
			if len(line) > 0 {
				lines, line = append(lines, string(line)), nil
			}
			lines, word = append(lines, string(word[:max])), word[max:]
		}
		switch {
		case len(line) == 0:
			line = word
		case len(line)+1+len(word) <= max:
			line = append(append(line, ' '), word...)
		default:
			lines, line = append(lines, string(line)), word
		}
	}
	if len(line) > 0 || len(lines) == 0 {
		lines = append(lines, string(line))
	}
	return lines
}

// Layout computes the chart's geometry.
func (c Chart) Layout() Layout {
	l := Layout{Width: Width}
	maxN := 1
	compare := false
	for _, b := range c.Bars {
		if !b.Hidden {
			maxN = max(maxN, b.N)
		}
		if b.HasPrev {
			compare = true
			if !b.PrevHidden {
				maxN = max(maxN, b.Prev)
			}
		}
	}
	barMax := Width - 2*pad - valueRoom
	// x mirrors a left-to-right position for rtl charts.
	x := func(left, w float64) float64 {
		if c.RTL {
			return Width - pad - left - w
		}
		return pad + left
	}
	startAnchor, endAnchor := "start", "end"
	if c.RTL {
		startAnchor, endAnchor = "end", "start"
	}
	y := 0.0
	if compare {
		// The legend: two small swatches with the years.
		for i, name := range c.Legend {
			left := float64(i) * Width / 2
			cls := "chart-bar"
			if i == 1 {
				cls = "chart-prev"
			}
			l.Rects = append(l.Rects, Rect{Box{x(left, 12), y + 3, 12, 12}, cls})
			w := textWidth(name)
			l.Texts = append(l.Texts, Text{Lines: []string{name}, X: x(left+18, 0), Y: y + 14,
				Anchor: startAnchor, Class: "chart-legend", Box: Box{x(left+18, w), y, w, lineHeight}})
		}
		y += lineHeight + gap
	}
	for _, b := range c.Bars {
		lines := Wrap(b.Label, Width-2*pad)
		w := 0.0
		for _, s := range lines {
			w = max(w, textWidth(s))
		}
		h := float64(len(lines)) * lineHeight
		l.Labels = append(l.Labels, len(l.Texts))
		l.Texts = append(l.Texts, Text{Lines: lines, X: x(0, 0), Y: y + fontSize, Anchor: startAnchor,
			Class: "chart-label", Box: Box{x(0, w), y, w, h}})
		y += h + 2
		l.bar(c, &y, b.N, b.Value, b.Hidden, barHeight, "chart-bar", maxN, barMax, x, endAnchor)
		if b.HasPrev {
			l.bar(c, &y, b.Prev, b.PrevValue, b.PrevHidden, prevHeight, "chart-prev", maxN, barMax, x, endAnchor)
		}
		y += gap
	}
	l.Height = y
	return l
}

// bar adds one bar of height h at *y with its value at its end.
func (l *Layout) bar(c Chart, y *float64, n int, value string, hidden bool, h float64, class string, maxN int, barMax float64, x func(float64, float64) float64, endAnchor string) {
	w := float64(n) * barMax / float64(maxN)
	if hidden {
		w, class = hiddenBarW, class+" chart-hidden"
	}
	if w > 0 {
		l.Rects = append(l.Rects, Rect{Box{x(0, w), *y, w, h}, class})
	}
	vw := textWidth(value)
	// The value's line is centred on the bar, and at least a text line
	// high, so that a thin bar's value does not reach into the next row.
	row := max(h, lineHeight-2)
	left := w + 4
	l.Texts = append(l.Texts, Text{Lines: []string{value}, X: x(left, 0), Y: *y + row/2 + fontSize*0.35,
		Anchor: map[string]string{"end": "start", "start": "end"}[endAnchor], Class: "chart-value",
		Box: Box{x(left, vw), *y, vw, row}})
	*y += row + 1
}

// SVG draws the chart: an inline <svg> without style attributes (the
// CSP forbids them; colours come from classes in style.css), every text
// escaped.
func (c Chart) SVG() []byte {
	l := c.Layout()
	var b bytes.Buffer
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" focusable="false" viewBox="0 0 `)
	b.WriteString(f(l.Width) + " " + f(l.Height) + `" width="` + f(l.Width) + `" height="` + f(l.Height) + `"`)
	if c.ID != "" {
		b.WriteString(` id="` + esc(c.ID) + `"`)
	}
	if c.LabelledBy != "" {
		b.WriteString(` aria-labelledby="` + esc(c.LabelledBy) + `"`)
	}
	b.WriteString(` font-size="` + strconv.Itoa(fontSize) + `">`)
	for _, r := range l.Rects {
		b.WriteString(`<rect class="` + esc(r.Class) + `" x="` + f(r.X) + `" y="` + f(r.Y) + `" width="` + f(r.W) + `" height="` + f(r.H) + `"></rect>`)
	}
	for _, t := range l.Texts {
		// Each text states its direction and anchor itself instead of
		// inheriting the page's: labels read in the page's direction,
		// values always left to right, so that "<5" never reads "5>".
		dir := "ltr"
		if c.RTL && t.Class != "chart-value" {
			dir = "rtl"
		}
		anchor := t.Anchor
		if dir == "rtl" { // in rtl text, "start" is the right edge
			anchor = map[string]string{"end": "start", "start": "end"}[anchor]
		}
		b.WriteString(`<text class="` + esc(t.Class) + `" x="` + f(t.X) + `" y="` + f(t.Y) + `" direction="` + dir + `" text-anchor="` + anchor + `">`)
		for i, s := range t.Lines {
			b.WriteString(`<tspan x="` + f(t.X) + `" dy="`)
			if i == 0 {
				b.WriteString("0")
			} else {
				b.WriteString(strconv.Itoa(lineHeight))
			}
			b.WriteString(`">` + esc(s) + `</tspan>`)
		}
		b.WriteString(`</text>`)
	}
	b.WriteString(`</svg>`)
	return b.Bytes()
}

func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
