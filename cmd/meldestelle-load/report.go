package main

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strings"
	"time"
)

// writeTable prints the results as a markdown table: one column per
// scenario, one row per measurement.
func writeTable(w io.Writer, cfg config, rs []result) {
	fmt.Fprintf(w, "\nmeldestelle-load, %s, %d CPUs, %s; flood %s, probes every %s, anchor = median of %d idle logins / reports in the same child\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.NumCPU(), runtime.Version(), cfg.duration, cfg.probeEvery, cfg.anchorN)
	head := []string{"measurement"}
	sep := []string{"---"}
	for _, r := range rs {
		head = append(head, "`"+r.Scenario+"`")
		sep = append(sep, "---")
	}
	row := func(name string, cell func(r result) string) {
		cells := []string{name}
		for _, r := range rs {
			cells = append(cells, cell(r))
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
	fmt.Fprintf(w, "| %s |\n| %s |\n", strings.Join(head, " | "), strings.Join(sep, " | "))
	row("connections", func(r result) string { return fmt.Sprint(r.Conns) })
	row("flood time (stopped by)", func(r result) string { return fmt.Sprintf("%.1f s (%s)", r.DurationS, r.StoppedBy) })
	row("flood requests answered (per s) / started / cut at the end", func(r result) string {
		return fmt.Sprintf("%d (%.0f/s) / %d / %d", r.Requests, float64(r.Requests)/max(r.DurationS, 0.001), r.Started, r.Cut)
	})
	row("answers", func(r result) string { return statusCell(r.Statuses) })
	row("unexpected answers", func(r result) string { return fmt.Sprint(r.Unexpected) })
	row("reports accepted by the flood", func(r result) string {
		if r.Scenario != "submit" {
			return "–"
		}
		return fmt.Sprint(r.Accepted)
	})
	row("**peak RSS** (VmHWM)", func(r result) string { return "**" + mib(r.PeakRSS) + "**" })
	row("max sampled VmRSS (every 100 ms)", func(r result) string { return mib(r.MaxSampled) })
	row("RSS before the flood", func(r result) string { return mib(r.RSSBefore) })
	row("Go memory limit of the child", func(r result) string {
		if r.MemoryLimit == math.MaxInt64 {
			return "none"
		}
		return mib(r.MemoryLimit)
	})
	// formpage has no anchor and no probes: its rows say so.
	probed := func(cell func(r result) string) func(r result) string {
		return func(r result) string {
			if r.FormPage != nil {
				return "–"
			}
			return cell(r)
		}
	}
	row("anchor: idle login / idle report", probed(func(r result) string {
		return fmt.Sprintf("%.0f ms / %.0f ms", r.AnchorLogin, r.AnchorRep)
	}))
	row("**office login** ok / tried", probed(func(r result) string { return fmt.Sprintf("**%d / %d**", r.Login.OK, r.Login.N) }))
	row("login median (× anchor)", probed(func(r result) string { return latency(r.Login.MedianMs, r.Login.MedianX, r.Login.OK) }))
	row("**login max** (× anchor)", probed(func(r result) string { return "**" + latency(r.Login.MaxMs, r.Login.MaxX, r.Login.OK) + "**" }))
	row("**legitimate report** ok / tried", probed(func(r result) string { return fmt.Sprintf("**%d / %d**", r.Report.OK, r.Report.N) }))
	row("report median (× anchor)", probed(func(r result) string { return latency(r.Report.MedianMs, r.Report.MedianX, r.Report.OK) }))
	row("report max (× anchor)", probed(func(r result) string { return latency(r.Report.MaxMs, r.Report.MaxX, r.Report.OK) }))
	// formpage's own rows.
	page := func(cell func(p *formPage) string) func(r result) string {
		return func(r result) string {
			if r.FormPage == nil {
				return "–"
			}
			return cell(r.FormPage)
		}
	}
	row("GET /de/ per s: **server** / bare gin (same body)", page(func(p *formPage) string {
		return fmt.Sprintf("**%.0f/s** / %.0f/s (%s per page, %d rounds)", p.ServerRPS, p.BareRPS, size(int64(p.PageBytes)), len(p.Rounds))
	}))
	row("**server ÷ bare gin**: median of the rounds (overall; rounds min–max)", page(func(p *formPage) string {
		lo, hi := 0.0, 0.0
		for i, rd := range p.Rounds {
			if i == 0 || rd.Ratio < lo {
				lo = rd.Ratio
			}
			hi = max(hi, rd.Ratio)
		}
		return fmt.Sprintf("**%.2f×** (%.2f×; %.2f–%.2f×)", p.MedianRatio, p.Ratio, lo, hi)
	}))
	row("captcha IDs on the server's pages: distinct / sampled", page(func(p *formPage) string {
		return fmt.Sprintf("%d / %d", p.IDsDistinct, p.IDsSampled)
	}))
	row("**written, flood only** (write_bytes / data dir Δ)", func(r result) string {
		if r.Window == nil {
			return "–"
		}
		return fmt.Sprintf("**%s / %s** in %.1f s, %d uploads started", size(r.Window.WriteBytes), size(r.Window.DirDelta), r.Window.Seconds, r.Window.Started)
	})
	row("heap allocated, flood only (one decoded PNG needs)", func(r result) string {
		if r.Window == nil {
			return "–"
		}
		return fmt.Sprintf("%s (%s)", size(r.Window.HeapAlloc), size(r.Window.DecodedPNG))
	})
	row("written, whole flood (write_bytes / data dir Δ)", func(r result) string {
		return size(r.WriteBytes) + " / " + size(r.DirDelta)
	})
	row("child CPU (user+system)", func(r result) string {
		per := ""
		if r.Started > 0 {
			per = fmt.Sprintf(", %.0f ms per request started", r.CPUSeconds*1000/float64(r.Started))
		}
		return fmt.Sprintf("%.1f s%s", r.CPUSeconds, per)
	})
	row("heap allocated per request started", func(r result) string { return size(r.AllocPerReq) })
	row("issue 8 goals met?", goals)
	fmt.Fprintln(w)
	for _, r := range rs {
		if r.Login.Err != "" {
			fmt.Fprintf(w, "- `%s`: first failed login: %s\n", r.Scenario, r.Login.Err)
		}
		if r.Report.Err != "" {
			fmt.Fprintf(w, "- `%s`: first failed report: %s\n", r.Scenario, r.Report.Err)
		}
	}
}

func statusCell(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, m[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func latency(v, x float64, ok int) string {
	if ok == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f ms (%.1f×)", v, x)
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

// size prints bytes in the largest fitting unit; negative when a file
// shrank.
func size(b int64) string {
	a := math.Abs(float64(b))
	switch {
	case a >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(b)/(1<<30))
	case a >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	case a >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d B", b)
}

// Issue 8's goals, item 3. The times are absolute, as the issue states
// them; the ratios above are what compares across runs.
const (
	goalRSS   = 256 << 20
	goalLogin = 2000.0 // ms
)

// goals says for each of issue 8's goals whether this run met it.
func goals(r result) string {
	yes := func(ok bool) string {
		if ok {
			return "yes"
		}
		return "**no**"
	}
	parts := []string{"RSS ≤ 256 MiB: " + yes(max(r.PeakRSS, r.MaxSampled) <= goalRSS)}
	if r.FormPage != nil {
		// Item 6. Only a run that measured the real page counts, and
		// only one in which every page came back whole.
		return strings.Join(append(parts,
			"GET /de/ ≥ 0.5× bare gin: "+yes(r.FormPage.GoalMet() && r.Unexpected == 0)), "; ")
	}
	parts = append(parts,
		"login ≤ 2 s: "+yes(r.Login.OK == r.Login.N && r.Login.OK > 0 && r.Login.MaxMs <= goalLogin),
		"report through: "+yes(r.Report.OK == r.Report.N && r.Report.OK > 0))
	if r.Window != nil {
		parts = append(parts, "0 bytes written: "+yes(r.Window.WriteBytes == 0 && r.Window.DirDelta <= 0),
			"no decoding (heap < one decode): "+yes(r.Window.NoDecoding()))
	}
	return strings.Join(parts, "; ")
}
