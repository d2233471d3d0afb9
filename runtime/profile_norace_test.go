//go:build !race

package runtime_test

// profileUnderRace is true under -race; see profile_race_test.go.
const profileUnderRace = false
