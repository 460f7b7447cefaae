package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// mapEnv is an environment made of a map, for loadServe.
func mapEnv(m map[string]string) lookupEnv {
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

// refusedStart runs `meldestelle serve args` with a context that is
// already cancelled (a start that is wrongly accepted ends at once, with
// exit 0) and returns the exit code and standard error.
func refusedStart(t *testing.T, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var stderr lockedBuffer
	code := run(ctx, append([]string{"serve"}, args...), strings.NewReader(""), &lockedBuffer{}, &stderr)
	return code, stderr.String()
}

// Every flag and environment variable of serve: each bad value stops the
// start, before the data directory is created, with a message naming the
// flag or variable the value came from; each good value is taken, and a
// flag wins over its variable.
func TestEveryServeSettingIsValidated(t *testing.T) {
	tmp := t.TempDir()
	aFile := filepath.Join(tmp, "a-file")
	passwordFile := filepath.Join(tmp, "smtp-password")
	for _, name := range []string{aFile, passwordFile} {
		if err := os.WriteFile(name, []byte("aus der Datei\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	mail := map[string]string{"MELDESTELLE_SMTP_FROM": "meldestelle@example.org"}
	for _, tc := range []struct {
		env, flag string
		bad       []string
		good      string
		with      map[string]string // other variables the good value needs
		got       func(c *config) any
		want      any
	}{
		{"MELDESTELLE_DATA", "data", []string{aFile}, tmp, nil, func(c *config) any { return c.data }, tmp},
		{"MELDESTELLE_SECRET_FILE", "secret-file", []string{tmp}, "/etc/meldestelle/secret.key", nil, func(c *config) any { return c.secretFile }, "/etc/meldestelle/secret.key"},
		{"MELDESTELLE_KDF_CONCURRENCY", "kdf-concurrency", []string{"two", "-1", "1.5", "100000"}, "3", nil, func(c *config) any { return c.kdfConcurrency }, 3},
		{"MELDESTELLE_ADDR", "addr", []string{"localhost", "127.0.0.1:http", "127.0.0.1:70000"}, "0.0.0.0:8081", nil, func(c *config) any { return c.addr }, "0.0.0.0:8081"},
		{"MELDESTELLE_BASE_URL", "base-url", []string{"melden.example.org", "ftp://melden.example.org", "https://", "https://melden.example.org/?x=1"}, "https://melden.example.org/", nil, func(c *config) any { return c.baseURL }, "https://melden.example.org"},
		// Tor (issue 15): a v3 address whose checksum matches, nothing after the host.
		{"MELDESTELLE_ONION_URL", "onion-url", []string{"rkeohxlubhyzl7ks3mwtzos5olfgocn7dwkbeg7toseadnapn5optfad", "ftp://rkeohxlubhyzl7ks3mwtzos5olfgocn7dwkbeg7toseadnapn5optfad.onion", "http://melden.example.org", "http://rkeohxlubhyzl7ks3mwtzos5olfgocn7dwkbeg7toseadnapn5optfae.onion", "http://rkeohxlubhyzl7ks3mwtzos5olfgocn7dwkbeg7toseadnapn5optfad.onion/de/"}, "http://rkeohxlubhyzl7ks3mwtzos5olfgocn7dwkbeg7toseadnapn5optfad.onion/", nil, func(c *config) any { return c.onionURL }, "http://rkeohxlubhyzl7ks3mwtzos5olfgocn7dwkbeg7toseadnapn5optfad.onion"},
		{"MELDESTELLE_TRUSTED_PROXIES", "trusted-proxies", []string{"10.0.0.x", "10.0.0.1,,10.0.0.2", "10.0.0.0/33"}, "10.0.0.1, 192.168.0.0/16", nil, func(c *config) any { return c.trustedProxies }, []string{"10.0.0.1", "192.168.0.0/16"}},
		{"MELDESTELLE_MEMORY_LIMIT", "memory-limit", []string{"lots", "1MiB"}, "512MiB", nil, func(c *config) any { return c.memoryLimit }, int64(512 << 20)},
		{"MELDESTELLE_STATS_K", "stats-k", []string{"x", "2"}, "7", nil, func(c *config) any { return c.statsK }, 7},
		{"MELDESTELLE_CAPTCHA", "", []string{"no", "0", "aus"}, "OFF", nil, func(c *config) any { return c.captchaOff }, true},
		{"MELDESTELLE_SMTP_HOST", "smtp-host", []string{"mail.example.org:25", "mail example"}, "mail.example.org", mail, func(c *config) any { return fmt.Sprintln(c.smtp.Host, c.mailOn) }, "mail.example.org true\n"},
		{"MELDESTELLE_SMTP_PORT", "smtp-port", []string{"abc", "0", "65536"}, "2525", nil, func(c *config) any { return c.smtp.Port }, 2525},
		{"MELDESTELLE_SMTP_USER", "smtp-user", []string{"anna\nRCPT TO"}, "meldestelle", nil, func(c *config) any { return c.smtp.User }, "meldestelle"},
		{"MELDESTELLE_SMTP_FROM", "smtp-from", []string{"Meldestelle <m@example.org>", "nobody"}, "m@example.org", nil, func(c *config) any { return c.smtp.From }, "m@example.org"},
		{"MELDESTELLE_SMTP_PASSWORD", "", nil, "geheim", nil, func(c *config) any { return c.smtp.Password }, "geheim"},
		{"MELDESTELLE_SMTP_PASSWORD_FILE", "smtp-password-file", []string{filepath.Join(tmp, "missing")}, passwordFile, map[string]string{"MELDESTELLE_SMTP_PASSWORD": "aus der Umgebung"}, func(c *config) any { return c.smtp.Password }, "aus der Datei"},
		{"MELDESTELLE_SMTP_STARTTLS", "smtp-starttls", []string{"maybe", "aus"}, "false", nil, func(c *config) any { return c.smtp.StartTLS }, false},
		{"MELDESTELLE_NOTIFY_DELAY_MIN", "notify-delay-min", []string{"soon", "-1m", "2h"}, "5m", nil, func(c *config) any { return c.notifyDelayMin }, 5 * time.Minute},
		{"MELDESTELLE_NOTIFY_DELAY_MAX", "notify-delay-max", []string{"2d", "1m", "25h"}, "2h", nil, func(c *config) any { return c.notifyDelayMax }, 2 * time.Hour},
		// Scheduled backups (issue 15).
		{"MELDESTELLE_BACKUP_DIR", "backup-dir", []string{aFile}, tmp, nil, func(c *config) any { return c.backupDir }, tmp},
		{"MELDESTELLE_BACKUP_EVERY", "backup-every", []string{"daily", "-1h", "30s"}, "24h", map[string]string{"MELDESTELLE_BACKUP_DIR": tmp}, func(c *config) any { return c.backupEvery }, 24 * time.Hour},
		{"MELDESTELLE_BACKUP_KEEP", "backup-keep", []string{"0", "many"}, "7", nil, func(c *config) any { return c.backupKeep }, 7},
	} {
		t.Run(tc.env, func(t *testing.T) {
			for k, v := range tc.with {
				t.Setenv(k, v)
			}
			data := filepath.Join(t.TempDir(), "data")
			base := []string{"-addr", "127.0.0.1:0", "-data", data}
			if tc.flag == "addr" || tc.flag == "data" {
				base = nil // the flag would hide the variable
			}
			for _, bad := range tc.bad {
				t.Setenv(tc.env, bad)
				code, stderr := refusedStart(t, base...)
				if code == 0 || !strings.Contains(stderr, tc.env+":") && !strings.Contains(stderr, tc.env+" ") {
					t.Errorf("%s=%q: exit %d, stderr %q; want a refusal naming %s", tc.env, bad, code, stderr, tc.env)
				}
				os.Unsetenv(tc.env)
				if tc.flag == "" {
					continue
				}
				code, stderr = refusedStart(t, append(base, "-"+tc.flag+"="+bad)...)
				if code == 0 || !strings.Contains(stderr, "-"+tc.flag) {
					t.Errorf("-%s=%q: exit %d, stderr %q; want a refusal naming -%s", tc.flag, bad, code, stderr, tc.flag)
				}
			}
			if _, err := os.Stat(data); err == nil {
				t.Error("the data directory was created although the configuration was refused")
			}

			env := map[string]string{tc.env: tc.good}
			for k, v := range tc.with {
				env[k] = v
			}
			c, err := loadServe(nil, io.Discard, mapEnv(env))
			if err != nil {
				t.Fatalf("%s=%q: %v", tc.env, tc.good, err)
			}
			if got := tc.got(c); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("%s=%q: got %v, want %v", tc.env, tc.good, got, tc.want)
			}
			if tc.flag == "" || len(tc.bad) == 0 {
				return
			}
			env[tc.env] = tc.bad[0]
			c, err = loadServe([]string{"-" + tc.flag + "=" + tc.good}, io.Discard, mapEnv(env))
			if err != nil {
				t.Fatalf("-%s=%q over %s=%q: %v", tc.flag, tc.good, tc.env, tc.bad[0], err)
			}
			if got := tc.got(c); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("-%s=%q: got %v, want %v", tc.flag, tc.good, got, tc.want)
			}
		})
	}
}

// Without any setting serve takes the documented defaults; a variable
// set to the empty string counts as unset (an empty line in an
// EnvironmentFile must not mean "listen on every interface").
func TestServeDefaults(t *testing.T) {
	for _, env := range []map[string]string{nil, {"MELDESTELLE_ADDR": "", "MELDESTELLE_SMTP_PORT": "", "MELDESTELLE_STATS_K": "", "MELDESTELLE_CAPTCHA": ""}} {
		c, err := loadServe(nil, io.Discard, mapEnv(env))
		if err != nil {
			t.Fatalf("env %v: %v", env, err)
		}
		got := fmt.Sprintln(c.data, c.addr, c.baseURL, c.kdfConcurrency, c.statsK, c.captchaOff, c.mailOn, c.smtp.Port, c.smtp.StartTLS, c.notifyDelayMin, c.notifyDelayMax)
		if want := "./data 127.0.0.1:8080 http://127.0.0.1:8080 0 5 false false 587 true 15m0s 1h30m0s\n"; got != want {
			t.Errorf("env %v: defaults %q, want %q", env, got, want)
		}
	}
}

// Several bad values are refused together, each with its name, so that
// an operator fixes them in one go; a stray argument is refused too.
func TestServeReportsEveryBadValue(t *testing.T) {
	_, err := loadServe([]string{"-smtp-port=x"}, io.Discard, mapEnv(map[string]string{"MELDESTELLE_KDF_CONCURRENCY": "many", "MELDESTELLE_CAPTCHA": "nein"}))
	for _, name := range []string{"-smtp-port: not a port number: \"x\"", "MELDESTELLE_KDF_CONCURRENCY:", "MELDESTELLE_CAPTCHA:"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("error %v does not name %s", err, name)
		}
	}
	if _, err := loadServe([]string{"-addr", "127.0.0.1:8080", "8081"}, io.Discard, mapEnv(nil)); err == nil || !strings.Contains(err.Error(), `"8081"`) {
		t.Errorf("stray argument: %v", err)
	}
}

// The shared settings are validated by every command, not only by those
// that open the services: before, audit, backup and stats ignored a bad
// MELDESTELLE_KDF_CONCURRENCY.
func TestEveryCommandValidatesSharedSettings(t *testing.T) {
	t.Setenv("MELDESTELLE_KDF_CONCURRENCY", "zwei")
	for _, args := range [][]string{
		{"serve"}, {"setup", "-admin", "anna", "-password-stdin"}, {"audit", "verify"}, {"recover", "-admin", "anna", "-recovery-key-stdin"},
		{"stats"}, {"backup"}, {"retention", "-dry-run"}, {"unlock", "-user", "anna"}, {"secret", "init", "-yes"},
		{"kdf", "raise", "-memory-kib", "131072", "-time", "4"},
		{"check"}, {"restore", "backup.db"},
	} {
		data := filepath.Join(t.TempDir(), "data")
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		var stderr lockedBuffer
		code := run(ctx, append(args, "-data", data), strings.NewReader("x\ny\n"), &lockedBuffer{}, &stderr)
		if code == 0 || !strings.Contains(stderr.String(), "MELDESTELLE_KDF_CONCURRENCY") {
			t.Errorf("%v: exit %d, stderr %q; want a refusal naming MELDESTELLE_KDF_CONCURRENCY", args, code, stderr.String())
		}
		if _, err := os.Stat(data); err == nil {
			t.Errorf("%v: the data directory was created although the configuration was refused", args)
		}
	}
}
