package engine

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"grace/engine/clock"
	"grace/engine/enginetest"
	"grace/engine/intent"
)

// seqs are the numbers of evs.
func seqs(evs []Event) []uint64 {
	out := make([]uint64, len(evs))
	for i, ev := range evs {
		out[i] = ev.Seq
	}
	return out
}

func wantSeqs(t *testing.T, what string, evs []Event, from, to uint64) {
	t.Helper()
	got := seqs(evs)
	if len(got) != int(to-from+1) {
		t.Fatalf("%s: seqs %v, want %d..%d", what, got, from, to)
	}
	for i, s := range got {
		if s != from+uint64(i) {
			t.Fatalf("%s: seqs %v, want %d..%d", what, got, from, to)
		}
	}
}

// TestSubscribeAfterResumesWithoutLossOrRepeat: a subscriber that comes
// back after event n is given every event after n once, the held ones as
// replay and the rest on its channel.
func TestSubscribeAfterResumesWithoutLossOrRepeat(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var ids []string
	for range 5 {
		ids = append(ids, b.submit(t, intent.Submission{Type: "query_knowledge"}).ID)
	}
	var first []Event
	for range 5 {
		first = append(first, <-b.events)
	}
	wantSeqs(t, "live", first, 1, 5)

	ch, replay, complete := b.e.SubscribeAfter(t.Context(), b.e.EventEpoch(), 2)
	if !complete {
		t.Fatal("resuming after event 2 of this run: incomplete")
	}
	wantSeqs(t, "replay after 2", replay, 3, 5)
	for i, ev := range replay {
		if ev.Kind != "intent" || ev.Intent.ID != ids[i+2] {
			t.Fatalf("replayed event %d is %s %s, want intent %s", ev.Seq, ev.Kind, ev.Intent.ID, ids[i+2])
		}
	}
	next := b.submit(t, intent.Submission{Type: "query_knowledge"})
	ev := <-ch
	if ev.Seq != 6 || ev.Intent.ID != next.ID {
		t.Fatalf("after the replay the channel gave seq %d (%s), want 6 (%s)", ev.Seq, ev.Intent.ID, next.ID)
	}

	// Up to date: nothing to replay, nothing missed.
	_, replay, complete = b.e.SubscribeAfter(t.Context(), b.e.EventEpoch(), 6)
	if !complete || len(replay) != 0 {
		t.Fatalf("resuming at the newest event: replay %v, complete %v", seqs(replay), complete)
	}
}

// TestSubscribeAfterSaysWhenEventsAreLost: a position from another run,
// from the future, or older than what is held is incomplete, so that the
// subscriber reads its state again.
func TestSubscribeAfterSaysWhenEventsAreLost(t *testing.T) {
	t.Parallel()
	f := newFanout(nil)
	for range holdEvents + 10 {
		f.publish(Event{Kind: EventTelemetry}, true)
	}
	ctx := t.Context()
	if _, _, complete := f.subscribe(ctx, "another-run", 3); complete {
		t.Error("a position of another run counted as complete")
	}
	if _, _, complete := f.subscribe(ctx, f.epoch, holdEvents+11); complete {
		t.Error("a position past the newest event counted as complete")
	}
	_, replay, complete := f.subscribe(ctx, f.epoch, 5)
	if complete {
		t.Error("events 6..10 are no longer held, yet the resume counted as complete")
	}
	wantSeqs(t, "what is still held", replay, 11, holdEvents+10)
	if _, replay, complete := f.subscribe(ctx, f.epoch, 10); !complete || len(replay) != holdEvents {
		t.Errorf("after the last one let go: %d replayed, complete %v; want %d, true", len(replay), complete, holdEvents)
	}
}

// TestHeldEventsAreBoundedInBytes: big payloads let the oldest go before
// the count bound does.
func TestHeldEventsAreBoundedInBytes(t *testing.T) {
	t.Parallel()
	f := newFanout(nil)
	big := json.RawMessage(`{"blob":"` + strings.Repeat("x", 64<<10) + `"}`)
	for range 1000 {
		f.publish(Event{Kind: "intent", Intent: intent.Intent{ID: "x", Payload: big}}, true)
	}
	if f.bytes > holdBytes || f.n >= 1000 || f.n < holdBytes/(80<<10) {
		t.Fatalf("held %d events, %d bytes; want at most %d bytes and about %d events", f.n, f.bytes, holdBytes, holdBytes/(65<<10))
	}
}

// TestSlowSubscriberFillsItsGap: a subscriber more than its buffer behind
// misses events; the next one it gets skips numbers, and EventsBetween
// gives it the missed ones while they are held.
func TestSlowSubscriberFillsItsGap(t *testing.T) {
	t.Parallel()
	f := newFanout(nil)
	ch, _, _ := f.subscribe(t.Context(), "", 0)
	for range subscriberBuffer + 40 {
		f.publish(Event{Kind: EventTelemetry}, true)
	}
	var got []Event
	for range subscriberBuffer {
		got = append(got, <-ch)
	}
	wantSeqs(t, "buffered", got, 1, subscriberBuffer)
	f.publish(Event{Kind: EventTelemetry}, true)
	ev := <-ch
	if ev.Seq != subscriberBuffer+41 {
		t.Fatalf("after the drop the next event is %d, want %d", ev.Seq, subscriberBuffer+41)
	}
	e := &Engine{subs: f}
	missed, complete := e.EventsBetween(subscriberBuffer, ev.Seq)
	if !complete {
		t.Fatal("the missed events are held, yet EventsBetween is incomplete")
	}
	wantSeqs(t, "missed", missed, subscriberBuffer+1, subscriberBuffer+40)
}

// TestHeldIntentEventsAreMaskedWhenReplayed: with nobody subscribed an
// intent event is held as committed; replayed, its masked fields are
// masked like every other read.
func TestHeldIntentEventsAreMaskedWhenReplayed(t *testing.T) {
	t.Parallel()
	st := enginetest.NewStore(64)
	t.Cleanup(func() { _ = st.Close() })
	e, err := New(testConfig(), Deps{Store: st, Clock: clock.NewFake(epoch), Handlers: newTestHandlers()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Stop)
	res, err := e.Submit(context.Background(), intent.Submission{Type: "query_knowledge", Actor: "a",
		Payload: json.RawMessage(`{"q":"x","password":"hunter2"}`)})
	if err != nil {
		t.Fatal(err)
	}
	_, replay, complete := e.SubscribeAfter(t.Context(), e.EventEpoch(), 0)
	if !complete || len(replay) != 1 || replay[0].Intent.ID != res.Intent.ID {
		t.Fatalf("replay from the start: %v events, complete %v", seqs(replay), complete)
	}
	if p := string(replay[0].Intent.Payload); strings.Contains(p, "hunter2") || !strings.Contains(p, `"q":"x"`) {
		t.Fatalf("replayed payload %s: the password must be masked, the rest kept", p)
	}
}
