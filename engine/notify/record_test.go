package notify

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"grace/engine"
	"grace/engine/intent"
	"grace/engine/watchdog"
)

// recordingSource is a fakeSource that is also a Recorder: it keeps what
// is put on the record, and while gate is set, each record waits for it.
type recordingSource struct {
	*fakeSource
	mu      sync.Mutex
	records []engine.NotificationFailure
	gate    chan struct{}
}

func (r *recordingSource) RecordNotificationFailure(f engine.NotificationFailure) {
	if r.gate != nil {
		<-r.gate
	}
	r.mu.Lock()
	r.records = append(r.records, f)
	r.mu.Unlock()
}

func (r *recordingSource) recorded() []engine.NotificationFailure {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]engine.NotificationFailure(nil), r.records...)
}

// A receiver that refuses everything: the first failure goes on the record
// at once, naming the webhook, its host (never the URL's path or query,
// which may hold a secret), the kind, the delivery, the status, the
// attempts and how; the failures after it within a minute are counted and
// go on one summary record a minute after the first, with the count; a
// failure after a quiet minute is recorded on its own again.
func TestFailuresGoOnTheRecordSummarised(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "who are you", http.StatusForbidden)
	})
	src := &recordingSource{fakeSource: newFakeSource()}
	b := setup(t, src, []engine.WebhookConfig{hookTo("pager", rc.srv.URL+"/in/s3cretpath?token=s3cretquery")})
	host := strings.TrimPrefix(rc.srv.URL, "http://")
	src.ch <- engine.Event{Kind: "intent", Intent: intent.Intent{ID: "int_1", State: intent.StatePendingApproval, Payload: json.RawMessage(`{}`)}}
	for i := range 4 {
		src.alert(watchdog.Raised, testAlert(fmt.Sprintf("a%d", i), watchdog.Warn, watchdog.Warn))
	}
	waitFor(t, "5 failed", func() bool {
		return b.metrics.Value("pager", KindAlert, ResultFailed) == 4 && b.metrics.Value("pager", KindApproval, ResultFailed) == 1
	})
	waitFor(t, "the first failure on the record", func() bool { return len(src.recorded()) == 1 })
	first := src.recorded()[0]
	if first.Webhook != "pager" || first.Host != host || first.Kind != KindApproval || first.Subject != "int_1" || first.IntentID != "int_1" ||
		first.DeliveryID != rc.requests()[0].msg.ID || first.Status != 403 || first.Attempts != 1 ||
		!strings.Contains(first.Reason, "403 Forbidden") || !strings.Contains(first.How, "not retried") || first.Count > 1 || first.Dropped {
		t.Fatalf("first record: %+v", first)
	}
	// The other four wait for the summary, a minute after the first (a
	// failure is counted in the metrics before it reaches the recorder).
	waitFor(t, "the recorder to take all 5", func() bool { return b.n.rec.handled.Load() == 5 })
	waitFor(t, "the summary's timer", func() bool { return b.clock.TimersAt(RecordEvery) == 1 })
	if n := len(src.recorded()); n != 1 {
		t.Fatalf("%d records before the minute is up, want 1", n)
	}
	b.clock.Advance(RecordEvery)
	waitFor(t, "the summary", func() bool { return len(src.recorded()) == 2 })
	sum := src.recorded()[1]
	if sum.Webhook != "pager" || sum.Count != 4 || sum.ByKind[KindAlert] != 4 || sum.Kind != KindAlert || sum.Subject != "a3" ||
		sum.Status != 403 || !sum.Since.Equal(epoch) || sum.IntentID != "" {
		t.Fatalf("summary: %+v", sum)
	}
	for _, r := range src.recorded() {
		if s := fmt.Sprintf("%+v", r); strings.Contains(s, "s3cret") {
			t.Fatalf("the record holds the URL's path or query: %s", s)
		}
	}
	// A quiet minute later, a failure is recorded on its own again.
	b.clock.Advance(RecordEvery)
	src.alert(watchdog.Raised, testAlert("later", watchdog.Warn, watchdog.Warn))
	waitFor(t, "the next failure on its own", func() bool { return len(src.recorded()) == 3 })
	if r := src.recorded()[2]; r.Subject != "later" || r.Count > 1 {
		t.Fatalf("third record: %+v", r)
	}
}

// A record that cannot be written (the store is stuck) holds up neither
// the deliveries nor the dispatcher: every notification is still sent
// and counted; what did not fit on the way to the record is counted on
// the next record once it is written.
func TestRecordingNeverBlocksDelivery(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "no", http.StatusBadRequest)
	})
	src := &recordingSource{fakeSource: newFakeSource(), gate: make(chan struct{})}
	var open sync.Once
	release := func() { open.Do(func() { close(src.gate) }) }
	b := setup(t, src, []engine.WebhookConfig{hookTo("strict", rc.srv.URL)})
	t.Cleanup(release) // before the notifier stops (cleanups run last first)
	const sent = recordQueue + 50
	go func() {
		for i := range sent {
			src.alert(watchdog.Raised, testAlert(fmt.Sprintf("a%d", i), watchdog.Warn, watchdog.Warn))
		}
	}()
	// Every one is sent and fails, or is dropped when it finds the queue
	// full: nothing waits for the record.
	waitFor(t, "every one failed or dropped", func() bool {
		return b.metrics.Value("strict", KindAlert, ResultFailed)+b.metrics.Value("strict", KindAlert, ResultDropped) == sent
	})
	if len(rc.requests()) == 0 {
		t.Fatal("nothing was sent")
	}
	release() // the store writes again
	b.stop()  // and what is pending is summarised
	got := src.recorded()
	total, unrecorded := 0, 0
	for _, r := range got {
		total += max(r.Count, 1) + r.Unrecorded
		unrecorded += r.Unrecorded
	}
	if len(got) > 3 || unrecorded == 0 || total != sent {
		t.Fatalf("%d records for %d failures (%d of them unrecorded), want at most 3 for all %d: %+v", len(got), total, unrecorded, sent, got)
	}
}

// A notification dropped because its webhook's queue was full goes on the
// record as dropped, never attempted.
func TestDroppedNotificationIsRecorded(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	rc := newReceiver(t, func(n int, _ http.ResponseWriter, r *http.Request) {
		if n == 0 {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
	})
	defer close(release)
	src := &recordingSource{fakeSource: newFakeSource()}
	b := setup(t, src, []engine.WebhookConfig{hookTo("slow", rc.srv.URL)}, func(o *Options) { o.QueueSize = 1 })
	src.alert(watchdog.Raised, testAlert("first", watchdog.Warn, watchdog.Warn))
	rc.waitN(t, 1) // in flight, hanging
	src.alert(watchdog.Raised, testAlert("queued", watchdog.Warn, watchdog.Warn))
	src.alert(watchdog.Raised, testAlert("dropped", watchdog.Warn, watchdog.Warn))
	waitFor(t, "the drop on the record", func() bool { return len(src.recorded()) == 1 })
	if r := src.recorded()[0]; !r.Dropped || r.Subject != "dropped" || r.Attempts != 0 || !strings.Contains(r.Reason, "queue of 1 was full") {
		t.Fatalf("record: %+v", r)
	}
	_ = b
}

// The engine is a Recorder: a refused Tier 0 request goes on its record as
// notification_failed, naming the webhook's notifier, the webhook and its
// host, the intent, and the refusal.
func TestEngineRecordsFailedNotification(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "who are you", http.StatusForbidden)
	})
	e := startEngine(t, func(e *engine.Engine) {
		setup(t, e, []engine.WebhookConfig{hookTo("pager", rc.srv.URL+"/hook?token=s3cret")})
	})
	res, err := e.Submit(t.Context(), intent.Submission{Type: "grant_permissions", Actor: "agent.x", Payload: json.RawMessage(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(rc.srv.URL, "http://")
	waitFor(t, "the failure on the engine's record", func() bool {
		for _, r := range e.Snapshot().Recent {
			if r.What != engine.WhatNotificationFailed {
				continue
			}
			why := strings.Join(r.Why, " ")
			if r.Who != "notifier:pager" || r.Where != "webhook:pager ("+host+")" || r.IntentID != res.Intent.ID ||
				!strings.Contains(why, "403 Forbidden") || r.Context["status"] != 403 || r.Context["kind"] != KindApproval ||
				!strings.Contains(r.How, "not retried") || strings.Contains(fmt.Sprint(r), "s3cret") {
				t.Fatalf("record: %+v", r)
			}
			return true
		}
		return false
	})
}
