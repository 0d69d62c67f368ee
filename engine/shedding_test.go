package engine

import (
	"errors"
	"strings"
	"testing"
	"time"

	"grace/engine/intent"
)

// shedSetup is an engine whose queue holds work (the scheduler paused, no
// auto-resume) with capacity 60, warn 10 and critical 50.
func shedSetup(t *testing.T, edit ...func(*Config)) *testBundle {
	t.Helper()
	b := setup(t, append([]func(*Config){func(c *Config) {
		c.HTM.Capacity, c.HTM.WarnDepth, c.HTM.CriticalDepth = 60, 10, 50
		c.Scheduler.AutoResumeAfter = 24 * time.Hour
		c.Hub.Scaling.Enabled = false
	}}, edit...)...)
	b.start(t)
	if err := b.e.PauseScheduler(t.Context(), "alice", "let the queue fill"); err != nil {
		t.Fatal(err)
	}
	return b
}

// fill submits n intents at priority p and returns their IDs.
func (b *testBundle) fill(t *testing.T, n, p int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = b.submit(t, intent.Submission{Type: "query_knowledge", Priority: p}).ID
	}
	return ids
}

func TestLoadSheddingDropsStaleLowPriorityWorkPastCritical(t *testing.T) {
	t.Parallel()
	b := shedSetup(t)
	stale := b.fill(t, 30, 2)
	emergency := b.submit(t, intent.Submission{Type: "emergency_recovery", Priority: 0}).ID
	b.clock.Advance(11 * time.Minute) // these intents are now old
	fresh := b.fill(t, 5, 2)
	high := b.fill(t, 14, 8) // depth 50: critical, the submission asks for a check

	var shed []intent.Intent
	for _, id := range stale {
		shed = append(shed, b.waitState(t, id, intent.StateShed))
	}
	rec := b.waitRecord(t, WhatShedLoad, nil)
	if rec.Who != actorHTM || rec.How != "criteria_based_load_shedding" || rec.Context["shed_count"] != 30 ||
		rec.Context["total_load"] != 50 || rec.Context["shed_criteria"] != "priority<5 and age>10m0s" || rec.Context["shedder"] != actorHTM {
		t.Fatalf("shed record = %+v", rec)
	}
	why := strings.Join(rec.Why, " | ")
	for _, want := range []string{"Queue depth exceeded critical threshold (50/50)", "Shed 30 low-priority tasks", "Retained all high-priority and recent tasks: 20"} {
		if !strings.Contains(why, want) {
			t.Fatalf("shed reasons %q lack %q", why, want)
		}
	}
	b.store.Flush()
	for _, in := range shed {
		got := b.stored(t, in.ID)
		if got.State != intent.StateShed || got.DecidedBy != actorHTM || !strings.Contains(got.DecisionReason, "load shedding") {
			t.Fatalf("shed intent as stored: %+v", got)
		}
	}
	for _, id := range append(append(fresh, high...), emergency) {
		if got := b.stored(t, id); got.State != intent.StateQueued {
			t.Fatalf("%s is %s: fresh, high-priority and Tier 4 work must stay", id, got.State)
		}
	}
	s := b.e.Snapshot()
	if s.QueueDepth != 20 || s.Layer2.Shed != 30 || s.ByState[intent.StateShed] != 30 {
		t.Fatalf("snapshot: depth %d, shed %d, by state %v", s.QueueDepth, s.Layer2.Shed, s.ByState)
	}
	// Room again for new high-priority work.
	b.fill(t, 30, 9)
	checkRecords(t, b.store.Records())
}

func TestWithoutLoadSheddingTheQueueStaysCriticalAndRefusesWork(t *testing.T) {
	t.Parallel()
	b := shedSetup(t, func(c *Config) { c.Safeguards[SafeguardLoadShedding] = SafeguardConfig{Enabled: false} })
	stale := b.fill(t, 30, 2)
	b.clock.Advance(11 * time.Minute)
	b.fill(t, 20, 8)
	skipped := b.waitRecord(t, WhatSheddingOff, nil)
	if !strings.Contains(strings.Join(skipped.Why, " "), "htm_load_shedding is off") {
		t.Fatalf("record = %+v", skipped)
	}
	b.protectTick(t)
	b.protectTick(t)
	if n := b.store.Count(WhatSheddingOff); n != 1 {
		t.Fatalf("%d shed_load_skipped records, want one per critical episode", n)
	}
	if got := b.stored(t, stale[0]); got.State != intent.StateQueued {
		t.Fatalf("stale intent is %s with shedding off", got.State)
	}
	b.fill(t, 10, 9) // capacity 60 reached
	_, err := b.e.Submit(t.Context(), intent.Submission{Type: "query_knowledge", Actor: "agent.urgent", Priority: 9})
	if !errors.Is(err, ErrQueueFull) {
		t.Fatalf("urgent submission: %v, want ErrQueueFull: stale work holds the queue", err)
	}
}

func TestSheddingHonoursConfiguredCriteria(t *testing.T) {
	t.Parallel()
	b := shedSetup(t, func(c *Config) { c.HTM.Shedding.Criteria = "type=generate_summary" })
	keep := b.fill(t, 40, 1)
	var drop []string
	for range 10 {
		drop = append(drop, b.submit(t, intent.Submission{Type: "generate_summary", Priority: 9}).ID)
	}
	for _, id := range drop {
		b.waitState(t, id, intent.StateShed)
	}
	if got := b.stored(t, keep[0]); got.State != intent.StateQueued {
		t.Fatalf("an intent outside the criteria was %s", got.State)
	}
}

// An intent scheduled ahead is not stale work: its age counts from when it
// is due, so "age>10m" spares it until it has waited ten minutes past its
// not_before, however long ago it was submitted.
func TestSheddingAgesScheduledWorkFromWhenItIsDue(t *testing.T) {
	t.Parallel()
	b := shedSetup(t)
	stale := b.fill(t, 5, 2)
	var later []string
	for range 25 {
		later = append(later, b.submit(t, intent.Submission{Type: "query_knowledge", Priority: 2, NotBefore: b.clock.Now().Add(20 * time.Minute)}).ID)
	}
	b.clock.Advance(11 * time.Minute)
	b.fill(t, 20, 8) // depth 50: critical
	for _, id := range stale {
		b.waitState(t, id, intent.StateShed)
	}
	if rec := b.waitRecord(t, WhatShedLoad, nil); rec.Context["shed_count"] != 5 {
		t.Fatalf("shed record = %+v: only the five stale intents may go", rec)
	}
	b.protectTick(t) // a full scan: the scheduled intents, due in 9 minutes, stay
	for _, id := range later {
		if got := b.stored(t, id); got.State != intent.StateQueued {
			t.Fatalf("scheduled intent %s is %s before it was ever due", id, got.State)
		}
	}
	// Due 11 minutes ago now, and the queue critical again: they are stale.
	b.clock.Advance(20 * time.Minute)
	b.fill(t, 5, 8)
	for _, id := range later {
		b.waitState(t, id, intent.StateShed)
	}
	checkRecords(t, b.store.Records())
}
