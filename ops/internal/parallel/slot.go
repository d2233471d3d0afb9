package parallel

import "sync/atomic"

// TaskSlot lends a kernel's one reusable Task value to the run that takes it, so that a threaded Run
// allocates nothing: a kernel is shared by concurrent sessions, so it cannot simply own a task, and a
// sync.Pool is per P (a goroutine that moved to another P finds the pool empty there and allocates). A
// run that finds the slot taken by a concurrent run gets a fresh value instead.
type TaskSlot[T any] struct {
	busy atomic.Bool
	task T
}

// Get returns the slot's value, zeroed, or a new one when another run holds it.
func (s *TaskSlot[T]) Get() *T {
	if s.busy.CompareAndSwap(false, true) {
		return &s.task
	}
	return new(T)
}

// Put gives back a value from Get, clearing the slot's so that it keeps no tensors alive.
func (s *TaskSlot[T]) Put(t *T) {
	if t == &s.task {
		var zero T
		s.task = zero
		s.busy.Store(false)
	}
}
