package reporting

// officeTransition is, on this branch only, the rest of Store for the
// Office methods that other services take over in the same change (cases,
// teams, statistics, retention, settings, audit, notifications). Delete
// this file and its line in OfficeStore once they are merged.
type officeTransition interface {
	Store
}
