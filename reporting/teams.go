package reporting

// TeamStore keeps teams beyond the first: creating them, their
// municipalities and members, and moving a case to another team.
// (Issue 3, teams work fills it in.)
type TeamStore interface{}
