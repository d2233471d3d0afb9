package browsertest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/serve"
)

// chromiumNames are the names Chromium and Chrome go by on PATH (Debian's package installs chromium).
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// FindChromium returns the browser to run: $ONNXRUN_CHROMIUM when set, else the first of chromiumNames
// on PATH.
func FindChromium() (string, error) {
	if path := os.Getenv("ONNXRUN_CHROMIUM"); path != "" {
		if _, err := os.Stat(path); err != nil {
			return "", fmt.Errorf("ONNXRUN_CHROMIUM=%s: %w", path, err)
		}
		return path, nil
	}
	for _, name := range chromiumNames {
		if path, err := exec.LookPath(name); err == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("none of %v is on PATH", chromiumNames)
}

// RequireBrowser returns the browser's path, or skips t (fails it where a browser is required: see the
// package doc).
func RequireBrowser(t testing.TB) string {
	t.Helper()
	path, err := FindChromium()
	if err == nil {
		return path
	}
	what := fmt.Sprintf("a Chromium browser (%v)", err)
	const how = "apt-get install chromium, or set ONNXRUN_CHROMIUM to a Chromium or Chrome binary"
	if os.Getenv("ONNXRUN_REQUIRE_BROWSER") == "1" {
		t.Fatalf("missing %s: %s (required: ONNXRUN_REQUIRE_BROWSER=1)", what, how)
	}
	testenv.Missing(t, what, how)
	return ""
}

// NewBrowser starts headless Chromium for t and returns the context of one tab, for chromedp.Do and
// chromedp.Run. Every action on it fails after timeout; the browser stops when the test ends. The page's
// console messages and uncaught exceptions are logged to t, which is where a failing page test's reason
// usually is.
func NewBrowser(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	exe := RequireBrowser(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1100, 900),
		// Containers and CI run as root, where Chromium refuses to start with its sandbox.
		chromedp.NoSandbox,
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	ctx, cancelTimeout := context.WithTimeout(tabCtx, timeout)
	// The listener runs on chromedp's goroutine, which may deliver an event after the test has ended, when
	// t.Logf panics: ended (under logMu) stops it.
	var logMu sync.Mutex
	ended := false
	t.Cleanup(func() {
		logMu.Lock()
		ended = true
		logMu.Unlock()
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	if err := chromedp.Listen(ctx, func(ev any) {
		logMu.Lock()
		defer logMu.Unlock()
		if ended {
			return
		}
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			for _, arg := range ev.Args {
				t.Logf("browser console.%s: %s", ev.Type, arg.Value)
			}
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			desc := d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				desc = d.Exception.Description
			}
			t.Logf("browser exception at %s:%d:%d: %s", d.URL, d.LineNumber+1, d.ColumnNumber+1, desc)
		}
	}); err != nil {
		t.Fatalf("starting %s: %v", exe, err)
	}
	return ctx
}

// StartServer serves models with package serve on 127.0.0.1 and returns the base URL (ending in "/"); the
// server shuts down when the test ends.
func StartServer(t testing.TB, cfg serve.Config, models ...*serve.Model) string {
	t.Helper()
	srv, err := serve.New(cfg, models...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Shutdown(context.Background()); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return ServeHandler(t, srv.Handler())
}

// ServeHandler serves h on 127.0.0.1 and returns the base URL (ending in "/"), for a test that puts
// something in front of a server's handler (an authenticating proxy) or serves files of its own.
func ServeHandler(t testing.TB, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	t.Cleanup(func() {
		hs.Close()
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serving %s: %v", ln.Addr(), err)
		}
	})
	return "http://" + ln.Addr().String() + "/"
}
