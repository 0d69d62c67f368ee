package httpapi

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"grace/engine"
	"grace/engine/clock"
)

// ChaosFollow says how Client.FollowChaos follows a run.
type ChaosFollow struct {
	// Poll is how often the run is also read back (GET
	// /v1/chaos/runs/{id}), which catches what the event stream missed:
	// events sent before it opened, or while it reconnected. 0 means 1 s.
	Poll time.Duration
	// Clock times the polls; nil is the wall clock.
	Clock clock.Clock
	// Progress, when set, is called once per phase a scenario reaches, in
	// run order; a phase learnt of only after a later one is skipped.
	Progress func(engine.ChaosProgress)
}

// maxFollowFailures is how many reads of the run in a row may fail to
// reach the server before FollowChaos gives up.
const maxFollowFailures = 5

// FollowChaos waits until the run id is no longer running and returns it
// as the server has it then (its results, final state and error). It
// follows the event stream's chaos events (only those: ?kinds=chaos) and
// polls the run (f.Poll), reporting progress through f.Progress. It
// returns ctx's error when ctx ends first (the run goes on: halting it is
// the caller's choice), the server's error when it answers one
// (engine.ErrChaosRunNotFound), and gives up after 5 reads in a row that
// do not reach the server. The stream's goroutine ends before it returns.
func (c *Client) FollowChaos(ctx context.Context, id string, f ChaosFollow) (engine.ChaosRun, error) {
	poll := f.Poll
	if poll <= 0 {
		poll = time.Second
	}
	clk := f.Clock
	if clk == nil {
		clk = clock.Real{}
	}
	sctx, cancel := context.WithCancel(ctx)
	events := c.SubscribeKinds(sctx, engine.EventChaos)
	defer func() {
		cancel()
		for range events { // closed once the stream's goroutine ends
		}
	}()
	tick := clk.NewTicker(poll)
	defer tick.Stop()

	last := progressMark{phase: -1}
	report := func(p engine.ChaosProgress) {
		if m := markOf(p); f.Progress != nil && m.after(last) {
			last = m
			f.Progress(p)
		}
	}
	failures := 0
	// check reads the run; done is set when following is over.
	check := func() (run engine.ChaosRun, done bool, err error) {
		run, err = c.ChaosRun(ctx, id)
		if err != nil {
			var answered *Error
			if errors.As(err, &answered) || ctx.Err() != nil {
				return run, true, err
			}
			if failures++; failures >= maxFollowFailures {
				return run, true, fmt.Errorf("follow chaos run %s: %w", id, err)
			}
			return run, false, nil
		}
		failures = 0
		if run.Progress != nil {
			report(*run.Progress)
		}
		return run, run.State != engine.ChaosRunning, nil
	}
	if run, done, err := check(); done {
		return run, err
	}
	for {
		select {
		case <-ctx.Done():
			return engine.ChaosRun{}, ctx.Err()
		case ev, ok := <-events:
			if !ok { // only once ctx has ended
				return engine.ChaosRun{}, ctx.Err()
			}
			if ev.Kind != engine.EventChaos || ev.Chaos == nil || ev.Chaos.RunID != id {
				continue
			}
			report(*ev.Chaos)
			if ev.Chaos.State == "" || ev.Chaos.State == engine.ChaosRunning {
				continue
			}
			if run, done, err := check(); done {
				return run, err
			}
		case <-tick.C():
			if run, done, err := check(); done {
				return run, err
			}
		}
	}
}

// chaosPhases are the phases of one scenario in order.
var chaosPhases = []string{
	engine.ChaosPhaseSteadyBefore, engine.ChaosPhaseInject, engine.ChaosPhaseWatch, engine.ChaosPhaseRollback,
	engine.ChaosPhaseSteadyAfter, engine.ChaosPhaseInvariants, engine.ChaosPhaseDone,
}

// progressMark is where a progress event stands in its run: the
// scenario's position, then the phase's (an unknown phase counts as last).
type progressMark struct{ index, phase int }

func markOf(p engine.ChaosProgress) progressMark {
	ph := slices.Index(chaosPhases, p.Phase)
	if ph < 0 {
		ph = len(chaosPhases)
	}
	return progressMark{index: p.Index, phase: ph}
}

// after reports whether m comes later in the run than o.
func (m progressMark) after(o progressMark) bool {
	return m.index > o.index || (m.index == o.index && m.phase > o.phase)
}
