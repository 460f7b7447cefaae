package audiometa

import "bytes"

// isOgg reports an Ogg page that begins a stream whose first packet is
// an Opus or Vorbis identification header.
func isOgg(head []byte) bool {
	if len(head) < 27 || string(head[:4]) != "OggS" || head[4] != 0 || head[5]&0x02 == 0 {
		return false
	}
	body := 27 + int(head[26])
	return hasPrefixAt(head, body, "OpusHead") || hasPrefixAt(head, body, "\x01vorbis")
}

func hasPrefixAt(b []byte, at int, prefix string) bool {
	return at+len(prefix) <= len(b) && string(b[at:at+len(prefix)]) == prefix
}

// oggPage is one page of an Ogg stream.
type oggPage struct {
	flags   byte // 0x01 continued packet, 0x02 first page, 0x04 last page
	granule uint64
	serial  uint32
	seq     uint32
	lacing  []byte
	body    []byte
}

// oggCRCTable is the Ogg CRC-32: polynomial 0x04C11DB7, most significant
// bit first, no reflection, initial value and final XOR 0.
var oggCRCTable = func() (t [256]uint32) {
	for i := range t {
		r := uint32(i) << 24
		for range 8 {
			if r&0x80000000 != 0 {
				r = r<<1 ^ 0x04C11DB7
			} else {
				r <<= 1
			}
		}
		t[i] = r
	}
	return t
}()

func oggCRC(b []byte) uint32 { return oggCRCUpdate(0, b) }

func oggCRCUpdate(crc uint32, b []byte) uint32 {
	for _, c := range b {
		crc = crc<<8 ^ oggCRCTable[byte(crc>>24)^c]
	}
	return crc
}

// parseOgg splits b into pages; ok is false if anything is not a page
// with a valid checksum.
func parseOgg(b []byte) ([]oggPage, bool) {
	var pages []oggPage
	for p := 0; p < len(b); {
		h := b[p:]
		if len(h) < 27 || string(h[:4]) != "OggS" || h[4] != 0 {
			return nil, false
		}
		n := int(h[26])
		if len(h) < 27+n {
			return nil, false
		}
		size := 27 + n
		for _, l := range h[27 : 27+n] {
			size += int(l)
		}
		if len(h) < size {
			return nil, false
		}
		// The checksum is over the page with its own field as zeros.
		crc := oggCRCUpdate(oggCRCUpdate(oggCRC(h[:22]), []byte{0, 0, 0, 0}), h[26:size])
		if crc != le32(h[22:]) {
			return nil, false
		}
		pages = append(pages, oggPage{
			flags:   h[5],
			granule: uint64(le32(h[6:])) | uint64(le32(h[10:]))<<32,
			serial:  le32(h[14:]),
			seq:     le32(h[18:]),
			lacing:  h[27 : 27+n],
			body:    h[27+n : size],
		})
		p += size
	}
	return pages, len(pages) > 0
}

// appendPage writes a page with its checksum.
func appendPage(out []byte, pg oggPage) []byte {
	start := len(out)
	out = append(out, "OggS"...)
	out = append(out, 0, pg.flags)
	var g [8]byte
	putLE32(g[:], uint32(pg.granule))
	putLE32(g[4:], uint32(pg.granule>>32))
	out = append(out, g[:]...)
	var n [12]byte
	putLE32(n[:], pg.serial)
	putLE32(n[4:], pg.seq)
	out = append(out, n[:]...) // the checksum's four bytes stay 0 for now
	out = append(out, byte(len(pg.lacing)))
	out = append(out, pg.lacing...)
	out = append(out, pg.body...)
	putLE32(out[start+22:], oggCRC(out[start:]))
	return out
}

// cleanOgg rewrites the comment header of a single Opus or Vorbis stream
// to one with the encoder's vendor string and no comments, lays the
// header packets out in pages afresh and renumbers the pages after them,
// every checksum recomputed. The audio pages are copied as they are.
// Several streams (chained or multiplexed) are not handled.
func cleanOgg(b []byte) ([]byte, bool) {
	pages, ok := parseOgg(b)
	if !ok {
		return nil, false
	}
	first := pages[0]
	for _, pg := range pages {
		if pg.serial != first.serial {
			return nil, false
		}
	}
	// The identification header is alone on the first page.
	if len(first.lacing) == 0 || first.lacing[len(first.lacing)-1] == 255 || first.flags&0x02 == 0 {
		return nil, false
	}
	for _, l := range first.lacing[:len(first.lacing)-1] {
		if l != 255 {
			return nil, false
		}
	}
	var headers int // header packets after the identification header
	switch {
	case bytes.HasPrefix(first.body, []byte("OpusHead")):
		headers = 1 // OpusTags
	case bytes.HasPrefix(first.body, []byte("\x01vorbis")):
		headers = 2 // comment, setup
	default:
		return nil, false
	}
	// Gather the header packets from the pages after the first; they
	// must end where a page ends (both specifications require the audio
	// to start on a page of its own).
	var packets [][]byte
	var cur []byte
	k := 1 // pages taken by the header packets, from index 1
	for ; len(packets) < headers; k++ {
		if k >= len(pages) {
			return nil, false
		}
		pg := pages[k]
		if (pg.flags&0x01 != 0) != (len(cur) != 0) || pg.flags&0x02 != 0 {
			return nil, false
		}
		off := 0
		for i, l := range pg.lacing {
			if len(packets) == headers {
				return nil, false // audio shares a page with the headers
			}
			cur = append(cur, pg.body[off:off+int(l)]...)
			off += int(l)
			if l < 255 {
				packets = append(packets, cur)
				cur = nil
				if len(packets) == headers && i != len(pg.lacing)-1 {
					return nil, false
				}
			}
		}
	}
	if len(cur) != 0 {
		return nil, false
	}
	var comment []byte
	if headers == 1 {
		comment = emptyComment(packets[0], "OpusTags", false)
	} else {
		comment = emptyComment(packets[0], "\x03vorbis", true)
		if !bytes.HasPrefix(packets[1], []byte("\x05vorbis")) {
			return nil, false
		}
	}
	if comment == nil {
		return nil, false
	}
	packets[0] = comment

	out := make([]byte, 0, len(b))
	out = appendPage(out, first)
	seq := first.seq
	for _, pg := range paginate(packets, first.serial) {
		seq++
		pg.seq = seq
		out = appendPage(out, pg)
	}
	// The pages after the headers move by the difference in page count;
	// a gap in the original numbering (a lost page) stays a gap.
	shift := seq - pages[k-1].seq
	for _, pg := range pages[k:] {
		pg.seq += shift
		out = appendPage(out, pg)
	}
	return out, true
}

// emptyComment returns a comment header with the vendor string of pkt
// and no comments; nil if pkt is not a comment header. The vendor string
// names the encoder library ("libopus 1.4"); one that is longer than
// any library's name, or not printable ASCII, is dropped as well.
func emptyComment(pkt []byte, magic string, framing bool) []byte {
	if !bytes.HasPrefix(pkt, []byte(magic)) || len(pkt) < len(magic)+4 {
		return nil
	}
	n := int64(le32(pkt[len(magic):]))
	vendor := pkt[len(magic)+4:]
	if n > int64(len(vendor)) {
		return nil
	}
	vendor = vendor[:n]
	if len(vendor) > 64 {
		vendor = nil
	}
	for _, c := range vendor {
		if c < 0x20 || c > 0x7E {
			vendor = nil
			break
		}
	}
	out := append([]byte(magic), 0, 0, 0, 0)
	putLE32(out[len(magic):], uint32(len(vendor)))
	out = append(out, vendor...)
	out = append(out, 0, 0, 0, 0) // no user comments
	if framing {
		out = append(out, 1)
	}
	return out
}

// paginate lays packets out in pages of at most 255 lacing values. The
// granule position is 0 where a header packet ends and -1 on a page
// where none ends, as the specification asks.
func paginate(packets [][]byte, serial uint32) []oggPage {
	var pages []oggPage
	pg := oggPage{serial: serial, granule: ^uint64(0)}
	for _, pkt := range packets {
		rest := pkt
		for {
			if len(pg.lacing) == 255 {
				pages = append(pages, pg)
				pg = oggPage{serial: serial, granule: ^uint64(0), flags: 0x01}
			}
			l := min(len(rest), 255)
			pg.lacing = append(pg.lacing, byte(l))
			pg.body = append(pg.body, rest[:l]...)
			rest = rest[l:]
			if l < 255 {
				pg.granule = 0
				break
			}
		}
		// The continuation flag belongs only to a page starting inside a
		// packet; the next packet starting on a fresh page clears it.
		if len(pg.lacing) == 255 {
			pages = append(pages, pg)
			pg = oggPage{serial: serial, granule: ^uint64(0)}
		}
	}
	if len(pg.lacing) > 0 {
		pages = append(pages, pg)
	}
	return pages
}
