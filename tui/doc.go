// Package tui is Grace's operator console: a Bubble Tea program that shows
// the engine live and lets an operator decide what needs a human.
//
// The console reaches the engine only through engine.OperatorAPI, so the
// same screens can attach to a local engine or, later, a remote one.
//
// Structure (after gh-dash and soft-serve): a root model owns the header,
// the status line, the key hints and the approval popup, and routes messages
// to one model per screen (dashboard.go, approvals.go). Components share a
// programContext with the sizes, styles, keys, clock and latest snapshot.
// Every engine call runs in a tea.Cmd (commands.go); its result is a
// message carrying the id of the component that asked, and is routed there.
// Styles live in styles.go, key bindings in keys.go.
//
// Liveness: one tea.Tick per refresh interval takes a snapshot, and one
// re-armed command waits on the engine's event stream, so a Tier 0 arrival
// pops up at once on any screen. No goroutine is started outside Bubble
// Tea's own command runner.
package tui
