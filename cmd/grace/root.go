package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"grace/engine"
)

// app is one invocation of grace: its output streams, its global flags and
// what it learned along the way (the config, where to log a panic).
type app struct {
	stdout, stderr io.Writer

	// Global flags.
	configFile string
	db         string
	sets       []string
	server     string // intent commands' --server

	// json is each command's --json; wroteJSON is set once a JSON document
	// has been printed, so an error never adds a second one.
	json      bool
	wroteJSON bool

	// reachedRun is set once cobra has accepted the flags and arguments
	// and runs a command: an error before that is a usage error.
	reachedRun bool

	cfg     *engine.Config
	logFile string // where a panic is written, once the config is known

	// beforeNewDB, when set, checks a direct write before withIntents
	// creates the database for it, so that a refused one leaves no data
	// folder behind.
	beforeNewDB func(context.Context, engine.Config) error
}

// run executes grace with args and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr}
	return a.execute(a.rootCommand(), args)
}

// execute runs root with args and turns the outcome into an exit code and
// "grace: " lines on stderr. It never lets a panic escape: the trace goes to
// the log file (when one is known) and one line to stderr.
func (a *app) execute(root *cobra.Command, args []string) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(a.stderr, "grace: internal error: %s (%s)\n", oneLine(fmt.Sprint(r)), a.logPanic(r, debug.Stack()))
			code = exitFailure
		}
	}()
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	if flag, fixed, ok := misplacedFlag(root, cmd, args); ok {
		// "grace --json intent list": cobra took "intent" for the unknown
		// flag's value and then found no command "list".
		err = usageErrorf("%s is not a flag of grace itself; it goes after the command: grace %s", flag, strings.Join(fixed, " "))
	}
	if cmd != root && cmd.HasSubCommands() && !strings.Contains(err.Error(), "did you mean") {
		// cobra suggests a command for a slip at the top level only.
		var names []string
		for _, c := range cmd.Commands() {
			if c.IsAvailableCommand() {
				names = append(names, c.Name())
			}
		}
		if word, ok := unknownCommand(err.Error()); ok {
			if near := nearName(word, names); near != "" {
				err = usageErrorf("unknown command %q for %q: did you mean %s? (want one of: %s)", word, cmd.CommandPath(), near, strings.Join(names, ", "))
			}
		}
	}
	var ue *usageError
	if !a.reachedRun && !errors.As(err, &ue) {
		err = &usageError{err: fmt.Errorf("%w (see \"%s --help\")", err, cmd.CommandPath())}
	}
	if !a.reachedRun && !a.json && cmd.Flags().Lookup("json") != nil {
		// A flag error stops parsing before a later --json is read; the
		// script that asked for JSON gets its error document all the same.
		a.json = askedJSON(args)
	}
	if a.json && !a.wroteJSON {
		a.writeJSONError(err)
	}
	printError(a.stderr, err)
	return exitCode(err)
}

// unknownCommand is the word of cobra's "unknown command "X" for "Y""
// error message, and whether msg is one.
func unknownCommand(msg string) (string, bool) {
	rest, ok := strings.CutPrefix(msg, "unknown command ")
	if !ok {
		return "", false
	}
	word, err := strconv.QuotedPrefix(rest)
	if err != nil {
		return "", false
	}
	w, err := strconv.Unquote(word)
	return w, err == nil
}

// misplacedFlag finds, when cobra stopped at root (cmd) with args, a flag
// root does not know written before a command, and returns it with args
// put right (the flag moved to the end); ok is false otherwise.
func misplacedFlag(root, cmd *cobra.Command, args []string) (flag string, fixed []string, ok bool) {
	if cmd != root {
		return "", nil, false
	}
	for i, arg := range args {
		if arg == "--" || !strings.HasPrefix(arg, "-") || arg == "-" {
			return "", nil, false
		}
		name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		var f *pflag.Flag
		if strings.HasPrefix(arg, "--") {
			f = root.Flags().Lookup(name)
		} else if len(name) == 1 {
			f = root.Flags().ShorthandLookup(name)
		}
		if f != nil {
			if f.NoOptDefVal == "" && !strings.Contains(arg, "=") {
				return misplacedAfter(root, args, i+2)
			}
			continue
		}
		// Unknown: is a command named after it?
		rest := args[i+1:]
		for j, w := range rest {
			if c, _, err := root.Find([]string{w}); err == nil && c != root {
				fixed = append(append(append([]string{}, args[:i]...), rest[j:]...), arg)
				return arg, fixed, true
			}
			if j > 0 {
				break
			}
		}
		return "", nil, false
	}
	return "", nil, false
}

// misplacedAfter goes on looking from args[from], past a known flag and
// its value.
func misplacedAfter(root *cobra.Command, args []string, from int) (string, []string, bool) {
	if from >= len(args) {
		return "", nil, false
	}
	flag, fixed, ok := misplacedFlag(root, root, args[from:])
	if !ok {
		return "", nil, false
	}
	return flag, append(append([]string{}, args[:from]...), fixed...), true
}

// askedJSON reports whether args turn --json on (flags end at "--").
func askedJSON(args []string) bool {
	on := false
	for _, arg := range args {
		if arg == "--" {
			break
		}
		if v, ok := strings.CutPrefix(arg, "--json"); ok && (v == "" || v[0] == '=') {
			b, err := strconv.ParseBool(strings.TrimPrefix(v, "="))
			on = v == "" || (err == nil && b)
		}
	}
	return on
}

// rootCommand builds the command tree of DESIGN.md's CLI contract.
func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "grace",
		Short: "Grace: the terminal operations console for the Layer 2 orchestration engine",
		Long: `Grace runs the Layer 2 orchestration engine and shows it live in the terminal.

With no command it opens the console (the same as "grace console"). "grace serve"
runs the engine headless with its HTTP API; the other commands script it.`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErrorf("%v%s (see \"%s --help\")", err, flagHint(c, err), c.CommandPath())
	})
	pf := root.PersistentFlags()
	pf.StringVar(&a.configFile, "config", "", "config file (default ./config.yaml when present)")
	pf.StringVar(&a.db, "db", "", "SQLite database path; its folder is the data folder (config key db)")
	pf.StringArrayVar(&a.sets, "set", nil, "override any config key, as key=value (repeatable)")

	console := a.consoleCommand()
	// The console is also the root's own action, with the same flags.
	root.RunE = console.RunE
	root.Flags().AddFlagSet(console.Flags())

	root.AddCommand(
		console,
		a.serveCommand(),
		a.intentCommand(),
		a.schedulerCommand(),
		a.narrativesCommand(),
		a.auditCommand(),
		a.backupCommand(),
		a.healthCommand(),
		a.alertsCommand(),
		a.configCommand(),
		a.benchCommand(),
		a.chaosCommand(),
		a.tokenCommand(),
		a.workerCommand(),
	)
	// cobra's "completion" command only groups the shells' commands: made
	// now rather than at Execute, so that "grace completion bsh" is a
	// usage error, as "grace intent bogus" is, not help text on standard
	// output and exit 0 for a "source <(...)" to run.
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.Args, c.RunE = cobra.ArbitraryArgs, groupRun
		}
	}
	a.markRuns(root)
	oneDefault(root)
	setExamples(root)           // examples.go
	a.registerCompletions(root) // completion.go
	return root
}

// flagHint is what a flag error on c adds: for an unknown --flag the
// nearest flag c has, if one is a slip of the keys away ("did you mean
// --state?"); for narratives search, where a QUERY word such as -denied
// reads as a flag, how to write it.
func flagHint(c *cobra.Command, err error) string {
	msg := err.Error()
	const queryHint = "; a QUERY that begins with - needs -- before it: grace narratives search -- -denied"
	search := c.Name() == "search" && c.HasParent() && c.Parent().Name() == "narratives"
	if search && strings.HasPrefix(msg, "unknown shorthand flag") {
		return queryHint
	}
	name, ok := strings.CutPrefix(msg, "unknown flag: --")
	if !ok {
		return ""
	}
	var names []string
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if !f.Hidden {
			names = append(names, f.Name)
		}
	})
	if near := nearName(name, names); near != "" {
		return "; did you mean --" + near + "?"
	}
	if search {
		return queryHint
	}
	return ""
}

// nearName is the name in names that s is a slip of the keys away from
// (an edit for every three letters, at least one), or "".
func nearName(s string, names []string) string {
	near := nearest(s, names)
	if near == "" || editDistance(s, near, 4) > max(1, len(s)/3) {
		return ""
	}
	return near
}

// groupRun is the action of a command that only groups others (intent,
// narratives, audit, chaos): without a known subcommand it is a usage error.
func groupRun(cmd *cobra.Command, args []string) error {
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	if len(args) > 0 {
		if near := nearName(args[0], names); near != "" {
			return usageErrorf("unknown command %q for %q: did you mean %s? (want one of: %s)", args[0], cmd.CommandPath(), near, strings.Join(names, ", "))
		}
		return usageErrorf("unknown command %q for %q (want one of: %s)", args[0], cmd.CommandPath(), strings.Join(names, ", "))
	}
	return usageErrorf("%q needs a command: one of %s", cmd.CommandPath(), strings.Join(names, ", "))
}

// oneDefault keeps the help of a flag that names its default itself
// ("who decides (default $USER)") from naming it twice: pflag adds the
// value it has now ("(default \"root\")") after the help of any flag
// with a default value.
func oneDefault(c *cobra.Command) {
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if strings.Contains(f.Usage, "(default ") {
			f.DefValue = ""
		}
	})
	for _, sub := range c.Commands() {
		oneDefault(sub)
	}
}

// markRuns wraps every command's RunE to note that cobra got that far:
// flags, arguments and required flags were all accepted, so an error from
// here on is not a usage error unless the command says so.
func (a *app) markRuns(c *cobra.Command) {
	if run := c.RunE; run != nil {
		c.RunE = func(cmd *cobra.Command, args []string) error {
			a.reachedRun = true
			return run(cmd, args)
		}
	}
	for _, sub := range c.Commands() {
		a.markRuns(sub)
	}
}

// config loads the configuration once per invocation (see loadConfig),
// after checking --server, which every command that has it reads only
// once the configuration is known.
func (a *app) config(cmd *cobra.Command) (engine.Config, error) {
	if a.cfg != nil {
		return *a.cfg, nil
	}
	if a.server != "" {
		if err := checkServerURL("--server", a.server); err != nil {
			return engine.Config{}, err
		}
	}
	cfg, err := loadConfig(configInput{
		File:  a.configFile,
		DB:    a.db,
		HasDB: cmd.Flags().Changed("db"),
		Sets:  a.sets,
		Warn:  func(w string) { fmt.Fprintf(a.stderr, "grace: warning: %s\n", w) },
	})
	if err != nil {
		return engine.Config{}, err
	}
	a.cfg = &cfg
	a.logFile = logPath(cfg)
	return cfg, nil
}

// addJSONFlag gives cmd the --json flag.
func (a *app) addJSONFlag(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&a.json, "json", false, "print one JSON document on stdout")
}

// dataDir is the data folder: the database's directory.
func dataDir(cfg engine.Config) string {
	return filepath.Dir(cfg.DB)
}

// logPath is log.file, relative to the data folder unless absolute.
func logPath(cfg engine.Config) string {
	if cfg.Log.File == "" {
		return ""
	}
	if filepath.IsAbs(cfg.Log.File) {
		return cfg.Log.File
	}
	return filepath.Join(dataDir(cfg), cfg.Log.File)
}

// logPanic appends a panic and its stack to the log file when there is one
// (in an existing folder) and says where it went.
func (a *app) logPanic(r any, stack []byte) string {
	if a.logFile == "" {
		return "no log file"
	}
	if _, err := os.Stat(filepath.Dir(a.logFile)); err != nil {
		return "no log file"
	}
	f, err := os.OpenFile(a.logFile, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return "could not write the log file"
	}
	defer f.Close()
	fmt.Fprintf(f, "%s PANIC %v\n%s\n", time.Now().Format(time.RFC3339Nano), r, stack)
	return "details in " + a.logFile
}
