//go:build !race

package main

// budget is 1 without the race detector (see race_test.go).
const budget = 1
