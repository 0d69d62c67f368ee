package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"grace/engine"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // the command ran and failed
	exitUsage   = 2 // the command line was wrong; nothing was done
)

// usageError is a mistake in the command line (exit 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

// exitError carries an exit code other than exitFailure.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// exitCode picks the process exit code for err.
func exitCode(err error) int {
	var ue *usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitFailure
}

// errorLines turns err into the lines printed after "grace: ": one per
// problem for a rejected intent or a broken config, otherwise one line.
func errorLines(err error) []string {
	var ve *engine.ValidationError
	if errors.As(err, &ve) && len(ve.Problems) > 0 {
		lines := make([]string, len(ve.Problems))
		for i, p := range ve.Problems {
			lines[i] = fmt.Sprintf("invalid intent: %s: %s", p.Field, p.Reason)
		}
		return lines
	}
	var ce *configError
	if errors.As(err, &ce) {
		return ce.lines
	}
	return []string{strings.Join(strings.Fields(err.Error()), " ")}
}

// printError writes err to w as "grace: ..." lines.
func printError(w io.Writer, err error) {
	for _, line := range errorLines(err) {
		// An error may quote what someone else wrote (a reason, a name).
		fmt.Fprintf(w, "grace: %s\n", terminalSafe(line))
	}
}

// oneArg is cobra.ExactArgs(1) saying what the argument is: "grace intent
// get needs an intent ID (grace intent list shows them)" rather than
// "accepts 1 arg(s), received 0". what names the argument; hint, when not
// empty, says where to find one.
func oneArg(what, hint string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == 1 {
			return nil
		}
		see := fmt.Sprintf("see \"%s --help\"", cmd.CommandPath())
		if hint != "" {
			see = hint + "; " + see
		}
		if len(args) == 0 {
			return usageErrorf("%s needs %s (%s)", cmd.CommandPath(), what, see)
		}
		return usageErrorf("%s takes one argument, %s; got %d: %s (%s)", cmd.CommandPath(), what, len(args), quoteClip(strings.Join(args, " "), 80), see)
	}
}
