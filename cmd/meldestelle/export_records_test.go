package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/storage"
)

// `meldestelle export-records` writes the year's k-anonymous records to
// the file -o names, in CSV or JSON, audits the export as the system, and
// refuses a k below the statistics k.
func TestExportRecordsWritesTheFile(t *testing.T) {
	dir := statsData(t, 6)
	file := filepath.Join(t.TempDir(), "export.csv")
	var out, errOut bytes.Buffer
	if code := run(t.Context(), []string{"export-records", "-data", dir, "-year", "2026", "-o", file}, nil, &out, &errOut); code != 0 {
		t.Fatalf("export-records: exit %d: %s", code, errOut.String())
	}
	if out.Len() != 0 {
		t.Errorf("with -o, standard output got %q", out.String())
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if fi, _ := f.Stat(); fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", fi.Mode().Perm())
	}
	r := csv.NewReader(f)
	r.Comment = '#'
	lines, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 7 || strings.Join(lines[0], ",") != strings.Join(reporting.NetColumns, ",") {
		t.Fatalf("file: %d lines, header %v; want the header and 6 rows", len(lines), lines[0])
	}
	// Six identical records (bochum, no incident date, racism and age,
	// work, witness) form one class of 6 ≥ 5: kept with their detail.
	if got := strings.Join(lines[1], ","); got != "2026,bochum,,age;racism,,work,,,witness,," {
		t.Errorf("row %q", got)
	}

	out.Reset()
	if code := run(t.Context(), []string{"export-records", "-data", dir, "-year", "2026", "-format", "json", "-k", "7"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("export-records json: exit %d: %s", code, errOut.String())
	}
	var x reporting.NetworkExport
	if err := json.Unmarshal(out.Bytes(), &x); err != nil {
		t.Fatal(err)
	}
	// With k = 7 the one class of 6 cannot be made common enough.
	if x.K != 7 || x.Records != 6 || x.Suppressed != 6 || len(x.Rows) != 0 {
		t.Errorf("json with -k 7: k %d, records %d, suppressed %d, rows %d; want 7, 6, 6, 0", x.K, x.Records, x.Suppressed, len(x.Rows))
	}

	if code := run(t.Context(), []string{"export-records", "-data", dir, "-year", "2026", "-k", "4"}, nil, &out, &errOut); code == 0 || !strings.Contains(errOut.String(), "below the statistics k") {
		t.Errorf("-k 4 below the statistics k: exit %d, %q", code, errOut.String())
	}

	db, err := storage.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	entries, _, err := db.AuditEntries(t.Context(), "", reporting.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var details []string
	for _, e := range entries {
		if e.Action == reporting.AuditNetworkExport {
			if e.UserID != 0 || e.UserName != "system" {
				t.Errorf("export audited as user %d %q, want the system", e.UserID, e.UserName)
			}
			details = append(details, e.Detail)
		}
	}
	if want := []string{"year=2026 format=json k=7", "year=2026 format=csv k=5"}; strings.Join(details, "|") != strings.Join(want, "|") {
		t.Errorf("audit details %q, want %q", details, want)
	}
}
