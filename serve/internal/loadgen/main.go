package loadgen

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// Main is the end of a measuring command's main: it runs run with its output going to stdout and, when
// out is set, also to the file out (the markdown the docs take); any error is printed after name and the
// process exits 1.
func Main(name, out string, run func(w io.Writer) error) {
	var copied bytes.Buffer
	if err := run(io.MultiWriter(os.Stdout, &copied)); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
	if out != "" {
		if err := os.WriteFile(out, copied.Bytes(), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
			os.Exit(1)
		}
	}
}
