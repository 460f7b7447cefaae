package main

import (
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/storage"
)

// statsData makes a data directory with a team and n classified cases
// received in 2026, each with two grounds.
func statsData(t *testing.T, n int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	db, err := storage.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := t.Context()
	raw, err := sql.Open("sqlite3", filepath.Join(dir, storage.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, `INSERT INTO teams (id, name, public_key, municipalities) VALUES (1, 'T', x'00', 'bochum')`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	for i := range n {
		r := &reporting.StoredReport{ID: "r" + strings.Repeat("0", i+1), TeamID: 1, ReceivedOn: "2026-05-04",
			LookupHash: []byte{byte(i)}, SealedKey: []byte{0}, ReporterKey: []byte{0}, Content: []byte{0}, Status: "triage"}
		if err := db.CreateReport(ctx, r); err != nil {
			t.Fatal(err)
		}
		cl := reporting.Classification{ReportID: r.ID, Municipality: "bochum", Grounds: []string{"racism", "age"}, Areas: []string{"work"}, ReporterRole: "witness"}
		if err := db.PutClassification(ctx, cl, reporting.CaseDates{}); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// `meldestelle stats` prints the year's tables as CSV or JSON; k below 3
// is refused, by flag and by environment.
func TestStatsCommand(t *testing.T) {
	dir := statsData(t, 6)
	var out, errOut lockedBuffer
	if code := run(t.Context(), []string{"stats", "-data", dir, "-year", "2026", "-format", "csv", "-table", "ground"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("stats csv: exit %d: %s", code, errOut.String())
	}
	lines, err := csv.NewReader(strings.NewReader(out.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, l := range lines[1:] {
		got[l[2]] = l[4]
	}
	if got["racism"] != "6" || got["age"] != "6" || got["total"] != "6" || got["gender"] != "0" {
		t.Errorf("ground table %v", got)
	}

	out, errOut = lockedBuffer{}, lockedBuffer{}
	if code := run(t.Context(), []string{"stats", "-data", dir, "-year", "2026", "-format", "json"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("stats json: exit %d: %s", code, errOut.String())
	}
	var st reporting.Statistics
	if err := json.Unmarshal([]byte(out.String()), &st); err != nil || st.Cases != 6 || st.K != 5 {
		t.Fatalf("json: %v, %+v", err, st)
	}

	errOut = lockedBuffer{}
	if code := run(t.Context(), []string{"stats", "-data", dir, "-year", "2026", "-stats-k", "2"}, nil, &out, &errOut); code == 0 || !strings.Contains(errOut.String(), "at least 3") {
		t.Errorf("k=2: exit %d, %q", code, errOut.String())
	}
	t.Setenv("MELDESTELLE_STATS_K", "1")
	errOut = lockedBuffer{}
	if code := run(t.Context(), []string{"stats", "-data", dir}, nil, &out, &errOut); code == 0 || !strings.Contains(errOut.String(), "at least 3") {
		t.Errorf("MELDESTELLE_STATS_K=1: exit %d, %q", code, errOut.String())
	}
	t.Setenv("MELDESTELLE_STATS_K", "7")
	out = lockedBuffer{}
	if code := run(t.Context(), []string{"stats", "-data", dir, "-year", "2026", "-format", "csv", "-table", "ground"}, nil, &out, &errOut); code != 0 || !strings.Contains(out.String(), "racism,,<7") {
		t.Errorf("k=7 from the environment: exit %d\n%s", code, out.String())
	}
}

// `meldestelle backup PATH` writes a 0600 copy and never overwrites.
func TestBackupCommand(t *testing.T) {
	dir := statsData(t, 1)
	path := filepath.Join(t.TempDir(), "copy.db")
	var out, errOut lockedBuffer
	if code := run(t.Context(), []string{"backup", "-data", dir, path}, nil, &out, &errOut); code != 0 {
		t.Fatalf("backup: exit %d: %s", code, errOut.String())
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 || fi.Size() == 0 {
		t.Fatalf("backup file %v, %v", fi, err)
	}
	errOut = lockedBuffer{}
	if code := run(t.Context(), []string{"backup", "-data", dir, path}, nil, &out, &errOut); code == 0 || !strings.Contains(errOut.String(), "exists") {
		t.Errorf("second backup to the same file: exit %d, %q", code, errOut.String())
	}
	if code := run(t.Context(), []string{"backup", "-data", dir}, nil, &out, &errOut); code == 0 {
		t.Error("backup without a path succeeded")
	}
}
