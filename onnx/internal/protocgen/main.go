// Command protocgen regenerates onnx/onnxpb/onnx.pb.go. It is run by go generate in onnx/onnxpb.
//
// It builds protoc-gen-go from the google.golang.org/protobuf version pinned in go.mod (not whatever
// happens to be on PATH), so that the generated header, and therefore `make check-generate`, is
// reproducible, then runs protoc (Debian's protobuf-compiler) with that plugin.
//
// protoc is given the repository root as its import path, so the schema registers as
// "onnx/onnxpb/onnx.proto" rather than the bare "onnx.proto" that other ONNX bindings use.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
)

func main() {
	root := flag.String("root", "../..", "repository root (protoc import path and output base)")
	flag.Parse()
	if flag.NArg() == 0 {
		fail(fmt.Errorf("usage: protocgen [-root dir] file.proto... (paths relative to the root)"))
	}
	if err := run(*root, flag.Args()); err != nil {
		fail(err)
	}
}

func run(root string, protos []string) error {
	if _, err := exec.LookPath("protoc"); err != nil {
		return fmt.Errorf("protoc not found on PATH (Debian: apt-get install protobuf-compiler): %w", err)
	}
	tmp, err := os.MkdirTemp("", "protocgen")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	plugin := filepath.Join(tmp, "protoc-gen-go")
	if goruntime.GOOS == "windows" {
		plugin += ".exe"
	}
	build := exec.Command("go", "build", "-o", plugin, "google.golang.org/protobuf/cmd/protoc-gen-go")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building protoc-gen-go: %w", err)
	}

	args := []string{
		"--plugin=protoc-gen-go=" + plugin,
		"--proto_path=" + root,
		"--go_out=" + root,
		"--go_opt=paths=source_relative",
	}
	protoc := exec.Command("protoc", append(args, protos...)...)
	protoc.Stdout, protoc.Stderr = os.Stdout, os.Stderr
	if err := protoc.Run(); err != nil {
		return fmt.Errorf("protoc: %w", err)
	}
	return nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "protocgen:", err)
	os.Exit(1)
}
