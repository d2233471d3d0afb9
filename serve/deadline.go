package serve

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// A client's own deadline. Over HTTP it comes as the Request-Timeout header (Go duration text such as
// "250ms" or "2s", or plain seconds such as "0.25"), read before the body so that it bounds the whole
// request, or as Triton's "timeout" request parameter (an integer number of microseconds) in the JSON.
// gRPC clients set their call's deadline (grpc-timeout), which the gRPC server puts in the context. Either
// way the deadline can only shorten Config.RequestTimeout; when it passes, the context is cancelled, the
// session stops between operators (or inside a long GEMM), and the client gets 504 (DEADLINE_EXCEEDED).

// HeaderRequestTimeout is the HTTP header with a client's deadline for its request.
const HeaderRequestTimeout = "Request-Timeout"

// paramTimeout is Triton's request parameter for the client's timeout, in microseconds.
const paramTimeout = "timeout"

// maxClientTimeout caps what a client may ask for, so that no conversion overflows; Config.RequestTimeout
// bounds every request anyway.
const maxClientTimeout = 24 * time.Hour

// parseRequestTimeout reads a Request-Timeout header's value.
func parseRequestTimeout(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	d, err := time.ParseDuration(v)
	if err != nil {
		seconds, ferr := strconv.ParseFloat(v, 64)
		if ferr != nil || math.IsNaN(seconds) || math.IsInf(seconds, 0) {
			return 0, badRequestf("header %s: %q is neither a duration (\"250ms\", \"2s\") nor a number of seconds", HeaderRequestTimeout, v)
		}
		d = time.Duration(min(seconds, maxClientTimeout.Seconds()) * float64(time.Second))
	}
	if d <= 0 {
		return 0, badRequestf("header %s: %q is not a positive timeout", HeaderRequestTimeout, v)
	}
	return d, nil
}

// timeoutParameter reads Triton's "timeout" request parameter (microseconds); ok is false when absent.
func timeoutParameter(params map[string]any) (d time.Duration, ok bool, err error) {
	v, present := params[paramTimeout]
	if !present {
		return 0, false, nil
	}
	us, isNumber := v.(float64) // encoding/json gives every JSON number as float64 in a map[string]any
	if !isNumber || us <= 0 || us != math.Trunc(us) {
		return 0, false, badRequestf("parameter %q: %v is not a positive whole number of microseconds", paramTimeout, v)
	}
	return time.Duration(min(us, float64(maxClientTimeout/time.Microsecond))) * time.Microsecond, true, nil
}
