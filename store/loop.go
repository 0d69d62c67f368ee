package store

import (
	"context"
	"fmt"
	"time"
)

// loop serves changes, control calls and checkpoints until ctx ends, then
// drains what is queued and writes a final checkpoint. The full-text index
// is the indexer's (index.go): nothing here waits on it.
func (w *writer) loop(ctx context.Context) {
	w.stop = ctx.Done()
	cp := w.clock.NewTicker(w.cpIvl)
	defer cp.Stop()
	for {
		select {
		case r := <-w.queue:
			w.serve(r)
		case r := <-w.async:
			w.serve(r)
		case f := <-w.ctl:
			f()
		case <-cp.C():
			w.cpTicks++
			w.checkpoint()
		case <-ctx.Done():
			w.shutdown()
			return
		}
	}
}

// serve commits first and whatever queued behind it as one batch.
func (w *writer) serve(first request) {
	w.commit(w.collect(first))
}

// collect gathers up to batchMax requests: everything already queued and,
// when fewer are queued than the last batch held, whatever arrives within
// batchWait, up to that many. Submitters that wait for their commit come
// back about as many as last time, so one fsync serves them all; a lone
// submitter (last batch of one) never waits. batchWait is measured on the
// real clock: it trades microseconds of latency for throughput, which a
// fake clock cannot model. A batch of updates alone, on a writer whose
// batches are small, waits for company (gather).
func (w *writer) collect(first request) []request {
	b := w.drain(append(w.batch[:0], first))
	if want := min(w.lastBatch, w.batchMax); len(b) < want && w.batchWait > 0 {
		if w.linger == nil {
			w.linger = time.NewTimer(w.batchWait)
		} else {
			w.linger.Reset(w.batchWait)
		}
	wait:
		for len(b) < want {
			select {
			case r := <-w.queue:
				b = w.drain(append(b, r))
			case r := <-w.async:
				b = w.drain(append(b, r))
			case <-w.linger.C:
				break wait
			}
		}
		w.linger.Stop()
	}
	if w.updateWait > 0 && w.lastBatch <= gatherBelow && len(b) <= gatherBelow && unwaited(b) {
		b = w.gather(b)
	}
	w.batch, w.lastBatch = b, len(b)
	return b
}

// unwaited says whether nobody waits on any change in b.
func unwaited(b []request) bool {
	for _, r := range b {
		if r.reply != nil {
			return false
		}
	}
	return true
}

// gatherBelow is the largest batch of updates alone that waits for
// company, and the largest previous batch after which it does: larger
// batches mean a busy writer, whose company is already on its way.
const gatherBelow = 32

// gather holds a batch of changes nobody waits on (the workers' dispatch
// and completion updates) open for updateWait, so that at a low rate the
// updates share a commit, with each other or with the next submission,
// rather than each write its touched pages and sync on its own: each
// commit of a few changes costs the writer about as much as one of many.
// A change a caller waits on ends the wait at once, and so does the
// writer being stopped. Measured on the real clock, as batchWait is.
func (w *writer) gather(b []request) []request {
	if w.onGather != nil {
		w.onGather()
	}
	if w.linger == nil {
		w.linger = time.NewTimer(w.updateWait)
	} else {
		w.linger.Reset(w.updateWait)
	}
	defer w.linger.Stop()
	for len(b) < w.batchMax {
		select {
		case r := <-w.queue:
			return w.drain(append(b, r))
		case r := <-w.async:
			b = append(b, r)
		case <-w.linger.C:
			return b
		case <-w.stop:
			return b
		}
	}
	return b
}

// drain appends what is queued, up to batchMax changes (a group counts
// as its changes): first the changes a caller waits on (at most a third
// of the batch), then those nobody waits on (the workers' updates): at
// most asyncMax of them, plus two for each change a caller waits on,
// which will bring about two updates of its own. A submitter thus waits
// for the batch being written, never behind a backlog of updates (after a
// queue of paused work drains, thousands may be queued), and under a
// flood of submissions, atomic batches included, the updates keep pace.
func (w *writer) drain(b []request) []request {
	size := 0
	for _, r := range b {
		size += r.weight()
	}
	for size < max(w.batchMax/3, 1) {
		select {
		case r := <-w.queue:
			b = append(b, r)
			size += r.weight()
			continue
		default:
		}
		break
	}
	waited, async := 0, 0
	for _, r := range b {
		if r.reply == nil {
			async++
		} else {
			waited += r.weight()
		}
	}
	for ; size < w.batchMax && async < asyncMax+2*waited; async++ {
		select {
		case r := <-w.async:
			b = append(b, r)
			size++
		default:
			return b
		}
	}
	return b
}

// weight is how many changes r carries: its group's, or one.
func (r *request) weight() int { return max(len(r.group), 1) }

// asyncMax bounds the changes nobody waits on in a batch that holds none
// a caller waits on: they cost the writer about 40 µs each, so 256 keep a
// submitter's wait for the batch ahead of it near 10 ms.
const asyncMax = 256

// commit applies batch and tells every submitter how its change went.
func (w *writer) commit(batch []request) {
	out := w.out[:len(batch)]
	w.stats.batches.Add(1)
	w.stats.changes.Add(int64(len(batch)))
	for i := range batch {
		w.stats.records.Add(int64(len(batch[i].recs)))
		if g := batch[i].group; g != nil { // its changes count, not the group
			w.stats.changes.Add(int64(len(g) - 1))
			for j := range g {
				w.stats.records.Add(int64(len(g[j].recs)))
			}
		}
	}
	if err := w.applyBatch(batch, out); err != nil {
		w.stats.failed.Add(1)
		err = fmt.Errorf("write batch of %d changes to %s: %w", len(batch), w.path, err)
		w.log.Error("store batch failed", "changes", len(batch), "err", err)
		for i := range out {
			out[i] = outcome{err: err}
		}
	}
	for i, r := range batch {
		if r.reply != nil {
			r.reply <- out[i]
		} else {
			r.done(out[i].res, out[i].err)
		}
		batch[i] = request{}
		out[i] = outcome{}
	}
}

// shutdown commits everything still queued and signs a final checkpoint.
func (w *writer) shutdown() {
	for {
		select {
		case r := <-w.queue:
			w.serve(r)
			continue
		case r := <-w.async:
			w.serve(r)
			continue
		default:
		}
		break
	}
	w.checkpoint()
}
