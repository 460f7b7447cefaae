package reporting

// StatisticsStore keeps counts from the statistical records and published snapshots. (Issue 5, statistics work.)
type StatisticsStore interface{}
