package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

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
