// Package engine is Grace's Layer 2 orchestration engine: it takes an
// intent from intake to a worker and writes every decision on the way as a
// 5W1H record.
//
// One intent, start to end:
//
//   - Submit validates the submission (every problem is listed, and the
//     rejection itself is recorded), asks the governance router for a
//     decision, and writes the intent with its received, routed and vote
//     records in one durable change before it returns the ID.
//   - Tier 0 waits in pending_approval for Approve or Deny, or expires at its
//     deadline; Tier 3 was already voted on by the unified logic hub; the
//     rest go to the HTM queue (package htm), bounded by htm.capacity.
//   - The scheduler hands each ready intent to the least-loaded healthy
//     worker and records why; a Tier 0 intent without an approval is refused
//     there, whatever the queue says.
//   - A worker runs the intent's handler with a timeout; failures retry with
//     exponential backoff and jitter up to workers.max_attempts.
//
// Layer 2 holds under stress (each safeguard switchable by
// safeguards.<name>.enabled): intake refuses floods by token bucket per
// actor and overall (htm_rate_limit, ratelimit.go); past the critical
// depth, queued work matching htm.shedding.criteria ends in state shed
// (htm_load_shedding, shedding.go); a supervisor pings every worker and
// reroutes the task of one that dies, is killed or hangs, fencing the
// dead attempt by its lease so that no task runs twice at once and no late
// result overwrites the rerouted one (worker_reassignment, heartbeat.go,
// reassign.go, lease.go); the scheduler pauses and resumes on command and
// a pause that outlasts its limit while work waits is undone
// (scheduler_auto_resume, pause.go); the unified logic hub correlates
// Layer 2 trouble with reported Layer 1 faults and scales the pool
// (hubloop.go, scaling.go). The fault hooks of faults.go break all of it
// on purpose for the chaos runner.
//
// The watchdog's alerts (package watchdog) reach subscribers and webhooks
// as events; an operator's silence (SilenceAlerts, silences.go) mutes the
// notifications of the alerts it matches for a while, on the record and
// across restarts, and its end announces again what still fires.
//
// Everything that runs in the background (scheduler, workers, supervisor,
// protection and hub loops, approval expiry) is started by Start and
// stopped and waited for by Stop. The
// engine's read and write operations also work on an engine that was never
// started (the CLI's direct mode): they go straight to the store, and the
// queued work they leave is picked up by the next Start's recovery.
package engine
