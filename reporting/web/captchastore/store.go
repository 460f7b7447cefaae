// Package captchastore is a dchest/captcha store with a fixed maximum
// number of entries, so that a flood of form views cannot grow the
// server's memory without bound.
package captchastore

import (
	"container/list"
	"sync"
	"time"

	"github.com/dchest/captcha"
)

// DefaultMax is the number of captchas kept at most. An entry costs about
// 187 bytes of heap (map slot, list element, 20-character id, 6 digits;
// BenchmarkStoreBytesPerEntry), so a full store is about 9 MiB, well under
// the 16 MiB budget, and still keeps every captcha for its full ten
// minutes up to 83 form views a second.
const DefaultMax = 50_000

// Store keeps captcha solutions in memory for captcha.Expiration (ten
// minutes, as dchest's own store) and never more than its maximum count.
// It implements captcha.Store; install it once, before the first captcha,
// with captcha.SetCustomStore.
//
// When the store is full, Set evicts the oldest entry. Under a flood that
// is the right one to lose: refusing new captchas instead would lock
// every new visitor out for ten minutes, while the oldest captcha is the
// one most likely abandoned. A reporter whose captcha was pushed out gets
// the form back with everything typed and a new captcha, as after a typo.
type Store struct {
	max    int
	expiry time.Duration
	now    func() time.Time

	mu    sync.Mutex
	byID  map[string]*list.Element
	order *list.List // of *entry, oldest first: insertion order is expiry order
}

type entry struct {
	id      string
	digits  []byte
	expires time.Time
}

// New returns an empty store holding at most max captchas (DefaultMax
// when max < 1).
func New(max int) *Store {
	if max < 1 {
		max = DefaultMax
	}
	return &Store{max: max, expiry: captcha.Expiration, now: time.Now,
		byID: make(map[string]*list.Element), order: list.New()}
}

// Set stores the digits of captcha id, replacing earlier digits of the
// same id (a reloaded captcha), and drops expired and, if full, the
// oldest entries.
func (s *Store) Set(id string, digits []byte) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.byID[id]; ok {
		s.order.Remove(el)
		delete(s.byID, id)
	}
	for el := s.order.Front(); el != nil; el = s.order.Front() {
		if e := el.Value.(*entry); s.order.Len() >= s.max || !now.Before(e.expires) {
			s.order.Remove(el)
			delete(s.byID, e.id)
			continue
		}
		break
	}
	s.byID[id] = s.order.PushBack(&entry{id: id, digits: digits, expires: now.Add(s.expiry)})
}

// Get returns the digits of captcha id, or nil if it is unknown or
// expired; with clear, the captcha is deleted, so that one solution is
// accepted once only.
func (s *Store) Get(id string, clear bool) []byte {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	el, ok := s.byID[id]
	if !ok {
		return nil
	}
	e := el.Value.(*entry)
	if clear || !now.Before(e.expires) {
		s.order.Remove(el)
		delete(s.byID, id)
	}
	if !now.Before(e.expires) {
		return nil
	}
	return e.digits
}

// Len is the number of captchas held, expired ones not yet dropped
// included.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.order.Len()
}

var _ captcha.Store = (*Store)(nil)
