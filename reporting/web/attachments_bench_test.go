package web_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// attStreamBody returns a multipart report form with one PDF of size
// bytes, generated while it is read: the request itself holds no file in
// memory, so the heap shows what the handler holds.
func attStreamBody(form map[string][]string, size int) (io.Reader, string) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		for k, vs := range form {
			for _, v := range vs {
				mw.WriteField(k, v)
			}
		}
		if size == 0 {
			pw.CloseWithError(mw.Close())
			return
		}
		w, _ := mw.CreateFormFile("attachments", "big.pdf")
		head := []byte("%PDF-1.7\n")
		w.Write(head)
		chunk := bytes.Repeat([]byte("% "+attPDFMarker+"\n"), 32<<10/(len(attPDFMarker)+3))
		for left := size - len(head); left > 0; left -= len(chunk) {
			if _, err := w.Write(chunk[:min(left, len(chunk))]); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.CloseWithError(mw.Close())
	}()
	return pr, mw.FormDataContentType()
}

// Four reporters upload a 10 MiB file each at the same time. The heap
// (sampled while they run) must stay far below the 40 MiB they send:
// files are sealed and stored chunk by chunk, never held whole.
func BenchmarkUpload4x10MiB(b *testing.B) { attBenchUpload(b, 10<<20) }

// The same four reports without files: the baseline of the form itself,
// to tell what the files add.
func BenchmarkUpload4xNoFile(b *testing.B) { attBenchUpload(b, 0) }

func attBenchUpload(b *testing.B, size int) {
	// argon2id for the receipt at its smallest, so that its memory (8 MiB
	// a report with testParams) does not hide what the files cost.
	e := newEnv(b, options{CaptchaOff: true, Params: vault.Params{Time: 1, MemoryKiB: 64, Threads: 1}})
	form := validReport("Vier große Dateien")
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	stop, peakc := make(chan struct{}), make(chan uint64)
	go func() {
		var peak uint64
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				peakc <- peak
				return
			case <-tick.C:
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				peak = max(peak, m.HeapInuse)
			}
		}
	}()
	for b.Loop() {
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				body, ct := attStreamBody(form, size)
				req := httptest.NewRequest("POST", "/en/report", body)
				req.Header.Set("Content-Type", ct)
				rec := httptest.NewRecorder()
				e.Handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `id="receipt"`) {
					b.Errorf("upload: status %d", rec.Code)
				}
			})
		}
		wg.Wait()
	}
	close(stop)
	peak := <-peakc
	b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
	b.ReportMetric(float64(base.HeapInuse)/(1<<20), "base-MiB")
	b.ReportMetric(float64(peak-min(peak, base.HeapInuse))/(1<<20), "growth-MiB")
}

// Four attackers post five 9 MiB PDFs each with an invented captcha at
// the same time, the wrong-captcha flood of issue 8. Every request must
// be refused with 422; the database and its -wal must not grow
// (db-growth-B) and no image is decoded. ns/op is one round of four.
func BenchmarkUploadWrongCaptcha4x5x9MiB(b *testing.B) {
	e := newEnv(b, options{Params: vault.Params{Time: 1, MemoryKiB: 64, Threads: 1}})
	form := validReport("Flut")
	form.Set("captcha_id", "invented")
	form.Set("captcha_solution", "123456")
	before, decodes := upDiskSizes(b, e), reporting.ImageDecodes()
	for b.Loop() {
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				pr, pw := io.Pipe()
				mw := multipart.NewWriter(pw)
				go func() {
					for k, vs := range form {
						for _, v := range vs {
							mw.WriteField(k, v)
						}
					}
					chunk := bytes.Repeat([]byte("% "+attPDFMarker+"\n"), 32<<10/(len(attPDFMarker)+3))
					for i := range 5 {
						w, _ := mw.CreateFormFile("attachments", strconv.Itoa(i)+".pdf")
						w.Write([]byte("%PDF-1.7\n"))
						for left := 9 << 20; left > 0; left -= len(chunk) {
							if _, err := w.Write(chunk[:min(left, len(chunk))]); err != nil {
								pw.CloseWithError(err)
								return
							}
						}
					}
					pw.CloseWithError(mw.Close())
				}()
				req := httptest.NewRequest("POST", "/en/report", pr)
				req.Header.Set("Content-Type", mw.FormDataContentType())
				rec := httptest.NewRecorder()
				e.Handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusUnprocessableEntity {
					b.Errorf("status %d, want 422", rec.Code)
				}
			})
		}
		wg.Wait()
	}
	after := upDiskSizes(b, e)
	b.ReportMetric(float64(after[0]+after[1]-before[0]-before[1]), "db-growth-B")
	b.ReportMetric(float64(reporting.ImageDecodes()-decodes), "decodes")
	b.SetBytes(4 * 5 * 9 << 20)
}
