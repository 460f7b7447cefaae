// Package web is Meldestelle's HTTP layer: the public reporting form, the
// office, their middleware and template rendering, on gin.
package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dchest/captcha"
	"github.com/gin-gonic/gin"

	"github.com/planb-ruhr/meldestelle/i18n"
	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/web/captchaaudio"
)

// Body limits. MaxBytesReader, not gin's MaxMultipartMemory, because the
// latter only decides what spills to disk; it limits nothing.
const (
	// MaxPublicBody fits 20,000 characters of any script, percent-encoded
	// (up to 9 bytes a character), plus the other fields.
	MaxPublicBody = 256 << 10
	// MaxOfficeBody is plenty for the office's forms.
	MaxOfficeBody = 64 << 10
)

// Config is the web layer's configuration, validated by the caller.
type Config struct {
	// BaseURL is the public URL of the service, e.g. https://melden.example.org.
	// With https, cookies are Secure and HSTS is sent.
	BaseURL string
	// OnionURL is the address of the public side as a Tor onion service,
	// e.g. http://<56 characters>.onion (CheckOnionURL); "" = none. With
	// it, public pages carry the Onion-Location header (onion.go).
	OnionURL string
	// CaptchaOff disables the captcha (load tests, closed intranets).
	CaptchaOff bool
	// Captchas is the store set with captcha.SetCustomStore, from which
	// the captcha pictures read their digits; nil: dchest's own drawing
	// path, which reads the store itself but encodes less thriftily.
	Captchas captcha.Store
	// CaptchaAudio speaks the captcha digits (with Captchas set); nil: a
	// new mixer with a random key.
	CaptchaAudio *captchaaudio.Mixer
	// TrustedProxies are the proxies whose X-Forwarded-* headers gin may
	// believe; none by default. Public handlers never read the client
	// address either way.
	TrustedProxies []string
	// Logger receives the access log and errors; never a client address.
	// Lines about public requests reach it stamped with the hour only and
	// held until the hour is over (publiclog.go); office lines at once.
	Logger *slog.Logger
	// Now is the clock.
	Now func() time.Time
	// Notifier sends the notification mails; nil: notifications off. It
	// stays configuration rather than a service: nil is a valid choice,
	// and the outbox's "send now" hands it to the notification service.
	Notifier *reporting.Notifier
	// Printer makes the case file's PDF (reporting/pdfprint); nil: no
	// Chromium, the export offers the print page only.
	Printer Printer
	// Ready probes whether the database takes a write (/readyz, issue
	// 15); nil: /readyz answers like /healthz.
	Ready func(context.Context) error
}

// Server serves the public and office routes.
type Server struct {
	cfg Config
	// The domain services, one per area (services.go).
	sessions  SessionService
	accounts  AccountService
	twoFactor TwoFactorService
	teams     TeamService
	cases     CaseService
	reminders ReminderService
	replies   ReplyService
	// replyTemplates: issue 13.
	replyTemplates ReplyTemplateService
	attachments    AttachmentService
	statistics     StatisticsService
	retention      RetentionService
	settings       SettingsService
	audit          AuditService
	notifications  NotificationService
	intake         IntakeService
	followup       FollowupService

	tr     *i18n.Bundle
	pages  *pages
	engine *gin.Engine
	secure bool
	// onionURL is cfg.OnionURL normalised, onionHost its host name.
	onionURL, onionHost string
	// officeLog is the Logger as configured; cfg.Logger becomes the
	// hour-stamped one, so that any line not known to be the office's
	// cannot date a public request.
	officeLog *slog.Logger
	publicLog *heldLog
	// public is what the public side offers (public_languages.go).
	public atomic.Pointer[publicSite]
	siteMu sync.Mutex // held while the public side's state is rebuilt
}

// New builds the server and its routes on the given services, every one
// of which must be set.
func New(cfg Config, svc Services, tr *i18n.Bundle) (*Server, error) {
	if err := svc.check(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CaptchaAudio == nil {
		cfg.CaptchaAudio = captchaaudio.NewMixer()
	}
	pages, err := pagesFor(tr)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, tr: tr, pages: pages, secure: strings.HasPrefix(cfg.BaseURL, "https://"),
		sessions: svc.Sessions, accounts: svc.Accounts, twoFactor: svc.TwoFactor, teams: svc.Teams,
		cases: svc.Cases, reminders: svc.Reminders, replies: svc.Replies, attachments: svc.Attachments, statistics: svc.Statistics,
		retention: svc.Retention, settings: svc.Settings, audit: svc.Audit, notifications: svc.Notifications,
		intake: svc.Intake, followup: svc.Followup, replyTemplates: svc.ReplyTemplates}
	if cfg.OnionURL != "" {
		if s.onionURL, err = CheckOnionURL(cfg.OnionURL); err != nil {
			return nil, fmt.Errorf("onion URL: %w", err)
		}
		u, _ := url.Parse(s.onionURL)
		s.onionHost = u.Hostname()
	}
	hour := newHourHandler(cfg.Logger.Handler())
	s.officeLog, s.publicLog, s.cfg.Logger = cfg.Logger, hour.held, slog.New(hour)
	if err := s.loadSite(context.Background()); err != nil {
		return nil, err
	}

	gin.SetMode(gin.ReleaseMode)
	// gin.New, not gin.Default: Default's logger prints client addresses.
	e := gin.New()
	// gin trusts every proxy's X-Forwarded-For until told otherwise.
	if err := e.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		return nil, err
	}
	e.ForwardedByClientIP = len(cfg.TrustedProxies) > 0
	// gin's own redirects would bypass the middleware (and its headers):
	// the one redirect people need, /de → /de/, is a route of its own.
	e.RedirectTrailingSlash = false
	e.HandleMethodNotAllowed = false
	e.Use(s.accessLog, s.recover, s.headers)
	e.NoRoute(func(c *gin.Context) { s.errorPage(c, http.StatusNotFound, "error.not_found") })

	e.GET("/healthz", func(c *gin.Context) { c.String(http.StatusOK, "ok\n") })
	e.GET("/readyz", s.readyHandler())
	e.GET("/", s.onionLocation, s.redirectToLanguage)
	e.GET("/static/*file", s.static)
	e.GET("/captcha/:file", s.captcha)

	e.GET("/:lang", s.publicLanguage, s.onionLocation, func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, "/"+lang(c)+"/") })
	// Every public page, and only those, may point to the onion address.
	pub := e.Group("/:lang", s.publicLanguage, s.onionLocation)
	pub.GET("/", s.reportForm)
	pub.POST("/report", s.limitBody(MaxReportBody), s.submitReport)
	pub.GET("/privacy", s.privacy)
	s.switchRoutes(pub)

	e.GET("/office", func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, "/office/") })
	off := e.Group("/office", s.officeLanguage, s.crossOrigin, s.limitBody(MaxOfficeBody))
	off.GET("/", s.requireSession, func(c *gin.Context) { c.Redirect(http.StatusSeeOther, home(session(c))) })
	off.GET("/setup", s.setupForm)
	off.POST("/setup", s.setup)
	off.GET("/login", s.loginForm)
	off.POST("/login", s.login)
	off.POST("/logout", s.logout)
	auth := off.Group("", s.requireSession, s.requireEnrolment)
	// Each group lets through only the roles that reporting.Can grants
	// its permission (reporting/permissions.go holds the table); the
	// services check the same permission again.
	may := func(p reporting.Permission) *gin.RouterGroup { return auth.Group("", s.requirePermission(p)) }
	// Case work is for admins and counsellors; statisticians hold no keys.
	work := may(reporting.PermCaseWork)
	work.GET("/cases", s.caseList)
	work.GET("/cases/:id", s.caseDetail)
	may(reporting.PermAudit).GET("/audit", s.auditLog)
	settings := may(reporting.PermSettings)
	s.caseRoutes(work)
	s.caseExportRoutes(work, svc.CaseExports)
	s.reminderRoutes(work)
	s.interpreterRoutes(work)
	s.accountRoutes(off, auth, may(reporting.PermManageAccounts))
	s.totpRoutes(auth, settings)
	s.teamRoutes(may(reporting.PermManageTeams))
	s.followupRoutes(pub, work)
	s.attachmentRoutes(pub, work)
	s.statisticsRoutes(pub, may(reporting.PermStatistics), may(reporting.PermPublishStatistics))
	s.networkExportRoutes(may(reporting.PermPublishStatistics), svc.NetworkExport)
	s.notificationRoutes(auth, may(reporting.PermOutbox))
	s.retentionRoutes(settings)
	s.languageRoutes(settings)
	s.timeZoneRoutes(settings)
	s.replyTemplateRoutes(settings)
	s.identityRoutes(e, pub, settings)

	s.engine = e
	return s, nil
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.engine.ServeHTTP(w, r) }

// PublicLogger returns the logger for lines that a reporter's request
// causes outside the handlers (the database's note that a withdrawal's
// -wal could not be emptied yet): stamped with the hour and held like
// every public line, so that it does not date the request.
func (s *Server) PublicLogger() *slog.Logger { return s.cfg.Logger }

// requestIDKey is the gin context key of the request ID.
type requestIDKey struct{}

// accessLog logs office requests with method, route pattern, status,
// duration and a random request ID that ties an error message to its
// access line: never the client's address, user agent, referrer, query
// string or concrete path (a path can carry a case ID; the pattern
// cannot). Public requests are only counted, per hour, method, route
// pattern and status (publiclog.go), so that the log cannot tell when a
// report came in.
func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	if !isOffice(c.Request.URL.Path) {
		c.Next()
		s.publicLog.count(c.Request.Method, routeOf(c), c.Writer.Status(), time.Since(start))
		return
	}
	id := requestID(c)
	c.Set(loggerKey, s.officeLog)
	c.Next()
	s.officeLog.Info("request",
		"method", c.Request.Method,
		"route", routeOf(c),
		"status", c.Writer.Status(),
		// A length, not a time of day; milliseconds are all anyone reads.
		"duration", time.Since(start).Round(time.Millisecond),
		"request_id", id)
}

// routeOf is the route pattern of a request, never its concrete path.
func routeOf(c *gin.Context) string {
	if r := c.FullPath(); r != "" {
		return r
	}
	return "(unmatched)"
}

func newRequestID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// requestID returns the request's ID, made on first use: office requests
// get theirs before the handler runs, public ones only when something is
// logged about them.
func requestID(c *gin.Context) string {
	if id, ok := c.Get(requestIDKey{}); ok {
		return id.(string)
	}
	id := newRequestID()
	c.Set(requestIDKey{}, id)
	return id
}

// recover turns a panic into a 500 page and a log line with the request
// ID; gin's own recovery would dump the request's headers.
func (s *Server) recover(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			s.log(c).Error("panic", "request_id", requestID(c), "panic", v)
			c.Abort()
			s.errorPage(c, http.StatusInternalServerError, "error.internal")
		}
	}()
	c.Next()
}

// headers sets the security headers of every response. The CSP allows no
// script at all and no inline style: the service works without
// JavaScript, and an injected <script> has nothing to run in.
func (s *Server) headers(c *gin.Context) {
	h := c.Writer.Header()
	for _, f := range securityHeaders {
		h[f.name] = f.value
	}
	if s.secure {
		h["Strict-Transport-Security"] = hsts
	}
	c.Next()
}

// securityHeaders are set on every response. The names are canonical and
// the values shared and full (len == cap), so setting them allocates
// nothing, and an Add elsewhere would copy rather than write into them.
var securityHeaders = []struct {
	name  string
	value []string
}{
	{"Content-Security-Policy", []string{"default-src 'none'; img-src 'self'; style-src 'self'; media-src 'self'; " +
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"}},
	{"Referrer-Policy", []string{"no-referrer"}},
	{"X-Content-Type-Options", []string{"nosniff"}},
	{"X-Frame-Options", []string{"DENY"}},
	{"Cross-Origin-Opener-Policy", []string{"same-origin"}},
	{"Cross-Origin-Resource-Policy", []string{"same-origin"}},
	{"Permissions-Policy", []string{"camera=(), microphone=(), geolocation=(), interest-cohort=()"}},
}

var hsts = []string{"max-age=63072000; includeSubDomains"}

// limitBody makes reading more than n bytes of the body fail, which the
// handlers answer with 413.
func (s *Server) limitBody(n int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		body := c.Request.Body
		if l, ok := body.(*limitedBody); ok {
			// A route's own limit replaces its group's (the office's
			// message composer carries files): nested, the smaller would
			// win. Only a limit set by this middleware is replaced, and
			// the route's runs after the group's session and role checks,
			// so nobody without them gets to send more.
			body = l.orig
		}
		c.Request.Body = &limitedBody{ReadCloser: http.MaxBytesReader(c.Writer, body, n), orig: body}
		c.Next()
	}
}

// limitedBody is a request body under limitBody, with the body it limits.
type limitedBody struct {
	io.ReadCloser
	orig io.ReadCloser
}

// crossOrigin refuses cross-site POSTs to the office (CSRF), by the
// browser's Sec-Fetch-Site and Origin headers.
func (s *Server) crossOrigin(c *gin.Context) {
	if err := crossOriginProtection.Check(c.Request); err != nil {
		c.Abort()
		s.errorPage(c, http.StatusForbidden, "error.forbidden")
		return
	}
	c.Next()
}

var crossOriginProtection = http.NewCrossOriginProtection()

// officeLanguage picks German or English for the office from the
// browser's Accept-Language.
func (s *Server) officeLanguage(c *gin.Context) {
	lang, ok := i18n.Negotiate(c.GetHeader("Accept-Language"), i18n.OfficeLanguages)
	if !ok {
		lang = i18n.Source
	}
	c.Set(langKey, lang)
	c.Next()
}

const langKey = "lang"

func lang(c *gin.Context) string {
	if l := c.GetString(langKey); l != "" {
		return l
	}
	return i18n.Source
}
