//go:build race

package runtime_test

// profileUnderRace is true under -race, where sync.Pool drops items at random, so kernels that pool their
// buffers allocate now and then: the zero-allocation check of RunProfiled only holds without it.
const profileUnderRace = true
