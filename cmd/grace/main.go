// Command grace is the Grace operations console: the console itself (the
// default command), the headless server, and a scriptable CLI over the same
// engine. See DESIGN.md's CLI contract.
package main

import (
	"os"
	"runtime/debug"
)

func main() {
	tuneGC(os.Getenv)
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// defaultGCPercent is the garbage collector's target when GOGC is not set.
// Grace's heap is small next to SQLite's page caches (outside the Go heap),
// so letting it grow to five times the live data before a collection costs
// little memory (peak RSS 255 MB → 272 MB in grace bench --only http) and
// buys about 9% more submissions a second on 2 cores.
const defaultGCPercent = 400

// tuneGC sets the collector's target to defaultGCPercent unless the
// GOGC environment variable (read through getenv) chooses one.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
}
