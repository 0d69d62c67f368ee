package htm

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"grace/engine/intent"
)

var t0 = time.Date(2025, 11, 15, 12, 0, 0, 0, time.UTC)

func item(id string, prio int, age time.Duration) intent.Intent {
	return intent.Intent{ID: id, Priority: prio, CreatedAt: t0.Add(-age)}
}

func mustNew(t testing.TB, capacity, warn, critical int) *Queue {
	t.Helper()
	q, err := New(capacity, warn, critical)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func drain(q *Queue, now time.Time) []string {
	var ids []string
	for {
		it, ok := q.Pop(now)
		if !ok {
			return ids
		}
		ids = append(ids, it.ID)
	}
}

func TestNewRejectsBadBounds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ capacity, warn, critical int }{
		{0, 1, 2}, {10, 0, 5}, {10, 5, 5}, {10, 6, 5}, {10, 5, 11},
	} {
		if _, err := New(tc.capacity, tc.warn, tc.critical); err == nil {
			t.Errorf("New(%d, %d, %d) succeeded, want an error", tc.capacity, tc.warn, tc.critical)
		}
	}
}

func TestPopOrdersByPriorityThenAge(t *testing.T) {
	t.Parallel()
	q := mustNew(t, 100, 10, 20)
	for _, it := range []intent.Intent{
		item("low-old", 1, time.Hour),
		item("high-new", 9, time.Second),
		item("mid-new", 5, time.Second),
		item("high-old", 9, time.Minute),
		item("mid-old", 5, time.Minute),
	} {
		if err := q.Push(it); err != nil {
			t.Fatal(err)
		}
	}
	got := fmt.Sprint(drain(q, t0))
	want := fmt.Sprint([]string{"high-old", "high-new", "mid-old", "mid-new", "low-old"})
	if got != want {
		t.Fatalf("pop order = %s, want %s", got, want)
	}
	if q.Len() != 0 {
		t.Fatalf("Len after draining = %d, want 0", q.Len())
	}
}

func TestEqualKeysPopInAdmissionOrder(t *testing.T) {
	t.Parallel()
	q := mustNew(t, 100, 10, 20)
	for i := range 10 {
		q.Requeue(item(fmt.Sprint(i), 3, 0))
	}
	got := fmt.Sprint(drain(q, t0))
	if want := "[0 1 2 3 4 5 6 7 8 9]"; got != want {
		t.Fatalf("pop order = %s, want %s", got, want)
	}
}

func TestDelayedIntentWaitsForNotBefore(t *testing.T) {
	t.Parallel()
	q := mustNew(t, 100, 10, 20)
	retry := item("retry", 9, time.Hour)
	retry.NotBefore = t0.Add(2 * time.Second)
	q.Requeue(retry)
	q.Requeue(item("plain", 1, 0))

	if due, ok := q.NextDue(); !ok || !due.Equal(retry.NotBefore) {
		t.Fatalf("NextDue = %v, %v; want %v, true", due, ok, retry.NotBefore)
	}
	if got := fmt.Sprint(drain(q, t0.Add(time.Second))); got != "[plain]" {
		t.Fatalf("before the delay: popped %s, want [plain]", got)
	}
	if q.Len() != 1 {
		t.Fatalf("Len with one delayed = %d, want 1", q.Len())
	}
	if got := fmt.Sprint(drain(q, t0.Add(2*time.Second))); got != "[retry]" {
		t.Fatalf("at the delay: popped %s, want [retry]", got)
	}
	if _, ok := q.NextDue(); ok {
		t.Fatal("NextDue reports a delay on an empty queue")
	}
}

func TestCapacityBoundsNewWorkOnly(t *testing.T) {
	t.Parallel()
	q := mustNew(t, 2, 1, 2)
	if err := q.Push(item("a", 1, 0)); err != nil {
		t.Fatal(err)
	}
	if err := q.Reserve(); err != nil {
		t.Fatalf("Reserve with room left: %v", err)
	}
	if err := q.Push(item("b", 1, 0)); !errors.Is(err, ErrFull) {
		t.Fatalf("Push past capacity (counting the reservation) = %v, want ErrFull", err)
	}
	if err := q.Reserve(); !errors.Is(err, ErrFull) {
		t.Fatalf("second Reserve = %v, want ErrFull", err)
	}
	q.PushReserved(item("c", 1, 0))
	q.Requeue(item("retry", 1, 0))
	if q.Len() != 3 {
		t.Fatalf("Len after a requeue past capacity = %d, want 3", q.Len())
	}
	if d := q.Depth(); d.Reserved != 0 || d.Level != LevelCritical {
		t.Fatalf("Depth = %+v, want no reservation and critical", d)
	}
	q.Pop(t0)
	q.Pop(t0)
	if err := q.Reserve(); err != nil {
		t.Fatalf("Reserve after draining below capacity: %v", err)
	}
	q.Release()
	if d := q.Depth(); d.Reserved != 0 {
		t.Fatalf("Reserved after Release = %d, want 0", d.Reserved)
	}
}

func TestDuplicateIDIsKeptOnce(t *testing.T) {
	t.Parallel()
	q := mustNew(t, 10, 2, 5)
	q.Requeue(item("x", 1, 0))
	q.Requeue(item("x", 9, 0))
	if err := q.Push(item("x", 5, 0)); err != nil {
		t.Fatal(err)
	}
	if q.Len() != 1 {
		t.Fatalf("Len = %d, want 1", q.Len())
	}
	it, _ := q.Pop(t0)
	if it.Priority != 1 {
		t.Fatalf("kept priority %d, want the first one (1)", it.Priority)
	}
}

func TestRemoveFromEitherPart(t *testing.T) {
	t.Parallel()
	q := mustNew(t, 10, 2, 5)
	later := item("later", 5, 0)
	later.NotBefore = t0.Add(time.Minute)
	q.Requeue(later)
	for _, id := range []string{"a", "b", "c"} {
		q.Requeue(item(id, 5, 0))
	}
	if !q.Remove("b") || !q.Remove("later") {
		t.Fatal("Remove of a queued ID reported false")
	}
	if q.Remove("b") || q.Contains("b") {
		t.Fatal("removed ID is still there")
	}
	if got := fmt.Sprint(drain(q, t0.Add(time.Hour))); got != "[a c]" {
		t.Fatalf("after removals popped %s, want [a c]", got)
	}
}

func TestLevels(t *testing.T) {
	t.Parallel()
	q := mustNew(t, 10, 2, 4)
	want := []Level{LevelOK, LevelOK, LevelWarn, LevelWarn, LevelCritical, LevelCritical}
	for i, w := range want {
		if got := q.Level(); got != w {
			t.Fatalf("Level at depth %d = %v, want %v", i, got, w)
		}
		q.Requeue(item(fmt.Sprint(i), 1, 0))
	}
	if got := q.Depth().Describe(); got != "Queue depth 6/4 (critical)" {
		t.Fatalf("Describe = %q", got)
	}
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		d    Depth
		want string
	}{
		{Depth{Len: 247, Warn: 1000, Critical: 5000, Level: LevelOK}, "Queue depth 247/1000 (within limits)"},
		{Depth{Len: 1200, Warn: 1000, Critical: 5000, Level: LevelWarn}, "Queue depth 1200/1000 (above warning threshold)"},
		{Depth{Len: 5100, Warn: 1000, Critical: 5000, Level: LevelCritical}, "Queue depth 5100/5000 (critical)"},
	} {
		if got := tc.d.Describe(); got != tc.want {
			t.Errorf("Describe = %q, want %q", got, tc.want)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	q := mustNew(t, 1000, 10, 100)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 200 {
				if q.Reserve() == nil {
					q.PushReserved(item(fmt.Sprintf("%d-%d", w, i), i%10, 0))
				}
				q.Pop(t0)
			}
		})
	}
	wg.Wait()
	if d := q.Depth(); d.Reserved != 0 || d.Len != len(drain(q, t0)) {
		t.Fatalf("inconsistent after concurrent use: %+v", d)
	}
}

func BenchmarkPushPop(b *testing.B) {
	q := mustNew(b, 1<<20, 1000, 5000)
	for i := range 10000 {
		q.Requeue(item(fmt.Sprint("seed", i), i%10, time.Duration(i)))
	}
	ids := make([]string, 4096)
	for i := range ids {
		ids[i] = fmt.Sprint("id", i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		// Each pushed intent is popped at once unless a seeded one outranks
		// it, so the queue stays about 10,000 deep: O(log n) per operation.
		q.Requeue(item(ids[i%len(ids)], i%10, -time.Duration(i)))
		q.Pop(t0)
	}
}
