//go:build !race

package opstest

// RaceEnabled is true under -race; see race.go.
const RaceEnabled = false
