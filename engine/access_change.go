package engine

import (
	"context"
	"fmt"
	"strings"
)

// WhatAccessChanged is the record of a change to who may use the HTTP API
// (identities reloaded from the config).
const WhatAccessChanged = "access_changed"

// AccessChange is what a reload of the API's identities changed, by
// identity name.
type AccessChange struct {
	Added   []string // "name (role)"
	Removed []string // "name (role)"
	Changed []string // "name: role viewer → operator", "name: new token", "name: expires … → …"
	// Identities is how many identities may use the API now.
	Identities int
}

// Empty reports whether nothing changed.
func (c AccessChange) Empty() bool {
	return len(c.Added) == 0 && len(c.Removed) == 0 && len(c.Changed) == 0
}

// String says the change in one line.
func (c AccessChange) String() string {
	if c.Empty() {
		return fmt.Sprintf("no change (%d identities)", c.Identities)
	}
	var parts []string
	if len(c.Added) > 0 {
		parts = append(parts, "added "+strings.Join(c.Added, ", "))
	}
	if len(c.Removed) > 0 {
		parts = append(parts, "removed "+strings.Join(c.Removed, ", "))
	}
	if len(c.Changed) > 0 {
		parts = append(parts, "changed "+strings.Join(c.Changed, "; "))
	}
	return fmt.Sprintf("%s (%d identities)", strings.Join(parts, "; "), c.Identities)
}

// RecordAccessChange puts a change of who may use the API on the record
// (access_changed), by whom (e.g. "grace serve (SIGHUP)") and from what
// source (the config file). It returns once the record is durable. An
// empty change is recorded too: a reload that changed nothing is still an
// event an auditor may look for.
func (e *Engine) RecordAccessChange(ctx context.Context, c AccessChange, by, source string) error {
	why := []string{fmt.Sprintf("Identities reloaded from %s: %s", source, c.String())}
	for _, s := range c.Added {
		why = append(why, "Added: "+s)
	}
	for _, s := range c.Removed {
		why = append(why, "Removed: "+s+"; its token is refused from now on and its event streams ended")
	}
	for _, s := range c.Changed {
		why = append(why, "Changed: "+s)
	}
	r := rec(e.clock.Now(), by, WhatAccessChanged, "http_api", "reload_identities", "applied", "", why,
		map[string]any{"added": c.Added, "removed": c.Removed, "changed": c.Changed, "identities": c.Identities, "source": source})
	r.Risk = 0.4
	if err := e.journal.Record(context.WithoutCancel(ctx), r); err != nil {
		return fmt.Errorf("record the access change: %w", err)
	}
	e.recent.add(r)
	return nil
}
