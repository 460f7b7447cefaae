package web

import (
	"log"
	"log/slog"
	"regexp"
	"strings"
)

// addrPattern matches IPv4 and bracketed IPv6 addresses with an optional
// port, as net/http writes them into its own error messages.
var addrPattern = regexp.MustCompile(`\[[0-9a-fA-F:.%\w]*\](:\d+)?|\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b`)

// ServerErrorLog returns a logger for http.Server.ErrorLog. net/http writes
// the client's address into some of its messages ("TLS handshake error
// from 203.0.113.7:51234"); this logger removes every address before the
// line reaches the log.
func ServerErrorLog(l *slog.Logger) *log.Logger {
	return log.New(redactingWriter{l}, "", 0)
}

// HTTPErrorLog is ServerErrorLog for this server: net/http's messages are
// also held and stamped with the hour like public requests' lines, since
// most of them (a broken connection, a handshake that failed) come from
// visitors of the public pages.
func (s *Server) HTTPErrorLog() *log.Logger {
	return ServerErrorLog(slog.New(hourHandler{inner: s.officeLog.Handler(), held: s.publicLog}))
}

type redactingWriter struct{ l *slog.Logger }

func (w redactingWriter) Write(p []byte) (int, error) {
	msg := addrPattern.ReplaceAllString(strings.TrimSpace(string(p)), "[address removed]")
	w.l.Warn("http server", "msg", msg)
	return len(p), nil
}
