package main

import (
	"bytes"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/storage"
)

// `meldestelle retention -dry-run` lists the never-triaged report received
// years ago and not today's, and deletes nothing; without -dry-run it
// deletes the due content.
func TestRetentionCommand(t *testing.T) {
	dir := statsData(t, 0)
	db, err := storage.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for i, day := range []string{"2020-01-15", time.Now().Format(time.DateOnly)} {
		r := &reporting.StoredReport{ID: "ret" + day, TeamID: 1, ReceivedOn: day, LookupHash: []byte{0xEE, byte(i)},
			SealedKey: []byte{1}, ReporterKey: []byte{1}, Content: []byte("sealed"), Status: reporting.StatusNew}
		if err := db.CreateReport(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"retention", "-dry-run", "-data", dir}, nil, &out, &errOut); code != 0 {
		t.Fatalf("dry run: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "2020-0001\tuntriaged\tnew\t2020-01-15\t2020-07-15") || !strings.Contains(out.String(), "1 case(s) due") {
		t.Errorf("dry run output:\n%s", out.String())
	}
	countKept := func() int {
		raw, err := sql.Open("sqlite3", filepath.Join(dir, storage.FileName))
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		var n int
		raw.QueryRow(`SELECT count(*) FROM reports WHERE length(content) > 0`).Scan(&n)
		return n
	}
	if n := countKept(); n != 2 {
		t.Fatalf("the dry run deleted content: %d reports keep theirs", n)
	}
	out.Reset()
	if code := run(ctx, []string{"retention", "-data", dir}, nil, &out, &errOut); code != 0 || !strings.Contains(out.String(), "content of 1 case(s) deleted") {
		t.Fatalf("sweep: exit %d: %s%s", code, out.String(), errOut.String())
	}
	if n := countKept(); n != 1 {
		t.Errorf("%d reports keep their content after the sweep, want 1", n)
	}
}
