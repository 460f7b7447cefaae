package audiometa

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

// The metadata planted in every synthetic file: none of it may survive.
var secrets = []string{"Anna Beispiel", "Hauptstr. 12", "Geheimer Titel"}

func checkGone(t *testing.T, out []byte) {
	t.Helper()
	for _, s := range secrets {
		if bytes.Contains(out, []byte(s)) {
			t.Errorf("%q survived the cleaning", s)
		}
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name string
		head []byte
		want string
	}{
		{"m4a", testM4A(t, m4aOptions{moovFirst: true}).file, MP4},
		{"ogg opus", testOpus(0), Ogg},
		{"ogg vorbis", testVorbis(), Ogg},
		{"mp3 id3", testMP3(), MPEG},
		{"mp3 frames", testFrames(3), MPEG},
		{"wav", testWAV(), WAV},
		{"pdf", []byte("%PDF-1.4\n"), ""},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), ""},
		{"text", []byte("ID3 is what tags are called"), ""},
		{"quicktime", append(mp4Box("ftyp", []byte("qt  \x00\x00\x00\x00qt  ")), mp4Box("mdat", nil)...), ""},
		{"ogg theora", oggPageBytes(oggPage{flags: 2, lacing: []byte{7}, body: []byte("\x80theora")}), ""},
		{"one frame header then garbage", append(testFrames(1)[:4], make([]byte, 600)...), ""},
	}
	for _, tt := range tests {
		head := tt.head[:min(len(tt.head), HeadSize)]
		if got := Detect(head); got != tt.want {
			t.Errorf("%s: Detect = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// ---- MP4 ----

func mp4Box(typ string, content ...[]byte) []byte {
	body := bytes.Join(content, nil)
	b := binary.BigEndian.AppendUint32(nil, uint32(8+len(body)))
	return append(append(b, typ...), body...)
}

// fullBox is a version 0 full box's content: version, flags, then rest.
func fullBox(rest ...[]byte) []byte { return append([]byte{0, 0, 0, 0}, bytes.Join(rest, nil)...) }

type m4aOptions struct {
	moovFirst bool
	co64      bool
	handler   string
}

type m4a struct {
	file    []byte
	samples [][]byte
}

// testM4A builds a small M4A: ftyp, a top-level udta, moov with mvhd
// (a recording time), one sound trak with its own udta and a chunk
// offset table, moov's udta with a title and meta with iTunes tags, and
// mdat with two chunks of "samples", before or after moov.
func testM4A(t testing.TB, o m4aOptions) m4a {
	t.Helper()
	if o.handler == "" {
		o.handler = "soun"
	}
	samples := [][]byte{[]byte("FIRST-CHUNK-OF-AAC-FRAMES"), []byte("SECOND-CHUNK-OF-AAC-FRAMES")}
	ftyp := mp4Box("ftyp", []byte("M4A \x00\x00\x00\x00M4A isommp42"))
	topUdta := mp4Box("udta", mp4Box("\xa9xyz", []byte("+51.4556+007.0116/ Hauptstr. 12")))
	times := []byte{0xE2, 0x1F, 0x00, 0x01, 0xE2, 0x1F, 0x00, 0x02}
	build := func(offsets []uint64) []byte {
		var table []byte
		if o.co64 {
			table = fullBox(binary.BigEndian.AppendUint32(nil, uint32(len(offsets))))
			for _, off := range offsets {
				table = binary.BigEndian.AppendUint64(table, off)
			}
			table = mp4Box("co64", table)
		} else {
			table = fullBox(binary.BigEndian.AppendUint32(nil, uint32(len(offsets))))
			for _, off := range offsets {
				table = binary.BigEndian.AppendUint32(table, uint32(off))
			}
			table = mp4Box("stco", table)
		}
		trak := mp4Box("trak",
			mp4Box("tkhd", fullBox(times, make([]byte, 72))),
			mp4Box("mdia",
				mp4Box("mdhd", fullBox(times, make([]byte, 12))),
				mp4Box("hdlr", fullBox(make([]byte, 4), []byte(o.handler), make([]byte, 12), []byte("SoundHandler\x00"))),
				mp4Box("minf", mp4Box("stbl", mp4Box("stsd", fullBox(make([]byte, 4))), table))),
			mp4Box("udta", mp4Box("name", []byte("Geheimer Titel"))))
		moov := mp4Box("moov",
			mp4Box("mvhd", fullBox(times, make([]byte, 88))),
			trak,
			mp4Box("udta", mp4Box("meta", fullBox(mp4Box("ilst", mp4Box("\xa9nam", []byte("Geheimer Titel")))))),
			mp4Box("meta", fullBox(mp4Box("hdlr", fullBox(make([]byte, 4), []byte("mdir"))), mp4Box("ilst", mp4Box("\xa9ART", []byte("Anna Beispiel"))))))
		mdat := mp4Box("mdat", bytes.Join(samples, nil))
		if o.moovFirst {
			return bytes.Join([][]byte{ftyp, topUdta, moov, mp4Box("free", []byte("Anna Beispiel")), mdat}, nil)
		}
		return bytes.Join([][]byte{ftyp, topUdta, mdat, moov}, nil)
	}
	// Build once to learn where the samples land, then again with the
	// offsets (the table's size does not depend on its values).
	file := build([]uint64{0, 0})
	first := bytes.Index(file, samples[0])
	file = build([]uint64{uint64(first), uint64(first + len(samples[0]))})
	return m4a{file, samples}
}

// chunkOffsets walks the cleaned file as a player would and returns its
// chunk offsets; it fails the test on any box that does not fit.
func chunkOffsets(t testing.TB, b []byte) []uint64 {
	t.Helper()
	var offs []uint64
	var walk func(start, end int64, depth int)
	walk = func(start, end int64, depth int) {
		boxes, ok := readBoxes(b, start, end)
		if !ok {
			t.Fatalf("the boxes between %d and %d do not fit", start, end)
		}
		for _, bx := range boxes {
			switch bx.typ {
			case "moov", "trak", "mdia", "minf", "stbl":
				walk(bx.body, bx.end, depth+1)
			case "stco", "co64":
				n := int(binary.BigEndian.Uint32(b[bx.body+4:]))
				for i := range n {
					if bx.typ == "stco" {
						offs = append(offs, uint64(binary.BigEndian.Uint32(b[bx.body+8+int64(i)*4:])))
					} else {
						offs = append(offs, binary.BigEndian.Uint64(b[bx.body+8+int64(i)*8:]))
					}
				}
			case "udta", "meta", "free":
				t.Errorf("a %s box is left at depth %d", bx.typ, depth)
			}
		}
	}
	walk(0, int64(len(b)), 0)
	return offs
}

func TestCleanMP4(t *testing.T) {
	for _, o := range []m4aOptions{{moovFirst: true}, {moovFirst: false}, {moovFirst: true, co64: true}} {
		in := testM4A(t, o)
		out, ok, err := Clean(MP4, bytes.Clone(in.file))
		if err != nil || !ok {
			t.Fatalf("%+v: Clean = ok %v, %v", o, ok, err)
		}
		checkGone(t, out)
		if len(out) >= len(in.file) {
			t.Errorf("%+v: %d bytes in, %d out", o, len(in.file), len(out))
		}
		offs := chunkOffsets(t, out)
		if len(offs) != len(in.samples) {
			t.Fatalf("%+v: %d chunk offsets, want %d", o, len(offs), len(in.samples))
		}
		for i, off := range offs {
			s := in.samples[i]
			if off+uint64(len(s)) > uint64(len(out)) || !bytes.Equal(out[off:off+uint64(len(s))], s) {
				t.Errorf("%+v: chunk %d at %d no longer points to its samples", o, i, off)
			}
		}
		if bytes.Contains(out, []byte{0xE2, 0x1F, 0x00, 0x01}) {
			t.Errorf("%+v: the recording time survived", o)
		}
		if Detect(out[:min(len(out), HeadSize)]) != MP4 {
			t.Errorf("%+v: the cleaned file is no longer told as MP4", o)
		}
	}
}

func TestCleanMP4Refuses(t *testing.T) {
	video := testM4A(t, m4aOptions{moovFirst: true, handler: "vide"})
	if _, _, err := Clean(MP4, video.file); err != ErrNotAudio {
		t.Errorf("a video track: err %v, want ErrNotAudio", err)
	}
	// Fragmented: kept as it is, with ok false so that the caller warns.
	frag := append(testM4A(t, m4aOptions{moovFirst: true}).file, mp4Box("moof", []byte("Anna Beispiel"))...)
	out, ok, err := Clean(MP4, frag)
	if err != nil || ok || !bytes.Equal(out, frag) {
		t.Errorf("fragmented MP4: ok %v, err %v, unchanged %v", ok, err, bytes.Equal(out, frag))
	}
}

// ---- Ogg ----

// oggCRCBitwise is the Ogg checksum computed bit by bit, independent of
// the table the package uses.
func oggCRCBitwise(b []byte) uint32 {
	var crc uint32
	for _, c := range b {
		crc ^= uint32(c) << 24
		for range 8 {
			if crc&0x80000000 != 0 {
				crc = crc<<1 ^ 0x04C11DB7
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

func oggPageBytes(pg oggPage) []byte { return appendPage(nil, pg) }

// oggPackets lays packets out into pages as an encoder would, with the
// given granule on each page where a packet ends.
func oggStream(packets [][]byte, headers int) []byte {
	var out []byte
	seq := uint32(0)
	// identification header alone on the first page
	out = append(out, oggPageBytes(oggPage{flags: 2, serial: 77, lacing: []byte{byte(len(packets[0]))}, body: packets[0]})...)
	seq++
	hdr := paginate(packets[1:1+headers], 77)
	for _, pg := range hdr {
		pg.seq = seq
		seq++
		out = append(out, oggPageBytes(pg)...)
	}
	for i, p := range packets[1+headers:] {
		pg := oggPage{serial: 77, seq: seq, granule: uint64(960 * (i + 1)), lacing: []byte{byte(len(p))}, body: p}
		if i == len(packets)-2-headers {
			pg.flags = 4
		}
		seq++
		out = append(out, oggPageBytes(pg)...)
	}
	return out
}

func audioPackets() [][]byte {
	return [][]byte{[]byte("AUDIO-PACKET-1"), []byte("AUDIO-PACKET-2"), []byte("AUDIO-PACKET-3")}
}

func comment(magic string, framing bool, pad int) []byte {
	b := append([]byte(magic), 11, 0, 0, 0)
	b = append(b, "libopus 1.4"...)
	items := []string{"TITLE=Geheimer Titel", "ARTIST=Anna Beispiel", "LOCATION=Hauptstr. 12", "PICTURE=" + strings.Repeat("x", pad)}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(items)))
	for _, it := range items {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(it)))
		b = append(b, it...)
	}
	if framing {
		b = append(b, 1)
	}
	return b
}

// testOpus is an Opus stream whose OpusTags packet is pad bytes larger
// than its text (pad ≥ 65025 makes it span pages).
func testOpus(pad int) []byte {
	head := []byte("OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00")
	return oggStream(append([][]byte{head, comment("OpusTags", false, pad)}, audioPackets()...), 1)
}

func testVorbis() []byte {
	ident := append([]byte("\x01vorbis"), make([]byte, 23)...)
	setup := append([]byte("\x05vorbis"), bytes.Repeat([]byte("SETUP"), 100)...)
	return oggStream(append([][]byte{ident, comment("\x03vorbis", true, 10), setup}, audioPackets()...), 2)
}

// readOgg checks every page's checksum and numbering and returns the
// packets with the granule of the page each ended on.
func readOgg(t *testing.T, b []byte) (packets [][]byte, granules []uint64) {
	t.Helper()
	var cur []byte
	for p, seq := 0, uint32(0); p < len(b); seq++ {
		if len(b)-p < 27 || string(b[p:p+4]) != "OggS" {
			t.Fatalf("no page at %d", p)
		}
		n := int(b[p+26])
		size := 27 + n
		for _, l := range b[p+27 : p+27+n] {
			size += int(l)
		}
		pg := bytes.Clone(b[p : p+size])
		want := binary.LittleEndian.Uint32(pg[22:])
		clear(pg[22:26])
		if got := oggCRCBitwise(pg); got != want {
			t.Fatalf("page %d: checksum %08x, computed %08x", seq, want, got)
		}
		if got := binary.LittleEndian.Uint32(pg[18:]); got != seq {
			t.Fatalf("page %d numbered %d", seq, got)
		}
		body := pg[27+n:]
		for _, l := range pg[27 : 27+n] {
			cur = append(cur, body[:l]...)
			body = body[l:]
			if l < 255 {
				packets = append(packets, cur)
				granules = append(granules, binary.LittleEndian.Uint64(pg[6:]))
				cur = nil
			}
		}
		p += size
	}
	return packets, granules
}

func TestCleanOgg(t *testing.T) {
	for _, tt := range []struct {
		name   string
		in     []byte
		magic  string
		header int
	}{
		{"opus", testOpus(0), "OpusTags", 2},
		{"opus with tags over several pages", testOpus(70000), "OpusTags", 2},
		{"vorbis", testVorbis(), "\x03vorbis", 3},
	} {
		inPackets, inGranules := readOgg(t, tt.in)
		out, ok, err := Clean(Ogg, bytes.Clone(tt.in))
		if err != nil || !ok {
			t.Fatalf("%s: Clean = ok %v, %v", tt.name, ok, err)
		}
		checkGone(t, out)
		if bytes.Contains(out, []byte("PICTURE=")) {
			t.Errorf("%s: a comment survived", tt.name)
		}
		packets, granules := readOgg(t, out)
		if len(packets) != len(inPackets) {
			t.Fatalf("%s: %d packets, want %d", tt.name, len(packets), len(inPackets))
		}
		if !bytes.HasPrefix(packets[1], []byte(tt.magic+"\x0b\x00\x00\x00libopus 1.4\x00\x00\x00\x00")) {
			t.Errorf("%s: comment header %q, want the vendor and no comments", tt.name, packets[1])
		}
		for i := range packets {
			if i == 1 {
				continue
			}
			if !bytes.Equal(packets[i], inPackets[i]) {
				t.Errorf("%s: packet %d changed", tt.name, i)
			}
			if i >= tt.header && granules[i] != inGranules[i] {
				t.Errorf("%s: packet %d granule %d, was %d", tt.name, i, granules[i], inGranules[i])
			}
		}
	}
}

func TestCleanOggKeepsWhatItCannotRewrite(t *testing.T) {
	// A second stream multiplexed in: not handled, kept unchanged.
	in := append(testOpus(0), oggPageBytes(oggPage{flags: 2, serial: 78, lacing: []byte{5}, body: []byte("Anna ")})...)
	out, ok, _ := Clean(Ogg, in)
	if ok || !bytes.Equal(out, in) {
		t.Errorf("two streams: ok %v, unchanged %v", ok, bytes.Equal(out, in))
	}
}

// ---- MP3 ----

// testFrames returns n MPEG-1 layer III frames, 128 kbit/s at 44.1 kHz
// (417 bytes each).
func testFrames(n int) []byte {
	var b []byte
	for i := range n {
		f := make([]byte, 417)
		copy(f, []byte{0xFF, 0xFB, 0x90, 0x64})
		f[100] = byte(i) // something to tell the frames apart
		b = append(b, f...)
	}
	return b
}

func id3Frame(id, text string) []byte {
	b := append([]byte(id), 0, 0, 0, byte(1+len(text)), 0, 0, 0)
	return append(b, text...)
}

func testMP3() []byte {
	frames := bytes.Join([][]byte{id3Frame("TIT2", "Geheimer Titel"), id3Frame("TPE1", "Anna Beispiel")}, nil)
	tag := append([]byte("ID3\x03\x00\x00\x00\x00\x00"), byte(len(frames)))
	tag = append(tag, frames...)
	v1 := make([]byte, 128)
	copy(v1, "TAGGeheimer Titel")
	copy(v1[33:], "Anna Beispiel")
	return bytes.Join([][]byte{tag, testFrames(3), v1}, nil)
}

func TestCleanMP3(t *testing.T) {
	in := testMP3()
	out, ok, err := Clean(MPEG, in)
	if err != nil || !ok {
		t.Fatalf("Clean = ok %v, %v", ok, err)
	}
	checkGone(t, out)
	if !bytes.Equal(out, testFrames(3)) {
		t.Errorf("the frames came out changed: %d bytes, want %d", len(out), len(testFrames(3)))
	}
}

// ---- WAV ----

func riffChunk(id string, body []byte) []byte {
	b := append([]byte(id), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(b[4:], uint32(len(body)))
	b = append(b, body...)
	if len(body)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

var wavSamples = []byte("PCM-SAMPLES") // odd: a padded chunk

func testWAV() []byte {
	fmtChunk := riffChunk("fmt ", []byte{1, 0, 1, 0, 0x40, 0x1F, 0, 0, 0x80, 0x3E, 0, 0, 2, 0, 16, 0})
	list := riffChunk("LIST", append([]byte("INFO"), append(riffChunk("INAM", []byte("Geheimer Titel\x00")), riffChunk("IART", []byte("Anna Beispiel\x00"))...)...))
	bext := riffChunk("bext", append([]byte("Hauptstr. 12"), make([]byte, 100)...))
	body := bytes.Join([][]byte{[]byte("WAVE"), fmtChunk, list, riffChunk("data", wavSamples), bext}, nil)
	return riffChunk("RIFF", body)
}

func TestCleanWAV(t *testing.T) {
	out, ok, err := Clean(WAV, testWAV())
	if err != nil || !ok {
		t.Fatalf("Clean = ok %v, %v", ok, err)
	}
	checkGone(t, out)
	if got := int(binary.LittleEndian.Uint32(out[4:])); got != len(out)-8 {
		t.Errorf("RIFF size %d, file %d", got, len(out))
	}
	var ids []string
	for p := 12; p+8 <= len(out); {
		size := int(binary.LittleEndian.Uint32(out[p+4:]))
		ids = append(ids, string(out[p:p+4]))
		if string(out[p:p+4]) == "data" && !bytes.Equal(out[p+8:p+8+size], wavSamples) {
			t.Errorf("the samples changed")
		}
		p += 8 + size + size%2
	}
	if strings.Join(ids, ",") != "fmt ,data" {
		t.Errorf("chunks %v, want fmt and data", ids)
	}
}

// ---- fuzzing ----

// fuzzClean checks what every cleaner promises: no panic, never more
// than a few bytes larger, the same type when cleaned, and cleaning a
// cleaned file changes nothing.
func fuzzClean(f *testing.F, typ string, seeds ...[]byte) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, ok, err := Clean(typ, bytes.Clone(in))
		if err != nil {
			return
		}
		if len(out) > len(in)+maxGrowth {
			t.Fatalf("%d bytes in, %d out", len(in), len(out))
		}
		if !ok {
			if !bytes.Equal(out, in) {
				t.Fatal("a file that could not be cleaned came back changed")
			}
			return
		}
		again, ok, err := Clean(typ, bytes.Clone(out))
		if err != nil || !ok || !bytes.Equal(again, out) {
			t.Fatalf("cleaning the cleaned file: ok %v, %v, same %v", ok, err, bytes.Equal(again, out))
		}
	})
}

// maxGrowth is the most a cleaned file may grow: a WAV chunk's padding.
const maxGrowth = 1

func FuzzCleanMP4(f *testing.F) {
	fuzzClean(f, MP4, testM4A(f, m4aOptions{moovFirst: true}).file, testM4A(f, m4aOptions{co64: true}).file)
}

func FuzzCleanOgg(f *testing.F) { fuzzClean(f, Ogg, testOpus(0), testVorbis()) }

func FuzzCleanMP3(f *testing.F) { fuzzClean(f, MPEG, testMP3(), testFrames(2)) }

func FuzzCleanWAV(f *testing.F) { fuzzClean(f, WAV, testWAV()) }

// BenchmarkClean cleans files at the upload limit: the cost an upload
// adds before it is sealed. Ogg is the expensive one, every page's
// checksum is computed twice.
func BenchmarkClean(b *testing.B) {
	big := bytes.Repeat([]byte{0x55}, 10<<20-4096)
	m4aFile := testM4A(b, m4aOptions{moovFirst: true}).file
	m4aFile = append(m4aFile, mp4Box("free", big)...)
	var packets [][]byte
	for range (10 << 20) / 250 {
		packets = append(packets, bytes.Repeat([]byte{0x33}, 250))
	}
	oggFile := oggStream(append([][]byte{[]byte("OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00"), comment("OpusTags", false, 0)}, packets...), 1)
	for _, f := range []struct {
		typ  string
		file []byte
	}{{MP4, m4aFile}, {Ogg, oggFile}, {MPEG, append(testMP3(), big...)}, {WAV, testWAV()}} {
		b.Run(f.typ[len("audio/"):], func(b *testing.B) {
			b.SetBytes(int64(len(f.file)))
			for b.Loop() {
				if _, ok, err := Clean(f.typ, f.file); !ok && f.typ != MPEG || err != nil {
					b.Fatalf("not cleaned: %v", err)
				}
			}
		})
	}
}
