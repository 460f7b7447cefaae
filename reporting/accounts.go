package reporting

// AccountStore keeps office users beyond the first admin: invitations,
// roles, disabling, password changes, login throttling and sessions.
// (Issue 3, accounts: filled in by the accounts work.)
type AccountStore interface{}
