package vault

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
)

// cheap keeps argon2id fast: these tests are about who gets a slot, not
// about the derivation.
var cheap = Params{Time: 1, MemoryKiB: 8, Threads: 1}

// waitQueued yields until lane l of k's pool has n waiters. It waits on
// the queue itself, not on a clock, so the tests are deterministic.
func waitQueued(t *testing.T, k *KDF, l Lane, n int) {
	t.Helper()
	for k.pool.queued(l) != n {
		if t.Context().Err() != nil {
			t.Fatalf("lane %d: %d waiters, want %d", l, k.pool.queued(l), n)
		}
		runtime.Gosched()
	}
}

// held is the number of k's slots in use.
func held(k *KDF) int {
	k.pool.mu.Lock()
	defer k.pool.mu.Unlock()
	return k.pool.size - k.pool.free
}

type nameKey struct{}

// served records the order in which derivations got their slot.
type served struct {
	mu    sync.Mutex
	order []string
}

func (s *served) add(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.order = append(s.order, name)
}

// holdAll takes every slot of k's pool and returns the function that gives
// them back one at a time.
func holdAll(t *testing.T, k *KDF) (releaseOne func()) {
	t.Helper()
	for range k.Concurrency() {
		if err := k.pool.acquire(t.Context(), LaneOffice); err != nil {
			t.Fatal(err)
		}
	}
	return k.pool.release
}

// With every slot busy and new reports queued, a login's password check
// (office lane) is served before all of them, and a receipt check
// (follow-up lane) before the reports; reports keep their arrival order.
func TestKDFLanesServeOfficeThenFollowupThenIntake(t *testing.T) {
	base := NewKDF(1)
	intake, followup := base.Lane(LaneIntake), base.Lane(LaneFollowup)
	releaseOne := holdAll(t, base)

	var got served
	base.pool.granted = func(ctx context.Context) { got.add(ctx.Value(nameKey{}).(string)) }
	var wg sync.WaitGroup
	run := func(name string, k *KDF, derive func(context.Context, *KDF) error) {
		ctx := context.WithValue(t.Context(), nameKey{}, name)
		wg.Go(func() {
			if err := derive(ctx, k); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		})
	}
	receipt := func(ctx context.Context, k *KDF) error {
		_, err := k.Receipt(ctx, Receipt{digits: "1234567890123456"}, []byte("salt-salt-salt-s"), cheap)
		return err
	}
	password := func(ctx context.Context, k *KDF) error {
		_, err := k.Password(ctx, "ein langes Passwort", []byte("salt-salt-salt-s"), cheap)
		return err
	}
	for i, name := range []string{"report 1", "report 2", "report 3"} {
		run(name, intake, receipt)
		waitQueued(t, base, LaneIntake, i+1)
	}
	run("follow-up", followup, receipt)
	waitQueued(t, base, LaneFollowup, 1)
	run("login", base, password)
	waitQueued(t, base, LaneOffice, 1)

	// One slot, handed back: each derivation finishes and passes it on.
	releaseOne()
	wg.Wait()
	want := []string{"login", "follow-up", "report 1", "report 2", "report 3"}
	if len(got.order) != len(want) {
		t.Fatalf("served %v, want %v", got.order, want)
	}
	for i := range want {
		if got.order[i] != want[i] {
			t.Fatalf("served %v, want %v", got.order, want)
		}
	}
	if held(base) != 0 {
		t.Errorf("held slots after the queue drained: %d, want 0", held(base))
	}
}

// A caller that gives up leaves the queue: its place is not handed a slot
// that nobody will give back, and the next waiter is served.
func TestKDFCancelledWaiterLeavesQueue(t *testing.T) {
	base := NewKDF(1)
	intake := base.Lane(LaneIntake)
	releaseOne := holdAll(t, base)

	ctx, cancel := context.WithCancel(t.Context())
	gaveUp := make(chan error, 1)
	go func() {
		_, err := intake.Receipt(ctx, Receipt{digits: "1234567890123456"}, []byte("salt-salt-salt-s"), cheap)
		gaveUp <- err
	}()
	waitQueued(t, base, LaneIntake, 1)
	done := make(chan error, 1)
	go func() {
		_, err := intake.Password(t.Context(), "zweiter", []byte("salt-salt-salt-s"), cheap)
		done <- err
	}()
	waitQueued(t, base, LaneIntake, 2)

	cancel()
	if err := <-gaveUp; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled derivation: %v, want context.Canceled", err)
	}
	waitQueued(t, base, LaneIntake, 1)
	releaseOne()
	if err := <-done; err != nil {
		t.Fatalf("the waiter behind the cancelled one: %v", err)
	}
	if held(base) != 0 {
		t.Errorf("held slots: %d, want 0 (a slot was lost or made up)", held(base))
	}

	// Already cancelled: no slot taken, none lost.
	_, err := base.Password(ctx, "x", []byte("salt-salt-salt-s"), cheap)
	if !errors.Is(err, context.Canceled) || held(base) != 0 {
		t.Errorf("cancelled before asking: %v, held %d", err, held(base))
	}
}

// Many callers in every lane at once, some giving up: every derivation
// that was not cancelled finishes, no more than n run at a time, and all
// slots come back (run with -race).
func TestKDFPoolUnderContention(t *testing.T) {
	const n = 2
	base := NewKDF(n)
	var mu sync.Mutex
	running, peak := 0, 0
	var wg sync.WaitGroup
	for i := range 60 {
		k := base.Lane(Lane(i % int(numLanes)))
		ctx, cancel := context.WithCancel(t.Context())
		if i%7 == 0 {
			cancel()
		}
		wg.Go(func() {
			defer cancel()
			if err := k.pool.acquire(ctx, k.lane); err != nil {
				if !errors.Is(err, context.Canceled) {
					t.Errorf("acquire: %v", err)
				}
				return
			}
			mu.Lock()
			running++
			peak = max(peak, running)
			mu.Unlock()
			runtime.Gosched()
			mu.Lock()
			running--
			mu.Unlock()
			k.pool.release()
		})
	}
	wg.Wait()
	if peak > n || peak == 0 {
		t.Errorf("at most %d at once, saw %d", n, peak)
	}
	if held(base) != 0 {
		t.Errorf("held slots after all: %d, want 0", held(base))
	}
}

// The memory limit grows with the number of slots: each holds one
// argon2id buffer.
func TestMemoryLimit(t *testing.T) {
	if got, want := MemoryLimit(2, DefaultParams), int64(2*64<<20+MemoryHeadroom); got != want {
		t.Errorf("2 slots: %d, want %d", got, want)
	}
	if got, want := MemoryLimit(4, DefaultParams)-MemoryLimit(3, DefaultParams), int64(64<<20); got != want {
		t.Errorf("one slot more adds %d, want %d", got, want)
	}
	if got, want := MemoryLimit(0, DefaultParams), MemoryLimit(runtime.NumCPU(), DefaultParams); got != want {
		t.Errorf("0 slots (= CPUs): %d, want %d", got, want)
	}
}
