package storage

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// exercised says, for every migration, what TestMigrationsFromEveryOlderSchema
// seeds at the steps that have it and checks after the upgrade. A
// migration missing here fails the test: whoever adds one must add its
// rows to seedDeployment and its expectations to checkUpgraded.
var exercised = map[string]string{
	"0001_init.sql":                "settings, two teams with recovery envelopes, three users, team keys, a session, case counters, four reports",
	"0002_audit.sql":               "three audit entries written by the chain code; the chain still verifies and grows",
	"0003_accounts.sql":            "failed logins, a lock, last login days, an invited user with an invitation",
	"0004_totp.sql":                "last TOTP step and recovery codes",
	"0005_cases.sql":               "records with grounds, incident days, exact deadlines, status history, a note, a closed case",
	"0006_followup.sql":            "messages from both sides and the two list markers",
	"0007_attachments.sql":         "a complete attachment with two chunks and an unfinished upload",
	"0008_outbox.sql":              "a user's e-mail address, a pending and a sent mail",
	"0009_statistics.sql":          "received_year filled from the report rows (older records) or by the trigger (newer ones); a published year",
	"0010_message_attachments.sql": "a file sent with a reporter's message",
	"0011_retention.sql":           "a report whose content was deleted on schedule",
	"0013_login_devices.sql":       "a known device with a failure",
	"0014_integrity.sql":           "MACs on a team, a user and the recovery key; NULL on the older rows",
	"0030_less_metadata.sql":       "language emptied, exact deadlines turned into the Monday of their week, incident days kept until moved",
	"0040_team_key_chain.sql":      "a replaced team key",
	"0041_rotate_pending.sql":      "a team marked for rotation; 0 on every older team",
	"0045_reply_templates.sql":     "a new table only (reply_templates): no older row changes",
	"0044_reminders.sql":           "new tables only (reminders, reminder_mails): no older row changes, and the reports and notes checked above are intact",
	"0043_interpreter.sql":         "a case marked for an interpreter (sealed); NULL on every older case",
	"0042_list_filters.sql":        "one row per sub-ground and area of every record, filled from the records",
	"0047_stat_counts.sql":         "per-year counts (cases, grounds) filled from the older records by the migration, kept by triggers for records written after it",
	"0048_unread_ids.sql":          "the unread partial index rebuilt with the report IDs (no rows change)",
	"0049_working_flags.sql":       "no older case has working flags (the list decrypts those); flags set after the upgrade are read and filtered by, never on a case whose content is deleted",
	"0046_list_speed.sql":          "team_id of every code and ground row filled from its report (older rows) or by the trigger (newer ones)",
}

// TestMigrationsFromEveryOlderSchema builds a database as it stood after
// each migration, fills it with the rows the code of that time wrote,
// opens it with today's code and checks that nothing was lost and that
// every later migration transformed the old rows as it means to. A
// deployment can be upgraded from any release; a report lost or a
// statistic counted in the wrong year on the way is real harm.
func TestMigrationsFromEveryOlderSchema(t *testing.T) {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	for _, name := range names {
		if _, ok := exercised[filepath.Base(name)]; !ok {
			t.Errorf("migration %s has no seed rows or checks in this test", name)
		}
	}
	if len(exercised) != len(names) {
		t.Errorf("%d migrations listed as exercised, %d embedded", len(exercised), len(names))
	}
	fresh := schemaOf(t, mustOpenDir(t, t.TempDir()))

	for i, name := range names {
		at := migrationNumber(t, name)
		t.Run(strings.TrimSuffix(filepath.Base(name), ".sql"), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			buildAtStep(t, dir, names[:i+1], at)
			db := mustOpenDir(t, dir)
			if got := schemaOf(t, db); got != fresh {
				t.Errorf("schema after upgrading from %s differs from a new database's:\n%s\nwant:\n%s", name, got, fresh)
			}
			checkUpgraded(t, db, at)
		})
	}
}

func migrationNumber(t *testing.T, name string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.SplitN(filepath.Base(name), "_", 2)[0])
	if err != nil {
		t.Fatalf("migration %s: no number: %v", name, err)
	}
	return n
}

func mustOpenDir(t *testing.T, dir string) *DB {
	t.Helper()
	db, err := Open(dir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// schemaOf lists the tables, indexes and triggers as SQLite stores them.
func schemaOf(t *testing.T, db *DB) string {
	t.Helper()
	rows, err := db.read.Query(`SELECT type, name, coalesce(sql, '') FROM sqlite_master ORDER BY type, name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var typ, name, text string
		if err := rows.Scan(&typ, &name, &text); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s: %s\n", typ, name, text)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// The rows' fixed values. Keys and ciphertexts are short stand-ins: the
// migrations never look into them, and the checks compare them byte for
// byte.
var (
	teamKey1, teamKey2, prevKey = bytes.Repeat([]byte{0x11}, 32), bytes.Repeat([]byte{0x22}, 32), bytes.Repeat([]byte{0x41}, 32)
	recoveryPub                 = bytes.Repeat([]byte{0x99}, 32)
	userParams                  = vault.Params{Time: 5, MemoryKiB: 19 * 1024, Threads: 3}
	receiptParams               = vault.Params{Time: 2, MemoryKiB: 19 * 1024, Threads: 1}
	auditTime                   = time.Date(2026, 1, 5, 9, 30, 0, 123456000, time.UTC)
)

// oldReport is one report of the seeded deployment and what its record
// (from 0005 on) says.
type oldReport struct {
	id, caseNo, receivedOn, status, language string
	team, assignee                           int64
	content, lookup                          []byte
	class                                    *reporting.Classification
}

// r1 was received in 2026 about an incident in December 2025: 0009 must
// count it in 2026. Its AGG deadline (1 Feb 2026) is a Sunday, the edge
// of 0030's week arithmetic; r4's (6 Apr 2026) is a Monday.
var oldReports = []oldReport{
	{id: "report-1", caseNo: "2026-0001", receivedOn: "2026-01-05", status: reporting.StatusCounselling, language: "ar",
		team: 1, assignee: 2, content: []byte("sealed content 1"), lookup: []byte("lookup-1"),
		class: &reporting.Classification{ReportID: "report-1", Year: 2025, Month: 12, Day: 1, Municipality: "05913000",
			Grounds: []string{"ethnic", "religion"}, Areas: []string{"work"}, Forms: []string{"insult"},
			Level: "individual", IncidentType: "single", ReporterRole: "affected", AGGRelevant: "agg_relevant",
			Interventions: []string{"counselling"}}},
	{id: "report-2", caseNo: "2025-0001", receivedOn: "2025-12-30", status: reporting.StatusNew, language: "tr",
		team: 1, content: []byte("sealed content 2"), lookup: []byte("lookup-2")},
	{id: "report-3", caseNo: "2026-0002", receivedOn: "2026-02-03", status: reporting.StatusClosed, language: "de",
		team: 2, assignee: 1, content: []byte("sealed content 3"), lookup: []byte("lookup-3"),
		class: &reporting.Classification{ReportID: "report-3", Municipality: "05954036", Grounds: []string{"gender"},
			Areas: []string{"education"}, ReporterRole: "witness", AGGRelevant: "not_agg_relevant",
			ClosedOn: "2026-03-10", ClosingReason: "resolved"}},
	{id: "report-4", caseNo: "2026-0003", receivedOn: "2026-02-10", status: reporting.StatusTriage, language: "rom",
		team: 1, content: []byte("sealed content 4"), lookup: []byte("lookup-4"),
		class: &reporting.Classification{ReportID: "report-4", Year: 2026, Month: 2, Day: 6, Municipality: "05913000",
			Grounds: []string{"ethnic"}, Areas: []string{"goods_services"}, AGGRelevant: "agg_relevant"}},
}

// buildAtStep makes the database of a deployment whose last migration was
// the last of names, with the rows its code wrote, and closes it.
func buildAtStep(t *testing.T, dir string, names []string, at int) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(dir, FileName)
	conn := dsn(path, false)
	if at <= 11 {
		// Releases up to 0011 created their file without auto_vacuum;
		// Open switches such a file once, with a VACUUM of all the rows.
		conn = "file:" + path + "?_journal_mode=WAL&_synchronous=FULL&_foreign_keys=on&_txlock=immediate"
	}
	db := &DB{path: path}
	var err error
	if db.write, err = sql.Open("sqlite3", conn); err != nil {
		t.Fatal(err)
	}
	db.write.SetMaxOpenConns(1)
	defer db.write.Close()
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE schema_migrations (name TEXT PRIMARY KEY) STRICT`); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if err := db.apply(ctx, name); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		return seedDeployment(ctx, db, tx, at)
	})
	if err != nil {
		t.Fatalf("seeding the schema of %04d: %v", at, err)
	}
}

// seedDeployment writes, in the schema after migration at, the rows a
// deployment of that release holds: each block only once the migration
// that made its tables and columns has run, and as that release's code
// wrote them (a language in plain before 0030, exact deadlines before
// 0030, no MACs before 0014).
func seedDeployment(ctx context.Context, db *DB, tx *sql.Tx, at int) error {
	has := func(m int) bool { return at >= m }
	var qs []string
	var args [][]any
	q := func(query string, a ...any) { qs, args = append(qs, query), append(args, a) }

	q(`INSERT INTO settings (key, value) VALUES ('recovery_public_key', ?), ('retention_days', CAST('365' AS BLOB))`, recoveryPub)
	q(`INSERT INTO teams (id, name, public_key, municipalities) VALUES (1, 'PLANB', ?, '05913000,05954036'), (2, 'Beratung Süd', ?, '')`, teamKey1, teamKey2)
	q(`INSERT INTO recovery_envelopes (team_id, wrapped) VALUES (1, x'E1'), (2, x'E2')`)
	for _, u := range []struct {
		id         int64
		name, role string
		disabled   int
		totp       []byte
	}{{1, "admin", "admin", 0, []byte("sealed totp")}, {2, "berater", "counsellor", 0, nil}, {3, "statistik", "statistician", 1, nil}} {
		q(`INSERT INTO users (id, name, role, salt, kdf_params, verifier_hash, public_key, private_key_wrapped, totp_secret_sealed, disabled)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, u.id, u.name, u.role, []byte("salt-"+u.name), userParams.String(),
			[]byte("verifier-"+u.name), bytes.Repeat([]byte{byte(0x30 + u.id)}, 32), []byte("wrapped-"+u.name), u.totp, u.disabled)
	}
	q(`INSERT INTO user_team_keys (user_id, team_id, wrapped) VALUES (1, 1, x'0101'), (2, 1, x'0201'), (1, 2, x'0102')`)
	q(`INSERT INTO sessions (token_hash, user_id, created, last_seen) VALUES (x'5E', 1, 1767602000, 1767603000)`)
	q(`INSERT INTO case_counters (year, last) VALUES (2025, 1), (2026, 3)`)
	for _, r := range oldReports {
		lang := r.language
		if has(30) {
			lang = "" // written as '' since 0030
		}
		var assignee any
		if r.assignee != 0 {
			assignee = r.assignee
		}
		q(`INSERT INTO reports (id, case_no, team_id, received_on, lookup_hash, kdf_params, sealed_key, reporter_key, content, status, assignee, language)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.id, r.caseNo, r.team, r.receivedOn, r.lookup, receiptParams.String(),
			[]byte("sealed key "+r.id), []byte("reporter key "+r.id), r.content, r.status, assignee, lang)
	}
	if has(3) {
		q(`UPDATE users SET failed_count = 3, locked_until = 1800000000, last_login = '2026-01-05' WHERE id = 2`)
		q(`UPDATE users SET last_login = '2026-02-03' WHERE id = 1`)
		q(`INSERT INTO users (id, name, role, salt, kdf_params, verifier_hash, public_key, private_key_wrapped)
			VALUES (4, 'eingeladen', 'counsellor', x'5A', ?, x'', ?, x'')`, userParams.String(), bytes.Repeat([]byte{0x34}, 32))
		q(`INSERT INTO invitations (user_id, token_hash, private_key_wrapped, expires, created_by) VALUES (4, x'1A', x'1B', 1900000000, 1)`)
	}
	if has(4) {
		q(`UPDATE users SET totp_last_step = 58920000 WHERE id = 1`)
		q(`INSERT INTO totp_recovery_codes (user_id, hash) VALUES (1, x'C1'), (1, x'C2'), (1, x'C3')`)
	}
	if has(5) {
		for _, r := range oldReports {
			c := r.class
			if c == nil {
				continue
			}
			if has(30) {
				// Since 0030 triage seals the day and keeps only the week.
				q(`UPDATE reports SET deadline_week = ?, dates_sealed = ? WHERE id = ?`, nullString(c.DeadlineWeek()), []byte("sealed dates"), r.id)
			} else {
				q(`UPDATE reports SET incident_day = ?, deadline = ? WHERE id = ?`, nullInt(c.Day), nullString(c.DeadlineDate()), r.id)
			}
			// Without received_year: before 0009 there is none, after it
			// the trigger fills it, as for PutClassification's rows.
			q(`INSERT INTO classifications (report_id, year, month, municipality, grounds, subgrounds, areas, subareas, forms,
				level, incident_type, reporter_role, agg_relevant, interventions, closed_on, closing_reason)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.ReportID, nullInt(c.Year), nullInt(c.Month), c.Municipality,
				joinCodes(c.Grounds), joinCodes(c.Subgrounds), joinCodes(c.Areas), joinCodes(c.Subareas), joinCodes(c.Forms),
				c.Level, c.IncidentType, c.ReporterRole, c.AGGRelevant, joinCodes(c.Interventions), nullString(c.ClosedOn), c.ClosingReason)
			for _, g := range c.Grounds {
				q(`INSERT INTO classification_grounds (ground, report_id) VALUES (?, ?)`, g, c.ReportID)
			}
			if has(42) {
				// Since 0042 PutClassification adds a row per sub-ground and area.
				for dim, codes := range map[string][]string{"subground": c.Subgrounds, "area": c.Areas} {
					for _, code := range codes {
						q(`INSERT INTO classification_codes (dim, code, report_id) VALUES (?, ?, ?)`, dim, code, c.ReportID)
					}
				}
			}
		}
		q(`INSERT INTO status_history (report_id, at, user_id, from_status, to_status) VALUES
			('report-1', '2026-01-06T08:00:00Z', 2, 'new', 'triage'), ('report-1', '2026-01-07T08:00:00Z', 2, 'triage', 'counselling')`)
		q(`INSERT INTO notes (id, report_id, user_id, at, body) VALUES ('note-1', 'report-1', 2, '2026-01-07T08:05:00Z', x'AB')`)
	}
	if has(6) {
		q(`INSERT INTO messages (id, report_id, author, day, body) VALUES
			('msg-1', 'report-1', 'reporter', '2026-01-07', x'01'), ('msg-2', 'report-1', 'counsellor', '2026-01-08', x'02'),
			('msg-3', 'report-2', 'reporter', '2026-01-02', x'03')`)
		q(`UPDATE reports SET awaiting_reporter = 1 WHERE id = 'report-1'`)
		q(`UPDATE reports SET reporter_unread = 1 WHERE id = 'report-2'`)
	}
	if has(7) {
		q(`INSERT INTO attachments (id, report_id, wrapped_key, meta, complete, seq) VALUES
			('att-1', 'report-1', x'A1', x'AE', 1, 1), ('att-2', 'report-2', x'A2', NULL, 0, 1)`)
		q(`INSERT INTO attachment_chunks (attachment_id, idx, data) VALUES ('att-1', 0, x'C0'), ('att-1', 1, x'C1')`)
	}
	if has(8) {
		q(`UPDATE users SET email = 'berater@beratung.invalid' WHERE id = 2`)
		q(`INSERT INTO outbox (recipient, subject, body, attempts, next_attempt_at, last_error_code, sent_at) VALUES
			('berater@beratung.invalid', 'Neue Meldung', 'Für PLANB ist etwas Neues da.', 2, 1767610000, 'dial', NULL),
			('admin@beratung.invalid', 'Neue Meldung', 'Für PLANB ist etwas Neues da.', 0, 1767600000, '', 1767600100)`)
	}
	if has(9) {
		q(`INSERT INTO statistics_published (year, published_at, tables) VALUES (2025, '2026-01-15T10:00:00Z', '{"total":0}')`)
	}
	if has(10) {
		q(`INSERT INTO attachments (id, report_id, wrapped_key, meta, complete, seq, message_id) VALUES ('att-3', 'report-2', x'A3', x'AF', 1, 2, 'msg-3')`)
		q(`INSERT INTO attachment_chunks (attachment_id, idx, data) VALUES ('att-3', 0, x'C3')`)
	}
	if has(11) {
		// The sweep of that time blanked the closed case's content.
		q(`UPDATE reports SET content = x'', sealed_key = x'', reporter_key = x'', lookup_hash = x'DEAD',
			incident_day = NULL, deadline = NULL, reporter_unread = 0, awaiting_reporter = 0,
			content_deleted_on = '2026-06-01' WHERE id = 'report-3'`)
	}
	if has(13) {
		q(`INSERT INTO login_devices (user_id, token_hash, failed_count, locked_until, created, last_used)
			VALUES (2, x'D1', 1, 0, 1767600000, 1767610000)`)
	}
	if has(14) {
		q(`UPDATE teams SET mac = x'7A' WHERE id = 1`)
		q(`UPDATE users SET mac = x'7B' WHERE id = 1`)
		q(`UPDATE settings SET mac = x'7C' WHERE key = 'recovery_public_key'`)
	}
	if has(40) {
		q(`INSERT INTO team_previous_keys (team_id, public_key, successor_key, wrapped) VALUES (1, ?, ?, x'9A')`, prevKey, teamKey1)
	}
	if has(41) {
		q(`UPDATE teams SET rotate_pending = 1 WHERE id = 2`)
	}
	if has(43) {
		q(`UPDATE reports SET interpreter = x'5E' WHERE id = 'report-1'`)
	}
	for i, query := range qs {
		if _, err := tx.ExecContext(ctx, query, args[i]...); err != nil {
			return fmt.Errorf("%s: %w", query, err)
		}
	}
	if has(2) {
		// Through the chain code, which has only ever needed the audit
		// and settings tables: the hashes are the real ones.
		for _, e := range []reporting.AuditEntry{
			{At: auditTime, UserName: "system", Action: reporting.AuditSetup},
			{At: auditTime.Add(time.Minute), UserID: 2, UserName: "berater", Action: reporting.AuditLogin},
			{At: auditTime.Add(2 * time.Minute), UserID: 2, UserName: "berater", Action: reporting.AuditCaseOpen, ReportID: "report-1"},
		} {
			if err := db.appendAuditTx(ctx, tx, &e); err != nil {
				return fmt.Errorf("audit: %w", err)
			}
		}
	}
	return nil
}

// checkUpgraded reads the upgraded database through today's store and
// checks every seeded row as the office and the reporters would see it.
func checkUpgraded(t *testing.T, db *DB, at int) {
	ctx := context.Background()
	has := func(m int) bool { return at >= m }
	raw := func(query string, dest ...any) {
		t.Helper()
		if err := db.read.QueryRowContext(ctx, query).Scan(dest...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}

	var check string
	raw(`PRAGMA integrity_check`, &check)
	var fkProblems, autoVacuum int
	raw(`SELECT count(*) FROM pragma_foreign_key_check`, &fkProblems)
	raw(`PRAGMA auto_vacuum`, &autoVacuum)
	if check != "ok" || fkProblems != 0 || autoVacuum != autoVacuumIncremental {
		t.Errorf("integrity %q, %d foreign key problems, auto_vacuum %d; want ok, 0, %d", check, fkProblems, autoVacuum, autoVacuumIncremental)
	}

	// Teams and keys.
	teams, err := db.Teams(ctx)
	if err != nil || len(teams) != 2 {
		t.Fatalf("Teams: %v, %v", teams, err)
	}
	if teams[0].Name != "PLANB" || !bytes.Equal(teams[0].PublicKey[:], teamKey1) || !slices.Equal(teams[0].Municipalities, []string{"05913000", "05954036"}) ||
		teams[1].Name != "Beratung Süd" || !bytes.Equal(teams[1].PublicKey[:], teamKey2) || teams[1].Municipalities != nil {
		t.Errorf("teams after upgrade: %+v", teams)
	}
	if wantMAC := has(14); (teams[0].MAC != nil) != wantMAC || teams[1].MAC != nil {
		t.Errorf("team MACs %x, %x; want the first only from 0014 on, NULL for a row from before", teams[0].MAC, teams[1].MAC)
	}
	checkListCodes(t, db, has(5))
	checkListTeams(t, db, has(5))

	if teams[0].RotatePending || teams[1].RotatePending != has(41) {
		t.Errorf("rotate_pending %v, %v; want false (0041's default) and %v", teams[0].RotatePending, teams[1].RotatePending, has(41))
	}
	if got, err := db.Interpreter(ctx, "report-1"); err != nil || !bytes.Equal(got, map[bool][]byte{true: {0x5E}}[has(43)]) {
		t.Errorf("Interpreter(report-1): %x, %v; want 5e from 0043 on, nothing before", got, err)
	}
	if got, err := db.Interpreter(ctx, "report-2"); err != nil || got != nil {
		t.Errorf("Interpreter(report-2): %x, %v; want none", got, err)
	}
	if keys, err := db.RecoveryKeys(ctx); err != nil || len(keys) != 2 || !bytes.Equal(keys[0].Wrapped, []byte{0xE1}) {
		t.Errorf("RecoveryKeys: %+v, %v", keys, err)
	}
	if keys, err := db.UserTeamKeys(ctx, 1); err != nil || len(keys) != 2 {
		t.Errorf("UserTeamKeys(admin): %+v, %v; want both teams' keys", keys, err)
	}
	prev, err := db.PreviousTeamKeys(ctx, 1)
	if err != nil || (len(prev) == 1) != has(40) || (has(40) && !bytes.Equal(prev[0].PublicKey[:], prevKey)) {
		t.Errorf("PreviousTeamKeys: %+v, %v", prev, err)
	}
	v, mac, err := db.SettingMAC(ctx, "recovery_public_key")
	if err != nil || !bytes.Equal(v, recoveryPub) || (mac != nil) != has(14) {
		t.Errorf("recovery public key %x, MAC %x, %v", v, mac, err)
	}

	// Users: who they are, how they log in, what they left.
	for id, name := range map[int64]string{1: "admin", 2: "berater", 3: "statistik"} {
		u, err := db.User(ctx, id)
		if err != nil || u.Name != name || u.Params != userParams || !bytes.Equal(u.Verifier, []byte("verifier-"+name)) ||
			!bytes.Equal(u.WrappedKey, []byte("wrapped-"+name)) || u.PublicKey[0] != byte(0x30+id) || u.Disabled != (id == 3) {
			t.Errorf("User(%d) after upgrade: %+v, %v", id, u, err)
		}
		if (u.MAC != nil) != (has(14) && id == 1) {
			t.Errorf("user %s MAC %x", name, u.MAC)
		}
	}
	rows, err := db.UserRows(ctx)
	if err != nil {
		t.Fatalf("UserRows: %v", err)
	}
	byName := map[string]reporting.UserRow{}
	for _, r := range rows {
		byName[r.Name] = r
	}
	if b := byName["berater"]; has(3) && (b.LoginFailures != 3 || b.LastLogin != "2026-01-05" || b.LockedUntil.Unix() != 1800000000) ||
		!has(3) && (b.LoginFailures != 0 || b.LastLogin != "" || !b.LockedUntil.IsZero()) {
		t.Errorf("berater's logins after upgrade: %+v", b)
	}
	if b := byName["berater"]; b.DeviceFailures != map[bool]int{true: 1, false: 0}[has(13)] || !slices.Equal(b.Teams, []string{"PLANB"}) {
		t.Errorf("berater's devices and teams: %+v", b)
	}
	if inv, ok := byName["eingeladen"]; ok != has(3) || has(3) && (!inv.Pending || inv.Expires.Unix() != 1900000000) {
		t.Errorf("invited user after upgrade: %+v (present %v)", inv, ok)
	}
	st, err := db.TOTP(ctx, 1)
	wantStep, wantCodes := int64(0), 0
	if has(4) {
		wantStep, wantCodes = 58920000, 3
	}
	if err != nil || string(st.Sealed) != "sealed totp" || st.LastStep != wantStep || st.RecoveryCodes != wantCodes {
		t.Errorf("admin's TOTP: %+v, %v; want the secret, step %d, %d codes", st, err, wantStep, wantCodes)
	}
	if off, err := db.TOTP(ctx, 2); err != nil || off.Enabled() {
		t.Errorf("berater's TOTP: %+v, %v; want off", off, err)
	}
	if err := db.TouchSession(ctx, []byte{0x5E}, time.Unix(1767604000, 0)); err != nil {
		t.Errorf("the admin's session is gone after the upgrade: %v", err)
	}
	if d, err := db.LoginDevice(ctx, []byte{0xD1}); has(13) && (err != nil || d.UserID != 2) {
		t.Errorf("known device: %+v, %v", d, err)
	}
	if email, err := db.UserEmail(ctx, 2); err != nil || email != map[bool]string{true: "berater@beratung.invalid", false: ""}[has(8)] {
		t.Errorf("berater's e-mail %q, %v", email, err)
	}

	// Reports and receipts.
	for _, want := range oldReports {
		r, err := db.Report(ctx, want.id)
		if err != nil {
			t.Fatalf("Report(%s) after upgrade: %v", want.id, err)
		}
		deleted := want.id == "report-3" && has(11)
		if r.CaseNo != want.caseNo || r.TeamID != want.team || r.ReceivedOn != want.receivedOn || r.Status != want.status ||
			r.KDFParams != receiptParams.String() || deleted != (r.ContentDeletedOn == "2026-06-01") {
			t.Errorf("report %s after upgrade: %+v", want.id, r)
		}
		if !deleted && (!bytes.Equal(r.Content, want.content) || string(r.SealedKey) != "sealed key "+want.id || string(r.ReporterKey) != "reporter key "+want.id) {
			t.Errorf("report %s lost its ciphertexts: %q, %q, %q", want.id, r.Content, r.SealedKey, r.ReporterKey)
		}
		found, err := db.ReportByLookup(ctx, want.lookup)
		if deleted != (err != nil) || !deleted && found.ID != want.id {
			t.Errorf("receipt of %s after upgrade: %q, %v (content deleted: %v)", want.id, found.ID, err, deleted)
		}
	}
	var plainLanguages, exactDeadlines int
	raw(`SELECT count(*) FROM reports WHERE language <> ''`, &plainLanguages)
	raw(`SELECT count(*) FROM reports WHERE deadline IS NOT NULL`, &exactDeadlines)
	if plainLanguages != 0 || exactDeadlines != 0 {
		// 0030: the language is in the sealed content; the exact deadline
		// would give away the incident day.
		t.Errorf("%d reports keep a plain language, %d an exact deadline; want none", plainLanguages, exactDeadlines)
	}
	list, total, err := db.Reports(ctx, []int64{1}, reporting.Page{Limit: 10})
	if err != nil || total != 3 || !slices.Equal(reportIDs(list), []string{"report-4", "report-2", "report-1"}) {
		t.Errorf("team 1's reports, newest first: %d %v, %v", total, reportIDs(list), err)
	}

	// Case work.
	if has(5) {
		checkCaseWork(t, db, at)
	}
	nr := reporting.StoredReport{ID: "report-new", TeamID: 1, ReceivedOn: "2026-03-01", LookupHash: []byte("lookup-new"),
		KDFParams: receiptParams.String(), SealedKey: []byte{1}, ReporterKey: []byte{2}, Content: []byte{3}, Status: reporting.StatusNew}
	if err := db.CreateReport(ctx, &nr); err != nil || nr.CaseNo != "2026-0004" {
		t.Errorf("a new report after the upgrade got case number %q, %v; want 2026-0004 (numbers go on, never repeat)", nr.CaseNo, err)
	}
	if has(6) {
		msgs, err := db.Messages(ctx, "report-1")
		if err != nil || len(msgs) != 2 || msgs[0].Author != reporting.AuthorReporter || msgs[1].Day != "2026-01-08" || !bytes.Equal(msgs[1].Body, []byte{2}) {
			t.Errorf("report-1's messages: %+v, %v", msgs, err)
		}
		flags, err := db.MessageFlags(ctx, []string{"report-1", "report-2", "report-4"})
		if err != nil || len(flags) != 2 || flags["report-1"] != (reporting.MessageFlags{Waiting: true}) || flags["report-2"] != (reporting.MessageFlags{Unread: true}) {
			t.Errorf("message markers: %+v, %v", flags, err)
		}
	}
	if has(7) {
		atts, err := db.Attachments(ctx, "report-1")
		if err != nil || len(atts) != 1 || atts[0].ID != "att-1" || atts[0].Chunks != 2 || atts[0].MessageID != "" || !bytes.Equal(atts[0].Meta, []byte{0xAE}) {
			t.Errorf("report-1's files: %+v, %v", atts, err)
		}
		var chunks [][]byte
		if err := db.AttachmentChunks(ctx, "att-1", func(ct []byte) error { chunks = append(chunks, slices.Clone(ct)); return nil }); err != nil ||
			!slices.EqualFunc(chunks, [][]byte{{0xC0}, {0xC1}}, bytes.Equal) {
			t.Errorf("att-1's chunks: %x, %v", chunks, err)
		}
		atts, err = db.Attachments(ctx, "report-2")
		if err != nil || (len(atts) == 1) != has(10) || has(10) && atts[0].MessageID != "msg-3" {
			t.Errorf("report-2's files: %+v, %v; want only the finished one sent with msg-3 (from 0010 on)", atts, err)
		}
	}
	if has(8) {
		mails, err := db.PendingMails(ctx)
		if err != nil || len(mails) != 1 || mails[0].Recipient != "berater@beratung.invalid" || mails[0].Attempts != 2 ||
			mails[0].LastErrorCode != "dial" || mails[0].NextAttemptAt.Unix() != 1767610000 {
			t.Errorf("pending mails: %+v, %v", mails, err)
		}
	}
	years, err := db.PublishedYears(ctx)
	if err != nil || !slices.Equal(years, map[bool][]int{true: {2025}, false: nil}[has(9)]) {
		t.Errorf("published years %v, %v", years, err)
	}

	// The audit chain: intact, and it grows from where it stopped.
	entries, total, err := db.AuditEntries(ctx, "", reporting.Page{Limit: 10})
	wantEntries := map[bool]int{true: 3, false: 0}[has(2)]
	if err != nil || total != wantEntries || len(entries) != wantEntries || has(2) && (entries[0].ReportID != "report-1" || !entries[2].At.Equal(auditTime)) {
		t.Errorf("audit entries: %d %+v, %v", total, entries, err)
	}
	e := reporting.AuditEntry{At: time.Now(), UserID: 1, UserName: "admin", Action: reporting.AuditLogin}
	if err := db.AppendAudit(ctx, &e); err != nil || e.ID != int64(wantEntries+1) {
		t.Errorf("AppendAudit after upgrade: ID %d, %v; want %d", e.ID, err, wantEntries+1)
	}
	if id, err := db.VerifyAudit(ctx); err != nil {
		t.Errorf("VerifyAudit after upgrade: entry %d: %v", id, err)
	}
}

// checkCaseWork checks the case list, records and statistics of a
// database that had case work (0005) before the upgrade.
func checkCaseWork(t *testing.T, db *DB, at int) {
	ctx := context.Background()
	for _, want := range oldReports {
		row, err := db.CaseRow(ctx, want.id)
		if err != nil {
			t.Fatalf("CaseRow(%s): %v", want.id, err)
		}
		if row.Assignee != want.assignee {
			t.Errorf("%s assigned to %d, want %d", want.id, row.Assignee, want.assignee)
		}
		c := want.class
		if c == nil {
			if row.Classification != nil || row.DeadlineWeek != "" {
				t.Errorf("%s was never triaged, has a record %+v and week %q", want.id, row.Classification, row.DeadlineWeek)
			}
			continue
		}
		got := row.Classification
		if got == nil {
			t.Errorf("%s lost its record", want.id)
			continue
		}
		// 0030 computes the week in SQL; the domain computes it in Go
		// for every new triage: the two must agree, Sundays included.
		if row.DeadlineWeek != c.DeadlineWeek() {
			t.Errorf("%s: deadline week %q, want %q (the Monday of %q)", want.id, row.DeadlineWeek, c.DeadlineWeek(), c.DeadlineDate())
		}
		// Before 0030 the day was plain; it stays until a counsellor opens
		// the case and the domain seals it (the server holds no data key).
		wantDay, wantSealed := c.Day, false
		if at >= 30 {
			wantDay, wantSealed = 0, true
		}
		if got.Day != wantDay || (row.DatesSealed != nil) != wantSealed {
			t.Errorf("%s: incident day %d, sealed dates %q; want %d, sealed %v", want.id, got.Day, row.DatesSealed, wantDay, wantSealed)
		}
		if got.Year != c.Year || got.Month != c.Month || got.Municipality != c.Municipality || !slices.Equal(got.Grounds, c.Grounds) ||
			!slices.Equal(got.Areas, c.Areas) || !slices.Equal(got.Forms, c.Forms) || got.Level != c.Level ||
			got.ReporterRole != c.ReporterRole || got.AGGRelevant != c.AGGRelevant || !slices.Equal(got.Interventions, c.Interventions) ||
			got.ClosedOn != c.ClosedOn || got.ClosingReason != c.ClosingReason {
			t.Errorf("%s's record after upgrade:\n got %+v\nwant %+v", want.id, *got, *c)
		}
	}

	if at < 30 {
		// The move 0030 leaves to the domain: when a counsellor opens the
		// case, the plain day goes and the sealed dates take its place.
		if err := db.SealCaseDates(ctx, "report-4", reporting.CaseDates{Week: "2026-04-06", Sealed: []byte("sealed dates")}); err != nil {
			t.Fatalf("SealCaseDates after upgrade: %v", err)
		}
		row, err := db.CaseRow(ctx, "report-4")
		var day sql.NullInt64
		if err == nil {
			err = db.read.QueryRowContext(ctx, `SELECT incident_day FROM reports WHERE id = 'report-4'`).Scan(&day)
		}
		if err != nil || day.Valid || row.DeadlineWeek != "2026-04-06" || string(row.DatesSealed) != "sealed dates" {
			t.Errorf("report-4 after its dates were sealed: incident_day %v, week %q, sealed %q, %v; want NULL, 2026-04-06, sealed",
				day, row.DeadlineWeek, row.DatesSealed, err)
		}
	}

	list, total, err := db.CaseList(ctx, reporting.CaseQuery{Teams: []int64{1}, DeadlineWeekBy: "2026-01-26", Page: reporting.Page{Limit: 50}})
	if err != nil || total != 1 || len(list) != 1 || list[0].ID != "report-1" {
		t.Errorf("cases with a deadline by the week of 26 Jan 2026: %d %v, %v; want report-1 only", total, caseIDs(list), err)
	}
	list, _, err = db.CaseList(ctx, reporting.CaseQuery{Teams: []int64{1}, Sort: reporting.SortDeadline, Page: reporting.Page{Limit: 50}})
	if err != nil || !slices.Equal(caseIDs(list), []string{"report-1", "report-4", "report-2"}) {
		t.Errorf("team 1's cases by deadline: %v, %v", caseIDs(list), err)
	}
	list, _, err = db.CaseList(ctx, reporting.CaseQuery{Teams: []int64{1, 2}, Ground: "religion", Page: reporting.Page{Limit: 50}})
	if err != nil || !slices.Equal(caseIDs(list), []string{"report-1"}) {
		t.Errorf("cases on the ground religion: %v, %v", caseIDs(list), err)
	}
	checkWorkFlags(t, db, at)
	hist, err := db.StatusHistory(ctx, "report-1")
	if err != nil || len(hist) != 2 || hist[1].To != reporting.StatusCounselling || hist[1].UserName != "berater" {
		t.Errorf("report-1's history: %+v, %v", hist, err)
	}
	notes, err := db.Notes(ctx, "report-1")
	if err != nil || len(notes) != 1 || !bytes.Equal(notes[0].Body, []byte{0xAB}) || notes[0].UserName != "berater" {
		t.Errorf("report-1's notes: %+v, %v", notes, err)
	}

	// 0009: statistics count a case in the year it was received, not the
	// year of the incident (report-1: December 2025, received 2026).
	if n := countRecords(t, db, 2026); n != 3 {
		t.Errorf("%d records counted for 2026, want 3 (report-1, -3, -4)", n)
	}
	if n := countRecords(t, db, 2025); n != 0 {
		t.Errorf("%d records counted for 2025, want 0 (report-2 is not triaged; report-1 was received in 2026)", n)
	}
	// A record written by today's code on the upgraded schema counts too.
	if err := db.PutClassification(ctx, reporting.Classification{ReportID: "report-2", Municipality: "05913000", Grounds: []string{"ethnic"}},
		reporting.CaseDates{}); err != nil {
		t.Fatalf("PutClassification after upgrade: %v", err)
	}
	if n := countRecords(t, db, 2025); n != 1 {
		t.Errorf("%d records counted for 2025 after triaging report-2, want 1", n)
	}
}

// checkWorkFlags checks 0049: every older case comes without working
// flags and is one of those the list decrypts, except the one whose
// content retention deleted (from 0011 on); flags set afterwards are
// filtered by, and a deleted case takes none.
func checkWorkFlags(t *testing.T, db *DB, at int) {
	t.Helper()
	ctx := context.Background()
	all := reporting.CaseQuery{Teams: []int64{1, 2}, Page: reporting.Page{Limit: 50}}
	list, _, err := db.CaseList(ctx, all)
	if err != nil {
		t.Fatalf("case list: %v", err)
	}
	for _, r := range list {
		if r.Flags != nil {
			t.Errorf("%s has working flags %+v right after the upgrade", r.ID, *r.Flags)
		}
	}
	unflagged := all
	unflagged.Unflagged = true
	before, _, err := db.CaseList(ctx, unflagged)
	deleted := at >= 11 // report-3's content was deleted on schedule
	if err != nil || slices.Contains(caseIDs(before), "report-3") == deleted || !slices.Contains(caseIDs(before), "report-1") {
		t.Errorf("cases to decrypt for a wish filter: %v, %v; report-3 (deleted: %v) must not be one when deleted", caseIDs(before), err, deleted)
	}
	for _, id := range []string{"report-1", "report-3"} {
		if err := db.SetWorkFlags(ctx, map[string]reporting.WorkFlags{id: {Wish: "counselling", HasContact: true}}); err != nil {
			t.Fatalf("SetWorkFlags(%s): %v", id, err)
		}
	}
	wish := all
	wish.Wish, wish.Contact = "counselling", "yes"
	found, n, err := db.CaseList(ctx, wish)
	want := []string{"report-1"}
	if !deleted {
		want = []string{"report-1", "report-3"}
		slices.SortFunc(found, func(a, b reporting.CaseRow) int { return strings.Compare(a.ID, b.ID) })
	}
	if err != nil || n != len(want) || !slices.Equal(caseIDs(found), want) {
		t.Errorf("wish=counselling, contact=yes after setting flags: %d %v, %v; want %v", n, caseIDs(found), err, want)
	}
	row, err := db.CaseRow(ctx, "report-1")
	if err != nil || row.Flags == nil || *row.Flags != (reporting.WorkFlags{Wish: "counselling", HasContact: true}) {
		t.Errorf("report-1's flags: %+v, %v", row.Flags, err)
	}
}

func countRecords(t *testing.T, db *DB, year int) int {
	t.Helper()
	n := 0
	grounds := map[string]int{}
	if err := db.StatisticalRecords(context.Background(), year, func(r reporting.StatRecord) error {
		n++
		for _, g := range r.Grounds {
			grounds[g]++
		}
		return nil
	}); err != nil {
		t.Fatalf("StatisticalRecords(%d): %v", year, err)
	}
	// 0047: the aggregate counts, filled from the records the migration
	// found and kept by triggers since, count the same cases.
	counts, err := db.StatCounts(context.Background(), year, year)
	if err != nil {
		t.Fatalf("StatCounts(%d): %v", year, err)
	}
	cases, kept := 0, map[string]int{}
	for _, c := range counts {
		switch c.Dim {
		case "cases":
			cases = c.N
		case "ground":
			kept[c.Code] = c.N
		}
	}
	if cases != n || !maps.Equal(kept, grounds) {
		t.Errorf("stat_counts for %d: %d cases, grounds %v; the records: %d, %v", year, cases, kept, n, grounds)
	}
	return n
}

func reportIDs(list []reporting.StoredReport) []string {
	var ids []string
	for _, r := range list {
		ids = append(ids, r.ID)
	}
	return ids
}

func caseIDs(list []reporting.CaseRow) []string {
	var ids []string
	for _, r := range list {
		ids = append(ids, r.ID)
	}
	return ids
}

// checkListCodes checks 0042: classification_codes holds exactly the
// sub-grounds and areas of every record (filled by the migration for
// older records, by PutClassification since), and some if there are
// records.
func checkListCodes(t *testing.T, db *DB, records bool) {
	t.Helper()
	ctx := context.Background()
	want := map[string]bool{}
	rows, err := db.read.QueryContext(ctx, `SELECT report_id, subgrounds, areas FROM classifications`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, subgrounds, areas string
		if err := rows.Scan(&id, &subgrounds, &areas); err != nil {
			t.Fatal(err)
		}
		for _, g := range splitCodes(subgrounds) {
			want["subground "+g+" "+id] = true
		}
		for _, a := range splitCodes(areas) {
			want["area "+a+" "+id] = true
		}
	}
	rows.Close()
	got := map[string]bool{}
	rows, err = db.read.QueryContext(ctx, `SELECT dim || ' ' || code || ' ' || report_id FROM classification_codes`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		got[k] = true
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || (records && len(want) == 0) {
		t.Errorf("classification_codes %v, want %v (from the records)", got, want)
	}
}

// checkListTeams checks 0046: every row of classification_codes and
// classification_grounds carries its report's team (the list counts by
// it), and there are such rows if there are records.
func checkListTeams(t *testing.T, db *DB, records bool) {
	t.Helper()
	var rows, wrong int
	err := db.read.QueryRow(`SELECT count(*), coalesce(sum(x.team_id IS NOT r.team_id), 0) FROM
		(SELECT report_id, team_id FROM classification_codes UNION ALL SELECT report_id, team_id FROM classification_grounds) x
		JOIN reports r ON r.id = x.report_id`).Scan(&rows, &wrong)
	if err != nil {
		t.Fatal(err)
	}
	if wrong != 0 || (records && rows == 0) {
		t.Errorf("%d of %d code and ground rows have another team than their report", wrong, rows)
	}
}
