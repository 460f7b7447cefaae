package audiometa

import "bytes"

// isMP3 reports an ID3v2 tag or an MPEG audio frame header at the start.
// A frame header alone is only 11 set bits and a few fields, so when the
// head holds the next frame, it must be a frame header too.
func isMP3(head []byte) bool {
	if _, ok := id3v2Len(head); ok {
		return true
	}
	n, ok := mpegFrameLen(head)
	if !ok {
		return false
	}
	if n+4 <= len(head) {
		_, ok = mpegFrameLen(head[n:])
	}
	return ok
}

// id3v2Len returns the whole length of an ID3v2 tag at the start of b,
// footer included, from its header alone.
func id3v2Len(b []byte) (int, bool) {
	if len(b) < 10 || string(b[:3]) != "ID3" || b[3] < 2 || b[3] > 4 || b[4] == 0xFF {
		return 0, false
	}
	// The size is "synchsafe": four 7-bit groups.
	if b[6]|b[7]|b[8]|b[9] >= 0x80 {
		return 0, false
	}
	n := 10 + (int(b[6])<<21 | int(b[7])<<14 | int(b[8])<<7 | int(b[9]))
	if b[5]&0x10 != 0 { // a footer follows the tag
		n += 10
	}
	return n, true
}

// mpegFrameLen reads an MPEG audio frame header at the start of b and
// returns the frame's length; ok is false if it is not a valid header.
func mpegFrameLen(b []byte) (int, bool) {
	if len(b) < 4 || b[0] != 0xFF || b[1]&0xE0 != 0xE0 {
		return 0, false
	}
	version := (b[1] >> 3) & 3 // 0 MPEG 2.5, 1 reserved, 2 MPEG 2, 3 MPEG 1
	layer := (b[1] >> 1) & 3   // 1 layer III, 2 layer II, 3 layer I, 0 reserved
	rateIdx := b[2] >> 4
	srIdx := (b[2] >> 2) & 3
	pad := int(b[2]>>1) & 1
	if version == 1 || layer == 0 || rateIdx == 0 || rateIdx == 15 || srIdx == 3 {
		return 0, false
	}
	rates := map[bool][3][15]int{
		true: { // MPEG 1: layer I, II, III
			{0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448},
			{0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384},
			{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320},
		},
		false: { // MPEG 2 and 2.5
			{0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256},
			{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},
			{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},
		},
	}
	mpeg1 := version == 3
	kbps := rates[mpeg1][3-layer][rateIdx]
	sr := [3]int{44100, 48000, 32000}[srIdx]
	switch version {
	case 2:
		sr /= 2
	case 0:
		sr /= 4
	}
	switch {
	case layer == 3: // layer I
		return (12*kbps*1000/sr + pad) * 4, true
	case layer == 1 && !mpeg1: // layer III, MPEG 2 and 2.5
		return 72*kbps*1000/sr + pad, true
	default:
		return 144*kbps*1000/sr + pad, true
	}
}

// cleanMP3 removes the ID3v2 tags at the start, an ID3v2 tag appended at
// the end (marked by its footer), an APE tag and an ID3v1 tag at the end.
// What is left must start with an MPEG audio frame.
func cleanMP3(b []byte) ([]byte, bool) {
	for {
		n, ok := id3v2Len(b)
		if !ok {
			break
		}
		if n > len(b) {
			return nil, false
		}
		b = b[n:]
	}
	// The tags at the end come in any order of these three; each pass
	// takes one off, at most a few passes.
	for range 4 {
		switch {
		case len(b) >= 128 && string(b[len(b)-128:len(b)-125]) == "TAG":
			b = b[:len(b)-128]
		case len(b) >= 32 && string(b[len(b)-32:len(b)-24]) == "APETAGEX":
			f := b[len(b)-32:]
			n := int64(le32(f[12:])) // tag size including the footer
			if f[23]&0x80 != 0 {     // a header precedes the items
				n += 32
			}
			if n < 32 || n > int64(len(b)) {
				return nil, false
			}
			b = b[:int64(len(b))-n]
		case len(b) >= 10 && string(b[len(b)-10:len(b)-7]) == "3DI":
			f := b[len(b)-10:]
			if f[6]|f[7]|f[8]|f[9] >= 0x80 {
				return nil, false
			}
			n := 20 + (int(f[6])<<21 | int(f[7])<<14 | int(f[8])<<7 | int(f[9]))
			if n > len(b) {
				return nil, false
			}
			b = b[:len(b)-n]
		}
	}
	if _, ok := mpegFrameLen(b); !ok {
		return nil, false
	}
	// A tag left inside the stream (an ID3 block between frames) would
	// survive; the layout is then not one of ours.
	if bytes.Contains(b, []byte("ID3\x03\x00")) || bytes.Contains(b, []byte("ID3\x04\x00")) {
		return nil, false
	}
	return bytes.Clone(b), true
}
