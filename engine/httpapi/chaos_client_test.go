package httpapi

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/clock"
	"grace/engine/intent"
)

// remoteAs is a Remote on b's server with token.
func remoteAs(b *chaosBundle, token string) *Remote {
	return NewRemote(NewClient(b.srv.URL, token, b.srv.Client()))
}

// Remote is an engine.ChaosAPI over the chaos routes.
func TestRemoteChaosRoundTrip(t *testing.T) {
	t.Parallel()
	b := setupChaos(t)
	var api engine.ChaosAPI = remoteAs(b, aliceToken)
	ctx := t.Context()
	run, err := api.StartChaos(ctx, engine.ChaosRequest{Scenarios: []string{"jepsen_crash_restart"}, Difficulty: 2, Operator: "mallory", Trigger: engine.ChaosTriggerLoop})
	if err != nil {
		t.Fatal(err)
	}
	req := b.chaos.lastReq
	if run.RunID != "chaos-2" || run.Operator != "alice" || req.Operator != "alice" || req.Trigger != engine.ChaosTriggerOperator ||
		req.Difficulty != 2 || !slices.Equal(req.Scenarios, []string{"jepsen_crash_restart"}) {
		t.Fatalf("start: run %+v, request %+v", run, req)
	}
	got, err := api.ChaosRun(ctx, run.RunID)
	if err != nil || got.State != engine.ChaosRunning || !got.StartedAt.Equal(fakeEpoch) {
		t.Fatalf("run = %+v, %v", got, err)
	}
	st, err := api.ChaosStatus(ctx)
	if err != nil || st.Running == nil || st.Running.RunID != run.RunID || st.Score.ByCategory["jepsen"] != 75 {
		t.Fatalf("status = %+v, %v", st, err)
	}
	halt, err := api.HaltChaos(ctx, "", "drill")
	if err != nil || halt.Halted != 1 || b.chaos.halts[0] != "alice: drill" {
		t.Fatalf("halt = %+v, %v (%v)", halt, err, b.chaos.halts)
	}
	hist, err := api.ChaosHistory(ctx, 1)
	if err != nil || len(hist) != 1 || hist[0].State != engine.ChaosHalted {
		t.Fatalf("history = %+v, %v", hist, err)
	}
	list, err := api.ChaosScenarios(ctx)
	if err != nil || len(list) != len(fakeScenarios) || list[0].ID != fakeScenarios[0].ID {
		t.Fatalf("scenarios = %+v, %v", list, err)
	}
}

// The chaos routes' error answers come back as the chaos service's errors.
func TestRemoteChaosErrorsMapBack(t *testing.T) {
	t.Parallel()
	b := setupChaos(t)
	api := remoteAs(b, aliceToken)
	ctx := t.Context()

	_, err := api.StartChaos(ctx, engine.ChaosRequest{All: true, Difficulty: -2})
	var re *engine.ChaosRequestError
	if !errors.As(err, &re) || re.Field != "difficulty" || re.Reason != "-2 is below 0" || re.Error() != "chaos request: difficulty: -2 is below 0" {
		t.Fatalf("request error = %#v", err)
	}
	if _, err := api.StartChaos(ctx, engine.ChaosRequest{All: true}); err != nil {
		t.Fatal(err)
	}
	_, err = api.StartChaos(ctx, engine.ChaosRequest{All: true})
	var he *Error
	if !errors.Is(err, engine.ErrChaosBusy) || !errors.As(err, &he) || he.Status != 409 {
		t.Fatalf("busy = %#v", err)
	}
	if _, err = api.ChaosRun(ctx, "nope"); !errors.Is(err, engine.ErrChaosRunNotFound) || !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("not found = %#v", err)
	}
	_, err = remoteAs(b, viewerToken).HaltChaos(ctx, "", "")
	if !errors.As(err, &he) || he.Code != CodeForbidden || errors.Is(err, engine.ErrChaosUnavailable) {
		t.Fatalf("viewer halt = %#v", err)
	}

	bare := setupIdentities(t) // no chaos service
	none := NewRemote(NewClient(bare.srv.URL, aliceToken, bare.srv.Client()))
	for name, call := range map[string]func() error{
		"scenarios": func() error { _, err := none.ChaosScenarios(ctx); return err },
		"start":     func() error { _, err := none.StartChaos(ctx, engine.ChaosRequest{All: true}); return err },
		"run":       func() error { _, err := none.ChaosRun(ctx, "x"); return err },
		"history":   func() error { _, err := none.ChaosHistory(ctx, 0); return err },
		"halt":      func() error { _, err := none.HaltChaos(ctx, "", ""); return err },
		"status":    func() error { _, err := none.ChaosStatus(ctx); return err },
	} {
		if err := call(); !errors.Is(err, engine.ErrChaosUnavailable) {
			t.Errorf("%s without a chaos service: %#v", name, err)
		}
	}
}

// A Remote's subscribers get the server's chaos progress; an agent's do
// not.
func TestRemoteSubscriberGetsChaosEvents(t *testing.T) {
	t.Parallel()
	b := setupChaos(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ops := remoteAs(b, aliceToken).Subscribe(ctx)
	agent := remoteAs(b, agentToken).Subscribe(ctx)
	waitFor(t, "two streams and the meter", func() bool { return b.api.subscribers() == 3 })
	p := engine.ChaosProgress{
		RunID: "chaos-7", Scenario: "L2_HTM_queue_flood_stress", Index: 1, Total: 2, Phase: engine.ChaosPhaseWatch,
		FaultsActive: []string{"queue_flood"}, SafeguardsFired: []string{"htm_rate_limit"},
	}
	b.api.publish(engine.Event{Kind: engine.EventChaos, Chaos: &p})
	b.api.publish(engine.Event{Kind: "intent", Intent: intent.Intent{ID: "in-9", Actor: "agent.x"}})
	ev := nextOf(t, ops)
	if ev.Kind != engine.EventChaos || ev.Chaos == nil || ev.Chaos.RunID != "chaos-7" || ev.Chaos.Phase != engine.ChaosPhaseWatch ||
		!slices.Equal(ev.Chaos.SafeguardsFired, p.SafeguardsFired) || !slices.Equal(ev.Chaos.FaultsActive, p.FaultsActive) {
		t.Fatalf("operator's event = %+v", ev)
	}
	if ev := nextOf(t, agent); ev.Kind != "intent" || ev.Intent.ID != "in-9" {
		t.Fatalf("the agent's first event is %+v, want its own intent (no chaos)", ev)
	}
}

func nextOf(t *testing.T, ch <-chan engine.Event) engine.Event {
	t.Helper()
	select {
	case ev := <-ch:
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
		return engine.Event{}
	}
}

// progressLog keeps what FollowChaos reports.
type progressLog struct {
	mu     sync.Mutex
	phases []string
}

func (l *progressLog) add(p engine.ChaosProgress) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.phases = append(l.phases, p.Scenario+"/"+p.Phase)
}

func (l *progressLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.phases)
}

// FollowChaos reports each phase once, in order, from the run as read
// and from the stream, and returns the run as stored once it ends.
func TestFollowChaosFromTheStream(t *testing.T) {
	t.Parallel()
	b := setupChaos(t)
	c := NewClient(b.srv.URL, aliceToken, b.srv.Client())
	run, err := c.StartChaos(t.Context(), engine.ChaosRequest{All: true})
	if err != nil {
		t.Fatal(err)
	}
	at := func(i int, sc, phase string) engine.ChaosProgress {
		return engine.ChaosProgress{RunID: run.RunID, Scenario: sc, Index: i, Total: 2, Phase: phase}
	}
	b.chaos.progress(at(1, "a", engine.ChaosPhaseSteadyBefore))
	var log progressLog
	type outcome struct {
		run engine.ChaosRun
		err error
	}
	done := make(chan outcome, 1)
	clk := clock.NewFake(fakeEpoch)
	go func() {
		r, err := c.FollowChaos(t.Context(), run.RunID, ChaosFollow{Clock: clk, Progress: log.add})
		done <- outcome{r, err}
	}()
	waitFor(t, "the follower's stream", func() bool { return b.api.subscribers() == 2 })
	for _, p := range []engine.ChaosProgress{
		at(1, "a", engine.ChaosPhaseInject),
		{RunID: "other", Scenario: "x", Index: 1, Phase: engine.ChaosPhaseDone},
		at(1, "a", engine.ChaosPhaseSteadyBefore), // late: already past it
		at(1, "a", engine.ChaosPhaseDone),
		at(2, "b", engine.ChaosPhaseInject),
	} {
		b.api.publish(engine.Event{Kind: engine.EventChaos, Chaos: &p})
	}
	waitFor(t, "the second scenario's inject", func() bool { return len(log.list()) == 4 })
	final := at(2, "b", engine.ChaosPhaseDone)
	final.State = engine.ChaosFailed
	b.chaos.finish(engine.ChaosFailed, engine.ChaosResult{ID: "a", Passed: true}, engine.ChaosResult{ID: "b", Failures: []string{"2 intents lost"}})
	b.api.publish(engine.Event{Kind: engine.EventChaos, Chaos: &final})
	var o outcome
	select {
	case o = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("FollowChaos did not return after the run's final event")
	}
	if o.err != nil || o.run.State != engine.ChaosFailed || len(o.run.Scenarios) != 2 || o.run.Scenarios[1].Failures[0] != "2 intents lost" {
		t.Fatalf("followed run = %+v, %v", o.run, o.err)
	}
	want := []string{"a/steady_state_before", "a/inject", "a/done", "b/inject", "b/done"}
	if got := log.list(); !slices.Equal(got, want) {
		t.Fatalf("progress = %v, want %v", got, want)
	}
}

// With no event to tell it, FollowChaos learns the run ended by polling.
func TestFollowChaosPolls(t *testing.T) {
	t.Parallel()
	b := setupChaos(t)
	c := NewClient(b.srv.URL, aliceToken, b.srv.Client())
	run, err := c.StartChaos(t.Context(), engine.ChaosRequest{All: true})
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(fakeEpoch)
	done := make(chan engine.ChaosRun, 1)
	go func() {
		r, _ := c.FollowChaos(t.Context(), run.RunID, ChaosFollow{Poll: time.Minute, Clock: clk})
		done <- r
	}()
	waitFor(t, "the first read and the poll ticker", func() bool { return b.chaos.readCount() == 1 && clk.Waiters() == 1 })
	b.chaos.finish(engine.ChaosPassed)
	select {
	case r := <-done:
		t.Fatalf("FollowChaos returned before a poll: %+v", r)
	default:
	}
	clk.Advance(time.Minute)
	select {
	case r := <-done:
		if r.State != engine.ChaosPassed {
			t.Fatalf("followed run = %+v", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("FollowChaos did not poll")
	}
}

// FollowChaos ends with the server's answer for an unknown run, and with
// ctx.
func TestFollowChaosEnds(t *testing.T) {
	t.Parallel()
	b := setupChaos(t)
	c := NewClient(b.srv.URL, aliceToken, b.srv.Client())
	if _, err := c.FollowChaos(t.Context(), "nope", ChaosFollow{}); !errors.Is(err, engine.ErrChaosRunNotFound) {
		t.Fatalf("unknown run: %v", err)
	}
	run, err := c.StartChaos(t.Context(), engine.ChaosRequest{All: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	clk := clock.NewFake(fakeEpoch)
	done := make(chan error, 1)
	go func() {
		_, err := c.FollowChaos(ctx, run.RunID, ChaosFollow{Clock: clk})
		done <- err
	}()
	waitFor(t, "the poll ticker", func() bool { return clk.Waiters() == 1 })
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("FollowChaos did not end with its context")
	}
}

// SubscribeKinds asks the server for the named kinds only.
func TestSubscribeKindsFiltersOnTheServer(t *testing.T) {
	t.Parallel()
	b := setupChaos(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ch := remoteAs(b, aliceToken).SubscribeKinds(ctx, engine.EventChaos)
	waitFor(t, "the stream and the meter", func() bool { return b.api.subscribers() == 2 })
	b.api.publish(engine.Event{Kind: "intent", Intent: intent.Intent{ID: "in-1"}})
	b.api.publish(engine.Event{Kind: engine.EventChaos, Chaos: &engine.ChaosProgress{RunID: "chaos-3"}})
	if ev := nextOf(t, ch); ev.Kind != engine.EventChaos || ev.Chaos.RunID != "chaos-3" {
		t.Fatalf("first event = %+v, want the chaos one", ev)
	}
}
