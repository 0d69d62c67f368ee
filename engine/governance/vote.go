package governance

import (
	"fmt"
	"strings"
	"time"

	"grace/engine/intent"
)

// The Tier 3 voters of the unified logic hub, in ballot order.
const (
	// VoterHealth approves when Layer 2 is healthy.
	VoterHealth = "health"
	// VoterAlignment approves when mission alignment reaches
	// governance.vote.min_alignment.
	VoterAlignment = "alignment"
	// VoterImpactRate approves while fewer than
	// governance.vote.high_impact_limit high-impact actions were approved
	// within the window.
	VoterImpactRate = "impact_rate"
)

// vote holds the unified logic hub's Tier 3 vote: one ballot per voter,
// each with the reason it gives.
func (r *Router) vote(align float64, hub HubState) []intent.Vote {
	v := r.cfg.Vote
	health := intent.Vote{Voter: VoterHealth, Approve: hub.Healthy}
	switch {
	case hub.Healthy && hub.HealthReason != "":
		health.Reason = "Layer 2 is healthy: " + hub.HealthReason
	case hub.Healthy:
		health.Reason = "Layer 2 is healthy"
	case hub.HealthReason != "":
		health.Reason = "Layer 2 is unhealthy: " + hub.HealthReason
	default:
		health.Reason = "Layer 2 health is unknown or degraded"
	}

	alignment := intent.Vote{Voter: VoterAlignment, Approve: align >= v.MinAlignment}
	if alignment.Approve {
		alignment.Reason = fmt.Sprintf("mission alignment %s meets the %s minimum", percent(align), percent(v.MinAlignment))
	} else {
		alignment.Reason = fmt.Sprintf("mission alignment %s is below the %s minimum", percent(align), percent(v.MinAlignment))
	}

	rate := intent.Vote{Voter: VoterImpactRate, Approve: hub.HighImpactRecent < v.HighImpactLimit}
	window := shortDuration(v.HighImpactWindow)
	if rate.Approve {
		rate.Reason = fmt.Sprintf("%d high-impact actions in the last %s, under the limit of %d", hub.HighImpactRecent, window, v.HighImpactLimit)
	} else {
		rate.Reason = fmt.Sprintf("%d high-impact actions in the last %s, at or over the limit of %d", hub.HighImpactRecent, window, v.HighImpactLimit)
	}
	return []intent.Vote{health, alignment, rate}
}

// shortDuration prints whole hours and minutes without trailing zero units:
// "1h", "10m", "1h30m", "45s".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
