package htm

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"grace/engine/intent"
)

func by(id, typ, actor string, prio int) intent.Intent {
	it := typed(id, typ, prio, time.Hour)
	it.Actor = actor
	return it
}

// TestAnIntentHeldTwiceWaitsForBothHolds: an intent whose type and actor
// are both held stays held until both holds are lifted, whichever goes
// first; each hold counts it, and removing it uncounts it from both.
func TestAnIntentHeldTwiceWaitsForBothHolds(t *testing.T) {
	t.Parallel()
	q := mustNew(t, 100, 10, 20)
	for _, it := range []intent.Intent{
		by("a-deploy", "deploy", "agent.a", 9),
		by("a-query", "query", "agent.a", 5),
		by("b-deploy", "deploy", "agent.b", 5),
		by("b-query", "query", "agent.b", 5),
	} {
		if err := q.Push(it); err != nil {
			t.Fatal(err)
		}
	}
	actorA, deploy := ActorHold("agent.a"), TypeHold("deploy")
	if n, ok := q.Hold(actorA); !ok || n != 2 {
		t.Fatalf("Hold(%s) = %d, %v; want its 2 intents", actorA, n, ok)
	}
	if n, ok := q.Hold(deploy); !ok || n != 2 {
		t.Fatalf("Hold(%s) = %d, %v; want 2, a-deploy (held already) among them", deploy, n, ok)
	}
	if err := q.Push(by("a-deploy-new", "deploy", "agent.a", 9)); err != nil { // held by both as it comes
		t.Fatal(err)
	}
	if d := q.Depth(); d.Len != 5 || d.Held != 4 || d.Ready != 1 {
		t.Fatalf("depth with two overlapping holds: %+v", d)
	}
	if got := q.HeldCounts(); !maps.Equal(got, map[Hold]int{actorA: 3, deploy: 3}) {
		t.Fatalf("HeldCounts = %v", got)
	}
	if n, elsewhere := q.Matching(deploy); n != 3 || elsewhere != 2 {
		t.Fatalf("Matching(%s) = %d, %d; want 3, 2 of them agent.a's", deploy, n, elsewhere)
	}
	if n, elsewhere := q.Matching(ActorHold("agent.b")); n != 2 || elsewhere != 1 {
		t.Fatalf("Matching of a hold not in force = %d, %d; want agent.b's 2, b-deploy held by deploy", n, elsewhere)
	}
	if !q.HoldsBack(by("x", "query", "agent.a", 0)) || !q.HoldsBack(by("y", "deploy", "agent.c", 0)) || q.HoldsBack(by("z", "query", "agent.c", 0)) {
		t.Fatal("HoldsBack disagrees with the holds in force")
	}
	if got := drain(q, t0); !slices.Equal(got, []string{"b-query"}) {
		t.Fatalf("popped under both holds: %v", got)
	}

	// Lifting the type hold frees only what the actor hold does not match.
	if n, ok := q.Unhold(deploy); !ok || n != 3 {
		t.Fatalf("Unhold(%s) = %d, %v", deploy, n, ok)
	}
	if got := drain(q, t0); !slices.Equal(got, []string{"b-deploy"}) {
		t.Fatalf("popped once deploy is lifted, agent.a still held: %v", got)
	}
	if got := q.HeldCounts(); !maps.Equal(got, map[Hold]int{actorA: 3}) {
		t.Fatalf("HeldCounts after the type's Unhold = %v", got)
	}

	// The other way round: hold the type again, lift the actor.
	if n, ok := q.Hold(deploy); !ok || n != 2 {
		t.Fatalf("Hold(%s) again = %d, %v; want the 2 of agent.a's held already", deploy, n, ok)
	}
	if !q.Remove("a-deploy") {
		t.Fatal("an intent held twice could not be removed")
	}
	if got := q.HeldCounts(); !maps.Equal(got, map[Hold]int{actorA: 2, deploy: 1}) {
		t.Fatalf("HeldCounts after removing an intent held twice = %v", got)
	}
	if n, ok := q.Unhold(actorA); !ok || n != 2 {
		t.Fatalf("Unhold(%s) = %d, %v", actorA, n, ok)
	}
	if got := drain(q, t0); !slices.Equal(got, []string{"a-query"}) {
		t.Fatalf("popped once agent.a is lifted, deploy still held: %v", got)
	}
	if shed := q.Shed(func(intent.Intent) bool { return true }, 10); len(shed) != 1 || shed[0].ID != "a-deploy-new" {
		t.Fatalf("shed %v", shed)
	}
	if got := q.HeldCounts(); !maps.Equal(got, map[Hold]int{deploy: 0}) {
		t.Fatalf("HeldCounts after shedding = %v", got)
	}
	if d := q.Depth(); d.Len != 0 || d.Held != 0 {
		t.Fatalf("depth at the end: %+v", d)
	}
}

// TestHoldsAgainstAModel drives a queue with random pushes, pops,
// removals, sheds, holds and unholds of types and actors, and after each
// step compares it with a plain model: what is held, how many each hold
// counts, what Pop may return.
func TestHoldsAgainstAModel(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	q := mustNew(t, 1000, 100, 200)
	types, actors := []string{"deploy", "query", "report"}, []string{"agent.a", "agent.b", "agent.c"}
	queued := map[string]intent.Intent{}
	holds := map[Hold]bool{}
	heldBy := func(it intent.Intent) bool { return holds[TypeHold(it.Type)] || holds[ActorHold(it.Actor)] }
	randomHold := func() Hold {
		if rng.IntN(2) == 0 {
			return TypeHold(types[rng.IntN(len(types))])
		}
		return ActorHold(actors[rng.IntN(len(actors))])
	}
	now := t0
	for step := range 5000 {
		switch op := rng.IntN(10); {
		case op < 4:
			it := by(fmt.Sprint("i", step), types[rng.IntN(len(types))], actors[rng.IntN(len(actors))], rng.IntN(10))
			if rng.IntN(4) == 0 {
				it.NotBefore = now.Add(time.Duration(rng.IntN(3)) * time.Second)
			}
			q.Requeue(it)
			queued[it.ID] = it
		case op < 6:
			it, ok := q.Pop(now)
			if ok && heldBy(it) {
				t.Fatalf("step %d: popped %s (%s, %s) while held", step, it.ID, it.Type, it.Actor)
			}
			if !ok && slices.ContainsFunc(slices.Collect(maps.Values(queued)), func(it intent.Intent) bool { return !heldBy(it) && !it.NotBefore.After(now) }) {
				t.Fatalf("step %d: nothing popped while an intent is ready and not held", step)
			}
			delete(queued, it.ID)
		case op == 6:
			for id := range queued {
				if !q.Remove(id) {
					t.Fatalf("step %d: %s not removed", step, id)
				}
				delete(queued, id)
				break
			}
		case op == 7:
			actor := actors[rng.IntN(len(actors))]
			for _, it := range q.Shed(func(it intent.Intent) bool { return it.Actor == actor }, 2) {
				delete(queued, it.ID)
			}
		case op == 8:
			h := randomHold()
			_, changed := q.Hold(h)
			if changed == holds[h] {
				t.Fatalf("step %d: Hold(%s) changed=%v with it in force=%v", step, h, changed, holds[h])
			}
			holds[h] = true
		default:
			h := randomHold()
			_, changed := q.Unhold(h)
			if changed != holds[h] {
				t.Fatalf("step %d: Unhold(%s) changed=%v with it in force=%v", step, h, changed, holds[h])
			}
			delete(holds, h)
		}
		if rng.IntN(20) == 0 {
			now = now.Add(time.Second)
		}
		want, held := map[Hold]int{}, 0
		for h := range holds {
			want[h] = 0
		}
		for _, it := range queued {
			for _, h := range []Hold{TypeHold(it.Type), ActorHold(it.Actor)} {
				if holds[h] {
					want[h]++
				}
			}
			if heldBy(it) {
				held++
			}
		}
		if got := q.HeldCounts(); !maps.Equal(got, want) {
			t.Fatalf("step %d: HeldCounts = %v, want %v", step, got, want)
		}
		if d := q.Depth(); d.Len != len(queued) || d.Held != held {
			t.Fatalf("step %d: depth %+v, want %d queued, %d held", step, d, len(queued), held)
		}
	}
	for h := range holds {
		q.Unhold(h)
	}
	if got := drain(q, now.Add(time.Minute)); len(got) != len(queued) {
		t.Fatalf("drained %d once every hold is lifted, want %d", len(got), len(queued))
	}
}

// BenchmarkPushPopUnderHolds is BenchmarkPushPop with a type and an actor
// held that the pushed intents do not match: the cost of two look-ups.
func BenchmarkPushPopUnderHolds(b *testing.B) {
	q := mustNew(b, 1<<20, 1000, 5000)
	for i := range 10000 {
		q.Requeue(item(fmt.Sprint("seed", i), i%10, time.Duration(i)))
	}
	q.Hold(TypeHold("deploy"))
	q.Hold(ActorHold("agent.quarantined"))
	ids := make([]string, 4096)
	for i := range ids {
		ids[i] = fmt.Sprint("id", i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		q.Requeue(item(ids[i%len(ids)], i%10, -time.Duration(i)))
		q.Pop(t0)
	}
}
