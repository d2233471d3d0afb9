//go:build unix

package serve

import (
	"io"
	"net"
	"net/http"
	goruntime "runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// 5,000 idle connections (or as many as the descriptor limit allows, with room for the test's own ends)
// neither exhaust descriptors nor stop service: a request on a new connection is then answered in about
// the time it took before they were opened.
func TestIdleConnectionsDoNotStopService(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	// Go (1.19+) raises the soft limit to the hard one when the process starts, so a server needs no
	// code of its own for that; this checks it still does.
	if goruntime.GOOS == "linux" && lim.Cur != lim.Max {
		t.Errorf("RLIMIT_NOFILE soft limit %d is below the hard limit %d: Go no longer raises it at start", lim.Cur, lim.Max)
	}
	// Each idle connection costs two descriptors here, the client's and the server's end.
	idle := int(min(5000, (int64(lim.Cur)-300)/2))
	if idle < 100 {
		t.Fatalf("RLIMIT_NOFILE is %d: too few descriptors for the test", lim.Cur)
	}
	cfg := Config{Sessions: 1, ReadHeaderTimeout: time.Minute} // idle connections stay for the test
	ts := startServer(t, cfg, newModel(t, "linear", linearGraph(), cfg))
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Minute}
	// medianRequest is the median time of a few inference requests, each on a new connection.
	medianRequest := func() time.Duration {
		t.Helper()
		times := make([]time.Duration, 15)
		for i := range times {
			start := time.Now()
			resp, err := client.Post(ts.url+"/v2/models/linear/infer", "application/json", strings.NewReader(linearInferBody))
			if err != nil {
				t.Fatalf("with %d idle connections: %v", idle, err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			times[i] = time.Since(start)
		}
		slices.Sort(times)
		return times[len(times)/2]
	}
	baseline := medianRequest()

	addr := strings.TrimPrefix(ts.url, "http://")
	conns := make([]net.Conn, 0, idle)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range idle {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("idle connection %d of %d: %v", len(conns)+1, idle, err)
		}
		conns = append(conns, c)
	}
	loaded := medianRequest()
	t.Logf("%d idle connections: median request %v, %v before", idle, loaded, baseline)
	// A generous factor over the same test's own baseline: what fails is a server that stalls (accept
	// errors, descriptor exhaustion), which shows as seconds or errors, not a few percent.
	if loaded > 20*baseline {
		t.Errorf("with %d idle connections a request takes %v, against %v before", idle, loaded, baseline)
	}
}
