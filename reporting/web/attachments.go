package web

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/gin-gonic/gin"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// attachmentRoutes registers attachment downloads for counsellors. The
// upload is part of the report form (public_report.go).
func (s *Server) attachmentRoutes(pub, work *gin.RouterGroup) {
	work.GET("/cases/:id/attachments/:att", s.downloadAttachment)
	work.GET("/cases/:id/attachments/:att/preview", s.previewAttachment)
}

// receiptData is the receipt page: the code and whether a PDF, or a
// voice message whose tags could not be removed, went with the report
// (its metadata stays, so the page warns). It prints as the code.
type receiptData struct {
	Code      string
	PDF       bool
	AudioMeta bool
}

func (r receiptData) String() string { return r.Code }

// uploads are the files of one submission as far as they were taken in.
type uploads struct {
	files []reporting.Attachment
	err   string // message ID for the upload field; "" when all is well
	// refused counts the files drained unread because the form's check
	// (captcha or token) failed at the first file.
	refused int
}

func (u uploads) ids() []string {
	ids := make([]string, len(u.files))
	for i, f := range u.files {
		ids[i] = f.ID
	}
	return ids
}

func (u uploads) pdf() bool {
	for _, f := range u.files {
		if f.PDF() {
			return true
		}
	}
	return false
}

// audioMeta reports whether a voice message kept its metadata.
func (u uploads) audioMeta() bool {
	for _, f := range u.files {
		if f.MetaKept {
			return true
		}
	}
	return false
}

// sent reports whether the submission carried any file, taken in or not:
// then the form asks for the files again when it comes back.
func (u uploads) sent() bool { return len(u.files) > 0 || u.refused > 0 }

const attachmentsField = "attachments"

// maxParts bounds the number of parts of the report form: the form has
// a few dozen, and each part costs memory however small its content.
const maxParts = 200

func isMultipart(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "multipart/form-data"
}

// addFile stores one uploaded file; pf holds the text fields read so far.
type addFile func(pf url.Values, name string, body io.Reader) (reporting.Attachment, error)

// fileGate decides, once, at the first file of a form and with the text
// fields read so far, whether the form's files may be taken in at all:
// the report form's captcha, the follow-up form's token.
type fileGate func(pf url.Values) bool

// readUploads reads a multipart form part by part with a streaming
// reader: text fields into memory (together at most MaxPublicBody, as for
// the url-encoded form), each file straight into add, which cleans and
// seals it in chunks. No file is written to disk and none is held whole
// in memory except one image being re-encoded.
//
// At the first non-empty file, before a byte of it is sniffed, decoded or
// stored, pass is asked once. If it says no, that file and every later
// one are drained unread (counted in refused) and add is never called:
// without a solved captcha an upload costs the server reading it, not
// decoding and writing it. The forms put their captcha or token before
// the file field, and multipart parts come in the form's order, so a
// browser's body passes; one with the checks after the files is refused.
//
// A file problem is returned as the upload field's message; reading goes
// on either way, so that the text fields can be shown again. An error
// means the body was unreadable or too large.
func readUploads(c *gin.Context, pass fileGate, add addFile) (url.Values, uploads, error) {
	var up uploads
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return nil, up, err
	}
	pf := url.Values{}
	textLeft := int64(MaxPublicBody)
	count, parts := 0, 0
	gate := 0 // 0 not asked yet, 1 passed, -1 refused
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return pf, up, nil
		}
		if err != nil {
			return pf, up, err
		}
		if parts++; parts > maxParts {
			return pf, up, &http.MaxBytesError{Limit: MaxPublicBody}
		}
		name := p.FormName()
		if name != attachmentsField {
			if p.FileName() != "" { // a file in a text field: not ours
				if _, err := io.Copy(io.Discard, p); err != nil {
					return pf, up, err
				}
				continue
			}
			b, err := io.ReadAll(io.LimitReader(p, textLeft+1))
			if err != nil {
				return pf, up, err
			}
			if textLeft -= int64(len(name) + len(b)); textLeft < 0 {
				return pf, up, &http.MaxBytesError{Limit: MaxPublicBody}
			}
			pf.Add(name, string(b))
			continue
		}
		br := bufio.NewReaderSize(p, 512)
		if _, err := br.Peek(1); errors.Is(err, io.EOF) {
			continue // the empty part a browser sends when no file was chosen
		}
		if gate == 0 {
			gate = -1
			if pass(pf) {
				gate = 1
			}
		}
		if gate < 0 {
			up.refused++
			if _, err := io.Copy(io.Discard, br); err != nil {
				return pf, up, err
			}
			continue
		}
		count++
		if up.err != "" || count > reporting.MaxAttachments {
			if count > reporting.MaxAttachments {
				up.err = "error.attachments.too_many"
			}
			if _, err := io.Copy(io.Discard, br); err != nil {
				return pf, up, err
			}
			continue
		}
		a, err := add(pf, p.FileName(), br)
		if reporting.ErrorCode(err) == reporting.EInvalid {
			up.err = reporting.MessageID(err)
			if _, err := io.Copy(io.Discard, br); err != nil {
				return pf, up, err
			}
			continue
		}
		if err != nil {
			return pf, up, err
		}
		up.files = append(up.files, a)
	}
}

// downloadAttachment streams a decrypted attachment to a counsellor whose
// session holds the case's team key, chunk by chunk, as a download.
func (s *Server) downloadAttachment(c *gin.Context) {
	a, stream, err := s.attachments.OpenAttachment(c.Request.Context(), session(c), c.Param("id"), c.Param("att"))
	if err != nil {
		s.fail(c, err)
		return
	}
	if a.Audio() {
		s.servePlayable(c, a, stream, "attachment")
		return
	}
	s.serveAttachment(c, a, stream, "attachment")
}

// previewAttachment serves a photo or voice message for the case page's
// <img> and <audio>: the same decrypting path as a download, but inline.
// The service refuses every other type (a PDF is found only as a
// download) and audits one opening per file and page view.
func (s *Server) previewAttachment(c *gin.Context) {
	a, stream, err := s.attachments.PreviewAttachment(c.Request.Context(), session(c), c.Param("id"), c.Param("att"))
	if err != nil {
		s.fail(c, err)
		return
	}
	if a.Audio() {
		s.servePlayable(c, a, stream, "inline")
		return
	}
	s.serveAttachment(c, a, stream, "inline")
}

// maxPlayable is the largest file served with Range support: the whole
// file is decrypted into memory, which attachments within the upload
// limit (a re-encoded PNG can be a little larger) always fit.
const maxPlayable = 2 * reporting.MaxAttachmentSize

// servePlayable sends a voice message, to the case page's player or as a
// download. A player asks for ranges (to seek, and Safari to start at
// all), so the file is decrypted whole, checked to the last chunk before
// a byte leaves, and served by http.ServeContent; the headers are those
// of every decrypted file.
func (s *Server) servePlayable(c *gin.Context, a reporting.Attachment, stream func(io.Writer) error, disposition string) {
	if a.Size > maxPlayable {
		s.serveAttachment(c, a, stream, disposition)
		return
	}
	var buf bytes.Buffer
	buf.Grow(int(a.Size))
	if err := stream(&buf); err != nil {
		s.fail(c, fmt.Errorf("audio attachment: %w", err))
		return
	}
	setFileHeaders(c.Writer.Header(), a, disposition)
	// ServeContent answers Range and If-Range and sets the length; no
	// modification time, so no Last-Modified reveals when it came in.
	http.ServeContent(c.Writer, c.Request, "", time.Time{}, bytes.NewReader(buf.Bytes()))
}

// serveAttachment sends a decrypted file, for the counsellors' and the
// reporter's download alike, and the case page's photo previews.
func (s *Server) serveAttachment(c *gin.Context, a reporting.Attachment, stream func(io.Writer) error, disposition string) {
	h := c.Writer.Header()
	setFileHeaders(h, a, disposition)
	// The size first: if a chunk fails to open half-way, the download is
	// visibly incomplete instead of silently short.
	h.Set("Content-Length", strconv.FormatInt(a.Size, 10))
	c.Status(http.StatusOK)
	if err := stream(c.Writer); err != nil {
		// The headers are gone: the response stays short of its
		// Content-Length, so net/http closes the connection and the
		// browser reports a failed download. Nothing about the
		// requester is logged, only that a stream broke.
		s.cfg.Logger.Error("attachment stream", "request_id", requestID(c), "err", err)
	}
}

// setFileHeaders sets the headers every decrypted file is sent with;
// disposition is "attachment" (a download) or "inline" (a preview).
func setFileHeaders(h http.Header, a reporting.Attachment, disposition string) {
	// Only JPEG, PNG, PDF and the audio types are ever stored, and the
	// type comes from the sealed meta data, which was set from the
	// content when it came in.
	h.Set("Content-Type", a.Type)
	// inline only for what the browser shows as an image or plays as
	// sound, never a PDF: a PDF viewer would render the reporter's file,
	// scripts and all, in the office's origin. The name is the office's
	// (case number, index, the true type's extension), never the
	// reporter's: "Beweis.bat" or a name reversed by a bidi override must
	// not decide how the file opens.
	if disposition != "inline" || !a.Previewable() {
		disposition = "attachment"
	}
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": downloadName(a.Download)}))
	// nosniff stops the browser from guessing another type.
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	// Opened on its own (not as the page's <img>), the file is still a
	// sandboxed document that may load nothing.
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
}

// downloadName makes a name safe for a Content-Disposition header and a
// file system: no control characters, quotes, path separators or leading
// dots. The names come from reporting.DownloadName; this is the second
// line should one ever carry anything else.
func downloadName(name string) string {
	name = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r), r == '"', r == '\\', r == '/', r == ':', r == '*', r == '?', r == '<', r == '>', r == '|':
			return '_'
		case r > unicode.MaxASCII:
			// Bidi overrides and look-alikes: the office's names are ASCII.
			return '_'
		}
		return r
	}, name)
	name = strings.TrimLeft(name, ". ")
	if name == "" {
		return "attachment"
	}
	return name
}

// discarder returns drop, which deletes a request's uploaded files once
// however often it is called, and keep, after which drop does nothing.
// Handlers call drop before answering a refused form, so nothing of it
// remains once the reporter sees the answer, defer it for a panic, and
// call keep once the files are stored with their report or message.
func (s *Server) discarder(c *gin.Context, ids func() []string, discard func(context.Context, []string) error) (drop, keep func()) {
	var once sync.Once
	drop = func() {
		once.Do(func() {
			if err := discard(context.WithoutCancel(c.Request.Context()), ids()); err != nil {
				s.cfg.Logger.Error("discard attachments", "request_id", requestID(c), "err", err)
			}
		})
	}
	return drop, func() { once.Do(func() {}) }
}
