package reporting

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
)

// decodeCost estimates, from an image's header alone, how many bytes
// decoding it with the standard library allocates: the decoded pixels
// (width × height × bytes per pixel of the colour model, 16-bit PNG at 8
// bytes a pixel), and what the decoder holds besides them (the passes of
// an interlaced PNG; the coefficients of a progressive JPEG, 4 bytes a
// sample; the conversion of CMYK and RGB JPEGs). It errs on the high
// side: a wrong guess must refuse a photo, never let a bomb through.
func decodeCost(raw []byte, typ string, cfg image.Config) int64 {
	px := int64(cfg.Width) * int64(cfg.Height)
	if typ == TypeJPEG {
		if f, ok := jpegFrame(raw); ok {
			return f.cost()
		}
		// A JPEG whose frame this reader misses although the decoder
		// read it: reckon with the worst case, progressive and
		// converted (3 planes, 12 bytes of coefficients, 4 for RGBA).
		return px * (3 + 12 + 4)
	}
	bpp := bytesPerPixel(cfg.ColorModel)
	interlaced, transparent := pngLayout(raw)
	if transparent {
		// A tRNS chunk turns grey and RGB pixels into NRGBA: 4 bytes a
		// pixel, 8 with 16 bits a channel.
		switch cfg.ColorModel {
		case color.GrayModel, color.RGBAModel:
			bpp = 4
		case color.Gray16Model, color.RGBA64Model:
			bpp = 8
		}
	}
	cost := px * bpp
	if interlaced {
		// Each of the seven passes is decoded into an image of its own
		// and then copied into the whole one.
		cost *= 2
	}
	return cost
}

// bytesPerPixel is how many bytes one pixel takes in the image the
// standard decoders return for a colour model; an unknown model counts
// as the largest.
func bytesPerPixel(m color.Model) int64 {
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.YCbCrModel:
		return 3 // at most: 4:4:4; subsampled chroma takes less
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel:
		return 4
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	return 8
}

// pngLayout reads from a PNG's chunks before the image data whether it
// is interlaced (IHDR, the first chunk: width, height, depth, colour
// type, compression and filter come before the interlace method) and
// whether it has a tRNS chunk. It never reads beyond raw.
func pngLayout(raw []byte) (interlaced, transparent bool) {
	const ihdrInterlace = 8 + 8 + 12
	interlaced = len(raw) > ihdrInterlace && raw[ihdrInterlace] != 0
	for i := 8; i+8 <= len(raw); {
		n := int64(binary.BigEndian.Uint32(raw[i:]))
		switch string(raw[i+4 : i+8]) {
		case "tRNS":
			return interlaced, true
		case "IDAT", "IEND":
			return interlaced, false
		}
		next := int64(i) + 12 + n // length, type, data, CRC
		if next > int64(len(raw)) {
			break
		}
		i = int(next)
	}
	return interlaced, false
}

// jpegInfo is what the cost of decoding a JPEG depends on: the frame
// header and the markers that make the decoder convert to RGBA.
type jpegInfo struct {
	width, height int64
	progressive   bool
	comps         []jpegComp
	jfif          bool // an APP0 JFIF marker: the 3 components are YCbCr
	adobe         int  // the APP14 Adobe colour transform; -1 if none
}

type jpegComp struct {
	id   byte
	h, v int64 // sampling factors, 1..4
}

// jpegFrame walks a JPEG's marker segments up to its frame header (SOF0,
// SOF1 or SOF2, the ones the standard decoder reads). ok is false for
// anything it cannot follow; it never reads beyond raw.
func jpegFrame(raw []byte) (f jpegInfo, ok bool) {
	f.adobe = -1
	if len(raw) < 4 || raw[0] != 0xFF || raw[1] != 0xD8 {
		return f, false
	}
	for i := 2; ; {
		// Markers may be preceded by any number of 0xFF fill bytes.
		for i < len(raw) && raw[i] == 0xFF && i+1 < len(raw) && raw[i+1] == 0xFF {
			i++
		}
		if i+4 > len(raw) || raw[i] != 0xFF {
			return f, false
		}
		m := raw[i+1]
		if m == 0x01 || (m >= 0xD0 && m <= 0xD7) { // no length
			i += 2
			continue
		}
		n := int(binary.BigEndian.Uint16(raw[i+2:]))
		if n < 2 || i+2+n > len(raw) {
			return f, false
		}
		seg := raw[i+4 : i+2+n]
		i += 2 + n
		switch m {
		case 0xE0: // APP0
			if len(seg) >= 5 && string(seg[:5]) == "JFIF\x00" {
				f.jfif = true
			}
		case 0xEE: // APP14
			if len(seg) >= 12 && string(seg[:5]) == "Adobe" {
				f.adobe = int(seg[11])
			}
		case 0xC0, 0xC1, 0xC2: // SOF: baseline, extended, progressive
			if len(seg) < 6 {
				return f, false
			}
			f.progressive = m == 0xC2
			f.height = int64(binary.BigEndian.Uint16(seg[1:]))
			f.width = int64(binary.BigEndian.Uint16(seg[3:]))
			nc := int(seg[5])
			if nc != 1 && nc != 3 && nc != 4 || len(seg) < 6+3*nc {
				return f, false
			}
			for c := range nc {
				hv := seg[6+3*c+1]
				h, v := int64(hv>>4), int64(hv&0x0F)
				if h < 1 || h > 4 || v < 1 || v > 4 {
					return f, false
				}
				f.comps = append(f.comps, jpegComp{id: seg[6+3*c], h: h, v: v})
			}
			return f, f.width > 0 && f.height > 0
		case 0xDA, 0xD9: // start of scan or end of image before a frame
			return f, false
		}
	}
}

// cost is what the standard decoder allocates for the frame: one plane
// per component in whole MCUs (the first component has the largest
// sampling factors), 64 coefficients of 4 bytes per 8×8 block when
// progressive, and an RGBA or CMYK image of 4 bytes a pixel when it
// converts.
func (f jpegInfo) cost() int64 {
	var hmax, vmax int64 = 1, 1
	for _, c := range f.comps {
		hmax, vmax = max(hmax, c.h), max(vmax, c.v)
	}
	mxx := (f.width + 8*hmax - 1) / (8 * hmax)
	myy := (f.height + 8*vmax - 1) / (8 * vmax)
	var planes int64
	for _, c := range f.comps {
		planes += 64 * c.h * c.v * mxx * myy
	}
	cost := planes
	if f.progressive {
		cost += 4 * planes
	}
	rgb := len(f.comps) == 3 && !f.jfif && (f.adobe == 0 ||
		f.comps[0].id == 'R' && f.comps[1].id == 'G' && f.comps[2].id == 'B')
	if len(f.comps) == 4 || rgb {
		cost += 4 * f.width * f.height
	}
	return cost
}

// maxJPEGScans bounds the scans of a JPEG. Encoders write one scan for a
// baseline photo and about ten for a progressive one; the decoder walks
// every block of a component once per scan, so a file of a few hundred
// thousand tiny scans over a large frame would cost minutes of CPU
// however little memory it takes.
const maxJPEGScans = 100

// jpegScans counts the start-of-scan markers of a JPEG: an upper bound on
// its scans, as 0xFF inside entropy-coded data is always followed by 0x00
// or a restart marker (a thumbnail in an APP segment adds its own).
func jpegScans(raw []byte) int {
	return bytes.Count(raw, []byte{0xFF, 0xDA})
}
