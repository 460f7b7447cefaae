package chart

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

// sample has long labels in three scripts, a hidden cell, a zero and a
// comparison with last year.
func sample(rtl bool) Chart {
	return Chart{ID: "c", LabelledBy: "cap", RTL: rtl, Legend: [2]string{"2025", "2024"}, Bars: []Bar{
		{Label: "Rassismus, Antisemitismus, (zugeschriebene) ethnische Herkunft und Staatsangehörigkeit", Value: "1.234", N: 1234, HasPrev: true, Prev: 900, PrevValue: "900"},
		{Label: "التمييز بسبب اللغة أو اللهجة أو طريقة الكلام في المدرسة أو العمل", Value: "<5", Hidden: true, HasPrev: true, PrevValue: "x", PrevHidden: true},
		{Label: "Ein_einziges_sehr_langes_Wort_ohne_jede_Leerstelle_das_umgebrochen_werden_muss", Value: "0", N: 0},
		{Label: "Wohnen <&> \"Ämter\"", Value: "7", N: 7, HasPrev: true, Prev: 12, PrevValue: "12"},
	}}
}

// The SVG parses as XML, escapes its texts, has no style attribute and
// names itself by the caption.
func TestSVGWellFormed(t *testing.T) {
	for _, rtl := range []bool{false, true} {
		svg := sample(rtl).SVG()
		d := xml.NewDecoder(bytes.NewReader(svg))
		var texts []string
		for {
			tok, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("rtl=%v: not well-formed: %v\n%s", rtl, err, svg)
			}
			switch tok := tok.(type) {
			case xml.StartElement:
				for _, a := range tok.Attr {
					if a.Name.Local == "style" {
						t.Errorf("style attribute on <%s>", tok.Name.Local)
					}
				}
			case xml.CharData:
				texts = append(texts, string(tok))
			}
		}
		all := strings.Join(texts, "|")
		for _, want := range []string{"Wohnen <&> \"Ämter\"", "<5", "1.234", "2024"} {
			if !strings.Contains(all, want) {
				t.Errorf("rtl=%v: text %q missing from %q", rtl, want, all)
			}
		}
		if !bytes.Contains(svg, []byte(`role="img"`)) || !bytes.Contains(svg, []byte(`aria-labelledby="cap"`)) {
			t.Errorf("rtl=%v: no role or name: %s", rtl, svg)
		}
	}
}

// No two texts overlap, no text overlaps a bar, no bar overlaps another,
// and everything stays inside the chart: labels above their bars.
func TestLayoutNoOverlap(t *testing.T) {
	for _, rtl := range []bool{false, true} {
		l := sample(rtl).Layout()
		var boxes []Box
		var names []string
		for _, tx := range l.Texts {
			boxes, names = append(boxes, tx.Box), append(names, "text "+strings.Join(tx.Lines, "/"))
		}
		for _, r := range l.Rects {
			boxes, names = append(boxes, r.Box), append(names, "bar "+r.Class)
		}
		for i, a := range boxes {
			if a.X < -0.01 || a.Y < 0 || a.X+a.W > l.Width+0.01 || a.Y+a.H > l.Height {
				t.Errorf("rtl=%v: %s %+v outside %vx%v", rtl, names[i], a, l.Width, l.Height)
			}
			for j := i + 1; j < len(boxes); j++ {
				if a.Overlaps(boxes[j]) {
					t.Errorf("rtl=%v: %s %+v overlaps %s %+v", rtl, names[i], a, names[j], boxes[j])
				}
			}
		}
		// Each label is above the next bar.
		for _, i := range l.Labels {
			lb := l.Texts[i].Box
			if i+1 >= len(l.Texts) || l.Texts[i+1].Box.Y < lb.Y+lb.H {
				t.Errorf("rtl=%v: label %q is not above its value", rtl, l.Texts[i].Lines)
			}
		}
	}
}

// Right to left, bars grow from the right edge and labels are anchored
// there; left to right, from the left edge. Values read left to right.
func TestLayoutRTLMirrors(t *testing.T) {
	ltr, rtl := sample(false).Layout(), sample(true).Layout()
	if len(ltr.Rects) != len(rtl.Rects) {
		t.Fatal("different bars")
	}
	for i := range ltr.Rects {
		a, b := ltr.Rects[i], rtl.Rects[i]
		if a.W != b.W || a.Y != b.Y || b.X != Width-a.X-a.W || a.X != pad && a.X != pad+Width/2 {
			t.Errorf("bar %d not mirrored: %+v / %+v", i, a, b)
		}
	}
	lb := rtl.Texts[rtl.Labels[0]]
	if lb.X != Width-pad || lb.Box.X+lb.Box.W != Width-pad {
		t.Errorf("rtl label not at the right edge: %+v", lb)
	}
	svg := string(sample(true).SVG())
	if !strings.Contains(svg, `direction="rtl" text-anchor="start"`) || !strings.Contains(svg, `class="chart-value" x="`) ||
		strings.Contains(svg, `class="chart-value" direction="rtl"`) {
		t.Errorf("rtl directions wrong:\n%s", svg)
	}
	for _, tx := range rtl.Texts {
		if tx.Class == "chart-value" && !strings.Contains(svg, `<tspan x="`) {
			t.Error("no tspans")
		}
	}
}

// Hidden cells get a bar of the same length whatever they hide.
func TestHiddenBarTellsNothing(t *testing.T) {
	c := sample(false)
	a := c.Layout()
	c.Bars[1].N = 4
	b := c.Layout()
	for i := range a.Rects {
		if a.Rects[i] != b.Rects[i] {
			t.Errorf("bar %d depends on a hidden count: %+v / %+v", i, a.Rects[i], b.Rects[i])
		}
	}
	found := false
	for _, r := range a.Rects {
		found = found || strings.Contains(r.Class, "chart-hidden")
	}
	if !found {
		t.Error("no hidden bar drawn")
	}
}

func TestWrap(t *testing.T) {
	for _, c := range []struct {
		s     string
		width float64
		want  []string
	}{
		{"a bb ccc", 4 * charWidth, []string{"a bb", "ccc"}},
		{"abcdefgh", 3 * charWidth, []string{"abc", "def", "gh"}},
		{"", 100, []string{""}},
	} {
		if got := Wrap(c.s, c.width); strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("Wrap(%q) = %q, want %q", c.s, got, c.want)
		}
	}
}
