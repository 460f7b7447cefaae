package reporting_test

import (
	"context"
	"database/sql"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// atomicCase is one audited action for the failing-audit tests: the audit
// log refuses every entry, the action runs, and nothing it would have
// changed may be left in the database.
type atomicCase struct {
	action string // the audit action the change writes
	name   string // which path to it, when an action has several
	// prepare builds the state the change needs and returns the change.
	// The change must be repeatable: after the failed run the database is
	// as before, so the same call must then succeed.
	prepare func(t *testing.T, e *env) func(ctx context.Context) error
	// mayDiffer lists tables (or "table.column") the failed run may still
	// change, each with the reason in a comment where the case is written.
	mayDiffer []string
	// check, if set, looks after the failed run at what the dump cannot
	// see (in-memory state such as a session that must still be valid).
	check func(t *testing.T, e *env)
	// noRerun says the change cannot be repeated for a reason the case
	// states (e.g. an in-memory step it consumes); the rerun is skipped.
	noRerun string
}

// runAtomicCases runs each case against a fresh database whose audit table
// refuses inserts (a real SQLite trigger, so the real transaction code is
// what rolls back).
func runAtomicCases(t *testing.T, cases []atomicCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(strings.TrimSuffix(c.action+"/"+c.name, "/"), func(t *testing.T) {
			e := newEnv(t)
			change := c.prepare(t, e)
			raw := e.rawDB(t)
			before := dumpDB(t, raw, c.mayDiffer)
			lastBefore := lastAudit(t, raw)

			breakAudit(t, raw)
			err := change(t.Context())
			if err == nil {
				t.Fatalf("%s succeeded although its audit entry could not be written", c.action)
			}
			// The person sees the plain "something went wrong" page, not a
			// field error that would invite them to fix their input, and
			// not a success.
			if code, msg := reporting.ErrorCode(err), reporting.MessageID(err); code != "" || msg != "error.internal" {
				t.Errorf("%s with the audit log down: error %q (code %q, message %q), want an internal error", c.action, err, code, msg)
			}
			after := dumpDB(t, raw, c.mayDiffer)
			if diff := diffDumps(before, after); diff != "" {
				t.Errorf("%s left changes behind although its audit entry failed:\n%s", c.action, diff)
			}
			if got := lastAudit(t, raw); got != lastBefore {
				t.Errorf("audit log changed to %q", got)
			}
			if c.check != nil {
				c.check(t, e)
			}

			healAudit(t, raw)
			if c.noRerun != "" {
				return
			}
			since := lastAuditID(t, raw)
			if err := change(t.Context()); err != nil {
				t.Fatalf("%s after the audit log is back: %v", c.action, err)
			}
			// Among the rerun's entries, not necessarily the newest: a login
			// with a recovery code writes totp_recovery_used, then login.
			if got := auditSince(t, raw, since); !slices.ContainsFunc(got, func(a string) bool { return strings.HasPrefix(a, c.action+" ") }) {
				t.Errorf("audit entries of the rerun are %q, want a %s entry", got, c.action)
			}
		})
	}
}

// breakAudit makes every audit insert fail inside SQLite.
func breakAudit(t *testing.T, raw *sql.DB) {
	t.Helper()
	if _, err := raw.ExecContext(t.Context(), `CREATE TRIGGER audit_down BEFORE INSERT ON audit
		BEGIN SELECT RAISE(ABORT, 'audit log unavailable'); END`); err != nil {
		t.Fatal(err)
	}
}

func healAudit(t *testing.T, raw *sql.DB) {
	t.Helper()
	if _, err := raw.ExecContext(t.Context(), `DROP TRIGGER audit_down`); err != nil {
		t.Fatal(err)
	}
}

// lastAudit is the newest audit entry as "action detail", "" when none.
func lastAudit(t *testing.T, raw *sql.DB) string {
	t.Helper()
	var action, detail string
	err := raw.QueryRowContext(t.Context(), `SELECT action, detail FROM audit ORDER BY id DESC LIMIT 1`).Scan(&action, &detail)
	if err == sql.ErrNoRows {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return action + " " + detail
}

// lastAuditID is the newest audit entry's ID, 0 when none.
func lastAuditID(t *testing.T, raw *sql.DB) int64 {
	t.Helper()
	var id int64
	if err := raw.QueryRowContext(t.Context(), `SELECT coalesce(max(id), 0) FROM audit`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// auditSince lists the entries after ID since as "action detail", oldest
// first.
func auditSince(t *testing.T, raw *sql.DB, since int64) []string {
	t.Helper()
	rows, err := raw.QueryContext(t.Context(), `SELECT action, detail FROM audit WHERE id > ? ORDER BY id`, since)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var action, detail string
		if err := rows.Scan(&action, &detail); err != nil {
			t.Fatal(err)
		}
		out = append(out, action+" "+detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// dumpDB returns every row of every table, one line a row, keyed by table,
// leaving out the tables and columns in skip.
func dumpDB(t *testing.T, raw *sql.DB, skip []string) map[string][]string {
	t.Helper()
	ctx := t.Context()
	rows, err := raw.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	dump := map[string][]string{}
	for _, table := range tables {
		if slices.Contains(skip, table) {
			continue
		}
		rows, err := raw.QueryContext(ctx, `SELECT * FROM `+table)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		var lines []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for i, v := range vals {
				if slices.Contains(skip, table+"."+cols[i]) {
					continue
				}
				fmt.Fprintf(&b, "%s=%v ", cols[i], v)
			}
			lines = append(lines, b.String())
		}
		rows.Close()
		slices.Sort(lines)
		dump[table] = lines
	}
	return dump
}

// diffDumps names the tables whose rows differ, with the differing rows.
func diffDumps(before, after map[string][]string) string {
	var b strings.Builder
	tables := maps.Clone(before)
	maps.Copy(tables, after)
	for _, table := range slices.Sorted(maps.Keys(tables)) {
		x, y := before[table], after[table]
		if slices.Equal(x, y) {
			continue
		}
		fmt.Fprintf(&b, "table %s:\n", table)
		for _, l := range x {
			if !slices.Contains(y, l) {
				fmt.Fprintf(&b, "  - %s\n", l)
			}
		}
		for _, l := range y {
			if !slices.Contains(x, l) {
				fmt.Fprintf(&b, "  + %s\n", l)
			}
		}
	}
	return b.String()
}

// declaredAuditActions reads every Audit* string constant of package reporting
// from its source, so that a new action cannot be added without a
// failing-audit case (or a stated reason why it changes nothing).
func declaredAuditActions(t *testing.T) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]string{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				v := spec.(*ast.ValueSpec)
				for i, n := range v.Names {
					if !strings.HasPrefix(n.Name, "Audit") || i >= len(v.Values) {
						continue
					}
					if lit, ok := v.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						s, _ := strconv.Unquote(lit.Value)
						actions[s] = n.Name
					}
				}
			}
		}
	}
	if len(actions) < 30 {
		t.Fatalf("found only %d audit actions in the source; the parser missed some", len(actions))
	}
	return actions
}

// auditWithoutChange lists the audit actions that no failing-audit case
// covers, each with the reason nothing can be rolled back.
var auditWithoutChange = map[string]string{
	reporting.AuditIntegrity: "an alarm, not a change: the failure it reports is kept in memory and shown to admins even when the log cannot take it",
	reporting.AuditExport:    "declared for the record export (issue 14); nothing writes it yet",
}

// Every audited action has a failing-audit case, or a stated reason it
// has none.
func TestFailingAuditCoversEveryAction(t *testing.T) {
	covered := map[string]bool{}
	for _, cases := range [][]atomicCase{accountAtomicCases(), caseAtomicCases(), settingAtomicCases(),
		officeTimeAtomicCases(),    // issue 13: the office's time zone
		reminderAtomicCases(),      // issue 13: reminders
		evidenceAtomicCases(),      // issue 13: previews and the interpreter mark
		listAtomicCases(),          // issue 13: case list search and bulk changes
		replyTemplateAtomicCases(), // issue 13: reply templates, files on a reply
		caseExportAtomicCases(),    // issue 13: case file export
		triageAtomicCases(),        // issue 13: the triage panel and the detailed classification
		netExportAtomicCases(),     // issue 14: the network export
		flagAtomicCases(),          // issue 13: working flags copied by the list
	} {
		for _, c := range cases {
			covered[c.action] = true
		}
	}
	declared := declaredAuditActions(t)
	for _, action := range slices.Sorted(maps.Keys(declared)) {
		name := declared[action]
		_, excused := auditWithoutChange[action]
		switch {
		case covered[action] && excused:
			t.Errorf("%s (%s) has a failing-audit case and an excuse; drop the excuse", name, action)
		case !covered[action] && !excused:
			t.Errorf("%s (%s) has no failing-audit case", name, action)
		}
	}
}

// namedCall is a service call whose error must name its operation.
type namedCall struct {
	op   string
	call func(ctx context.Context) error
}

// wantOperationNamed runs each call (with the audit log or the store
// broken by the caller) and checks that it fails with an internal error
// that starts with its operation's name, so a log line says what failed.
func wantOperationNamed(t *testing.T, calls []namedCall) {
	t.Helper()
	for _, c := range calls {
		err := c.call(t.Context())
		if err == nil {
			t.Errorf("%s succeeded with the store broken", c.op)
			continue
		}
		if !strings.HasPrefix(err.Error(), c.op+": ") {
			t.Errorf("%s: error %q does not name the operation", c.op, err)
		}
		if code := reporting.ErrorCode(err); code != "" {
			t.Errorf("%s: error %q has code %q, want an internal error", c.op, err, code)
		}
	}
}
