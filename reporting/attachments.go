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
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/planb-ruhr/meldestelle/reporting/audiometa"
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
	// MaxImageMemory is the decode budget of one image: the bytes its
	// decoding allocates, reckoned from the header before it is decoded
	// (decodeCost). A pixel count alone misjudges memory by a factor of
	// eight (an 8-bit grey PNG against a 16-bit RGBA one) and more for
	// progressive JPEGs. 128 MiB takes every baseline JPEG up to the
	// pixel limit (40 MP at ≤ 3 bytes a pixel), a 12 MP phone photo even
	// when progressive (about 90 MiB), an 8-bit RGBA PNG up to 33 MP and
	// a 16-bit one up to 16 MP; with one decode per CPU at most
	// NumCPU × 128 MiB are spent on decoding at any time.
	MaxImageMemory = 128 << 20
	// maxNameRunes cuts absurdly long file names.
	maxNameRunes = 200
)

// Content types of accepted attachments.
const (
	TypeJPEG = "image/jpeg"
	TypePNG  = "image/png"
	TypePDF  = "application/pdf"
	// Voice messages, as phones record them, told by their content
	// (audiometa.Detect).
	TypeM4A = audiometa.MP4
	TypeOgg = audiometa.Ogg
	TypeMP3 = audiometa.MPEG
	TypeWAV = audiometa.WAV
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

// imageSlots bounds how many images are decoded at once: one per CPU,
// since decoding is CPU work and more at once would only add memory
// (each up to MaxImageMemory) without finishing sooner.
var imageSlots = make(chan struct{}, runtime.NumCPU())

// imageDecodes counts the images decoded since the start (ImageDecodes).
var imageDecodes atomic.Int64

// ImageDecodes returns how many images have been decoded since the
// program started. Tests use it to show that a refused form decodes
// nothing.
func ImageDecodes() int64 { return imageDecodes.Load() }

// StoredAttachment is an attachment row: ciphertexts only.
type StoredAttachment struct {
	ID         string
	ReportID   string
	MessageID  string // the follow-up message it came with; "" for the report's own files
	WrappedKey []byte // the file key wrapped under the report's data key
	Meta       []byte // sealed JSON of AttachmentMeta; nil until complete
	Chunks     int    // number of sealed chunks, filled in when read
	Seq        int    // the file's number within its report, from 1; filled in when read
}

// AttachmentMeta is what is known about an attachment besides its
// content. The name may identify the reporter, so it is sealed too.
type AttachmentMeta struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Size int64  `json:"size"`
	// MetaKept: an audio file whose container could not be rewritten
	// safely (a fragmented MP4, a chained Ogg stream, an unknown layout)
	// was kept with its metadata; the reporter and the office are
	// warned, as for a PDF.
	MetaKept bool `json:"meta_kept,omitempty"`
}

// Attachment is an attachment as a counsellor sees it in the list.
type Attachment struct {
	ID        string
	ReportID  string
	MessageID string // "" for a file of the report itself
	// Download is the name the file is served under (DownloadName); set
	// by OpenAttachment and Followup.OpenFile.
	Download string
	// Altered: the file's key or meta data did not open under the
	// message its row names; only ID, ReportID and MessageID are set and
	// the file cannot be downloaded.
	Altered bool
	AttachmentMeta
}

// SizeKiB is the size in KiB, rounded up, for lists.
func (a AttachmentMeta) SizeKiB() int64 { return (a.Size + 1023) / 1024 }

// PDF reports whether the file is a PDF, whose metadata is not removed.
func (a AttachmentMeta) PDF() bool { return a.Type == TypePDF }

// Image reports whether the file is a photo (JPEG or PNG), which the case
// page shows as a preview.
func (a AttachmentMeta) Image() bool { return a.Type == TypeJPEG || a.Type == TypePNG }

// Previewable reports whether the file may be shown inside the office's
// page: photos, which were decoded and encoded afresh, and voice messages.
// A PDF never is: it keeps what the reporter's software put into it and
// is only ever downloaded, with the warning.
func (a AttachmentMeta) Previewable() bool { return a.Image() || a.Audio() }

// Audio reports whether the file is a voice message, which the case page
// offers to play.
func (a AttachmentMeta) Audio() bool {
	switch a.Type {
	case TypeM4A, TypeOgg, TypeMP3, TypeWAV:
		return true
	}
	return false
}

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

// attachmentKeyAD is the version 2 AD of a file's wrapped key: its row
// and the message it belongs to ("" for the report's own files), so that
// a file moved to another message, or between a message and the report,
// no longer opens.
func attachmentKeyAD(reportID, id, messageID string) vault.AD {
	return attachmentKeyADv1(reportID, id).Bind(messageID)
}

// attachmentKeyADv1 is the AD of file keys wrapped before version 2. Read,
// never written.
func attachmentKeyADv1(reportID, id string) vault.AD {
	return vault.AD{Purpose: purposeAttachmentKey, Row: reportID + "/" + id}
}

// attachmentAD is the AD of a file's chunks. It stays version 1: the
// chunks are sealed under the file's own key, which opens only through
// its wrap, and that binds the message.
func attachmentAD(reportID, id string) vault.AD {
	return vault.AD{Purpose: purposeAttachment, Row: reportID + "/" + id}
}

// attachmentMetaAD is the version 2 AD of a file's meta data, bound to
// its message like its key.
func attachmentMetaAD(reportID, id, messageID string) vault.AD {
	return attachmentMetaADv1(reportID, id).Bind(messageID)
}

// attachmentMetaADv1 is the AD of meta data sealed before version 2. Read,
// never written.
func attachmentMetaADv1(reportID, id string) vault.AD {
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
	rc, err := in.submit(ctx, r, d.ID, d.Key)
	return rc, opError("submit report", err)
}

// AddAttachment cleans, seals and stores one file for the report
// reportID, whose data key is dk. It reads body to the end or until it is
// too large. JPEG and PNG are decoded and re-encoded, which drops EXIF,
// GPS and every other kind of metadata; audio (m4a, ogg, mp3, wav) loses
// its tags, or is kept with them and marked MetaKept where its container
// cannot be rewritten safely; PDF is kept as it is (the caller warns the
// reporter about both); anything else is refused. The type is told by the
// content, never by the name. An EInvalid error's message ID suits the
// upload field. Reused for the reporter's follow-up messages.
func (in *Intake) AddAttachment(ctx context.Context, reportID string, dk vault.Key, name string, body io.Reader) (Attachment, error) {
	a, err := in.addAttachment(ctx, reportID, "", dk, name, body)
	return a, opError("add attachment", err)
}

// addAttachment is AddAttachment for a file that belongs to the message
// messageID of the report ("" for the report's own files).
func (in *Intake) addAttachment(ctx context.Context, reportID, messageID string, dk vault.Key, name string, body io.Reader) (Attachment, error) {
	return addAttachment(ctx, in.store, reportID, messageID, dk, name, body)
}

// attachmentWriter is what storing a file takes; the intake's store and
// the office's replies' store (a counsellor's files) both have it.
type attachmentWriter interface {
	CreateAttachment(ctx context.Context, a StoredAttachment) error
	PutAttachmentChunks(ctx context.Context, attachmentID string, first uint64, chunks [][]byte) error
	FinishAttachment(ctx context.Context, attachmentID string, meta []byte) error
	DeleteAttachments(ctx context.Context, ids []string) error
}

// addAttachment cleans, seals and stores one file into store: the one
// pipeline for a report's files and both sides' message files.
func addAttachment(ctx context.Context, store attachmentWriter, reportID, messageID string, dk vault.Key, name string, body io.Reader) (Attachment, error) {
	meta, src, err := cleanContent(body)
	if err != nil {
		return Attachment{}, err
	}
	meta.Name = cleanName(name)
	return storeAttachment(ctx, store, reportID, messageID, dk, meta, src)
}

// cleanContent tells a file's type by its content and returns its type
// (with MetaKept for audio whose tags stayed) and the content to store:
// images decoded and encoded afresh, audio without its tags, a PDF as it
// is, streamed. Anything else is an EInvalid error whose message ID suits
// the upload field.
func cleanContent(body io.Reader) (AttachmentMeta, io.Reader, error) {
	typ, src, kept, err := cleanContentType(body)
	return AttachmentMeta{Type: typ, MetaKept: kept}, src, err
}

// cleanContentType is cleanContent with the type and the MetaKept flag
// apart.
func cleanContentType(body io.Reader) (string, io.Reader, bool, error) {
	br := bufio.NewReaderSize(body, 512)
	head, err := br.Peek(512)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return "", nil, false, err
	}
	if len(head) == 0 {
		return "", nil, false, Errorf(EInvalid, "error.attachments.empty")
	}
	// Sniffing the content: a name or a browser-sent type can say anything.
	typ := http.DetectContentType(head)
	switch typ {
	case TypeJPEG, TypePNG:
		clean, err := reencode(br, typ)
		if err != nil {
			return "", nil, false, err
		}
		return typ, bytes.NewReader(clean), false, nil
	case TypePDF:
		// Streamed through as it is: PDF metadata stays (the reporter is
		// warned), but the file never sits whole in memory.
		return typ, br, false, nil
	}
	// Audio is told by its own magic bytes: the standard sniffer knows
	// neither m4a nor Opus.
	if typ := audiometa.Detect(head); typ != "" {
		clean, kept, err := cleanAudio(br, typ)
		if err != nil {
			return "", nil, false, err
		}
		return typ, bytes.NewReader(clean), kept, nil
	}
	return "", nil, false, Errorf(EInvalid, "voice.error.type")
}

// cleanAudio removes the tags of a voice message: a title, the owner's
// name, the place and time of the recording can name the reporter. A
// file whose container cannot be rewritten safely is kept as it is and
// reported as kept, so that the reporter is told its metadata stayed;
// refusing it would lose the report's evidence.
func cleanAudio(r io.Reader, typ string) ([]byte, bool, error) {
	// Whole in memory, like an image being re-encoded, and only up to
	// the size limit: the boxes and pages to rewrite can be anywhere.
	raw, err := io.ReadAll(io.LimitReader(r, MaxAttachmentSize+1))
	if err != nil {
		return nil, false, err
	}
	if len(raw) > MaxAttachmentSize {
		return nil, false, Errorf(EInvalid, "error.attachments.too_large")
	}
	// The rewrite holds a second copy: one per CPU at a time, in the
	// slots the image decoder uses, so a burst of voice messages cannot
	// outgrow the memory limit any more than a burst of photos.
	imageSlots <- struct{}{}
	clean, ok, err := audiometa.Clean(typ, raw)
	<-imageSlots
	if errors.Is(err, audiometa.ErrNotAudio) {
		return nil, false, Errorf(EInvalid, "voice.error.type")
	}
	if err != nil {
		return nil, false, err
	}
	return clean, !ok, nil
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
	cfg, format, err := image.DecodeConfig(bytes.NewReader(raw))
	if err != nil || "image/"+format != typ {
		return nil, Errorf(EInvalid, "error.attachments.broken")
	}
	// Decompression bombs: the header says how large the image will be.
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxImagePixels {
		return nil, Errorf(EInvalid, "error.attachments.pixels")
	}
	// The memory the decoding takes, from the header as well: a small
	// 16-bit PNG or progressive JPEG within the pixel limit can still
	// take gigabytes and minutes of CPU.
	if decodeCost(raw, typ, cfg) > MaxImageMemory {
		return nil, Errorf(EInvalid, "uploads.error.image_memory")
	}
	// And the CPU: no photo has a hundred scans, a crafted file can have
	// thousands, each a pass over every block.
	if typ == TypeJPEG && jpegScans(raw) > maxJPEGScans {
		return nil, Errorf(EInvalid, "error.attachments.broken")
	}
	imageSlots <- struct{}{}
	defer func() { <-imageSlots }()
	imageDecodes.Add(1)
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
func storeAttachment(ctx context.Context, store attachmentWriter, reportID, messageID string, dk vault.Key, meta AttachmentMeta, src io.Reader) (a Attachment, err error) {
	id := newUUID()
	// Each file has its own key, so a file can be re-keyed or shared on
	// its own later without touching the report.
	fk := vault.NewKey()
	stored := StoredAttachment{ID: id, ReportID: reportID, MessageID: messageID, WrappedKey: dk.Wrap(fk, attachmentKeyAD(reportID, id, messageID))}
	if err := store.CreateAttachment(ctx, stored); err != nil {
		return Attachment{}, err
	}
	defer func() {
		if err != nil {
			store.DeleteAttachments(context.WithoutCancel(ctx), []string{id})
		}
	}()
	var batch [][]byte
	var first uint64
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := store.PutAttachmentChunks(ctx, id, first, batch)
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
	if err := store.FinishAttachment(ctx, id, fk.Seal(plain, attachmentMetaAD(reportID, id, messageID))); err != nil {
		return Attachment{}, err
	}
	return Attachment{ID: id, ReportID: reportID, MessageID: messageID, AttachmentMeta: meta}, nil
}

// DiscardAttachments deletes attachments added to a report that was not
// stored after all (the form came back with errors).
func (in *Intake) DiscardAttachments(ctx context.Context, ids []string) error {
	return opError("discard attachments", in.discardAttachments(ctx, ids))
}

// discardAttachments is DiscardAttachments without the operation's name,
// for the follow-up, which names its own.
func (in *Intake) discardAttachments(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	return in.store.DeleteAttachments(ctx, ids)
}

// cleanName keeps the last path element of a file name, without control
// characters or bidi controls, cut to a sane length. The name is only
// ever shown as text (downloads carry a name the office makes,
// DownloadName), but a right-to-left override would still make
// "x\u202Egpj.exe" read as "xexe.jpg" on the case page.
func cleanName(name string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError || isBidiControl(r) {
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

// isBidiControl reports the characters that change the direction of the
// text around them (embeddings, overrides, isolates and marks), and the
// line and paragraph separators. Other format characters stay: the zero
// width non-joiner belongs to Persian and Kurdish names.
func isBidiControl(r rune) bool {
	switch {
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069,
		r == 0x200E, r == 0x200F, r == 0x061C, r == 0x2028, r == 0x2029:
		return true
	}
	return false
}

// DownloadName is the name a file is served under: the case number, the
// file's number within the case and the extension of its true type, as
// "2026-0042-3.pdf". The reporter's own name never reaches the
// counsellor's disk: "Beweis.bat" holding a PDF, or a name turned around
// by a right-to-left override, could make the file open as a program.
func DownloadName(caseNo string, seq int, typ string) string {
	ext := ".bin"
	switch typ {
	case TypeJPEG:
		ext = ".jpg"
	case TypePNG:
		ext = ".png"
	case TypePDF:
		ext = ".pdf"
	case TypeM4A:
		ext = ".m4a"
	case TypeOgg:
		ext = ".ogg"
	case TypeMP3:
		ext = ".mp3"
	case TypeWAV:
		ext = ".wav"
	}
	if caseNo == "" {
		caseNo = "file"
	}
	return caseNo + "-" + strconv.Itoa(seq) + ext
}

// chunkReader reads an attachment's sealed chunks, for decryptStream.
type chunkReader interface {
	AttachmentChunks(ctx context.Context, attachmentID string, fn func(ct []byte) error) error
}

// decryptStream returns a function that writes an attachment's plaintext
// chunk by chunk, so a download never holds the whole file in memory. A
// chunk that does not open, or a missing last chunk, ends it with an error.
func decryptStream(ctx context.Context, store chunkReader, fk vault.Key, a StoredAttachment) func(io.Writer) error {
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

// openAttachmentKey opens a stored attachment's file key and meta data
// with the case's data key, under the message its row names. An error
// for which isAltered holds means the row was changed.
func openAttachmentKey(dk vault.Key, a StoredAttachment) (vault.Key, AttachmentMeta, error) {
	fk, err := openBound(dk.Unwrap, a.WrappedKey,
		attachmentKeyAD(a.ReportID, a.ID, a.MessageID), attachmentKeyADv1(a.ReportID, a.ID))
	if err != nil {
		return vault.Key{}, AttachmentMeta{}, err
	}
	plain, err := openBound(fk.Open, a.Meta,
		attachmentMetaAD(a.ReportID, a.ID, a.MessageID), attachmentMetaADv1(a.ReportID, a.ID))
	if err != nil {
		return vault.Key{}, AttachmentMeta{}, err
	}
	var m AttachmentMeta
	if err := json.Unmarshal(plain, &m); err != nil {
		return vault.Key{}, AttachmentMeta{}, err
	}
	// Names stored before bidi controls were stripped at intake are
	// cleaned again for every page that shows them.
	m.Name = cleanName(m.Name)
	return fk, m, nil
}

// dataKey opens a case's data key with its team's key.
func dataKey(team *vault.KeyPair, r CaseRow) (vault.Key, error) {
	if err := contentGone(r); err != nil {
		return vault.Key{}, err
	}
	return team.OpenKey(r.SealedKey, vault.AD{Purpose: purposeSealedKey, Row: r.ID})
}

// attachmentLister lists a report's complete attachments.
type attachmentLister interface {
	Attachments(ctx context.Context, reportID string) ([]StoredAttachment, error)
}

// caseAttachments opens the list of a case's own attachments; the files of
// follow-up messages are shown with their messages (Replies.Messages).
// Files that were altered are in the list marked Altered and returned as
// such.
func caseAttachments(ctx context.Context, store attachmentLister, team *vault.KeyPair, r CaseRow) ([]Attachment, []AlteredItem, error) {
	stored, err := store.Attachments(ctx, r.ID)
	if err != nil || len(stored) == 0 {
		return nil, nil, err
	}
	dk, err := dataKey(team, r)
	if err != nil {
		return nil, nil, err
	}
	var own []StoredAttachment
	for _, a := range stored {
		if a.MessageID == "" {
			own = append(own, a)
		}
	}
	list, altered := openAttachments(dk, own)
	return list, altered, nil
}

// openAttachments opens the meta data of stored attachments with the
// report's data key. A file that does not open (its row was changed) is
// kept in the list marked Altered and named in the second result.
func openAttachments(dk vault.Key, stored []StoredAttachment) ([]Attachment, []AlteredItem) {
	list := make([]Attachment, 0, len(stored))
	var altered []AlteredItem
	for _, a := range stored {
		att := Attachment{ID: a.ID, ReportID: a.ReportID, MessageID: a.MessageID}
		if _, m, err := openAttachmentKey(dk, a); err != nil {
			att.Altered = true
			altered = append(altered, AlteredItem{AlteredAttachment, a.ID})
		} else {
			att.AttachmentMeta = m
		}
		list = append(list, att)
	}
	return list, altered
}

// Attachments is the office's download of a reporter's files. It holds no
// keys: a file opens with the team key from the *OfficeSession passed in.
type Attachments struct {
	auditor
	store AttachmentsStore

	mu sync.Mutex
	// previewed holds, by session and file, when a preview's opening was
	// last audited (PreviewAttachment); entries older than PreviewWindow
	// are dropped as new ones come in.
	previewed map[previewKey]time.Time
}

// previewKey names one file as seen in one session. The session is named
// by its token's hash, so a logged-out session's entry keeps no keys alive.
type previewKey struct {
	session string
	file    string
}

// PreviewWindow is how long one audited opening of a preview covers the
// same file in the same session: the case page's <img> and <audio>, their
// reloads and a player's range requests while listening. One page view is
// one entry per file, not one per request or byte range; a view after the
// window is audited again.
const PreviewWindow = 5 * time.Minute

// AttachmentsStore is what a download reads: the case, the file's row and
// its sealed chunks, and the audit log that takes every download first.
type AttachmentsStore interface {
	AuditStore
	// CaseRow finds one case; ENotFound if none (as in CaseStore).
	CaseRow(ctx context.Context, id string) (CaseRow, error)
	// Attachment finds one complete attachment of an existing report;
	// ENotFound if none (as in AttachmentStore).
	Attachment(ctx context.Context, reportID, id string) (StoredAttachment, error)
	// AttachmentChunks hands the sealed chunks to fn one at a time, in
	// order (as in AttachmentStore).
	AttachmentChunks(ctx context.Context, attachmentID string, fn func(ct []byte) error) error
}

// NewAttachments returns the office's attachment service; now is the
// office's clock, for the audit entries.
func NewAttachments(store AttachmentsStore, now func() time.Time) *Attachments {
	return &Attachments{auditor: auditor{log: store, now: now}, store: store, previewed: map[previewKey]time.Time{}}
}

// OpenAttachment checks that the session holds the case's team key,
// writes the audit entry and returns the attachment's meta data and a
// function that streams the decrypted content into w, one chunk at a
// time. The function fails if any chunk was altered, moved, dropped or
// added; what was written before stays written, so callers send the size
// first and a cut-off download shows as incomplete.
func (at *Attachments) OpenAttachment(ctx context.Context, s *OfficeSession, reportID, id string) (Attachment, func(w io.Writer) error, error) {
	r, a, fk, meta, err := at.open(ctx, s, reportID, id)
	if err != nil {
		return Attachment{}, nil, opError("open attachment", err)
	}
	// Every download is audited before a byte leaves: a downloaded copy
	// leaves the office's control, so each one counts.
	if err := at.audit(ctx, s, AuditAttachmentOpen, r.ID, ""); err != nil {
		return Attachment{}, nil, opError("open attachment", err)
	}
	return officeAttachment(r, a, meta), decryptStream(ctx, at.store, fk, a), nil
}

// PreviewAttachment is OpenAttachment for a photo or voice message shown
// inside the case page. Other files (a PDF) are not found here: they are
// only downloaded. The opening is audited like a download
// (AuditAttachmentOpen, detail "preview"), but once per session and file
// within PreviewWindow, so that a page view with a player asking for many
// ranges is one entry per file, not one per request.
func (at *Attachments) PreviewAttachment(ctx context.Context, s *OfficeSession, reportID, id string) (Attachment, func(w io.Writer) error, error) {
	r, a, fk, meta, err := at.open(ctx, s, reportID, id)
	if err != nil {
		return Attachment{}, nil, opError("preview attachment", err)
	}
	if !meta.Previewable() {
		return Attachment{}, nil, Errorf(ENotFound, "error.not_found")
	}
	key := previewKey{session: string(s.hash), file: a.ID}
	if at.firstPreview(key) {
		// Audited before a byte leaves, as a download is; a failed entry
		// forgets the mark, so the next request tries again.
		if err := at.audit(ctx, s, AuditAttachmentOpen, r.ID, "preview"); err != nil {
			at.forgetPreview(key)
			return Attachment{}, nil, opError("preview attachment", err)
		}
	}
	return officeAttachment(r, a, meta), decryptStream(ctx, at.store, fk, a), nil
}

// firstPreview reports whether the file's preview was not audited in the
// session within PreviewWindow, and marks it audited now if so. It drops
// the marks that have run out, so the map holds at most the previews of
// the last window.
func (at *Attachments) firstPreview(key previewKey) bool {
	now := at.now()
	at.mu.Lock()
	defer at.mu.Unlock()
	if t, ok := at.previewed[key]; ok && now.Sub(t) < PreviewWindow && !now.Before(t) {
		return false
	}
	for k, t := range at.previewed {
		if now.Sub(t) >= PreviewWindow || now.Before(t) {
			delete(at.previewed, k)
		}
	}
	at.previewed[key] = now
	return true
}

// forgetPreview removes a mark whose audit entry was not written.
func (at *Attachments) forgetPreview(key previewKey) {
	at.mu.Lock()
	delete(at.previewed, key)
	at.mu.Unlock()
}

// open checks that the session holds the case's team key and opens a
// file's key and meta data. An altered file is audited as such and
// returned as EAltered.
func (at *Attachments) open(ctx context.Context, s *OfficeSession, reportID, id string) (CaseRow, StoredAttachment, vault.Key, AttachmentMeta, error) {
	r, team, err := openCase(ctx, at.store, s, reportID)
	if err != nil {
		return CaseRow{}, StoredAttachment{}, vault.Key{}, AttachmentMeta{}, err
	}
	a, err := at.store.Attachment(ctx, r.ID, id)
	if err != nil {
		return CaseRow{}, StoredAttachment{}, vault.Key{}, AttachmentMeta{}, err
	}
	dk, err := dataKey(team, r)
	if err != nil {
		return CaseRow{}, StoredAttachment{}, vault.Key{}, AttachmentMeta{}, err
	}
	fk, meta, err := openAttachmentKey(dk, a)
	if isAltered(err) {
		if err := at.auditAltered(ctx, s, r.ID, []AlteredItem{{AlteredAttachment, a.ID}}); err != nil {
			return CaseRow{}, StoredAttachment{}, vault.Key{}, AttachmentMeta{}, err
		}
		return CaseRow{}, StoredAttachment{}, vault.Key{}, AttachmentMeta{}, Errorf(EAltered, "binding.error.attachment")
	}
	return r, a, fk, meta, err
}

// officeAttachment is a file as OpenAttachment returns it, with the name
// it is served under.
func officeAttachment(r CaseRow, a StoredAttachment, meta AttachmentMeta) Attachment {
	return Attachment{ID: a.ID, ReportID: a.ReportID, MessageID: a.MessageID, Download: DownloadName(r.CaseNo, a.Seq, meta.Type), AttachmentMeta: meta}
}
