//go:build race

package main

// budget stretches the test's time limit under the race detector, which
// makes the child server's argon2id and handlers several times slower: in
// CI's `go test -race ./...` the four scenarios did not fit one minute.
const budget = 4
