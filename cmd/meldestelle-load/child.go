package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"time"
	_ "time/tzdata" // as in cmd/meldestelle: received_on is a Berlin date

	"github.com/dchest/captcha"
	"github.com/gin-gonic/gin"

	"github.com/planb-ruhr/meldestelle/i18n"
	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
	"github.com/planb-ruhr/meldestelle/reporting/web"
	"github.com/planb-ruhr/meldestelle/reporting/web/captchastore"
	"github.com/planb-ruhr/meldestelle/reporting/wiring"
	"github.com/planb-ruhr/meldestelle/storage"
)

// childFlag is the hidden first argument that turns the tool into the
// server it measures.
const childFlag = "-child"

// adminName is the admin the child creates for the login probes.
const adminName = "lasttest"

// childHello is the one line the child prints on standard output once it
// serves: where the parent finds it.
type childHello struct {
	Addr string `json:"addr"` // the real server
	Side string `json:"side"` // the measuring side channel (captcha digits, runtime stats)
	Bare string `json:"bare"` // a bare gin engine serving the bytes of one GET /de/ (formpage)
}

// childStats is what the side channel reports about the child's Go runtime.
type childStats struct {
	HeapAllocBytes uint64 `json:"heap_alloc_bytes"` // cumulative bytes allocated on the heap
	GCCycles       uint64 `json:"gc_cycles"`
	Goroutines     int    `json:"goroutines"`
	MemoryLimit    int64  `json:"memory_limit"` // debug.SetMemoryLimit(-1): math.MaxInt64 when none
}

// runChild is the child server: cmd/meldestelle's serve wiring on a
// temporary data directory, with production argon2id parameters, plus a
// loopback side channel for the parent. The admin's password is the first
// line of standard input; when standard input closes (the parent is done
// or died), the child shuts down.
func runChild(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if err := child(args, stdin, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "meldestelle-load child:", err)
		return 1
	}
	return 0
}

func child(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("child", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "data directory (required)")
	kdfConcurrency := fs.Int("kdf-concurrency", 0, "argon2id derivations at once; 0 = number of CPUs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *data == "" {
		return errors.New("child needs -data")
	}
	in := bufio.NewReader(stdin)
	line, err := in.ReadString('\n')
	if err != nil {
		return fmt.Errorf("read password: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")

	applyMemoryLimit(*kdfConcurrency)

	// dchest/captcha's store is a package global: set it once, before the
	// first captcha. The side channel reads the same store the server
	// checks against, so the captcha stays fully on; nothing is turned off.
	store := productionCaptchaStore()
	captcha.SetCustomStore(store)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// As cmd/meldestelle serve: the services from package wiring, a
	// notifier without a mailer, retention, web.New, an http.Server with
	// its timeouts.
	db, err := storage.Open(*data)
	if err != nil {
		return fmt.Errorf("open storage: %w", err)
	}
	defer db.Close()
	kdf := vault.NewKDF(*kdfConcurrency)
	secret, err := vault.LoadSecret(filepath.Join(*data, "secret.key"))
	if errors.Is(err, vault.ErrNoSecret) {
		secret, err = vault.CreateSecret(filepath.Join(*data, "secret.key"))
	}
	if err != nil {
		return fmt.Errorf("secret: %w", err)
	}
	anchor := reporting.NewAnchor(secret)
	db.SetAuditKey(anchor.AuditKey())
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	svc, err := wiring.New(ctx, db, wiring.Config{KDF: kdf, Params: vault.DefaultParams, Anchor: anchor, Now: now,
		Notify: reporting.NotifierConfig{BaseURL: "http://127.0.0.1", Now: now, Logger: logger}})
	if err != nil {
		return fmt.Errorf("services: %w", err)
	}
	defer svc.Close()
	office, notifier := svc.Office, svc.Notifier
	token, err := office.Start(ctx)
	if err != nil {
		return fmt.Errorf("office start: %w", err)
	}
	if token == "" {
		return errors.New("data directory already set up")
	}
	// As `meldestelle setup` does: the first team and its admin.
	if _, err := office.Setup(ctx, reporting.SetupForm{Token: token, Team: "PLANB", Username: adminName, Password: password, Confirm: password}); err != nil {
		return fmt.Errorf("setup: %w", err)
	}

	go notifier.Run(ctx, time.Minute)
	go svc.Retention.RunRetention(ctx, 24*time.Hour, logger)
	tr, err := i18n.Load()
	if err != nil {
		return fmt.Errorf("translations: %w", err)
	}

	// Loopback only: the load never leaves the machine.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	base := "http://" + ln.Addr().String()
	followup := reporting.NewFollowup(svc.Intake, now)
	handler, err := web.New(web.Config{BaseURL: base, Captchas: store, Logger: logger, Now: now, Notifier: notifier}, svc.Web(followup), tr)
	if err != nil {
		return fmt.Errorf("web: %w", err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          handler.HTTPErrorLog(),
	}
	defer handler.FlushLogs()
	go srv.Serve(ln)

	// The side channel is a separate listener that only this measuring
	// child opens; the production server has no such route.
	sideLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen side channel: %w", err)
	}
	side := &http.Server{Handler: sideChannel(store), ReadHeaderTimeout: 10 * time.Second}
	go side.Serve(sideLn)

	// The yardstick of the formpage scenario, also only in this child.
	bare, err := bareFormPage(handler)
	if err != nil {
		return err
	}
	bareLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen bare gin: %w", err)
	}
	// The real server's timeouts, so that both listeners differ only in
	// the handler.
	bareSrv := &http.Server{
		Handler:           bare,
		ReadHeaderTimeout: srv.ReadHeaderTimeout,
		ReadTimeout:       srv.ReadTimeout,
		WriteTimeout:      srv.WriteTimeout,
		IdleTimeout:       srv.IdleTimeout,
	}
	go bareSrv.Serve(bareLn)

	hello, _ := json.Marshal(childHello{Addr: ln.Addr().String(), Side: sideLn.Addr().String(), Bare: bareLn.Addr().String()})
	fmt.Fprintf(stdout, "%s\n", hello)

	// Run until the parent closes standard input. Then stop at once, not
	// gracefully: the measurement is over and the data directory is
	// thrown away, so a handler still busy with a flood request need not
	// finish.
	io.Copy(io.Discard, in)
	cancel()
	side.Close()
	bareSrv.Close()
	return srv.Close()
}

// bareFormPage returns what issue 8, item 6 measures the form page
// against: a bare gin engine, without middleware, whose one route serves
// the bytes of one GET /de/ of the real handler (fetched here, in the
// process, once) with the same content type and Cache-Control as the real
// page, and nothing else of it. Its captcha ID is fixed; only the real
// server makes a fresh one per request.
func bareFormPage(real http.Handler) (http.Handler, error) {
	rec := httptest.NewRecorder()
	real.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/de/", nil))
	if rec.Code != http.StatusOK {
		return nil, fmt.Errorf("bare gin: GET /de/: status %d", rec.Code)
	}
	page := bytes.Clone(rec.Body.Bytes())
	contentType := rec.Header().Get("Content-Type")
	cacheControl := rec.Header().Get("Cache-Control")
	// Release mode: in debug mode gin prints its routes to standard
	// output, where the parent expects the hello line.
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.GET("/de/", func(c *gin.Context) {
		c.Header("Cache-Control", cacheControl)
		c.Data(http.StatusOK, contentType, page)
	})
	return e, nil
}

// berlin is the office's time zone, as in cmd/meldestelle.
var berlin, _ = time.LoadLocation("Europe/Berlin")

func now() time.Time { return time.Now().In(berlin) }

// applyMemoryLimit applies the rule of cmd/meldestelle serve's default
// (-memory-limit auto): one argon2id buffer per KDF slot plus
// vault.MemoryHeadroom, unless GOMEMLIMIT is set, which wins there too.
// The limit in effect is printed with the results.
func applyMemoryLimit(kdfConcurrency int) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(vault.MemoryLimit(kdfConcurrency, vault.DefaultParams))
}

// productionCaptchaStore is the captcha store cmd/meldestelle serve sets:
// capped by count, with dchest's ten-minute expiry.
func productionCaptchaStore() captcha.Store {
	return captchastore.New(captchastore.DefaultMax)
}

// sideChannel serves the measuring side channel: GET /digits/{id} returns
// a captcha's digits as a person would type them (read without using the
// captcha up), GET /stats the runtime's counters.
func sideChannel(store captcha.Store) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /digits/{id}", func(w http.ResponseWriter, r *http.Request) {
		d := store.Get(r.PathValue("id"), false)
		if d == nil {
			http.NotFound(w, r)
			return
		}
		b := make([]byte, len(d))
		for i, v := range d {
			b[i] = '0' + v
		}
		w.Write(b)
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(readChildStats())
	})
	return mux
}

func readChildStats() childStats {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	st := childStats{Goroutines: runtime.NumGoroutine(), MemoryLimit: debug.SetMemoryLimit(-1)}
	if s[0].Value.Kind() == metrics.KindUint64 {
		st.HeapAllocBytes = s[0].Value.Uint64()
	}
	if s[1].Value.Kind() == metrics.KindUint64 {
		st.GCCycles = s[1].Value.Uint64()
	}
	return st
}
