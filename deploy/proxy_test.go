//go:build linux

// Package deploy_test runs the proxy configurations of deploy/nginx and
// deploy/caddy, as shipped, in front of a real Meldestelle and checks over
// https what a reporter and a counsellor would meet, and what the proxy
// keeps of them.
package deploy_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dchest/captcha"

	"github.com/planb-ruhr/meldestelle/reporting/web/webtest"
)

func TestMain(m *testing.M) {
	captcha.SetCustomStore(webtest.Captchas)
	os.Exit(m.Run())
}

// clientAddr is the address the tests' requests come from: not the
// 127.0.0.1 the proxy and the service use among themselves, so that a
// log line or a header holding it can only be about the client.
const clientAddr = "127.0.0.7"

// onionHost is the Host header Tor sends to the onion server block.
const onionHost = "meldestellexxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.onion"

// proxyBinary finds a proxy's program, or skips the test; with
// MELDESTELLE_REQUIRE_PROXY set (.ci/run sets it) a missing one fails.
func proxyBinary(t *testing.T, name, pkg string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if p := "/usr/sbin/" + name; fileExists(p) {
		return p
	}
	msg := fmt.Sprintf("%s is not installed (Debian package %s; .ci/run installs it)", name, pkg)
	if os.Getenv("MELDESTELLE_REQUIRE_PROXY") != "" {
		t.Fatal(msg + ", and MELDESTELLE_REQUIRE_PROXY is set")
	}
	t.Skip(msg)
	return ""
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// stack is a proxy in front of a Meldestelle.
type stack struct {
	env      *webtest.Env
	url      string // https://localhost:<port>, through the proxy
	httpURL  string // the proxy's plain-http port ("" if none)
	onionURL string // the proxy's server for the onion service
	client   *http.Client
	seen     *upstreamLog
	// stopUpstream takes the service away from the proxy.
	stopUpstream func()
	// logs returns everything the proxy has logged so far, file by file.
	logs func() map[string]string
	// tempDirs are where the proxy would write bodies to disk.
	tempDirs []string
}

// upstreamLog records the headers of every request that reaches the
// service through the proxy.
type upstreamLog struct {
	mu   sync.Mutex
	reqs []seenRequest
}

type seenRequest struct {
	path   string
	host   string
	header http.Header
}

func (u *upstreamLog) all() []seenRequest {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]seenRequest(nil), u.reqs...)
}

// newService starts Meldestelle for a proxy on port: its base URL is the
// proxy's https address, and the proxy reaches it through a recorder of
// the requests that arrive.
func newService(t *testing.T, port string) (*webtest.Env, *upstreamLog, string, func()) {
	t.Helper()
	env := webtest.New(t, webtest.Options{
		BaseURL:        "https://localhost:" + port,
		TrustedProxies: []string{"127.0.0.1"},
	})
	seen := &upstreamLog{}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.mu.Lock()
		seen.reqs = append(seen.reqs, seenRequest{path: r.URL.Path, host: r.Host, header: r.Header.Clone()})
		seen.mu.Unlock()
		env.Handler.ServeHTTP(w, r)
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return env, seen, l.Addr().String(), func() { srv.Close() }
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

// selfSigned writes a certificate for localhost and its key, as PEM files
// in dir, and returns the certificate.
func selfSigned(t *testing.T, dir string) (*x509.Certificate, string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeFile(t, certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	writeFile(t, keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	return cert, certFile, keyFile
}

func writeFile(t *testing.T, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(name, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// shipped reads a configuration file of deploy/ and makes the given
// replacements, each of which must find its text: a test that silently
// ran a different configuration than the one shipped would prove nothing.
func shipped(t *testing.T, name string, replace ...string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for i := 0; i < len(replace); i += 2 {
		if !strings.Contains(s, replace[i]) {
			t.Fatalf("%s no longer holds %q: update the test with the file", name, replace[i])
		}
		s = strings.ReplaceAll(s, replace[i], replace[i+1])
	}
	return s
}

// httpsClient trusts cert alone, connects from clientAddr to port on
// loopback whatever the URL's host, and does not follow redirects.
func httpsClient(cert *x509.Certificate) *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(clientAddr)}, Timeout: 5 * time.Second}
	return &http.Client{
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
			ForceAttemptHTTP2: true,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				_, port, _ := net.SplitHostPort(addr)
				return d.DialContext(ctx, "tcp4", "127.0.0.1:"+port)
			},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       60 * time.Second,
	}
}

// start runs a proxy until the test ends and waits until its https port
// answers; out receives its standard output and error.
func start(t *testing.T, s *stack, out io.Writer, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := s.client.Get(s.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("%s stopped: %v\n%s", filepath.Base(name), err, joinLogs(s.logs()))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not answer over https: %v\n%s", filepath.Base(name), err, joinLogs(s.logs()))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func joinLogs(logs map[string]string) string {
	var b strings.Builder
	for name, text := range logs {
		fmt.Fprintf(&b, "--- %s\n%s", name, text)
	}
	return b.String()
}

// TestNginxInFront runs deploy/nginx/meldestelle.conf and its snippet with
// a self-signed certificate in front of Meldestelle.
func TestNginxInFront(t *testing.T) {
	nginx := proxyBinary(t, "nginx", "nginx")
	dir := t.TempDir()
	port, httpPort, onionPort := freePort(t), freePort(t), freePort(t)
	env, seen, upstream, stop := newService(t, port)
	cert, certFile, keyFile := selfSigned(t, dir)
	logDir := filepath.Join(dir, "logs")
	tempDirs := []string{filepath.Join(dir, "temp", "body"), filepath.Join(dir, "temp", "proxy")}
	for _, d := range append([]string{logDir}, tempDirs...) {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	snippet := filepath.Join(dir, "meldestelle-proxy.conf")
	writeFile(t, snippet, []byte(shipped(t, "nginx/meldestelle-proxy.conf", "127.0.0.1:8080", upstream)))
	site := shipped(t, "nginx/meldestelle.conf",
		"/etc/letsencrypt/live/melden.example.org/fullchain.pem", certFile,
		"/etc/letsencrypt/live/melden.example.org/privkey.pem", keyFile,
		"melden.example.org", "localhost",
		"listen 443 ssl http2;", "listen 127.0.0.1:"+port+" ssl http2;",
		"listen [::]:443 ssl http2;", "",
		"listen 80;", "listen 127.0.0.1:"+httpPort+";",
		"listen [::]:80;", "",
		"listen 127.0.0.1:8081;", "listen 127.0.0.1:"+onionPort+";",
		"/var/log/nginx/", logDir+"/",
		"include snippets/meldestelle-proxy.conf;", "include "+snippet+";")
	writeFile(t, filepath.Join(dir, "site.conf"), []byte(site))
	// The main configuration around the site, as Debian's nginx.conf puts
	// it: an access and an error log of its own for everything the site
	// does not log itself, checked below like the site's.
	main := fmt.Sprintf(`daemon off;
%[5]s
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[2]s/error.log;
events { worker_connections 64; }
http {
    access_log %[2]s/access.log;
    client_body_temp_path %[3]s;
    proxy_temp_path %[4]s;
    fastcgi_temp_path %[1]s/temp/fastcgi;
    uwsgi_temp_path %[1]s/temp/uwsgi;
    scgi_temp_path %[1]s/temp/scgi;
    include %[1]s/site.conf;
}
`, dir, logDir, tempDirs[0], tempDirs[1], workerUser())
	writeFile(t, filepath.Join(dir, "nginx.conf"), []byte(main))

	s := &stack{env: env, url: "https://localhost:" + port, httpURL: "http://localhost:" + httpPort,
		onionURL: "http://127.0.0.1:" + onionPort, client: httpsClient(cert), seen: seen, stopUpstream: stop, tempDirs: tempDirs,
		logs: func() map[string]string { return readDir(t, logDir) }}
	var out bytes.Buffer
	start(t, s, &out, nginx, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"))
	exercise(t, s)
	office := s.logs()["meldestelle-office.log"]
	if !strings.Contains(office, clientAddr) || !strings.Contains(office, "/office/login") {
		t.Errorf("the office's access log does not show the login with its address (so the check for the public routes could not fail):\n%s", office)
	}
	if errs := s.logs()["meldestelle-office-error.log"]; !strings.Contains(errs, "too large body") {
		t.Errorf("the office's error log lacks the oversize body:\n%s", errs)
	}
}

// TestCaddyInFront runs deploy/caddy/Caddyfile with a self-signed
// certificate in front of Meldestelle.
func TestCaddyInFront(t *testing.T) {
	caddy := proxyBinary(t, "caddy", "caddy")
	dir := t.TempDir()
	port, onionPort := freePort(t), freePort(t)
	env, seen, upstream, stop := newService(t, port)
	cert, certFile, keyFile := selfSigned(t, dir)
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := shipped(t, "caddy/Caddyfile",
		// The test's own certificate instead of one from the internet,
		// and no admin endpoint on a fixed port.
		"{\n\tlog default {", "{\n\tadmin off\n\tauto_https off\n\tlog default {",
		"melden.example.org {", "https://localhost:"+port+" {\n\ttls "+certFile+" "+keyFile,
		"http://:8081 {", "http://:"+onionPort+" {",
		"127.0.0.1:8080", upstream)
	confFile := filepath.Join(dir, "Caddyfile")
	writeFile(t, confFile, []byte(conf))

	var out webtest.SyncBuffer
	s := &stack{env: env, url: "https://localhost:" + port, onionURL: "http://127.0.0.1:" + onionPort,
		client: httpsClient(cert), seen: seen, stopUpstream: stop, tempDirs: []string{tmp},
		logs: func() map[string]string { return map[string]string{"caddy's output": out.String()} }}
	t.Setenv("TMPDIR", tmp)
	start(t, s, &out, caddy, "run", "--config", confFile, "--adapter", "caddyfile")
	exercise(t, s)
	if text := out.String(); strings.Contains(text, clientAddr) {
		t.Errorf("caddy's output names the client:\n%s", text)
	}
}

// workerUser lets nginx's workers, when started as root, write where the
// test can see it: without it they could not enter the test's directory,
// and a body written to disk would show as an error, not as a file.
func workerUser() string {
	if os.Geteuid() == 0 {
		return "user root;"
	}
	return ""
}

// readDir returns the text of every file in dir.
func readDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	logs := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		logs[e.Name()] = string(b)
	}
	return logs
}

// exercise is what both proxies must do: serve the pages over https with
// the service's security headers, take a report with a file and a login,
// keep no body on disk, pass no client address to the service, log
// nothing about a public request, and keep the office off the onion.
func exercise(t *testing.T, s *stack) {
	watch := watchCreate(t, s.tempDirs)

	// The form: the service's headers, once each; no cookie.
	resp, page := get(t, s, "/de/", nil)
	if resp.StatusCode != http.StatusOK || resp.TLS == nil {
		t.Fatalf("GET /de/ over https: %d, TLS %v", resp.StatusCode, resp.TLS != nil)
	}
	for _, h := range []string{"Strict-Transport-Security", "Content-Security-Policy", "X-Frame-Options", "Referrer-Policy", "X-Content-Type-Options", "Permissions-Policy"} {
		if got := resp.Header.Values(h); len(got) != 1 {
			t.Errorf("%s: %q, want the service's header once", h, got)
		}
	}
	if got := resp.Header.Get("Strict-Transport-Security"); !strings.Contains(got, "max-age=") {
		t.Errorf("HSTS = %q", got)
	}
	if c := resp.Header.Values("Set-Cookie"); len(c) > 0 {
		t.Errorf("the report form sets a cookie through the proxy: %q", c)
	}
	if strings.Contains(resp.Header.Get("Server"), "/") {
		t.Errorf("Server header tells the proxy's version: %q", resp.Header.Get("Server"))
	}

	// A report with a long text and a file: more than nginx keeps in
	// memory by default in both directions.
	description := strings.Repeat("Der Vermieter hat uns wegen unseres Namens abgewiesen. ", 300)
	form := webtest.ValidReport(description)
	form.Set("submission", webtest.SubToken(t, page))
	id := webtest.CaptchaID(t, page)
	form.Set("captcha_id", id)
	form.Set("captcha_solution", webtest.Captchas.Solve(id))
	pdf := append([]byte("%PDF-1.7\n% Beweis\n"), bytes.Repeat([]byte("% Zeile eines Briefes vom Vermieter\n"), 200000)...)
	pdf = append(pdf, "%%EOF\n"...)
	body, ct := webtest.AttBody(t, form, []webtest.AttFile{{Name: "brief.pdf", Data: pdf}})
	resp, receipt := post(t, s, "/de/report", ct, body, nil)
	if resp.StatusCode != http.StatusOK || webtest.SubReceipt(receipt) == "" {
		t.Fatalf("the report through the proxy: status %d, no receipt:\n%.2000s", resp.StatusCode, receipt)
	}
	if c := resp.Header.Values("Set-Cookie"); len(c) > 0 {
		t.Errorf("the receipt page sets a cookie: %q", c)
	}

	// A counsellor logs in, from a browser: the cross-origin check sees
	// the Origin it sent and the Host the proxy passed on.
	login := url.Values{"username": {s.env.Admin}, "password": {s.env.Pass}}
	resp, loginPage := post(t, s, "/office/login", "application/x-www-form-urlencoded", strings.NewReader(login.Encode()),
		http.Header{"Origin": {s.url}, "Sec-Fetch-Site": {"same-origin"}})
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if strings.HasSuffix(c.Name, "meldestelle_session") && c.Value != "" {
			session = c
		}
	}
	if session == nil {
		t.Fatalf("login through the proxy: status %d, no session cookie:\n%.2000s", resp.StatusCode, loginPage)
	}
	for _, raw := range resp.Header.Values("Set-Cookie") {
		if !strings.Contains(raw, "; Secure") || !strings.Contains(raw, "HttpOnly") {
			t.Errorf("cookie over https without Secure or HttpOnly: %q", raw)
		}
	}
	cookie := http.Header{"Cookie": {session.Name + "=" + session.Value}}
	_, list := get(t, s, "/office/cases", cookie)
	ids := webtest.CaseIDs(list)
	if len(ids) != 1 {
		t.Fatalf("the case list through the proxy shows %d cases, want 1", len(ids))
	}
	_, casePage := get(t, s, "/office/cases/"+ids[0], cookie)
	if !strings.Contains(casePage, description[:200]) {
		t.Error("the case page through the proxy lacks the report's text")
	}
	links := webtest.AttLinkPattern.FindAllStringSubmatch(casePage, -1)
	if len(links) != 1 {
		t.Fatalf("the case page shows %d attachments, want 1", len(links))
	}
	// A counsellor on a slow line: what the browser does not take at
	// once, the proxy must hold; nginx would put it into a file.
	resp, file := slowGet(t, s, links[0][1], cookie)
	if resp.StatusCode != http.StatusOK || file != string(pdf) {
		t.Errorf("the attachment through the proxy: status %d, %d bytes, want the %d bytes uploaded", resp.StatusCode, len(file), len(pdf))
	}

	// A body over the proxy's limit, on the public side and at the
	// office: the proxy refuses both; only the office's may be logged.
	for _, path := range []string{"/de/report", "/office/login"} {
		// nginx answers 413 at once; Caddy passes the body on until
		// more than its limit is read, and the service refuses it first.
		if code := oversize(t, s, path); code != 0 && (code < 400 || code > 499) {
			t.Errorf("a 70 MB body to %s: status %d, want a refusal", path, code)
		}
	}

	if files := watch(); len(files) > 0 {
		t.Errorf("the proxy wrote bodies to disk (a report's plaintext, a decrypted file): %q", files)
	}

	// No client address reached the service, even one the client sent.
	resp, _ = get(t, s, "/de/privacy", http.Header{"X-Forwarded-For": {"127.0.0.9"}, "X-Real-IP": {"127.0.0.9"}, "Forwarded": {"for=127.0.0.9"}})
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /de/privacy: %d", resp.StatusCode)
	}
	for _, r := range s.seen.all() {
		for name, values := range r.header {
			for _, v := range values {
				if strings.Contains(v, clientAddr) || strings.Contains(v, "127.0.0.9") {
					t.Errorf("the service got the client's address for %s in %s: %q", r.path, name, v)
				}
			}
		}
	}

	// Plain http only redirects to https.
	if s.httpURL != "" {
		resp, err := s.client.Get(s.httpURL + "/de/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMovedPermanently || !strings.HasPrefix(resp.Header.Get("Location"), "https://localhost") {
			t.Errorf("http://…/de/: %d to %q, want a redirect to https", resp.StatusCode, resp.Header.Get("Location"))
		}
	}

	// The onion server: the public side with the onion's Host, no office.
	onion := func(path string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, s.onionURL+path, nil)
		req.Host = onionHost
		resp, err := s.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, page := onion("/de/"); code != http.StatusOK || !strings.Contains(page, `name="captcha_id"`) {
		t.Errorf("the form through the onion server: %d", code)
	}
	if code, _ := onion("/office/login"); code != http.StatusNotFound {
		t.Errorf("the office through the onion server: %d, want 404", code)
	}
	for _, r := range s.seen.all() {
		if r.host == onionHost && strings.HasPrefix(r.path, "/office") {
			t.Errorf("the onion server passed %s to the service", r.path)
		}
	}

	// The service is down: the proxy logs the failure (with the client's
	// address, unless told not to) and answers 502.
	s.stopUpstream()
	for _, path := range []string{"/de/", "/office/login"} {
		if resp, _ := get(t, s, path, nil); resp.StatusCode != http.StatusBadGateway {
			t.Errorf("GET %s with the service down: %d, want 502", path, resp.StatusCode)
		}
	}

	// Nothing the proxy logged names the client on a public route.
	for name, text := range s.logs() {
		sc := bufio.NewScanner(strings.NewReader(text))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if line := sc.Text(); strings.Contains(line, clientAddr) && !strings.Contains(line, "/office") {
				t.Errorf("%s names the client on a public route: %s", name, line)
			}
		}
	}
}

func get(t *testing.T, s *stack, path string, h http.Header) (*http.Response, string) {
	t.Helper()
	resp := send(t, s, http.MethodGet, path, nil, h)
	return resp, readAll(t, resp)
}

func post(t *testing.T, s *stack, path, contentType string, body io.Reader, h http.Header) (*http.Response, string) {
	t.Helper()
	h = h.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("Content-Type", contentType)
	resp := send(t, s, http.MethodPost, path, body, h)
	return resp, readAll(t, resp)
}

// send makes a request through the proxy and returns the response with
// its body unread.
func send(t *testing.T, s *stack, method, path string, body io.Reader, h http.Header) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// slowGet is get for a client that reads the first bytes of the body and
// then nothing for a moment, as a browser on a slow line does, so that
// the proxy has the rest of a large body to keep somewhere.
func slowGet(t *testing.T, s *stack, path string, h http.Header) (*http.Response, string) {
	t.Helper()
	resp := send(t, s, http.MethodGet, path, nil, h)
	defer resp.Body.Close()
	first := make([]byte, 1024)
	n, err := io.ReadFull(resp.Body, first)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	time.Sleep(time.Second)
	rest, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(first[:n]) + string(rest)
}

// oversize announces a 70 MB body to path and returns the status the
// proxy answers with, or 0 if it closed the connection instead.
func oversize(t *testing.T, s *stack, path string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.url+path, io.LimitReader(zeros{}, 70<<20))
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = 70 << 20
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := s.client.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// watchCreate watches dirs for new files; the returned function lists the
// files created since. A proxy's temporary files are deleted the moment
// they are opened, so only their creation can be seen.
func watchCreate(t *testing.T, dirs []string) func() []string {
	t.Helper()
	if len(dirs) == 0 {
		return func() []string { return nil }
	}
	fd, err := syscall.InotifyInit1(syscall.IN_NONBLOCK | syscall.IN_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	watches := map[int32]string{}
	for _, d := range dirs {
		wd, err := syscall.InotifyAddWatch(fd, d, syscall.IN_CREATE)
		if err != nil {
			t.Fatal(err)
		}
		watches[int32(wd)] = d
	}
	return func() []string {
		var files []string
		buf := make([]byte, 64<<10)
		for {
			n, err := syscall.Read(fd, buf)
			if n <= 0 || err != nil {
				return files
			}
			for off := 0; off+syscall.SizeofInotifyEvent <= n; {
				// struct inotify_event: wd, mask, cookie, len, name.
				wd := int32(binary.NativeEndian.Uint32(buf[off:]))
				size := int(binary.NativeEndian.Uint32(buf[off+12:]))
				name := buf[off+syscall.SizeofInotifyEvent : off+syscall.SizeofInotifyEvent+size]
				files = append(files, filepath.Join(watches[wd], string(bytes.TrimRight(name, "\x00"))))
				off += syscall.SizeofInotifyEvent + size
			}
		}
	}
}
