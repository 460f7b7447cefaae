package reporting

import (
	"bytes"
	"encoding/json"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// sampleImages are real JPEG and PNG files: the standard library's test
// images (baseline and progressive JPEGs in every subsampling, CMYK,
// RGB, grey; the PNG suite with every colour type, depth, interlacing
// and transparency).
func sampleImages(t testing.TB) map[string][]byte {
	t.Helper()
	root := filepath.Join(runtime.GOROOT(), "src", "image")
	var names []string
	for _, pattern := range []string{"testdata/*.jpeg", "testdata/*.png", "png/testdata/pngsuite/*.png"} {
		m, _ := filepath.Glob(filepath.Join(root, pattern))
		names = append(names, m...)
	}
	samples := map[string][]byte{}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		samples[filepath.Base(n)] = b
	}
	if len(samples) < 20 {
		t.Skipf("only %d sample images under %s", len(samples), root)
	}
	return samples
}

// pixelBytes is the size of a decoded image's pixel buffers.
func pixelBytes(img image.Image) int64 {
	switch m := img.(type) {
	case *image.YCbCr:
		return int64(len(m.Y) + len(m.Cb) + len(m.Cr))
	case *image.Gray:
		return int64(len(m.Pix))
	case *image.Gray16:
		return int64(len(m.Pix))
	case *image.RGBA:
		return int64(len(m.Pix))
	case *image.NRGBA:
		return int64(len(m.Pix))
	case *image.RGBA64:
		return int64(len(m.Pix))
	case *image.NRGBA64:
		return int64(len(m.Pix))
	case *image.CMYK:
		return int64(len(m.Pix))
	case *image.Paletted:
		return int64(len(m.Pix))
	}
	return -1
}

// checkCost decodes raw (when its estimate is within the budget) and
// fails if the decoded pixels take more than decodeCost said.
func checkCost(t testing.TB, name string, raw []byte) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(raw))
	if err != nil {
		return
	}
	cost := decodeCost(raw, "image/"+format, cfg)
	if cost < int64(cfg.Width)*int64(cfg.Height) {
		t.Errorf("%s: cost %d below one byte a pixel (%d×%d)", name, cost, cfg.Width, cfg.Height)
	}
	if cost > MaxImageMemory {
		return
	}
	img, _, err := image.Decode(bytes.NewReader(raw))
	if err != nil {
		return
	}
	got := pixelBytes(img)
	if got < 0 {
		t.Errorf("%s: decoded into an unexpected %T", name, img)
	} else if got > cost {
		t.Errorf("%s: decoded pixels take %d bytes, decodeCost said %d (%T, %d×%d)", name, got, cost, img, cfg.Width, cfg.Height)
	}
}

// The cost estimate covers what the decoder really allocates for the
// pixels of every sample image.
func TestDecodeCostCoversDecodedPixels(t *testing.T) {
	for name, raw := range sampleImages(t) {
		checkCost(t, name, raw)
	}
}

// The estimate tells the costly kinds apart: a 16-bit PNG takes 8 bytes
// a pixel, 8 times a grey one; interlacing doubles; a progressive JPEG
// costs more than the baseline one of the same picture, 4:2:0 less than
// 4:4:4.
func TestDecodeCostKinds(t *testing.T) {
	s := sampleImages(t)
	cost := func(name string) int64 {
		t.Helper()
		raw, ok := s[name]
		if !ok {
			t.Fatalf("no sample %s", name)
		}
		cfg, format, err := image.DecodeConfig(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		return decodeCost(raw, "image/"+format, cfg)
	}
	const px = 32 * 32 // the PNG suite's size
	for _, tt := range []struct {
		name string
		want int64
	}{
		{"basn0g08.png", px},              // grey, 8 bits
		{"basn0g16.png", 2 * px},          // grey, 16 bits
		{"basn2c16.png", 8 * px},          // RGB, 16 bits
		{"basn6a16.png", 8 * px},          // RGBA, 16 bits
		{"basn3p04-31i.png", 2 * 31 * 31}, // paletted, 31×31, interlaced
		{"basn3p08.png", px},              // paletted
		{"ftbbn0g04.png", 4 * px},         // grey with tRNS: decoded as NRGBA
		{"ftbwn0g16.png", 8 * px},         // 16-bit grey with tRNS: NRGBA64
	} {
		if got := cost(tt.name); got != tt.want {
			t.Errorf("%s: cost %d, want %d", tt.name, got, tt.want)
		}
	}
	if b, p := cost("video-001.q50.420.jpeg"), cost("video-001.q50.420.progressive.jpeg"); p < 4*b {
		t.Errorf("progressive JPEG costs %d, baseline %d: the coefficients are missing", p, b)
	}
	if a, b := cost("video-001.q50.420.jpeg"), cost("video-001.q50.444.jpeg"); a >= b {
		t.Errorf("4:2:0 costs %d, 4:4:4 %d", a, b)
	}
}

// A 16-bit PNG beyond the budget is refused from its header, before it
// is decoded; one within it is decoded and re-encoded.
func TestReencodeBudget(t *testing.T) {
	small := image.NewNRGBA64(image.Rect(0, 0, 40, 30))
	small.Set(1, 1, color.NRGBA64{0xFFFF, 0, 0, 0x8000})
	var buf bytes.Buffer
	if err := png.Encode(&buf, small); err != nil {
		t.Fatal(err)
	}
	before := ImageDecodes()
	if _, err := reencode(bytes.NewReader(buf.Bytes()), TypePNG); err != nil {
		t.Fatalf("small 16-bit PNG: %v", err)
	}
	if ImageDecodes() != before+1 {
		t.Error("the small PNG was not decoded")
	}
	// The same header claiming 4200 × 4200: 141 MB decoded.
	big := bytes.Clone(buf.Bytes())
	putIHDR(big, 4200, 4200)
	_, err := reencode(bytes.NewReader(big), TypePNG)
	if MessageID(err) != "uploads.error.image_memory" {
		t.Errorf("4200×4200 16-bit PNG: %v, want the budget error", err)
	}
	if ImageDecodes() != before+1 {
		t.Error("the PNG beyond the budget was decoded")
	}
}

// putIHDR rewrites a PNG's width and height and the IHDR's CRC.
func putIHDR(b []byte, w, h uint32) {
	be := func(at int, v uint32) {
		b[at], b[at+1], b[at+2], b[at+3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
	}
	be(16, w)
	be(20, h)
	be(29, crc32.ChecksumIEEE(b[12:29]))
}

// Names keep their letters, including the joiners of Persian and Kurdish,
// and lose control and bidi characters and any path.
func TestCleanName(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"Beweis.bat", "Beweis.bat"},
		{"x\u202Egpj.exe", "xgpj.exe"},
		{"\u2067abc\u2069\u200F\u061C.pdf", "abc.pdf"},
		{`C:\Users\anna\Desktop\brief.pdf`, "brief.pdf"},
		{"../../etc/passwd", "passwd"},
		{"می\u200Cخواهم.jpg", "می\u200Cخواهم.jpg"},
		{"a\x00b\nc.png", "abc.png"},
		{"\u202E", "file"},
	} {
		if got := cleanName(tt.in); got != tt.want {
			t.Errorf("cleanName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// A name stored before bidi controls were stripped at intake (and so
// also before ciphertexts were bound to their message: version 1 ADs) is
// cleaned when it is opened for a page.
func TestOpenAttachmentCleansOldNames(t *testing.T) {
	dk, fk := vault.NewKey(), vault.NewKey()
	a := StoredAttachment{ID: "att", ReportID: "rep", WrappedKey: dk.Wrap(fk, attachmentKeyADv1("rep", "att"))}
	plain, _ := json.Marshal(AttachmentMeta{Name: "x\u202Egpj.exe", Type: TypePNG, Size: 10})
	a.Meta = fk.Seal(plain, attachmentMetaADv1("rep", "att"))
	list, altered := openAttachments(dk, []StoredAttachment{a})
	if len(altered) != 0 || len(list) != 1 || list[0].Altered {
		t.Fatalf("open: %v altered", altered)
	}
	if list[0].Name != "xgpj.exe" {
		t.Errorf("name shown as %q, want %q", list[0].Name, "xgpj.exe")
	}
}

func TestDownloadName(t *testing.T) {
	for _, tt := range []struct {
		caseNo string
		seq    int
		typ    string
		want   string
	}{
		{"2026-0042", 3, TypePDF, "2026-0042-3.pdf"},
		{"2026-0042", 1, TypeJPEG, "2026-0042-1.jpg"},
		{"2026-0042", 2, TypePNG, "2026-0042-2.png"},
		{"2026-0042", 2, "application/x-msdownload", "2026-0042-2.bin"},
	} {
		if got := DownloadName(tt.caseNo, tt.seq, tt.typ); got != tt.want {
			t.Errorf("DownloadName(%q, %d, %q) = %q, want %q", tt.caseNo, tt.seq, tt.typ, got, tt.want)
		}
	}
}

// FuzzCleanName: whatever a browser sends as a file name, the stored
// name has no control, bidi or invalid character, no path, at most
// maxNameRunes runes, and is never empty.
func FuzzCleanName(f *testing.F) {
	for _, s := range []string{"Beweis.bat", "x\u202Egpj.exe", `C:\a\b.pdf`, "../x", "می\u200Cخواهم.jpg", "\xff\xfe", "", ".", strings.Repeat("ä", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := cleanName(in)
		if out == "" || !utf8.ValidString(out) || utf8.RuneCountInString(out) > maxNameRunes {
			t.Fatalf("cleanName(%q) = %q", in, out)
		}
		if strings.ContainsAny(out, `/\`) {
			t.Fatalf("cleanName(%q) = %q keeps a path separator", in, out)
		}
		for _, r := range out {
			if unicode.IsControl(r) || isBidiControl(r) || r == utf8.RuneError {
				t.Fatalf("cleanName(%q) = %q keeps %U", in, out, r)
			}
		}
	})
}

// FuzzCleanContent: sniffing and re-encoding whatever bytes come in.
// Anything refused is refused as the upload field's error; anything
// taken is a JPEG, PNG, PDF or audio file, images come out as the same
// type and size they claimed, a PDF unchanged, audio no larger; an image
// beyond the budget is never decoded, and one decoded takes no more than
// its estimate.
func FuzzCleanContent(f *testing.F) {
	for _, raw := range sampleImages(f) {
		// The small samples only: minimizing each new finding re-runs
		// the target once per byte removed.
		if len(raw) <= 4<<10 {
			f.Add(raw)
		}
	}
	var j bytes.Buffer
	jpeg.Encode(&j, image.NewYCbCr(image.Rect(0, 0, 17, 9), image.YCbCrSubsampleRatio420), nil)
	f.Add(j.Bytes())
	f.Add([]byte("%PDF-1.4\n%âãÏÓ\n1 0 obj << >> endobj\n%%EOF\n"))
	f.Add([]byte("MZ\x90\x00 not an image"))
	// The starts of the audio formats, for the fuzzer to build on.
	f.Add([]byte("ID3\x03\x00\x00\x00\x00\x00\x05TIT2x\xff\xfb\x90\x64"))
	f.Add(append([]byte("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00"), make([]byte, 24)...))
	f.Add([]byte("\x00\x00\x00\x18ftypM4A \x00\x00\x00\x00M4A isom\x00\x00\x00\x08moov\x00\x00\x00\x08mdat"))
	f.Add([]byte("OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x13OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		cfg, format, cfgErr := image.DecodeConfig(bytes.NewReader(raw))
		overBudget := cfgErr == nil && decodeCost(raw, "image/"+format, cfg) > MaxImageMemory
		if cfgErr == nil && !overBudget && int64(cfg.Width)*int64(cfg.Height) > 1<<20 {
			// A large image within the budget decodes for seconds: what
			// the fuzzer looks for is in the headers and small images.
			return
		}
		before := ImageDecodes()
		meta, src, err := cleanContent(bytes.NewReader(raw))
		typ := meta.Type
		if overBudget && ImageDecodes() != before {
			t.Fatalf("an image beyond the budget was decoded")
		}
		if err != nil {
			if ErrorCode(err) != EInvalid {
				t.Fatalf("refused with %v, not an upload field error", err)
			}
			return
		}
		out, err := io.ReadAll(src)
		if err != nil {
			t.Fatal(err)
		}
		switch typ {
		case TypePDF:
			if !bytes.Equal(out, raw) {
				t.Fatal("the PDF was changed")
			}
		case TypeJPEG, TypePNG:
			got, gotFormat, err := image.DecodeConfig(bytes.NewReader(out))
			if err != nil || "image/"+gotFormat != typ || got.Width != cfg.Width || got.Height != cfg.Height {
				t.Fatalf("%s re-encoded into %s %d×%d (%v), was %d×%d", typ, gotFormat, got.Width, got.Height, err, cfg.Width, cfg.Height)
			}
			checkCost(t, "input", raw)
		case TypeM4A, TypeOgg, TypeMP3, TypeWAV:
			// Tags removed (or kept and flagged), never grown beyond a
			// padding byte.
			if len(out) > len(raw)+1 || (meta.MetaKept && !bytes.Equal(out, raw)) {
				t.Fatalf("%s: %d bytes in, %d out, kept %v", typ, len(raw), len(out), meta.MetaKept)
			}
		default:
			t.Fatalf("taken as %q", typ)
		}
	})
}

// FuzzJPEGFrame: the frame reader never reads beyond its input, and where
// the standard decoder reads a frame, it finds the same size.
func FuzzJPEGFrame(f *testing.F) {
	for name, raw := range sampleImages(f) {
		if strings.HasSuffix(name, ".jpeg") && len(raw) <= 4<<10 {
			f.Add(raw)
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		fr, ok := jpegFrame(raw)
		cfg, format, err := image.DecodeConfig(bytes.NewReader(raw))
		if err != nil || format != "jpeg" || !ok {
			return
		}
		if fr.width != int64(cfg.Width) || fr.height != int64(cfg.Height) {
			t.Fatalf("frame %d×%d, decoder %d×%d", fr.width, fr.height, cfg.Width, cfg.Height)
		}
		if c := fr.cost(); c < int64(cfg.Width)*int64(cfg.Height) {
			t.Fatalf("cost %d below a byte a pixel", c)
		}
	})
}

// A 16-bit PNG whose header claims 6000 × 6000 pixels (36 MP, within the
// pixel limit; 288 MB decoded), the kind of small file that cost 53 s of
// CPU in issue 8: refused from its header. ns/op is the whole refusal.
func BenchmarkReencodeDeepPNGRefused(b *testing.B) {
	img := image.NewNRGBA64(image.Rect(0, 0, 16, 16))
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		b.Fatal(err)
	}
	raw := bytes.Clone(buf.Bytes())
	putIHDR(raw, 6000, 6000)
	before := ImageDecodes()
	for b.Loop() {
		if _, err := reencode(bytes.NewReader(raw), TypePNG); MessageID(err) != "uploads.error.image_memory" {
			b.Fatalf("err %v, want the budget error", err)
		}
	}
	b.ReportMetric(float64(ImageDecodes()-before), "decodes")
}

// A JPEG with more scans than any encoder writes is refused before it is
// decoded; the real progressive samples (about ten scans) pass.
func TestReencodeManyScans(t *testing.T) {
	s := sampleImages(t)
	raw, ok := s["video-001.progressive.jpeg"]
	if !ok {
		t.Fatal("no progressive sample")
	}
	if n := jpegScans(raw); n < 2 || n > maxJPEGScans {
		t.Fatalf("the sample has %d scans", n)
	}
	if _, err := reencode(bytes.NewReader(raw), TypeJPEG); err != nil {
		t.Fatalf("real progressive JPEG: %v", err)
	}
	// Its last scan repeated until there are too many: a refinement scan
	// again and again, the shape of the CPU attack.
	last := bytes.LastIndex(raw, []byte{0xFF, 0xDA})
	end := bytes.LastIndex(raw, []byte{0xFF, 0xD9})
	if last < 0 || end < last {
		t.Fatal("no scan or end in the sample")
	}
	crafted := bytes.Clone(raw[:end])
	for range maxJPEGScans {
		crafted = append(crafted, raw[last:end]...)
	}
	crafted = append(crafted, 0xFF, 0xD9)
	before := ImageDecodes()
	if _, err := reencode(bytes.NewReader(crafted), TypeJPEG); MessageID(err) != "error.attachments.broken" {
		t.Errorf("%d scans: %v, want refused", jpegScans(crafted), err)
	}
	if ImageDecodes() != before {
		t.Error("the JPEG with too many scans was decoded")
	}
}
