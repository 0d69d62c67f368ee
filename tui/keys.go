package tui

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"grace/engine"
)

// keyMap holds every key binding of the console, with its help text. The
// screens pick the bindings they answer to; the help is built from the same
// values, so what is shown is what works. Every binding but Submit and
// Cancel is an action of the console.keys config (see actions).
type keyMap struct {
	// Screens and the console as a whole.
	Dashboard  key.Binding
	Approvals  key.Binding
	Chaos      key.Binding
	Narratives key.Binding
	Alerts     key.Binding
	Next       key.Binding
	Prev       key.Binding
	Help       key.Binding
	Command    key.Binding
	Filter     key.Binding
	Back       key.Binding
	Quit       key.Binding
	ForceQuit  key.Binding
	// Popups turns approval popups off and on. It is global and stays in
	// a read-only console: it only changes what is shown.
	Popups key.Binding

	// Lists and detail views.
	Up          key.Binding
	Down        key.Binding
	Top         key.Binding
	Bottom      key.Binding
	PageUp      key.Binding
	PageDown    key.Binding
	Open        key.Binding
	Refresh     key.Binding
	PrevSection key.Binding
	NextSection key.Binding

	// Decisions. Disabled (and so absent from help) in read-only mode.
	Approve     key.Binding
	Deny        key.Binding
	Acknowledge key.Binding
	Flag        key.Binding
	ConfirmYes  key.Binding

	// Narratives. CancelIntent and RetryIntent open the command line on
	// ":cancel ID " and ":retry ID " for the selected record's intent;
	// disabled in read-only mode.
	Story        key.Binding
	Verify       key.Binding
	CancelIntent key.Binding
	RetryIntent  key.Binding

	// Chaos. Disabled (and so absent from help) in read-only mode. Halt
	// is global: it works on every screen.
	RunChaos    key.Binding
	RunAllChaos key.Binding
	HaltChaos   key.Binding

	// Alerts. Silence silences the selected alert's key (asking how long
	// and why); on the list of silences it ends the selected one (asking
	// why). Disabled in read-only mode.
	Silence key.Binding

	// Prompts: fixed, like the editing keys of a text field.
	Submit key.Binding
	Cancel key.Binding
}

// action is one remappable binding: its name in console.keys, its help
// text and where it lives in the keyMap.
type action struct {
	name string
	help string
	b    func(*keyMap) *key.Binding
}

// actions lists every console.keys action. Its names are exactly those of
// engine.DefaultConsoleKeys (a test holds them together).
var actions = []action{
	{"dashboard", "dashboard", func(k *keyMap) *key.Binding { return &k.Dashboard }},
	{"approvals", "approvals", func(k *keyMap) *key.Binding { return &k.Approvals }},
	{"chaos", "chaos", func(k *keyMap) *key.Binding { return &k.Chaos }},
	{"narratives", "narratives", func(k *keyMap) *key.Binding { return &k.Narratives }},
	{"alerts", "alerts", func(k *keyMap) *key.Binding { return &k.Alerts }},
	{"next_screen", "next screen", func(k *keyMap) *key.Binding { return &k.Next }},
	{"prev_screen", "previous screen", func(k *keyMap) *key.Binding { return &k.Prev }},
	{"help", "help", func(k *keyMap) *key.Binding { return &k.Help }},
	{"command", "command", func(k *keyMap) *key.Binding { return &k.Command }},
	{"filter", "filter", func(k *keyMap) *key.Binding { return &k.Filter }},
	{"back", "back", func(k *keyMap) *key.Binding { return &k.Back }},
	{"quit", "quit", func(k *keyMap) *key.Binding { return &k.Quit }},
	{"force_quit", "quit now", func(k *keyMap) *key.Binding { return &k.ForceQuit }},
	{"popups", "popups on/off", func(k *keyMap) *key.Binding { return &k.Popups }},
	{"up", "up", func(k *keyMap) *key.Binding { return &k.Up }},
	{"down", "down", func(k *keyMap) *key.Binding { return &k.Down }},
	{"top", "top", func(k *keyMap) *key.Binding { return &k.Top }},
	{"bottom", "bottom", func(k *keyMap) *key.Binding { return &k.Bottom }},
	{"page_up", "page up", func(k *keyMap) *key.Binding { return &k.PageUp }},
	{"page_down", "page down", func(k *keyMap) *key.Binding { return &k.PageDown }},
	{"open", "detail", func(k *keyMap) *key.Binding { return &k.Open }},
	{"refresh", "refresh", func(k *keyMap) *key.Binding { return &k.Refresh }},
	{"prev_section", "previous section", func(k *keyMap) *key.Binding { return &k.PrevSection }},
	{"next_section", "next section", func(k *keyMap) *key.Binding { return &k.NextSection }},
	{"approve", "approve", func(k *keyMap) *key.Binding { return &k.Approve }},
	{"deny", "deny", func(k *keyMap) *key.Binding { return &k.Deny }},
	{"acknowledge", "acknowledge", func(k *keyMap) *key.Binding { return &k.Acknowledge }},
	{"flag", "flag", func(k *keyMap) *key.Binding { return &k.Flag }},
	{"confirm", "confirm", func(k *keyMap) *key.Binding { return &k.ConfirmYes }},
	{"story", "story", func(k *keyMap) *key.Binding { return &k.Story }},
	{"verify", "verify audit", func(k *keyMap) *key.Binding { return &k.Verify }},
	{"cancel_intent", "cancel its intent", func(k *keyMap) *key.Binding { return &k.CancelIntent }},
	{"retry_intent", "retry its intent", func(k *keyMap) *key.Binding { return &k.RetryIntent }},
	{"run", "run scenario", func(k *keyMap) *key.Binding { return &k.RunChaos }},
	{"run_all", "run all scenarios", func(k *keyMap) *key.Binding { return &k.RunAllChaos }},
	{"halt", "halt chaos", func(k *keyMap) *key.Binding { return &k.HaltChaos }},
	{"silence", "silence", func(k *keyMap) *key.Binding { return &k.Silence }},
}

// keyGroups are the sets of actions that can be live on one screen at
// once; two actions of one group may not share a key. The decision keys
// of the two Approvals sections (and of the popup) are in separate groups,
// so approve and acknowledge may both be a.
var keyGroups = [][]string{
	append(globalActions(), "up", "down", "top", "bottom", "page_up", "page_down", "open", "refresh",
		"prev_section", "next_section", "approve", "deny", "story"),
	append(globalActions(), "up", "down", "top", "bottom", "page_up", "page_down", "open", "refresh",
		"prev_section", "next_section", "acknowledge", "flag", "story"),
	append(globalActions(), "up", "down", "top", "bottom", "page_up", "page_down", "open", "refresh",
		"story", "verify", "cancel_intent", "retry_intent"),
	append(globalActions(), "approve", "deny"),
	// The Chaos screen: refresh is not bound there, so run may be r.
	append(globalActions(), "up", "down", "top", "bottom", "page_up", "page_down", "open",
		"prev_section", "next_section", "run", "run_all"),
	// The Alerts screen: its alerts and, with h/l, the silences.
	append(globalActions(), "up", "down", "top", "bottom", "page_up", "page_down", "refresh",
		"prev_section", "next_section", "silence"),
}

// globalActions are the actions that work on every screen.
func globalActions() []string {
	return []string{"dashboard", "approvals", "chaos", "narratives", "alerts", "next_screen", "prev_screen",
		"help", "command", "filter", "back", "quit", "force_quit", "halt", "popups"}
}

// newKeyMap returns the bindings: engine.DefaultConsoleKeys with overrides
// (console.keys) laid over them action by action. With readOnly the
// decision and chaos run/halt bindings are disabled: they match nothing and help leaves them
// out (silence too). It fails on an unknown action, an empty key list, or two actions
// that would share a key on one screen.
func newKeyMap(readOnly bool, overrides map[string][]string) (*keyMap, error) {
	keys := engine.DefaultConsoleKeys()
	var problems []string
	for _, name := range sortedNames(overrides) {
		list := overrides[name]
		if _, ok := keys[name]; !ok {
			problems = append(problems, fmt.Sprintf("console.keys.%s is not a console action", name))
			continue
		}
		if len(list) == 0 || slices.Contains(list, "") {
			problems = append(problems, fmt.Sprintf("console.keys.%s must list keys, none of them empty", name))
			continue
		}
		keys[name] = list
	}
	k := &keyMap{
		Submit: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "submit")),
		Cancel: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
	}
	for _, a := range actions {
		list := keys[a.name]
		*a.b(k) = key.NewBinding(key.WithKeys(list...), key.WithHelp(keyLabel(list), a.help))
	}
	for _, group := range keyGroups {
		owner := map[string]string{}
		for _, name := range group {
			for _, ks := range keys[name] {
				if other, ok := owner[ks]; ok && other != name {
					problems = append(problems, fmt.Sprintf("console.keys: %q is bound to both %s and %s", ks, other, name))
				}
				owner[ks] = name
			}
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return nil, fmt.Errorf("console key bindings: %s", strings.Join(slices.Compact(problems), "; "))
	}
	if readOnly {
		for _, b := range []*key.Binding{&k.Approve, &k.Deny, &k.Acknowledge, &k.Flag, &k.RunChaos, &k.RunAllChaos, &k.HaltChaos, &k.CancelIntent, &k.RetryIntent, &k.Silence} {
			b.SetEnabled(false)
		}
	}
	return k, nil
}

// keyLabel is how help shows a binding's keys: the first two, arrows as
// glyphs.
func keyLabel(keys []string) string {
	glyphs := map[string]string{"up": "↑", "down": "↓", "left": "←", "right": "→"}
	var out []string
	for _, k := range keys {
		if g, ok := glyphs[k]; ok {
			k = g
		}
		out = append(out, k)
		if len(out) == 2 {
			break
		}
	}
	return strings.Join(out, "/")
}

// firstKey is the key a tab label or a hint names for b.
func firstKey(b key.Binding) string {
	if ks := b.Keys(); len(ks) > 0 {
		return keyLabel(ks[:1])
	}
	return ""
}

// sortedNames returns m's keys in order.
func sortedNames(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// pressed reports whether msg is one of b's keys, enabled or not. The
// console uses it to explain a disabled action ("read-only") instead of
// silently ignoring the key.
func pressed(msg tea.KeyMsg, b key.Binding) bool {
	return slices.Contains(b.Keys(), msg.String())
}

// helpOnly is a binding shown in help under label and desc that answers
// the keys of b.
func helpOnly(b key.Binding, label, desc string) key.Binding {
	nb := key.NewBinding(key.WithKeys(b.Keys()...), key.WithHelp(label, desc))
	nb.SetEnabled(b.Enabled())
	return nb
}
