package serve

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// Error is a failed request: the HTTP status it is answered with and the message that goes in the body's
// "error" field. Messages name what is wrong and the values involved; they never hold a stack trace.
type Error struct {
	Status int
	Msg    string
	// RetryAfter, when above 0, is the number of seconds after which the client may retry: a request
	// refused because a model's queue is full. HTTP sends it as the Retry-After header; gRPC answers
	// RESOURCE_EXHAUSTED with it in the message and in the trailer "retry-after".
	RetryAfter int
}

func (e *Error) Error() string { return e.Msg }

func badRequestf(format string, args ...any) error {
	return &Error{Status: http.StatusBadRequest, Msg: fmt.Sprintf(format, args...)}
}

func notFoundf(format string, args ...any) error {
	return &Error{Status: http.StatusNotFound, Msg: fmt.Sprintf(format, args...)}
}

// errShuttingDown answers requests that arrive while the server drains.
var errShuttingDown = &Error{Status: http.StatusServiceUnavailable, Msg: "the server is shutting down"}

// statusOf maps an error to the HTTP status and message a client sees. Anything unexpected is a 500 whose
// message is the error's text, never a trace.
func statusOf(err error) (int, string) {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e.Status, e.Msg
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, "the request timed out before the model answered"
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads this, but the metrics count it apart, as nginx does.
		return statusClientClosed, "the client closed the request"
	}
	return http.StatusInternalServerError, err.Error()
}

// statusClientClosed is nginx's non-standard status for a request whose client disconnected.
const statusClientClosed = 499

// Broken internal invariants. They panic (the server's recover turns a panic into a 500) and never depend
// on request data.
const (
	errStackMismatch = "serve: batch inputs of different dtypes or shapes were grouped together"
)
