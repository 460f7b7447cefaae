package web_test

import (
	"bytes"
	"image/png"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// previewPattern finds a photo's preview on a case page: its file's ID
// and the preview route.
var previewPattern = regexp.MustCompile(`<img class="preview" id="preview-([0-9a-f-]{36})" src="(/office/cases/[0-9a-f-]{36}/attachments/[0-9a-f-]{36}/preview)"`)

// The case page shows a photo as a preview served decrypted and inline,
// plays a voice message from the same route, and leaves a PDF a download
// with its warning: no preview, and the preview route does not serve it.
// One view is one audit entry per file, however often the browser asks;
// another team's counsellor gets 404.
func TestEvidencePreviews(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	admin := login(t, e)
	photo := attPNGWithText(t)
	page, links := attCase(t, e, admin, "Foto, Brief und Sprachnachricht", []attFile{
		{Name: "scan.png", Data: photo}, {Name: "brief.pdf", Data: attPDF(3000)}, {Name: "memo.m4a", Data: voiceM4A()}})
	if len(links) != 3 {
		t.Fatalf("%d download links, want 3:\n%s", len(links), page)
	}
	previews := previewPattern.FindAllStringSubmatch(page, -1)
	if len(previews) != 1 {
		t.Fatalf("%d previews, want 1 (the PNG's):\n%s", len(previews), page)
	}
	// The preview sits with the PNG's entry, not the PDF's.
	li := page[strings.Index(page, `<li id="att-`+previews[0][1]+`"`):]
	li = li[:strings.Index(li, "</li>")]
	if !strings.Contains(li, "scan.png") || !strings.Contains(li, previews[0][2]) {
		t.Errorf("the preview is not in the PNG's entry:\n%s", li)
	}
	pdfLink := ""
	for _, l := range links {
		if !strings.Contains(previews[0][2], l) && !strings.Contains(page, `src="`+l+`/preview"`) {
			pdfLink = l
		}
	}
	if pdfLink == "" {
		t.Fatal("no link left for the PDF")
	}
	if i := strings.Index(page, `href="`+pdfLink+`"`); i < 0 || !strings.Contains(page[i:i+400], "metadata (e.g. the author) has not been removed") &&
		!strings.Contains(page[i:i+400], "Metadaten (z. B. Verfasser:in) sind nicht entfernt") {
		t.Error("the PDF lost its warning")
	}

	before := attCount(t, e, "audit WHERE action = 'attachment_open'")
	var first []byte
	for range 2 { // a reload: the same view as far as the log goes
		resp, got := attDownload(t, e, admin, previews[0][2])
		if ct := resp.Header.Get("Content-Type"); ct != "image/png" {
			t.Errorf("preview Content-Type %q, want image/png", ct)
		}
		if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "inline") {
			t.Errorf("preview Content-Disposition %q, want inline", cd)
		}
		if _, err := png.Decode(bytes.NewReader(got)); err != nil {
			t.Errorf("the preview is no PNG: %v", err)
		}
		if bytes.Contains(got, []byte("PNG-SECRET-ADDRESS")) {
			t.Error("the preview kept the PNG's text chunk")
		}
		first = got
	}
	player := voicePlayerPattern.FindStringSubmatch(page)
	if player == nil {
		t.Fatalf("no player for the voice message:\n%s", page)
	}
	for _, rng := range []string{"bytes=0-", "bytes=4-11", "bytes=12-"} {
		req, _ := http.NewRequest("GET", e.URL+player[1], nil)
		req.AddCookie(admin)
		req.Header.Set("Range", rng)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		if resp.StatusCode != http.StatusPartialContent || resp.Header.Get("Content-Type") != "audio/mp4" ||
			!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "inline") {
			t.Errorf("player range %s: status %d, %q, %q", rng, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"))
		}
	}
	if after := attCount(t, e, "audit WHERE action = 'attachment_open'"); after != before+2 {
		t.Errorf("previews audited: %d → %d, want one entry per file (2)", before, after)
	}
	// The download of the same photo is a download, audited on its own.
	resp, got := attDownload(t, e, admin, previews[0][2][:len(previews[0][2])-len("/preview")])
	if !bytes.Equal(got, first) || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("download: %d bytes (preview %d), %q", len(got), len(first), resp.Header.Get("Content-Disposition"))
	}
	if after := attCount(t, e, "audit WHERE action = 'attachment_open'"); after != before+3 {
		t.Errorf("download after previews: %d → %d, want 3 entries", before, after)
	}

	// A PDF is never served inline.
	if resp, body := getAs(t, admin, e.URL+pdfLink+"/preview"); resp.StatusCode != http.StatusNotFound || strings.Contains(body, attPDFMarker) {
		t.Errorf("PDF preview: status %d, want 404", resp.StatusCode)
	}

	herne := createTeamAs(t, e, admin, "Herne", "herne")
	outsider, _ := accUser(t, e, admin, "otto", "counsellor", strings.TrimPrefix(herne, "/office/teams/"))
	for _, u := range []string{previews[0][2], player[1]} {
		if resp, _ := getAs(t, outsider, e.URL+u); resp.StatusCode != http.StatusNotFound {
			t.Errorf("another team's counsellor, %s: status %d, want 404", u, resp.StatusCode)
		}
	}
}
