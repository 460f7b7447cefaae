package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/smtpmail"
	"github.com/planb-ruhr/meldestelle/reporting/web"
)

// config is a command's whole configuration, read from its flags and
// MELDESTELLE_* environment variables once and validated before anything
// is opened: a value that does not parse stops the start with a message
// naming the flag or variable it came from, instead of silently meaning
// the default. Every command fills the shared part; serve fills the rest.
type config struct {
	// Shared by every command.
	data           string
	secretFile     string // the server secret; "" = <data>/secret.key
	kdfConcurrency int    // argon2id derivations at once; 0 = one per CPU

	// serve (statsK also for stats).
	addr           string
	baseURL        string // without a trailing slash
	onionURL       string // the onion service's address; "" = none
	trustedProxies []string
	captchaOff     bool
	statsK         int
	memoryLimit    int64  // to set at start; 0 = leave the runtime's
	memoryLimitHow string // how memoryLimit was chosen, for the log
	mailOn         bool   // a mail server is set: notifications on
	smtp           smtpmail.Config
	notifyDelayMin time.Duration
	notifyDelayMax time.Duration
	chromium       string        // the browser for the case file's PDF; "" = look on PATH
	backupDir      string        // scheduled backups' directory
	backupEvery    time.Duration // 0 = no scheduled backups
	backupKeep     int           // scheduled backups kept
}

// lookupEnv reads an environment variable: os.LookupEnv, or a map in tests.
type lookupEnv func(name string) (string, bool)

// setting is one configuration value with its flag and its environment
// variable (either may be missing). It is the flag's flag.Value, so that
// after parsing it knows where the text in effect came from.
type setting struct {
	flag, env string
	value     string // the flag's text, else the variable's, else the default
	from      string // "-flag", the variable's name, or "" for the default
	isBool    bool
	apply     func(string) error
}

// String returns the text in effect (flag.Value).
func (s *setting) String() string {
	if s == nil {
		return ""
	}
	return s.value
}

// Set takes the flag's text (flag.Value).
func (s *setting) Set(v string) error {
	s.value, s.from = v, "-"+s.flag
	return nil
}

// IsBoolFlag lets a bool setting be given as a bare -flag.
func (s *setting) IsBoolFlag() bool { return s != nil && s.isBool }

// name is what an error calls the setting: where its value came from.
func (s *setting) name() string {
	switch {
	case s.from != "":
		return s.from
	case s.flag != "":
		return "-" + s.flag
	}
	return s.env
}

// both names the flag and the variable, for a value that is missing.
func (s *setting) both() string {
	if s.flag == "" {
		return s.env
	}
	if s.env == "" {
		return "-" + s.flag
	}
	return "-" + s.flag + " / " + s.env
}

// flagSet is a command's flags and the environment variables behind them.
type flagSet struct {
	*flag.FlagSet
	env      lookupEnv
	settings []*setting
	checks   []func() error
}

// newFlagSet returns an empty set whose usage and parse errors go to
// stderr and whose variables are read with env.
func newFlagSet(name string, stderr io.Writer, env lookupEnv) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return &flagSet{FlagSet: fs, env: env}
}

// add registers a setting: the flag (if flagName is set), the variable
// (if envName is set) and the default. After parsing, apply gets the text
// in effect and stores its value, or says what is wrong with it. A
// variable set to the empty string counts as unset, as an empty line in
// a systemd EnvironmentFile would otherwise mean an empty listen address
// or data directory.
func (f *flagSet) add(flagName, envName, def, usage string, apply func(string) error) *setting {
	s := &setting{flag: flagName, env: envName, value: def, apply: apply}
	if envName != "" {
		if v, ok := f.env(envName); ok && v != "" {
			s.value, s.from = v, envName
		}
		usage += " (env " + envName + ")"
	}
	if flagName != "" {
		f.Var(s, flagName, usage)
	}
	f.settings = append(f.settings, s)
	return s
}

// addBool registers a setting given as a bare -flag, -flag=false, or a
// variable set to true or false.
func (f *flagSet) addBool(flagName, envName string, def bool, usage string, to *bool) *setting {
	s := f.add(flagName, envName, strconv.FormatBool(def), usage, func(v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			// Before, an unreadable value silently meant the default.
			return fmt.Errorf("want true or false: %q", v)
		}
		*to = b
		return nil
	})
	s.isBool = true
	return s
}

// check adds a validation across settings; it runs after every setting
// was applied without error.
func (f *flagSet) check(c func() error) { f.checks = append(f.checks, c) }

// parse parses args and applies every setting. All bad values are
// reported at once, each named, so that a start fails once, not once
// per typo.
func (f *flagSet) parse(args []string) error {
	if err := f.Parse(args); err != nil {
		return err
	}
	var errs []error
	for _, s := range f.settings {
		if err := s.apply(s.value); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.name(), err))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	for _, c := range f.checks {
		if err := c(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// shared registers the settings every command has.
func (c *config) shared(f *flagSet) {
	f.add("data", "MELDESTELLE_DATA", "./data", "data directory", func(v string) error {
		if v == "" {
			return errors.New("empty; want a directory")
		}
		if fi, err := os.Stat(v); err == nil && !fi.IsDir() {
			return fmt.Errorf("not a directory: %q", v)
		}
		c.data = v
		return nil
	})
	f.add("secret-file", "MELDESTELLE_SECRET_FILE", "", "server secret, 32 bytes, mode 0600; not in backups, keep a copy with the recovery key (default <data>/secret.key)", func(v string) error {
		if v != "" {
			if fi, err := os.Stat(v); err == nil && fi.IsDir() {
				return fmt.Errorf("a directory, want a file: %q", v)
			}
		}
		c.secretFile = v
		return nil
	})
	f.add("kdf-concurrency", "MELDESTELLE_KDF_CONCURRENCY", "0", "argon2id derivations at once, 64 MiB each; 0 = number of CPUs", func(v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		// The upper bound keeps the memory the slots may take (and the
		// automatic memory limit computed from it) a real number.
		if err != nil || n < 0 || n > 1024 {
			return fmt.Errorf("want a whole number of derivations at once from 0 (one per CPU) to 1024: %q", v)
		}
		c.kdfConcurrency = n
		return nil
	})
}

// statsKSetting registers -stats-k: counts from 1 to k−1 are published
// as "<k".
func (c *config) statsKSetting(f *flagSet) {
	f.add("stats-k", "MELDESTELLE_STATS_K", strconv.Itoa(reporting.StatsK), "statistics: counts below k are published as <k; at least 3", func(v string) error {
		k, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("not a whole number: %q", v)
		}
		if reporting.CheckStatsK(k) != nil {
			return fmt.Errorf("statistics threshold k=%d refused: it must be at least %d", k, reporting.MinStatsK)
		}
		c.statsK = k
		return nil
	})
}

// sharedFlags returns a command's flag set with the shared settings
// registered; the command adds its own and calls parse.
func (c *config) sharedFlags(name string, stderr io.Writer, env lookupEnv) *flagSet {
	f := newFlagSet(name, stderr, env)
	c.shared(f)
	return f
}

// loadServe parses and validates serve's configuration.
func loadServe(args []string, stderr io.Writer, env lookupEnv) (*config, error) {
	c := &config{}
	f := c.sharedFlags("serve", stderr, env)
	c.serveSettings(f, env)
	if err := f.parse(args); err != nil {
		return nil, err
	}
	if f.NArg() > 0 {
		return nil, fmt.Errorf("serve: unexpected argument %q", f.Arg(0))
	}
	return c, nil
}

// serveSettings registers serve's own settings.
func (c *config) serveSettings(f *flagSet, env lookupEnv) {
	f.add("addr", "MELDESTELLE_ADDR", "127.0.0.1:8080", "listen address", func(v string) error {
		_, port, err := net.SplitHostPort(v)
		if err != nil {
			return fmt.Errorf("want host:port, e.g. 127.0.0.1:8080: %q", v)
		}
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return fmt.Errorf("not a port number: %q", port)
		}
		c.addr = v
		return nil
	})
	baseURL := f.add("base-url", "MELDESTELLE_BASE_URL", "", "public URL, e.g. https://melden.example.org (default http:// + addr)", func(v string) error {
		c.baseURL = strings.TrimSuffix(v, "/")
		return nil
	})
	f.check(func() error {
		if c.baseURL == "" {
			c.baseURL = "http://" + c.addr
			return nil
		}
		// The base URL goes into every mail and every link the office
		// hands out: one that is not a plain http(s) URL is a typo.
		u, err := url.Parse(c.baseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return fmt.Errorf("%s: want an URL starting with http:// or https://, such as https://melden.example.org: %q", baseURL.name(), baseURL.value)
		}
		return nil
	})
	f.add("onion-url", "MELDESTELLE_ONION_URL", "", "address of the public side as a Tor onion service, http://<56 characters>.onion; public pages then send Onion-Location", func(v string) error {
		if strings.TrimSpace(v) == "" {
			c.onionURL = ""
			return nil
		}
		u, err := web.CheckOnionURL(v)
		if err != nil {
			return err
		}
		c.onionURL = u
		return nil
	})
	f.add("trusted-proxies", "MELDESTELLE_TRUSTED_PROXIES", "", "comma-separated proxy addresses whose X-Forwarded-* headers are believed", func(v string) error {
		c.trustedProxies = nil
		if strings.TrimSpace(v) == "" {
			return nil
		}
		for p := range strings.SplitSeq(v, ",") {
			p = strings.TrimSpace(p)
			// What gin accepts: an IP address or a CIDR range.
			ok := net.ParseIP(p) != nil
			if !ok {
				_, _, err := net.ParseCIDR(p)
				ok = err == nil
			}
			if !ok {
				return fmt.Errorf("not an IP address or CIDR range: %q", p)
			}
			c.trustedProxies = append(c.trustedProxies, p)
		}
		return nil
	})
	f.add("", "MELDESTELLE_CAPTCHA", "on", "", func(v string) error {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "on":
			c.captchaOff = false
		case "off":
			c.captchaOff = true
		default:
			return fmt.Errorf("want on or off: %q", v)
		}
		return nil
	})
	c.statsKSetting(f)
	memText := ""
	f.add("memory-limit", "MELDESTELLE_MEMORY_LIMIT", "auto", "Go memory limit, e.g. 256MiB or 1GiB; auto = one argon2id buffer per -kdf-concurrency slot plus headroom; off = none; GOMEMLIMIT, if set, wins", func(v string) error {
		memText = v
		return nil
	})
	f.check(func() error {
		// memoryLimit's errors name the flag and the variable already.
		gomem, _ := env("GOMEMLIMIT")
		var err error
		c.memoryLimit, c.memoryLimitHow, err = memoryLimit(memText, gomem, c.kdfConcurrency)
		return err
	})
	c.mailSettings(f)
	c.backupSettings(f)
	f.add("chromium", "MELDESTELLE_CHROMIUM", "", "headless Chromium for the case file's PDF export; empty: chromium, chromium-browser, google-chrome or headless-shell on PATH; none found: print page only", func(v string) error {
		c.chromium = strings.TrimSpace(v)
		return nil
	})
}

// mailSettings registers the mail server and notification settings.
// There is deliberately no password flag: a flag's value is visible to
// every user of the host in ps (-smtp-password-file names a file instead).
func (c *config) mailSettings(f *flagSet) {
	host := f.add("smtp-host", "MELDESTELLE_SMTP_HOST", "", "mail server for notifications; empty: notifications off", func(v string) error {
		v = strings.TrimSpace(v)
		if v != "" {
			if _, _, err := net.SplitHostPort(v); err == nil {
				return fmt.Errorf("a host name only, the port goes into -smtp-port: %q", v)
			}
			if strings.ContainsAny(v, " \t/") {
				return fmt.Errorf("not a host name: %q", v)
			}
		}
		c.smtp.Host = v
		c.mailOn = v != ""
		return nil
	})
	f.add("smtp-port", "MELDESTELLE_SMTP_PORT", "587", "mail server port", func(v string) error {
		p, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || p <= 0 || p > 65535 {
			return fmt.Errorf("not a port number: %q", v)
		}
		c.smtp.Port = p
		return nil
	})
	f.add("smtp-user", "MELDESTELLE_SMTP_USER", "", "mail server user name; empty: no AUTH; the password comes from MELDESTELLE_SMTP_PASSWORD or MELDESTELLE_SMTP_PASSWORD_FILE", func(v string) error {
		// AUTH PLAIN separates the user from the password with a NUL
		// byte: a control character here could forge the exchange.
		if hasControl(v) {
			return fmt.Errorf("contains a control character: %q", v)
		}
		c.smtp.User = v
		return nil
	})
	from := f.add("smtp-from", "MELDESTELLE_SMTP_FROM", "", "sender address of notifications", func(v string) error {
		if v != "" {
			if a, err := mail.ParseAddress(v); err != nil || a.Name != "" || a.Address != v {
				return fmt.Errorf("want a bare e-mail address such as meldestelle@example.org: %q", v)
			}
		}
		c.smtp.From = v
		return nil
	})
	f.check(func() error {
		if c.mailOn && c.smtp.From == "" {
			return fmt.Errorf("%s must be a bare e-mail address when %s is set", from.both(), host.name())
		}
		return nil
	})
	// The password, in this order: the file wins over the variable, as
	// it is the safer of the two (environments leak into child processes
	// and crash reports).
	f.add("", "MELDESTELLE_SMTP_PASSWORD", "", "", func(v string) error {
		c.smtp.Password = v
		return nil
	})
	// A flag for the file is fine: ps shows its path, not the password.
	// Under systemd it is $CREDENTIALS_DIRECTORY/smtp-password (the unit's
	// LoadCredential=), readable by this service only.
	f.add("smtp-password-file", "MELDESTELLE_SMTP_PASSWORD_FILE", "", "file holding the mail server password (wins over MELDESTELLE_SMTP_PASSWORD)", func(v string) error {
		if v == "" {
			return nil
		}
		b, err := os.ReadFile(v)
		if err != nil {
			return err
		}
		c.smtp.Password = strings.TrimRight(string(b), "\r\n")
		return nil
	})
	f.addBool("smtp-starttls", "MELDESTELLE_SMTP_STARTTLS", true, "require STARTTLS; turn off only for a mail server on this host", &c.smtp.StartTLS)
	delay := func(to *time.Duration) func(string) error {
		return func(v string) error {
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("not a duration such as 15m or 1h30m: %q", v)
			}
			*to = d
			return nil
		}
	}
	dmin := f.add("notify-delay-min", "MELDESTELLE_NOTIFY_DELAY_MIN", reporting.DefaultDelayMin.String(), "shortest wait between the first news of a batch and its mail", delay(&c.notifyDelayMin))
	dmax := f.add("notify-delay-max", "MELDESTELLE_NOTIFY_DELAY_MAX", reporting.DefaultDelayMax.String(),
		"longest wait; each batch waits a random time in between, so a mail's time does not tell when someone reported", delay(&c.notifyDelayMax))
	f.check(func() error {
		if c.notifyDelayMin < 0 || c.notifyDelayMax < c.notifyDelayMin || c.notifyDelayMax > 24*time.Hour {
			return fmt.Errorf("%s %v, %s %v: want 0 ≤ min ≤ max ≤ 24h", dmin.name(), c.notifyDelayMin, dmax.name(), c.notifyDelayMax)
		}
		return nil
	})
}

// hasControl reports whether s holds an ASCII control character.
func hasControl(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0
}

// backupSettings registers the scheduled backups' settings.
func (c *config) backupSettings(f *flagSet) {
	dir := f.add("backup-dir", "MELDESTELLE_BACKUP_DIR", "", "directory of the scheduled backups (created 0700); best on another disk than -data", func(v string) error {
		if v != "" {
			if fi, err := os.Stat(v); err == nil && !fi.IsDir() {
				return fmt.Errorf("not a directory: %q", v)
			}
		}
		c.backupDir = v
		return nil
	})
	every := f.add("backup-every", "MELDESTELLE_BACKUP_EVERY", "0", "interval of the scheduled backups, e.g. 24h; 0 = none", func(v string) error {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		// Below a minute the copies would follow each other without pause
		// on a large database.
		if err != nil || d < 0 || (d > 0 && d < time.Minute) {
			return fmt.Errorf("want a duration of at least 1m such as 24h, or 0 for none: %q", v)
		}
		c.backupEvery = d
		return nil
	})
	f.add("backup-keep", "MELDESTELLE_BACKUP_KEEP", "14", "scheduled backups kept; older ones are deleted", func(v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 {
			return fmt.Errorf("want a whole number of at least 1: %q", v)
		}
		c.backupKeep = n
		return nil
	})
	f.check(func() error {
		if c.backupEvery > 0 && c.backupDir == "" {
			return fmt.Errorf("%s is set, but %s is not: where should the backups go?", every.name(), dir.both())
		}
		return nil
	})
}
