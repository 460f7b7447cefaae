package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// target is the child seen from the parent: its server, its side channel
// and the clients that talk to them.
type target struct {
	base, side string
	bare       string // the bare gin engine of the formpage scenario
	admin      string
	password   string
	sideClient *http.Client
}

func newTarget(c *childProc) *target {
	return &target{
		base: "http://" + c.hello.Addr, side: "http://" + c.hello.Side, bare: "http://" + c.hello.Bare,
		admin: adminName, password: c.password,
		sideClient: newClient(8),
	}
}

// newClient is an HTTP client with up to conns connections of its own,
// following no redirects (a 303 after login is the answer to look at).
func newClient(conns int) *http.Client {
	tr := &http.Transport{
		// Loopback only: no proxy from the environment.
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       2 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

var captchaIDPattern = regexp.MustCompile(`name="captcha_id" value="([^"]+)"`)

// errStatus is an answer with an unexpected status.
type errStatus int

func (e errStatus) Error() string { return fmt.Sprintf("status %d", int(e)) }

// form fetches GET /de/ and returns the captcha ID on it.
func (t *target) form(ctx context.Context, c *http.Client) (string, int, error) {
	status, body, err := do(ctx, c, "GET", t.base+"/de/", "", nil)
	if err != nil {
		return "", status, err
	}
	if status != http.StatusOK {
		return "", status, errStatus(status)
	}
	m := captchaIDPattern.FindSubmatch(body)
	if m == nil {
		return "", status, errors.New("no captcha on the form")
	}
	return string(m[1]), status, nil
}

// captchaPNG fetches the picture of a captcha.
func (t *target) captchaPNG(ctx context.Context, c *http.Client, id string) (int, error) {
	status, _, err := do(ctx, c, "GET", t.base+"/captcha/"+url.PathEscape(id)+".png", "", nil)
	return status, err
}

// solve reads a captcha's digits through the side channel.
func (t *target) solve(ctx context.Context, id string) (string, error) {
	status, body, err := do(ctx, t.sideClient, "GET", t.side+"/digits/"+url.PathEscape(id), "", nil)
	if err != nil {
		return "", fmt.Errorf("solve captcha: %w", err)
	}
	if status != http.StatusOK {
		return "", fmt.Errorf("solve captcha: %w", errStatus(status))
	}
	return string(body), nil
}

// stats reads the child's runtime counters through the side channel.
func (t *target) stats(ctx context.Context) (childStats, error) {
	var st childStats
	status, body, err := do(ctx, t.sideClient, "GET", t.side+"/stats", "", nil)
	if err == nil && status != http.StatusOK {
		err = errStatus(status)
	}
	if err == nil {
		err = json.Unmarshal(body, &st)
	}
	if err != nil {
		return st, fmt.Errorf("child stats: %w", err)
	}
	return st, nil
}

var receiptPattern = regexp.MustCompile(`id="receipt"[^>]*>(\d{4} \d{4} \d{4} \d{4})<`)

// postReport posts a report body and tells whether a receipt came back.
func (t *target) postReport(ctx context.Context, c *http.Client, body []byte, contentType string) (int, bool, error) {
	status, page, err := do(ctx, c, "POST", t.base+"/de/report", contentType, body)
	if err != nil {
		return status, false, err
	}
	return status, status == http.StatusOK && receiptPattern.Match(page), nil
}

// report is what a legitimate reporter does: fetch the form, solve the
// captcha, submit (with files, if any). It fails unless a receipt comes
// back.
func (t *target) report(ctx context.Context, c *http.Client, files []upload) error {
	id, _, err := t.form(ctx, c)
	if err != nil {
		return fmt.Errorf("report form: %w", err)
	}
	solution, err := t.solve(ctx, id)
	if err != nil {
		return err
	}
	body, ct := reportBody(id, solution, files)
	status, ok, err := t.postReport(ctx, c, body, ct)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if !ok {
		return fmt.Errorf("report: no receipt: %w", errStatus(status))
	}
	return nil
}

// login logs the admin in and fails unless the office answers with a
// session cookie.
func (t *target) login(ctx context.Context, c *http.Client) error {
	form := url.Values{"username": {t.admin}, "password": {t.password}}
	req, err := http.NewRequestWithContext(ctx, "POST", t.base+"/office/login", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("login: %w", errStatus(resp.StatusCode))
	}
	for _, ck := range resp.Cookies() {
		if strings.HasSuffix(ck.Name, "meldestelle_session") && ck.Value != "" {
			return nil
		}
	}
	return errors.New("login: no session cookie")
}

// do sends one request and reads the whole answer.
func do(ctx context.Context, c *http.Client, method, u, contentType string, body []byte) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return 0, nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// netClass names a transport error for the status tally.
func netClass(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNRESET):
		return "net:reset"
	case errors.Is(err, syscall.EPIPE):
		return "net:broken-pipe"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "net:refused"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "net:eof"
	case errors.As(err, &ne) && ne.Timeout():
		return "net:timeout"
	}
	return "net:other"
}
