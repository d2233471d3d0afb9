// Package browsertest tests onnxrun's pages in a real browser: headless Chromium (Debian's chromium)
// driven through the DevTools protocol by github.com/chromedp/chromedp. It is a module of its own so that
// the main module's go.mod stays short; it reaches the main module through a replace directive.
//
// # Helpers
//
// browser.go holds what every browser test shares: NewBrowser finds Chromium and starts it headless for one
// test (a tab whose console messages and uncaught exceptions go to the test log), and StartServer serves
// models with package serve on 127.0.0.1. The try-it page's tests (page_test.go, page_image_test.go) and the WebAssembly demo's
// use them.
//
// # Skip or fail
//
// Without Chromium a test skips with one line saying how to install it, like the tests that need
// ../shared (internal/testenv). With ONNXRUN_REQUIRE_BROWSER=1 (which .ci/run sets), or wherever testenv
// requires its material (CI=true, ONNXRUN_REQUIRE_SHARED=1), the same line fails the test instead.
//
// # Screenshot
//
// go test -run TestTryItPage -args -screenshot ../docs/try-it.png (make try-it-screenshot) writes the page
// as it looks after predicting a drawn digit.
package browsertest
