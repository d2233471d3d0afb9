// Package testenv finds what the tests and the developer tools need outside the Go source: the
// repository root, the reference material in ../shared, the files `make data` and `make
// torchvision-models` write, and external tools (protoc, python3 with a module, ONNX Runtime's library).
//
// # Finding ../shared
//
// SharedDir honours $ONNXRUN_SHARED only when it names an existing folder (a variable left over from
// another checkout must not turn a clean skip into a failure to open a file); otherwise it looks for the
// folder "shared" beside the repository root. It is the only copy of that search: tests and tools call it rather than walk up
// from their own directory.
//
// # Skip or fail
//
// A test that needs something missing calls Shared, RequireFile, RequireTool or RequirePython. On a
// developer's machine the test skips with one line naming what is missing and how to get it, so that
// `make test` passes on a fresh clone. Under CI (CI=true, or ONNXRUN_REQUIRE_SHARED=1, which .ci/run
// sets) the same line fails the test instead: CI installs everything, so a skip there would hide a
// test that silently stopped running.
package testenv
