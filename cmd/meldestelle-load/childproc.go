package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"
)

// childProc is a running child server.
type childProc struct {
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	pid      int
	dir      string // its data directory, removed by stop
	hello    childHello
	password string
	logs     *tailBuffer
	exited   chan struct{}
}

// startChild starts the tool again in -child mode on a fresh data
// directory and waits until it serves.
func startChild(ctx context.Context, cfg config) (*childProc, error) {
	dir, err := os.MkdirTemp("", "meldestelle-load-")
	if err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	secret := make([]byte, 16)
	rand.Read(secret)
	c := &childProc{dir: dir, password: "Lasttest " + hex.EncodeToString(secret), logs: &tailBuffer{max: 64 << 10}, exited: make(chan struct{})}
	c.cmd = exec.Command(cfg.exe, childFlag, "-data", dir, "-kdf-concurrency", strconv.Itoa(cfg.kdfConcurrency))
	c.cmd.Stderr = c.logs
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("child: %w", err)
	}
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("child: %w", err)
	}
	if err := c.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start child: %w", err)
	}
	c.pid = c.cmd.Process.Pid
	go func() { c.cmd.Wait(); close(c.exited) }()
	// The password goes through the pipe, not the command line, which any
	// local user can read.
	fmt.Fprintln(c.stdin, c.password)

	helloc := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(stdout).ReadBytes('\n')
		if err == nil {
			err = json.Unmarshal(line, &c.hello)
		}
		helloc <- err
		io.Copy(io.Discard, stdout)
	}()
	select {
	case err = <-helloc:
	case <-c.exited:
		err = errors.New("child exited")
	case <-time.After(60 * time.Second):
		err = errors.New("child did not start within 60 s")
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		c.stop()
		return nil, fmt.Errorf("child: %w\n%s", err, c.logs.String())
	}
	return c, nil
}

// stop asks the child to shut down by closing its standard input, kills
// it if it does not within 15 s, and removes its data directory.
func (c *childProc) stop() {
	c.stdin.Close()
	select {
	case <-c.exited:
	case <-time.After(15 * time.Second):
		c.cmd.Process.Kill()
		<-c.exited
	}
	os.RemoveAll(c.dir)
}

// tailBuffer keeps the last max bytes the child wrote to standard error,
// shown when it fails (up to twice max).
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	// Trimmed only at twice the size, so a busy access log costs one
	// copy per max bytes, not one per line.
	if len(t.buf) > 2*t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
