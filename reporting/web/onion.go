package web

import (
	"bytes"
	"crypto/sha3"
	"encoding/base32"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
)

// onionV3Len is the length of a v3 onion address without ".onion": 35
// bytes (key, checksum, version) in base32.
const onionV3Len = 56

// onionBase32 is the alphabet of onion addresses: RFC 4648 base32 in
// lower case, without padding.
var onionBase32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// CheckOnionURL validates the address of the service's Tor onion service
// (-onion-url) and returns it normalised: scheme and host in lower case,
// no trailing slash. It wants http:// or https:// and a v3 onion address
// (56 base32 characters and ".onion", whose checksum matches), and
// nothing after the host but an optional "/": the address is put before
// request paths in the Onion-Location header.
func CheckOnionURL(raw string) (string, error) {
	const want = "want http://<56 characters>.onion, the contents of the onion service's hostname file"
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", fmt.Errorf("%s: %q", want, raw)
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", fmt.Errorf("scheme must be http or https; %s: %q", want, raw)
	}
	if u.User != nil || u.Opaque != "" {
		return "", fmt.Errorf("%s: %q", want, raw)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", fmt.Errorf("no path, query or fragment after the host; %s: %q", want, raw)
	}
	host := strings.ToLower(u.Hostname())
	if !strings.HasSuffix(host, ".onion") {
		return "", fmt.Errorf("host must end in .onion; %s: %q", want, raw)
	}
	if err := checkOnionV3(strings.TrimSuffix(host, ".onion")); err != nil {
		return "", fmt.Errorf("%w; %s: %q", err, want, raw)
	}
	if p := u.Port(); p != "" {
		host = net.JoinHostPort(host, p)
	}
	return scheme + "://" + host, nil
}

// checkOnionV3 checks a v3 onion address without ".onion": 56 base32
// characters that decode to a 32-byte key, a 2-byte checksum and the
// version 3, the checksum being SHA3-256(".onion checksum" | key |
// version)'s first two bytes (Tor's rend-spec-v3). The checksum catches
// a mistyped address before reporters are sent to it.
func checkOnionV3(label string) error {
	if strings.Contains(label, ".") {
		return errors.New("a subdomain of an onion address; give the address itself")
	}
	if len(label) != onionV3Len {
		return fmt.Errorf("the address has %d characters before .onion, a v3 address has %d", len(label), onionV3Len)
	}
	b, err := onionBase32.DecodeString(label)
	if err != nil || len(b) != 35 {
		return errors.New("the address is not base32 (a–z, 2–7)")
	}
	key, sum, version := b[:32], b[32:34], b[34]
	if version != 3 {
		return fmt.Errorf("not a v3 onion address (version %d)", version)
	}
	h := sha3.Sum256(append(append([]byte(".onion checksum"), key...), version))
	if !bytes.Equal(h[:2], sum) {
		return errors.New("the address's checksum does not match: a typing mistake?")
	}
	return nil
}

// onionLocation is the middleware of the public pages: with -onion-url
// set, it tells Tor Browser (by the Onion-Location header) that the page
// is also at the onion address, which it offers to open. Tor Browser
// reads the header only on https pages; over http it ignores it.
//
// Only the path goes into the header, never the query string: by the
// rule that no query string is copied anywhere, though a public page's
// query carries nothing about a person.
//
// Only for GET and HEAD: a page answering a POST (the receipt, the
// follow-up pages) is shown once, and a Tor Browser set to open onion
// addresses by itself would leave it for a GET of the same path, losing
// the receipt code on the screen.
//
// The office's routes never get the header (they do not pass through
// this middleware): its session cookies are Secure and bound to the
// https name, and the office is for staff, who reach it over that name.
func (s *Server) onionLocation(c *gin.Context) {
	if s.onionURL != "" && (c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead) {
		c.Writer.Header().Set("Onion-Location", s.onionURL+c.Request.URL.EscapedPath())
	}
	c.Next()
}

// onOnionHost reports whether request c came in under the onion
// address (Tor hands the request to the service, or to nginx, with the
// Host header the browser sent: the onion name).
func (s *Server) onOnionHost(c *gin.Context) bool {
	if s.onionHost == "" {
		return false
	}
	host := c.Request.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.EqualFold(host, s.onionHost)
}

// publicURL is the absolute address of the public side as a reporter
// should write it down: the onion address for one who came over Tor, so
// that the printed receipt does not send them to the clear web, else the
// base URL.
func (s *Server) publicURL(c *gin.Context) string {
	if s.onOnionHost(c) {
		return s.onionURL
	}
	return strings.TrimSuffix(s.baseURL(c), "/")
}
