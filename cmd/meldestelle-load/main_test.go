package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	// The tool starts its own binary with -child; under `go test` that
	// binary is this test binary, which must then be the server.
	if len(os.Args) > 1 && os.Args[1] == childFlag {
		os.Exit(runChild(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// A tiny run of every scenario against a real child server ends by
// itself and reports numbers an operator could act on: requests were
// served, the office login and the legitimate report went through during
// the flood, memory was measured, a wrong captcha never got a receipt,
// and the form page was measured against a bare gin engine on the real
// page, each with a fresh captcha.
func TestToolMeasuresEveryScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four servers with production argon2id")
	}
	jsonPath := filepath.Join(t.TempDir(), "results.json")
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), budget*time.Minute)
	defer cancel()
	code := run(ctx, []string{
		"-duration", "1s", "-conns", "4", "-anchor-n", "1", "-probe-every", "1s",
		"-file-kib", "64", "-png-side", "300", "-max-requests", "200000", "-json", jsonPath,
	}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	table := stdout.String()
	for _, want := range []string{"| measurement | `submit` | `getflood` | `wrongcaptcha` | `formpage` |", "GET /de/ ≥ 0.5× bare gin: ", "**peak RSS** (VmHWM)", "**office login** ok / tried", "| issue 8 goals met? |"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rs []result
	if err := json.Unmarshal(b, &rs); err != nil {
		t.Fatal(err)
	}
	if len(rs) != 4 {
		t.Fatalf("%d results, want 4:\n%s", len(rs), b)
	}
	for _, r := range rs {
		// Not compared with each other: the kernel updates VmHWM lazily,
		// so a sample can exceed it by a few pages.
		if r.PeakRSS <= 0 || r.MaxSampled <= 0 {
			t.Errorf("%s: peak RSS %d, sampled %d", r.Scenario, r.PeakRSS, r.MaxSampled)
		}
		if r.CPUSeconds <= 0 {
			t.Errorf("%s: child CPU %v s", r.Scenario, r.CPUSeconds)
		}
	}
	for _, r := range rs[:3] {
		// Started, not answered: on a busy machine a second can pass
		// before the first upload is answered.
		if r.Started <= 0 || r.Requests+r.Cut > r.Started {
			t.Errorf("%s: %d flood requests started, %d answered, %d cut", r.Scenario, r.Started, r.Requests, r.Cut)
		}
		if r.Login.OK < 1 || r.Login.OK != r.Login.N {
			t.Errorf("%s: logins %d of %d went through (%s)", r.Scenario, r.Login.OK, r.Login.N, r.Login.Err)
		}
		if r.Report.OK < 1 || r.Report.OK != r.Report.N {
			t.Errorf("%s: reports %d of %d went through (%s)", r.Scenario, r.Report.OK, r.Report.N, r.Report.Err)
		}
		if r.AnchorLogin <= 0 || r.AnchorRep <= 0 || r.Login.MedianX <= 0 {
			t.Errorf("%s: anchor %v ms / %v ms, login ratio %v", r.Scenario, r.AnchorLogin, r.AnchorRep, r.Login.MedianX)
		}
	}
	// The flood's own reports are not counted on: in one second on a busy
	// machine, argon2id may finish none before the flood is cut off. The
	// legitimate report above must, however.
	if rs[0].Statuses["form 200"] < 1 {
		t.Errorf("submit: the flood fetched no form: %v", rs[0].Statuses)
	}
	if rs[1].Requests <= 0 {
		t.Errorf("getflood: no request answered: %v", rs[1].Statuses)
	}
	wrong := rs[2]
	if wrong.Statuses["upload 200"] != 0 {
		t.Errorf("wrongcaptcha: a wrong captcha got %d answers 200: %v", wrong.Statuses["upload 200"], wrong.Statuses)
	}
	if wrong.Window == nil || wrong.Window.Seconds <= 0 {
		t.Errorf("wrongcaptcha: no flood-only window: %+v", wrong.Window)
	}

	// formpage: every round flooded both, every page came back whole, and
	// the server's pages were the real ones: a fresh captcha each time.
	// The ratio itself is timing and not checked here.
	fp := rs[3].FormPage
	if fp == nil {
		t.Fatalf("formpage: no form page result: %+v", rs[3])
	}
	if rs[3].Unexpected != 0 {
		t.Errorf("formpage: %d unexpected answers: %v", rs[3].Unexpected, rs[3].Statuses)
	}
	if len(fp.Rounds) != formRounds {
		t.Errorf("formpage: %d rounds, want %d", len(fp.Rounds), formRounds)
	}
	for i, rd := range fp.Rounds {
		if rd.Server.Requests <= 0 || rd.Bare.Requests <= 0 || rd.Ratio <= 0 {
			t.Errorf("formpage round %d: %+v", i, rd)
		}
		if rd.ServerFirst == (i%2 == 1) {
			t.Errorf("formpage round %d: server first %t, the order must alternate", i, rd.ServerFirst)
		}
	}
	if fp.ServerRPS <= 0 || fp.BareRPS <= 0 || fp.MedianRatio <= 0 || fp.PageBytes < 1000 {
		t.Errorf("formpage: %+v", fp)
	}
	if fp.IDsSampled < 2 || fp.IDsDistinct != fp.IDsSampled {
		t.Errorf("formpage: %d distinct captcha IDs of %d sampled: the server's pages were not each a fresh form", fp.IDsDistinct, fp.IDsSampled)
	}
}

// Flags that would let a run grow without bound are refused.
func TestFlagsBoundTheRun(t *testing.T) {
	for _, args := range [][]string{
		{"-duration", "0s"},
		{"-duration", "2h"},
		{"-max-requests", "0"},
		{"-scenarios", "submit,everything"},
		{"-conns", "5000"},
	} {
		if _, err := parseFlags(args, &bytes.Buffer{}); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	cfg, err := parseFlags(nil, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.duration != time.Minute || len(cfg.scenarios) != 4 || cfg.maxRequests <= 0 {
		t.Errorf("defaults: %+v", cfg)
	}
}
