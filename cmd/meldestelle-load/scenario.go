package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// result is what one scenario measured. Durations are in milliseconds,
// sizes in bytes.
type result struct {
	Scenario    string           `json:"scenario"`
	Conns       int              `json:"conns"`
	DurationS   float64          `json:"duration_s"`      // the flood's actual length
	StoppedBy   string           `json:"stopped_by"`      // "time" or "count"
	Started     int64            `json:"started"`         // flood requests sent
	Requests    int64            `json:"requests"`        // flood requests answered or failed (not those cut off at the end)
	Cut         int64            `json:"cut"`             // flood requests still running when the flood ended
	Unexpected  int64            `json:"unexpected"`      // flood answers other than the scenario expects
	Accepted    int64            `json:"accepted"`        // submit: reports that got a receipt
	Statuses    map[string]int64 `json:"answers"`         // flood answers by kind and status
	AnchorLogin float64          `json:"anchor_login_ms"` // median of idle logins
	AnchorRep   float64          `json:"anchor_report_ms"`
	Login       probeStats       `json:"login"`
	Report      probeStats       `json:"report"`

	RSSBefore  int64 `json:"rss_before"` // VmRSS after the anchor, before the flood
	PeakRSS    int64 `json:"peak_rss"`   // VmHWM, reset after the anchor
	MaxSampled int64 `json:"max_rss_sampled"`
	// MemoryLimit is the child's Go memory limit (math.MaxInt64: none).
	MemoryLimit int64 `json:"memory_limit"`

	WriteBytes int64   `json:"write_bytes"`    // /proc/PID/io write_bytes delta over the flood
	DirDelta   int64   `json:"data_dir_delta"` // data directory size delta over the flood
	CPUSeconds float64 `json:"cpu_seconds"`    // utime+stime delta over the flood
	// AllocPerReq is the heap the child allocated per flood request
	// started (a request cut off at the end has cost the child too).
	AllocPerReq int64 `json:"alloc_per_request"`

	// Window is set for wrongcaptcha: the first half of the flood, before
	// any probe ran, when only the wrong-captcha uploads reach the child.
	Window *window `json:"flood_only_window,omitempty"`

	// FormPage is set for formpage: the real form page against a bare gin
	// engine serving its bytes.
	FormPage *formPage `json:"formpage,omitempty"`
}

// window is what the child wrote while only the flood ran.
type window struct {
	Seconds    float64 `json:"seconds"`
	Started    int64   `json:"started"` // uploads sent so far
	WriteBytes int64   `json:"write_bytes"`
	DirDelta   int64   `json:"data_dir_delta"`
	// HeapAlloc is the heap the child allocated in the window. Decoding
	// the flood's PNG once allocates at least DecodedPNG bytes, so a
	// smaller HeapAlloc proves that no upload was decoded.
	HeapAlloc  int64 `json:"heap_alloc"`
	DecodedPNG int64 `json:"decoded_png"`
}

// NoDecoding reports whether the window's allocations rule out even one
// decoded flood PNG.
func (w *window) NoDecoding() bool { return w.HeapAlloc < w.DecodedPNG }

// probeStats summarises the timed logins or reports during a flood.
type probeStats struct {
	N        int     `json:"n"`
	OK       int     `json:"ok"`
	MedianMs float64 `json:"median_ms"`
	MaxMs    float64 `json:"max_ms"`
	// Ratios to the anchor of the same child.
	MedianX float64 `json:"median_x_anchor"`
	MaxX    float64 `json:"max_x_anchor"`
	Err     string  `json:"first_error,omitempty"`
}

// runScenario starts a child, measures the anchor, floods and probes,
// and stops the child. formpage neither measures an anchor nor probes:
// its number is a throughput, and a login's argon2id would take the cores
// from one round and not from the other.
func runScenario(ctx context.Context, cfg config, name string) (result, error) {
	r := result{Scenario: name, Conns: cfg.conns}
	if r.Conns == 0 {
		r.Conns = scenarioDefaults[name]
	}
	var files []upload // wrongcaptcha's five files, made before the child runs
	if name == "wrongcaptcha" {
		files = floodUploads(cfg.fileKiB<<10, cfg.pngSide)
	}
	child, err := startChild(ctx, cfg)
	if err != nil {
		return r, err
	}
	defer child.stop()
	t := newTarget(child)
	probeClient := newClient(2)

	// The anchor: the same child, idle, just before the flood.
	var photo []upload
	if name == "wrongcaptcha" {
		photo = []upload{{name: "foto.png", contentType: "image/png", data: smallPhoto()}}
	}
	formpage := name == "formpage"
	var loginAnchor, reportAnchor time.Duration
	if !formpage {
		loginAnchor, reportAnchor, err = anchor(ctx, t, probeClient, cfg.anchorN, photo)
		if err != nil {
			return r, fmt.Errorf("anchor: %w\n%s", err, child.logs.String())
		}
		r.AnchorLogin, r.AnchorRep = ms(loginAnchor), ms(reportAnchor)
	}

	if r.RSSBefore, err = procStatus(child.pid, "VmRSS"); err != nil {
		return r, err
	}
	if err := resetPeakRSS(child.pid); err != nil {
		return r, err
	}
	before, err := readUse(ctx, t, child)
	if err != nil {
		return r, err
	}
	r.MemoryLimit = before.stats.MemoryLimit
	sampler := sampleRSS(child.pid, 100*time.Millisecond)

	// The flood and the probes.
	start := time.Now()
	floodCtx, cancel := context.WithTimeout(ctx, cfg.duration)
	defer cancel()
	f := &flood{budget: cfg.maxRequests}
	probeStart := min(cfg.probeEvery/2, cfg.duration/4)
	var win *window
	var winErr error
	var winDone sync.WaitGroup
	if name == "wrongcaptcha" {
		// Probes only in the second half, so that the first half shows
		// what the wrong-captcha uploads alone cost on disk.
		probeStart = cfg.duration / 2
		winDone.Go(func() {
			select {
			case <-time.After(probeStart):
			case <-floodCtx.Done():
			}
			var mid use
			if mid, winErr = readUse(ctx, t, child); winErr == nil {
				win = &window{Seconds: time.Since(start).Seconds(), Started: f.started.Load(),
					WriteBytes: mid.io.WriteBytes - before.io.WriteBytes, DirDelta: mid.dir - before.dir,
					HeapAlloc: int64(mid.stats.HeapAllocBytes - before.stats.HeapAllocBytes), DecodedPNG: int64(cfg.pngSide) * int64(cfg.pngSide) * 8}
			}
		})
	}
	var logins, reports []probe
	var probes sync.WaitGroup
	if formpage {
		// Bounded by its rounds, not by floodCtx: the warm-up comes on
		// top of the duration.
		if r.FormPage, err = runFormPage(ctx, t, f, r.Conns, cfg.duration); err != nil {
			sampler.Stop()
			return r, fmt.Errorf("%w\n%s", err, child.logs.String())
		}
	} else {
		probes.Go(func() {
			logins = probeLoop(floodCtx, ctx, probeStart, cfg.probeEvery, func(pctx context.Context) error { return t.login(pctx, probeClient) })
		})
		probes.Go(func() {
			reports = probeLoop(floodCtx, ctx, probeStart, cfg.probeEvery, func(pctx context.Context) error { return t.report(pctx, probeClient, photo) })
		})
		f.run(floodCtx, r.Conns, floodWork(name, t, files))
	}
	r.DurationS = time.Since(start).Seconds()
	probes.Wait()
	winDone.Wait()

	// Measure before anything else touches the child.
	r.MaxSampled = sampler.Stop()
	if r.PeakRSS, err = procStatus(child.pid, "VmHWM"); err != nil {
		return r, err
	}
	after, err := readUse(ctx, t, child)
	if err != nil {
		return r, err
	}
	if winErr != nil {
		return r, winErr
	}
	r.CPUSeconds = after.cpu - before.cpu
	r.WriteBytes = after.io.WriteBytes - before.io.WriteBytes
	r.DirDelta = after.dir - before.dir
	r.Window = win
	r.Started, r.Requests, r.Cut = f.started.Load(), f.requests.Load(), f.cut.Load()
	r.Unexpected, r.Accepted = f.unexpected.Load(), f.accepted.Load()
	r.Statuses = f.statuses()
	if r.Started > 0 {
		r.AllocPerReq = int64(after.stats.HeapAllocBytes-before.stats.HeapAllocBytes) / r.Started
	}
	r.StoppedBy = "time"
	if f.exhausted.Load() {
		r.StoppedBy = "count"
	}
	r.Login = summarise(logins, loginAnchor)
	r.Report = summarise(reports, reportAnchor)
	return r, nil
}

// use is what the child has used up to a moment: bytes written to disk,
// the size of its data directory, CPU seconds and its runtime's counters.
type use struct {
	io    procIO
	dir   int64
	cpu   float64
	stats childStats
}

// readUse reads the child's use now; the flood's cost is the difference
// of two readings.
func readUse(ctx context.Context, t *target, child *childProc) (use, error) {
	var u use
	var errIO, errDir, errCPU, errStats error
	u.io, errIO = readProcIO(child.pid)
	u.dir, errDir = dirSize(child.dir)
	u.cpu, errCPU = cpuSeconds(child.pid)
	u.stats, errStats = t.stats(ctx)
	return u, errors.Join(errIO, errDir, errCPU, errStats)
}

// anchor returns the median of n idle logins and n idle reports; from
// n = 3 on, one more of each runs first to warm up and is not counted.
func anchor(ctx context.Context, t *target, c *http.Client, n int, files []upload) (login, report time.Duration, err error) {
	warm := 0
	if n >= 3 {
		warm = 1
	}
	var ls, rs []time.Duration
	for i := range n + warm {
		start := time.Now()
		if err := t.login(ctx, c); err != nil {
			return 0, 0, err
		}
		if i >= warm {
			ls = append(ls, time.Since(start))
		}
	}
	for i := range n + warm {
		start := time.Now()
		if err := t.report(ctx, c, files); err != nil {
			return 0, 0, err
		}
		if i >= warm {
			rs = append(rs, time.Since(start))
		}
	}
	return median(ls), median(rs), nil
}

// probe is one timed login or report.
type probe struct {
	took time.Duration
	err  error
}

// probeLoop runs do every interval from first on, one at a time, until
// floodCtx ends; a probe still running then finishes (under ctx, with a
// limit of two minutes), so its time counts. At least one probe runs.
func probeLoop(floodCtx, ctx context.Context, first, every time.Duration, do func(context.Context) error) []probe {
	var out []probe
	next := time.Now().Add(first)
	for {
		select {
		case <-time.After(time.Until(next)):
		case <-floodCtx.Done():
			if len(out) > 0 {
				return out
			}
		}
		pctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		start := time.Now()
		err := do(pctx)
		out = append(out, probe{took: time.Since(start), err: err})
		cancel()
		if floodCtx.Err() != nil || ctx.Err() != nil {
			return out
		}
		next = next.Add(every)
	}
}

func summarise(ps []probe, anchor time.Duration) probeStats {
	s := probeStats{N: len(ps)}
	var ok []time.Duration
	for _, p := range ps {
		if p.err != nil {
			if s.Err == "" {
				s.Err = p.err.Error()
			}
			continue
		}
		ok = append(ok, p.took)
	}
	s.OK = len(ok)
	if len(ok) == 0 {
		return s
	}
	s.MedianMs, s.MaxMs = ms(median(ok)), ms(slices.Max(ok))
	if anchor > 0 {
		s.MedianX = float64(median(ok)) / float64(anchor)
		s.MaxX = float64(slices.Max(ok)) / float64(anchor)
	}
	return s
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// flood runs workers that share one budget of requests.
type flood struct {
	budget     int64
	issued     atomic.Int64
	started    atomic.Int64
	requests   atomic.Int64
	cut        atomic.Int64
	unexpected atomic.Int64
	accepted   atomic.Int64
	exhausted  atomic.Bool
	mu         sync.Mutex
	byStatus   map[string]int64
}

// worker is one flood connection's loop state.
type worker struct {
	f      *flood
	client *http.Client
	counts map[string]int64
}

// take reserves one request of the budget; false when it is used up.
func (w *worker) take() bool {
	if w.f.issued.Add(1) > w.f.budget {
		w.f.exhausted.Store(true)
		return false
	}
	w.f.started.Add(1)
	return true
}

// record counts one request's outcome unless the flood's end cut it off.
func (w *worker) record(ctx context.Context, kind string, status int, err error, expected bool) {
	if err != nil && ctx.Err() != nil {
		w.f.cut.Add(1) // cut off by the end of the flood, not the server's doing
		return
	}
	key := kind + " " + strconv.Itoa(status)
	if err != nil && status == 0 {
		key = kind + " " + netClass(err)
	}
	w.counts[key]++
	w.f.requests.Add(1)
	if !expected {
		w.f.unexpected.Add(1)
	}
}

// workFunc is one iteration of a scenario's flood; it returns false to
// stop the worker.
type workFunc func(ctx context.Context, w *worker) bool

// run runs conns workers until ctx ends or the budget is used up. All
// workers share one client with conns connections.
func (f *flood) run(ctx context.Context, conns int, work workFunc) {
	f.byStatus = map[string]int64{}
	client := newClient(conns)
	defer client.CloseIdleConnections()
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			w := &worker{f: f, client: client, counts: map[string]int64{}}
			for ctx.Err() == nil && work(ctx, w) {
			}
			f.mu.Lock()
			for k, v := range w.counts {
				f.byStatus[k] += v
			}
			f.mu.Unlock()
		})
	}
	wg.Wait()
}

func (f *flood) statuses() map[string]int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.byStatus
}

// floodWork returns the loop of the named scenario.
func floodWork(name string, t *target, files []upload) workFunc {
	switch name {
	case "submit":
		// A solved captcha and a valid text-only report: each one runs
		// argon2id for its receipt.
		return func(ctx context.Context, w *worker) bool {
			if !w.take() {
				return false
			}
			id, status, err := t.form(ctx, w.client)
			w.record(ctx, "form", status, err, err == nil)
			if err != nil {
				return true
			}
			solution, err := t.solve(ctx, id)
			if err != nil {
				return true // the side channel failed: take a new form
			}
			if !w.take() {
				return false
			}
			body, ct := reportBody(id, solution, nil)
			status, ok, err := t.postReport(ctx, w.client, body, ct)
			w.record(ctx, "report", status, err, ok)
			if ok {
				w.f.accepted.Add(1)
			}
			return true
		}
	case "getflood":
		// What a crowd of page views does: the form and its captcha picture.
		return func(ctx context.Context, w *worker) bool {
			if !w.take() {
				return false
			}
			id, status, err := t.form(ctx, w.client)
			w.record(ctx, "form", status, err, err == nil)
			if err != nil {
				return true
			}
			if !w.take() {
				return false
			}
			status, err = t.captchaPNG(ctx, w.client, id)
			w.record(ctx, "png", status, err, err == nil && status == http.StatusOK)
			return true
		}
	default: // wrongcaptcha
		// An invented captcha ID and a wrong answer, then the files. A
		// refusal (4xx) is what the server should answer; a receipt would
		// be a captcha bypass.
		body, ct := reportBody("0123456789abcdefghij", "000000", files)
		return func(ctx context.Context, w *worker) bool {
			if !w.take() {
				return false
			}
			status, _, err := t.postReport(ctx, w.client, body, ct)
			w.record(ctx, "upload", status, err, err == nil && status >= 400 && status < 500)
			return true
		}
	}
}
