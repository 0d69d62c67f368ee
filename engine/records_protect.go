package engine

// The records of the HTM's protections: rate-limit episodes and load
// shedding decisions.

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"grace/engine/clarity"
	"grace/engine/htm"
	"grace/engine/intent"
)

// The record names (What) of the HTM's protections. WhatShedLoad is the
// seed's action name for load shedding.
const (
	WhatRateLimited = "intake_rate_limited"
	WhatShedLoad    = "shed_load"
	WhatSheddingOff = "shed_load_skipped"
)

// maxListed bounds the actors or intent IDs a protection record lists.
const maxListed = 100

func rateLimitedRecord(ep rateEpisode, cfg RateLimitConfig) clarity.Record {
	actors := make([]string, 0, len(ep.byActor))
	var byActor uint64
	for a, n := range ep.byActor {
		actors = append(actors, a)
		byActor += n
	}
	sort.Slice(actors, func(i, j int) bool {
		if ep.byActor[actors[i]] != ep.byActor[actors[j]] {
			return ep.byActor[actors[i]] > ep.byActor[actors[j]]
		}
		return actors[i] < actors[j]
	})
	total := byActor + ep.global
	why := []string{fmt.Sprintf("Refused %d submissions between %s and %s (%s)", total,
		ep.first.UTC().Format(time.RFC3339), ep.last.UTC().Format(time.RFC3339), roundDur(ep.last.Sub(ep.first)))}
	top := map[string]uint64{}
	if byActor > 0 {
		parts := make([]string, 0, 5)
		for i, a := range actors {
			if i < maxListed {
				top[a] = ep.byActor[a]
			}
			if i < 5 {
				parts = append(parts, fmt.Sprintf("%s %d", a, ep.byActor[a]))
			}
		}
		if len(actors) > 5 {
			parts = append(parts, fmt.Sprintf("and %d more actors", len(actors)-5))
		}
		why = append(why, fmt.Sprintf("Per-actor limit %g/s (burst %d) refused %d: %s", cfg.ActorRate, cfg.ActorBurst, byActor, strings.Join(parts, ", ")))
	}
	if ep.global > 0 {
		why = append(why, fmt.Sprintf("Global limit %g/s (burst %d) refused %d; Tier 4 emergencies skip it", cfg.GlobalRate, cfg.GlobalBurst, ep.global))
	}
	why = append(why, "Each refused submitter was told to retry later (rate limited, with a retry hint); nothing of theirs was stored")
	r := rec(ep.last, actorHTM, WhatRateLimited, whereIntake, "token_bucket_rate_limit", "rate_limited", "", why, map[string]any{
		"refused": total, "refused_by_actor_limit": byActor, "refused_by_global_limit": ep.global, "actors": len(actors),
		"top_actors": top, "first": ep.first.UTC().Format(time.RFC3339Nano), "last": ep.last.UTC().Format(time.RFC3339Nano),
		"actor_rate": cfg.ActorRate, "actor_burst": cfg.ActorBurst, "global_rate": cfg.GlobalRate, "global_burst": cfg.GlobalBurst,
	})
	r.Confidence, r.Risk = 1, 0.3
	return r
}

// shedRecord is the seed's log_load_shedding: shedder, shed count, total
// load, criteria, reasons.
func shedRecord(now time.Time, victims []intent.Intent, ids []string, d htm.Depth, criteria string, maxBatch int) clarity.Record {
	byPrio := map[int]int{}
	for _, in := range victims {
		byPrio[in.Priority]++
	}
	prios := make([]string, 0, len(byPrio))
	for p := range 10 {
		if n := byPrio[p]; n > 0 {
			prios = append(prios, fmt.Sprintf("%d at priority %d", n, p))
		}
	}
	retained := d.Len - len(victims)
	why := []string{
		fmt.Sprintf("Queue depth exceeded critical threshold (%d/%d)", d.Len, d.Critical),
		fmt.Sprintf("Shed %d low-priority tasks to protect SLA (%s), lowest priority and oldest first", len(victims), strings.Join(prios, ", ")),
		fmt.Sprintf("Retained all high-priority and recent tasks: %d queued intents did not match %q; Tier 4 and operator-approved intents are never shed", retained, criteria),
		"Each shed intent ends in state shed, with this decision as its reason",
	}
	if len(victims) == maxBatch {
		why = append(why, fmt.Sprintf("This decision reached htm.shedding.max_batch (%d); the next check may shed more", maxBatch))
	}
	listed := ids
	if len(listed) > maxListed {
		listed = listed[:maxListed]
	}
	r := rec(now, actorHTM, WhatShedLoad, whereQueue, "criteria_based_load_shedding", "shed", "", why, map[string]any{
		"shedder": actorHTM, "shed_count": len(victims), "total_load": d.Len, "shed_criteria": criteria,
		"retained": retained, "queue_critical": d.Critical, "intent_ids": listed, "intent_ids_truncated": len(ids) > len(listed),
	})
	r.Confidence, r.Risk = 0.9, 0.5
	return r
}

func sheddingOffRecord(now time.Time, d htm.Depth, criteria string) clarity.Record {
	r := rec(now, actorHTM, WhatSheddingOff, whereQueue, "criteria_based_load_shedding", "not_shed", "",
		[]string{
			fmt.Sprintf("Queue depth exceeded critical threshold (%d/%d)", d.Len, d.Critical),
			fmt.Sprintf("htm_load_shedding is off (safeguards.htm_load_shedding.enabled=false): nothing matching %q is shed; the queue stays critical and new work is refused at capacity %d", criteria, d.Capacity),
		},
		map[string]any{"total_load": d.Len, "queue_critical": d.Critical, "shed_criteria": criteria, "capacity": d.Capacity})
	r.Confidence, r.Risk = 1, 0.8
	return r
}
