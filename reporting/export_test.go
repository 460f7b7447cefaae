package reporting

import "github.com/planb-ruhr/meldestelle/reporting/vault"

// SessionCount is the number of sessions in the office's map (tests).
func (o *Office) SessionCount() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.sessions)
}

// TokenCount is the number of follow-up tokens in the map (tests).
func (f *Followup) TokenCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.tokens)
}

// TokenKey returns the map's own copy of a token's data key, the one a
// wipe must reach (tests); nil for an unknown token.
func (f *Followup) TokenKey(token string) *vault.Key {
	f.mu.Lock()
	defer f.mu.Unlock()
	if a, ok := f.tokens[tokenKey(token)]; ok {
		return &a.key
	}
	return nil
}
