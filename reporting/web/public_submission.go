package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// submissionField is the report form's hidden field with its one-time
// submission token (reporting.Submissions). It comes before the files in
// the form, so that a repeat is known before any file is read.
const submissionField = "submission"

// submissions is the intake's guard of submission tokens.
func (s *Server) submissions() *reporting.Submissions { return s.intake.Submissions() }

// keptSubmission returns token when it is still a valid one, so that a
// form shown again (an error, a new captcha, another language) stays the
// same form; otherwise a new token.
func (s *Server) keptSubmission(token string) string {
	if s.submissions().Valid(token) {
		return token
	}
	return s.submissions().Issue()
}

// submissionGate claims a submission's token at most once per request:
// at the first file of a multipart form (before its captcha), or else
// once the body is read.
type submissionGate struct {
	subs    *reporting.Submissions
	entered bool
	claim   *reporting.SubmissionClaim
	err     error
}

// enter claims token on the first call and returns the same on every
// later one. A form without a token (a script, the load tool) is taken
// as before, unguarded: a browser always sends the form's token, and an
// empty one takes no memory.
func (g *submissionGate) enter(ctx context.Context, token string) (*reporting.SubmissionClaim, error) {
	if !g.entered {
		g.entered = true
		if token == "" {
			g.claim = &reporting.SubmissionClaim{State: reporting.SubmissionFresh}
		} else {
			g.claim, g.err = g.subs.Claim(ctx, token)
		}
	}
	return g.claim, g.err
}

// fresh reports whether the form may go on: its token is claimed for
// this request.
func (g *submissionGate) fresh(ctx context.Context, token string) bool {
	cl, err := g.enter(ctx, token)
	return err == nil && cl.State == reporting.SubmissionFresh
}

// done records the stored report's receipt for repeats of the form.
func (g *submissionGate) done(d receiptData) {
	if g.claim != nil {
		g.claim.Done(reporting.HeldReceipt{Code: d.Code, PDF: d.PDF})
	}
}

// release lets the token go again when nothing was stored.
func (g *submissionGate) release() {
	if g.claim != nil {
		g.claim.Release()
	}
}

// repeatedSubmission answers a form whose token was used or is not ours,
// and reports whether it did; drop deletes the files it brought. Nothing
// of such a form is stored:
//   - within reporting.SubmissionWindow the very receipt page of its report
//     comes back, so a reload or a double tap shows the same code;
//   - later, a page that says the report was received, without the code,
//     which is no longer held;
//   - a token this process did not issue, or a day old, brings the form
//     back with a new one and says why: after a restart a person must not
//     lose what they typed, nor be told a report arrived that did not.
func (s *Server) repeatedSubmission(c *gin.Context, g *submissionGate, f reporting.ReportForm, token string, drop func()) bool {
	cl, err := g.enter(c.Request.Context(), token)
	if err != nil { // the request ended while another one with its token ran
		drop()
		s.fail(c, err)
		return true
	}
	switch cl.State {
	case reporting.SubmissionRepeat:
		drop()
		s.render(c, http.StatusOK, "receipt", s.receiptView(c, receiptData{Code: cl.Receipt.Code, PDF: cl.Receipt.PDF}))
	case reporting.SubmissionReceived:
		drop()
		s.render(c, http.StatusOK, "received", view{Title: "submission.received.title", Path: "/"})
	case reporting.SubmissionInvalid:
		drop()
		s.showForm(c, http.StatusUnprocessableEntity, f, map[string]string{"captcha_solution": "submission.error.stale"}, "")
	default:
		return false
	}
	return true
}

// receiptPage is the receipt page: the receipt and, for its printed
// view, the full address of the follow-up page. It prints as the code.
type receiptPage struct {
	receiptData
	FollowupURL string
}

// receiptPage completes a receipt for its page.
func (s *Server) receiptPage(c *gin.Context, d receiptData) receiptPage {
	// The address a person types in weeks later to come back; the Host
	// header names this service, nothing of the person. Someone who came
	// over Tor gets the onion address, not the clear web's.
	return receiptPage{receiptData: d, FollowupURL: s.publicURL(c) + "/" + lang(c) + "/followup"}
}

// Groups are the code's groups of four digits, which the printed view
// keeps each on one line.
func (r receiptPage) Groups() []string { return strings.Fields(r.Code) }
