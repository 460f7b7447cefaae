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
	// may exist ("legacy") or not ("pepper"); MACed. Written once, when
	// the first start with a server secret counts the reports.
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

// Intake takes reports in from the public form.
type Intake struct {
	store  Store
	kdf    *vault.KDF
	salt   []byte
	params vault.Params
	anchor *Anchor // checks the team keys reports are sealed to (anchor.go)
	// legacyReceipts: reports without the pepper may exist, so a receipt
	// the peppered lookup does not find is tried without it too.
	legacyReceipts bool
	now            func() time.Time
	notify         *Notifier // nil: no notifications (notify.go)
}

// NotifyWith makes Submit tell the team about each new report through n.
func (in *Intake) NotifyWith(n *Notifier) { in.notify = n }

// NewIntake returns an Intake. The deployment's receipt salt and argon2id
// parameters are created on first use and read back afterwards, so that
// receipts issued before a change of parameters still work.
//
// anchor is shared with the Office: it checks every team before a report
// is routed to it and sealed to its key.
func NewIntake(ctx context.Context, store Store, kdf *vault.KDF, params vault.Params, anchor *Anchor, now func() time.Time) (*Intake, error) {
	salt, err := store.PutSettingOnce(ctx, settingReceiptSalt, vault.NewSalt())
	if err != nil {
		return nil, err
	}
	stored, err := store.PutSettingOnce(ctx, settingReceiptParams, []byte(params.String()))
	if err != nil {
		return nil, err
	}
	floor := vault.Floor(params)
	if params, err = vault.ParseParams(string(stored)); err != nil {
		return nil, err
	}
	// Lowered by a database writer, every later receipt would be cheap
	// to guess: refuse to start rather than issue such receipts.
	if err := anchor.checkParams(ctx, store, now(), "setting:"+settingReceiptParams, params, floor); err != nil {
		return nil, fmt.Errorf("receipt parameters: %w", err)
	}
	legacy, err := legacyReceipts(ctx, store, anchor, now())
	if err != nil {
		return nil, fmt.Errorf("receipt pepper: %w", err)
	}
	// Attachments of uploads cut off by a crash (no upload runs yet).
	if err := store.DeleteOrphanAttachments(ctx); err != nil {
		return nil, err
	}
	// New reports queue behind logins and follow-ups (vault.Lane): a flood of
	// submissions must not lock counsellors or returning reporters out.
	return &Intake{store: store, kdf: kdf.Lane(vault.LaneIntake), salt: salt, params: params, anchor: anchor, legacyReceipts: legacy, now: now}, nil
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
	return in.submit(ctx, r, newUUID(), vault.NewKey())
}

// submit stores a report under a given ID and data key (see SubmitDraft).
func (in *Intake) submit(ctx context.Context, r Report, id string, dk vault.Key) (Receipt, error) {
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

// legacyReceipts reads whether reports without the receipt pepper may
// exist; on the first start with a secret it counts the reports and
// records the answer. A writer who flips a recorded "pepper" to "legacy"
// only costs a second derivation per unknown receipt (and the MAC
// refuses it); the other way round would lock old reporters out, which
// the MAC refuses too.
func legacyReceipts(ctx context.Context, store Store, anchor *Anchor, now time.Time) (bool, error) {
	v, err := anchor.setting(ctx, store, now, settingReceiptPepper)
	if err == nil {
		return string(v) == "legacy", nil
	}
	if ErrorCode(err) != ENotFound {
		return false, err
	}
	teams, err := store.Teams(ctx)
	if err != nil {
		return false, err
	}
	ids := make([]int64, len(teams))
	for i, t := range teams {
		ids[i] = t.ID
	}
	n := 0
	if len(ids) > 0 {
		if _, n, err = store.Reports(ctx, ids, Page{Limit: 1}); err != nil {
			return false, err
		}
	}
	value := []byte("pepper")
	if n > 0 {
		value = []byte("legacy")
	}
	if err := store.PutSettingMAC(ctx, settingReceiptPepper, value, anchor.SettingMAC(settingReceiptPepper, value)); err != nil {
		return false, err
	}
	return n > 0, nil
}
