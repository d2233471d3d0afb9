package main

import (
	"fmt"
	"io"
	goruntime "runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/pflag"

	"github.com/onnxrun/onnxrun/ops"
)

func versionCommand() *command {
	return &command{
		name:    "version",
		summary: "print onnxrun's version, the Go that built it and the kernels this CPU gets",
		usage:   "version",
		help: `Version prints the module version onnxrun was built as ("(devel)" when built from a checkout), the
version-control revision the build recorded ("unknown" when the Go toolchain stamped none, as with go
run, go test or a build outside a repository), the Go version and platform, the build tags, and for each
family of fast kernels the variant this CPU and build get: an assembly one (e.g. "gemm: AVX2+FMA 6x16")
or "pure Go" (another CPU, another GOARCH, or -tags noasm). "onnxrun --version" is the same. Include
it in bug reports, and with benchmark figures.`,
		examples: []string{"onnxrun version", "onnxrun --version"},
		define: func(fs *pflag.FlagSet) func(*env, []string) error {
			return func(e *env, args []string) error {
				if len(args) > 0 {
					return usagef(findCommand("version"), "version takes no arguments, got %d", len(args))
				}
				info, _ := debug.ReadBuildInfo()
				return writeVersion(e.stdout, info, ops.KernelVariants())
			}
		},
	}
}

// writeVersion prints what the version command shows from the build information (nil when the binary
// carries none) and the kernel variants registered at init.
func writeVersion(w io.Writer, info *debug.BuildInfo, kernels []ops.KernelVariant) error {
	version := "(devel)"
	settings := map[string]string{}
	if info != nil {
		if info.Main.Version != "" {
			version = info.Main.Version
		}
		for _, s := range info.Settings {
			settings[s.Key] = s.Value
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "onnxrun %s\n", version)
	revision := "unknown (built without VCS stamping)"
	if r := settings["vcs.revision"]; r != "" {
		var notes []string
		if t := settings["vcs.time"]; t != "" {
			notes = append(notes, t)
		}
		if settings["vcs.modified"] == "true" {
			notes = append(notes, "modified")
		}
		revision = r
		if len(notes) > 0 {
			revision += " (" + strings.Join(notes, ", ") + ")"
		}
	}
	fmt.Fprintf(&b, "revision: %s\n", revision)
	fmt.Fprintf(&b, "go: %s %s/%s\n", goruntime.Version(), goruntime.GOOS, goruntime.GOARCH)
	if tags := settings["-tags"]; tags != "" {
		fmt.Fprintf(&b, "build tags: %s\n", tags)
	}
	b.WriteString("kernels on this CPU:\n")
	for _, k := range kernels {
		fmt.Fprintf(&b, "  %s: %s\n", k.Family, k.Variant)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
