package reporting

import "slices"

// Permission is something an office user may do. Which role may do what is
// decided in one place, the table below: the routes, the services' own
// second checks and the navigation all ask Can, so that a new role or a
// moved right is one line here and cannot leave a page open that its
// service refuses (or the reverse).
type Permission int

// The permissions of office users. The zero value is no permission, so a
// Permission left unset grants nothing.
const (
	// PermCaseWork is reading and working the cases of the teams whose
	// keys the user holds: list, detail, triage, notes, messages,
	// attachments, transfer. Only roles with it may hold a team key.
	PermCaseWork Permission = iota + 1
	// PermManageAccounts is inviting, disabling, enabling, unlocking and
	// withdrawing office users and changing their roles.
	PermManageAccounts
	// PermManageTeams is creating and changing teams and their members.
	PermManageTeams
	// PermAudit is reading the audit log.
	PermAudit
	// PermStatistics is reading the suppressed statistics and their
	// exports.
	PermStatistics
	// PermPublishStatistics is freezing a year's statistics for the
	// public page.
	PermPublishStatistics
	// PermSettings is changing the office's settings: retention, public
	// languages, identity and logo, which roles must use two-factor.
	PermSettings
	// PermOutbox is seeing the waiting notification mails and sending
	// them now.
	PermOutbox
	// PermIntegrity is being shown the integrity alerts (a swapped key, a
	// rogue team): someone wrote to the database, and those who can act
	// on it must hear of it.
	PermIntegrity
)

// permissions is the role rule: each role with what it may do. A role not
// listed, or a permission not listed for a role, is refused.
// Statisticians hold no keys and see only suppressed numbers;
// counsellors work cases; admins do everything.
var permissions = map[string][]Permission{
	RoleAdmin: {PermCaseWork, PermManageAccounts, PermManageTeams, PermAudit,
		PermStatistics, PermPublishStatistics, PermSettings, PermOutbox, PermIntegrity},
	RoleCounsellor:   {PermCaseWork},
	RoleStatistician: {PermStatistics},
}

// permissionNames are the names templates use: {{if can $role "Audit"}}.
var permissionNames = map[string]Permission{
	"CaseWork":          PermCaseWork,
	"ManageAccounts":    PermManageAccounts,
	"ManageTeams":       PermManageTeams,
	"Audit":             PermAudit,
	"Statistics":        PermStatistics,
	"PublishStatistics": PermPublishStatistics,
	"Settings":          PermSettings,
	"Outbox":            PermOutbox,
	"Integrity":         PermIntegrity,
}

// Can reports whether a user of the role may do p.
func Can(role string, p Permission) bool {
	return slices.Contains(permissions[role], p)
}

// PermissionNamed returns the permission of a name as templates write it
// ("CaseWork" for PermCaseWork); false for an unknown name, so that a
// typo in a template is an error rather than a hidden link.
func PermissionNamed(name string) (Permission, bool) {
	p, ok := permissionNames[name]
	return p, ok
}

// Can reports whether the session's user may do p; a nil session may do
// nothing.
func (s *OfficeSession) Can(p Permission) bool {
	return s != nil && Can(s.User.Role, p)
}

// allow refuses a session whose user may not do p. The routes check the
// permission first; this is the service's own check, so a handler wired
// to the wrong group still cannot act. It answers "not found", like a
// case of another team: no one learns what is behind a refusal.
func allow(s *OfficeSession, p Permission) error {
	if !s.Can(p) {
		return Errorf(ENotFound, "error.not_found")
	}
	return nil
}
