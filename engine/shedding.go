package engine

import (
	"fmt"
	"sync/atomic"
	"time"

	"grace/engine/htm"
	"grace/engine/intent"
)

// shedder is load shedding's state. criteria are parsed once from
// htm.shedding.criteria; offNoted is confined to the protection loop.
type shedder struct {
	criteria htm.Criteria
	kick     chan struct{}
	quiet    *shedQuiet // spares a kick the scan when nothing can be shed
	offNoted bool       // the critical episode was narrated with the safeguard off
	// ticks counts the protection loop's ticks handled, so that a test can
	// wait for one; sent and handled count the checks asked for (kicks)
	// and done.
	ticks, sent, handled atomic.Uint64
}

func newShedder(cfg SheddingConfig) *shedder {
	c, _ := htm.ParseCriteria(cfg.Criteria) // validated by New
	return &shedder{criteria: c, kick: make(chan struct{}, 1), quiet: newShedQuiet(c)}
}

// requeue puts in (back) into the HTM queue, noted for load shedding.
func (e *Engine) requeue(in intent.Intent) {
	e.queue.Requeue(in)
	e.shed.queued(in, e.clock.Now())
}

// matches reports whether in is sheddable and meets the criteria at now.
func (s *shedder) matches(in intent.Intent, now time.Time) bool {
	return sheddable(in) && s.criteria.Match(in, now)
}

// queued notes in, just pushed into the queue, for the checks of a
// critical episode (see shedQuiet). Every push into the queue calls it.
func (s *shedder) queued(in intent.Intent, now time.Time) {
	s.quiet.noteQueued(in, now, s.matches(in, now))
}

// wake asks the protection loop to check the depth now.
func (s *shedder) wake() {
	select {
	case s.kick <- struct{}{}:
		s.sent.Add(1)
	default:
	}
}

// sheddable reports whether load shedding may ever drop in: never a Tier 4
// emergency, nor an intent an operator approved (their decision stands).
func sheddable(in intent.Intent) bool {
	return in.Tier != 4 && (in.Tier != 0 || in.DecidedBy == "")
}

// shedIfCritical is one shedding decision: while the queue is at or past
// its critical depth, it drops up to htm.shedding.max_batch queued intents
// that match htm.shedding.criteria (lowest priority, oldest first). Each
// ends in the terminal state shed, with who shed it and why on the intent,
// and one shed_load record (the seed's log_load_shedding: shed count,
// total load, criteria, reasons) narrates the decision. With
// htm_load_shedding off, the critical episode is narrated once and
// nothing is dropped.
//
// A check asked for by a submission (kicked) skips the scan of the queue
// when it is known to find nothing (see shedQuiet); the tick's check
// always scans.
func (e *Engine) shedIfCritical(now time.Time, kicked bool) {
	d := e.queue.Depth()
	if d.Level != htm.LevelCritical {
		e.shed.offNoted = false
		e.shed.quiet.reset()
		return
	}
	crit := e.shed.criteria
	if !e.cfg.SafeguardEnabled(SafeguardLoadShedding) {
		e.shed.quiet.reset()
		if !e.shed.offNoted {
			e.shed.offNoted = true
			e.note(sheddingOffRecord(now, d, crit.String()))
		}
		return
	}
	if kicked && e.shed.quiet.skip(now) {
		return
	}
	q := e.shed.quiet
	var next time.Time
	hasNext := false
	q.begin(now)
	victims := e.queue.Shed(func(in intent.Intent) bool {
		if !sheddable(in) {
			return false
		}
		if crit.Match(in, now) {
			return true
		}
		if at, ok := q.change(htm.Due(in), now); ok && (!hasNext || at.Before(next)) {
			next, hasNext = at, true
		}
		return false
	}, e.cfg.HTM.Shedding.MaxBatch)
	q.end(now, len(victims), next, hasNext)
	if len(victims) == 0 {
		return
	}
	reason := fmt.Sprintf("load shedding: queue depth %d at or past critical %d; matched %q", d.Len, d.Critical, crit.String())
	ids := make([]string, len(victims))
	for i, in := range victims {
		ids[i] = in.ID
		in.State, in.Worker, in.NotBefore, in.UpdatedAt = intent.StateShed, "", time.Time{}, now
		in.DecidedBy, in.DecisionReason = actorHTM, reason
		e.stats.move(intent.StateQueued, intent.StateShed)
		e.applyAsync(&intent.Change{Update: &in})
	}
	e.l2stats.shed.Add(uint64(len(victims)))
	e.log.Warn("load shed", "shed", len(victims), "depth", d.Len, "critical", d.Critical, "criteria", crit.String())
	e.note(shedRecord(now, victims, ids, d, crit.String(), e.cfg.HTM.Shedding.MaxBatch))
}
