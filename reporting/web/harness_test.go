package web_test

import (
	"flag"
	"os"
	"testing"

	"github.com/dchest/captcha"

	"github.com/planb-ruhr/meldestelle/reporting/web/webtest"
)

func TestMain(m *testing.M) {
	// dchest/captcha's store is a package global: set it once, before the
	// first captcha is made.
	captcha.SetCustomStore(captchas)
	// The handler tests run in parallel (each on its own database and
	// server) and spend much of their time waiting for SQLite's fsync,
	// not on the CPU: six at a time unless -parallel says otherwise.
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		flag.Set("test.parallel", "6")
	}
	os.Exit(m.Run())
}

// The harness lives in package webtest, shared with the browser tests in
// package browsertest; these short names keep the handler tests' call
// sites as they were.
type (
	env        = webtest.Env
	options    = webtest.Options
	testClock  = webtest.Clock
	syncBuffer = webtest.SyncBuffer
	attFile    = webtest.AttFile
)

// newEnv starts a server on loopback with the first team and an admin set
// up, and stops it when the test ends.
func newEnv(t testing.TB, opts options) *env { return webtest.New(t, opts) }

var (
	captchas     = webtest.Captchas
	testParams   = webtest.TestParams
	translations = webtest.Translations
	newTestClock = webtest.NewClock

	client   = webtest.Client
	get      = webtest.Get
	post     = webtest.Post
	readBody = webtest.ReadBody
	postAs   = webtest.PostAs
	getAs    = webtest.GetAs
	loginAs  = webtest.LoginAs
	login    = webtest.Login

	captchaID         = webtest.CaptchaID
	validReport       = webtest.ValidReport
	submit            = webtest.Submit
	receiptPattern    = webtest.ReceiptPattern
	submissionPattern = webtest.SubmissionPattern
	subToken          = webtest.SubToken
	subForm           = webtest.SubForm
	subReceipt        = webtest.SubReceipt
	countReports      = webtest.CountReports
	teamIDs           = webtest.TeamIDs

	attBody        = webtest.AttBody
	attSubmit      = webtest.AttSubmit
	attJPEGWithGPS = webtest.AttJPEGWithGPS
	attLinkPattern = webtest.AttLinkPattern
	attCase        = webtest.AttCase
	attDownload    = webtest.AttDownload
	voiceBox       = webtest.VoiceBox

	voicePlayerPattern = webtest.VoicePlayerPattern

	fuReceiptPattern = webtest.FuReceiptPattern
	fuTokenPattern   = webtest.FuTokenPattern
	fuSubmit         = webtest.FuSubmit
	fuNoCookie       = webtest.FuNoCookie
	fuOpen           = webtest.FuOpen
	fuToken          = webtest.FuToken
	fuPost           = webtest.FuPost
	fumsgCase        = webtest.FumsgCase

	accLogin       = webtest.AccLogin
	accLinkPattern = webtest.AccLinkPattern
	accAccept      = webtest.AccAccept
	caseIDs        = webtest.CaseIDs
	wantAll        = webtest.WantAll
	triage         = webtest.Triage
	statsReport    = webtest.StatsReport
	statsCases     = webtest.StatsCases
	newTOTPEnv     = webtest.NewTOTPEnv
	secretPattern  = webtest.SecretPattern
	code           = webtest.TOTPCode
	wrongCode      = webtest.WrongCode
)
