package dist

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/intent"
)

// The record names (What) of the nats backend.
const (
	WhatRemoteClaimed     = "remote_task_claimed"
	WhatRemoteRedelivered = "remote_task_redelivered"
	WhatRemoteReleased    = "remote_task_released"
	WhatRemoteHeld        = "remote_task_held"
	WhatRemoteJoined      = "remote_worker_joined"
	WhatRemoteLost        = "remote_worker_lost"
	WhatRemoteLeft        = "remote_worker_left"
	// WhatRemoteNameConflict: a worker process used a name another live
	// process holds; it was refused.
	WhatRemoteNameConflict = "remote_worker_name_conflict"
	// WhatRemoteStaleStopped: a worker's heartbeats listed an attempt
	// that was not its to run (its claim had moved, or it awaited no
	// result); the worker was told to stop it.
	WhatRemoteStaleStopped = "remote_stale_attempt_stopped"
)

// actorDispatcher is the Who of the control plane's nats records.
const actorDispatcher = "nats_dispatcher"

func newRec(now time.Time, who, what, where, how, result, intentID string, why []string, ctx map[string]any) clarity.Record {
	if intentID != "" {
		ctx["intent_id"] = intentID
	}
	return clarity.Record{Who: who, What: what, When: now, Where: where, Why: why, How: how, Context: ctx,
		IntentID: intentID, Result: result, Confidence: 1, Risk: 0.1, Transparency: clarity.TransparencyComplete}
}

func claimRecord(now time.Time, in intent.Intent, req claimReq, prev, prevHost string, again bool) clarity.Record {
	why := []string{
		fmt.Sprintf("%s on %s pulled attempt %d of %s %s from %s (delivery %d)", req.Worker, req.Host, req.Attempt, in.Type, in.ID,
			TaskSubject(in.Priority), req.Delivered),
		"The attempt awaits its result under the engine's lease: claim granted with a new fencing token",
	}
	what, result := WhatRemoteClaimed, "claimed"
	ctx := map[string]any{"worker": req.Worker, "host": req.Host, "attempt": req.Attempt, "delivered": req.Delivered, "type": in.Type}
	if again {
		why = append(why, "It held the claim already, but asked again and its heartbeats do not list the attempt running: the answer to its first claim did not reach it, and that claim's token is void")
		ctx["claimed_again"] = true
	}
	if prev != "" {
		what, result = WhatRemoteRedelivered, "redelivered"
		why = append(why, fmt.Sprintf("The previous holder %s on %s stopped sending heartbeats, so JetStream delivered the unacknowledged task again; its claim is void and a late result from it is refused (at-least-once)", prev, prevHost))
		ctx["from_worker"], ctx["from_host"] = prev, prevHost
	}
	r := newRec(now, req.Worker, what, req.Host, "jetstream_work_queue", result, in.ID, why, ctx)
	if prev != "" {
		r.Risk = 0.4
	}
	return r
}

// heldRecord: a live worker pulled the redelivered task of a lost holder,
// and worker_reassignment is off, so the claim was refused.
func heldRecord(now time.Time, in intent.Intent, req claimReq, holder, host string) clarity.Record {
	r := newRec(now, actorDispatcher, WhatRemoteHeld, host, "jetstream_work_queue", "held", in.ID,
		[]string{
			fmt.Sprintf("%s on %s pulled attempt %d of %s %s again (delivery %d); its holder %s on %s stopped sending heartbeats",
				req.Worker, req.Host, req.Attempt, in.Type, in.ID, req.Delivered, holder, host),
			"worker_reassignment is off: the claim stays with the lost holder and the task is not moved; the attempt waits for its task timeout",
		},
		map[string]any{"worker": req.Worker, "host": req.Host, "attempt": req.Attempt, "holder": holder, "holder_host": host})
	r.Confidence, r.Risk = 0.9, 0.6
	return r
}

// Why a stale result is discarded: it came from a worker that no longer
// holds the attempt, or for an attempt the control plane stopped.
const (
	staleNotHolder = "Discarded: a result counts only from the attempt's current claim holder"
	staleStopped   = "Discarded: the attempt was stopped, so what its handler did does not count; the attempt ends with the handler's return"
)

func staleRecord(now time.Time, req resultReq, why, rule string) clarity.Record {
	outcome := "succeeded"
	if req.Error != "" {
		outcome = "failed: " + req.Error
	}
	r := newRec(now, req.Worker, engine.WhatStaleDiscarded, req.Host, "attempt_fencing", "discarded", req.ID,
		[]string{
			fmt.Sprintf("%s on %s reported attempt %d after %dms (%s)", req.Worker, req.Host, req.Attempt, req.TookMS, outcome),
			why,
			rule,
		},
		map[string]any{"worker": req.Worker, "host": req.Host, "attempt": req.Attempt, "token": req.Token, "late_outcome": outcome})
	r.Risk = 0.2
	return r
}

func releaseRecord(now time.Time, in intent.Intent, req resultReq) clarity.Record {
	return newRec(now, req.Worker, WhatRemoteReleased, req.Host, "graceful_shutdown", "released", in.ID,
		[]string{
			fmt.Sprintf("%s on %s is shutting down and gave attempt %d of %s back unfinished", req.Worker, req.Host, req.Attempt, in.Type),
			"Its handler was cancelled; the task message was returned to the stream for another worker",
		}, map[string]any{"worker": req.Worker, "host": req.Host, "attempt": req.Attempt})
}

func workerJoinedRecord(now time.Time, hb heartbeat, back bool) clarity.Record {
	why := []string{fmt.Sprintf("%s (pid %d) on %s announced itself with %d slot(s)", hb.Worker, hb.PID, hb.Host, hb.Slots)}
	if back {
		why = append(why, "It had been lost or had left, and is heard again")
	}
	return newRec(now, hb.Worker, WhatRemoteJoined, hb.Host, "heartbeat_monitoring", "joined", "", why,
		map[string]any{"worker": hb.Worker, "host": hb.Host, "pid": hb.PID, "slots": hb.Slots})
}

func workerLeftRecord(now time.Time, hb heartbeat) clarity.Record {
	return newRec(now, hb.Worker, WhatRemoteLeft, hb.Host, "graceful_shutdown", "left", "",
		[]string{fmt.Sprintf("%s on %s shut down cleanly after %d completed and %d failed tasks", hb.Worker, hb.Host, hb.Completed, hb.Failed)},
		map[string]any{"worker": hb.Worker, "host": hb.Host, "completed": hb.Completed, "failed": hb.Failed})
}

func workerLostRecord(now time.Time, hb heartbeat, age, interval, ackWait time.Duration) clarity.Record {
	why := []string{fmt.Sprintf("%s on %s sent no heartbeat for %v (every %v expected; lost after two)", hb.Worker, hb.Host,
		age.Round(time.Millisecond), interval)}
	if len(hb.Running) > 0 {
		why = append(why, fmt.Sprintf("It was running %s: JetStream delivers those tasks to another worker once their ack wait (%v) passes without progress, and the claim moves there",
			strings.Join(hb.Running, ", "), ackWait))
	} else {
		why = append(why, "It was idle: nothing to redeliver")
	}
	r := newRec(now, actorDispatcher, WhatRemoteLost, hb.Host, "heartbeat_monitoring", "lost", "", why,
		map[string]any{"worker": hb.Worker, "host": hb.Host, "running": hb.Running})
	r.Confidence, r.Risk = 0.9, 0.6
	return r
}

// recorder writes records on its own goroutine, in order, batching what
// has queued up, so that NATS callbacks never wait on the store.
type recorder struct {
	j   clarity.Journal
	log *slog.Logger
	in  chan clarity.Record
}

func newRecorder(j clarity.Journal, log *slog.Logger) *recorder {
	return &recorder{j: j, log: log, in: make(chan clarity.Record, 4096)}
}

// add queues r; it blocks while the queue is full.
func (r *recorder) add(rec clarity.Record) { r.in <- rec }

// run writes queued records until ctx ends, then writes what is left.
func (r *recorder) run(ctx context.Context) {
	for {
		select {
		case rec := <-r.in:
			r.write(rec)
		case <-ctx.Done():
			for {
				select {
				case rec := <-r.in:
					r.write(rec)
				default:
					return
				}
			}
		}
	}
}

func (r *recorder) write(first clarity.Record) {
	batch := []clarity.Record{first}
	for len(batch) < 256 {
		select {
		case rec := <-r.in:
			batch = append(batch, rec)
			continue
		default:
		}
		break
	}
	if err := r.j.Record(context.Background(), batch...); err != nil {
		r.log.Error("record nats backend decisions", "records", len(batch), "first", batch[0].What, "err", err)
	}
}

// staleRunningRecord: hb's process still ran an attempt that was not its
// to run, and was told to stop it.
func staleRunningRecord(now time.Time, hb heartbeat, s staleRun) clarity.Record {
	r := newRec(now, actorDispatcher, WhatRemoteStaleStopped, hb.Host, "heartbeat_reconciliation", "told_to_stop", s.id,
		[]string{
			fmt.Sprintf("%s (pid %d) on %s still runs attempt %d of %s, by its last two heartbeats: %s", hb.Worker, hb.PID, hb.Host, s.attempt, s.id, s.why),
			"It was told to stop (a cancel addressed to its process alone, sent again at each heartbeat that lists the attempt); whatever its handler returns is refused",
		},
		map[string]any{"worker": hb.Worker, "host": hb.Host, "instance": hb.Instance, "attempt": s.attempt})
	r.Confidence, r.Risk = 0.9, 0.5
	return r
}
