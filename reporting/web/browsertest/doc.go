// Package browsertest holds the tests that drive Meldestelle in a headless
// Chromium (through chromedp): the end-to-end paths of a reporter and a
// counsellor, the forms on a phone's screen, the languages in the browser,
// and the accessibility gate (axe-core in the browser, the Nu HTML
// checker on every page). It has no code of its own: only its tests, on
// the harness of package webtest.
//
// They live apart from the handler tests of package web so that those run
// in seconds. Without Chromium the tests here are skipped with a message
// saying what to install; MELDESTELLE_REQUIRE_BROWSER=1 (set in .ci/run)
// turns the skip into a failure. The gate also needs MELDESTELLE_AXE and
// MELDESTELLE_VNU, the paths of axe.min.js and vnu.jar.
package browsertest
