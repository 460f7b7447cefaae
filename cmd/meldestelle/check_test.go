package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/storage"
)

// sound makes a deployment check has nothing to say about: set up (data
// directory 0700, database and secret 0600), an https base URL, and a
// scheduled backup made just now. It returns the data and backup
// directories and the check flags.
func sound(t *testing.T) (data, backups string, args []string) {
	t.Helper()
	data = filepath.Join(t.TempDir(), "data")
	if code := run(t.Context(), []string{"setup", "-data", data, "-admin", "anna", "-password-stdin", "-kdf-concurrency", "1"},
		strings.NewReader("ein langes geheimes Passwort\n"), &lockedBuffer{}, &lockedBuffer{}); code != 0 {
		t.Fatal("setup failed")
	}
	backups = filepath.Join(t.TempDir(), "backups")
	if err := os.Mkdir(backups, 0o700); err != nil {
		t.Fatal(err)
	}
	name := "meldestelle-" + time.Now().UTC().Format(backupStamp) + ".db"
	if code := run(t.Context(), []string{"backup", "-data", data, filepath.Join(backups, name)}, nil, &lockedBuffer{}, &lockedBuffer{}); code != 0 {
		t.Fatal("backup failed")
	}
	return data, backups, []string{"-data", data, "-base-url", "https://melden.example.org", "-backup-dir", backups, "-backup-every", "24h"}
}

// checkWith runs check's checks on the configuration from args, with the
// checker changed by adjust, and returns the problems.
func checkWith(t *testing.T, args []string, adjust func(*checker)) []string {
	t.Helper()
	c, err := loadServe(args, &lockedBuffer{}, os.LookupEnv)
	if err != nil {
		t.Fatal(err)
	}
	ch := &checker{c: c, now: time.Now, uid: os.Getuid(), minFree: 1}
	if adjust != nil {
		adjust(ch)
	}
	return ch.run(t.Context())
}

// wantProblem fails unless exactly one problem holds want.
func wantProblem(t *testing.T, what string, problems []string, want string) {
	t.Helper()
	n := 0
	for _, p := range problems {
		if strings.Contains(p, want) {
			n++
		}
	}
	if n != 1 || len(problems) != 1 {
		t.Errorf("%s: problems %q, want exactly one saying %q", what, problems, want)
	}
}

// A sound deployment passes `meldestelle check` with exit 0 and "ok";
// a problem makes it print the line and exit 1.
func TestCheckCommand(t *testing.T) {
	data, _, args := sound(t)
	var out, errOut lockedBuffer
	if code := run(t.Context(), append([]string{"check"}, args...), nil, &out, &errOut); code != 0 || out.String() != "ok\n" {
		t.Fatalf("check of a sound deployment: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	if err := os.Chmod(data, 0o755); err != nil {
		t.Fatal(err)
	}
	out, errOut = lockedBuffer{}, lockedBuffer{}
	if code := run(t.Context(), append([]string{"check"}, args...), nil, &out, &errOut); code != 1 || !strings.Contains(out.String(), "has mode 0755, want 0700") || strings.Contains(out.String(), "ok\n") {
		t.Errorf("check with an open data directory: exit %d\n%s", code, out.String())
	}
}

// Each kind of problem check can find, provoked one at a time on an
// otherwise sound deployment.
func TestCheckFindsEachProblem(t *testing.T) {
	if p := checkWith(t, func() []string { _, _, a := sound(t); return a }(), nil); len(p) != 0 {
		t.Fatalf("sound deployment: %q", p)
	}
	t.Run("modes and owner", func(t *testing.T) {
		data, _, args := sound(t)
		os.Chmod(filepath.Join(data, storage.FileName), 0o644)
		wantProblem(t, "database 0644", checkWith(t, args, nil), "has mode 0644, want 0600")
		os.Chmod(filepath.Join(data, storage.FileName), 0o600)
		p := checkWith(t, args, func(ch *checker) { ch.uid++ })
		if len(p) != 3 || !strings.Contains(p[0], "belongs to user") {
			t.Errorf("another user: %q, want the directory, the database and the secret named", p)
		}
		wantProblem(t, "missing data directory", checkWith(t, append(args, "-data", filepath.Join(t.TempDir(), "nirgends")), nil), "does not exist")
	})
	t.Run("secret missing", func(t *testing.T) {
		data, _, args := sound(t)
		os.Remove(filepath.Join(data, "secret.key"))
		wantProblem(t, "no secret", checkWith(t, args, nil), "no server secret")
	})
	t.Run("migrations", func(t *testing.T) {
		data, _, args := sound(t)
		raw := openRaw(t, filepath.Join(data, storage.FileName))
		migrations := storage.Migrations()
		if _, err := raw.Exec(`DELETE FROM schema_migrations WHERE name = ?`, migrations[len(migrations)-1]); err != nil {
			t.Fatal(err)
		}
		wantProblem(t, "pending", checkWith(t, args, nil), "1 migrations pending")
		if _, err := raw.Exec(`INSERT INTO schema_migrations (name) VALUES (?), ('migrations/9999_future.sql')`, migrations[len(migrations)-1]); err != nil {
			t.Fatal(err)
		}
		raw.Close()
		wantProblem(t, "newer", checkWith(t, args, nil), "newer than this binary")
	})
	t.Run("damaged database", func(t *testing.T) {
		data, _, args := sound(t)
		path := filepath.Join(data, storage.FileName)
		b, _ := os.ReadFile(path)
		for i := 8192; i < len(b); i++ {
			b[i] = 0x5a
		}
		os.WriteFile(path, b, 0o600)
		p := checkWith(t, args, nil)
		if len(p) == 0 || !strings.HasPrefix(p[0], "database") {
			t.Errorf("damaged database: %q", p)
		}
	})
	t.Run("base URL", func(t *testing.T) {
		_, _, args := sound(t)
		wantProblem(t, "http base URL", checkWith(t, append(args, "-base-url", "http://melden.example.org"), nil), "is not https")
		if p := checkWith(t, append(args, "-base-url", "http://127.0.0.1:8080"), nil); len(p) != 0 {
			t.Errorf("http on loopback: %q, want none", p)
		}
	})
	t.Run("backups", func(t *testing.T) {
		_, backups, args := sound(t)
		wantProblem(t, "backups off", checkWith(t, append(args, "-backup-every", "0"), nil), "scheduled backups are off")
		wantProblem(t, "old backup", checkWith(t, args, func(ch *checker) { ch.now = func() time.Time { return time.Now().Add(26 * time.Hour) } }), "-backup-every is 24h0m0s")
		wantProblem(t, "no backup", checkWith(t, append(args, "-backup-dir", filepath.Join(backups, "leer")), nil), "no scheduled backup")
	})
	t.Run("disk", func(t *testing.T) {
		_, _, args := sound(t)
		p := checkWith(t, args, func(ch *checker) { ch.minFree = 1 << 62 })
		if len(p) != 2 || !strings.Contains(p[0], "MiB free") || !strings.Contains(p[1], "MiB free") {
			t.Errorf("too little space: %q, want the data and the backup directory", p)
		}
	})
	t.Run("clock", func(t *testing.T) {
		_, _, args := sound(t)
		wantProblem(t, "2020", checkWith(t, args, func(ch *checker) {
			ch.now = func() time.Time { return time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC) }
		}), "before this software existed")
		// The newest audit entry (setup) is from now; two hours before it
		// and two years after are wrong, the latter also for the backup.
		wantProblem(t, "behind", checkWith(t, args, func(ch *checker) { ch.now = func() time.Time { return time.Now().Add(-2 * time.Hour) } }), "is behind the newest audit entry")
		p := checkWith(t, append(args, "-backup-every", "24000h"), func(ch *checker) { ch.now = func() time.Time { return time.Now().Add(2 * 365 * 24 * time.Hour) } })
		wantProblem(t, "ahead", p, "more than a year ahead")
	})
}

// The mail server probe: a server offering STARTTLS with a trusted
// certificate passes; one without STARTTLS, one whose certificate is not
// trusted and a closed port are each one line. No password is sent.
func TestCheckMailServer(t *testing.T) {
	cert, roots := selfSigned(t)
	_, _, args := sound(t)
	mail := func(port int) []string {
		return append(args, "-smtp-host", "127.0.0.1", "-smtp-port", strconv.Itoa(port), "-smtp-from", "meldestelle@example.org")
	}
	trusted := func(ch *checker) { ch.smtpTLS = &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"} }
	if p := checkWith(t, mail(fakeSMTP(t, &cert)), trusted); len(p) != 0 {
		t.Errorf("server with STARTTLS: %q, want none", p)
	}
	wantProblem(t, "untrusted certificate", checkWith(t, mail(fakeSMTP(t, &cert)), nil), "STARTTLS failed")
	wantProblem(t, "no STARTTLS", checkWith(t, mail(fakeSMTP(t, nil)), trusted), "does not offer STARTTLS")
	if p := checkWith(t, append(mail(fakeSMTP(t, nil)), "-smtp-starttls=false"), nil); len(p) != 0 {
		t.Errorf("no STARTTLS, not required: %q, want none", p)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := l.Addr().(*net.TCPAddr).Port
	l.Close()
	wantProblem(t, "closed port", checkWith(t, mail(closed), trusted), "cannot connect")
}

// fakeSMTP serves a minimal SMTP dialogue on loopback that offers
// STARTTLS with cert (nil: not at all) and returns its port.
func fakeSMTP(t *testing.T, cert *tls.Certificate) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func(conn net.Conn) {
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(10 * time.Second))
				r := bufio.NewReader(conn)
				conn.Write([]byte("220 fake ESMTP\r\n"))
				secure := false
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					switch cmd := strings.ToUpper(strings.Fields(line + " x")[0]); {
					case cmd == "EHLO" && cert != nil && !secure:
						conn.Write([]byte("250-fake\r\n250 STARTTLS\r\n"))
					case cmd == "EHLO" || cmd == "HELO":
						conn.Write([]byte("250 fake\r\n"))
					case cmd == "STARTTLS" && cert != nil:
						conn.Write([]byte("220 go ahead\r\n"))
						tc := tls.Server(conn, &tls.Config{Certificates: []tls.Certificate{*cert}})
						if tc.Handshake() != nil {
							return
						}
						conn, r, secure = tc, bufio.NewReader(tc), true
					case cmd == "QUIT":
						conn.Write([]byte("221 bye\r\n"))
						return
					default:
						conn.Write([]byte("502 not here\r\n"))
					}
				}
			}(conn)
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

// selfSigned makes a certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fake smtp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
