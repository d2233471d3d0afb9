// Package sizebudget holds only the command-line tool's binary size budget (budget.go) and the test that
// holds the build to it, so that a dependency's cost in bytes is a decision someone writes down rather than
// drift that nobody notices.
package sizebudget
