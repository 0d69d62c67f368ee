// Package mesh is Grace's trigger mesh: named topics, subscriptions by
// topic pattern, and a bounded buffer per subscription with its own
// backpressure policy (block with a deadline, drop the oldest, drop the
// newest).
//
// Every event offered to a subscription is counted exactly once as
// delivered (handed to the subscriber), dropped, or still queued, so that
// at any moment
//
//	offered = delivered + dropped + queued
//
// holds per subscription. Drops are narrated per shedding episode: one 5W1H
// record when a subscription has dropped events and then gone a quiet
// period (mesh.episode_quiet) without dropping, with the counts of the
// episode, not one record per event.
//
// The mesh_backpressure safeguard bounds the buffers. Switched off, a
// subscription's buffer grows without limit: nothing is dropped, and a slow
// subscriber makes the mesh hold every event it has not yet handled.
//
// Topics are declared before use (Declare); publishing on an undeclared
// topic is refused, so a typo is an error rather than an event nobody
// hears. Patterns use "." between segments, "*" for exactly one segment
// and a final ">" for one or more ("intent.*", "kernel.>").
//
// Run owns every goroutine of the mesh (one consumer per subscription and
// the episode narrator); they end when its context is cancelled, and Run
// waits for them before it returns.
package mesh
