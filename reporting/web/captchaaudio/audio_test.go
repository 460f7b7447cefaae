package captchaaudio

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// voiceSets are the sets the brief promises, each with ten digits.
var voiceSets = []string{"de", "tr", "ar", "fa", "ku", "uk", "ro", "bg", "sr", "pl", "rom"}

func TestEverySetHasTenPlausibleDigits(t *testing.T) {
	if len(sets) != len(voiceSets) {
		t.Errorf("%d voice sets embedded, want %d", len(sets), len(voiceSets))
	}
	for _, v := range voiceSets {
		s := sets[v]
		if len(s) != 10 {
			t.Errorf("set %s: %d digits, want 10", v, len(s))
			continue
		}
		for d, snd := range s {
			// A digit word lasts between a fifth of a second and a
			// second and a half; shorter is a cut word, longer a
			// sentence or silence left in.
			if len(snd) < rate/5 || len(snd) > rate*3/2 {
				t.Errorf("set %s digit %d: %d samples (%.2f s)", v, d, len(snd), float64(len(snd))/rate)
			}
			// gen brings every digit to about the same loudness: a
			// quiet or silent one would be lost in the noise.
			sum, peak := 0.0, float32(0)
			for _, x := range snd {
				sum += float64(x * x)
				peak = max(peak, x, -x)
			}
			if rms := math.Sqrt(sum / float64(len(snd))); rms < 15 || peak < 80 {
				t.Errorf("set %s digit %d: loudness %.0f, peak %.0f of 128", v, d, rms, peak)
			}
		}
	}
}

func TestSpeaks(t *testing.T) {
	for lang, want := range map[string]string{
		"de": "de", "ls": "de", "en": "en", "ru": "ru", "bg": "bg", "rom": "rom",
		"ku": "ku", "fa": "fa", "xx": "en", "": "en", "ja": "en", "voices": "en",
	} {
		if got := Speaks(lang); got != want {
			t.Errorf("Speaks(%q) = %q, want %q", lang, got, want)
		}
	}
}

// checkWAV checks the RIFF header of an 8 kHz 8-bit mono file and returns
// its samples.
func checkWAV(t *testing.T, b []byte) []byte {
	t.Helper()
	le := binary.LittleEndian
	if len(b) < 44 || string(b[:4]) != "RIFF" || string(b[8:16]) != "WAVEfmt " || string(b[36:40]) != "data" {
		t.Fatalf("not a WAV header: % x", b[:min(44, len(b))])
	}
	if got, want := int(le.Uint32(b[4:])), len(b)-8; got != want {
		t.Errorf("RIFF size %d, want %d", got, want)
	}
	if fmtSize, format, ch, r, bits := le.Uint32(b[16:]), le.Uint16(b[20:]), le.Uint16(b[22:]), le.Uint32(b[24:]), le.Uint16(b[34:]); fmtSize != 16 || format != 1 || ch != 1 || r != rate || bits != 8 {
		t.Errorf("fmt: size %d format %d channels %d rate %d bits %d", fmtSize, format, ch, r, bits)
	}
	n := int(le.Uint32(b[40:]))
	if n+44 != len(b) && n+45 != len(b) {
		t.Errorf("data size %d in a file of %d bytes", n, len(b))
	}
	return b[44 : 44+n]
}

func write(t *testing.T, m *Mixer, lang, id string, digits []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := m.Write(&buf, lang, id, digits); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSameCaptchaSameSoundOtherIDOtherSound(t *testing.T) {
	m := NewMixer()
	digits := []byte{3, 1, 4, 1, 5, 9}
	a := write(t, m, "bg", "AAAAAAAAAAAAAAAAAAAA", digits)
	checkWAV(t, a)
	if b := write(t, m, "bg", "AAAAAAAAAAAAAAAAAAAA", digits); !bytes.Equal(a, b) {
		t.Error("two downloads of one captcha differ: averaging them would remove the noise")
	}
	if b := write(t, m, "bg", "BBBBBBBBBBBBBBBBBBBB", digits); bytes.Equal(a, b) {
		t.Error("two captchas with the same digits sound the same")
	}
	if b := write(t, NewMixer(), "bg", "AAAAAAAAAAAAAAAAAAAA", digits); bytes.Equal(a, b) {
		t.Error("another process key gives the same sound: the noise is predictable from the id")
	}
	if b := write(t, m, "ls", "AAAAAAAAAAAAAAAAAAAA", digits); !bytes.Equal(b, write(t, m, "de", "AAAAAAAAAAAAAAAAAAAA", digits)) {
		t.Error("ls and de give two different recordings of one captcha")
	}
	if err := m.Write(&bytes.Buffer{}, "bg", "A", []byte{1, 10}); err == nil {
		t.Error("digit 10 accepted")
	}
}

// fileSamples reads the stored samples of one digit from disk, not from
// the embedded copy the mixer uses.
func fileSamples(t *testing.T, set string, d int) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("voices", set, strconv.Itoa(d)+".wav"))
	if err != nil {
		t.Fatal(err)
	}
	return checkWAV(t, b)
}

func TestBulgarianIsBuiltFromTheBulgarianSet(t *testing.T) {
	m := NewMixer()
	m.plain = true
	digits := []byte{7, 0, 2, 9, 4, 4}
	pcm := checkWAV(t, write(t, m, "bg", "CCCCCCCCCCCCCCCCCCCC", digits))
	rest := pcm
	for _, d := range digits {
		snd := fileSamples(t, "bg", int(d))
		i := bytes.Index(rest, snd)
		if i < 0 {
			t.Fatalf("Bulgarian digit %d not found (in order) in the audio", d)
		}
		rest = rest[i+len(snd):]
	}
	for d := range 10 {
		if bytes.Contains(pcm, fileSamples(t, "ro", d)) {
			t.Errorf("Romanian digit %d found in the Bulgarian audio", d)
		}
	}
	// With the noise on, the plain digits are gone from the output.
	m.plain = false
	noisy := checkWAV(t, write(t, m, "bg", "CCCCCCCCCCCCCCCCCCCC", digits))
	if bytes.Contains(noisy, fileSamples(t, "bg", 7)) {
		t.Error("noisy audio contains the stored digit 7 unchanged")
	}
}

func TestEnglishAndRussianAreDchests(t *testing.T) {
	m := NewMixer()
	digits := []byte{1, 2, 3, 4, 5, 6}
	en := write(t, m, "en", "DDDDDDDDDDDDDDDDDDDD", digits)
	checkWAV(t, en)
	// dchest's sounds are longer and at a lower level than ours; what
	// tells them apart for sure is that the same captcha in bg differs,
	// and that any unknown code is English.
	if bytes.Equal(en, write(t, m, "bg", "DDDDDDDDDDDDDDDDDDDD", digits)) {
		t.Error("en and bg audio are the same")
	}
	if !bytes.Equal(en, write(t, m, "xx", "DDDDDDDDDDDDDDDDDDDD", digits)) {
		t.Error("an unknown language does not get the English audio")
	}
	if bytes.Equal(en, write(t, m, "ru", "DDDDDDDDDDDDDDDDDDDD", digits)) {
		t.Error("ru audio is the English one")
	}
}

func BenchmarkAudio(b *testing.B) {
	m := NewMixer()
	digits := []byte{3, 1, 4, 1, 5, 9}
	for _, lang := range []string{"bg", "en"} {
		b.Run(lang, func(b *testing.B) {
			b.ReportAllocs()
			var buf bytes.Buffer
			for b.Loop() {
				buf.Reset()
				if err := m.Write(&buf, lang, "EEEEEEEEEEEEEEEEEEEE", digits); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(buf.Len()), "bytes/op-out")
		})
	}
}
