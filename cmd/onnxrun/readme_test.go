package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/internal/testenv"
)

// TestReadmeFirstCommand runs the first command of the README's "Two commands" section from the
// repository root, exactly as a new user types it, and checks that it prints the output block the
// README shows for it ("$ <command>" followed by the output). Both come from README.md, so the README
// and the tool cannot drift apart.
func TestReadmeFirstCommand(t *testing.T) {
	readme, err := os.ReadFile(testenv.RepoPath(t, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	command, want, err := readmeFirstCommand(string(readme))
	if err != nil {
		t.Fatalf("README.md: %v", err)
	}
	args := strings.Fields(command)
	if len(args) < 3 || args[0] != "go" || args[1] != "run" {
		t.Fatalf("README.md: the first command is %q; this test runs a `go run` command", command)
	}
	goCmd := testenv.RequireTool(t, "go", "install Go (https://go.dev/dl)")
	cmd := exec.Command(goCmd, args[1:]...)
	cmd.Dir = testenv.RepoPath(t, ".")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", command, err, stderr.Bytes())
	}
	if got := stdout.String(); got != want {
		t.Errorf("%s printed\n%s\nbut README.md shows\n%s", command, got, want)
	}
}

// readmeFirstCommand returns the command in the first code block of the README's "## Two commands"
// section, and the lines that follow "$ <command>" in the block that shows its output.
func readmeFirstCommand(readme string) (command, output string, err error) {
	_, section, found := strings.Cut(readme, "\n## Two commands\n")
	if !found {
		return "", "", errors.New(`no "## Two commands" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	blocks := codeBlocks(section)
	if len(blocks) == 0 {
		return "", "", errors.New(`no code block in "## Two commands"`)
	}
	command = strings.TrimSpace(blocks[0])
	for _, b := range blocks[1:] {
		if first, rest, ok := strings.Cut(b, "\n"); ok && first == "$ "+command {
			return command, rest, nil
		}
	}
	return "", "", errors.New(`no code block in "## Two commands" starts with "$ ` + command + `"`)
}

// codeBlocks returns the contents of the fenced (```) code blocks of a Markdown text, each ending
// with a newline.
func codeBlocks(markdown string) []string {
	var blocks []string
	var cur strings.Builder
	in := false
	for _, line := range strings.Split(markdown, "\n") {
		if strings.HasPrefix(line, "```") {
			if in {
				blocks = append(blocks, cur.String())
				cur.Reset()
			}
			in = !in
			continue
		}
		if in {
			cur.WriteString(line + "\n")
		}
	}
	return blocks
}
