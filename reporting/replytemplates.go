package reporting

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// AuditReplyTemplate records that an admin added, changed or deleted a
// reply template (detail: "add", "edit" or "delete", the template's ID and
// language; never its text, though it is office boilerplate).
const AuditReplyTemplate = "reply_template"

// Limits of a reply template, in characters.
const (
	MaxTemplateTitle = 80
	MaxTemplateBody  = 4000
)

// ReplyTemplate is a boilerplate answer in one public language, which a
// counsellor can put into the composer and edit before sending.
//
// Templates are the office's own words, not case content: no reporter's
// text or detail is in them, so they are stored in plain, like the
// office's identity. A message made from one is sealed like any other.
type ReplyTemplate struct {
	ID       int64
	Language string // a public language code
	Title    string
	Body     string
}

// ReplyTemplateStore keeps the reply templates.
type ReplyTemplateStore interface {
	// ReplyTemplates lists every template, by language and title.
	ReplyTemplates(ctx context.Context) ([]ReplyTemplate, error)
	// ReplyTemplate finds one; ENotFound if none.
	ReplyTemplate(ctx context.Context, id int64) (ReplyTemplate, error)
	// SaveReplyTemplate adds a template (ID 0) and returns its ID, or
	// replaces one; ENotFound if that one is gone.
	SaveReplyTemplate(ctx context.Context, t ReplyTemplate) (int64, error)
	// DeleteReplyTemplate removes one; ENotFound if it is gone.
	DeleteReplyTemplate(ctx context.Context, id int64) error
}

// ReplyTemplatesStore is what the ReplyTemplates service reads and
// writes: the templates and the audit log.
type ReplyTemplatesStore interface {
	AuditStore
	ReplyTemplateStore
}

// ReplyTemplates keeps the reply templates: admins (PermSettings) maintain
// them, counsellors (PermCaseWork) pick one next to the composer.
type ReplyTemplates struct {
	auditor
	store ReplyTemplatesStore
}

// NewReplyTemplates returns the reply templates service.
func NewReplyTemplates(store ReplyTemplatesStore, now func() time.Time) *ReplyTemplates {
	return &ReplyTemplates{auditor: auditor{log: store, now: now}, store: store}
}

// Validate trims a template as typed and checks it against the known
// public language codes; field errors under "language", "title", "body".
func (t ReplyTemplate) Validate(known []string) (ReplyTemplate, error) {
	t.Title = strings.TrimSpace(t.Title)
	t.Body = strings.TrimSpace(strings.ReplaceAll(t.Body, "\r\n", "\n"))
	errs := fieldErrors{}
	if !slices.Contains(known, t.Language) {
		errs.add("language", "replytemplates.error.language")
	}
	switch {
	case t.Title == "":
		errs.add("title", "replytemplates.error.title.required")
	case utf8.RuneCountInString(t.Title) > MaxTemplateTitle:
		errs.add("title", "replytemplates.error.title.long")
	}
	switch {
	case t.Body == "":
		errs.add("body", "replytemplates.error.body.required")
	case utf8.RuneCountInString(t.Body) > MaxTemplateBody:
		errs.add("body", "replytemplates.error.body.long")
	}
	return t, errs.err()
}

// Templates lists every template for a counsellor or an admin.
func (rt *ReplyTemplates) Templates(ctx context.Context, s *OfficeSession) ([]ReplyTemplate, error) {
	if !s.Can(PermCaseWork) && !s.Can(PermSettings) {
		return nil, Errorf(ENotFound, "error.not_found")
	}
	list, err := rt.store.ReplyTemplates(ctx)
	return list, opError("reply templates", err)
}

// Template returns one template for a counsellor or an admin; ENotFound
// if there is none.
func (rt *ReplyTemplates) Template(ctx context.Context, s *OfficeSession, id int64) (ReplyTemplate, error) {
	if !s.Can(PermCaseWork) && !s.Can(PermSettings) {
		return ReplyTemplate{}, Errorf(ENotFound, "error.not_found")
	}
	t, err := rt.store.ReplyTemplate(ctx, id)
	return t, opError("reply template", err)
}

// SaveTemplate adds (ID 0) or changes a template (admins only) and
// returns its ID; known are the public language codes it may have.
func (rt *ReplyTemplates) SaveTemplate(ctx context.Context, s *OfficeSession, known []string, t ReplyTemplate) (int64, error) {
	if err := allow(s, PermSettings); err != nil {
		return 0, err
	}
	t, err := t.Validate(known)
	if err != nil {
		return 0, err
	}
	verb := "edit"
	if t.ID == 0 {
		verb = "add"
	}
	var id int64
	err = rt.store.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if id, err = rt.store.SaveReplyTemplate(ctx, t); err != nil {
			return err
		}
		// The ID is known only once the row is in: the entry is written
		// in the same unit of work, after it.
		return rt.audit(ctx, s, AuditReplyTemplate, "", verb+" "+strconv.FormatInt(id, 10)+" "+t.Language)
	})
	return id, opError("save reply template", err)
}

// DeleteTemplate removes a template (admins only).
func (rt *ReplyTemplates) DeleteTemplate(ctx context.Context, s *OfficeSession, id int64) error {
	if err := allow(s, PermSettings); err != nil {
		return err
	}
	return opError("delete reply template", rt.audited(ctx, s, AuditReplyTemplate, "", "delete "+strconv.FormatInt(id, 10), func(ctx context.Context) error {
		return rt.store.DeleteReplyTemplate(ctx, id)
	}))
}
