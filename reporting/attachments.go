package reporting

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// Limits of attachments.
const (
	// MaxAttachments is how many files one report may carry.
	MaxAttachments = 5
	// MaxAttachmentSize is the largest file accepted, in bytes.
	MaxAttachmentSize = 10 << 20
	// MaxImagePixels refuses decompression bombs: a small file that
	// decodes into gigabytes. Checked from the header before decoding.
	MaxImagePixels = 40_000_000
	// maxNameRunes cuts absurdly long file names.
	maxNameRunes = 200
)

// Content types of accepted attachments.
const (
	TypeJPEG = "image/jpeg"
	TypePNG  = "image/png"
	TypePDF  = "application/pdf"
)

// AD purposes of an attachment's ciphertexts.
const (
	purposeAttachmentKey  = "attachment-key"
	purposeAttachment     = "attachment"
	purposeAttachmentMeta = "attachment-meta"
)

// attachmentBatch is how many sealed chunks are written per transaction:
// fewer commits (each is an fsync) at 1 MiB of memory per upload.
const attachmentBatch = 16

// imageSlots bounds how many images are decoded at once: a decoded 40
// megapixel image takes 160 MB, so many at once could exhaust memory.
var imageSlots = make(chan struct{}, 2)

// StoredAttachment is an attachment row: ciphertexts only.
type StoredAttachment struct {
	ID         string
	ReportID   string
	MessageID  string // the follow-up message it came with; "" for the report's own files
	WrappedKey []byte // the file key wrapped under the report's data key
	Meta       []byte // sealed JSON of AttachmentMeta; nil until complete
	Chunks     int    // number of sealed chunks, filled in when read
}

// AttachmentMeta is what is known about an attachment besides its
// content. The name may identify the reporter, so it is sealed too.
type AttachmentMeta struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Size int64  `json:"size"`
}

// Attachment is an attachment as a counsellor sees it in the list.
type Attachment struct {
	ID        string
	ReportID  string
	MessageID string // "" for a file of the report itself
	AttachmentMeta
}

// SizeKiB is the size in KiB, rounded up, for lists.
func (a AttachmentMeta) SizeKiB() int64 { return (a.Size + 1023) / 1024 }

// PDF reports whether the file is a PDF, whose metadata is not removed.
func (a AttachmentMeta) PDF() bool { return a.Type == TypePDF }

// AttachmentStore keeps encrypted attachments in chunks.
type AttachmentStore interface {
	// CreateAttachment stores a new, incomplete attachment.
	CreateAttachment(ctx context.Context, a StoredAttachment) error
	// PutAttachmentChunks stores sealed chunks first, first+1, … of an
	// incomplete attachment.
	PutAttachmentChunks(ctx context.Context, attachmentID string, first uint64, chunks [][]byte) error
	// FinishAttachment stores the sealed meta data and marks the
	// attachment complete.
	FinishAttachment(ctx context.Context, attachmentID string, meta []byte) error
	// DeleteAttachments removes attachments with their chunks.
	DeleteAttachments(ctx context.Context, ids []string) error
	// DeleteOrphanAttachments removes incomplete attachments and those
	// whose report does not exist; only while no upload runs.
	DeleteOrphanAttachments(ctx context.Context) error
	// Attachments lists the complete attachments of an existing report.
	Attachments(ctx context.Context, reportID string) ([]StoredAttachment, error)
	// Attachment finds one complete attachment of an existing report;
	// ENotFound if none.
	Attachment(ctx context.Context, reportID, id string) (StoredAttachment, error)
	// AttachmentChunks hands the sealed chunks to fn one at a time, in
	// order.
	AttachmentChunks(ctx context.Context, attachmentID string, fn func(ct []byte) error) error
}

func attachmentKeyAD(reportID, id string) vault.AD {
	return vault.AD{Purpose: purposeAttachmentKey, Row: reportID + "/" + id}
}

func attachmentAD(reportID, id string) vault.AD {
	return vault.AD{Purpose: purposeAttachment, Row: reportID + "/" + id}
}

func attachmentMetaAD(reportID, id string) vault.AD {
	return vault.AD{Purpose: purposeAttachmentMeta, Row: reportID + "/" + id}
}

// Draft is a report being received: its ID and data key exist before the
// report is stored, so that its attachments can be sealed while they
// stream in, before the rest of the form has been read.
type Draft struct {
	ID  string
	Key vault.Key
}

// NewDraft starts a report.
func (in *Intake) NewDraft() Draft { return Draft{ID: newUUID(), Key: vault.NewKey()} }

// SubmitDraft stores a report under the draft's ID and key; its
// attachments, added before, become visible with it.
func (in *Intake) SubmitDraft(ctx context.Context, d Draft, r Report) (Receipt, error) {
	return in.submit(ctx, r, d.ID, d.Key)
}

// AddAttachment cleans, seals and stores one file for the report
// reportID, whose data key is dk. It reads body to the end or until it is
// too large. JPEG and PNG are decoded and re-encoded, which drops EXIF,
// GPS and every other kind of metadata; PDF is kept as it is (the caller
// warns the reporter); anything else is refused. The type is told by the
// content, never by the name. An EInvalid error's message ID suits the
// upload field. Reused for the reporter's follow-up messages.
func (in *Intake) AddAttachment(ctx context.Context, reportID string, dk vault.Key, name string, body io.Reader) (Attachment, error) {
	return in.addAttachment(ctx, reportID, "", dk, name, body)
}

// addAttachment is AddAttachment for a file that belongs to the message
// messageID of the report ("" for the report's own files).
func (in *Intake) addAttachment(ctx context.Context, reportID, messageID string, dk vault.Key, name string, body io.Reader) (Attachment, error) {
	br := bufio.NewReaderSize(body, 512)
	head, err := br.Peek(512)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return Attachment{}, err
	}
	if len(head) == 0 {
		return Attachment{}, Errorf(EInvalid, "error.attachments.empty")
	}
	// Sniffing the content: a name or a browser-sent type can say anything.
	typ := http.DetectContentType(head)
	var src io.Reader
	switch typ {
	case TypeJPEG, TypePNG:
		clean, err := reencode(br, typ)
		if err != nil {
			return Attachment{}, err
		}
		src = bytes.NewReader(clean)
	case TypePDF:
		// Streamed through as it is: PDF metadata stays (the reporter is
		// warned), but the file never sits whole in memory.
		src = br
	default:
		return Attachment{}, Errorf(EInvalid, "error.attachments.type")
	}
	return in.storeAttachment(ctx, reportID, messageID, dk, AttachmentMeta{Name: cleanName(name), Type: typ}, src)
}

// reencode decodes an image and encodes its pixels afresh: only the
// pixels survive, no metadata segment or chunk does.
func reencode(r io.Reader, typ string) ([]byte, error) {
	// At most one file is buffered, and only up to the size limit.
	raw, err := io.ReadAll(io.LimitReader(r, MaxAttachmentSize+1))
	if err != nil {
		return nil, err
	}
	if len(raw) > MaxAttachmentSize {
		return nil, Errorf(EInvalid, "error.attachments.too_large")
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(raw))
	if err != nil {
		return nil, Errorf(EInvalid, "error.attachments.broken")
	}
	// Decompression bombs: the header says how large the image will be.
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxImagePixels {
		return nil, Errorf(EInvalid, "error.attachments.pixels")
	}
	imageSlots <- struct{}{}
	defer func() { <-imageSlots }()
	img, _, err := image.Decode(bytes.NewReader(raw))
	if err != nil {
		return nil, Errorf(EInvalid, "error.attachments.broken")
	}
	raw = nil
	var out bytes.Buffer
	if typ == TypePNG {
		err = png.Encode(&out, img)
	} else {
		err = jpeg.Encode(&out, img, &jpeg.Options{Quality: 90})
	}
	if err != nil {
		return nil, err
	}
	// A re-encoded PNG can grow beyond the input; the limit is on what
	// the reporter sent, so it is not checked again.
	return out.Bytes(), nil
}

// storeAttachment seals src under a fresh file key in chunks and stores
// them in batches, then the sealed meta data. On any failure the partial
// attachment is deleted.
func (in *Intake) storeAttachment(ctx context.Context, reportID, messageID string, dk vault.Key, meta AttachmentMeta, src io.Reader) (a Attachment, err error) {
	id := newUUID()
	// Each file has its own key, so a file can be re-keyed or shared on
	// its own later without touching the report.
	fk := vault.NewKey()
	stored := StoredAttachment{ID: id, ReportID: reportID, MessageID: messageID, WrappedKey: dk.Wrap(fk, attachmentKeyAD(reportID, id))}
	if err := in.store.CreateAttachment(ctx, stored); err != nil {
		return Attachment{}, err
	}
	defer func() {
		if err != nil {
			in.store.DeleteAttachments(context.WithoutCancel(ctx), []string{id})
		}
	}()
	var batch [][]byte
	var first uint64
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := in.store.PutAttachmentChunks(ctx, id, first, batch)
		first += uint64(len(batch))
		batch = batch[:0]
		return err
	}
	w := fk.NewChunkWriter(attachmentAD(reportID, id), func(_ uint64, ct []byte) error {
		batch = append(batch, ct)
		if len(batch) == attachmentBatch {
			return flush()
		}
		return nil
	})
	n, err := io.Copy(w, io.LimitReader(src, MaxAttachmentSize+1))
	if err != nil {
		return Attachment{}, err
	}
	if n > MaxAttachmentSize && meta.Type == TypePDF {
		return Attachment{}, Errorf(EInvalid, "error.attachments.too_large")
	}
	if err := w.Close(); err != nil {
		return Attachment{}, err
	}
	if err := flush(); err != nil {
		return Attachment{}, err
	}
	meta.Size = n
	plain, err := json.Marshal(meta)
	if err != nil {
		return Attachment{}, err
	}
	if err := in.store.FinishAttachment(ctx, id, fk.Seal(plain, attachmentMetaAD(reportID, id))); err != nil {
		return Attachment{}, err
	}
	return Attachment{ID: id, ReportID: reportID, MessageID: messageID, AttachmentMeta: meta}, nil
}

// DiscardAttachments deletes attachments added to a report that was not
// stored after all (the form came back with errors).
func (in *Intake) DiscardAttachments(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	return in.store.DeleteAttachments(ctx, ids)
}

// cleanName keeps the last path element of a file name, without control
// characters, cut to a sane length.
func cleanName(name string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, name)
	if r := []rune(name); len(r) > maxNameRunes {
		name = string(r[:maxNameRunes])
	}
	if name == "" || name == "." || name == "/" {
		name = "file"
	}
	return name
}

// openAttachmentKey opens a stored attachment's file key with the case's
// data key.
// decryptStream returns a function that writes an attachment's plaintext
// chunk by chunk, so a download never holds the whole file in memory. A
// chunk that does not open, or a missing last chunk, ends it with an error.
func decryptStream(ctx context.Context, store Store, fk vault.Key, a StoredAttachment) func(io.Writer) error {
	return func(w io.Writer) error {
		op := fk.NewChunkOpener(attachmentAD(a.ReportID, a.ID))
		err := store.AttachmentChunks(ctx, a.ID, func(ct []byte) error {
			plain, err := op.Open(ct)
			if err != nil {
				return err
			}
			_, err = w.Write(plain)
			return err
		})
		if err != nil {
			return err
		}
		return op.Close()
	}
}

func openAttachmentKey(dk vault.Key, a StoredAttachment) (vault.Key, AttachmentMeta, error) {
	fk, err := dk.Unwrap(a.WrappedKey, attachmentKeyAD(a.ReportID, a.ID))
	if err != nil {
		return vault.Key{}, AttachmentMeta{}, err
	}
	plain, err := fk.Open(a.Meta, attachmentMetaAD(a.ReportID, a.ID))
	if err != nil {
		return vault.Key{}, AttachmentMeta{}, err
	}
	var m AttachmentMeta
	return fk, m, json.Unmarshal(plain, &m)
}

// dataKey opens a case's data key with its team's key.
func dataKey(team *vault.KeyPair, r CaseRow) (vault.Key, error) {
	if err := contentGone(r); err != nil {
		return vault.Key{}, err
	}
	return team.OpenKey(r.SealedKey, vault.AD{Purpose: purposeSealedKey, Row: r.ID})
}

// attachments opens the list of a case's own attachments; the files of
// follow-up messages are shown with their messages (Messages).
func (o *Office) attachments(ctx context.Context, team *vault.KeyPair, r CaseRow) ([]Attachment, error) {
	stored, err := o.store.Attachments(ctx, r.ID)
	if err != nil || len(stored) == 0 {
		return nil, err
	}
	dk, err := dataKey(team, r)
	if err != nil {
		return nil, err
	}
	all, err := openAttachments(dk, stored)
	if err != nil {
		return nil, err
	}
	var list []Attachment
	for _, a := range all {
		if a.MessageID == "" {
			list = append(list, a)
		}
	}
	return list, nil
}

// openAttachments opens the meta data of stored attachments with the
// report's data key.
func openAttachments(dk vault.Key, stored []StoredAttachment) ([]Attachment, error) {
	list := make([]Attachment, 0, len(stored))
	for _, a := range stored {
		_, m, err := openAttachmentKey(dk, a)
		if err != nil {
			return nil, err
		}
		list = append(list, Attachment{ID: a.ID, ReportID: a.ReportID, MessageID: a.MessageID, AttachmentMeta: m})
	}
	return list, nil
}

// OpenAttachment checks that the session holds the case's team key,
// writes the audit entry and returns the attachment's meta data and a
// function that streams the decrypted content into w, one chunk at a
// time. The function fails if any chunk was altered, moved, dropped or
// added; what was written before stays written, so callers send the size
// first and a cut-off download shows as incomplete.
func (o *Office) OpenAttachment(ctx context.Context, s *OfficeSession, reportID, id string) (Attachment, func(w io.Writer) error, error) {
	r, team, err := o.openCase(ctx, s, reportID)
	if err != nil {
		return Attachment{}, nil, err
	}
	a, err := o.store.Attachment(ctx, r.ID, id)
	if err != nil {
		return Attachment{}, nil, err
	}
	dk, err := dataKey(team, r)
	if err != nil {
		return Attachment{}, nil, err
	}
	fk, meta, err := openAttachmentKey(dk, a)
	if err != nil {
		return Attachment{}, nil, err
	}
	// Every download is audited before a byte leaves.
	if err := o.audit(ctx, s, AuditAttachmentOpen, r.ID, ""); err != nil {
		return Attachment{}, nil, err
	}
	return Attachment{ID: a.ID, ReportID: a.ReportID, MessageID: a.MessageID, AttachmentMeta: meta}, decryptStream(ctx, o.store, fk, a), nil
}
