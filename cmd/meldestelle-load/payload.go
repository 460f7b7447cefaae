package main

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"mime/multipart"
	"net/textproto"
)

// reportFields is a complete, valid report without the captcha, in the
// order the form sends its fields.
var reportFields = [][2]string{
	{"role", "affected"},
	{"incident_date", "2026-03"},
	{"incident_day", "14"},
	{"municipality", "bochum"},
	{"grounds", "antiziganism"},
	{"area", "housing"},
	{"description", "Lasttest: Die Vermieterin hat uns die Wohnung nicht gegeben, weil wir Roma sind."},
	{"wish", "document_only"},
	{"consent", "yes"},
}

// upload is one file of a multipart form.
type upload struct {
	name, contentType string
	data              []byte
}

// reportBody builds the multipart body the form sends: the captcha fields
// first (as the form puts them), the report's fields, then the files (an
// empty file part when there are none, as a browser sends it).
func reportBody(captchaID, solution string, files []upload) (body []byte, contentType string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("captcha_id", captchaID)
	w.WriteField("captcha_solution", solution)
	for _, f := range reportFields {
		w.WriteField(f[0], f[1])
	}
	if len(files) == 0 {
		files = []upload{{name: "", contentType: "application/octet-stream"}}
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="attachments"; filename=%q`, f.name))
		h.Set("Content-Type", f.contentType)
		p, _ := w.CreatePart(h)
		p.Write(f.data)
	}
	w.Close()
	return buf.Bytes(), w.FormDataContentType()
}

// fakePDF is a PDF of about size bytes: a header, a stream of random
// bytes (which do not compress) and a trailer. The server streams PDFs
// through as they are, so only the header has to be right.
func fakePDF(size int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	head := []byte("%PDF-1.4\n1 0 obj\n<< /Length 0 >>\nstream\n")
	tail := []byte("\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")
	b := make([]byte, 0, size)
	b = append(b, head...)
	for len(b) < size-len(tail) {
		b = binary.LittleEndian.AppendUint64(b, r.Uint64())
	}
	return append(b[:max(len(head), size-len(tail))], tail...)
}

// bigPNG16 is a 16-bit RGBA PNG of side × side pixels, padded with a
// private ancillary chunk (which decoders skip) to about size bytes. It is
// small to send and large to decode: 8 bytes a pixel once decoded.
func bigPNG16(side, size int) []byte {
	var idat bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&idat, zlib.BestSpeed)
	row := make([]byte, 1+side*8) // filter byte 0, then black opaque-ish pixels
	for i := 1; i < len(row); i += 8 {
		row[i+6], row[i+7] = 0xff, 0xff // alpha
	}
	for range side {
		zw.Write(row)
	}
	zw.Close()

	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(side))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(side))
	ihdr[8], ihdr[9] = 16, 6 // 16 bits per sample, RGBA
	pngChunk(&b, "IHDR", ihdr)
	pngChunk(&b, "IDAT", idat.Bytes())
	if pad := size - b.Len() - 24; pad > 0 {
		pngChunk(&b, "lpAd", make([]byte, pad))
	}
	pngChunk(&b, "IEND", nil)
	return b.Bytes()
}

func pngChunk(b *bytes.Buffer, typ string, data []byte) {
	binary.Write(b, binary.BigEndian, uint32(len(data)))
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	b.WriteString(typ)
	b.Write(data)
	binary.Write(b, binary.BigEndian, crc.Sum32())
}

// smallPhoto is the photo a legitimate reporter attaches: a small 8-bit
// PNG.
func smallPhoto() []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 320, 240))
	for y := range 240 {
		for x := range 320 {
			img.Set(x, y, color.NRGBA{uint8(x), uint8(y), 0x80, 0xff})
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

// floodUploads are the files of the wrong-captcha flood: four PDFs and one
// 16-bit PNG of about fileSize bytes each.
func floodUploads(fileSize, pngSide int) []upload {
	files := make([]upload, 0, 5)
	for i := range 4 {
		files = append(files, upload{name: fmt.Sprintf("beweis-%d.pdf", i+1), contentType: "application/pdf", data: fakePDF(fileSize, uint64(i))})
	}
	return append(files, upload{name: "foto.png", contentType: "image/png", data: bigPNG16(pngSide, fileSize)})
}
