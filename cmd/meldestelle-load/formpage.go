package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// formRounds is how many round pairs the formpage scenario runs: each
// round floods the real server and the bare gin engine for half a round
// each, the order alternating, so that whatever else loads the machine
// meets both alike.
const formRounds = 8

// formPage is what the formpage scenario measured (issue 8, item 6):
// GET /de/ of the real server against a bare gin engine that serves the
// bytes of one such page, in the same run.
type formPage struct {
	PageBytes int         `json:"page_bytes"`
	Rounds    []formRound `json:"rounds"`
	// Over all rounds: requests answered as expected / seconds flooded.
	ServerRPS float64 `json:"server_rps"`
	BareRPS   float64 `json:"bare_rps"`
	Ratio     float64 `json:"ratio"` // ServerRPS / BareRPS
	// MedianRatio is the median of the rounds' ratios: a round in which
	// another process took the cores counts as one round, not as a
	// slower server.
	MedianRatio float64 `json:"median_ratio"`
	// The captcha IDs of the first page each connection fetched from the
	// real server in each round: all distinct proves that the flood
	// measured the real page, a fresh captcha per request.
	IDsSampled  int `json:"captcha_ids_sampled"`
	IDsDistinct int `json:"captcha_ids_distinct"`
}

// GoalMet reports whether the run met item 6's goal: the real server at
// least half as fast as the bare engine, measured on the real page.
func (p *formPage) GoalMet() bool {
	return len(p.Rounds) == formRounds && p.MedianRatio >= 0.5 && p.IDsSampled > 1 && p.IDsDistinct == p.IDsSampled
}

// formRound is one round pair.
type formRound struct {
	ServerFirst bool      `json:"server_first"`
	Server      formPhase `json:"server"`
	Bare        formPhase `json:"bare"`
	Ratio       float64   `json:"ratio"` // server/bare requests per second
}

// formPhase is one half of a round: one target flooded alone.
type formPhase struct {
	Requests int64   `json:"requests"` // answered 200 with a page of the expected size
	Seconds  float64 `json:"seconds"`  // until the last request of the phase was answered
}

func (p formPhase) rps() float64 { return float64(p.Requests) / max(p.Seconds, 1e-9) }

// runFormPage floods GET /de/ of the real server and of the bare gin
// engine, alternately, in formRounds rounds that share the duration and
// f's budget. Both keep their own keep-alive connections across rounds,
// so that a round measures pages, not connection setup.
func runFormPage(ctx context.Context, t *target, f *flood, conns int, duration time.Duration) (*formPage, error) {
	f.byStatus = map[string]int64{}
	// The bare page: its size is what every answer of either must have
	// (captcha IDs are of one length), and it must be the form.
	status, page, err := do(ctx, t.sideClient, "GET", t.bare+"/de/", "", nil)
	if err == nil && status != http.StatusOK {
		err = errStatus(status)
	}
	if err != nil {
		return nil, fmt.Errorf("bare gin page: %w", err)
	}
	if !captchaIDPattern.Match(page) {
		return nil, errors.New("bare gin page: no captcha on it")
	}
	fp := &formPage{PageBytes: len(page)}
	server, bare := newClient(conns), newClient(conns)
	defer server.CloseIdleConnections()
	defer bare.CloseIdleConnections()

	var mu sync.Mutex
	var ids []string
	sample := func(body []byte) {
		m := captchaIDPattern.FindSubmatch(body)
		mu.Lock()
		defer mu.Unlock()
		if m == nil {
			ids = append(ids, "") // counted as sampled, never as distinct
			return
		}
		ids = append(ids, string(m[1]))
	}

	half := duration / (2 * formRounds)
	// A warm-up, not counted: the connections, the page buffers and the
	// captcha store reach their working size before the first round.
	warm := min(half, time.Second)
	f.phase(ctx, server, conns, "warm-up server", t.base+"/de/", warm, len(page), nil)
	f.phase(ctx, bare, conns, "warm-up bare", t.bare+"/de/", warm, len(page), nil)

	var serverSum, bareSum formPhase
	var ratios []float64
	for i := range formRounds {
		if ctx.Err() != nil || f.exhausted.Load() {
			break
		}
		r := formRound{ServerFirst: i%2 == 0}
		runServer := func() { r.Server = f.phase(ctx, server, conns, "server", t.base+"/de/", half, len(page), sample) }
		runBare := func() { r.Bare = f.phase(ctx, bare, conns, "bare", t.bare+"/de/", half, len(page), nil) }
		if r.ServerFirst {
			runServer()
			runBare()
		} else {
			runBare()
			runServer()
		}
		// A round the budget or a cancellation cut short compares unequal
		// halves; it is not counted.
		if ctx.Err() != nil || f.exhausted.Load() {
			break
		}
		if r.Bare.Requests > 0 {
			r.Ratio = r.Server.rps() / r.Bare.rps()
		}
		fp.Rounds = append(fp.Rounds, r)
		ratios = append(ratios, r.Ratio)
		serverSum.Requests += r.Server.Requests
		serverSum.Seconds += r.Server.Seconds
		bareSum.Requests += r.Bare.Requests
		bareSum.Seconds += r.Bare.Seconds
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if len(ratios) > 0 {
		slices.Sort(ratios)
		fp.MedianRatio = ratios[len(ratios)/2]
	}
	fp.ServerRPS, fp.BareRPS = serverSum.rps(), bareSum.rps()
	if fp.BareRPS > 0 {
		fp.Ratio = fp.ServerRPS / fp.BareRPS
	}
	fp.IDsSampled = len(ids)
	distinct := map[string]bool{}
	for _, id := range ids {
		if id != "" {
			distinct[id] = true
		}
	}
	fp.IDsDistinct = len(distinct)
	return fp, nil
}

// phase floods url with conns workers for d and returns how many pages
// came back as expected: status 200 and pageLen bytes, read in full. A
// worker starts no request after d, but lets the one it has running
// finish: cancelling it would close its keep-alive connection, and the
// next round would measure connection setup. sample, if not nil, gets the
// body of each worker's first page.
func (f *flood) phase(ctx context.Context, client *http.Client, conns int, kind, url string, d time.Duration, pageLen int, sample func([]byte)) formPhase {
	var ok atomic.Int64
	start := time.Now()
	stop := start.Add(d)
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			w := &worker{f: f, client: client, counts: map[string]int64{}}
			keep := sample != nil
			for ctx.Err() == nil && time.Now().Before(stop) && w.take() {
				status, body, n, err := getPage(ctx, client, url, keep)
				good := err == nil && status == http.StatusOK && n == int64(pageLen)
				w.record(ctx, kind, status, err, good)
				if good {
					ok.Add(1)
				}
				if keep && err == nil {
					sample(body)
				}
				keep = false
			}
			f.mu.Lock()
			for k, v := range w.counts {
				f.byStatus[k] += v
			}
			f.mu.Unlock()
		})
	}
	wg.Wait()
	return formPhase{Requests: ok.Load(), Seconds: time.Since(start).Seconds()}
}

// getPage sends one GET and reads the whole answer, as a browser would,
// but keeps it only when asked to: the flood counts the bytes and
// discards them.
func getPage(ctx context.Context, c *http.Client, url string, keep bool) (status int, body []byte, n int64, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, 0, err
	}
	defer resp.Body.Close()
	if keep {
		body, err = io.ReadAll(resp.Body)
		return resp.StatusCode, body, int64(len(body)), err
	}
	n, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil, n, err
}
