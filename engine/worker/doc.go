// Package worker holds the handlers that execute intents. The worker pool
// and the scheduler live in package engine; for each intent they ask a
// Registry which Handler runs its type and with what timeout.
//
// Four kinds of handler are built from config (the handlers.<type> keys):
//
//   - sim: simulated work. It waits the configured latency (±25% jitter) on
//     the injected clock and fails with the configured probability, so a
//     demo or a chaos run behaves like a busy system without doing anything.
//   - noop: returns at once; benchmarks use it to measure the engine alone.
//   - exec: runs a command with the intent's payload on stdin, in its own
//     process group, which is killed when the task's context ends so that no
//     child outlives its task. Every process of the command's tree carries
//     the mark of the handlers' owner (ClaimOwner) in its environment, so
//     that on Linux what a grace process killed outright left running is
//     found and killed by the next one that claims the same owner, before
//     the task runs again.
//   - http: POSTs the intent as JSON to a webhook; 2xx is success, a 4xx
//     answer is a permanent failure, a 5xx answer or a transport error may be
//     retried.
//
// A handler's error is retried by the pool with backoff unless it is marked
// Permanent (see IsPermanent).
package worker
