package main

import (
	"github.com/spf13/pflag"
)

func helpCommand() *command {
	return &command{
		name:    "help",
		summary: "list the commands, or show one command's help",
		usage:   "help [COMMAND]",
		help:    "Without an argument, help lists the commands; with one, it shows that command's flags and examples.",
		examples: []string{
			"onnxrun help",
			"onnxrun help run",
		},
		define: func(fs *pflag.FlagSet) func(*env, []string) error {
			return func(e *env, args []string) error {
				switch len(args) {
				case 0:
					printCommandList(e.stdout)
					return nil
				case 1:
					c := findCommand(args[0])
					if c == nil {
						return usagef(nil, "no command %q: %s", args[0], commandList())
					}
					printCommandHelp(e.stdout, c)
					return nil
				}
				return usagef(findCommand("help"), "help takes at most one command, got %d arguments", len(args))
			}
		},
	}
}
