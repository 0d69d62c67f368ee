package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"grace/engine/chaos"
)

// chaosListEntry is one scenario in chaos list --json.
type chaosListEntry struct {
	ID          string   `json:"id"`
	Category    string   `json:"category"`
	Description string   `json:"description"`
	Safeguards  []string `json:"safeguards"`
	Faults      []string `json:"faults"`
	Source      string   `json:"source"`
}

// chaosList is chaos list --json: the scenarios and the files refused.
type chaosList struct {
	Scenarios []chaosListEntry `json:"scenarios"`
	Refused   []string         `json:"refused"`
}

// loadChaosLibrary loads the embedded library and chaos.scenarios_dir and
// warns on stderr about every file refused (the others still load).
func (a *app) loadChaosLibrary(cmd *cobra.Command) (*chaos.Library, error) {
	cfg, err := a.config(cmd)
	if err != nil {
		return nil, err
	}
	lib, err := chaos.LoadLibrary(cfg.Chaos.ScenariosDir)
	if err != nil {
		return nil, err
	}
	for _, r := range lib.Refused {
		fmt.Fprintf(a.stderr, "grace: warning: %v (refused; the other scenarios load)\n", r)
	}
	return lib, nil
}

func (a *app) runChaosList(cmd *cobra.Command, _ []string) error {
	lib, err := a.loadChaosLibrary(cmd)
	if err != nil {
		return err
	}
	out := chaosList{Scenarios: []chaosListEntry{}, Refused: []string{}}
	for _, s := range lib.Scenarios {
		e := chaosListEntry{ID: s.ID, Category: s.Category, Description: s.Description, Safeguards: s.Safeguards.Expected, Source: s.Source}
		for _, f := range s.Faults {
			e.Faults = append(e.Faults, f.Kind)
		}
		out.Scenarios = append(out.Scenarios, e)
	}
	for _, r := range lib.Refused {
		out.Refused = append(out.Refused, r.Error())
	}
	if a.json {
		return a.writeJSON(out)
	}
	rows := [][]string{{"ID", "CATEGORY", "SAFEGUARDS", "FAULTS"}}
	for _, e := range out.Scenarios {
		rows = append(rows, []string{e.ID, e.Category, strings.Join(e.Safeguards, ","), strings.Join(e.Faults, ",")})
	}
	a.table(rows)
	return nil
}
