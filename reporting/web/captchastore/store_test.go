package captchastore

import (
	"bytes"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/dchest/captcha"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func withClock(s *Store) *fakeClock {
	c := &fakeClock{t: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	s.now = c.now
	return c
}

func digits(i int) []byte { return []byte{byte(i % 10), byte(i / 10 % 10), 3, 4, 5, 6} }

// A flood of 100,000 form views never holds more than the cap; the newest
// captchas, the ones people are looking at, still verify, the oldest are
// gone.
func TestCapHoldsUnderFlood(t *testing.T) {
	const max = 1000
	s := New(max)
	for i := range 100_000 {
		s.Set(fmt.Sprint("id", i), digits(i))
		if s.Len() > max {
			t.Fatalf("after %d captchas the store holds %d, cap %d", i+1, s.Len(), max)
		}
	}
	if s.Len() != max {
		t.Errorf("full store holds %d, want %d", s.Len(), max)
	}
	if got := s.Get("id99999", false); !bytes.Equal(got, digits(99999)) {
		t.Errorf("newest captcha: %v", got)
	}
	if got := s.Get(fmt.Sprint("id", 100_000-max), false); got == nil {
		t.Error("the oldest captcha within the cap was evicted")
	}
	if got := s.Get(fmt.Sprint("id", 100_000-max-1), false); got != nil {
		t.Error("a captcha beyond the cap was kept")
	}
	if New(0).max != DefaultMax {
		t.Errorf("New(0) caps at %d, want DefaultMax", New(0).max)
	}
}

// A captcha answers for ten minutes, as with dchest's own store, and not a
// moment longer; expired ones are dropped as new ones arrive.
func TestExpiry(t *testing.T) {
	s := New(10)
	clock := withClock(s)
	s.Set("old", digits(1))
	clock.advance(captcha.Expiration - time.Second)
	s.Set("young", digits(2))
	if s.Get("old", false) == nil {
		t.Fatal("a captcha 9:59 old no longer verifies")
	}
	clock.advance(time.Second)
	if got := s.Get("old", false); got != nil {
		t.Errorf("a captcha 10 minutes old still verifies: %v", got)
	}
	if s.Get("young", false) == nil {
		t.Error("the one second old captcha is gone")
	}
	clock.advance(captcha.Expiration)
	s.Set("new", digits(3))
	if s.Len() != 1 {
		t.Errorf("after expiry and a new captcha the store holds %d, want 1", s.Len())
	}
}

// Get with clear deletes: a solved captcha cannot be used twice. Get
// without clear (showing the image) keeps it. A reload replaces the digits.
func TestGetClearDeletesAndReloadReplaces(t *testing.T) {
	s := New(10)
	s.Set("a", digits(1))
	if !bytes.Equal(s.Get("a", false), digits(1)) {
		t.Fatal("Get without clear")
	}
	if !bytes.Equal(s.Get("a", true), digits(1)) {
		t.Fatal("Get with clear")
	}
	if got := s.Get("a", true); got != nil {
		t.Errorf("a cleared captcha answers again: %v", got)
	}
	if s.Len() != 0 {
		t.Errorf("store holds %d after clear, want 0", s.Len())
	}
	s.Set("b", digits(1))
	s.Set("b", digits(2))
	if !bytes.Equal(s.Get("b", false), digits(2)) || s.Len() != 1 {
		t.Errorf("reload: digits %v, %d entries", s.Get("b", false), s.Len())
	}
}

// Through dchest's API, as the server uses it: a new captcha verifies once
// with its digits and never with wrong ones.
func TestWithCaptchaPackage(t *testing.T) {
	s := New(10)
	s.Set("x", []byte{1, 2, 3, 4, 5, 6})
	if !captchaVerify(s, "x", "123456") {
		t.Error("right solution refused")
	}
	if captchaVerify(s, "x", "123456") {
		t.Error("the same solution accepted twice")
	}
}

// captchaVerify is captcha.VerifyString's logic against s, without
// touching the package's global store.
func captchaVerify(s captcha.Store, id, solution string) bool {
	want := s.Get(id, true)
	if len(want) != len(solution) {
		return false
	}
	for i := range want {
		if solution[i] != '0'+want[i] {
			return false
		}
	}
	return true
}

// Many goroutines setting, reading and clearing at once (run with -race):
// the cap holds and every captcha still present has its own digits.
func TestConcurrentUse(t *testing.T) {
	const max = 500
	s := New(max)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				id := fmt.Sprint(g, "-", i)
				s.Set(id, digits(i))
				if got := s.Get(id, i%2 == 0); got != nil && !bytes.Equal(got, digits(i)) {
					t.Errorf("%s: digits %v, want %v", id, got, digits(i))
					return
				}
				if n := s.Len(); n > max {
					t.Errorf("store holds %d, cap %d", n, max)
					return
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkStoreBytesPerEntry measures the heap one captcha costs in a full
// store of DefaultMax entries (id of captcha.New's 20 characters, 6 digits), the number behind
// DefaultMax:
//
//	go test ./reporting/web/captchastore -run '^$' -bench BytesPerEntry
func BenchmarkStoreBytesPerEntry(b *testing.B) {
	const n = DefaultMax
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s := New(n)
		for i := range n {
			s.Set(fmt.Sprintf("%020d", i), []byte{1, 2, 3, 4, 5, 6})
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/entry")
		runtime.KeepAlive(s)
	}
}
