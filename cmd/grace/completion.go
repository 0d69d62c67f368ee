package main

import (
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"grace/engine"
	"grace/engine/chaos"
	"grace/engine/intent"
)

// Shell completion: cobra's "grace completion bash|zsh|fish|powershell"
// writes the script; the script asks "grace __complete ..." for the words.
// Beyond commands and flags, these complete what an operator would
// otherwise look up: the scenario IDs of chaos run (from the library the
// config names), intent types (the governance tiers), intent states,
// scenario categories, roles, and the config keys of --set. They read only
// the config and the scenario library, never a server or the database, so
// a completion is instant and changes nothing.

// registerCompletions adds the completions above to every command of the
// tree under root that has the argument or flag they complete.
func (a *app) registerCompletions(root *cobra.Command) {
	flagValues := map[string]cobra.CompletionFunc{
		"type":     a.completeTypes,
		"state":    fixedWords(intentStates()),
		"category": fixedWords(chaos.Categories),
		"role":     fixedWords([]string{engine.RoleAgent, engine.RoleOperator, engine.RoleViewer}),
	}
	_ = root.RegisterFlagCompletionFunc("set", completeSet)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for name, fn := range flagValues {
			if c.Flags().Lookup(name) != nil {
				_ = c.RegisterFlagCompletionFunc(name, fn)
			}
		}
		if c.CommandPath() == "grace chaos run" {
			c.ValidArgsFunction = a.completeScenarios
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// fixedWords completes from a fixed list.
func fixedWords(words []string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return words, cobra.ShellCompDirectiveNoFileComp
	}
}

func intentStates() []string {
	out := make([]string, len(intent.States))
	for i, s := range intent.States {
		out[i] = string(s)
	}
	return out
}

// quietConfig loads the config for a completion with its warnings
// silenced: the shell shows nothing of standard error, and a config that
// does not load completes nothing rather than failing.
func (a *app) quietConfig(cmd *cobra.Command) (engine.Config, bool) {
	saved := a.stderr
	a.stderr = io.Discard
	defer func() { a.stderr = saved }()
	cfg, err := a.config(cmd)
	return cfg, err == nil
}

// completeTypes offers the intent types of the governance tiers, each
// described by its tier.
func (a *app) completeTypes(cmd *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	cfg, ok := a.quietConfig(cmd)
	if !ok {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for tier, types := range cfg.Governance.Tiers {
		label := strings.ReplaceAll(strings.ToUpper(tier[:1])+tier[1:], "_", " ")
		for _, t := range types {
			out = append(out, cobra.CompletionWithDesc(t, label))
		}
	}
	sort.Strings(out)
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeScenarios offers the scenario IDs not already on the line, each
// described by its category and description; with a config that does not
// load, those of the built-in library.
func (a *app) completeScenarios(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	dir := "" // a config that does not load: the built-in library alone
	if cfg, ok := a.quietConfig(cmd); ok {
		dir = cfg.Chaos.ScenariosDir
	}
	lib, err := chaos.LoadLibrary(dir)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	given := map[string]bool{}
	for _, id := range args {
		given[id] = true
	}
	var out []cobra.Completion
	for _, s := range lib.Scenarios {
		if !given[s.ID] {
			out = append(out, cobra.CompletionWithDesc(s.ID, fmt.Sprintf("%s: %s", s.Category, headline(s.Description))))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// maxDescription bounds a completion's description, in characters: shells
// show it beside the word, on one line.
const maxDescription = 72

// headline is the first sentence of a description, cut to
// maxDescription characters.
func headline(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if i := strings.Index(s, ". "); i >= 0 {
		s = s[:i+1]
	}
	if r := []rune(s); len(r) > maxDescription {
		s = strings.TrimRight(string(r[:maxDescription-1]), " ,;:") + "…"
	}
	return s
}

// completeSet offers every config key followed by "=", so the value is
// typed straight after it.
func completeSet(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	defaults, _ := structToMap(reflect.ValueOf(engine.Default())).(map[string]any)
	var out []cobra.Completion
	var leaves func(m map[string]any, prefix string)
	leaves = func(m map[string]any, prefix string) {
		for k, v := range m {
			if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
				leaves(sub, prefix+k+".")
				continue
			}
			out = append(out, prefix+k+"=")
		}
	}
	leaves(defaults, "")
	sort.Strings(out)
	return out, cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
}
