package main

import (
	"context"
	"errors"
	"fmt"
	_ "github.com/onnxrun/onnxrun/ops/imagecodec" // ImageDecoder is opt-in (runtime.OptInKernels)
	"io"
	"os"
	"strings"
)

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1 // the model or an input is wrong, or running failed
	exitUsage = 2 // the command line is malformed: unknown command or flag, missing or extra arguments
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program short of os.Exit, so tests can drive it in-process: it dispatches to a
// command, prints any error as one line on stderr and returns the exit status. A panic becomes a
// one-line internal error rather than a stack trace.
func run(args []string, stdout, stderr io.Writer) (status int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "onnxrun: internal error (please report it): %s\n", oneLine(fmt.Sprint(r)))
			status = exitError
		}
	}()
	if len(args) == 0 {
		// Like go and git: the overview, on stderr since nothing was asked for, and a usage status.
		printCommandList(stderr)
		return exitUsage
	}
	env := &env{ctx: context.Background(), stdout: stdout, stderr: stderr}
	cmd, cmdArgs, err := dispatch(args)
	if err == nil {
		err = execute(env, cmd, cmdArgs)
	}
	return report(stderr, err)
}

// env is what a command gets besides its arguments.
type env struct {
	ctx    context.Context
	stdout io.Writer
	stderr io.Writer
}

// usageError is a malformed command line; hint names the help to read.
type usageError struct {
	msg  string
	hint string
}

func (e *usageError) Error() string {
	if e.hint == "" {
		return e.msg
	}
	return e.msg + " (see '" + e.hint + "')"
}

func usagef(cmd *command, format string, args ...any) error {
	hint := "onnxrun help"
	if cmd != nil {
		hint = "onnxrun " + cmd.name + " --help"
	}
	return &usageError{msg: fmt.Sprintf(format, args...), hint: hint}
}

// flagError is a usage error found while applying one of cmd's flags, from code the commands share (the
// bench package's shape checks): "inspect --plan: input ...", so the message speaks for the command run.
func flagError(cmd *command, flag string, err error) error {
	return usagef(cmd, "%s %s: %v", cmd.name, flag, err)
}

// errHelpShown ends a command that printed its help on request: exit status 0.
var errHelpShown = errors.New("help shown")

// report prints err as one line and maps it to an exit status.
func report(stderr io.Writer, err error) int {
	if err == nil || errors.Is(err, errHelpShown) {
		return exitOK
	}
	fmt.Fprintf(stderr, "onnxrun: %s\n", oneLine(err.Error()))
	var usage *usageError
	if errors.As(err, &usage) {
		return exitUsage
	}
	return exitError
}

// oneLine folds a multi-line message onto one line, so every error is exactly one line of stderr.
func oneLine(s string) string {
	lines := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return strings.Join(lines, "; ")
}
