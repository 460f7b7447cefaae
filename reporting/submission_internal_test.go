package reporting

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// subClock is a clock the test moves.
type subClock struct{ t time.Time }

func (c *subClock) now() time.Time { return c.t }

func claimState(t *testing.T, s *Submissions, token string) *SubmissionClaim {
	t.Helper()
	c, err := s.Claim(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A token goes fresh → repeat (same receipt) → received once its window
// ends, when the code is wiped from memory; a released token may be sent
// again; a token of another process, a changed one and one older than a
// day are refused.
func TestSubmissionLifecycle(t *testing.T) {
	clock := &subClock{time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC)}
	s := NewSubmissions(clock.now)
	tok := s.Issue()

	c := claimState(t, s, tok)
	if c.State != SubmissionFresh {
		t.Fatalf("state %d, want fresh", c.State)
	}
	c.Release() // a wrong captcha: nothing stored
	c = claimState(t, s, tok)
	if c.State != SubmissionFresh {
		t.Fatalf("after release: state %d, want fresh", c.State)
	}
	c.Done(HeldReceipt{Code: "1234 5678 9012 3456", PDF: true})
	c.Release() // deferred by the caller: does nothing after Done

	if r := claimState(t, s, tok); r.State != SubmissionRepeat || r.Receipt != (HeldReceipt{"1234 5678 9012 3456", true}) {
		t.Fatalf("repeat: %+v", r)
	}
	held := s.entries[s.order[0]]
	code := held.code

	clock.t = clock.t.Add(SubmissionWindow + time.Second)
	s.Reap()
	if held.code != nil || string(code) != string(make([]byte, len("1234 5678 9012 3456"))) {
		t.Errorf("the code is not wiped after the window: %q", code)
	}
	if r := claimState(t, s, tok); r.State != SubmissionReceived {
		t.Fatalf("after the window: state %d, want received", r.State)
	}

	other := NewSubmissions(clock.now).Issue() // another process's key
	changed := []byte(s.Issue())
	changed[10] = map[bool]byte{true: 'B', false: 'A'}[changed[10] == 'A']
	for name, tk := range map[string]string{"other process": other, "changed": string(changed), "empty": "", "garbage": "AAAA"} {
		if r := claimState(t, s, tk); r.State != SubmissionInvalid {
			t.Errorf("%s: state %d, want invalid", name, r.State)
		}
	}
	old := s.Issue()
	clock.t = clock.t.Add(SubmissionTokenLife + time.Second)
	if r := claimState(t, s, old); r.State != SubmissionInvalid {
		t.Errorf("a token older than its life: state %d, want invalid", r.State)
	}
	s.Reap()
	if len(s.entries) != 0 || len(s.order) != 0 {
		t.Errorf("after a day %d tokens are still remembered", len(s.entries))
	}
}

// The memory is bounded: past maxHeldReceipts the oldest codes are wiped
// (their repeat says "received", never stores again), past
// maxUsedSubmissions the oldest tokens are forgotten.
func TestSubmissionBounds(t *testing.T) {
	clock := &subClock{time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC)}
	s := NewSubmissions(clock.now)
	tokens := make([]string, maxUsedSubmissions+10)
	for i := range tokens {
		tokens[i] = s.Issue()
		c := claimState(t, s, tokens[i])
		c.Done(HeldReceipt{Code: fmt.Sprint(i)})
	}
	if len(s.entries) != maxUsedSubmissions {
		t.Errorf("%d tokens remembered, want at most %d", len(s.entries), maxUsedSubmissions)
	}
	holding := 0
	for _, e := range s.entries {
		if e.code != nil {
			holding++
		}
	}
	if holding != maxHeldReceipts {
		t.Errorf("%d codes held, want %d", holding, maxHeldReceipts)
	}
	if r := claimState(t, s, tokens[len(tokens)-1]); r.State != SubmissionRepeat {
		t.Errorf("the newest: state %d, want repeat", r.State)
	}
	if r := claimState(t, s, tokens[len(tokens)-maxHeldReceipts-1]); r.State != SubmissionReceived {
		t.Errorf("past the held bound: state %d, want received", r.State)
	}
}

// A second claim while the first is in flight waits for it and then sees
// its receipt; if the first stored nothing, the second takes over.
func TestSubmissionClaimWaits(t *testing.T) {
	s := NewSubmissions(time.Now)
	for _, store := range []bool{true, false} {
		tok := s.Issue()
		first := claimState(t, s, tok)
		got := make(chan *SubmissionClaim)
		go func() {
			c, _ := s.Claim(context.Background(), tok)
			got <- c
		}()
		select {
		case c := <-got:
			t.Fatalf("the second claim did not wait: %+v", c)
		case <-time.After(50 * time.Millisecond):
		}
		if store {
			first.Done(HeldReceipt{Code: "1111 2222 3333 4444"})
		} else {
			first.Release()
		}
		second := <-got
		want := map[bool]int{true: SubmissionRepeat, false: SubmissionFresh}[store]
		if second.State != want {
			t.Errorf("store=%t: second claim state %d, want %d", store, second.State, want)
		}
		second.Release()
	}
	// A waiting claim gives up with its request.
	tok := s.Issue()
	first := claimState(t, s, tok)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Claim(ctx, tok); err == nil {
		t.Error("a claim of an ended request waited on")
	}
	first.Release()
}
