package main

import (
	"maps"
	"slices"
	"strings"

	"grace/engine"
)

// nearCharterType is the type of the charter (cfg's governance.tiers)
// that typ differs from only in case or separators ("Schedule-Task" for
// schedule_task), or "" when typ is a charter type itself or near none:
// types are matched exactly, so such a slip selects or pauses nothing.
func nearCharterType(cfg engine.Config, typ string) string {
	fold := func(s string) string {
		return strings.NewReplacer("-", "_", ".", "_", " ", "_").Replace(strings.ToLower(strings.TrimSpace(s)))
	}
	near := ""
	for _, tier := range slices.Sorted(maps.Keys(cfg.Governance.Tiers)) {
		for _, known := range cfg.Governance.Tiers[tier] {
			if known == typ {
				return ""
			}
			if near == "" && fold(known) == fold(typ) {
				near = known
			}
		}
	}
	return near
}
