package reporting

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// Settings keys of the receipt derivation.
const (
	settingReceiptSalt   = "receipt_salt"
	settingReceiptParams = "receipt_kdf"
	// settingReceiptPepper says whether reports from before the pepper
	// may exist ("legacy") or not ("pepper"); MACed. Written at the first
	// start, or by `secret init`, which counts the reports (settings.go).
	settingReceiptPepper = "receipt_pepper"
)

// receiptPepperV1 prefixes the KDF parameters of a report whose receipt
// was derived with the pepper (vault.KDF.ReceiptPeppered); parameters
// without it are a report from before, derived without.
const receiptPepperV1 = "pepper1$"

// AD purposes of a report's ciphertexts.
const (
	purposeContent     = "report-content"
	purposeSealedKey   = "report-key"
	purposeReporterKey = "reporter-key"
)

// IntakeStore is what the public side needs: storing a report and its
// files, the receipt settings, the teams a report is routed to, and the
// reporter's follow-up (Followup shares the Intake's store).
type IntakeStore interface {
	AuditStore
	AttachmentStore
	FollowupStore
	requiredSettingSource
	Teams(ctx context.Context) ([]Team, error)
	CreateReport(ctx context.Context, r *StoredReport) error
	Report(ctx context.Context, id string) (StoredReport, error)
	Setting(ctx context.Context, key string) ([]byte, error)
	PutSettingMACOnce(ctx context.Context, key string, value, mac []byte) (storedValue, storedMAC []byte, err error)
	PutSettingsMAC(ctx context.Context, settings []SignedSetting) error
	UpgradeReceipt(ctx context.Context, id string, old []byte, r StoredReport) error
	CountReportsByKDF(ctx context.Context, params []string) (int, error)
}

// Intake takes reports in from the public form.
type Intake struct {
	store  IntakeStore
	kdf    *vault.KDF
	salt   []byte
	params vault.Params // for new reports
	// sets are all receipt parameter sets reports may be derived with,
	// params first: a follow-up tries each (settings.go).
	sets   []vault.Params
	anchor *Anchor // checks the team keys reports are sealed to (anchor.go)
	// legacyReceipts: reports without the pepper may exist, so a receipt
	// the peppered lookup does not find is tried without it too.
	legacyReceipts bool
	// fault is the integrity failure found in the receipt settings at
	// start: new reports and follow-ups are refused with it, while the
	// office keeps working and shows the admins the warning.
	fault  error
	now    func() time.Time
	notify *Notifier // nil: no notifications (notify.go)
	// submissions makes each rendered form store at most one report
	// (submission.go).
	submissions *Submissions
}

// Submissions returns the guard that lets each rendered report form
// store one report at most.
func (in *Intake) Submissions() *Submissions { return in.submissions }

// NewIntake returns an Intake. The deployment's receipt salt and argon2id
// parameters are created (with their MACs) on the first start and read
// back afterwards, so that receipts issued before a change of parameters
// still work; `meldestelle kdf raise` changes them for new reports.
//
// anchor is shared with the Office: it checks every team before a report
// is routed to it and sealed to its key. notify, if not nil, tells the
// team about each new report.
func NewIntake(ctx context.Context, store IntakeStore, kdf *vault.KDF, params vault.Params, anchor *Anchor, notify *Notifier, now func() time.Time) (*Intake, error) {
	in := &Intake{store: store, anchor: anchor, notify: notify, now: now, submissions: NewSubmissions(now)}
	// Deleted, altered or lowered by a database writer, the receipt
	// settings would make later receipts cheap to guess or lock earlier
	// reporters out: refuse receipts, but start, so the admins see why.
	rp, err := loadReceiptParams(ctx, store, anchor, params, vault.Floor(params), now())
	switch {
	case MessageID(err) == "error.integrity":
		in.fault = err
	case err != nil:
		return nil, fmt.Errorf("receipt parameters: %w", err)
	}
	in.salt, in.params, in.sets, in.legacyReceipts = rp.salt, rp.current, rp.sets, rp.legacy
	// Attachments of uploads cut off by a crash (no upload runs yet).
	if err := store.DeleteOrphanAttachments(ctx); err != nil {
		return nil, fmt.Errorf("start intake: %w", err)
	}
	// New reports queue behind logins and follow-ups (vault.Lane): a flood of
	// submissions must not lock counsellors or returning reporters out.
	in.kdf = kdf.Lane(vault.LaneIntake)
	return in, nil
}

// Receipt is what a reporter gets back after submitting.
type Receipt struct {
	Code   vault.Receipt
	CaseNo string
}

// Submit encrypts a validated report, routes it to the team covering its
// municipality and stores it durably. Only after the store has committed
// does the reporter see the receipt: an acknowledged report is never lost.
func (in *Intake) Submit(ctx context.Context, r Report) (Receipt, error) {
	rc, err := in.submit(ctx, r, newUUID(), vault.NewKey())
	return rc, opError("submit report", err)
}

// submit stores a report under a given ID and data key (see SubmitDraft).
func (in *Intake) submit(ctx context.Context, r Report, id string, dk vault.Key) (Receipt, error) {
	if in.fault != nil {
		return Receipt{}, in.fault
	}
	// A team inserted by SQL with its own key and our municipalities
	// would receive every new report: routing only trusts MACed teams.
	teams, err := in.anchor.verifiedTeams(ctx, in.store, in.now())
	if err != nil {
		return Receipt{}, err
	}
	team, ok := route(teams, r.Municipality)
	if !ok {
		return Receipt{}, Errorf(EConflict, "error.not_set_up")
	}
	content, err := json.Marshal(r)
	if err != nil {
		return Receipt{}, err
	}
	code := vault.NewReceipt()
	// Peppered: a copy of the database without the secret file cannot
	// test receipt guesses against this report.
	access, err := in.kdf.ReceiptPeppered(ctx, code, in.salt, in.params, in.anchor.pepper)
	if err != nil {
		return Receipt{}, err
	}
	defer access.Wipe() // the reporter key is rebuilt from the receipt, never kept
	stored := &StoredReport{
		ID:          id,
		TeamID:      team.ID,
		ReceivedOn:  in.now().Format(time.DateOnly),
		LookupHash:  access.Lookup,
		KDFParams:   receiptPepperV1 + in.params.String(),
		SealedKey:   team.PublicKey.SealKey(dk, vault.AD{Purpose: purposeSealedKey, Row: id}),
		ReporterKey: access.Key.Wrap(dk, vault.AD{Purpose: purposeReporterKey, Row: id}),
		Content:     dk.Seal(content, vault.AD{Purpose: purposeContent, Row: id}),
		Status:      StatusNew,
		// r.Language goes into the sealed content only (issue 9).
	}
	if err := in.store.CreateReport(ctx, stored); err != nil {
		return Receipt{}, err
	}
	// After the commit, and never failing the submission: the report is
	// safe, and a reporter who saw an error would submit it twice. Not
	// cancelled with the request: a reporter closing the tab right after
	// sending must not cost the team its notification.
	in.notify.Enqueue(context.WithoutCancel(ctx), team.ID, KindReport)
	return Receipt{Code: code, CaseNo: stored.CaseNo}, nil
}

// route picks the team that covers the municipality, or else the first
// team (the one created at setup covers everything).
func route(teams []Team, municipality string) (Team, bool) {
	for _, t := range teams {
		if t.Covers(municipality) {
			return t, true
		}
	}
	if len(teams) > 0 {
		return teams[0], true
	}
	return Team{}, false
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
