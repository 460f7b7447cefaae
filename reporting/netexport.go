package reporting

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The network export (issue 14, item 4): the statistical records of a
// year as one row per case for the NRW reporting network's joint
// analysis, made k-anonymous over the quasi-identifiers before they leave.
// docs/network-export.md describes the file for the partner offices.

// AuditNetworkExport records that the records of a year were exported for
// the reporting network (detail: year, format and k).
const AuditNetworkExport = "network_export"

// NetworkExportVersion names the layout of the export; a partner's tool
// checks it before reading the rows.
const NetworkExportVersion = "meldestelle-network-export/1"

// RegionRuhr is the region a Ruhr municipality is generalised to.
const RegionRuhr = "ruhr"

// ruhrMunicipalities are the municipalities inside the Ruhr area: only
// these become "ruhr". The other places (other_nrw, outside_nrw, online,
// not_stated) are coarse already; calling them "Ruhr area" would be false.
var ruhrMunicipalities = []string{"bochum", "herne", "essen", "muelheim", "ennepe_ruhr", "marl"}

// The generalisation steps, in the order they are tried. Time goes first:
// the network's report is yearly, so a month is the detail its analysis
// needs least, while the municipality is what the network compares its
// regions by; and the month is the finer identifier (twelve values
// against six Ruhr places), so coarsening it merges more rare rows per
// step. The order is fixed so that the same records give the same export.
const (
	StepMonthToQuarter = "month_to_quarter"
	StepQuarterToYear  = "quarter_to_year"
	StepMunicipality   = "municipality_to_ruhr"
)

// NetworkSteps are the generalisation steps in the order they are applied.
var NetworkSteps = []string{StepMonthToQuarter, StepQuarterToYear, StepMunicipality}

// NetRecord is a statistical record with its incident month, as the
// network export reads it.
type NetRecord struct {
	StatRecord
	Year, Month int // of the incident; 0 when unknown
}

// NetRow is one exported case: coarse codes only. Multi-valued codes are
// sorted; an undecided single code is "".
type NetRow struct {
	Year          int      `json:"year"`   // the year the case was received: the export's year
	Region        string   `json:"region"` // a municipality code, or "ruhr"
	Period        string   `json:"period"` // of the incident: "2026-03", "2026-Q1", "2026", or "" when unknown
	Grounds       []string `json:"grounds"`
	Subgrounds    []string `json:"subgrounds"`
	Areas         []string `json:"areas"`
	Forms         []string `json:"forms"`
	IncidentType  string   `json:"incident_type"`
	ReporterRole  string   `json:"reporter_role"`
	AGGRelevant   string   `json:"agg_relevant"`
	Interventions []string `json:"interventions"`
}

// NetworkExport is the k-anonymous export of a year with what was done to
// make it so.
type NetworkExport struct {
	Version string `json:"format"`
	Year    int    `json:"year"`
	K       int    `json:"k"`
	// QuasiIdentifiers are the columns over which every combination in
	// Rows occurs at least K times.
	QuasiIdentifiers []string `json:"quasi_identifiers"`
	Records          int      `json:"records"`    // records of the year before suppression
	Suppressed       int      `json:"suppressed"` // rows left out because no step made them common enough
	// Generalised counts the rows each step changed, in NetworkSteps order.
	Generalised []NetStep `json:"generalised"`
	Rows        []NetRow  `json:"rows"`
}

// NetStep is one generalisation step and the number of rows it changed.
type NetStep struct {
	Step string `json:"step"`
	Rows int    `json:"rows"`
}

// NetQuasiIdentifiers are the export's quasi-identifier columns.
var NetQuasiIdentifiers = []string{"region", "period", "subgrounds", "areas", "reporter_role"}

// netKey is the combination of a row's quasi-identifiers.
type netKey struct{ region, period, subgrounds, areas, role string }

func (r NetRow) key() netKey {
	return netKey{r.Region, r.Period, strings.Join(r.Subgrounds, ";"), strings.Join(r.Areas, ";"), r.ReporterRole}
}

// sortedCodes copies codes sorted, never nil (an empty JSON array, not null).
func sortedCodes(codes []string) []string {
	out := slices.Clone(codes)
	if out == nil {
		out = []string{}
	}
	slices.Sort(out)
	return out
}

// netRow turns a record into an ungeneralised row: only coarse codes, the
// incident's month at most. No text, ID or date of the record is copied.
func netRow(year int, r NetRecord) NetRow {
	period := ""
	switch {
	case r.Year > 0 && r.Month >= 1 && r.Month <= 12:
		period = fmt.Sprintf("%04d-%02d", r.Year, r.Month)
	case r.Year > 0:
		period = strconv.Itoa(r.Year)
	}
	return NetRow{Year: year, Region: r.Municipality, Period: period,
		Grounds: sortedCodes(r.Grounds), Subgrounds: sortedCodes(r.Subgrounds), Areas: sortedCodes(r.Areas),
		Forms: sortedCodes(r.Forms), IncidentType: r.IncidentType, ReporterRole: r.ReporterRole,
		AGGRelevant: r.AGGRelevant, Interventions: sortedCodes(r.Interventions)}
}

// generalise applies one step to a row and reports whether it changed it.
func generalise(r *NetRow, step string) bool {
	switch step {
	case StepMonthToQuarter:
		// "2026-03" → "2026-Q1"; a quarter or a year stays.
		if len(r.Period) == 7 && r.Period[4] == '-' && r.Period[5] != 'Q' {
			m, _ := strconv.Atoi(r.Period[5:])
			r.Period = r.Period[:4] + "-Q" + strconv.Itoa((m+2)/3)
			return true
		}
	case StepQuarterToYear:
		if len(r.Period) > 4 {
			r.Period = r.Period[:4]
			return true
		}
	case StepMunicipality:
		if slices.Contains(ruhrMunicipalities, r.Region) {
			r.Region = RegionRuhr
			return true
		}
	}
	return false
}

// netClasses counts the rows of every quasi-identifier combination.
func netClasses(rows []NetRow) map[netKey]int {
	n := make(map[netKey]int, len(rows)/4)
	for i := range rows {
		n[rows[i].key()]++
	}
	return n
}

// SmallestClass returns the size of the smallest quasi-identifier
// combination among rows (0 for no rows): the rows are k-anonymous for
// every k up to it. Tests run it on raw and on exported rows.
func SmallestClass(rows []NetRow) int {
	least := 0
	for _, n := range netClasses(rows) {
		if least == 0 || n < least {
			least = n
		}
	}
	return least
}

// AnonymiseNetwork makes the records of a year k-anonymous over the
// quasi-identifiers (region, period, sub-grounds, areas, reporter role).
// It generalises by local recoding, step by step in NetworkSteps order:
// each step applies only to the rows whose combination still occurs fewer
// than k times, so common combinations keep their detail. Rows still
// rarer than k after the last step are suppressed. Rows that stay keep
// their class: suppression only removes whole classes below k, so every
// remaining combination occurs at least k times. The rows come out in a
// random order, so that their order says nothing about when a case came.
func AnonymiseNetwork(year, k int, records []NetRecord) NetworkExport {
	return anonymiseNetwork(year, k, records, NetworkSteps, true)
}

// anonymiseNetwork is AnonymiseNetwork with its protection as parameters,
// so that a test can switch each part off and see its check fail.
func anonymiseNetwork(year, k int, records []NetRecord, steps []string, suppress bool) NetworkExport {
	x := NetworkExport{Version: NetworkExportVersion, Year: year, K: k, QuasiIdentifiers: NetQuasiIdentifiers, Records: len(records)}
	rows := make([]NetRow, len(records))
	// The joined sub-grounds and areas of each row, made once: no step
	// changes them, and every pass counts by them.
	sub, area := make([]string, len(records)), make([]string, len(records))
	for i, r := range records {
		rows[i] = netRow(year, r)
		sub[i], area[i] = strings.Join(rows[i].Subgrounds, ";"), strings.Join(rows[i].Areas, ";")
	}
	keys := make([]netKey, len(rows))
	count := func() map[netKey]int {
		n := make(map[netKey]int, len(rows)/4)
		for i := range rows {
			keys[i] = netKey{rows[i].Region, rows[i].Period, sub[i], area[i], rows[i].ReporterRole}
			n[keys[i]]++
		}
		return n
	}
	for _, step := range steps {
		classes := count()
		changed := 0
		for i := range rows {
			if classes[keys[i]] < k && generalise(&rows[i], step) {
				changed++
			}
		}
		x.Generalised = append(x.Generalised, NetStep{Step: step, Rows: changed})
	}
	classes := count()
	kept := rows[:0]
	for i, r := range rows {
		if classes[keys[i]] >= k || !suppress {
			kept = append(kept, r)
		}
	}
	x.Suppressed = len(rows) - len(kept)
	// math/rand/v2's global source is seeded at random by the runtime;
	// the order only has to be unrelated to the records' insertion order.
	rand.Shuffle(len(kept), func(i, j int) { kept[i], kept[j] = kept[j], kept[i] })
	x.Rows = slices.Clip(kept)
	return x
}

// NetColumns are the CSV columns, in order.
var NetColumns = []string{"year", "region", "period", "grounds", "subgrounds", "areas", "forms",
	"incident_type", "reporter_role", "agg_relevant", "interventions"}

// joinCodes writes a multi-valued cell: sorted codes separated by ";".
func joinCodes(codes []string) string { return strings.Join(codes, ";") }

// Fields returns the row's CSV cells, in NetColumns order.
func (r NetRow) Fields() []string {
	return []string{strconv.Itoa(r.Year), r.Region, r.Period, joinCodes(r.Grounds), joinCodes(r.Subgrounds),
		joinCodes(r.Areas), joinCodes(r.Forms), r.IncidentType, r.ReporterRole, r.AGGRelevant, joinCodes(r.Interventions)}
}

// WriteNetworkCSV writes the export as CSV: first lines starting with "#"
// carry the metadata (format, year, k, records, suppressed rows, rows per
// generalisation step), then the header row and one line per row.
func WriteNetworkCSV(w io.Writer, x NetworkExport) error {
	out := csv.NewWriter(w)
	// The metadata are comment lines so that a reader that skips "#"
	// lines (Go's csv.Reader.Comment, pandas comment="#", R
	// comment.char="#") sees a plain table, and nothing is lost for one
	// that does not.
	meta := fmt.Sprintf("# %s year=%d k=%d records=%d rows=%d suppressed=%d\n", x.Version, x.Year, x.K, x.Records, len(x.Rows), x.Suppressed)
	for _, s := range x.Generalised {
		meta += fmt.Sprintf("# generalised %s rows=%d\n", s.Step, s.Rows)
	}
	if _, err := io.WriteString(w, meta); err != nil {
		return err
	}
	out.Write(NetColumns)
	for _, r := range x.Rows {
		out.Write(r.Fields())
	}
	out.Flush()
	return out.Error()
}

// WriteNetworkJSON writes the export as one JSON object
// (docs/network-export.schema.json).
func WriteNetworkJSON(w io.Writer, x NetworkExport) error {
	if x.Rows == nil {
		x.Rows = []NetRow{}
	}
	return json.NewEncoder(w).Encode(x)
}

// NetworkExportStore is what the network export reads (the records of a
// year) and where it records that they left. storage.DB implements it.
type NetworkExportStore interface {
	AuditStore
	// NetworkRecords calls fn with the record of every case received in
	// year, with the incident's year and month.
	NetworkRecords(ctx context.Context, year int, fn func(NetRecord) error) error
}

// NetworkExports is the network export service. It reads plain codes
// only and holds no key.
type NetworkExports struct {
	auditor
	store NetworkExportStore
	k     int
}

// NewNetworkExports returns the export service with the office's
// statistics k as the least k; a k below MinStatsK is refused.
func NewNetworkExports(store NetworkExportStore, k int, now func() time.Time) (*NetworkExports, error) {
	if err := CheckStatsK(k); err != nil {
		return nil, err
	}
	return &NetworkExports{auditor: auditor{log: store, now: now}, store: store, k: k}, nil
}

// K returns the least k of an export: the office's statistics k.
func (n *NetworkExports) K() int { return n.k }

// Export returns the k-anonymous records of a year to an admin. k 0 means
// the office's statistics k; a smaller k is refused (an export must not
// be less protected than the published tables). format ("csv" or "json")
// is only recorded in the audit entry, which is written before the rows
// are handed back: if it cannot be written, nothing leaves.
func (n *NetworkExports) Export(ctx context.Context, s *OfficeSession, year, k int, format string) (NetworkExport, error) {
	// Publishing permission: the export, like publishing, lets figures
	// leave the office (admins only).
	if err := allow(s, PermPublishStatistics); err != nil {
		return NetworkExport{}, err
	}
	x, err := n.export(ctx, s, year, k, format)
	return x, opError("network export", err)
}

// ExportAsSystem is Export for the command line, audited as the system.
func (n *NetworkExports) ExportAsSystem(ctx context.Context, year, k int, format string) (NetworkExport, error) {
	x, err := n.export(ctx, nil, year, k, format)
	return x, opError("network export", err)
}

func (n *NetworkExports) export(ctx context.Context, s *OfficeSession, year, k int, format string) (NetworkExport, error) {
	if k == 0 {
		k = n.k
	}
	if k < n.k {
		return NetworkExport{}, Errorf(EInvalid, "error.netexport.k")
	}
	if year < 2000 || year > 9999 {
		return NetworkExport{}, Errorf(EInvalid, "error.stats.year")
	}
	if format != "csv" && format != "json" {
		return NetworkExport{}, Errorf(EInvalid, "error.netexport.format")
	}
	// The records are read outside the unit: it holds the only writer,
	// and reading needs none. The entry is written before the rows are
	// returned, so no export leaves unrecorded.
	var records []NetRecord
	err := n.store.NetworkRecords(ctx, year, func(r NetRecord) error {
		records = append(records, r)
		return nil
	})
	if err != nil {
		return NetworkExport{}, err
	}
	x := AnonymiseNetwork(year, k, records)
	detail := fmt.Sprintf("year=%d format=%s k=%d", year, format, k)
	if err := n.audited(ctx, s, AuditNetworkExport, "", detail, func(context.Context) error { return nil }); err != nil {
		return NetworkExport{}, err
	}
	return x, nil
}
