package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
)

// command is one subcommand: its help text, and define, which declares its flags on a fresh FlagSet and
// returns the function that runs it with the positional arguments left after parsing. Each command lives
// in its own file, command_NAME.go, and is listed in commandTable.
type command struct {
	name     string
	summary  string // one line for the command list
	usage    string // the synopsis after "onnxrun "
	help     string // paragraphs shown by --help
	examples []string
	define   func(fs *pflag.FlagSet) func(e *env, args []string) error
}

// defaultCommand runs when the first argument names no command: "onnxrun model.onnx x.npy" is
// "onnxrun run model.onnx x.npy".
const defaultCommand = "run"

// commandTable lists the commands in the order help shows them. It is a function rather than a variable
// because the help command reads it.
func commandTable() []*command {
	return []*command{runCommand(), summaryCommand(), inspectCommand(), benchCommand(), conformanceCommand(), trainCommand(), quantizeCommand(), serveCommand(), completionCommand(), versionCommand(), helpCommand()}
}

func findCommand(name string) *command {
	for _, c := range commandTable() {
		if c.name == name {
			return c
		}
	}
	return nil
}

// dispatch picks the command from the first of args, which are not empty. A first argument that is not a command but looks
// like a file (it has an extension or a path separator, or exists) or a flag goes to the default command;
// a bare word is taken for a mistyped command.
func dispatch(args []string) (*command, []string, error) {
	first := args[0]
	switch first {
	case "-h", "--help", "-help":
		return findCommand("help"), nil, nil
	case "--version", "-version":
		return findCommand("version"), args[1:], nil
	}
	if c := findCommand(first); c != nil {
		return c, args[1:], nil
	}
	if strings.HasPrefix(first, "-") || looksLikeFile(first) {
		return findCommand(defaultCommand), args, nil
	}
	msg := fmt.Sprintf("unknown command %q", first)
	if c := closest(first, commandNames()); c != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", c)
	}
	return nil, nil, &usageError{msg: fmt.Sprintf("%s: %s; or give a model file to run it", msg, commandList()), hint: "onnxrun help"}
}

func looksLikeFile(arg string) bool {
	if filepath.Ext(arg) != "" || strings.ContainsRune(arg, os.PathSeparator) || strings.ContainsRune(arg, '/') {
		return true
	}
	_, err := os.Stat(arg)
	return err == nil
}

func commandList() string {
	var names []string
	for _, c := range commandTable() {
		names = append(names, c.name)
	}
	return "the commands are " + strings.Join(names, ", ")
}

// newFlagSet makes cmd's flag set, with -h/--help declared like any flag so that help lists it.
func newFlagSet(cmd *command) (*pflag.FlagSet, *bool, func(*env, []string) error) {
	fs := pflag.NewFlagSet("onnxrun "+cmd.name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported by report, help by printCommandHelp
	fs.Usage = func() {}
	fs.SortFlags = false
	runCmd := cmd.define(fs)
	help := switchFlag(fs, "help", "h", "show this help")
	return fs, help, runCmd
}

// switchFlag declares a boolean flag that help lists as "--name" rather than pflag's
// "--name[=true|false]". Commands use it for their on/off flags.
func switchFlag(fs *pflag.FlagSet, name, short, usage string) *bool {
	v := new(bool)
	f := fs.VarPF((*switchValue)(v), name, short, usage)
	f.NoOptDefVal = "true"
	return v
}

// switchValue is a bool flag value. It has no IsBoolFlag method on purpose: that is what makes pflag
// print "[=true|false]"; NoOptDefVal still lets the flag stand alone.
type switchValue bool

func (s *switchValue) Set(v string) error {
	b, err := strconv.ParseBool(v)
	*s = switchValue(b)
	return err
}

func (s *switchValue) String() string { return strconv.FormatBool(bool(*s)) }

func (s *switchValue) Type() string { return "bool" }

// execute parses cmd's flags and runs it. --help (or -h) prints the command's help on stdout.
func execute(e *env, cmd *command, args []string) error {
	fs, help, runCmd := newFlagSet(cmd)
	if err := fs.Parse(args); err != nil {
		return usagef(cmd, "%v", err)
	}
	if *help {
		printCommandHelp(e.stdout, cmd)
		return errHelpShown
	}
	return runCmd(e, fs.Args())
}

// printCommandHelp writes the synopsis, description, flags and examples of cmd.
func printCommandHelp(w io.Writer, cmd *command) {
	fs, _, _ := newFlagSet(cmd)
	fmt.Fprintf(w, "usage: onnxrun %s\n\n%s\n\nflags:\n%s", cmd.usage, strings.TrimSpace(cmd.help), fs.FlagUsages())
	if len(cmd.examples) > 0 {
		fmt.Fprintf(w, "\nexamples:\n")
		for _, ex := range cmd.examples {
			fmt.Fprintf(w, "  %s\n", ex)
		}
	}
}

// printCommandList writes the overview that "onnxrun help" shows.
func printCommandList(w io.Writer) {
	fmt.Fprintf(w, "onnxrun runs ONNX models.\n\nusage: onnxrun <command> [flags] [arguments]\n"+
		"       onnxrun MODEL.onnx INPUT... (the %s command)\n\ncommands:\n", defaultCommand)
	width := 0
	for _, c := range commandTable() {
		width = max(width, len(c.name))
	}
	for _, c := range commandTable() {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'onnxrun help <command>' or 'onnxrun <command> --help' for a command's flags and examples;\n"+
		"'onnxrun --version' for the version and the kernels this CPU gets.\n")
}
