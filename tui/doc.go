// Package tui is Grace's operator console: a Bubble Tea program that shows
// the engine live, lets an operator decide what needs a human, and reads
// the 5W1H history.
//
// The console reaches the engine only through engine.OperatorAPI, so the
// same screens can attach to a local engine or a remote one.
//
// Structure (after gh-dash and soft-serve): a root model (model.go) owns
// the header, the status line, the key hints, the full help (helpview.go),
// the ":" command line (cmdline.go) and the approval popup (popup.go), and
// routes messages to one model per screen: the dashboard (dashboard*.go),
// approvals with its Tier 1 review section (approvals*.go), narratives
// (narratives*.go) and alerts (alerts.go: the firing alerts of the
// snapshot and those the console saw resolve). Components share a programContext with the sizes,
// styles, keys, clock and latest snapshot. Every engine call runs in a
// tea.Cmd (commands.go); its result is a message carrying the id of the
// component that asked (and, for searches, the number of the request), and
// is routed there. Styles live in styles.go, key bindings in keys.go: every
// binding but the Alerts screen's fixed 5 is an action of the console.keys
// config.
//
// Liveness: one tea.Tick per refresh interval takes a snapshot, and one
// re-armed command waits on the engine's event stream, so a Tier 0 arrival
// pops up at once on any screen. Narratives are fetched a page at a time as
// the cursor nears the end. No goroutine is started outside Bubble Tea's
// own command runner.
package tui
