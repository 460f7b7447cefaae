package reporting

// AnonymiseNetworkWith is AnonymiseNetwork with only the given
// generalisation steps and with or without suppression (tests: each
// protection switched off must make the k-anonymity check fail).
func AnonymiseNetworkWith(year, k int, records []NetRecord, steps []string, suppress bool) NetworkExport {
	return anonymiseNetwork(year, k, records, steps, suppress)
}
