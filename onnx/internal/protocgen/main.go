// Command protocgen regenerates the project's generated protobuf code: onnx/onnxpb/onnx.pb.go and, with
// -grpc, serve/grpcpb's messages and gRPC service. It is run by go generate in those packages.
//
// It builds protoc-gen-go from the google.golang.org/protobuf version pinned in go.mod (not whatever
// happens to be on PATH), so that the generated header, and therefore `make check-generate`, is
// reproducible, then runs protoc (Debian's protobuf-compiler) with that plugin. With -grpc it also installs
// protoc-gen-go-grpc at grpcPluginVersion (a module of its own, so not in go.mod) into the same temporary
// folder and runs it.
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
	withGRPC := flag.Bool("grpc", false, "also generate the gRPC service code (protoc-gen-go-grpc "+grpcPluginVersion+")")
	flag.Parse()
	if flag.NArg() == 0 {
		fail(fmt.Errorf("usage: protocgen [-root dir] file.proto... (paths relative to the root)"))
	}
	if err := run(*root, flag.Args(), *withGRPC); err != nil {
		fail(err)
	}
}

// grpcPluginVersion pins protoc-gen-go-grpc, whose version is written into the generated header.
const grpcPluginVersion = "v1.5.1"

func run(root string, protos []string, withGRPC bool) error {
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
	if withGRPC {
		install := exec.Command("go", "install", "google.golang.org/grpc/cmd/protoc-gen-go-grpc@"+grpcPluginVersion)
		install.Env = append(os.Environ(), "GOBIN="+tmp)
		install.Stdout, install.Stderr = os.Stdout, os.Stderr
		if err := install.Run(); err != nil {
			return fmt.Errorf("installing protoc-gen-go-grpc %s: %w", grpcPluginVersion, err)
		}
		grpcPlugin := filepath.Join(tmp, "protoc-gen-go-grpc")
		if goruntime.GOOS == "windows" {
			grpcPlugin += ".exe"
		}
		args = append(args, "--plugin=protoc-gen-go-grpc="+grpcPlugin, "--go-grpc_out="+root, "--go-grpc_opt=paths=source_relative")
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
