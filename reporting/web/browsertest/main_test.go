package browsertest_test

import (
	"os"
	"testing"

	"github.com/dchest/captcha"

	"github.com/planb-ruhr/meldestelle/reporting/web/webtest"
)

func TestMain(m *testing.M) {
	// dchest/captcha's store is a package global: set it once, before the
	// first captcha is made, so that the tests can solve the captchas the
	// servers check as in production.
	captcha.SetCustomStore(webtest.Captchas)
	os.Exit(m.Run())
}
