//go:build !race

package conformance

// raceEnabled tells tests that the race detector is on: whole CNNs would take many minutes under it.
const raceEnabled = false
