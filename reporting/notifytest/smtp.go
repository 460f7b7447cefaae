// Package notifytest is a small SMTP server on loopback for tests of the
// notifications: it speaks EHLO, AUTH PLAIN, MAIL FROM, RCPT TO, DATA,
// RSET, NOOP and QUIT, records what it receives, and can simulate an
// outage.
package notifytest

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
)

// Message is one mail the server accepted.
type Message struct {
	From string
	To   []string
	Data string // headers and body, dot-unstuffed
}

// Server is a recording SMTP server without TLS.
type Server struct {
	// Addr is host:port of the listener.
	Addr string
	// Host and Port are Addr split.
	Host string
	Port int

	mu       sync.Mutex
	ln       net.Listener
	msgs     []Message
	auths    []string // "user\x00password" of each AUTH PLAIN
	failCode int      // non-zero: greet with this code and hang up
	wg       sync.WaitGroup
}

// Start starts a server on 127.0.0.1 and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := ln.Addr().(*net.TCPAddr)
	s := &Server{Addr: a.String(), Host: "127.0.0.1", Port: a.Port, ln: ln}
	s.wg.Add(1)
	go s.accept(ln)
	t.Cleanup(func() {
		s.mu.Lock()
		if s.ln != nil {
			s.ln.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

// Fail makes the server greet every new connection with code (e.g. 421)
// and hang up, as a mail server that is temporarily unavailable; 0 heals it.
func (s *Server) Fail(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failCode = code
}

// Refuse closes the listener: connections are refused.
func (s *Server) Refuse() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		s.ln.Close()
		s.ln = nil
	}
}

// Resume listens again on the same address after Refuse.
func (s *Server) Resume(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	s.ln = ln
	s.wg.Add(1)
	go s.accept(ln)
}

// Messages returns the mails accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Auths returns the "user\x00password" pairs of every AUTH PLAIN so far.
func (s *Server) Auths() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.auths...)
}

func (s *Server) accept(ln net.Listener) {
	defer s.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			s.serve(c)
		}()
	}
}

func (s *Server) serve(c net.Conn) {
	r := bufio.NewReader(c)
	reply := func(format string, a ...any) { fmt.Fprintf(c, format+"\r\n", a...) }
	s.mu.Lock()
	fail := s.failCode
	s.mu.Unlock()
	if fail != 0 {
		reply("%d test outage", fail)
		return
	}
	reply("220 notifytest ESMTP")
	var cur Message
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			reply("250-notifytest")
			reply("250-AUTH PLAIN")
			reply("250 8BITMIME")
		case "AUTH":
			mech, initial, _ := strings.Cut(arg, " ")
			if !strings.EqualFold(mech, "PLAIN") {
				reply("504 unsupported")
				continue
			}
			if initial == "" {
				reply("334 ")
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				initial = strings.TrimSpace(l)
			}
			raw, err := base64.StdEncoding.DecodeString(initial)
			if err != nil {
				reply("501 bad base64")
				continue
			}
			// authzid \0 user \0 password
			parts := strings.SplitN(string(raw), "\x00", 3)
			if len(parts) != 3 {
				reply("501 bad PLAIN")
				continue
			}
			s.mu.Lock()
			s.auths = append(s.auths, parts[1]+"\x00"+parts[2])
			s.mu.Unlock()
			reply("235 ok")
		case "MAIL":
			cur = Message{From: addr(arg)}
			reply("250 ok")
		case "RCPT":
			cur.To = append(cur.To, addr(arg))
			reply("250 ok")
		case "DATA":
			reply("354 go ahead")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" || l == ".\n" {
					break
				}
				b.WriteString(strings.TrimPrefix(l, "."))
			}
			cur.Data = b.String()
			s.mu.Lock()
			s.msgs = append(s.msgs, cur)
			s.mu.Unlock()
			cur = Message{}
			reply("250 queued")
		case "RSET":
			cur = Message{}
			reply("250 ok")
		case "NOOP":
			reply("250 ok")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 not implemented")
		}
	}
}

// addr takes the address out of "FROM:<a@b>" or "TO:<a@b> ...".
func addr(arg string) string {
	_, v, _ := strings.Cut(arg, ":")
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, '>'); i >= 0 {
		v = v[:i+1]
	}
	return strings.Trim(v, "<>")
}
