package web_test

import (
	"bytes"
	"database/sql"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/storage"
)

// attSegments lists the JPEG marker segments before the image data.
func attSegments(b []byte) []byte {
	var markers []byte
	for i := 2; i+4 <= len(b) && b[i] == 0xFF; {
		m := b[i+1]
		markers = append(markers, m)
		if m == 0xDA { // start of scan: entropy-coded data follows
			break
		}
		i += 2 + int(binary.BigEndian.Uint16(b[i+2:]))
	}
	return markers
}

// attPNGWithText builds a PNG with a tEXt chunk after IHDR.
func attPNGWithText(t testing.TB) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 20, 10))
	img.Set(3, 4, color.NRGBA{255, 0, 0, 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	data := []byte("Comment\x00PNG-SECRET-ADDRESS Hauptstr. 1")
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	chunk = append(chunk, "tEXt"...)
	chunk = append(chunk, data...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
	ihdrEnd := 8 + 4 + 4 + 13 + 4
	out := append(append(append([]byte{}, b[:ihdrEnd]...), chunk...), b[ihdrEnd:]...)
	if _, err := png.Decode(bytes.NewReader(out)); err != nil || !bytes.Contains(out, []byte("tEXtComment")) {
		t.Fatalf("test PNG broken: %v", err)
	}
	return out
}

// attPDFMarker is a byte pattern that appears nowhere but in test PDFs.
const attPDFMarker = "QZX-ATTACHMENT-PLAINTEXT-7731-QZX"

// attPDF returns a PDF-looking file of about n bytes full of the marker.
func attPDF(n int) []byte {
	b := []byte("%PDF-1.4\n% " + attPDFMarker + "\n")
	for len(b) < n-6 {
		b = append(b, fmt.Sprintf("%% %s %d\n", attPDFMarker, len(b))...)
	}
	b = append(b, "%%EOF\n"...)
	return b[:max(n, len(b)-(len(b)-n))]
}

// A JPEG with GPS EXIF data goes in through the public form; the
// counsellor downloads a JPEG without any EXIF segment or GPS data. A PNG
// loses its text chunk. The original names are shown on the case page;
// the downloads carry the office's names.
func TestAttachmentImagesLoseMetadata(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	admin := login(t, e)
	jpg, pngFile := attJPEGWithGPS(t), attPNGWithText(t)
	page, links := attCase(t, e, admin, "Fotos vom Aushang", []attFile{{Name: "IMG_0001 \"home\".jpg", Data: jpg}, {Name: "scan.png", Data: pngFile}})
	if len(links) != 2 {
		t.Fatalf("%d attachments listed, want 2:\n%s", len(links), page)
	}
	if !strings.Contains(page, "IMG_0001") || !strings.Contains(page, "scan.png") || !strings.Contains(page, "image/jpeg") {
		t.Errorf("case page does not list names and types:\n%s", page)
	}

	resp, got := attDownload(t, e, admin, links[0])
	if ct := resp.Header.Get("Content-Type"); ct != "image/jpeg" {
		t.Errorf("JPEG Content-Type = %q", ct)
	}
	disp, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
	// The office's name for the file (case number, index, true type),
	// never the reporter's.
	if err != nil || disp != "attachment" || !regexp.MustCompile(`^\d{4}-\d{4,}-1\.jpg$`).MatchString(params["filename"]) {
		t.Errorf("Content-Disposition = %q (%v)", resp.Header.Get("Content-Disposition"), err)
	}
	img, err := jpeg.Decode(bytes.NewReader(got))
	if err != nil {
		t.Fatalf("download is no JPEG: %v", err)
	}
	if img.Bounds().Dx() != 32 || img.Bounds().Dy() != 24 {
		t.Errorf("image is %v, want 32×24", img.Bounds())
	}
	for _, m := range attSegments(got) {
		if m == 0xE1 {
			t.Error("download still has an APP1 (EXIF) segment")
		}
	}
	if bytes.Contains(got, []byte("Exif")) || bytes.Contains(got, []byte("GPS-SECRET")) || bytes.Contains(got, []byte{0, 0, 0, 51, 0, 0, 0, 1, 0, 0, 0, 28}) {
		t.Error("download still carries EXIF or GPS bytes")
	}

	resp, got = attDownload(t, e, admin, links[1])
	if ct := resp.Header.Get("Content-Type"); ct != "image/png" {
		t.Errorf("PNG Content-Type = %q", ct)
	}
	if _, err := png.Decode(bytes.NewReader(got)); err != nil {
		t.Fatalf("download is no PNG: %v", err)
	}
	if bytes.Contains(got, []byte("tEXt")) || bytes.Contains(got, []byte("PNG-SECRET")) {
		t.Error("PNG download still has its text chunk")
	}
}

// attCount counts rows of a table straight from the database file.
func attCount(t testing.TB, e *env, table string) int {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(e.Dir, storage.FileName)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A PDF passes unchanged, with the metadata warning on the form, on the
// receipt and on the case page; its bytes are nowhere in the database
// files; every download is audited; another team's counsellor cannot
// download it.
func TestAttachmentPDF(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	admin := login(t, e)
	_, form := get(t, e.URL+"/en/")
	if !strings.Contains(form, `id="warn-attachments-pdf"`) || !strings.Contains(form, "hidden details in them") {
		t.Error("the form does not warn about PDF metadata next to the upload field")
	}
	pdf := attPDF(300 << 10) // several chunks
	resp, receipt := attSubmit(t, e, "en", validReport("Der Brief der Hausverwaltung"), []attFile{{Name: "brief.pdf", Data: pdf}})
	if resp.StatusCode != http.StatusOK || !receiptPattern.MatchString(receipt) {
		t.Fatalf("status %d:\n%s", resp.StatusCode, receipt)
	}
	if !strings.Contains(receipt, `id="pdf-warning"`) || !strings.Contains(receipt, "You sent a PDF file") {
		t.Errorf("receipt has no PDF warning:\n%s", receipt)
	}
	// An image-only report's receipt has none.
	_, plainReceipt := attSubmit(t, e, "en", validReport("Nur ein Foto"), []attFile{{Name: "a.png", Data: attPNGWithText(t)}})
	if strings.Contains(plainReceipt, `id="pdf-warning"`) {
		t.Error("receipt warns about a PDF that was not sent")
	}

	page, links := attCase(t, e, admin, "Noch ein Brief", []attFile{{Name: "brief.pdf", Data: pdf}})
	if len(links) != 1 || !strings.Contains(page, "metadata (e.g. the author) has not been removed") &&
		!strings.Contains(page, "Metadaten (z. B. Verfasser:in) sind nicht entfernt") {
		t.Fatalf("case page lacks the PDF or its warning:\n%s", page)
	}
	before := attCount(t, e, "audit WHERE action = 'attachment_open'")
	resp, got := attDownload(t, e, admin, links[0])
	if !bytes.Equal(got, pdf) || resp.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("PDF came back changed (%d bytes of %d, %q)", len(got), len(pdf), resp.Header.Get("Content-Type"))
	}
	if after := attCount(t, e, "audit WHERE action = 'attachment_open'"); after != before+1 {
		t.Errorf("downloads audited: %d → %d, want one more", before, after)
	}

	// Another team's counsellor gets a 404, as for no attachment at all.
	herne := createTeamAs(t, e, admin, "Herne", "herne")
	outsider, _ := accUser(t, e, admin, "otto", "counsellor", strings.TrimPrefix(herne, "/office/teams/"))
	if resp, _ := getAs(t, outsider, e.URL+links[0]); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another team's counsellor: status %d, want 404", resp.StatusCode)
	}
	statistician, _ := accUser(t, e, admin, "stefan", "statistician")
	if resp, _ := getAs(t, statistician, e.URL+links[0]); resp.StatusCode != http.StatusForbidden {
		t.Errorf("statistician: status %d, want 403", resp.StatusCode)
	}

	// No plaintext in the database, its WAL, or anything beside them.
	if err := e.DB.Checkpoint(t.Context()); err != nil {
		t.Fatal(err)
	}
	files, _ := os.ReadDir(e.Dir)
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(e.Dir, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(attPDFMarker)) || bytes.Contains(b, []byte("brief.pdf")) {
			t.Errorf("%s contains the plaintext of an uploaded file or its name", f.Name())
		}
	}
}

// Files of another type are refused next to the upload field, with the
// other fields kept and a request to choose the files again; nothing is
// stored.
func TestAttachmentRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	for _, f := range []attFile{
		{Name: "setup.exe", Data: append([]byte("MZ\x90\x00\x03\x00\x00\x00"), bytes.Repeat([]byte{0}, 600)...)},
		{Name: "fotos.zip", Data: append([]byte("PK\x03\x04\x14\x00\x00\x00"), bytes.Repeat([]byte{1}, 600)...)},
		{Name: "notiz.pdf", Data: []byte("just some text, not a PDF at all\n")},
		{Name: "fake.jpg", Data: []byte("\xFF\xD8\xFF\xE0 this is not really a JPEG")},
	} {
		t.Run(f.Name, func(t *testing.T) {
			resp, page := attSubmit(t, e, "en", validReport("Typ-Test "+f.Name), []attFile{{Name: "ok.pdf", Data: attPDF(2000)}, f})
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422:\n%s", resp.StatusCode, page)
			}
			if !strings.Contains(page, `id="err-attachments"`) || !strings.Contains(page, "Please choose your files again") {
				t.Errorf("no error next to the upload field:\n%s", page)
			}
			if !strings.Contains(page, "Typ-Test "+f.Name) || !strings.Contains(page, "Signal &#43;49 170 0000000") {
				t.Error("the other fields were not kept")
			}
		})
	}
	if n := attCount(t, e, "reports"); n != 0 {
		t.Errorf("%d reports stored, want 0", n)
	}
	if n := attCount(t, e, "attachments"); n != 0 {
		t.Errorf("%d attachments left behind, want 0", n)
	}
	if n := attCount(t, e, "attachment_chunks"); n != 0 {
		t.Errorf("%d chunks left behind, want 0", n)
	}
}

// Six files are one too many; a file over 10 MiB is too large. Both come
// back with the error next to the field and nothing stored.
func TestAttachmentLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	six := make([]attFile, 6)
	for i := range six {
		six[i] = attFile{Name: fmt.Sprintf("%d.pdf", i), Data: attPDF(1000)}
	}
	resp, page := attSubmit(t, e, "de", validReport("Sechs Dateien"), six)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "höchstens 5 Dateien") || !strings.Contains(page, "Sechs Dateien") {
		t.Errorf("six files: status %d:\n%s", resp.StatusCode, page)
	}
	big := attPDF(10<<20 + 1)
	resp, page = attSubmit(t, e, "en", validReport("Zu groß"), []attFile{{Name: "big.pdf", Data: big}})
	// The body is within its limit, so the answer is the form with the
	// error next to the field, not a bare 413 page.
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "larger than 10 MB") || !strings.Contains(page, "Zu groß") {
		t.Errorf("big file: status %d, no field error or fields lost:\n%.2000s", resp.StatusCode, page)
	}
	// Exactly 10 MiB is fine.
	resp, page = attSubmit(t, e, "en", validReport("Genau groß genug"), []attFile{{Name: "max.pdf", Data: attPDF(10 << 20)}})
	if resp.StatusCode != http.StatusOK {
		t.Errorf("10 MiB file: status %d:\n%.500s", resp.StatusCode, page)
	}
	if n := attCount(t, e, "attachments"); n != 1 {
		t.Errorf("%d attachments stored, want 1 (the 10 MiB one)", n)
	}
	// A whole body beyond the limit is cut off with 413.
	huge := []attFile{{Name: "1.pdf", Data: attPDF(10 << 20)}, {Name: "2.pdf", Data: attPDF(10 << 20)}, {Name: "3.pdf", Data: attPDF(10 << 20)}, {Name: "4.pdf", Data: attPDF(10 << 20)}, {Name: "5.pdf", Data: attPDF(10 << 20)}, {Name: "6.pdf", Data: attPDF(10 << 20)}}
	resp, _ = attSubmit(t, e, "en", validReport("Viel zu viel"), huge)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("body over the limit: status %d, want 413", resp.StatusCode)
	}
	if n := attCount(t, e, "attachments"); n != 1 {
		t.Errorf("%d attachments stored after the refused ones, want 1", n)
	}
}

// When another field is wrong, the files are not kept and the form says
// to choose them again; the url-encoded form still works without files.
func TestAttachmentOtherErrorAsksForFilesAgain(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	form := validReport("Fehlende Zustimmung")
	form.Del("consent")
	resp, page := attSubmit(t, e, "en", form, []attFile{{Name: "a.pdf", Data: attPDF(1000)}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `id="err-attachments"`) || !strings.Contains(page, "Your files have not been saved yet") {
		t.Errorf("status %d, no request to choose the files again:\n%s", resp.StatusCode, page)
	}
	if n := attCount(t, e, "attachments"); n != 0 {
		t.Errorf("%d attachments kept for a report not stored", n)
	}
	// No file chosen: the browser's empty part is no attachment.
	resp, page = attSubmit(t, e, "en", validReport("Ohne Datei"), []attFile{{Name: "", Data: nil}})
	if resp.StatusCode != http.StatusOK || !receiptPattern.MatchString(page) {
		t.Errorf("empty file field: status %d:\n%s", resp.StatusCode, page)
	}
}

// A PNG whose header promises 100 megapixels is refused before it is
// decoded (a decompression bomb), next to the upload field.
func TestAttachmentDecompressionBomb(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	b := attPNGWithText(t)
	// IHDR: width and height at bytes 16..24; its CRC over type and data.
	binary.BigEndian.PutUint32(b[16:], 10000)
	binary.BigEndian.PutUint32(b[20:], 10000)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	if cfg, err := png.DecodeConfig(bytes.NewReader(b)); err != nil || cfg.Width != 10000 {
		t.Fatalf("test PNG header not patched: %v", err)
	}
	resp, page := attSubmit(t, e, "en", validReport("Bombe"), []attFile{{Name: "bomb.png", Data: b}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "too many pixels") {
		t.Errorf("status %d, no pixel error:\n%s", resp.StatusCode, page)
	}
}

// A chunk altered in the database makes the download fail visibly (the
// connection ends before the announced length), never a silently
// different file.
func TestAttachmentTamperedChunk(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	admin := login(t, e)
	_, links := attCase(t, e, admin, "Manipuliert", []attFile{{Name: "a.pdf", Data: attPDF(200 << 10)}})
	if len(links) != 1 {
		t.Fatal("no attachment")
	}
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(e.Dir, storage.FileName)+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var chunk []byte
	if err := db.QueryRow(`SELECT data FROM attachment_chunks WHERE idx = 1`).Scan(&chunk); err != nil {
		t.Fatal(err)
	}
	chunk[100] ^= 0x40
	if _, err := db.Exec(`UPDATE attachment_chunks SET data = ? WHERE idx = 1`, chunk); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", e.URL+links[0], nil)
	req.AddCookie(admin)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err == nil {
		t.Errorf("tampered download read cleanly (%d bytes of %s)", len(got), resp.Header.Get("Content-Length"))
	}
	if len(got) > 2*vaultChunk {
		t.Errorf("%d bytes delivered past the tampered chunk", len(got))
	}
}

// vaultChunk is vault.ChunkSize, spelled out so the test reads alone.
const vaultChunk = 64 << 10
