package mesh

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"grace/engine/clarity"
)

// actorMesh is the Who of the mesh's records and the Source of its events.
const actorMesh = "trigger_mesh"

// WhatSheddingEpisode names the record of one shedding episode.
const WhatSheddingEpisode = "mesh_shedding_episode"

// episodeRecord narrates one shedding episode with its counts.
func episodeRecord(r episodeReport) clarity.Record {
	ended := map[string]string{
		reasonQuiet:        fmt.Sprintf("Episode closed after a quiet period without drops, %s after it began", roundDur(r.End.Sub(r.Start))),
		reasonLong:         fmt.Sprintf("Still shedding after %s: narrated in parts, a new episode continues", roundDur(r.End.Sub(r.Start))),
		reasonShutdown:     "Episode closed because the mesh stopped",
		reasonUnsubscribed: "Episode closed because the subscription was closed; events still queued were dropped",
	}[r.Reason]
	why := []string{
		fmt.Sprintf("Subscription %s (%s) had its buffer of %d events full: dropped %d of %d events offered (%s)",
			r.Subscription, r.Pattern, r.Capacity, r.Dropped, r.Offered, percent(r.Dropped, r.Offered)),
		"Backpressure " + string(r.Policy) + ": " + r.Policy.describe(),
		"Dropped by topic: " + topicCounts(r.Topics),
		fmt.Sprintf("Delivered %d during the episode, %d still queued; since it subscribed: offered %d = delivered %d + dropped %d + queued %d",
			r.Delivered, r.Queued, r.TotalOffered, r.TotalDelivered, r.TotalDropped, r.Queued),
		ended,
	}
	risk := 0.3
	if r.Offered > 0 && float64(r.Dropped)/float64(r.Offered) >= 0.5 {
		risk = 0.6
	}
	topics := make(map[string]any, len(r.Topics))
	for t, n := range r.Topics {
		topics[t] = n
	}
	return clarity.Record{
		Who: actorMesh, What: WhatSheddingEpisode, When: r.End, Where: "subscription:" + r.Subscription,
		Why: why, How: "backpressure_" + string(r.Policy), Result: "shed",
		Context: map[string]any{
			"subscription": r.Subscription, "pattern": r.Pattern, "policy": string(r.Policy), "buffer": r.Capacity,
			"dropped": r.Dropped, "offered": r.Offered, "delivered": r.Delivered, "queued": r.Queued,
			"started": r.Start.UTC().Format(time.RFC3339Nano), "ended": r.End.UTC().Format(time.RFC3339Nano),
			"reason": r.Reason, "dropped_by_topic": topics,
			"total_offered": r.TotalOffered, "total_delivered": r.TotalDelivered, "total_dropped": r.TotalDropped,
		},
		Confidence: 1, Risk: risk, Transparency: clarity.TransparencyComplete,
	}
}

func percent(n, of uint64) string {
	if of == 0 {
		return "0%"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(of))
}

func topicCounts(m map[string]uint64) string {
	names := make([]string, 0, len(m))
	for t := range m {
		names = append(names, t)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, t := range names {
		parts[i] = fmt.Sprintf("%s %d", t, m[t])
	}
	return strings.Join(parts, ", ")
}

// roundDur shortens a duration for prose.
func roundDur(d time.Duration) string {
	if d >= time.Second {
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(time.Microsecond).String()
}
