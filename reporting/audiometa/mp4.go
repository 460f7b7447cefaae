package audiometa

import "sort"

// mp4Brands are the ftyp brands of audio files from phones and of the
// generic ISO files many recorders write. QuickTime (qt) and the image
// and video-only brands are not among them.
var mp4Brands = map[string]bool{
	"M4A ": true, "M4B ": true, "isom": true, "iso2": true, "iso4": true, "iso5": true, "iso6": true,
	"mp41": true, "mp42": true, "3gp4": true, "3gp5": true, "3gp6": true, "3g2a": true, "MSNV": true,
}

// isMP4 reports an ftyp box at the start with an audio or generic brand,
// major or compatible.
func isMP4(head []byte) bool {
	if len(head) < 16 || string(head[4:8]) != "ftyp" {
		return false
	}
	size := int(be32(head))
	if size < 16 || size%4 != 0 {
		return false
	}
	if mp4Brands[string(head[8:12])] {
		return true
	}
	for p := 16; p+4 <= size && p+4 <= len(head); p += 4 {
		if mp4Brands[string(head[p:p+4])] {
			return true
		}
	}
	return false
}

// box is an ISO BMFF box: its type and where it and its content lie in
// the file.
type box struct {
	typ        string
	start, end int64 // the whole box
	body       int64 // where its content starts, after the header
	large      bool  // the size is in the 64-bit field after the type
}

// readBoxes lists the boxes between start and end; ok is false if one
// does not fit.
func readBoxes(b []byte, start, end int64) ([]box, bool) {
	var boxes []box
	for p := start; p < end; {
		if end-p < 8 {
			return nil, false
		}
		bx := box{typ: string(b[p+4 : p+8]), start: p, body: p + 8}
		size := int64(be32(b[p:]))
		switch size {
		case 0: // to the end of the file or the enclosing box
			size = end - p
		case 1:
			if end-p < 16 {
				return nil, false
			}
			u := be64(b[p+8:])
			if u > uint64(end-p) {
				return nil, false
			}
			size, bx.body, bx.large = int64(u), p+16, true
		}
		if size < bx.body-p || size > end-p {
			return nil, false
		}
		bx.end = p + size
		boxes = append(boxes, bx)
		p = bx.end
	}
	return boxes, true
}

// mp4Drop are the boxes removed at the top level, in moov and in each
// trak: user data (titles, the recording app, ©xyz locations), meta
// (iTunes-style tags), uuid (XMP and vendor data) and the free space
// boxes, whose content nobody reads but anybody could fill.
var mp4Drop = map[string]bool{"udta": true, "meta": true, "uuid": true, "free": true, "skip": true, "wide": true}

// mp4Patch is a change at a position of the original file, applied at
// its new position once the dropped boxes are cut out.
type mp4Patch struct {
	at    int64
	apply func(b []byte) // b starts at the patch position in the output
}

// cleanMP4 removes the metadata boxes of a non-fragmented MP4 file. The
// boxes around a removed one (moov, trak) get their new sizes, and since
// the chunk offsets in stco and co64 count from the start of the file,
// each is moved back by the bytes removed before it: when moov precedes
// mdat, every one of them. The creation and modification times in mvhd,
// tkhd and mdhd (when the recording was made) are set to 0.
func cleanMP4(b []byte) ([]byte, bool, error) {
	n := int64(len(b))
	top, ok := readBoxes(b, 0, n)
	if !ok || len(top) == 0 || top[0].typ != "ftyp" {
		return nil, false, nil
	}
	var moov *box
	var drops [][2]int64
	var patches []mp4Patch
	for i := range top {
		switch bx := top[i]; {
		case bx.typ == "moof" || bx.typ == "mfra" || bx.typ == "sidx":
			return nil, false, nil // fragmented: offsets live in places not handled here
		case bx.typ == "moov":
			if moov != nil {
				return nil, false, nil
			}
			moov = &top[i]
		case mp4Drop[bx.typ]:
			drops = append(drops, [2]int64{bx.start, bx.end})
		}
	}
	if moov == nil {
		return nil, false, nil
	}
	// The containers whose size changes: moov and each trak.
	type resized struct {
		bx      box
		removed int64
	}
	var sized []resized
	children, ok := readBoxes(b, moov.body, moov.end)
	if !ok {
		return nil, false, nil
	}
	var moovRemoved int64
	sound := false
	var tables []box // stco and co64
	for _, c := range children {
		switch {
		case c.typ == "mvex":
			return nil, false, nil
		case mp4Drop[c.typ]:
			drops = append(drops, [2]int64{c.start, c.end})
			moovRemoved += c.end - c.start
		case c.typ == "mvhd":
			patches = append(patches, zeroTimes(b, c))
		case c.typ == "trak":
			removed, handler, trakTables, trakPatches, ok := cleanTrak(b, c, &drops)
			if !ok {
				return nil, false, nil
			}
			switch handler {
			case "vide":
				return nil, false, ErrNotAudio
			case "soun":
				sound = true
			}
			tables = append(tables, trakTables...)
			patches = append(patches, trakPatches...)
			if removed > 0 {
				sized = append(sized, resized{c, removed})
				moovRemoved += removed
			}
		}
	}
	if !sound {
		return nil, false, ErrNotAudio
	}
	if moovRemoved > 0 {
		sized = append(sized, resized{*moov, moovRemoved})
	}
	sort.Slice(drops, func(i, j int) bool { return drops[i][0] < drops[j][0] })
	// shift is how far the byte at off of the input moves back; ok is
	// false for a byte inside a dropped box.
	shift := func(off int64) (int64, bool) {
		var s int64
		for _, d := range drops {
			if off >= d[1] {
				s += d[1] - d[0]
			} else if off >= d[0] {
				return 0, false
			}
		}
		return s, true
	}
	for _, r := range sized {
		patches = append(patches, resize(r.bx, r.removed))
	}
	for _, t := range tables {
		p, ok := offsetTable(b, t, shift)
		if !ok {
			return nil, false, nil
		}
		patches = append(patches, p)
	}
	out := make([]byte, 0, n)
	var p int64
	for _, d := range drops {
		out = append(out, b[p:d[0]]...)
		p = d[1]
	}
	out = append(out, b[p:]...)
	for _, pt := range patches {
		if pt.apply == nil {
			continue
		}
		s, ok := shift(pt.at)
		if !ok {
			return nil, false, nil
		}
		pt.apply(out[pt.at-s:])
	}
	return out, true, nil
}

// cleanTrak notes the metadata boxes of a trak to drop and finds its
// handler type, its chunk offset tables and its time stamps.
func cleanTrak(b []byte, trak box, drops *[][2]int64) (removed int64, handler string, tables []box, patches []mp4Patch, ok bool) {
	children, ok := readBoxes(b, trak.body, trak.end)
	if !ok {
		return 0, "", nil, nil, false
	}
	for _, c := range children {
		switch {
		case mp4Drop[c.typ]:
			*drops = append(*drops, [2]int64{c.start, c.end})
			removed += c.end - c.start
		case c.typ == "tkhd":
			patches = append(patches, zeroTimes(b, c))
		case c.typ == "mdia":
			mdia, ok := readBoxes(b, c.body, c.end)
			if !ok {
				return 0, "", nil, nil, false
			}
			for _, m := range mdia {
				switch m.typ {
				case "mdhd":
					patches = append(patches, zeroTimes(b, m))
				case "hdlr":
					// version and flags, pre_defined, then the type
					if m.end-m.body >= 12 {
						handler = string(b[m.body+8 : m.body+12])
					}
				case "minf":
					t, ok := findTables(b, m)
					if !ok {
						return 0, "", nil, nil, false
					}
					tables = append(tables, t...)
				}
			}
		}
	}
	return removed, handler, tables, patches, true
}

// findTables returns the stco and co64 boxes of minf/stbl.
func findTables(b []byte, minf box) ([]box, bool) {
	boxes, ok := readBoxes(b, minf.body, minf.end)
	if !ok {
		return nil, false
	}
	var tables []box
	for _, m := range boxes {
		if m.typ != "stbl" {
			continue
		}
		stbl, ok := readBoxes(b, m.body, m.end)
		if !ok {
			return nil, false
		}
		for _, s := range stbl {
			if s.typ == "stco" || s.typ == "co64" {
				tables = append(tables, s)
			}
		}
	}
	return tables, true
}

// zeroTimes returns the patch that sets a full box's creation and
// modification time to 0 (version 0: two 32-bit fields, version 1: two
// 64-bit fields, after the version and flags).
func zeroTimes(b []byte, bx box) mp4Patch {
	body := bx.body - bx.start
	width := int64(8)
	if bx.end-bx.body >= 1 && b[bx.body] == 1 {
		width = 16
	}
	if bx.end-bx.body < 4+width {
		return mp4Patch{}
	}
	return mp4Patch{at: bx.start, apply: func(out []byte) { clear(out[body+4 : body+4+width]) }}
}

// resize returns the patch that writes a box's size less removed.
func resize(bx box, removed int64) mp4Patch {
	return mp4Patch{at: bx.start, apply: func(out []byte) {
		switch {
		case bx.large:
			putBE64(out[8:], uint64(bx.end-bx.start-removed))
		case be32(out) != 0: // 0 means "to the end" and stays right
			putBE32(out, uint32(bx.end-bx.start-removed))
		}
	}}
}

// offsetTable returns the patch that moves each chunk offset of an stco
// or co64 box back by the bytes removed before it; ok is false if an
// offset points into a removed box or outside the file.
func offsetTable(b []byte, t box, shift func(int64) (int64, bool)) (mp4Patch, bool) {
	width := int64(4)
	if t.typ == "co64" {
		width = 8
	}
	body := b[t.body:t.end]
	if len(body) < 8 {
		return mp4Patch{}, false
	}
	count := int64(be32(body[4:]))
	if count > (int64(len(body))-8)/width {
		return mp4Patch{}, false
	}
	moved := make([]uint64, count)
	for i := range count {
		e := body[8+i*width:]
		var off uint64
		if width == 4 {
			off = uint64(be32(e))
		} else {
			off = be64(e)
		}
		if off >= uint64(len(b)) {
			return mp4Patch{}, false
		}
		s, ok := shift(int64(off))
		if !ok {
			return mp4Patch{}, false
		}
		moved[i] = off - uint64(s)
	}
	at := t.body - t.start + 8
	return mp4Patch{at: t.start, apply: func(out []byte) {
		for i, off := range moved {
			e := out[at+int64(i)*width:]
			if width == 4 {
				putBE32(e, uint32(off))
			} else {
				putBE64(e, off)
			}
		}
	}}, true
}
