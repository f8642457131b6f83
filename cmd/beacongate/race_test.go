//go:build race

package main

// raceEnabled: the tests run under the race detector, and so does the
// binary they run as a child process (TestMain builds it with -race).
const raceEnabled = true
