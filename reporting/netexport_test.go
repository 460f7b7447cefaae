package reporting_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// netPick draws from codes with the given weights.
func netPick(r *rand.Rand, codes []string, weights []int) string {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := r.IntN(total)
	for i, w := range weights {
		if n < w {
			return codes[i]
		}
		n -= w
	}
	return codes[len(codes)-1]
}

// netSomeOf draws up to max distinct codes, uniformly.
func netSomeOf(r *rand.Rand, codes []string, max int) []string {
	var out []string
	for range r.IntN(max + 1) {
		if c := codes[r.IntN(len(codes))]; !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// randomNetRecords makes n records skewed as an office's year is: most
// cases from two cities, a few sub-grounds and areas, many rare
// combinations that only generalisation or suppression can hide.
func randomNetRecords(r *rand.Rand, n int) []reporting.NetRecord {
	out := make([]reporting.NetRecord, n)
	for i := range out {
		rec := reporting.NetRecord{}
		rec.Municipality = netPick(r, []string{"bochum", "essen", "herne", "muelheim", "marl", "ennepe_ruhr", "online", "other_nrw", "not_stated"},
			[]int{40, 25, 15, 8, 4, 3, 3, 1, 1})
		rec.Grounds = []string{"racism"}
		sub := netPick(r, []string{"antiziganism", "anti_muslim", "anti_black", "antisemitism", "refugee", "language", "anti_slavic"}, []int{50, 25, 10, 6, 4, 3, 2})
		rec.Subgrounds = []string{sub}
		if r.IntN(20) == 0 {
			rec.Grounds = append(rec.Grounds, "gender")
			rec.Subgrounds = append(rec.Subgrounds, "women")
		}
		rec.Areas = []string{netPick(r, []string{"goods_services", "authorities", "education", "housing", "public_space", "health", "media", "work"}, []int{30, 25, 20, 10, 8, 3, 2, 2})}
		if r.IntN(30) == 0 {
			rec.Areas = append(rec.Areas, "police_justice")
		}
		rec.ReporterRole = netPick(r, []string{"affected", "witness", "on_behalf", ""}, []int{70, 18, 10, 2})
		switch n := r.IntN(20); {
		case n == 0: // date unknown
		case n < 3:
			rec.Year, rec.Month = 2025, 11+r.IntN(2)
		default:
			rec.Year, rec.Month = 2026, 1+r.IntN(12)
		}
		rec.Forms = netSomeOf(r, reporting.Forms, 2)
		rec.IncidentType = netPick(r, append(slices.Clone(reporting.IncidentTypes), ""), []int{1, 3, 3, 5, 30, 20, 1, 2, 2, 5})
		rec.AGGRelevant = netPick(r, append(slices.Clone(reporting.AGGRelevance), ""), []int{5, 3, 2, 1})
		rec.Interventions = netSomeOf(r, reporting.Interventions, 2)
		out[i] = rec
	}
	return out
}

// kAnonymityViolations lists the quasi-identifier combinations (region,
// period, sub-grounds, areas, reporter role) that occur fewer than k
// times in rows, counted here independently of the code under test.
func kAnonymityViolations(rows []reporting.NetRow, k int) []string {
	n := map[string]int{}
	for _, r := range rows {
		n[strings.Join([]string{r.Region, r.Period, strings.Join(r.Subgrounds, ";"), strings.Join(r.Areas, ";"), r.ReporterRole}, "|")]++
	}
	var bad []string
	for key, c := range n {
		if c < k {
			bad = append(bad, fmt.Sprintf("%s ×%d", key, c))
		}
	}
	slices.Sort(bad)
	return bad
}

var periodForm = regexp.MustCompile(`^([0-9]{4}(-(0[1-9]|1[0-2]|Q[1-4]))?)?$`)

// textualValues lists every value of the rows that is not a vocabulary
// code of its column, a year, quarter or month form, or empty: anything
// else would be text, an ID or a date that could link back.
func textualValues(rows []reporting.NetRow, year int) []string {
	allSub := slices.Concat(func() [][]string {
		var all [][]string
		for _, s := range reporting.SubgroundsOf {
			all = append(all, s)
		}
		return all
	}()...)
	var bad []string
	one := func(col, v string, vocab []string) {
		if v != "" && !slices.Contains(vocab, v) {
			bad = append(bad, col+"="+v)
		}
	}
	many := func(col string, vs, vocab []string) {
		for _, v := range vs {
			if v == "" {
				bad = append(bad, col+" has an empty code")
			}
			one(col, v, vocab)
		}
	}
	for _, r := range rows {
		if r.Year != year {
			bad = append(bad, "year="+strconv.Itoa(r.Year))
		}
		one("region", r.Region, append(slices.Clone(reporting.Municipalities), reporting.RegionRuhr))
		if !periodForm.MatchString(r.Period) {
			bad = append(bad, "period="+r.Period)
		}
		many("grounds", r.Grounds, reporting.Grounds)
		many("subgrounds", r.Subgrounds, allSub)
		many("areas", r.Areas, reporting.Areas)
		many("forms", r.Forms, reporting.Forms)
		one("incident_type", r.IncidentType, reporting.IncidentTypes)
		one("reporter_role", r.ReporterRole, reporting.ReporterRoles)
		one("agg_relevant", r.AGGRelevant, reporting.AGGRelevance)
		many("interventions", r.Interventions, reporting.Interventions)
	}
	return bad
}

// The export of skewed random years is k-anonymous over the
// quasi-identifiers; the same check fails on the raw rows, on the rows
// generalised but not suppressed, and suppression alone loses more rows
// than generalising first. Nothing but codes and month forms leaves.
func TestNetworkExportIsKAnonymous(t *testing.T) {
	t.Parallel()
	for seed := uint64(1); seed <= 3; seed++ {
		for _, k := range []int{reporting.StatsK, 10} {
			t.Run(fmt.Sprintf("seed%d/k%d", seed, k), func(t *testing.T) {
				records := randomNetRecords(rand.New(rand.NewPCG(seed, 14)), 2500)

				raw := reporting.AnonymiseNetworkWith(2026, k, records, nil, false)
				if bad := kAnonymityViolations(raw.Rows, k); len(bad) == 0 {
					t.Fatalf("the raw rows are k-anonymous already: the data do not test generalisation")
				}
				generalisedOnly := reporting.AnonymiseNetworkWith(2026, k, records, reporting.NetworkSteps, false)
				if bad := kAnonymityViolations(generalisedOnly.Rows, k); len(bad) == 0 {
					t.Fatalf("generalisation alone made the rows k-anonymous: the data do not test suppression")
				}
				suppressOnly := reporting.AnonymiseNetworkWith(2026, k, records, nil, true)

				x := reporting.AnonymiseNetwork(2026, k, records)
				if bad := kAnonymityViolations(x.Rows, k); len(bad) > 0 {
					t.Fatalf("%d combination(s) below k=%d in the export, e.g. %s", len(bad), k, bad[0])
				}
				if reporting.SmallestClass(x.Rows) < k || reporting.SmallestClass(raw.Rows) >= k {
					t.Errorf("SmallestClass: export %d, raw %d; want ≥ %d and < %d", reporting.SmallestClass(x.Rows), reporting.SmallestClass(raw.Rows), k, k)
				}
				if len(x.Rows)+x.Suppressed != len(records) || x.Records != len(records) || x.K != k {
					t.Errorf("rows %d + suppressed %d ≠ records %d (metadata says %d, k %d)", len(x.Rows), x.Suppressed, len(records), x.Records, x.K)
				}
				if x.Suppressed >= suppressOnly.Suppressed {
					t.Errorf("generalising first suppressed %d rows, suppression alone %d: generalisation kept nothing", x.Suppressed, suppressOnly.Suppressed)
				}
				if x.Suppressed > len(records)/2 {
					t.Errorf("%d of %d rows suppressed: the export is useless", x.Suppressed, len(records))
				}
				t.Logf("records %d, suppressed %d (suppression alone: %d), steps %v, raw violations %d", len(records), x.Suppressed, suppressOnly.Suppressed, x.Generalised, len(kAnonymityViolations(raw.Rows, k)))
				var steps []string
				for _, s := range x.Generalised {
					steps = append(steps, s.Step)
					if s.Rows == 0 {
						t.Errorf("step %s changed no row on skewed data", s.Step)
					}
				}
				if !slices.Equal(steps, reporting.NetworkSteps) {
					t.Errorf("metadata lists steps %v, want %v", steps, reporting.NetworkSteps)
				}
				if bad := textualValues(x.Rows, 2026); len(bad) > 0 {
					t.Errorf("values that are no codes left: %v", bad[:min(5, len(bad))])
				}
				// Every row still says something true about its case: the
				// codes outside the quasi-identifiers are untouched, so their
				// counts over kept and suppressed rows are those of the year.
				if got, want := countGrounds(x.Rows), countRecordGrounds(records); got > want || got+x.Suppressed*2 < want {
					t.Errorf("grounds counted %d in the export, %d in the records, %d rows suppressed", got, want, x.Suppressed)
				}
			})
		}
	}
}

func countGrounds(rows []reporting.NetRow) (n int) {
	for _, r := range rows {
		n += len(r.Grounds)
	}
	return n
}

func countRecordGrounds(records []reporting.NetRecord) (n int) {
	for _, r := range records {
		n += len(r.Grounds)
	}
	return n
}

// The rows leave in a random order, not in the order the cases came in:
// the same records exported twice (nothing generalised or suppressed)
// hold the same rows, in an order that differs from theirs.
func TestNetworkExportOrderIsRandom(t *testing.T) {
	t.Parallel()
	records := randomNetRecords(rand.New(rand.NewPCG(7, 14)), 500)
	x := reporting.AnonymiseNetworkWith(2026, 1, records, nil, false)
	inOrder := reporting.AnonymiseNetworkWith(2026, 1, records, nil, false)
	line := func(r reporting.NetRow) string { return strings.Join(r.Fields(), ",") }
	got := make([]string, len(x.Rows))
	for i, r := range x.Rows {
		got[i] = line(r)
	}
	var want []string
	for _, r := range records {
		// The expected line of each record in insertion order.
		one := reporting.AnonymiseNetworkWith(2026, 1, []reporting.NetRecord{r}, nil, false)
		want = append(want, line(one.Rows[0]))
	}
	if slices.Equal(got, want) {
		t.Errorf("the rows came out in insertion order")
	}
	sortedGot, sortedWant := slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
	if !slices.Equal(sortedGot, sortedWant) {
		t.Errorf("shuffling changed the rows")
	}
	if len(inOrder.Rows) == len(x.Rows) && slices.EqualFunc(inOrder.Rows, x.Rows, func(a, b reporting.NetRow) bool { return line(a) == line(b) }) {
		t.Errorf("two exports of the same records came out in the same order")
	}
}

// The export through the service and the database: 2,000 records with
// report IDs and case numbers; the CSV and the JSON hold the same
// k-anonymous rows, the JSON follows docs/network-export.schema.json, no
// ID or case number appears, and the export is in the audit log. A
// statistician may not export.
func TestNetworkExportFromTheDatabase(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := setUpAdmin(t, e)
	// The statistician is made before the records: their team row (a
	// bare key) is not one the anchor signs.
	e.addUser(t, "stella", "stella's long password", reporting.RoleStatistician)
	_, stat, err := e.office.Login(t.Context(), "stella", "stella's long password", "")
	if err != nil {
		t.Fatal(err)
	}
	records := randomNetRecords(rand.New(rand.NewPCG(42, 14)), 2000)
	ids := insertNetRecords(t, e, records)
	n, err := reporting.NewNetworkExports(e.db, reporting.StatsK, e.clock.Now)
	if err != nil {
		t.Fatal(err)
	}

	csvX, err := n.Export(t.Context(), admin, 2026, 0, "csv")
	if err != nil {
		t.Fatal(err)
	}
	if csvX.Records != len(records) || csvX.K != reporting.StatsK {
		t.Fatalf("export of %d records with k %d, want %d with %d", csvX.Records, csvX.K, len(records), reporting.StatsK)
	}
	var csvBuf bytes.Buffer
	if err := reporting.WriteNetworkCSV(&csvBuf, csvX); err != nil {
		t.Fatal(err)
	}
	jsonX, err := n.Export(t.Context(), admin, 2026, 0, "json")
	if err != nil {
		t.Fatal(err)
	}
	var jsonBuf bytes.Buffer
	if err := reporting.WriteNetworkJSON(&jsonBuf, jsonX); err != nil {
		t.Fatal(err)
	}

	for _, id := range ids {
		if bytes.Contains(csvBuf.Bytes(), []byte(id)) || bytes.Contains(jsonBuf.Bytes(), []byte(id)) {
			t.Fatalf("the export holds the report ID or case number %q", id)
		}
	}

	fromCSV := parseNetworkCSV(t, csvBuf.Bytes())
	var doc any
	if err := json.Unmarshal(jsonBuf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	schemaBytes, err := os.ReadFile("../docs/network-export.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(schemaBytes, &schema); err != nil {
		t.Fatal(err)
	}
	if errs := validateSchema(schema, doc, "$"); len(errs) > 0 {
		t.Fatalf("the JSON does not follow the schema: %v", errs[:min(5, len(errs))])
	}
	var fromJSON reporting.NetworkExport
	if err := json.Unmarshal(jsonBuf.Bytes(), &fromJSON); err != nil {
		t.Fatal(err)
	}
	// Each export shuffles anew; as sets of lines they agree, and so do
	// the metadata.
	lines := func(rows []reporting.NetRow) []string {
		var out []string
		for _, r := range rows {
			out = append(out, strings.Join(r.Fields(), ","))
		}
		slices.Sort(out)
		return out
	}
	if !slices.Equal(lines(fromCSV), lines(fromJSON.Rows)) {
		t.Errorf("CSV (%d rows) and JSON (%d rows) disagree", len(fromCSV), len(fromJSON.Rows))
	}
	if fromJSON.Suppressed != csvX.Suppressed || !bytes.Contains(csvBuf.Bytes(), fmt.Appendf(nil, "suppressed=%d", fromJSON.Suppressed)) {
		t.Errorf("suppressed: JSON %d, CSV metadata %q", fromJSON.Suppressed, strings.SplitN(csvBuf.String(), "\n", 2)[0])
	}
	if bad := kAnonymityViolations(fromCSV, reporting.StatsK); len(bad) > 0 {
		t.Errorf("the CSV is not k-anonymous: %v", bad[:min(5, len(bad))])
	}
	if bad := textualValues(fromCSV, 2026); len(bad) > 0 {
		t.Errorf("values that are no codes left: %v", bad[:min(5, len(bad))])
	}

	var details []string
	entries, _, err := e.db.AuditEntries(t.Context(), "", reporting.Page{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range entries {
		if a.Action == reporting.AuditNetworkExport {
			details = append(details, a.Detail)
		}
	}
	if want := []string{"year=2026 format=json k=5", "year=2026 format=csv k=5"}; !slices.Equal(details, want) {
		t.Errorf("audit details %q, want %q", details, want)
	}

	if _, err := n.Export(t.Context(), admin, 2026, 4, "csv"); reporting.MessageID(err) != "error.netexport.k" {
		t.Errorf("k below the statistics k: %v", err)
	}
	if _, err := n.Export(t.Context(), stat, 2026, 0, "csv"); reporting.ErrorCode(err) != reporting.ENotFound {
		t.Errorf("a statistician exported: %v", err)
	}
}

// parseNetworkCSV reads the rows of a CSV export, skipping its "#" lines.
func parseNetworkCSV(t *testing.T, b []byte) []reporting.NetRow {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(b))
	r.Comment = '#'
	all, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 || !slices.Equal(all[0], reporting.NetColumns) {
		t.Fatalf("CSV header %v, want %v", all[:min(1, len(all))], reporting.NetColumns)
	}
	split := func(s string) []string {
		if s == "" {
			return []string{}
		}
		return strings.Split(s, ";")
	}
	var rows []reporting.NetRow
	for _, f := range all[1:] {
		y, err := strconv.Atoi(f[0])
		if err != nil {
			t.Fatalf("year %q", f[0])
		}
		rows = append(rows, reporting.NetRow{Year: y, Region: f[1], Period: f[2], Grounds: split(f[3]), Subgrounds: split(f[4]),
			Areas: split(f[5]), Forms: split(f[6]), IncidentType: f[7], ReporterRole: f[8], AGGRelevant: f[9], Interventions: split(f[10])})
	}
	return rows
}

// insertNetRecords writes the records as classified cases received in
// 2026, with IDs and case numbers that must not leave, in one
// transaction; it returns those IDs and numbers.
func insertNetRecords(t *testing.T, e *env, records []reporting.NetRecord) []string {
	t.Helper()
	raw := e.rawDB(t)
	ctx := context.Background()
	tx, err := raw.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO teams (id, name, public_key, municipalities) VALUES (77, 'Netz', x'00', 'bochum')`); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i, r := range records {
		id, caseNo := fmt.Sprintf("netexport-report-%05d", i), fmt.Sprintf("N-2026-%05d", i)
		if _, err := tx.ExecContext(ctx, `INSERT INTO reports (id, case_no, team_id, received_on, lookup_hash, kdf_params, sealed_key, reporter_key, content, status, language)
			VALUES (?, ?, 77, '2026-03-01', ?, '', x'00', x'00', x'00', 'closed', '')`, id, caseNo, []byte(id)); err != nil {
			t.Fatal(err)
		}
		var year, month any
		if r.Year > 0 {
			year, month = r.Year, r.Month
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO classifications (report_id, year, month, municipality, grounds, subgrounds, areas, subareas, forms,
			level, incident_type, reporter_role, agg_relevant, interventions, received_year) VALUES (?, ?, ?, ?, ?, ?, ?, '', ?, '', ?, ?, ?, ?, 2026)`,
			id, year, month, r.Municipality, strings.Join(r.Grounds, ","), strings.Join(r.Subgrounds, ","), strings.Join(r.Areas, ","),
			strings.Join(r.Forms, ","), r.IncidentType, r.ReporterRole, r.AGGRelevant, strings.Join(r.Interventions, ",")); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id, caseNo)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// validateSchema checks v against the subset of JSON Schema that
// docs/network-export.schema.json uses (type, required, properties,
// additionalProperties false, items, enum, pattern, minimum, maximum,
// uniqueItems) and returns what does not fit, by path.
func validateSchema(s map[string]any, v any, path string) []string {
	var errs []string
	fail := func(f string, a ...any) { errs = append(errs, path+": "+fmt.Sprintf(f, a...)) }
	if enum, ok := s["enum"].([]any); ok && !slices.Contains(enum, v) {
		fail("%v not in %v", v, enum)
	}
	switch s["type"] {
	case "object":
		o, ok := v.(map[string]any)
		if !ok {
			fail("not an object")
			return errs
		}
		props, _ := s["properties"].(map[string]any)
		for _, r := range s["required"].([]any) {
			if _, ok := o[r.(string)]; !ok {
				fail("missing %s", r)
			}
		}
		for name, val := range o {
			ps, ok := props[name].(map[string]any)
			if !ok {
				if s["additionalProperties"] == false {
					fail("unexpected property %s", name)
				}
				continue
			}
			errs = append(errs, validateSchema(ps, val, path+"."+name)...)
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			fail("not an array")
			return errs
		}
		items, _ := s["items"].(map[string]any)
		seen := map[string]bool{}
		for i, x := range a {
			if s["uniqueItems"] == true {
				key := fmt.Sprint(x)
				if seen[key] {
					fail("item %v twice", x)
				}
				seen[key] = true
			}
			if items != nil {
				errs = append(errs, validateSchema(items, x, fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			fail("not a string")
			return errs
		}
		if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(str) {
			fail("%q does not match %s", str, p)
		}
	case "integer":
		f, ok := v.(float64)
		if !ok || f != float64(int64(f)) {
			fail("not an integer")
			return errs
		}
		if m, ok := s["minimum"].(float64); ok && f < m {
			fail("%v below %v", f, m)
		}
		if m, ok := s["maximum"].(float64); ok && f > m {
			fail("%v above %v", f, m)
		}
	}
	return errs
}

// The schema validator itself rejects what the schema forbids: a text
// value in a code column, a missing column, an unknown field.
func TestNetworkSchemaValidatorRejects(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../docs/network-export.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(b, &schema); err != nil {
		t.Fatal(err)
	}
	good := `{"format":"meldestelle-network-export/1","year":2026,"k":5,"quasi_identifiers":["region"],"records":1,"suppressed":0,"generalised":[],
		"rows":[{"year":2026,"region":"ruhr","period":"2026-Q1","grounds":["racism"],"subgrounds":[],"areas":["work"],"forms":[],"incident_type":"","reporter_role":"witness","agg_relevant":"","interventions":[]}]}`
	for name, doc := range map[string]string{
		"text in a code":   strings.Replace(good, `"witness"`, `"Herr Müller, Bochum"`, 1),
		"a day":            strings.Replace(good, `"2026-Q1"`, `"2026-03-04"`, 1),
		"a missing column": strings.Replace(good, `"forms":[],`, ``, 1),
		"an extra field":   strings.Replace(good, `"forms":[]`, `"forms":[],"case_no":"N-1"`, 1),
	} {
		var v any
		if err := json.Unmarshal([]byte(doc), &v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(validateSchema(schema, v, "$")) == 0 {
			t.Errorf("%s passed the schema", name)
		}
	}
	var v any
	json.Unmarshal([]byte(good), &v)
	if errs := validateSchema(schema, v, "$"); len(errs) > 0 {
		t.Errorf("a good document failed: %v", errs)
	}
}
