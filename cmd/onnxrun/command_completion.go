package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/pflag"
)

func completionCommand() *command {
	return &command{
		name:    "completion",
		summary: "print a shell completion script (bash, zsh or fish)",
		usage:   "completion bash|zsh|fish",
		help: `Completion prints a script that teaches the shell onnxrun's commands and flags: after "onnxrun " the
Tab key offers the commands and model files, after a command its flags (with their descriptions in zsh
and fish), and files where a command takes files. The script is made from the same table the help is, so
it always matches this binary.

Load it for the current shell, or install it where the shell looks for completions:
  bash:  source <(onnxrun completion bash)
         onnxrun completion bash > /etc/bash_completion.d/onnxrun
  zsh:   onnxrun completion zsh > "${fpath[1]}/_onnxrun"    (then restart zsh)
  fish:  onnxrun completion fish > ~/.config/fish/completions/onnxrun.fish`,
		examples: []string{
			"source <(onnxrun completion bash)",
			"onnxrun completion zsh > \"${fpath[1]}/_onnxrun\"",
			"onnxrun completion fish > ~/.config/fish/completions/onnxrun.fish",
		},
		define: func(fs *pflag.FlagSet) func(*env, []string) error {
			return func(e *env, args []string) error {
				cmd := findCommand("completion")
				if len(args) != 1 {
					return usagef(cmd, "completion takes one shell name: bash, zsh or fish")
				}
				switch args[0] {
				case "bash":
					return writeBashCompletion(e.stdout)
				case "zsh":
					return writeZshCompletion(e.stdout)
				case "fish":
					return writeFishCompletion(e.stdout)
				}
				return usagef(cmd, "unknown shell %q: the completion scripts are for bash, zsh and fish", args[0])
			}
		},
	}
}

// flagInfo is what a completion script needs to know about one flag.
type flagInfo struct {
	long, short string
	usage       string
	takesValue  bool
	repeatable  bool   // may be given several times (--shape)
	valueKind   string // "file", "dir" or "" (a value to type)
}

// commandFlags lists cmd's flags in definition order.
func commandFlags(cmd *command) []flagInfo {
	fs, _, _ := newFlagSet(cmd)
	var out []flagInfo
	fs.VisitAll(func(f *pflag.Flag) {
		fi := flagInfo{long: f.Name, short: f.Shorthand, usage: f.Usage, takesValue: f.NoOptDefVal == "",
			repeatable: strings.HasSuffix(f.Value.Type(), "Array") || strings.HasSuffix(f.Value.Type(), "Slice")}
		switch f.Name {
		case "output", "labels", "dot", "markdown", "write-expected", "expected", "save", "cpuprofile", "memprofile", "calibrate", "eval", "data", "test-data":
			fi.valueKind = "file"
		case "dump-intermediate", "dir", "out":
			fi.valueKind = "dir"
		}
		out = append(out, fi)
	})
	return out
}

// commandNames lists the commands in the help's order.
func commandNames() []string {
	var names []string
	for _, c := range commandTable() {
		names = append(names, c.name)
	}
	return names
}

func writeBashCompletion(w io.Writer) error {
	var b strings.Builder
	b.WriteString(`# bash completion for onnxrun; load with: source <(onnxrun completion bash)
_onnxrun() {
    local cur prev cmd i
    cur="${COMP_WORDS[COMP_CWORD]}"
    prev="${COMP_WORDS[COMP_CWORD-1]}"
    cmd=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "${COMP_WORDS[i]}" in
            -*) ;;
            *) cmd="${COMP_WORDS[i]}"; break ;;
        esac
    done
    local commands="` + strings.Join(commandNames(), " ") + `"
    if [[ -z "$cmd" && "$cur" != -* ]]; then
        COMPREPLY=( $(compgen -W "$commands" -- "$cur") $(compgen -f -- "$cur") )
        return
    fi
    local flags="" valueflags="" fileflags="" dirflags=""
    case "$cmd" in
`)
	done := map[string]bool{}
	// The default command's branch comes again last as "*": a model file in place of the command runs it.
	for _, c := range append(commandTable(), findCommand(defaultCommand)) {
		flags, valueFlags, fileFlags, dirFlags := []string{}, []string{}, []string{}, []string{}
		for _, f := range commandFlags(c) {
			names := []string{"--" + f.long}
			if f.short != "" {
				names = append(names, "-"+f.short)
			}
			flags = append(flags, names...)
			if f.takesValue {
				valueFlags = append(valueFlags, names...)
			}
			switch f.valueKind {
			case "file":
				fileFlags = append(fileFlags, names...)
			case "dir":
				dirFlags = append(dirFlags, names...)
			}
		}
		pattern := c.name
		if done[c.name] {
			pattern = "*"
		}
		done[c.name] = true
		fmt.Fprintf(&b, "        %s)\n            flags=%q\n            valueflags=%q\n            fileflags=%q\n            dirflags=%q\n            ;;\n",
			pattern, strings.Join(flags, " "), strings.Join(valueFlags, " "), strings.Join(fileFlags, " "), strings.Join(dirFlags, " "))
	}
	b.WriteString(`    esac
    if [[ -z "$cmd" ]]; then
        flags="--version $flags"
    fi
    if [[ " $dirflags " == *" $prev "* ]]; then
        COMPREPLY=( $(compgen -d -- "$cur") )
        return
    fi
    if [[ " $fileflags " == *" $prev "* ]]; then
        COMPREPLY=( $(compgen -f -- "$cur") )
        return
    fi
    if [[ " $valueflags " == *" $prev "* ]]; then
        COMPREPLY=()
        return
    fi
    if [[ "$cur" == -* ]]; then
        COMPREPLY=( $(compgen -W "$flags" -- "$cur") )
        return
    fi
    case "$cmd" in
        help) COMPREPLY=( $(compgen -W "$commands" -- "$cur") ) ;;
        completion) COMPREPLY=( $(compgen -W "bash zsh fish" -- "$cur") ) ;;
        version) COMPREPLY=() ;;
        *) COMPREPLY=( $(compgen -f -- "$cur") ) ;;
    esac
}
complete -o filenames -o bashdefault -F _onnxrun onnxrun
`)
	_, err := io.WriteString(w, b.String())
	return err
}

// zshQuote escapes a description for an _arguments or _describe spec inside single quotes.
func zshQuote(s string) string {
	r := strings.NewReplacer(`'`, `'\''`, `[`, `\[`, `]`, `\]`, `:`, `\:`)
	return r.Replace(s)
}

func writeZshCompletion(w io.Writer) error {
	var b strings.Builder
	b.WriteString("#compdef onnxrun\n# zsh completion for onnxrun; install with: onnxrun completion zsh > \"${fpath[1]}/_onnxrun\"\n\n")
	b.WriteString("_onnxrun() {\n    local -a commands\n    commands=(\n")
	for _, c := range commandTable() {
		fmt.Fprintf(&b, "        '%s:%s'\n", c.name, zshQuote(c.summary))
	}
	b.WriteString("    )\n    if (( CURRENT == 2 )); then\n        _describe -t commands 'onnxrun command' commands\n        compadd -- --version\n        _files\n        return\n    fi\n")
	b.WriteString("    local cmd=${words[2]}\n    if (( ! ${commands[(I)${cmd}:*]} )); then\n        cmd=" + defaultCommand + "\n    else\n        shift words\n        (( CURRENT-- ))\n    fi\n")
	b.WriteString("    case $cmd in\n")
	for _, c := range commandTable() {
		fmt.Fprintf(&b, "        %s)\n            _arguments -s \\\n", c.name)
		for _, f := range commandFlags(c) {
			action := ""
			if f.takesValue {
				switch f.valueKind {
				case "file":
					action = ":file:_files"
				case "dir":
					action = ":directory:_files -/"
				default:
					action = ":value: "
				}
			}
			desc := zshQuote(f.usage)
			switch {
			case f.repeatable:
				fmt.Fprintf(&b, "                '*--%s[%s]%s' \\\n", f.long, desc, action)
			case f.short != "":
				fmt.Fprintf(&b, "                '(-%s --%s)'{-%s,--%s}'[%s]%s' \\\n", f.short, f.long, f.short, f.long, desc, action)
			default:
				fmt.Fprintf(&b, "                '--%s[%s]%s' \\\n", f.long, desc, action)
			}
		}
		switch c.name {
		case "help":
			b.WriteString("                '1:command:(" + strings.Join(commandNames(), " ") + ")'\n")
		case "completion":
			b.WriteString("                '1:shell:(bash zsh fish)'\n")
		case "version":
			b.WriteString("                '*: :_nothing'\n") // no arguments
		default:
			b.WriteString("                '*:file:_files'\n")
		}
		b.WriteString("            ;;\n")
	}
	b.WriteString("    esac\n}\n\n_onnxrun \"$@\"\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// fishQuote makes s a fish single-quoted string.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func writeFishCompletion(w io.Writer) error {
	var b strings.Builder
	names := commandNames()
	b.WriteString("# fish completion for onnxrun; install with: onnxrun completion fish > ~/.config/fish/completions/onnxrun.fish\n")
	b.WriteString("complete -c onnxrun -f\n")
	for _, c := range commandTable() {
		fmt.Fprintf(&b, "complete -c onnxrun -n '__fish_use_subcommand' -a %s -d %s\n", c.name, fishQuote(c.summary))
	}
	b.WriteString("complete -c onnxrun -n '__fish_use_subcommand' -F\n")
	b.WriteString("complete -c onnxrun -n '__fish_use_subcommand' -l version -d " + fishQuote(findCommand("version").summary) + "\n")
	// Files after commands that take them; a model given first runs with the run command's flags.
	var fileCommands []string
	for _, c := range commandTable() {
		if c.name != "help" && c.name != "completion" && c.name != "version" {
			fileCommands = append(fileCommands, c.name)
		}
	}
	sort.Strings(fileCommands)
	fmt.Fprintf(&b, "complete -c onnxrun -n '__fish_seen_subcommand_from %s' -F\n", strings.Join(fileCommands, " "))
	fmt.Fprintf(&b, "complete -c onnxrun -n '__fish_seen_subcommand_from help' -a %s\n", fishQuote(strings.Join(names, " ")))
	b.WriteString("complete -c onnxrun -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'\n")
	for _, c := range commandTable() {
		cond := fmt.Sprintf("__fish_seen_subcommand_from %s", c.name)
		if c.name == defaultCommand {
			cond = fmt.Sprintf("__fish_seen_subcommand_from %s; or not __fish_seen_subcommand_from %s", c.name, strings.Join(names, " "))
		}
		for _, f := range commandFlags(c) {
			line := fmt.Sprintf("complete -c onnxrun -n %s -l %s", fishQuote(cond), f.long)
			if f.short != "" {
				line += " -s " + f.short
			}
			if f.takesValue {
				switch f.valueKind {
				case "file":
					line += " -r -F"
				case "dir":
					line += " -r -a '(__fish_complete_directories)'"
				default:
					line += " -x"
				}
			}
			line += " -d " + fishQuote(f.usage)
			b.WriteString(line + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
