package main

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"grace/engine"
	"grace/engine/chaos"
	"grace/engine/httpapi"
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

// chaosList is chaos list --json: the scenarios and the files refused;
// Server names the grace serve whose library it is (absent: this
// machine's).
type chaosList struct {
	Server    string           `json:"server,omitempty"`
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
	out := chaosList{Scenarios: []chaosListEntry{}, Refused: []string{}}
	remote, url, err := a.serverScenarios(cmd)
	if err != nil {
		return err
	}
	if remote != nil {
		// What chaos run would run: the server's library, its own
		// chaos.scenarios_dir included (the files it refused are in its log).
		a.notef("the scenarios of the grace serve at %s", url)
		out.Server = url
		for _, s := range remote {
			out.Scenarios = append(out.Scenarios, chaosListEntry{ID: s.ID, Category: s.Category, Description: s.Description,
				Safeguards: s.Safeguards, Faults: s.Faults, Source: s.Source})
		}
		return a.printChaosList(out)
	}
	lib, err := a.loadChaosLibrary(cmd)
	if err != nil {
		return err
	}
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
	return a.printChaosList(out)
}

// printChaosList prints out as a table, or as JSON with --json.
func (a *app) printChaosList(out chaosList) error {
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

// serverScenarios is the library of the grace serve at --server (else
// api.server) when one with a chaos service answers, as chaos run would
// use it; nil when none is configured, none answers or it has no chaos.
func (a *app) serverScenarios(cmd *cobra.Command) ([]engine.ChaosScenario, string, error) {
	cfg, err := a.config(cmd)
	if err != nil {
		return nil, "", err
	}
	url := a.serverURL(cfg)
	if url == "" {
		return nil, "", nil
	}
	tok, err := clientToken(cfg)
	if err != nil {
		return nil, url, err
	}
	list, err := httpapi.NewClient(url, tok, &http.Client{Timeout: clientTimeout}).ChaosScenarios(cmd.Context())
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, engine.ErrChaosUnavailable):
		return nil, url, nil
	case err != nil:
		if refused := a.tokenRefused(url, err); refused != nil {
			return nil, url, refused
		}
		return nil, url, fmt.Errorf("chaos list at %s: %w", url, err)
	}
	if list == nil {
		list = []engine.ChaosScenario{}
	}
	return list, url, nil
}
