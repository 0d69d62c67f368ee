// Command grace is the Grace operations console: the console itself (the
// default command), the headless server, and a scriptable CLI over the same
// engine. See DESIGN.md's CLI contract.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
