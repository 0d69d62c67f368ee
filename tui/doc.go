// Package tui is Grace's operator console: a Bubble Tea program that shows
// the engine live, lets an operator decide what needs a human, and reads
// the 5W1H history.
//
// The console reaches the engine only through engine.OperatorAPI, so the
// same screens can attach to a local engine or a remote one. It looks for
// the optional parts with type assertions on that value: engine.ChaosAPI
// for the Chaos screen, the dashboard's chaos line and the global halt
// (without it the screen explains that chaos is not available), and
// engine.HealthAPI for the alert history; a remote engine that says where
// it answers (BaseURL, as httpapi.Remote does) is named in the header.
//
// Structure (after gh-dash and soft-serve): a root model (model.go) owns
// the header, the status line and its history (statuslog.go: ":messages"
// shows every message whole), the key hints, the full help (helpview.go),
// the ":" command line (cmdline.go) and the approval popup (popup.go, with
// the payload laid out by popup_payload.go), and routes messages to one
// model per screen: the dashboard (dashboard*.go), approvals with its
// Tier 1 review section (approvals*.go), chaos
// (chaos*.go: scenarios, runs, findings and knowledge, with run and its
// y/N; halt.go is the global halt), narratives (narratives*.go) and
// alerts (alerts.go: the firing alerts of the snapshot and the resolved
// ones, from the watchdog's history when the engine offers it; a firing
// alert a silence mutes is marked, and alerts_silences.go lists the
// silences). Silences are made and ended through engine.AlertSilencer
// (silences.go: the silence key, ":silence", ":silences", ":unsilence",
// their prompt on the status line); without it, or from a server older
// than silences, the console says it cannot. Components
// share a programContext with the sizes, styles, keys, clock, latest
// snapshot and the chaos service's state. Every engine call runs in a
// tea.Cmd (commands.go); its result is a message carrying the id of the
// component that asked (and, for searches, the number of the request), and
// is routed there. Styles live in styles.go, key bindings in keys.go: every
// binding but the Alerts screen's fixed 5 is an action of the console.keys
// config.
//
// Agents write much of what the console shows (an intent's type, actor,
// payload, context and reasons, the records of it, a handler's error), so
// none of it reaches the terminal as sent (untrusted.go): Update passes
// every message carrying the engine's answer through its untrusted
// method before any screen keeps it, and every character that is not
// printable (an escape sequence that would move the cursor, set the
// title, make a link or write the clipboard, a carriage return, a
// backspace, a direction override) is written as an escape, \u001b or
// \u202e, the rest as it is (accents, CJK, emoji). Layout and styles work
// on that text; View's last pass lets no escape sequence but the
// console's own colours through, whatever the way in.
//
// Liveness: one tea.Tick per refresh interval takes a snapshot (and, no
// more often than every few seconds, the chaos status and the alert
// history), and one re-armed command waits on the engine's event stream,
// so a Tier 0 arrival pops up at once on any screen and a chaos run's
// progress shows as it goes. View keeps the last frame while nothing it
// shows has changed, so a flood of events about intents the console does
// not show costs no drawing. Narratives are fetched a page at a time as
// the cursor nears the end. No goroutine is started outside Bubble Tea's
// own command runner.
package tui
