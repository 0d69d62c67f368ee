package engine

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestIDsAreUniqueSortableAndWellFormed(t *testing.T) {
	t.Parallel()
	var g idGen
	var ids []string
	for i := range 1000 {
		at := epoch.Add(time.Duration(i/100) * time.Millisecond) // 100 IDs per millisecond
		ids = append(ids, g.next(at))
	}
	ids = append(ids, g.next(epoch)) // the clock stepping back still sorts after
	if !slices.IsSorted(ids) {
		t.Fatal("IDs do not sort in creation order")
	}
	if len(slices.Compact(slices.Clone(ids))) != len(ids) {
		t.Fatal("duplicate IDs")
	}
	for _, id := range ids {
		if !strings.HasPrefix(id, "int_") || len(id) != 30 || strings.ContainsAny(id[4:], "ILOU") {
			t.Fatalf("malformed ID %q", id)
		}
	}
	var other idGen
	if a, b := g.next(epoch.Add(time.Hour)), other.next(epoch.Add(time.Hour)); a == b || a[4:14] != b[4:14] {
		t.Fatalf("two generators at one millisecond: %s and %s (want the same time part, different random part)", a, b)
	}
}

func TestBackoffGrowsCapsAndJitters(t *testing.T) {
	t.Parallel()
	base, limit := 500*time.Millisecond, 5*time.Second
	for _, tc := range []struct {
		attempt  int
		r        float64
		min, max time.Duration
	}{
		{1, 0, 250 * time.Millisecond, 250 * time.Millisecond},
		{1, 0.999, 250 * time.Millisecond, 500 * time.Millisecond},
		{2, 0, 500 * time.Millisecond, 500 * time.Millisecond},
		{3, 0.5, 1500 * time.Millisecond, 1500 * time.Millisecond},
		{10, 0, 2500 * time.Millisecond, 2500 * time.Millisecond},
		{200, 0.999, 2500 * time.Millisecond, 5 * time.Second},
	} {
		if got := backoff(tc.attempt, base, limit, tc.r); got < tc.min || got > tc.max {
			t.Errorf("backoff(%d, r=%v) = %v, want %v..%v", tc.attempt, tc.r, got, tc.min, tc.max)
		}
	}
}

func TestMeterCountsTheLastTenSeconds(t *testing.T) {
	t.Parallel()
	var m meter
	for i := range 20 {
		m.add(epoch.Add(time.Duration(i)*time.Second), 2)
	}
	now := epoch.Add(19 * time.Second)
	if got := m.rate(now); got != 2 {
		t.Fatalf("rate = %v, want 2/s", got)
	}
	if got := m.rate(now.Add(5 * time.Second)); got != 1 {
		t.Fatalf("rate 5 s later = %v, want 1/s", got)
	}
}

func TestRingReturnsNewestFirst(t *testing.T) {
	t.Parallel()
	r := newRing(3)
	if len(r.newest()) != 0 {
		t.Fatal("empty ring returned records")
	}
	for _, w := range []string{"a", "b", "c", "d"} {
		r.add(rec(epoch, "x", w, "y", "z", "r", "", []string{"w"}, nil))
	}
	var got []string
	for _, x := range r.newest() {
		got = append(got, x.What)
	}
	if !slices.Equal(got, []string{"d", "c", "b"}) {
		t.Fatalf("newest = %v", got)
	}
}
