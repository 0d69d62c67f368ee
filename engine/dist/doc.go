// Package dist carries the HTM queue's released work to workers in other
// processes over NATS JetStream (backend.kind: nats), and runs those
// workers (`grace worker`).
//
// # Who decides what
//
// One Grace control plane keeps governance, approvals and the record in
// SQLite, exactly as with the in-process backend: intake, routing, the
// Tier 0 rule, the HTM queue, the scheduler, leases, retries and every
// record stay in package engine. The control plane's pool (workers.count
// slots) then dispatches as always, but a slot's handler is a Dispatcher:
// it publishes the released attempt to JetStream and waits for a remote
// worker's result. So only an intent the scheduler has dispatched, which
// means governance released it (an unapproved Tier 0 intent is refused
// before any handler runs), ever reaches the stream, and dispatch,
// completion, retry and failure are recorded by the same code as for a
// local worker. workers.count bounds the attempts in flight.
//
// The pool's workers are therefore dispatch slots, and the records say so:
// an attempt's dispatch record names its slot and the live remote workers
// that may claim it, not a "healthy worker" chosen among the slots. The
// worker that runs the attempt is the one whose claim is granted, and the
// control plane tells the engine before the worker hears of the grant
// (engine.ReportRemoteHolder): the intent's worker is that remote worker
// (its grace worker --name; none until a claim is granted), and the
// outcome records name it as Who and its host as Where, with the slot as
// context.
//
// # Subjects
//
//	grace.tasks.p0 … grace.tasks.p9   the work-queue stream GRACE_TASKS, one subject per priority
//	grace.ctl.claim                   worker → control plane: may I run attempt A of intent X?
//	grace.ctl.result                  worker → control plane: the outcome (a request; the reply says accepted or refused)
//	grace.ctl.release                 worker → control plane: I give attempt A back unfinished (shutdown)
//	grace.ctl.cancel                  control plane → workers: stop attempt A (timed out, cancelled, the engine stopping, or not that process's to run)
//	grace.ctl.join                    worker → control plane: may this process run under its name?
//	grace.ctl.plane                   control plane → anyone asking: who serves this NATS (host, pid, API)
//	grace.workers.heartbeat           worker → control plane: name, host, process instance, running attempts, counts, sequence number
//	grace.mesh.<topic>                the trigger mesh's events, both ways (MeshBridge)
//
// # One control plane, unique worker names
//
// A control plane answers on grace.ctl.plane; one that starts asks there
// first and refuses to start (ErrAnotherControlPlane, naming the host, pid
// and API of the one that answered) when another serves the same NATS:
// two would answer each other's workers' claims. Having subscribed, it asks
// again, so that two starting at the same moment do not both serve.
//
// A worker name is one process at a time. Every worker process has a new
// instance ID, in its heartbeats and claims. Before taking any task it
// asks to join on grace.ctl.join, and is refused while another process's
// heartbeats under the name are fresh (within two heartbeat intervals):
// it asks again until that window has passed since, and then exits with
// ErrNameInUse naming the live process's host and pid. A worker killed
// and restarted under its name therefore rejoins as soon as the dead
// process's heartbeats are stale (the dead one is recorded as lost then,
// if it was not yet), and the restarted process may claim the dead one's
// redelivered task: a claim stands for the process that made it, not for
// the name. A process heard under a live name by heartbeat or claim (a
// partitioned worker back after its name was taken) is ignored, recorded
// once as remote_worker_name_conflict, and its claims are refused, which
// stops it.
//
// # Priority
//
// Priority is honoured twice. First, strictly, by the control plane's HTM
// queue: the scheduler releases the highest priority, oldest first, and
// no more attempts than workers.count at once. Second, among what is in
// the stream, by band: each subject has its own durable pull consumer and a
// worker asks the bands from p9 down to p0, taking the first message it
// finds. A task already taken is never preempted, and within a band
// JetStream delivers in stream order (redeliveries first).
//
// # Acknowledgement, fencing and redelivery
//
// A message is the attempt (intent ID and attempt number, its de-dup ID
// "<id>#<attempt>"). Before running it a worker claims it on
// grace.ctl.claim; the control plane grants the claim only while the
// attempt still awaits a result (it holds the engine's lease) and no live
// worker holds it, and hands out a fencing token. A claim for an attempt
// that was settled, timed out or superseded is refused as stale and the
// worker terminates the message: it never runs. A worker whose claim was
// granted but who never heard the answer asks again, and is granted
// again (a new token) since its heartbeats do not list the attempt
// running; a worker never claims an attempt it already claims or runs (a
// delivery of it again, after a stall, is left to the first). While it runs the worker
// sends InProgress every third of backend.nats.ack_wait, so JetStream
// redelivers only when the worker has gone silent. The result goes to
// grace.ctl.result with the token; the control plane accepts it only from
// the current holder, hands it to the engine (which settles the lease and
// writes the record), and replies; only then does the worker acknowledge
// the message. A refused result (its claim was superseded) is recorded
// as stale_result_discarded and the message terminated; the same result
// sent again because its answer did not reach the worker is answered
// accepted again.
//
// When a worker dies mid-task its heartbeats stop (it is recorded as lost
// after two backend.nats.heartbeat_interval) and its message is
// redelivered after ack_wait to another worker, whose claim replaces the
// dead holder's (a remote_task_redelivered record names both); a late
// result from the dead holder would be refused by the token. Delivery is
// therefore at-least-once: a worker that died after its handler's side
// effects but before its result was accepted has its attempt run again
// elsewhere, and the record shows both claims. No attempt runs on two live
// workers at once: a claim is refused while the holder's heartbeats are
// fresh, and for two heartbeat intervals after the control plane hears
// again, its own connection to NATS back (a NATS restart silences every
// worker to it, and JetStream delivers again what it held past its ack
// wait) or itself back from a stall (its watch loop did not run for over
// two intervals): a holder that has neither left nor been replaced is not
// taken for dead, nor any worker for lost, before its heartbeats could
// have been heard again. A partitioned worker cannot be stopped from outside while it is
// cut off, but its result is refused; once it is heard again, the
// attempts its heartbeats list that are no longer its to run (the claim
// moved, or the attempt awaits no result) are cancelled in that process
// alone, at every heartbeat that lists them, and the second heartbeat in
// a row is recorded as remote_stale_attempt_stopped. The same
// reconciliation sends again a cancel that was lost: grace.ctl.cancel is
// plain NATS, at most once. A heartbeat heard after a result it preceded
// (its sequence number is up to the one the result carries: the control
// plane stalled and took in what had queued up) is no news. A cancel
// that reaches a worker before the
// answer to its claim keeps the handler from starting: the worker reports
// the attempt ended, not run.
//
// While no worker is live the engine dispatches nothing (the Dispatcher
// is its engine.RemoteFleet): the intents stay queued rather than being
// published to nobody and timing out, the watchdog's htm_orchestrator is
// critical, and dispatch resumes when a worker joins. An attempt
// published but claimed by nobody before its timeout fails saying so.
// Workers lost and claims moved by redelivery count in the engine's
// workers_lost and rerouted figures. The Dispatcher lists the workers
// (engine.RemoteWorkers: each one's host, process instance, slots, the
// slots its latest heartbeat lists busy, and heartbeat age), which the
// engine's snapshot sums up as Remote for `grace health` and /metrics;
// and it tells the engine when a worker joins, leaves or is lost, so that
// dispatch resumes and the watchdog checks again at once.
//
// An attempt that ends (cancelled, timed out) while its holder does not
// answer (silent for two heartbeat intervals, lost, or its name taken by
// another process) is given up on: the handler returns an
// *engine.RemoteGivenUp, and the record of the attempt's end says the
// holder did not answer, not that its handler returned.
//
// Both the control plane and a worker need JetStream on the NATS server;
// without it they fail with ErrNoJetStream, naming the server (its URL's
// secrets masked) and how to enable JetStream (nats-server -js).
//
// Nothing in Grace restarts a dead worker: the process supervisor that
// runs `grace worker` (systemd, Kubernetes) does, and the replacement is a
// new worker to the control plane, recorded as remote_worker_joined on its
// first heartbeat. The isolated chaos run on this backend simulates that
// supervisor, and its workers_full check counts healthy remote workers.
//
// Moving a lost worker's task is the worker_reassignment safeguard on this
// backend: switched off (DispatcherOptions.KeepLostClaims), the claim stays
// with the lost holder (remote_task_held, once), redeliveries are refused,
// and the attempt waits for the control plane's task timeout, as a dead
// in-process worker keeps its slot.
//
// # The trigger mesh
//
// A MeshBridge publishes every event of the control plane's mesh on
// grace.mesh.<topic> and offers events other bridges publish there to the
// mesh. Backpressure keeps its meaning because the bridge is an ordinary
// mesh subscriber going out (a bounded drop-oldest buffer, its drops
// counted and narrated by the mesh) and an ordinary non-waiting publisher
// coming in (each subscription's own policy and counters apply; NATS
// itself drops, and the bridge counts, past a bounded pending limit).
// Core NATS carries these events at most once: the mesh was never
// durable.
//
// If the control plane itself stops, attempts in flight stay "running" in
// the store; the next start requeues them as new attempts (new message
// IDs), and workers' claims on the old messages are refused as stale.
package dist
