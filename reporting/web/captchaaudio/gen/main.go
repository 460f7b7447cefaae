// Command gen records the digit sounds of package captchaaudio with
// espeak-ng: each digit of each voice set is spoken, trimmed of silence,
// resampled to 8 kHz, brought to the same loudness and written as an
// 8-bit unsigned mono WAV file, voices/<set>/<digit>.wav.
//
// Run it from the package directory (go generate does):
//
//	go run ./gen
//
// It needs espeak-ng on the PATH (Debian: apt-get install espeak-ng). The
// output depends only on espeak-ng's output, so two runs with the same
// espeak-ng write the same files byte for byte.
package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
)

// set is one voice set: the espeak-ng voice and what it is asked to say
// for each digit. An empty word means the numeral itself, which espeak-ng
// reads as the number word of the voice's language.
type set struct {
	name, voice string
	words       [10]string
}

// sets are the voice sets. Each was checked through espeak-ng -x (the
// phonemes it speaks), not by a native speaker's ear: the numerals are
// read as the digit words of the language, except where a word is given.
var sets = []set{
	{name: "de", voice: "de"},
	{name: "tr", voice: "tr"},
	{name: "ar", voice: "ar"},
	{name: "fa", voice: "fa"},
	// Kurmancî: espeak-ng reads "4" as "car" (voiced, /dʒ/) and "8" as
	// "heyşt"; the words are çar and heşt.
	{name: "ku", voice: "ku", words: [10]string{4: "çar", 8: "heşt"}},
	{name: "uk", voice: "uk"},
	{name: "ro", voice: "ro"},
	{name: "bg", voice: "bg"},
	{name: "sr", voice: "sr"},
	{name: "pl", voice: "pl"},
	// Romani has no espeak-ng voice. Its number words, written in Serbian
	// Latin letters, are read by the Serbian voice, whose sounds (š, dž,
	// j) fit them; Roma from Serbia, Romania and Bulgaria count alike.
	{name: "rom", voice: "sr", words: [10]string{
		"nula", "jek", "duj", "trin", "štar", "pandž", "šov", "efta", "ohto", "inja"}},
}

const (
	rate      = 8000 // Hz, as dchest/captcha's own sounds
	cutoff    = 3600 // Hz, low-pass before resampling, below the 4 kHz Nyquist
	taps      = 64   // half-width of the resampling filter, in input samples
	targetRMS = 0.2  // loudness every digit is brought to (full scale 1)
	maxPeak   = 0.97 // no sample louder than this after normalising
	knee      = 0.6  // louder samples are bent softly towards maxPeak
	quiet     = 0.03 // trim threshold, relative to the loudest sample
	margin    = 0.01 // seconds kept before and after the first/last loud sample
	fade      = 0.005
	// speed is espeak-ng's rate in words a minute, slower than its 175:
	// many listeners hear the language as a second one, and the mixer
	// speeds digits up by as much as it slows them down.
	speed = "140"
)

func main() {
	out := flag.String("out", "voices", "directory to write <set>/<digit>.wav into")
	flag.Parse()
	for _, s := range sets {
		dir := filepath.Join(*out, s.name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			log.Fatal(err)
		}
		for d, word := range s.words {
			if word == "" {
				word = strconv.Itoa(d)
			}
			pcm, err := record(s.voice, word)
			if err != nil {
				log.Fatalf("%s %d (%q): %v", s.name, d, word, err)
			}
			if err := os.WriteFile(filepath.Join(dir, strconv.Itoa(d)+".wav"), encode(pcm), 0o644); err != nil {
				log.Fatal(err)
			}
		}
	}
}

// record speaks word with voice and returns it as 8 kHz 8-bit unsigned PCM.
func record(voice, word string) ([]byte, error) {
	cmd := exec.Command("espeak-ng", "-v", voice, "-s", speed, "--stdout", word)
	cmd.Stderr = os.Stderr
	raw, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("espeak-ng: %w", err)
	}
	in, inRate, err := decode(raw)
	if err != nil {
		return nil, err
	}
	in = trim(in, inRate)
	if len(in) == 0 {
		return nil, errors.New("espeak-ng said nothing")
	}
	x := normalise(resample(in, inRate))
	pcm := make([]byte, len(x))
	for i, v := range x {
		pcm[i] = byte(128 + math.Round(v*127))
	}
	return pcm, nil
}

// decode reads 16-bit mono PCM from a WAV file as espeak-ng writes it to
// stdout: the chunk sizes there are placeholders, so the data chunk is
// read to the end of the input.
func decode(b []byte) ([]float64, int, error) {
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, 0, errors.New("not a WAV file")
	}
	inRate := 0
	for p := 12; p+8 <= len(b); {
		id, size := string(b[p:p+4]), int(binary.LittleEndian.Uint32(b[p+4:]))
		p += 8
		switch id {
		case "fmt ":
			if p+16 > len(b) {
				return nil, 0, errors.New("short fmt chunk")
			}
			format, channels := binary.LittleEndian.Uint16(b[p:]), binary.LittleEndian.Uint16(b[p+2:])
			bits := binary.LittleEndian.Uint16(b[p+14:])
			if format != 1 || channels != 1 || bits != 16 {
				return nil, 0, fmt.Errorf("want 16-bit mono PCM, got format %d, %d channels, %d bits", format, channels, bits)
			}
			inRate = int(binary.LittleEndian.Uint32(b[p+4:]))
		case "data":
			if inRate == 0 {
				return nil, 0, errors.New("data before fmt")
			}
			data := b[p:]
			if size < len(data) {
				data = data[:size]
			}
			x := make([]float64, len(data)/2)
			for i := range x {
				x[i] = float64(int16(binary.LittleEndian.Uint16(data[2*i:]))) / 32768
			}
			return x, inRate, nil
		}
		p += size + size%2
	}
	return nil, 0, errors.New("no data chunk")
}

// trim cuts the silence before and after the word, keeping a short margin,
// and fades the ends so the cut does not click.
func trim(x []float64, inRate int) []float64 {
	peak := 0.0
	for _, v := range x {
		peak = max(peak, math.Abs(v))
	}
	first, last := -1, -1
	for i, v := range x {
		if math.Abs(v) > quiet*peak {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return nil
	}
	m := int(margin * float64(inRate))
	x = x[max(0, first-m):min(len(x), last+m+1)]
	n := min(int(fade*float64(inRate)), len(x)/2)
	for i := range n {
		g := float64(i) / float64(n)
		x[i] = float64(x[i] * g)
		x[len(x)-1-i] = float64(x[len(x)-1-i] * g)
	}
	return x
}

// resample converts x from inRate to rate with a Hann-windowed sinc
// low-pass, so that nothing above 4 kHz folds back as noise. Products are
// converted explicitly, which keeps the compiler from fusing them into
// multiply-adds on some processors: the output stays the same everywhere.
func resample(x []float64, inRate int) []float64 {
	step := float64(inRate) / rate
	fc := float64(cutoff) / float64(inRate) // cycles per input sample
	out := make([]float64, int(float64(len(x))/step))
	for n := range out {
		t := float64(float64(n) * step)
		centre := int(math.Floor(t))
		acc := 0.0
		for k := centre - taps + 1; k <= centre+taps; k++ {
			if k < 0 || k >= len(x) {
				continue
			}
			u := t - float64(k)
			w := 0.5 + float64(0.5*math.Cos(float64(math.Pi*u)/taps))
			acc += float64(x[k] * float64(float64(2*fc*sinc(float64(2*fc*u)))*w))
		}
		out[n] = acc
	}
	return out
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(float64(math.Pi*x)) / float64(math.Pi*x)
}

// normalise brings x to targetRMS, so that every digit of every language
// is about as loud as the others. Speech has short peaks far above its
// mean: a plain peak limit would leave words with hard consonants quiet,
// so the gain may push peaks to twice full scale, and a soft knee above
// knee bends them back under it without clipping.
func normalise(x []float64) []float64 {
	sum, peak := 0.0, 0.0
	for _, v := range x {
		sum += float64(v * v)
		peak = max(peak, math.Abs(v))
	}
	rms := math.Sqrt(sum / float64(len(x)))
	if rms == 0 {
		return x
	}
	g := min(targetRMS/rms, 2/peak)
	for i := range x {
		v := float64(x[i] * g)
		if a := math.Abs(v); a > knee {
			v = math.Copysign(knee+float64((maxPeak-knee)*math.Tanh((a-knee)/(maxPeak-knee))), v)
		}
		x[i] = v
	}
	return x
}

// encode writes pcm as an 8 kHz 8-bit unsigned mono WAV file.
func encode(pcm []byte) []byte {
	le := binary.LittleEndian
	pad := len(pcm) % 2
	b := le.AppendUint32([]byte("RIFF"), uint32(36+len(pcm)+pad))
	b = append(b, "WAVEfmt "...)
	b = le.AppendUint32(b, 16)   // fmt chunk size
	b = le.AppendUint16(b, 1)    // PCM
	b = le.AppendUint16(b, 1)    // mono
	b = le.AppendUint32(b, rate) // samples a second
	b = le.AppendUint32(b, rate) // bytes a second
	b = le.AppendUint16(b, 1)    // bytes a sample
	b = le.AppendUint16(b, 8)    // bits a sample
	b = append(b, "data"...)
	b = le.AppendUint32(b, uint32(len(pcm)))
	b = append(b, pcm...)
	if pad == 1 {
		b = append(b, 128)
	}
	return b
}
