package engine

import (
	"testing"
	"time"

	"grace/engine/intent"
)

// kicksDone waits until every check a submission asked of the protection
// loop has been handled.
func (b *testBundle) kicksDone(t *testing.T) {
	t.Helper()
	s := b.e.shed
	eventually(t, "the protection loop's checks", func() bool {
		return s.handled.Load() == s.sent.Load()
	})
}

// quietSetup is shedSetup with a tick that never comes, so that only the
// checks submissions ask for can shed.
func quietSetup(t *testing.T, criteria string) *testBundle {
	return shedSetup(t, func(c *Config) {
		c.HTM.Shedding.Interval = 24 * time.Hour
		c.HTM.Shedding.Criteria = criteria
	})
}

func TestCriticalQueueIsNotRescannedUntilAnIntentCanMatch(t *testing.T) {
	t.Parallel()
	b := quietSetup(t, "priority<5 and age>10m")
	stale := b.fill(t, 5, 2) // low priority: shed once older than 10m
	b.fill(t, 45, 8)         // depth 50: critical; the check finds nothing old enough
	b.kicksDone(t)
	scans := b.e.shed.quiet.scans.Load()
	if scans == 0 {
		t.Fatal("reaching the critical depth did not check the queue")
	}
	for range 5 {
		b.fill(t, 1, 2) // fresh: cannot match for 10 minutes
		b.kicksDone(t)
	}
	if got := b.e.shed.quiet.scans.Load(); got != scans {
		t.Fatalf("%d scans of the queue after 5 more submissions, want still %d: nothing could match", got, scans)
	}
	if got := b.stored(t, stale[0]); got.State != intent.StateQueued {
		t.Fatalf("young intent is %s", got.State)
	}

	b.clock.Advance(10*time.Minute + time.Second) // the first five are now stale
	b.fill(t, 1, 8)                               // this submission's check must scan
	for _, id := range stale {
		b.waitState(t, id, intent.StateShed)
	}
	if got := b.e.shed.quiet.scans.Load(); got == scans {
		t.Fatal("intents that aged past the criteria were shed without a scan?")
	}
}

func TestCriticalQueueIsRescannedWhenAMatchingIntentArrives(t *testing.T) {
	t.Parallel()
	b := quietSetup(t, "priority<3")
	b.fill(t, 50, 8) // critical, nothing matches
	b.kicksDone(t)
	scans := b.e.shed.quiet.scans.Load()
	b.fill(t, 1, 7)
	b.kicksDone(t)
	if got := b.e.shed.quiet.scans.Load(); got != scans {
		t.Fatalf("%d scans after a submission that cannot match, want still %d", got, scans)
	}
	low := b.fill(t, 1, 1)[0] // matches at once
	b.waitState(t, low, intent.StateShed)
}

func TestShedQuietAgeBoundaries(t *testing.T) {
	t.Parallel()
	b := quietSetup(t, "age>=1m and age<2m")
	q := b.e.shed.quiet
	if len(q.ages) != 2 || q.ages[0] != time.Minute || q.ages[1] != 2*time.Minute || !q.exact {
		t.Fatalf("ages %v exact %v, want [1m 2m] true", q.ages, q.exact)
	}
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		at, want time.Time
		ok       bool
	}{
		{created, created.Add(time.Minute), true},
		{created.Add(time.Minute), created.Add(time.Minute + 1), true},
		{created.Add(90 * time.Second), created.Add(2 * time.Minute), true},
		{created.Add(2*time.Minute + 1), time.Time{}, false},
	} {
		got, ok := q.change(created, c.at)
		if ok != c.ok || !got.Equal(c.want) {
			t.Errorf("change at %v = %v, %v; want %v, %v", c.at.Sub(created), got.Sub(created), ok, c.want.Sub(created), c.ok)
		}
	}
}
