package browsertest_test

import (
	"bytes"
	"encoding/binary"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/planb-ruhr/meldestelle/reporting/web/webtest"
)

// playableM4A is a voice memo Chromium can decode: one second of silent
// AAC-LC (mono, 44.1 kHz) in two chunks, with the boxes a phone writes
// (mvhd, tkhd, mdhd, hdlr, smhd, dinf, stsd with mp4a and esds, stts,
// stsc, stsz, stco) and the metadata the office must not get: a udta
// with a title and a place, a meta box with the artist, before mdat.
func playableM4A() []byte {
	full := func(rest ...[]byte) []byte { return append([]byte{0, 0, 0, 0}, bytes.Join(rest, nil)...) }
	u16 := func(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
	u32 := func(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
	const frames, rate = 43, 44100
	// A raw AAC-LC frame of silence: a single channel element with no
	// scale factor bands (max_sfb 0), then the END element.
	frame := []byte{0x00, 0xC8, 0x00, 0x07}
	matrix := bytes.Join([][]byte{u32(0x10000), u32(0), u32(0), u32(0), u32(0x10000), u32(0), u32(0), u32(0), u32(0x40000000)}, nil)
	esds := full(
		[]byte{0x03, 25}, u16(0), []byte{0},
		[]byte{0x04, 17, 0x40, 0x15, 0, 0, 0}, u32(64000), u32(64000),
		[]byte{0x05, 2, 0x12, 0x08}, // AudioSpecificConfig: AAC-LC, 44.1 kHz, mono
		[]byte{0x06, 1, 0x02})
	mp4a := webtest.VoiceBox("mp4a", make([]byte, 6), u16(1), make([]byte, 8), u16(1), u16(16), u16(0), u16(0), u32(rate<<16), webtest.VoiceBox("esds", esds))
	half := uint32(frames / 2)
	build := func(first uint32) []byte {
		stbl := webtest.VoiceBox("stbl",
			webtest.VoiceBox("stsd", full(u32(1), mp4a)),
			webtest.VoiceBox("stts", full(u32(1), u32(frames), u32(1024))),
			webtest.VoiceBox("stsc", full(u32(2), u32(1), u32(half), u32(1), u32(2), u32(frames-half), u32(1))),
			webtest.VoiceBox("stsz", full(u32(uint32(len(frame))), u32(frames))),
			webtest.VoiceBox("stco", full(u32(2), u32(first), u32(first+half*uint32(len(frame))))))
		trak := webtest.VoiceBox("trak",
			webtest.VoiceBox("tkhd", []byte{0, 0, 0, 7}, u32(0x7E000000), u32(0x7E000000), u32(1), u32(0), u32(frames*1024), make([]byte, 8), u16(0), u16(0), u16(0x100), u16(0), matrix, u32(0), u32(0)),
			webtest.VoiceBox("mdia",
				webtest.VoiceBox("mdhd", full(u32(0x7E000000), u32(0x7E000000), u32(rate), u32(frames*1024), u16(0x55C4), u16(0))),
				webtest.VoiceBox("hdlr", full(u32(0), []byte("soun"), make([]byte, 12), []byte("SoundHandler\x00"))),
				webtest.VoiceBox("minf",
					webtest.VoiceBox("smhd", full(u16(0), u16(0))),
					webtest.VoiceBox("dinf", webtest.VoiceBox("dref", full(u32(1), webtest.VoiceBox("url ", []byte{0, 0, 0, 1})))),
					stbl)))
		moov := webtest.VoiceBox("moov",
			webtest.VoiceBox("mvhd", full(u32(0x7E000000), u32(0x7E000000), u32(rate), u32(frames*1024), u32(0x10000), u16(0x100), make([]byte, 10), matrix, make([]byte, 24), u32(2))),
			trak,
			webtest.VoiceBox("udta", webtest.VoiceBox("\xa9nam", []byte("Anna Beispiel, Memo 3")), webtest.VoiceBox("\xa9xyz", []byte("+51.4556+007.0116/"))),
			webtest.VoiceBox("meta", full(webtest.VoiceBox("ilst", webtest.VoiceBox("\xa9ART", []byte("Anna Beispiel"))))))
		return bytes.Join([][]byte{webtest.VoiceBox("ftyp", []byte("M4A \x00\x00\x00\x00M4A isommp42")), moov,
			webtest.VoiceBox("mdat", bytes.Repeat(frame, frames))}, nil)
	}
	file := build(0)
	return build(uint32(len(file) - frames*len(frame)))
}

// A voice memo with metadata, sent with a report, plays in the office:
// Chromium loads it through the case page's player from the decrypting
// download route and plays it to the end, and it has lost its title.
func TestBrowserVoicePlays(t *testing.T) {
	ctx := newBrowser(t)
	e := webtest.New(t, webtest.Options{})
	admin := webtest.Login(t, e)
	memo := playableM4A()
	page, _ := webtest.AttCase(t, e, admin, "Sprachnachricht zum Abspielen", []webtest.AttFile{{Name: "Memo.m4a", Data: memo}})
	m := webtest.VoicePlayerPattern.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no player on the case page:\n%s", page)
	}
	if _, got := webtest.AttDownload(t, e, admin, m[1]); bytes.Contains(got, []byte("Anna Beispiel")) {
		t.Fatal("the memo's title arrived in the office")
	}
	caseURL := e.URL + m[1][:strings.Index(m[1], "/attachments/")]

	resp := browserRun(t, ctx, "open the login", chromedp.NavigateResponse(e.URL+"/office/login"))
	wantDocStatus(t, "GET /office/login", resp, http.StatusOK)
	browserDo(t, ctx, "type name and password",
		chromedp.SendKeys(chromedp.ID("username"), e.Admin),
		chromedp.SendKeys(chromedp.ID("password"), e.Pass))
	clickAndLoad(t, ctx, "log in", chromedp.ID("submit"), chromedp.CSS("table.cases"))
	resp = browserRun(t, ctx, "open the case", chromedp.NavigateResponse(caseURL))
	wantDocStatus(t, "GET the case", resp, http.StatusOK)
	// The page runs no script of its own (its CSP allows none); the
	// test's script, through the DevTools protocol, presses play, muted,
	// and waits for the end or an error. Its event handlers and timer
	// need the tab's scripts on, which the page was loaded without.
	browserDo(t, ctx, "scripts on for the test's player script", disableScripts(false))
	const play = `new Promise(resolve => {
		const a = document.querySelector("audio");
		if (!a) { resolve("no audio element"); return; }
		a.muted = true;
		a.addEventListener("error", () => resolve("error " + (a.error ? a.error.code + " " + a.error.message : "")));
		a.addEventListener("ended", () => resolve("ended " + a.duration.toFixed(2)));
		setTimeout(() => resolve("stuck at " + a.currentTime + ", state " + a.readyState + "/" + a.networkState), 10000);
		a.play().catch(err => resolve("play: " + err));
	})`
	got := browserRun(t, ctx, "play the voice message", chromedp.Evaluate[string](play, chromedp.EvalAwaitPromise,
		func(p *runtime.EvaluateParams) { yes := true; p.UserGesture = &yes })) // as if the counsellor pressed play
	t.Logf("the player: %s", got)
	if !strings.HasPrefix(got, "ended 1.0") {
		t.Fatalf("the player: %s, want it to play the 1.0 s to the end", got)
	}
}
