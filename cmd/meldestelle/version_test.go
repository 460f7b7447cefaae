package main

import (
	"strings"
	"testing"
)

// `meldestelle -version` and `meldestelle version` print the version
// stamped in at build time (scripts/build) and exit 0 without starting a
// server or touching a data directory.
func TestVersionFlag(t *testing.T) {
	saved := version
	version = "v1.2.3-4-gabcdef0"
	t.Cleanup(func() { version = saved })
	for _, args := range [][]string{{"-version"}, {"--version"}, {"version"}} {
		var out, errOut lockedBuffer
		code := run(t.Context(), args, strings.NewReader(""), &out, &errOut)
		if code != 0 || !strings.HasPrefix(out.String(), "meldestelle v1.2.3-4-gabcdef0 (go") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out.String(), errOut.String())
		}
	}
}
