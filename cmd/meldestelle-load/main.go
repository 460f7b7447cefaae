// Command meldestelle-load measures how Meldestelle holds under the floods
// of issue 8: memory, disk writes and CPU of the server, and whether an
// office login and a legitimate report still get through meanwhile.
//
// Run it from the repository (it needs no network and no data):
//
//	go run ./cmd/meldestelle-load                          # all scenarios, 60 s each
//	go run ./cmd/meldestelle-load -duration 20s            # a quick run
//	go run ./cmd/meldestelle-load -scenarios getflood -duration 10m
//	go run ./cmd/meldestelle-load -scenarios formpage -duration 40s
//	go run ./cmd/meldestelle-load -json results.json       # the table, and JSON too
//
// For each scenario it starts itself again as a child server process (the
// hidden -child mode): the real server wired as `meldestelle serve` wires
// it, with the production argon2id parameters, on a fresh temporary data
// directory, listening on 127.0.0.1 only. The child also opens a second
// loopback listener, a measuring-only side channel through which the tool
// reads the digits of each captcha (the way a person reads the picture:
// the captcha stays on) and the child's Go runtime counters, and a third,
// a bare gin engine for the formpage scenario.
//
// Each scenario first measures the anchor: the median of a few office
// logins and a few legitimate reports on the idle server. Then it floods
// the server for -duration (or until -max-requests requests) while, every
// -probe-every, one office login and one legitimate report are timed:
//
//   - submit: -conns (200) connections submit text-only reports with a
//     solved captcha.
//   - getflood: -conns (64) connections fetch GET /de/ and the captcha PNG.
//   - wrongcaptcha: -conns (8) connections post multipart forms with a
//     wrong captcha (captcha fields first) and five files of -file-kib
//     each: four PDFs and one 16-bit PNG of -png-side² pixels. The bytes
//     the child writes are measured over the first half, before any probe
//     runs; the probes (whose report carries a small photo) run in the
//     second half.
//   - formpage: -conns (16) keep-alive connections fetch GET /de/, each
//     page read in full and discarded, from the real server and from a
//     bare gin engine (gin.New(), one route, c.Data) that the child
//     serves the bytes of one real GET /de/ from, alternately in 8 rounds
//     of -duration/8, half a round each, which goes first alternating:
//     whatever else loads the machine meets both alike. It reports both
//     throughputs and the ratio server/bare, the median of the rounds'
//     ratios and overall (issue 8, item 6: goal ≥ 0.5), and how many of
//     the captcha IDs sampled from the real pages were distinct, which
//     proves the flood measured the real page. No anchor, no probes:
//     their argon2id would slow one round and not the other.
//
// The probes run one at a time: a login that takes 20 s is one sample, not
// ten piled up; a probe still running when the flood ends finishes (within
// two minutes) and counts. Latencies are given absolute and as ratios to
// the anchor of the same child (the machine is shared; absolute times
// drift), memory as peak RSS (VmHWM, reset after the anchor) and the
// largest VmRSS sampled every 100 ms. For wrongcaptcha, the heap the child
// allocated in the flood-only half is compared with what decoding one of
// the PNGs needs (-png-side² × 8 bytes): less proves nothing was decoded.
// The last row says which of issue 8's goals the run met (RSS ≤ 256 MiB,
// every login ≤ 2 s, every report through, 0 bytes written, no decoding,
// GET /de/ ≥ 0.5× bare gin).
// All traffic goes to loopback; every scenario ends by itself.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	// The child mode is hidden: it is how the tool runs the server it
	// measures, not something a person calls.
	if len(os.Args) > 1 && os.Args[1] == childFlag {
		os.Exit(runChild(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// config is the validated configuration of one run.
type config struct {
	scenarios      []string
	duration       time.Duration
	conns          int // 0: the scenario's default
	maxRequests    int64
	probeEvery     time.Duration
	anchorN        int
	fileKiB        int
	pngSide        int
	kdfConcurrency int
	jsonPath       string
	exe            string // the binary started with -child
}

// scenarioDefaults are the connections of each scenario when -conns is 0.
var scenarioDefaults = map[string]int{"submit": 200, "getflood": 64, "wrongcaptcha": 8, "formpage": 16}

var scenarioOrder = []string{"submit", "getflood", "wrongcaptcha", "formpage"}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "meldestelle-load:", err)
		return 2
	}
	results, err := runAll(ctx, cfg, stderr)
	if len(results) > 0 {
		if cfg.jsonPath != "-" {
			writeTable(stdout, cfg, results)
		}
		if cfg.jsonPath != "" {
			if jerr := writeJSON(cfg.jsonPath, stdout, results); jerr != nil && err == nil {
				err = jerr
			}
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "meldestelle-load:", err)
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("meldestelle-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	scenarios := fs.String("scenarios", strings.Join(scenarioOrder, ","), "comma-separated scenarios: submit, getflood, wrongcaptcha, formpage")
	fs.DurationVar(&c.duration, "duration", 60*time.Second, "flood time of each scenario (at most 30m)")
	fs.IntVar(&c.conns, "conns", 0, "flood connections; 0 = the scenario's default (submit 200, getflood 64, wrongcaptcha 8, formpage 16)")
	fs.Int64Var(&c.maxRequests, "max-requests", 5_000_000, "flood requests of each scenario at most")
	fs.DurationVar(&c.probeEvery, "probe-every", 2*time.Second, "interval of the login and report probes during a flood")
	fs.IntVar(&c.anchorN, "anchor-n", 5, "idle logins and reports whose median is the anchor")
	fs.IntVar(&c.fileKiB, "file-kib", 9*1024, "size of each wrongcaptcha file in KiB")
	fs.IntVar(&c.pngSide, "png-side", 6000, "width and height of the wrongcaptcha 16-bit PNG")
	fs.IntVar(&c.kdfConcurrency, "kdf-concurrency", 0, "passed to the child: argon2id derivations at once; 0 = number of CPUs")
	fs.StringVar(&c.jsonPath, "json", "", "also write the results as JSON to this file; - = JSON on standard output instead of the table")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	for s := range strings.SplitSeq(*scenarios, ",") {
		s = strings.TrimSpace(s)
		if _, ok := scenarioDefaults[s]; !ok {
			return c, fmt.Errorf("unknown scenario %q (submit, getflood, wrongcaptcha, formpage)", s)
		}
		c.scenarios = append(c.scenarios, s)
	}
	// Bounded in time and count: a forgotten run must not load a shared
	// machine for hours.
	switch {
	case c.duration <= 0 || c.duration > 30*time.Minute:
		return c, errors.New("-duration must be between 0 and 30m")
	case c.maxRequests < 1:
		return c, errors.New("-max-requests must be at least 1")
	case c.conns < 0 || c.conns > 1000:
		return c, errors.New("-conns must be between 0 and 1000")
	case c.probeEvery < 100*time.Millisecond:
		return c, errors.New("-probe-every must be at least 100ms")
	case c.anchorN < 1 || c.anchorN > 50:
		return c, errors.New("-anchor-n must be between 1 and 50")
	case c.fileKiB < 1 || c.fileKiB > 10*1024:
		return c, errors.New("-file-kib must be between 1 and 10240 (the attachment limit)")
	case c.pngSide < 16 || c.pngSide > 10000:
		return c, errors.New("-png-side must be between 16 and 10000")
	}
	exe, err := os.Executable()
	if err != nil {
		return c, fmt.Errorf("own executable: %w", err)
	}
	c.exe = exe
	return c, nil
}

// runAll runs the scenarios one after the other, each against a fresh
// child, and returns the results of those that ran.
func runAll(ctx context.Context, cfg config, progress io.Writer) ([]result, error) {
	var results []result
	for _, name := range cfg.scenarios {
		if ctx.Err() != nil {
			return results, ctx.Err()
		}
		fmt.Fprintf(progress, "meldestelle-load: %s for %s …\n", name, cfg.duration)
		r, err := runScenario(ctx, cfg, name)
		if err != nil {
			return results, fmt.Errorf("%s: %w", name, err)
		}
		results = append(results, r)
	}
	return results, nil
}

func writeJSON(path string, stdout io.Writer, results []result) error {
	b, err := json.MarshalIndent(results, "", "  ")
	if err != nil {
		return fmt.Errorf("json: %w", err)
	}
	b = append(b, '\n')
	if path == "-" {
		_, err = stdout.Write(b)
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("json: %w", err)
	}
	return nil
}
