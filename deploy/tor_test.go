//go:build linux

package deploy_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// deploy/tor/torrc, as shipped but for its directory, is a configuration
// Tor accepts, and points Tor at the proxies' onion server block.
func TestTorrcIsValid(t *testing.T) {
	tor := proxyBinary(t, "tor", "tor")
	dir := t.TempDir()
	conf := shipped(t, "tor/torrc",
		"/var/lib/tor/meldestelle/", filepath.Join(dir, "onion")+"/",
		// The proxies' onion block (deploy/nginx, deploy/caddy).
		"HiddenServicePort 80 127.0.0.1:8081", "HiddenServicePort 80 127.0.0.1:8081")
	// Where Tor keeps its state, and no SOCKS port: only the check runs.
	conf += "\nDataDirectory " + filepath.Join(dir, "data") + "\nSocksPort 0\n"
	file := filepath.Join(dir, "torrc")
	writeFile(t, file, []byte(conf))
	out, err := exec.Command(tor, "--verify-config", "-f", file).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Configuration was valid") {
		t.Errorf("tor --verify-config: %v\n%s", err, out)
	}
	for _, f := range []string{"nginx/meldestelle.conf", "caddy/Caddyfile"} {
		if b := shipped(t, f); !strings.Contains(b, "127.0.0.1:8081") && !strings.Contains(b, "http://:8081") {
			t.Errorf("%s has no onion server block on 127.0.0.1:8081, where torrc points", f)
		}
	}
}
