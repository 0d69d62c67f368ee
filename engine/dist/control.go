package dist

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go"

	"grace/engine"
	"grace/engine/worker"
)

// liveLocked reports whether the worker called name has sent a heartbeat,
// not a leaving one, within two intervals of now. Called with d.mu held.
func (d *Dispatcher) liveLocked(name string, now time.Time) bool {
	r, ok := d.workers[name]
	return ok && !r.hb.Leaving && now.Sub(r.lastBeat) < 2*d.o.HeartbeatInterval
}

// holderLiveLocked reports whether p's holder is live: the process that
// claimed it, not another one that took its name over since. Called with
// d.mu held.
func (d *Dispatcher) holderLiveLocked(p *pending, now time.Time) bool {
	r, ok := d.workers[p.holder]
	return ok && r.hb.Instance == p.inst && d.liveLocked(p.holder, now)
}

// holderUnheardLocked reports whether p's holder, not live, may be alive
// all the same: its process has neither left nor been replaced, and the
// control plane began to hear again less than two heartbeat intervals
// ago, its own connection to NATS back or itself back from a stall
// (deafRecentlyLocked), so the holder's silence may be the control
// plane's deafness. Its claim is not moved to
// a worker that pulls the task JetStream delivers again meanwhile (its
// ack wait ran out while NATS was down): the holder, which may still run
// the attempt or be sending its result, would run it beside the new
// claimant, or its finished work would be done again. Called with d.mu
// held.
func (d *Dispatcher) holderUnheardLocked(p *pending, now time.Time) bool {
	r, ok := d.workers[p.holder]
	return ok && r.hb.Instance == p.inst && !r.hb.Leaving && d.deafRecentlyLocked(now)
}

// deafRecentlyLocked reports whether the control plane began to hear
// again less than two heartbeat intervals before now, after it could
// not: its connection to NATS came back (counted from when it was first
// seen back: it is looked at on every claim, heartbeat and watch tick),
// or its watch loop came back from a stall (watchLoop). A worker's
// heartbeats may have gone unheard then although it lived. Called with
// d.mu held.
func (d *Dispatcher) deafRecentlyLocked(now time.Time) bool {
	if n := d.nc.Stats().Reconnects; n != d.reconnects {
		d.reconnects, d.hearsSince = n, now
	}
	return !d.hearsSince.IsZero() && now.Sub(d.hearsSince) < 2*d.o.HeartbeatInterval
}

// onClaim grants or refuses a worker's claim on an attempt (see the
// package comment): refused as stale when the attempt awaits no result,
// refused for now while another live worker (or the claimant itself,
// running it) holds it; otherwise granted with a new fencing token,
// replacing a dead holder's claim, or the claimant's own when the answer
// to it was lost (claimsAgainLocked). A granted claim's worker is reported to the engine as
// the attempt's holder before the claimant is answered.
func (d *Dispatcher) onClaim(m *nats.Msg) {
	var req claimReq
	if err := json.Unmarshal(m.Data, &req); err != nil || req.ID == "" || req.Worker == "" {
		d.reply(m, claimReply{Reason: fmt.Sprintf("malformed claim: %v", err)})
		return
	}
	key := attemptKey(req.ID, req.Attempt)
	now := d.o.Clock.Now()
	d.mu.Lock()
	if r, known := d.workers[req.Worker]; known && r.hb.Instance != req.Instance && d.liveLocked(req.Worker, now) {
		why := fmt.Sprintf("worker name %q is in use by another live process, on %s (pid %d): names are unique among workers", req.Worker, r.hb.Host, r.hb.PID)
		d.mu.Unlock()
		d.reply(m, claimReply{NameTaken: true, Reason: why})
		return
	}
	p, ok := d.pending[key]
	switch {
	case !ok || p.settled || p.stopping:
		d.mu.Unlock()
		d.reply(m, claimReply{Stale: true, Reason: fmt.Sprintf("attempt %s awaits no result (settled, timed out, cancelled, or superseded by a later attempt)", key)})
		return
	case p.holder != "" && d.holderLiveLocked(p, now) && !d.claimsAgainLocked(p, req, key):
		holder := p.holder
		d.mu.Unlock()
		d.reply(m, claimReply{Reason: fmt.Sprintf("attempt %s is held by %s, which is alive", key, holder)})
		return
	case p.holder != "" && d.holderUnheardLocked(p, now) && !d.claimsAgainLocked(p, req, key):
		holder := p.holder
		d.mu.Unlock()
		d.reply(m, claimReply{Reason: fmt.Sprintf("attempt %s is held by %s, not heard while the control plane could not hear (its connection to NATS broke, or it stalled): "+
			"it is not taken for dead before two heartbeat intervals after the control plane hears again", key, holder)})
		return
	case p.holder != "" && d.o.KeepLostClaims && !d.claimsAgainLocked(p, req, key):
		holder, host, first := p.holder, p.host, !p.held
		p.held = true
		in := p.in
		d.mu.Unlock()
		d.reply(m, claimReply{Reason: fmt.Sprintf("attempt %s stays with %s, which was lost: worker_reassignment is off", key, holder)})
		if first {
			d.rec.add(heldRecord(now, in, req, holder, host))
		}
		return
	}
	prev, prevHost := p.holder, p.host
	again := d.claimsAgainLocked(p, req, key)
	if again {
		prev, prevHost = "", ""
	}
	p.holder, p.host, p.inst, p.claimed = req.Worker, req.Host, req.Instance, true
	p.token++
	token, in, hctx := p.token, p.in, p.ctx
	d.mu.Unlock()
	// Before the grant reaches the worker: the engine knows who runs the
	// attempt before any result of it can arrive.
	engine.ReportRemoteHolder(hctx, engine.RemoteHolder{Worker: req.Worker, Host: req.Host})
	d.reply(m, claimReply{Granted: true, Token: token})
	if prev != "" {
		d.redelivered.Add(1)
	}
	d.rec.add(claimRecord(now, in, req, prev, prevHost, again))
}

// claimsAgainLocked reports whether req comes from the process that holds
// p's claim already, and whose heartbeats do not list the attempt as
// running: the answer to its first claim did not reach it (a worker never
// claims an attempt it claims or runs), so it is granted again, with a new
// token. Called with d.mu held.
func (d *Dispatcher) claimsAgainLocked(p *pending, req claimReq, key string) bool {
	if p.holder != req.Worker || p.inst != req.Instance {
		return false
	}
	r, ok := d.workers[req.Worker]
	return !ok || r.hb.Instance != req.Instance || !slices.Contains(r.hb.Running, key)
}

// onResult accepts an outcome from the attempt's current holder and hands
// it to the waiting handler; any other result is refused and recorded as
// stale_result_discarded.
func (d *Dispatcher) onResult(m *nats.Msg) {
	var req resultReq
	if err := json.Unmarshal(m.Data, &req); err != nil || req.ID == "" {
		d.reply(m, resultReply{Reason: fmt.Sprintf("malformed result: %v", err)})
		return
	}
	key := attemptKey(req.ID, req.Attempt)
	now := d.o.Clock.Now()
	d.mu.Lock()
	if r, known := d.workers[req.Worker]; known && req.Beat > 0 && r.hb.Instance == req.Instance {
		if r.reported == nil {
			r.reported = map[string]uint64{}
		}
		r.reported[key] = max(r.reported[key], req.Beat)
	}
	p, ok := d.pending[key]
	if a, again := d.accepted[key]; !ok && again && a.worker == req.Worker && a.token == req.Token {
		d.mu.Unlock()
		d.reply(m, resultReply{Accepted: true}) // sent again: its first answer did not reach the worker
		return
	}
	if !ok || p.settled || p.holder != req.Worker || p.token != req.Token {
		why := fmt.Sprintf("attempt %s awaits no result any more", key)
		if ok && !p.settled {
			why = fmt.Sprintf("attempt %s is now held by %q (token %d), not by %s (token %d)", key, p.holder, p.token, req.Worker, req.Token)
		}
		d.mu.Unlock()
		d.reply(m, resultReply{Reason: why})
		d.rec.add(staleRecord(now, req, why, staleNotHolder))
		return
	}
	p.settled = true
	delete(d.pending, key)
	stopping := p.stopping
	if !stopping {
		d.accepted[key] = acceptedResult{worker: req.Worker, token: req.Token, at: now}
	}
	d.mu.Unlock()
	if stopping {
		// The handler returned after its holder was told to stop: the
		// attempt is over, and what it did does not count.
		why := fmt.Sprintf("attempt %s was stopped by the control plane (it timed out or was cancelled); its handler returned after, and its outcome is discarded", key)
		var late error // what the stopped attempt's waiter is told the handler did
		if req.Error != "" {
			late = fmt.Errorf("its handler on %s failed after: %s", req.Worker, req.Error)
		}
		p.done <- late
		d.reply(m, resultReply{Reason: why})
		d.rec.add(staleRecord(now, req, why, staleStopped))
		return
	}
	var err error
	if req.Error != "" {
		err = fmt.Errorf("on %s (%s): %w", req.Worker, req.Host, errors.New(req.Error))
		if req.Permanent {
			err = worker.Permanent(err)
		}
	}
	p.done <- err
	d.reply(m, resultReply{Accepted: true})
}

// onRelease clears the holder's claim on an attempt it gives back
// unfinished (it is shutting down), so that the redelivery is granted at
// once.
func (d *Dispatcher) onRelease(m *nats.Msg) {
	var req resultReq
	if err := json.Unmarshal(m.Data, &req); err != nil {
		d.reply(m, resultReply{Reason: fmt.Sprintf("malformed release: %v", err)})
		return
	}
	key := attemptKey(req.ID, req.Attempt)
	d.mu.Lock()
	p, ok := d.pending[key]
	released := ok && !p.settled && p.holder == req.Worker && p.token == req.Token
	stopped := released && p.stopping
	switch {
	case stopped: // given back after it was told to stop: its handler has returned
		p.settled = true
		delete(d.pending, key)
	case released:
		p.holder, p.host, p.inst = "", "", ""
	}
	d.mu.Unlock()
	if stopped {
		p.done <- nil
	}
	d.reply(m, resultReply{Accepted: released})
	if released {
		d.rec.add(releaseRecord(d.o.Clock.Now(), p.in, req))
	}
}

// reply answers a request; a message without a reply subject is dropped.
func (d *Dispatcher) reply(m *nats.Msg, v any) {
	if m.Reply == "" {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		d.o.Logger.Error("encode reply", "subject", m.Subject, "err", err)
		return
	}
	if err := m.Respond(b); err != nil {
		d.o.Logger.Warn("reply", "subject", m.Subject, "err", err)
	}
}
