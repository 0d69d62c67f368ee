package htm

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"grace/engine/intent"
)

func typed(id, typ string, prio int, age time.Duration) intent.Intent {
	it := item(id, prio, age)
	it.Type = typ
	return it
}

func TestHoldPassesATypeOverUntilUnhold(t *testing.T) {
	t.Parallel()
	q := mustNew(t, 100, 10, 20)
	for _, it := range []intent.Intent{
		typed("deploy-high", "deploy", 9, time.Minute),
		typed("query-1", "query", 5, 3*time.Minute),
		typed("deploy-old", "deploy", 5, time.Hour),
		typed("query-2", "query", 5, 2*time.Minute),
	} {
		if err := q.Push(it); err != nil {
			t.Fatal(err)
		}
	}
	later := typed("deploy-later", "deploy", 9, time.Hour)
	later.NotBefore = t0.Add(time.Minute)
	q.Requeue(later)

	if n, ok := q.Hold(TypeHold("deploy")); !ok || n != 3 {
		t.Fatalf("Hold = %d, %v; want the 3 deploy intents queued", n, ok)
	}
	if _, ok := q.Hold(TypeHold("deploy")); ok {
		t.Fatal("a second Hold of the same type reported a change")
	}
	if err := q.Push(typed("deploy-new", "deploy", 9, 0)); err != nil { // held as it comes
		t.Fatal(err)
	}
	d := q.Depth()
	if d.Len != 6 || d.Held != 4 || d.Ready != 2 || d.Delayed != 0 || d.Level != LevelOK {
		t.Fatalf("depth while held: %+v", d)
	}
	if due, ok := q.NextDue(); ok {
		t.Fatalf("NextDue = %v: a held intent must not wake the scheduler", due)
	}
	if got := drain(q, t0.Add(time.Hour)); !slices.Equal(got, []string{"query-1", "query-2"}) {
		t.Fatalf("popped while deploy is held: %v", got)
	}
	if got := q.HeldCounts(); !maps.Equal(got, map[Hold]int{TypeHold("deploy"): 4}) {
		t.Fatalf("HeldCounts = %v", got)
	}
	if !q.Remove("deploy-old") || q.Contains("deploy-old") {
		t.Fatal("a held intent could not be removed")
	}
	if n, ok := q.Unhold(TypeHold("deploy")); !ok || n != 3 {
		t.Fatalf("Unhold = %d, %v", n, ok)
	}
	if _, ok := q.Unhold(TypeHold("deploy")); ok {
		t.Fatal("Unhold of a type not held reported a change")
	}
	if due, ok := q.NextDue(); !ok || !due.Equal(later.NotBefore) {
		t.Fatalf("the scheduled intent is not back among the delayed: %v %v", due, ok)
	}
	if got := drain(q, t0); !slices.Equal(got, []string{"deploy-high", "deploy-new"}) {
		t.Fatalf("popped after Unhold, before deploy-later is due: %v", got)
	}
	if got := drain(q, t0.Add(time.Minute)); !slices.Equal(got, []string{"deploy-later"}) {
		t.Fatalf("popped once it is due: %v", got)
	}
	if d := q.Depth(); d.Len != 0 || d.Held != 0 {
		t.Fatalf("depth at the end: %+v", d)
	}
}

func TestShedTakesHeldIntentsToo(t *testing.T) {
	t.Parallel()
	q := mustNew(t, 100, 10, 20)
	for i, typ := range []string{"deploy", "query", "deploy", "query"} {
		if err := q.Push(typed(string(rune('a'+i)), typ, i, time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	q.Hold(TypeHold("deploy"))
	shed := q.Shed(func(intent.Intent) bool { return true }, 3)
	if len(shed) != 3 || shed[0].ID != "a" || shed[1].ID != "b" || shed[2].ID != "c" {
		t.Fatalf("shed %v", shed)
	}
	if got := q.HeldCounts()[TypeHold("deploy")]; got != 0 {
		t.Fatalf("%d held after shedding both deploy intents", got)
	}
	if got := drain(q, t0); !slices.Equal(got, []string{"d"}) {
		t.Fatalf("left: %v", got)
	}
}

// TestCountByType follows every way an intent enters and leaves: push,
// requeue, pop, remove, shed, held or not.
func TestCountByType(t *testing.T) {
	t.Parallel()
	q := mustNew(t, 100, 10, 20)
	for i, typ := range []string{"deploy", "query", "deploy", "query", "query"} {
		if err := q.Push(typed(fmt.Sprint(i), typ, i, time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	q.Requeue(typed("r", "report", 1, time.Minute))
	want := map[string]int{"deploy": 2, "query": 3, "report": 1}
	check := func(step string) {
		t.Helper()
		if got := q.CountByType(); !maps.Equal(got, want) {
			t.Fatalf("%s: counts %v, want %v", step, got, want)
		}
		for typ, n := range want {
			if got := q.CountOf(typ); got != n {
				t.Fatalf("%s: CountOf(%s) = %d, want %d", step, typ, got, n)
			}
		}
	}
	check("pushed")
	q.Hold(TypeHold("deploy"))
	check("held")
	if it, ok := q.Pop(t0); !ok || it.Type != "query" {
		t.Fatalf("popped %+v", it)
	}
	want["query"] = 2
	check("popped")
	q.Remove("0")
	want["deploy"] = 1
	check("removed a held one")
	q.Shed(func(it intent.Intent) bool { return it.Type == "report" }, 10)
	delete(want, "report")
	check("shed")
	q.Unhold(TypeHold("deploy"))
	drain(q, t0)
	want = map[string]int{}
	check("drained")
}
