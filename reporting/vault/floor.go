package vault

// MinParams is the floor for argon2id parameters read from the database:
// OWASP's minimum for argon2id (19 MiB, t=2, p=1). Below it one guess
// costs so little that a stolen database gives up passwords and receipts
// quickly; a database writer who lowers the stored parameters (to 8 KiB,
// t=1) aims at exactly that. Memory is what makes argon2id expensive on
// GPUs, so the floor is on memory and passes; lanes do not matter.
var MinParams = Params{Time: 2, MemoryKiB: 19 * 1024, Threads: 1}

// Floor returns the floor for parameters stored by a service configured
// with configured: MinParams for any real deployment. Only a service
// configured below MinParams itself (tests and load tests, on purpose)
// gets a lower floor: one pass and at most 8 MiB, which still refuses the
// 8 KiB downgrade. The floor comes from the code and the configuration,
// never from the database.
func Floor(configured Params) Params {
	if !configured.Below(MinParams) {
		return MinParams
	}
	return Params{Time: 1, MemoryKiB: min(configured.MemoryKiB, 8*1024), Threads: 1}
}

// Below reports whether p costs less than floor in memory or passes.
func (p Params) Below(floor Params) bool {
	return p.MemoryKiB < floor.MemoryKiB || p.Time < floor.Time
}

// Weaker reports whether p costs less than want in memory or passes: the
// stored parameters are to be raised to want at the next chance.
func (p Params) Weaker(want Params) bool { return p.Below(want) }
