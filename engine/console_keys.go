package engine

import (
	"slices"
	"strings"
)

// DefaultConsoleKeys returns the console's key bindings: each action the
// console answers to, with the keys (Bubble Tea key names such as "a",
// "G", "ctrl+r", "shift+tab", "enter", "esc", "pgdown") that trigger it.
// The console.keys config section overrides them action by action; an
// action it does not name keeps these keys.
func DefaultConsoleKeys() map[string][]string {
	return map[string][]string{
		// Screens and the console as a whole.
		"dashboard":   {"1"},
		"approvals":   {"2"},
		"chaos":       {"3"},
		"narratives":  {"4"},
		"alerts":      {"5"},
		"next_screen": {"tab"},
		"prev_screen": {"shift+tab"},
		"help":        {"?"},
		"command":     {":"},
		"filter":      {"/"},
		"back":        {"esc"},
		"quit":        {"q"},
		"force_quit":  {"ctrl+c"},
		// Approval popups off and on, on every screen (read-only too:
		// it only changes what is shown).
		"popups": {"p"},
		// Lists and detail views.
		"up":           {"k", "up"},
		"down":         {"j", "down"},
		"top":          {"g", "home"},
		"bottom":       {"G", "end"},
		"page_up":      {"pgup", "ctrl+u"},
		"page_down":    {"pgdown", "ctrl+d"},
		"open":         {"enter"},
		"refresh":      {"r", "ctrl+r"},
		"prev_section": {"h", "left"},
		"next_section": {"l", "right"},
		// Decisions (absent in a read-only console).
		"approve":     {"a"},
		"deny":        {"d"},
		"acknowledge": {"a"},
		"flag":        {"f"},
		"confirm":     {"y", "Y"},
		// Narratives. cancel_intent and retry_intent open ":cancel ID "
		// and ":retry ID " for the selected record's intent (absent in a
		// read-only console).
		"story":         {"s"},
		"verify":        {"v"},
		"cancel_intent": {"ctrl+k"},
		"retry_intent":  {"ctrl+t"},
		// Chaos (run and halt are absent in a read-only console). Halt
		// works on every screen; run and run_all on the Chaos screen,
		// where refresh is not bound, so run may share its key.
		"run":     {"r"},
		"run_all": {"R"},
		"halt":    {"H"},
		// Alerts: silence asks how long and why, and silences the
		// selected alert's key; on the list of silences it ends the
		// selected one, asking why (absent in a read-only console).
		"silence": {"s"},
	}
}

// checkConsoleKeys reports console.keys entries that name no action or
// list no usable key. Which keys clash is the console's to judge: it
// knows which actions share a screen.
func (p *problems) checkConsoleKeys(keys map[string][]string) {
	known := DefaultConsoleKeys()
	names := sortedKeys(known)
	for _, action := range sortedKeys(keys) {
		if _, ok := known[action]; !ok {
			p.add("console.keys.%s is not a console action (known: %s)", action, strings.Join(names, ", "))
			continue
		}
		list := keys[action]
		p.check(len(list) > 0, "console.keys.%s must list at least one key", action)
		p.check(!slices.ContainsFunc(list, func(k string) bool { return strings.TrimSpace(k) == "" }),
			"console.keys.%s (%q) must not list an empty key", action, list)
	}
}
