package web_test

import (
	"bytes"
	"encoding/binary"
	"net/http"
	"strings"
	"testing"
)

// voiceSamples are the "AAC frames" of voiceM4A, two chunks.
var voiceSamples = [][]byte{[]byte("FIRST-CHUNK-OF-AAC-FRAMES"), []byte("SECOND-CHUNK-OF-AAC-FRAMES")}

// voiceM4A is a voice memo as a phone writes it, reduced to what matters:
// ftyp M4A, moov (with a recording time, one sound track whose stco
// table points into mdat, a udta with a title and a location, a meta box
// with the artist) before mdat. tail is appended as a top-level box
// (a moof makes it a fragmented file the cleaner does not rewrite).
func voiceM4A(tail ...[]byte) []byte {
	full := func(rest ...[]byte) []byte { return append([]byte{0, 0, 0, 0}, bytes.Join(rest, nil)...) }
	build := func(first uint32) []byte {
		stco := full(binary.BigEndian.AppendUint32(nil, 2), binary.BigEndian.AppendUint32(nil, first),
			binary.BigEndian.AppendUint32(nil, first+uint32(len(voiceSamples[0]))))
		moov := voiceBox("moov",
			voiceBox("mvhd", full(make([]byte, 96))),
			voiceBox("trak",
				voiceBox("tkhd", full(make([]byte, 80))),
				voiceBox("mdia",
					voiceBox("mdhd", full(make([]byte, 20))),
					voiceBox("hdlr", full(make([]byte, 4), []byte("soun"), make([]byte, 12), []byte("SoundHandler\x00"))),
					voiceBox("minf", voiceBox("stbl", voiceBox("stsd", full(make([]byte, 4))), voiceBox("stco", stco))))),
			voiceBox("udta", voiceBox("\xa9nam", []byte("Anna Beispiel, Memo 3")), voiceBox("\xa9xyz", []byte("+51.4556+007.0116/"))),
			voiceBox("meta", full(voiceBox("ilst", voiceBox("\xa9ART", []byte("Anna Beispiel"))))))
		return bytes.Join(append([][]byte{voiceBox("ftyp", []byte("M4A \x00\x00\x00\x00M4A isommp42")), moov,
			voiceBox("mdat", bytes.Join(voiceSamples, nil))}, tail...), nil)
	}
	file := build(0)
	return build(uint32(bytes.Index(file, voiceSamples[0])))
}

// A voice memo recorded as .m4a arrives without its title, artist and
// place; the case page plays it from the decrypting download route as
// audio/mp4, by ranges, and the chunk offsets still find the sound.
func TestVoiceMessage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	admin := login(t, e)
	memo := voiceM4A()
	resp, receipt := attSubmit(t, e, "en", validReport("Sprachnachricht vom Bahnsteig"), []attFile{{Name: "Memo Anna.m4a", Data: memo}})
	if resp.StatusCode != http.StatusOK || !receiptPattern.MatchString(receipt) {
		t.Fatalf("status %d:\n%s", resp.StatusCode, receipt)
	}
	if strings.Contains(receipt, `id="audio-warning"`) {
		t.Error("the receipt warns about metadata that was removed")
	}
	page, _ := attCase(t, e, admin, "Noch eine Sprachnachricht", []attFile{{Name: "memo.m4a", Data: memo}})
	m := voicePlayerPattern.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the case page has no player:\n%s", page)
	}
	resp, got := attDownload(t, e, admin, m[1])
	if ct := resp.Header.Get("Content-Type"); ct != "audio/mp4" {
		t.Errorf("Content-Type %q, want audio/mp4", ct)
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasSuffix(cd, `.m4a"`) && !strings.HasSuffix(cd, ".m4a") {
		t.Errorf("Content-Disposition %q: not the office's .m4a name", cd)
	}
	for _, secret := range []string{"Anna Beispiel", "+51.4556", "udta", "meta"} {
		if bytes.Contains(got, []byte(secret)) {
			t.Errorf("%q arrived in the office", secret)
		}
	}
	if len(got) >= len(memo) {
		t.Errorf("%d bytes served, %d sent: nothing removed", len(got), len(memo))
	}
	// The chunk offsets, read as a player reads them, find the samples.
	i := bytes.Index(got, []byte("stco"))
	if i < 0 {
		t.Fatal("no stco table left")
	}
	for k, s := range voiceSamples {
		off := binary.BigEndian.Uint32(got[i+12+4*k:])
		if int(off)+len(s) > len(got) || !bytes.Equal(got[off:int(off)+len(s)], s) {
			t.Errorf("chunk %d at %d does not point to its samples", k, off)
		}
	}
	// A player seeks by ranges.
	req, _ := http.NewRequest("GET", e.URL+m[1], nil)
	req.AddCookie(admin)
	req.Header.Set("Range", "bytes=4-11")
	rresp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	part := readBody(t, rresp)
	if rresp.StatusCode != http.StatusPartialContent || part != string(got[4:12]) {
		t.Errorf("range request: status %d, %q, want 206 and %q", rresp.StatusCode, part, got[4:12])
	}
}

// A fragmented MP4, whose layout the cleaner does not rewrite, is kept
// with the warning on the receipt and on the case page, as for a PDF.
func TestVoiceMessageMetadataKept(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	admin := login(t, e)
	memo := voiceM4A(voiceBox("moof", voiceBox("mfhd", make([]byte, 8))))
	resp, receipt := attSubmit(t, e, "en", validReport("Fragmentierte Aufnahme"), []attFile{{Name: "memo.m4a", Data: memo}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(receipt, `id="audio-warning"`) || !strings.Contains(receipt, "You sent a voice message") {
		t.Fatalf("status %d, the receipt does not warn:\n%s", resp.StatusCode, receipt)
	}
	page, _ := attCase(t, e, admin, "Noch eine fragmentierte Aufnahme", []attFile{{Name: "memo.m4a", Data: memo}})
	if !strings.Contains(page, "metadata (e.g. title, place or time of recording) could not be removed") &&
		!strings.Contains(page, "Metadaten (z. B. Titel, Aufnahmeort, Aufnahmezeit) konnten nicht entfernt werden") {
		t.Fatalf("the case page does not warn:\n%s", page)
	}
	m := voicePlayerPattern.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no player for the kept file")
	}
	if _, got := attDownload(t, e, admin, m[1]); !bytes.Equal(got, memo) {
		t.Error("the kept file came back changed")
	}
}

// A voice message sent with a follow-up message arrives cleaned too: the
// reporter's page warns only when tags stayed, and the office's thread
// has a player for it.
func TestVoiceMessageFollowup(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	admin := login(t, e)
	token, _, caseURL := fumsgCase(t, e, admin, validReport("Nachricht mit Sprachnachricht"))
	resp, reply := fumsgReply(t, e, "en", token, "Hier noch eine Aufnahme.", []attFile{{Name: "memo.m4a", Data: voiceM4A()}})
	if resp.StatusCode != http.StatusOK || strings.Contains(reply, `id="audio-warning"`) {
		t.Fatalf("reply: status %d, or a warning for removed metadata:\n%s", resp.StatusCode, reply)
	}
	resp, reply = fumsgReply(t, e, "en", token, "Und eine fragmentierte.", []attFile{{Name: "frag.m4a", Data: voiceM4A(voiceBox("moof", make([]byte, 8)))}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(reply, `id="audio-warning"`) {
		t.Fatalf("reply: status %d, no warning for kept metadata:\n%s", resp.StatusCode, reply)
	}
	_, page := getAs(t, admin, caseURL)
	players := voicePlayerPattern.FindAllStringSubmatch(page, -1)
	if len(players) != 2 {
		t.Fatalf("%d players in the thread, want 2:\n%s", len(players), page)
	}
	resp, got := attDownload(t, e, admin, players[0][1])
	if resp.Header.Get("Content-Type") != "audio/mp4" || bytes.Contains(got, []byte("Anna Beispiel")) {
		t.Errorf("the thread's voice message: %q, metadata kept %v", resp.Header.Get("Content-Type"), bytes.Contains(got, []byte("Anna Beispiel")))
	}
}
